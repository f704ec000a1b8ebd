output "cloudstores_url" {
  description = "Pass to cloudstores.open_stores()."
  value       = module.cloudstores.cloudstores_url
}

output "writer_service_account" {
  description = "Service account that writes cloudstores data."
  value       = google_service_account.agent.email
}
