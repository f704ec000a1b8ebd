# Example: an immutable GCS bucket for cloudstores, written by a service
# account (for example the one a Cloud Run service runs as).

provider "google" {
  project = var.project_id
}

resource "google_service_account" "agent" {
  account_id   = "cloudstores-agent"
  display_name = "cloudstores writer"
}

module "cloudstores" {
  source = "../../modules/gcp-gcs"

  project_id  = var.project_id
  bucket_name = var.bucket_name
  location    = var.location
  prefix      = "cloudstores"

  retention_days          = 365
  retention_policy_locked = false # set true once tested: irreversible
  transition_days         = 90
  expiration_days         = 400

  writer_members = ["serviceAccount:${google_service_account.agent.email}"]
  reader_members = var.reader_members
  workspace      = var.workspace

  labels = {
    app = "cloudstores"
  }
}
