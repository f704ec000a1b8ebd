"""What each cloud's credential chain tries, and what to do when it finds nothing.

Used in the errors the drivers raise when no credential could be found, so the message
names the sources tried and the next step. Never a credential value.
"""

from __future__ import annotations

__all__ = ["NO_CREDENTIALS"]

NO_CREDENTIALS = {
    "s3": (
        "tried: the profile option / AWS_PROFILE, AWS_ACCESS_KEY_ID + AWS_SECRET_ACCESS_KEY, "
        "~/.aws/credentials and ~/.aws/config, web identity, container and instance roles; "
        "next: run `aws configure` (or `aws sso login`), set AWS_PROFILE, or run where a "
        "role is attached"
    ),
    "az": (
        "tried: sas_token / credential options, then DefaultAzureCredential (AZURE_CLIENT_ID "
        "+ AZURE_TENANT_ID + AZURE_CLIENT_SECRET, workload identity, managed identity, "
        "Azure CLI, Azure PowerShell, azd); next: run `az login`, add ?sas_token=..., or use "
        "a connection_string (AZURE_STORAGE_CONNECTION_STRING)"
    ),
    "gs": (
        "tried: GOOGLE_APPLICATION_CREDENTIALS, gcloud's application-default credentials "
        "(~/.config/gcloud/application_default_credentials.json), the metadata server; next: "
        "run `gcloud auth application-default login` or set GOOGLE_APPLICATION_CREDENTIALS "
        "to a service account key file"
    ),
}
"""Per scheme (``s3``, ``az``, ``gs``): the sources tried and the next step."""
