variable "project_id" {
  description = "GCP project ID."
  type        = string
}

variable "bucket_name" {
  description = "Globally unique bucket name."
  type        = string
  default     = "example-cloudstores-audit"
}

variable "location" {
  description = "Bucket location."
  type        = string
  default     = "EU"
}

variable "reader_members" {
  description = "IAM members that read cloudstores data."
  type        = list(string)
  default     = []
}

variable "workspace" {
  description = "Optional cloudstores workspace the IAM bindings are limited to."
  type        = string
  default     = null
}
