variable "storage_account_name" {
  description = "Name of the storage account to create (globally unique, 3-24 lowercase letters and digits)."
  type        = string

  validation {
    condition     = can(regex("^[a-z0-9]{3,24}$", var.storage_account_name))
    error_message = "storage_account_name must be 3-24 characters of lowercase letters and digits."
  }
}

variable "resource_group_name" {
  description = "Existing resource group that holds the storage account and the custom writer role."
  type        = string

  validation {
    condition     = can(regex("^[-\\w.()]{1,90}$", var.resource_group_name)) && !endswith(var.resource_group_name, ".")
    error_message = "resource_group_name must be 1-90 characters of letters, digits, '-', '_', '.', '(' or ')', not ending with '.'."
  }
}

variable "location" {
  description = "Azure region of the storage account (for example westeurope)."
  type        = string
}

variable "container_name" {
  description = "Name of the blob container cloudstores writes to."
  type        = string
  default     = "cloudstores"

  validation {
    condition = alltrue([
      can(regex("^[a-z0-9](-?[a-z0-9])*$", var.container_name)),
      length(var.container_name) >= 3,
      length(var.container_name) <= 63,
    ])
    error_message = "container_name must be 3-63 characters of lowercase letters, digits and single hyphens, starting and ending with a letter or digit."
  }
}

variable "prefix" {
  description = "Blob name prefix inside the container under which cloudstores writes (no leading or trailing slash). Empty means the container root."
  type        = string
  default     = ""

  validation {
    condition = var.prefix == "" || alltrue([
      can(regex("^[A-Za-z0-9._-]+(/[A-Za-z0-9._-]+)*$", var.prefix)),
      !strcontains(var.prefix, ".."),
    ])
    error_message = "prefix must be empty or slash-separated segments of [A-Za-z0-9._-], without a leading or trailing slash and without '..'."
  }
}

variable "retention_days" {
  description = "Time-based immutability (WORM) period of the container, in days since each blob's creation."
  type        = number

  validation {
    condition     = var.retention_days > 0 && var.retention_days <= 146000 && floor(var.retention_days) == var.retention_days
    error_message = "retention_days must be a whole number between 1 and 146000."
  }
}

variable "immutability_policy_locked" {
  description = "Lock the container immutability policy. Irreversible: a locked policy can only be extended, and the container and account cannot be deleted while blobs are retained. Leave false until you have tested the setup."
  type        = bool
  default     = false
}

variable "account_replication_type" {
  description = "Replication of the storage account."
  type        = string
  default     = "GZRS"

  validation {
    condition     = contains(["LRS", "ZRS", "GRS", "RAGRS", "GZRS", "RAGZRS"], var.account_replication_type)
    error_message = "account_replication_type must be one of LRS, ZRS, GRS, RAGRS, GZRS, RAGZRS."
  }
}

variable "shared_access_key_enabled" {
  description = "Allow Shared Key (account key and SAS) authorization. Off by default: cloudstores uses Microsoft Entra ID (DefaultAzureCredential)."
  type        = bool
  default     = false
}

variable "blob_soft_delete_days" {
  description = "Soft-delete retention for blobs, in days."
  type        = number
  default     = 30

  validation {
    condition     = var.blob_soft_delete_days >= 1 && var.blob_soft_delete_days <= 365
    error_message = "blob_soft_delete_days must be between 1 and 365."
  }
}

variable "container_soft_delete_days" {
  description = "Soft-delete retention for containers, in days."
  type        = number
  default     = 30

  validation {
    condition     = var.container_soft_delete_days >= 1 && var.container_soft_delete_days <= 365
    error_message = "container_soft_delete_days must be between 1 and 365."
  }
}

variable "public_network_access_enabled" {
  description = "Keep the public endpoint reachable (firewalled by the network rules: default deny). Set false when only private endpoints are used."
  type        = bool
  default     = true
}

variable "allowed_subnet_ids" {
  description = "Subnet resource IDs (with the Microsoft.Storage service endpoint) allowed through the firewall."
  type        = list(string)
  default     = []
}

variable "allowed_ip_rules" {
  description = "Public IPv4 addresses or CIDR ranges allowed through the firewall."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for ip in var.allowed_ip_rules : can(regex("^[0-9]{1,3}(\\.[0-9]{1,3}){3}(/[0-9]{1,2})?$", ip))])
    error_message = "allowed_ip_rules must contain IPv4 addresses or CIDR ranges."
  }
}

variable "network_bypass" {
  description = "Traffic that bypasses the firewall: any of AzureServices, Logging, Metrics, or None."
  type        = list(string)
  default     = ["AzureServices"]

  validation {
    condition     = alltrue([for b in var.network_bypass : contains(["AzureServices", "Logging", "Metrics", "None"], b)])
    error_message = "network_bypass entries must be AzureServices, Logging, Metrics or None."
  }
}

variable "customer_managed_key_id" {
  description = "Optional: versionless Key Vault key ID for customer-managed-key encryption. Requires customer_managed_key_identity_id. Null uses Microsoft-managed keys."
  type        = string
  default     = null
}

variable "customer_managed_key_identity_id" {
  description = "User-assigned managed identity ID that can wrap/unwrap with customer_managed_key_id (Key Vault Crypto Service Encryption User)."
  type        = string
  default     = null

  validation {
    condition     = (var.customer_managed_key_id == null) == (var.customer_managed_key_identity_id == null)
    error_message = "customer_managed_key_id and customer_managed_key_identity_id must be set together."
  }
}

variable "writer_principal_ids" {
  description = "Object IDs of Entra ID principals (managed identities, service principals, groups) that write cloudstores data."
  type        = list(string)
  default     = []
}

variable "reader_principal_ids" {
  description = "Object IDs of Entra ID principals that read cloudstores data."
  type        = list(string)
  default     = []
}

variable "workspace" {
  description = "Optional: restrict the role assignments, with ABAC conditions, to one cloudstores workspace (blobs under <prefix>/ws/<workspace>/). Null grants the whole container."
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

variable "writer_role_name" {
  description = "Name of the custom writer role definition. Defaults to a name derived from the storage account."
  type        = string
  default     = null
}

variable "tags" {
  description = "Tags applied to every resource that supports them."
  type        = map(string)
  default     = {}
}
