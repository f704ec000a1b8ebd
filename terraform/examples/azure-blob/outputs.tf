output "cloudstores_url" {
  description = "Pass to cloudstores.open_stores()."
  value       = module.cloudstores.cloudstores_url
}

output "writer_client_id" {
  description = "Client ID of the writer identity (set AZURE_CLIENT_ID to it so DefaultAzureCredential picks it)."
  value       = azurerm_user_assigned_identity.agent.client_id
}
