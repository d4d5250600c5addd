# Lets the VM's user-assigned identity join Teleport as a bot. Azure credentials come from
# the provider's `azure { … }` block or the ARM_* environment variables, for example:
#
#   provider "teleport" {
#     azure = {
#       tenant_id       = "00000000-0000-0000-0000-000000000000"
#       subscription_id = "11111111-2222-3333-4444-555555555555"
#       client_id       = "…"   # client_secret from ARM_CLIENT_SECRET
#     }
#   }
resource "teleport_azure_identity_binding" "bot" {
  identity_id = "/subscriptions/11111111-2222-3333-4444-555555555555/resourceGroups/group1/providers/Microsoft.ManagedIdentity/userAssignedIdentities/tbot-identity"
  virtual_machine_ids = [
    "/subscriptions/11111111-2222-3333-4444-555555555555/resourceGroups/group1/providers/Microsoft.Compute/virtualMachines/vm-1",
  ]
  # role  = "least_privilege"   # default: a custom role with only Microsoft.Compute/virtualMachines/read
  # scope = "/subscriptions/…/resourceGroups/group1"   # default: the narrowest scope covering the VMs

  # Fail the plan when this token does not admit one of the VMs.
  token = teleport_provision_token.azure_bot.metadata.name
}

# A token whose rules admit exactly the bound VMs.
resource "teleport_provision_token" "azure_bound" {
  version  = "v2"
  metadata = { name = "azure-bound-bot" }
  spec = {
    roles       = ["Bot"]
    bot_name    = teleport_bot.example.metadata.name
    join_method = "azure"
    azure       = { allow = teleport_azure_identity_binding.bot.azure_allow }
  }
}

# The agent on the VM selects the identity by client ID.
output "agent_client_id" {
  value = teleport_azure_identity_binding.bot.client_id
}
