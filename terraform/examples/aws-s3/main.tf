# Example: an immutable S3 bucket for cloudstores audit logs, with the writer
# policy attached to an existing role (for example a Lambda execution role).

provider "aws" {
  region = var.region
}

module "cloudstores" {
  source = "../../modules/aws-s3"

  bucket_name      = var.bucket_name
  prefix           = "cloudstores"
  retention_days   = 365
  object_lock_mode = "COMPLIANCE"

  # Move to Glacier Instant Retrieval after 90 days; expire after the
  # retention period has passed.
  transition_days = 90
  expiration_days = 400

  workspace = var.workspace

  tags = {
    app = "cloudstores"
  }
}

resource "aws_iam_role_policy_attachment" "writer" {
  count = var.writer_role_name == null ? 0 : 1

  role       = var.writer_role_name
  policy_arn = module.cloudstores.writer_policy_arn
}
