terraform {
  # 1.9+ is needed for variable validations that refer to other variables.
  required_version = ">= 1.9.0"

  required_providers {
    google = {
      source  = "hashicorp/google"
      version = ">= 5.30.0, < 7.0.0"
    }
  }
}
