"""The audit signing key from AWS Secrets Manager, read once per cold start."""

from __future__ import annotations

import os

import boto3


def signing_key_pem() -> str | None:
    """The PEM in the secret named by ``CLOUDSTORES_AUDIT_KEY_SECRET`` (None: unset)."""
    secret = os.environ.get("CLOUDSTORES_AUDIT_KEY_SECRET")
    if not secret:
        return None
    client = boto3.client("secretsmanager")  # honours AWS_ENDPOINT_URL, as every AWS SDK does
    value: str = client.get_secret_value(SecretId=secret)["SecretString"]
    return value
