# Bootstrap for VMs that join as the example bot with their managed identity.
data "teleport_agent_config" "vm" {
  proxy_server    = "teleport.example.com:443"
  token           = "azure-bot"
  azure_client_id = "22222222-2222-2222-2222-222222222222"
  outputs = [{
    path  = "/opt/machine-id"
    roles = ["access"]
  }]
  agent_url    = "https://downloads.example.com/joinery-agent-linux-amd64"
  agent_sha256 = "0000000000000000000000000000000000000000000000000000000000000000"
}

# Pass it as custom data, e.g. azurerm_linux_virtual_machine.custom_data = base64encode(...).
output "cloud_init" {
  value = data.teleport_agent_config.vm.cloud_init
}
