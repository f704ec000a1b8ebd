output "cloudstores_url" {
  description = "URL to pass to cloudstores.open_stores() / open_bucket(). Credentials come from the standard AWS chain, never from the URL."
  value       = local.cloudstores_url
}

output "bucket_name" {
  description = "Name of the bucket."
  value       = aws_s3_bucket.this.id
}

output "bucket_arn" {
  description = "ARN of the bucket."
  value       = aws_s3_bucket.this.arn
}

output "prefix" {
  description = "Key prefix cloudstores writes under (empty for the bucket root)."
  value       = var.prefix
}

output "region" {
  description = "Region of the bucket."
  value       = data.aws_region.current.name
}

output "kms_key_arn" {
  description = "ARN of the KMS key used for SSE-KMS (module-created or given)."
  value       = local.kms_key_arn
}

output "object_lock_mode" {
  description = "Default Object Lock retention mode."
  value       = var.object_lock_mode
}

output "retention_days" {
  description = "Default Object Lock retention in days."
  value       = var.retention_days
}

output "writer_policy_json" {
  description = "IAM policy JSON for writers: create-only PutObject (If-None-Match required), read, list; explicit deny of delete and retention changes."
  value       = data.aws_iam_policy_document.writer.json
}

output "reader_policy_json" {
  description = "IAM policy JSON for readers: GetObject and ListBucket."
  value       = data.aws_iam_policy_document.reader.json
}

output "auditor_policy_json" {
  description = "IAM policy JSON for auditors: read-only objects, versions, retention and bucket configuration."
  value       = data.aws_iam_policy_document.auditor.json
}

output "writer_policy_arn" {
  description = "ARN of the created writer IAM policy (null when create_iam_policies = false)."
  value       = one(aws_iam_policy.writer[*].arn)
}

output "reader_policy_arn" {
  description = "ARN of the created reader IAM policy (null when create_iam_policies = false)."
  value       = one(aws_iam_policy.reader[*].arn)
}

output "auditor_policy_arn" {
  description = "ARN of the created auditor IAM policy (null when create_iam_policies = false)."
  value       = one(aws_iam_policy.auditor[*].arn)
}
