output "cloudstores_url" {
  description = "URL to pass to cloudstores.open_stores() / open_bucket(). Credentials come from Application Default Credentials."
  value       = local.cloudstores_url
}

output "bucket_name" {
  description = "Name of the bucket."
  value       = google_storage_bucket.this.name
}

output "bucket_url" {
  description = "gs:// URL of the bucket root."
  value       = google_storage_bucket.this.url
}

output "prefix" {
  description = "Object name prefix cloudstores writes under (empty for the bucket root)."
  value       = var.prefix
}

output "retention_days" {
  description = "Bucket retention period in days."
  value       = var.retention_days
}

output "retention_policy_locked" {
  description = "Whether the retention policy is locked."
  value       = var.retention_policy_locked
}

output "writer_roles" {
  description = "Roles granted to each writer member."
  value       = local.writer_roles
}

output "reader_roles" {
  description = "Roles granted to each reader member."
  value       = local.reader_roles
}

output "iam_condition_expression" {
  description = "IAM condition applied to the bindings (null when they cover the whole bucket)."
  value       = try(local.scope_condition[0].expression, null)
}
