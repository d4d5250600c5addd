# A join token for a bot running on Azure VMs: no secret, the VM's managed
# identity is the proof. The token name is not secret for delegated methods.
resource "teleport_provision_token" "azure_bot" {
  version = "v2"
  metadata = {
    name        = "azure-bot"
    description = "Azure VMs in group1 join as the example bot"
  }
  spec = {
    roles       = ["Bot"]
    bot_name    = teleport_bot.example.metadata.name
    join_method = "azure"
    azure = {
      allow = [{
        subscription    = "11111111-2222-3333-4444-555555555555"
        resource_groups = ["group1"]
      }]
    }
  }
}
