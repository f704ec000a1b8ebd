# Immutable, least-privilege Azure Blob container for cloudstores.
#
# cloudstores writes create-only blobs (If-None-Match: *) under
# <prefix>/ws/<workspace>/{artifacts,blobs,runs,workflows,audit,records,documents,_index}/... and never deletes.
# Immutability is enforced by a container-level time-based retention (WORM)
# policy; the writer role has no delete data action.

data "azurerm_resource_group" "this" {
  name = var.resource_group_name
}

locals {
  key_root   = var.prefix == "" ? "" : "${var.prefix}/"
  scope_root = var.workspace == null ? local.key_root : "${local.key_root}ws/${var.workspace}/"

  use_cmk = var.customer_managed_key_id != null

  blob_actions = {
    read   = "Microsoft.Storage/storageAccounts/blobServices/containers/blobs/read"
    write  = "Microsoft.Storage/storageAccounts/blobServices/containers/blobs/write"
    add    = "Microsoft.Storage/storageAccounts/blobServices/containers/blobs/add/action"
    delete = "Microsoft.Storage/storageAccounts/blobServices/containers/blobs/delete"
  }

  # ABAC condition (version 2.0) limiting blob reads, writes and listings to
  # local.scope_root. Only built when there is something to narrow.
  scope_condition = local.scope_root == "" ? null : trimspace(<<-EOT
    (
      (
        !(ActionMatches{'${local.blob_actions.read}'} AND NOT SubOperationMatches{'Blob.List'})
        AND
        !(ActionMatches{'${local.blob_actions.write}'})
        AND
        !(ActionMatches{'${local.blob_actions.add}'})
      )
      OR
      (
        @Resource[Microsoft.Storage/storageAccounts/blobServices/containers/blobs:path] StringStartsWith '${local.scope_root}'
      )
    )
    AND
    (
      (
        !(ActionMatches{'${local.blob_actions.read}'} AND SubOperationMatches{'Blob.List'})
      )
      OR
      (
        @Request[Microsoft.Storage/storageAccounts/blobServices/containers/blobs:prefix] StringStartsWith '${local.scope_root}'
      )
    )
  EOT
  )

  writer_role_name = coalesce(var.writer_role_name, "cloudstores-writer-${var.storage_account_name}")

  account_url     = trimsuffix(azurerm_storage_account.this.primary_blob_endpoint, "/")
  url_path        = var.prefix == "" ? "" : "/${var.prefix}"
  cloudstores_url = "az://${azurerm_storage_container.this.name}${local.url_path}?account_url=${local.account_url}"
}

# ---------------------------------------------------------------- storage account

resource "azurerm_storage_account" "this" {
  #checkov:skip=CKV2_AZURE_33:Private endpoints depend on the user's network topology; the public endpoint is closed by network_rules (default Deny) and set public_network_access_enabled = false when only private endpoints are used.
  #checkov:skip=CKV_AZURE_59:Public network access stays on by default so that subnet service endpoints and allowed IPs work; network_rules deny everything else. Set public_network_access_enabled = false for private-endpoint-only access.
  #checkov:skip=CKV_AZURE_33:Queue service logging does not apply: this account serves blobs only, and queue_properties needs Shared Key access, which is off.
  name                     = var.storage_account_name
  resource_group_name      = var.resource_group_name
  location                 = var.location
  account_kind             = "StorageV2"
  account_tier             = "Standard"
  account_replication_type = var.account_replication_type
  access_tier              = "Hot"

  https_traffic_only_enabled        = true
  min_tls_version                   = "TLS1_2"
  allow_nested_items_to_be_public   = false
  shared_access_key_enabled         = var.shared_access_key_enabled
  default_to_oauth_authentication   = true
  public_network_access_enabled     = var.public_network_access_enabled
  infrastructure_encryption_enabled = true
  cross_tenant_replication_enabled  = false
  local_user_enabled                = false
  sftp_enabled                      = false
  is_hns_enabled                    = false
  allowed_copy_scope                = "AAD"

  blob_properties {
    versioning_enabled  = true
    change_feed_enabled = true

    delete_retention_policy {
      days = var.blob_soft_delete_days
    }

    container_delete_retention_policy {
      days = var.container_soft_delete_days
    }
  }

  network_rules {
    default_action             = "Deny"
    bypass                     = var.network_bypass
    ip_rules                   = var.allowed_ip_rules
    virtual_network_subnet_ids = var.allowed_subnet_ids
  }

  sas_policy {
    expiration_period = "0.01:00:00"
    expiration_action = "Log"
  }

  dynamic "identity" {
    for_each = local.use_cmk ? [var.customer_managed_key_identity_id] : []
    content {
      type         = "UserAssigned"
      identity_ids = [identity.value]
    }
  }

  dynamic "customer_managed_key" {
    for_each = local.use_cmk ? [var.customer_managed_key_id] : []
    content {
      key_vault_key_id          = customer_managed_key.value
      user_assigned_identity_id = var.customer_managed_key_identity_id
    }
  }

  tags = var.tags
}

# ---------------------------------------------------------------- container + WORM

resource "azurerm_storage_container" "this" {
  #checkov:skip=CKV2_AZURE_21:Blob read logging is configured with azurerm_monitor_diagnostic_setting by the user (the Log Analytics workspace is theirs); not created by this module.
  name                  = var.container_name
  storage_account_id    = azurerm_storage_account.this.id
  container_access_type = "private"
}

resource "azurerm_storage_container_immutability_policy" "this" {
  # With storage_account_id set, the container's id is its Resource Manager ID.
  storage_container_resource_manager_id = azurerm_storage_container.this.id
  immutability_period_in_days           = var.retention_days
  locked                                = var.immutability_policy_locked

  # cloudstores writes block blobs only, once each: no append writes allowed
  # under the policy.
  protected_append_writes_enabled     = false
  protected_append_writes_all_enabled = false
}

# ---------------------------------------------------------------- roles
#
# Storage Blob Data Contributor is too broad for an audit writer (it includes
# blobs/delete). The custom role below grants read, write and add only. What
# Azure RBAC cannot narrow is documented in README.md: blobs/write covers both
# create and overwrite (no condition attribute for If-None-Match exists), so
# overwrite protection comes from the container immutability policy.

resource "azurerm_role_definition" "writer" {
  name        = local.writer_role_name
  scope       = data.azurerm_resource_group.this.id
  description = "cloudstores writer: read, list, create and write blobs; no delete, no version delete, no immutability bypass."

  permissions {
    actions = [
      "Microsoft.Storage/storageAccounts/blobServices/containers/read",
    ]
    data_actions = [
      local.blob_actions.read,
      local.blob_actions.write,
      local.blob_actions.add,
    ]
    not_data_actions = [
      local.blob_actions.delete,
      "Microsoft.Storage/storageAccounts/blobServices/containers/blobs/deleteBlobVersion/action",
      "Microsoft.Storage/storageAccounts/blobServices/containers/blobs/permanentDelete/action",
      "Microsoft.Storage/storageAccounts/blobServices/containers/blobs/immutableStorage/runAsSuperUser/action",
    ]
  }

  assignable_scopes = [data.azurerm_resource_group.this.id]
}

resource "azurerm_role_assignment" "writer" {
  for_each = toset(var.writer_principal_ids)

  scope              = azurerm_storage_container.this.id
  role_definition_id = azurerm_role_definition.writer.role_definition_resource_id
  principal_id       = each.value
  description        = "cloudstores writer on ${var.container_name}/${local.scope_root}"
  condition          = local.scope_condition
  condition_version  = local.scope_condition == null ? null : "2.0"
}

resource "azurerm_role_assignment" "reader" {
  for_each = toset(var.reader_principal_ids)

  scope                = azurerm_storage_container.this.id
  role_definition_name = "Storage Blob Data Reader"
  principal_id         = each.value
  description          = "cloudstores reader on ${var.container_name}/${local.scope_root}"
  condition            = local.scope_condition
  condition_version    = local.scope_condition == null ? null : "2.0"
}
