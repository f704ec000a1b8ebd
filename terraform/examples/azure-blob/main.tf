# Example: an immutable Azure Blob container for cloudstores, written by a
# user-assigned managed identity (for example the one of an Azure Function).

provider "azurerm" {
  features {}
  subscription_id = var.subscription_id
  # Shared-key access is off on the account, so the provider talks to the data
  # plane with Entra ID.
  storage_use_azuread = true
}

resource "azurerm_resource_group" "this" {
  name     = var.resource_group_name
  location = var.location
}

resource "azurerm_user_assigned_identity" "agent" {
  name                = "cloudstores-agent"
  resource_group_name = azurerm_resource_group.this.name
  location            = azurerm_resource_group.this.location
}

module "cloudstores" {
  source = "../../modules/azure-blob"

  storage_account_name = var.storage_account_name
  resource_group_name  = azurerm_resource_group.this.name
  location             = azurerm_resource_group.this.location
  container_name       = "cloudstores"
  prefix               = "prod"

  retention_days             = 365
  immutability_policy_locked = false # set true once tested: irreversible

  allowed_ip_rules   = var.allowed_ip_rules
  allowed_subnet_ids = var.allowed_subnet_ids

  writer_principal_ids = [azurerm_user_assigned_identity.agent.principal_id]
  reader_principal_ids = var.reader_principal_ids
  workspace            = var.workspace

  tags = {
    app = "cloudstores"
  }
}
