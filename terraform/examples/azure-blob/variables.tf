variable "subscription_id" {
  description = "Azure subscription ID."
  type        = string
}

variable "resource_group_name" {
  description = "Resource group to create."
  type        = string
  default     = "rg-cloudstores-example"
}

variable "location" {
  description = "Azure region."
  type        = string
  default     = "westeurope"
}

variable "storage_account_name" {
  description = "Globally unique storage account name."
  type        = string
  default     = "cloudstoresexample01"
}

variable "allowed_ip_rules" {
  description = "Public IPs allowed through the storage firewall (for example your CI runner)."
  type        = list(string)
  default     = []
}

variable "allowed_subnet_ids" {
  description = "Subnets (with the Microsoft.Storage service endpoint) allowed through the firewall."
  type        = list(string)
  default     = []
}

variable "reader_principal_ids" {
  description = "Object IDs of readers."
  type        = list(string)
  default     = []
}

variable "workspace" {
  description = "Optional cloudstores workspace the role assignments are limited to."
  type        = string
  default     = null
}
