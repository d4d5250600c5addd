# Only the name is needed.
data "teleport_provision_token" "existing" {
  metadata = {
    name = "azure-bot"
  }
}
