# By resource group and name (subscription: azure.subscription_id / ARM_SUBSCRIPTION_ID)…
data "teleport_azure_vm" "web" {
  resource_group_name = "group1"
  name                = "vm-1"
}

# …or by ARM ID.
data "teleport_azure_vm" "by_id" {
  id = "/subscriptions/11111111-2222-3333-4444-555555555555/resourceGroups/group1/providers/Microsoft.Compute/virtualMachines/vm-1"
}

output "vm_unique_id" {
  value = data.teleport_azure_vm.web.vm_id
}

output "vm_identities" {
  value = data.teleport_azure_vm.by_id.identity_ids
}
