# Quick start: the whole Azure story against joinery-devstack (`make demo`).
#
# A bot; the managed-identity binding (the identity attached to the VM and
# allowed to read it, nothing more); a join token whose Azure rules come
# from the binding; and the agent's bootstrap for the VM. The provider reads
# TF_TELEPORT_* and ARM_* from the environment; the demo passes the rest as
# TF_VAR_*.
terraform {
  required_providers {
    teleport = { source = "joinery/teleport" }
  }
}

variable "teleport_addr" {
  type        = string
  description = "Teleport Auth address the VM agent dials (host:port)."
}

variable "ca_pin" {
  type        = string
  description = "Pin of the cluster CA (sha256:...), checked by the agent before it sends anything."
}

variable "identity_id" {
  type        = string
  description = "ARM id of the user-assigned managed identity the VM joins with."
}

variable "vm_id" {
  type        = string
  description = "ARM id of the VM to bind the identity to."
}

variable "output_dir" {
  type        = string
  default     = "/opt/machine-id"
  description = "Where the agent writes the credentials on the VM."
}

provider "teleport" {}

resource "teleport_bot" "vm" {
  metadata = { name = "demo-vm" }
  spec = {
    roles  = ["access"]
    traits = { logins = ["azureuser"] }
  }
}

resource "teleport_azure_identity_binding" "vm" {
  identity_id         = var.identity_id
  virtual_machine_ids = [var.vm_id]
  role                = "least_privilege"
}

resource "teleport_provision_token" "vm" {
  version = "v2"
  metadata = {
    name        = "demo-vm-azure"
    description = "The bound VMs join as demo-vm with their managed identity"
  }
  spec = {
    roles       = ["Bot"]
    bot_name    = teleport_bot.vm.metadata.name
    join_method = "azure"
    azure       = { allow = teleport_azure_identity_binding.vm.azure_allow }
  }
}

data "teleport_agent_config" "vm" {
  auth_server     = var.teleport_addr
  ca_pins         = [var.ca_pin]
  token           = teleport_provision_token.vm.metadata.name
  join_method     = "azure"
  azure_client_id = teleport_azure_identity_binding.vm.client_id
  outputs         = [{ path = var.output_dir, roles = ["access"] }]
  oneshot         = true
}

output "tbot_yaml" {
  description = "The agent configuration for the VM."
  value       = data.teleport_agent_config.vm.tbot_yaml
  sensitive   = true
}

output "cloud_init" {
  description = "Custom data that installs and starts the agent on a new VM."
  value       = data.teleport_agent_config.vm.cloud_init
  sensitive   = true
}
