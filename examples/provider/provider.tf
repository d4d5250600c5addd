# Connect with an identity file (tctl auth sign --format=file, or an agent output).
provider "teleport" {
  addr               = "teleport.example.com:3025"
  identity_file_path = "/var/lib/terraform/identity"
}
