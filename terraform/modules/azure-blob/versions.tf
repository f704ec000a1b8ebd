terraform {
  # 1.9+ is needed for variable validations that refer to other variables.
  required_version = ">= 1.9.0"

  required_providers {
    azurerm = {
      source = "hashicorp/azurerm"
      # 4.9+ for azurerm_storage_container.storage_account_id (management-plane
      # container, so the module works with shared-key access disabled).
      version = ">= 4.9.0, < 5.0.0"
    }
  }
}
