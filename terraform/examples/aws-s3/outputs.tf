output "cloudstores_url" {
  description = "Pass to cloudstores.open_stores()."
  value       = module.cloudstores.cloudstores_url
}

output "writer_policy_arn" {
  description = "Writer policy ARN."
  value       = module.cloudstores.writer_policy_arn
}

output "reader_policy_arn" {
  description = "Reader policy ARN."
  value       = module.cloudstores.reader_policy_arn
}

output "auditor_policy_arn" {
  description = "Auditor policy ARN."
  value       = module.cloudstores.auditor_policy_arn
}
