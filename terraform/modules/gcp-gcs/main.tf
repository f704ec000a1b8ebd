# Immutable, least-privilege GCS bucket for cloudstores.
#
# cloudstores writes create-only objects (ifGenerationMatch=0) under
# <prefix>/ws/<workspace>/{artifacts,blobs,runs,workflows,audit,records,documents,_index}/... and never deletes.
# The bucket retention policy makes every object undeletable and
# unreplaceable until it is retention_days old; the writer holds
# objectCreator + objectViewer, so it has no storage.objects.delete and
# therefore cannot overwrite either.

locals {
  key_root   = var.prefix == "" ? "" : "${var.prefix}/"
  scope_root = var.workspace == null ? local.key_root : "${local.key_root}ws/${var.workspace}/"

  # IAM condition limiting object access and listings to local.scope_root.
  # Object permissions are checked on projects/_/buckets/B/objects/NAME;
  # storage.objects.list is checked on the bucket, with the request's prefix
  # available as the objectListPrefix API attribute.
  scope_condition = local.scope_root == "" ? [] : [{
    title       = "cloudstores-${var.workspace == null ? "prefix" : "ws-${var.workspace}"}"
    description = "Objects under ${local.scope_root} and listings with that prefix only"
    expression = join(" || ", [
      "resource.name.startsWith(\"projects/_/buckets/${var.bucket_name}/objects/${local.scope_root}\")",
      "(resource.type == \"storage.googleapis.com/Bucket\" && api.getAttribute(\"storage.googleapis.com/objectListPrefix\", \"\").startsWith(\"${local.scope_root}\"))",
    ])
  }]

  # Writer: create + read + list. No role here carries storage.objects.delete
  # (objectAdmin, objectUser and storage.admin are deliberately absent).
  writer_roles = ["roles/storage.objectCreator", "roles/storage.objectViewer"]
  reader_roles = ["roles/storage.objectViewer"]

  writer_bindings = { for pair in setproduct(var.writer_members, local.writer_roles) : "${pair[1]}|${pair[0]}" => { member = pair[0], role = pair[1] } }
  reader_bindings = { for pair in setproduct(var.reader_members, local.reader_roles) : "${pair[1]}|${pair[0]}" => { member = pair[0], role = pair[1] } }

  url_path        = var.prefix == "" ? "" : "/${var.prefix}"
  cloudstores_url = "gs://${google_storage_bucket.this.name}${local.url_path}"
}

resource "google_storage_bucket" "this" {
  #checkov:skip=CKV_GCP_78:GCS rejects Object Versioning together with a bucket retention policy (mutually exclusive features); the retention policy is what makes objects immutable, and soft delete covers recovery.
  name          = var.bucket_name
  project       = var.project_id
  location      = var.location
  storage_class = var.storage_class
  force_destroy = false

  uniform_bucket_level_access = true
  public_access_prevention    = "enforced"

  # Bucket retention policies and Object Versioning cannot both be enabled on
  # one bucket. Versioning stays off; the retention policy below forbids both
  # deletes and overwrites for retention_days.
  versioning {
    enabled = false
  }

  retention_policy {
    retention_period = var.retention_days * 86400
    is_locked        = var.retention_policy_locked
  }

  soft_delete_policy {
    retention_duration_seconds = var.soft_delete_retention_days * 86400
  }

  dynamic "encryption" {
    for_each = var.kms_key_name == null ? [] : [var.kms_key_name]
    content {
      default_kms_key_name = encryption.value
    }
  }

  dynamic "logging" {
    for_each = var.access_log_bucket == null ? [] : [var.access_log_bucket]
    content {
      log_bucket        = logging.value
      log_object_prefix = "gcs-usage/${var.bucket_name}"
    }
  }

  lifecycle_rule {
    action {
      type = "AbortIncompleteMultipartUpload"
    }
    condition {
      age = var.abort_incomplete_multipart_upload_days
    }
  }

  dynamic "lifecycle_rule" {
    for_each = var.transition_days == null ? [] : [var.transition_days]
    content {
      action {
        type          = "SetStorageClass"
        storage_class = var.transition_storage_class
      }
      condition {
        age            = lifecycle_rule.value
        matches_prefix = local.key_root == "" ? [] : [local.key_root]
      }
    }
  }

  dynamic "lifecycle_rule" {
    for_each = var.expiration_days == null ? [] : [var.expiration_days]
    content {
      action {
        type = "Delete"
      }
      condition {
        age            = lifecycle_rule.value
        matches_prefix = local.key_root == "" ? [] : [local.key_root]
      }
    }
  }

  labels = var.labels
}

resource "google_storage_bucket_iam_member" "writer" {
  for_each = local.writer_bindings

  bucket = google_storage_bucket.this.name
  role   = each.value.role
  member = each.value.member

  dynamic "condition" {
    for_each = local.scope_condition
    content {
      title       = condition.value.title
      description = condition.value.description
      expression  = condition.value.expression
    }
  }
}

resource "google_storage_bucket_iam_member" "reader" {
  for_each = local.reader_bindings

  bucket = google_storage_bucket.this.name
  role   = each.value.role
  member = each.value.member

  dynamic "condition" {
    for_each = local.scope_condition
    content {
      title       = condition.value.title
      description = condition.value.description
      expression  = condition.value.expression
    }
  }
}
