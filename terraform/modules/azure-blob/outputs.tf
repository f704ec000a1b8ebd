output "cloudstores_url" {
  description = "URL to pass to cloudstores.open_stores() / open_bucket(). Authentication uses DefaultAzureCredential, never the URL."
  value       = local.cloudstores_url
}

output "storage_account_name" {
  description = "Name of the storage account."
  value       = azurerm_storage_account.this.name
}

output "storage_account_id" {
  description = "Resource ID of the storage account."
  value       = azurerm_storage_account.this.id
}

output "account_url" {
  description = "Blob service endpoint of the account (https://ACCOUNT.blob.core.windows.net)."
  value       = local.account_url
}

output "container_name" {
  description = "Name of the blob container."
  value       = azurerm_storage_container.this.name
}

output "container_id" {
  description = "Resource Manager ID of the container (the scope of the role assignments)."
  value       = azurerm_storage_container.this.id
}

output "prefix" {
  description = "Blob name prefix cloudstores writes under (empty for the container root)."
  value       = var.prefix
}

output "retention_days" {
  description = "Container immutability period in days."
  value       = var.retention_days
}

output "immutability_policy_locked" {
  description = "Whether the container immutability policy is locked."
  value       = var.immutability_policy_locked
}

output "writer_role_definition_id" {
  description = "Resource ID of the custom cloudstores writer role."
  value       = azurerm_role_definition.writer.role_definition_resource_id
}

output "role_assignment_condition" {
  description = "ABAC condition applied to the role assignments (null when they cover the whole container)."
  value       = local.scope_condition
}
