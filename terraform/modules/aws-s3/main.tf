# Immutable, least-privilege S3 bucket for cloudstores.
#
# Layout written by cloudstores (relative to var.prefix), one prefix per area of
# cloudstores.stores.layout (tests/stores/test_layout.py checks this file against it):
#   ws/<workspace>/{artifacts,blobs,runs,workflows,audit,records,documents,_index}/...
# Every object is written create-only (PUT with If-None-Match: *); the bucket
# policy below makes that header mandatory on those prefixes.

data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}
data "aws_region" "current" {}

locals {
  # "" or "some/prefix/" — the key root cloudstores writes under.
  key_root = var.prefix == "" ? "" : "${var.prefix}/"

  # Key root the IAM policies are limited to: the whole prefix, or one workspace.
  scope_root = var.workspace == null ? local.key_root : "${local.key_root}ws/${var.workspace}/"

  bucket_arn = aws_s3_bucket.this.arn
  # Object ARNs of the prefixes that only ever receive create-only writes: the
  # areas of cloudstores.stores.layout, in its order (checked by a test).
  immutable_object_arns = [
    "${local.bucket_arn}/${local.key_root}ws/*/artifacts/*",
    "${local.bucket_arn}/${local.key_root}ws/*/blobs/*",
    "${local.bucket_arn}/${local.key_root}ws/*/runs/*",
    "${local.bucket_arn}/${local.key_root}ws/*/workflows/*",
    "${local.bucket_arn}/${local.key_root}ws/*/audit/*",
    "${local.bucket_arn}/${local.key_root}ws/*/records/*",
    "${local.bucket_arn}/${local.key_root}ws/*/documents/*",
    "${local.bucket_arn}/${local.key_root}ws/*/_index/*",
  ]
  scoped_object_arn = "${local.bucket_arn}/${local.scope_root}*"

  create_kms_key = var.kms_key_arn == null
  kms_key_arn    = local.create_kms_key ? aws_kms_key.this[0].arn : var.kms_key_arn

  policy_name_prefix = coalesce(var.iam_policy_name_prefix, var.bucket_name)

  url_path        = var.prefix == "" ? "" : "/${var.prefix}"
  cloudstores_url = "s3://${aws_s3_bucket.this.id}${local.url_path}?region=${data.aws_region.current.name}"
}

# ---------------------------------------------------------------- KMS key

resource "aws_kms_key" "this" {
  count = local.create_kms_key ? 1 : 0

  description             = "SSE-KMS key for the cloudstores bucket ${var.bucket_name}"
  enable_key_rotation     = true
  deletion_window_in_days = var.kms_key_deletion_window_days

  # The account administers the key; IAM policies (the writer, reader and
  # auditor outputs below) decide who may use it, and only through S3.
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Sid       = "AccountAdministration"
        Effect    = "Allow"
        Principal = { AWS = "arn:${data.aws_partition.current.partition}:iam::${data.aws_caller_identity.current.account_id}:root" }
        Action    = "kms:*"
        Resource  = "*"
      },
    ]
  })

  tags = var.tags
}

resource "aws_kms_alias" "this" {
  count = local.create_kms_key ? 1 : 0

  name          = "alias/cloudstores-${var.bucket_name}"
  target_key_id = aws_kms_key.this[0].key_id
}

# ---------------------------------------------------------------- bucket

resource "aws_s3_bucket" "this" {
  #checkov:skip=CKV_AWS_144:Cross-region replication is a user choice (cost, data residency); replicate with aws_s3_bucket_replication_configuration outside this module if required.
  #checkov:skip=CKV2_AWS_62:Event notifications are a user choice; cloudstores reads through its own manifest index and needs no notifications.
  bucket              = var.bucket_name
  object_lock_enabled = true
  force_destroy       = false

  tags = var.tags
}

resource "aws_s3_bucket_ownership_controls" "this" {
  bucket = aws_s3_bucket.this.id

  rule {
    # ACLs disabled: the bucket owner owns every object.
    object_ownership = "BucketOwnerEnforced"
  }
}

resource "aws_s3_bucket_public_access_block" "this" {
  bucket = aws_s3_bucket.this.id

  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_versioning" "this" {
  bucket = aws_s3_bucket.this.id

  versioning_configuration {
    status = "Enabled"
  }
}

resource "aws_s3_bucket_object_lock_configuration" "this" {
  bucket = aws_s3_bucket.this.id

  rule {
    default_retention {
      mode = var.object_lock_mode
      days = var.retention_days
    }
  }

  depends_on = [aws_s3_bucket_versioning.this]
}

resource "aws_s3_bucket_server_side_encryption_configuration" "this" {
  bucket = aws_s3_bucket.this.id

  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm     = "aws:kms"
      kms_master_key_id = local.kms_key_arn
    }
    bucket_key_enabled = true
  }
}

resource "aws_s3_bucket_lifecycle_configuration" "this" {
  bucket = aws_s3_bucket.this.id

  # One rule over the whole bucket (it is dedicated to cloudstores). Expiry
  # and transitions are optional; Object Lock keeps S3 from deleting any
  # version before its retention date even if expiration_days is set.
  rule {
    id     = "cloudstores-lifecycle"
    status = "Enabled"

    filter {}

    abort_incomplete_multipart_upload {
      days_after_initiation = var.abort_incomplete_multipart_upload_days
    }

    dynamic "transition" {
      for_each = var.transition_days == null ? [] : [var.transition_days]
      content {
        days          = transition.value
        storage_class = var.transition_storage_class
      }
    }

    dynamic "expiration" {
      for_each = var.expiration_days == null ? [] : [var.expiration_days]
      content {
        days = expiration.value
      }
    }

    dynamic "noncurrent_version_expiration" {
      for_each = var.noncurrent_version_expiration_days == null ? [] : [var.noncurrent_version_expiration_days]
      content {
        noncurrent_days = noncurrent_version_expiration.value
      }
    }
  }

  depends_on = [aws_s3_bucket_versioning.this]
}

resource "aws_s3_bucket_logging" "this" {
  count = var.access_log_bucket == null ? 0 : 1

  bucket        = aws_s3_bucket.this.id
  target_bucket = var.access_log_bucket
  target_prefix = var.access_log_prefix
}

# ---------------------------------------------------------------- bucket policy

resource "aws_s3_bucket_policy" "this" {
  bucket = aws_s3_bucket.this.id

  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        # TLS only: any request over plain HTTP is denied, for every principal.
        Sid       = "DenyInsecureTransport"
        Effect    = "Deny"
        Principal = "*"
        Action    = "s3:*"
        Resource  = [local.bucket_arn, "${local.bucket_arn}/*"]
        Condition = {
          Bool = { "aws:SecureTransport" = "false" }
        }
      },
      {
        Sid       = "DenyTlsOlderThan12"
        Effect    = "Deny"
        Principal = "*"
        Action    = "s3:*"
        Resource  = [local.bucket_arn, "${local.bucket_arn}/*"]
        Condition = {
          NumericLessThan = { "s3:TlsVersion" = "1.2" }
        }
      },
      {
        # Create-only writes: PutObject / CompleteMultipartUpload on the
        # immutable prefixes must carry If-None-Match. CreateMultipartUpload,
        # UploadPart and UploadPartCopy cannot carry the header, so they are
        # exempted through s3:ObjectCreationOperation (false for them).
        Sid       = "DenyPutWithoutIfNoneMatchOnImmutablePrefixes"
        Effect    = "Deny"
        Principal = "*"
        Action    = "s3:PutObject"
        Resource  = local.immutable_object_arns
        Condition = {
          Null = { "s3:if-none-match" = "true" }
          Bool = { "s3:ObjectCreationOperation" = "true" }
        }
      },
    ]
  })

  depends_on = [aws_s3_bucket_public_access_block.this]
}

# ---------------------------------------------------------------- IAM policies
# Identity policies to attach to the roles of cloudstores users. Each is limited
# to local.scope_root: the whole prefix, or ws/<workspace>/ when var.workspace
# is set.

locals {
  list_prefix_condition = local.scope_root == "" ? [] : [{
    test     = "StringLike"
    variable = "s3:prefix"
    values   = ["${local.scope_root}*"]
  }]

  kms_via_s3 = "s3.${data.aws_region.current.name}.amazonaws.com"
}

data "aws_iam_policy_document" "writer" {
  statement {
    sid       = "CreateObjects"
    effect    = "Allow"
    actions   = ["s3:PutObject"]
    resources = [local.scoped_object_arn]
  }

  statement {
    sid       = "ReadObjects"
    effect    = "Allow"
    actions   = ["s3:GetObject", "s3:GetObjectVersion"]
    resources = [local.scoped_object_arn]
  }

  statement {
    sid       = "ListPrefix"
    effect    = "Allow"
    actions   = ["s3:ListBucket"]
    resources = [local.bucket_arn]

    dynamic "condition" {
      for_each = local.list_prefix_condition
      content {
        test     = condition.value.test
        variable = condition.value.variable
        values   = condition.value.values
      }
    }
  }

  statement {
    sid       = "UseBucketKeyThroughS3"
    effect    = "Allow"
    actions   = ["kms:GenerateDataKey", "kms:Decrypt"]
    resources = [local.kms_key_arn]

    condition {
      test     = "StringEquals"
      variable = "kms:ViaService"
      values   = [local.kms_via_s3]
    }
  }

  # Guard rails: even if another policy on the same principal allows them, the
  # writer can never delete, shorten retention, or loosen the bucket.
  statement {
    sid    = "DenyDestructiveActions"
    effect = "Deny"
    actions = [
      "s3:DeleteObject",
      "s3:DeleteObjectVersion",
      "s3:BypassGovernanceRetention",
      "s3:PutObjectRetention",
      "s3:PutObjectLegalHold",
      "s3:PutBucketObjectLockConfiguration",
      "s3:PutBucketPolicy",
      "s3:DeleteBucketPolicy",
      "s3:PutBucketVersioning",
      "s3:PutLifecycleConfiguration",
      "s3:DeleteBucket",
    ]
    resources = [local.bucket_arn, "${local.bucket_arn}/*"]
  }

  # Create-only everywhere the writer can write, not only on the cloudstores
  # prefixes that the bucket policy covers.
  statement {
    sid       = "DenyPutWithoutIfNoneMatch"
    effect    = "Deny"
    actions   = ["s3:PutObject"]
    resources = ["${local.bucket_arn}/*"]

    condition {
      test     = "Null"
      variable = "s3:if-none-match"
      values   = ["true"]
    }

    condition {
      test     = "Bool"
      variable = "s3:ObjectCreationOperation"
      values   = ["true"]
    }
  }
}

data "aws_iam_policy_document" "reader" {
  statement {
    sid       = "ReadObjects"
    effect    = "Allow"
    actions   = ["s3:GetObject"]
    resources = [local.scoped_object_arn]
  }

  statement {
    sid       = "ListPrefix"
    effect    = "Allow"
    actions   = ["s3:ListBucket"]
    resources = [local.bucket_arn]

    dynamic "condition" {
      for_each = local.list_prefix_condition
      content {
        test     = condition.value.test
        variable = condition.value.variable
        values   = condition.value.values
      }
    }
  }

  statement {
    sid       = "DecryptThroughS3"
    effect    = "Allow"
    actions   = ["kms:Decrypt"]
    resources = [local.kms_key_arn]

    condition {
      test     = "StringEquals"
      variable = "kms:ViaService"
      values   = [local.kms_via_s3]
    }
  }
}

# Read-only, plus the versions, retention and bucket configuration an auditor
# needs to show that nothing was rewritten.
data "aws_iam_policy_document" "auditor" {
  statement {
    sid    = "ReadObjectsVersionsAndRetention"
    effect = "Allow"
    actions = [
      "s3:GetObject",
      "s3:GetObjectVersion",
      "s3:GetObjectAttributes",
      "s3:GetObjectVersionAttributes",
      "s3:GetObjectRetention",
      "s3:GetObjectLegalHold",
    ]
    resources = [local.scoped_object_arn]
  }

  statement {
    sid       = "ListPrefixAndVersions"
    effect    = "Allow"
    actions   = ["s3:ListBucket", "s3:ListBucketVersions"]
    resources = [local.bucket_arn]

    dynamic "condition" {
      for_each = local.list_prefix_condition
      content {
        test     = condition.value.test
        variable = condition.value.variable
        values   = condition.value.values
      }
    }
  }

  statement {
    sid    = "ReadBucketConfiguration"
    effect = "Allow"
    actions = [
      "s3:GetBucketObjectLockConfiguration",
      "s3:GetBucketVersioning",
      "s3:GetBucketPolicy",
      "s3:GetBucketPublicAccessBlock",
      "s3:GetBucketOwnershipControls",
      "s3:GetEncryptionConfiguration",
      "s3:GetLifecycleConfiguration",
      "s3:GetBucketLogging",
    ]
    resources = [local.bucket_arn]
  }

  statement {
    sid       = "DecryptThroughS3"
    effect    = "Allow"
    actions   = ["kms:Decrypt", "kms:DescribeKey"]
    resources = [local.kms_key_arn]
  }
}

resource "aws_iam_policy" "writer" {
  count = var.create_iam_policies ? 1 : 0

  name        = "${local.policy_name_prefix}-cloudstores-writer"
  description = "cloudstores writer for s3://${var.bucket_name}/${local.scope_root}: create-only writes, read, list; no delete, no retention bypass."
  policy      = data.aws_iam_policy_document.writer.json
  tags        = var.tags
}

resource "aws_iam_policy" "reader" {
  count = var.create_iam_policies ? 1 : 0

  name        = "${local.policy_name_prefix}-cloudstores-reader"
  description = "cloudstores reader for s3://${var.bucket_name}/${local.scope_root}: read and list."
  policy      = data.aws_iam_policy_document.reader.json
  tags        = var.tags
}

resource "aws_iam_policy" "auditor" {
  count = var.create_iam_policies ? 1 : 0

  name        = "${local.policy_name_prefix}-cloudstores-auditor"
  description = "cloudstores auditor for s3://${var.bucket_name}/${local.scope_root}: read-only objects, versions, retention and bucket configuration."
  policy      = data.aws_iam_policy_document.auditor.json
  tags        = var.tags
}
