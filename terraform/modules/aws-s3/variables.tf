variable "bucket_name" {
  description = "Name of the S3 bucket to create. Must follow the S3 general purpose bucket naming rules."
  type        = string

  validation {
    condition = alltrue([
      can(regex("^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", var.bucket_name)),
      !strcontains(var.bucket_name, ".."),
      !strcontains(var.bucket_name, ".-"),
      !strcontains(var.bucket_name, "-."),
      !can(regex("^[0-9]+\\.[0-9]+\\.[0-9]+\\.[0-9]+$", var.bucket_name)),
      !startswith(var.bucket_name, "xn--"),
      !startswith(var.bucket_name, "sthree-"),
      !endswith(var.bucket_name, "-s3alias"),
      !endswith(var.bucket_name, "--ol-s3"),
    ])
    error_message = "bucket_name must be 3-63 characters of lowercase letters, digits, dots and hyphens, start and end with a letter or digit, not look like an IP address, and not use a reserved prefix or suffix (xn--, sthree-, -s3alias, --ol-s3)."
  }
}

variable "prefix" {
  description = "Key prefix inside the bucket under which cloudstores writes (no leading or trailing slash). Empty means the bucket root."
  type        = string
  default     = "cloudstores"

  validation {
    condition = var.prefix == "" || alltrue([
      can(regex("^[A-Za-z0-9._-]+(/[A-Za-z0-9._-]+)*$", var.prefix)),
      !strcontains(var.prefix, ".."),
    ])
    error_message = "prefix must be empty or slash-separated segments of [A-Za-z0-9._-], without a leading or trailing slash and without '..'."
  }
}

variable "retention_days" {
  description = "Default Object Lock retention, in days, applied to every new object version."
  type        = number

  validation {
    condition     = var.retention_days > 0 && var.retention_days <= 36500 && floor(var.retention_days) == var.retention_days
    error_message = "retention_days must be a whole number between 1 and 36500."
  }
}

variable "object_lock_mode" {
  description = "Object Lock default retention mode: GOVERNANCE (principals with s3:BypassGovernanceRetention can shorten or remove retention) or COMPLIANCE (nobody, including the root user, can until it expires)."
  type        = string
  default     = "GOVERNANCE"

  validation {
    condition     = contains(["GOVERNANCE", "COMPLIANCE"], var.object_lock_mode)
    error_message = "object_lock_mode must be GOVERNANCE or COMPLIANCE."
  }
}

variable "kms_key_arn" {
  description = "ARN of an existing KMS key for SSE-KMS. When null, the module creates a dedicated customer-managed key with rotation enabled."
  type        = string
  default     = null

  validation {
    condition     = var.kms_key_arn == null || can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/.+$", var.kms_key_arn))
    error_message = "kms_key_arn must be null or a KMS key ARN (arn:aws:kms:REGION:ACCOUNT:key/ID)."
  }
}

variable "kms_key_deletion_window_days" {
  description = "Waiting period before a module-created KMS key is deleted after destroy."
  type        = number
  default     = 30

  validation {
    condition     = var.kms_key_deletion_window_days >= 7 && var.kms_key_deletion_window_days <= 30
    error_message = "kms_key_deletion_window_days must be between 7 and 30."
  }
}

variable "abort_incomplete_multipart_upload_days" {
  description = "Days after which incomplete multipart uploads are aborted."
  type        = number
  default     = 1

  validation {
    condition     = var.abort_incomplete_multipart_upload_days > 0
    error_message = "abort_incomplete_multipart_upload_days must be > 0."
  }
}

variable "transition_days" {
  description = "Optional: days after creation when objects move to transition_storage_class. Null disables the transition."
  type        = number
  default     = null

  validation {
    condition     = var.transition_days == null || try(var.transition_days > 0, false)
    error_message = "transition_days must be null or > 0."
  }
}

variable "transition_storage_class" {
  description = "Storage class for the optional transition (for example GLACIER_IR, STANDARD_IA, GLACIER, DEEP_ARCHIVE)."
  type        = string
  default     = "GLACIER_IR"

  validation {
    condition     = contains(["STANDARD_IA", "ONEZONE_IA", "INTELLIGENT_TIERING", "GLACIER_IR", "GLACIER", "DEEP_ARCHIVE"], var.transition_storage_class)
    error_message = "transition_storage_class must be one of STANDARD_IA, ONEZONE_IA, INTELLIGENT_TIERING, GLACIER_IR, GLACIER, DEEP_ARCHIVE."
  }
}

variable "expiration_days" {
  description = "Optional: days after creation when current object versions expire. Must not be shorter than retention_days (Object Lock would block the delete anyway). Null keeps objects forever."
  type        = number
  default     = null

  validation {
    condition     = var.expiration_days == null || try(var.expiration_days >= var.retention_days, false)
    error_message = "expiration_days must be null or >= retention_days."
  }
}

variable "noncurrent_version_expiration_days" {
  description = "Optional: days after an object version becomes noncurrent when it is deleted. Null keeps noncurrent versions forever."
  type        = number
  default     = null

  validation {
    condition     = var.noncurrent_version_expiration_days == null || try(var.noncurrent_version_expiration_days > 0, false)
    error_message = "noncurrent_version_expiration_days must be null or > 0."
  }
}

variable "access_log_bucket" {
  description = "Optional: name of an existing bucket that receives S3 server access logs. Null disables access logging."
  type        = string
  default     = null
}

variable "access_log_prefix" {
  description = "Key prefix for access log objects in access_log_bucket."
  type        = string
  default     = "s3-access-logs/"
}

variable "workspace" {
  description = "Optional: restrict the writer, reader and auditor IAM policies to one cloudstores workspace (keys under <prefix>/ws/<workspace>/). Null grants the whole prefix."
  type        = string
  default     = null

  validation {
    condition = var.workspace == null || alltrue([
      can(regex("^[A-Za-z0-9._-]{1,128}$", var.workspace)),
      !strcontains(coalesce(var.workspace, "x"), ".."),
      !contains([".", ".."], coalesce(var.workspace, "x")),
    ])
    error_message = "workspace must be null or 1-128 characters of [A-Za-z0-9._-], not '.' or '..' and without '..'."
  }
}

variable "create_iam_policies" {
  description = "Create the writer, reader and auditor policies as customer-managed IAM policies (their JSON is output either way)."
  type        = bool
  default     = true
}

variable "iam_policy_name_prefix" {
  description = "Name prefix for the created IAM policies. Defaults to the bucket name."
  type        = string
  default     = null

  validation {
    condition     = var.iam_policy_name_prefix == null || can(regex("^[A-Za-z0-9+=,.@_-]{1,100}$", coalesce(var.iam_policy_name_prefix, "x")))
    error_message = "iam_policy_name_prefix must be 1-100 characters of [A-Za-z0-9+=,.@_-]."
  }
}

variable "tags" {
  description = "Tags applied to every resource that supports them."
  type        = map(string)
  default     = {}
}
