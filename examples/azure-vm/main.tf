# A real-world setup next to azurerm: a Linux VM with a user-assigned
# identity that joins Teleport as a bot on first boot — no secret anywhere.
#
#   azurerm:  resource group, identity, VM (custom_data = the agent bootstrap)
#   teleport: bot, identity binding (attach + least-privilege read), token
#             whose Azure rules come from the binding, agent bootstrap
#
# Credentials: TF_TELEPORT_* for Teleport, ARM_* (or `az login`) for Azure.
terraform {
  required_providers {
    azurerm  = { source = "hashicorp/azurerm", version = ">= 4.0" }
    teleport = { source = "joinery/teleport" }
  }
}

variable "location" {
  type    = string
  default = "westeurope"
}

variable "teleport_proxy" {
  type        = string
  description = "Public address of the Teleport Proxy, host:443."
}

variable "agent_url" {
  type        = string
  description = "HTTPS URL of the joinery-agent Linux binary."
}

variable "agent_sha256" {
  type        = string
  description = "SHA-256 of that binary."
}

variable "admin_ssh_public_key" {
  type = string
}

provider "azurerm" {
  features {}
}

provider "teleport" {}

resource "azurerm_resource_group" "machines" {
  name     = "machine-id-vms"
  location = var.location
}

resource "azurerm_user_assigned_identity" "bot" {
  name                = "tbot-identity"
  resource_group_name = azurerm_resource_group.machines.name
  location            = azurerm_resource_group.machines.location
}

resource "azurerm_virtual_network" "net" {
  name                = "machine-id-net"
  address_space       = ["10.42.0.0/16"]
  location            = azurerm_resource_group.machines.location
  resource_group_name = azurerm_resource_group.machines.name
}

resource "azurerm_subnet" "vms" {
  name                 = "vms"
  resource_group_name  = azurerm_resource_group.machines.name
  virtual_network_name = azurerm_virtual_network.net.name
  address_prefixes     = ["10.42.1.0/24"]
}

resource "azurerm_network_interface" "vm" {
  name                = "worker-1-nic"
  location            = azurerm_resource_group.machines.location
  resource_group_name = azurerm_resource_group.machines.name
  ip_configuration {
    name                          = "internal"
    subnet_id                     = azurerm_subnet.vms.id
    private_ip_address_allocation = "Dynamic"
  }
}

resource "teleport_bot" "worker" {
  metadata = { name = "azure-worker" }
  spec = {
    roles  = ["access"]
    traits = { logins = ["azureuser"] }
  }
}

resource "teleport_provision_token" "worker" {
  version  = "v2"
  metadata = { name = "azure-worker" }
  spec = {
    roles       = ["Bot"]
    bot_name    = teleport_bot.worker.metadata.name
    join_method = "azure"
    azure       = { allow = teleport_azure_identity_binding.worker.azure_allow }
  }
}

data "teleport_agent_config" "worker" {
  proxy_server    = var.teleport_proxy
  token           = teleport_provision_token.worker.metadata.name
  join_method     = "azure"
  azure_client_id = azurerm_user_assigned_identity.bot.client_id
  outputs         = [{ path = "/opt/machine-id", roles = ["access"] }]
  agent_url       = var.agent_url
  agent_sha256    = var.agent_sha256
}

resource "azurerm_linux_virtual_machine" "worker" {
  name                  = "worker-1"
  resource_group_name   = azurerm_resource_group.machines.name
  location              = azurerm_resource_group.machines.location
  size                  = "Standard_B2s"
  admin_username        = "azureuser"
  network_interface_ids = [azurerm_network_interface.vm.id]
  custom_data           = base64encode(data.teleport_agent_config.worker.cloud_init)

  admin_ssh_key {
    username   = "azureuser"
    public_key = var.admin_ssh_public_key
  }

  os_disk {
    caching              = "ReadWrite"
    storage_account_type = "Standard_LRS"
  }

  source_image_reference {
    publisher = "Canonical"
    offer     = "ubuntu-24_04-lts"
    sku       = "server"
    version   = "latest"
  }

  # The binding attaches the identity; don't let azurerm remove it again.
  lifecycle {
    ignore_changes = [identity]
  }
}

# Attaches the identity to the VM as user-assigned (keeping others) and
# grants it only Microsoft.Compute/virtualMachines/read on the narrowest scope.
resource "teleport_azure_identity_binding" "worker" {
  identity_id         = azurerm_user_assigned_identity.bot.id
  virtual_machine_ids = [azurerm_linux_virtual_machine.worker.id]
}
