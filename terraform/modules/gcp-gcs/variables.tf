variable "project_id" {
  description = "GCP project that owns the bucket."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{4,28}[a-z0-9]$", var.project_id))
    error_message = "project_id must be 6-30 characters of lowercase letters, digits and hyphens, starting with a letter."
  }
}

variable "bucket_name" {
  description = "Name of the bucket to create (globally unique; 3-63 lowercase letters, digits, '-', '_' or '.'; no dots here, so it stays a valid TLS host name)."
  type        = string

  validation {
    condition = alltrue([
      can(regex("^[a-z0-9][a-z0-9_-]{1,61}[a-z0-9]$", var.bucket_name)),
      !startswith(var.bucket_name, "goog"),
      !strcontains(var.bucket_name, "google"),
      !strcontains(var.bucket_name, "g00gle"),
    ])
    error_message = "bucket_name must be 3-63 characters of lowercase letters, digits, '-' and '_', start and end with a letter or digit, not start with 'goog' and not contain 'google'."
  }
}

variable "location" {
  description = "Bucket location: a region (europe-west1), dual-region or multi-region (EU, US)."
  type        = string
}

variable "storage_class" {
  description = "Default storage class of the bucket."
  type        = string
  default     = "STANDARD"

  validation {
    condition     = contains(["STANDARD", "NEARLINE", "COLDLINE", "ARCHIVE"], var.storage_class)
    error_message = "storage_class must be STANDARD, NEARLINE, COLDLINE or ARCHIVE."
  }
}

variable "prefix" {
  description = "Object name prefix inside the bucket under which cloudstores writes (no leading or trailing slash). Empty means the bucket root."
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
  description = "Bucket retention period in days: no object can be deleted or replaced before it is this old."
  type        = number

  validation {
    condition     = var.retention_days > 0 && var.retention_days <= 36500 && floor(var.retention_days) == var.retention_days
    error_message = "retention_days must be a whole number between 1 and 36500."
  }
}

variable "retention_policy_locked" {
  description = "Lock the retention policy (Bucket Lock). Irreversible: the policy can then never be removed or shortened, and the bucket cannot be deleted until every object has aged out."
  type        = bool
  default     = false
}

variable "kms_key_name" {
  description = "Optional: Cloud KMS key (projects/P/locations/L/keyRings/R/cryptoKeys/K) for CMEK default encryption. The GCS service agent needs roles/cloudkms.cryptoKeyEncrypterDecrypter on it. Null uses Google-managed keys."
  type        = string
  default     = null

  validation {
    condition     = var.kms_key_name == null || can(regex("^projects/[^/]+/locations/[^/]+/keyRings/[^/]+/cryptoKeys/[^/]+$", var.kms_key_name))
    error_message = "kms_key_name must be null or projects/P/locations/L/keyRings/R/cryptoKeys/K."
  }
}

variable "soft_delete_retention_days" {
  description = "Soft-delete window in days (0 disables soft delete, otherwise 7-90)."
  type        = number
  default     = 30

  validation {
    condition     = var.soft_delete_retention_days == 0 || (var.soft_delete_retention_days >= 7 && var.soft_delete_retention_days <= 90)
    error_message = "soft_delete_retention_days must be 0 or between 7 and 90."
  }
}

variable "abort_incomplete_multipart_upload_days" {
  description = "Days after which incomplete XML API multipart uploads are aborted."
  type        = number
  default     = 1

  validation {
    condition     = var.abort_incomplete_multipart_upload_days > 0
    error_message = "abort_incomplete_multipart_upload_days must be > 0."
  }
}

variable "transition_days" {
  description = "Optional: object age in days at which objects move to transition_storage_class. Null disables the transition."
  type        = number
  default     = null

  validation {
    condition     = var.transition_days == null || try(var.transition_days > 0, false)
    error_message = "transition_days must be null or > 0."
  }
}

variable "transition_storage_class" {
  description = "Storage class for the optional transition."
  type        = string
  default     = "COLDLINE"

  validation {
    condition     = contains(["NEARLINE", "COLDLINE", "ARCHIVE"], var.transition_storage_class)
    error_message = "transition_storage_class must be NEARLINE, COLDLINE or ARCHIVE."
  }
}

variable "expiration_days" {
  description = "Optional: object age in days at which objects are deleted. Must not be shorter than retention_days. Null keeps objects forever."
  type        = number
  default     = null

  validation {
    condition     = var.expiration_days == null || try(var.expiration_days >= var.retention_days, false)
    error_message = "expiration_days must be null or >= retention_days."
  }
}

variable "access_log_bucket" {
  description = "Optional: existing bucket that receives usage logs. Null disables usage logging (Cloud Audit Logs still apply)."
  type        = string
  default     = null
}

variable "writer_members" {
  description = "IAM members that write cloudstores data (for example serviceAccount:agent@P.iam.gserviceaccount.com)."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for m in var.writer_members : can(regex("^(serviceAccount|user|group|principal|principalSet|domain):.+$", m))])
    error_message = "writer_members entries must be IAM members such as serviceAccount:NAME@PROJECT.iam.gserviceaccount.com; allUsers and allAuthenticatedUsers are not allowed."
  }
}

variable "reader_members" {
  description = "IAM members that read cloudstores data."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for m in var.reader_members : can(regex("^(serviceAccount|user|group|principal|principalSet|domain):.+$", m))])
    error_message = "reader_members entries must be IAM members such as serviceAccount:NAME@PROJECT.iam.gserviceaccount.com; allUsers and allAuthenticatedUsers are not allowed."
  }
}

variable "workspace" {
  description = "Optional: restrict the IAM bindings, with IAM conditions, to one cloudstores workspace (objects under <prefix>/ws/<workspace>/). Null grants the whole prefix."
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

variable "labels" {
  description = "Labels applied to the bucket."
  type        = map(string)
  default     = {}
}
