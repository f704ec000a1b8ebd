variable "region" {
  description = "AWS region of the bucket."
  type        = string
  default     = "eu-west-1"
}

variable "bucket_name" {
  description = "Globally unique bucket name."
  type        = string
  default     = "example-cloudstores-audit"
}

variable "workspace" {
  description = "Optional cloudstores workspace the IAM policies are limited to."
  type        = string
  default     = null
}

variable "writer_role_name" {
  description = "Optional: name of an existing IAM role that gets the writer policy."
  type        = string
  default     = null
}
