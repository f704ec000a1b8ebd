"""Build an obstore store (S3Store, AzureStore, GCSStore) from a bucket URL.

The engine takes the same URL options and the same credential sources as the SDK
drivers, so ``engine=obstore`` can be switched on without touching the rest of a URL:

- ``s3://``: a named ``profile`` (or ``AWS_PROFILE``, or the shared files
  ``~/.aws/credentials`` / ``~/.aws/config``) is read through boto3, like aioboto3 does;
  otherwise object_store's own chain: ``AWS_ACCESS_KEY_ID`` + ``AWS_SECRET_ACCESS_KEY``
  (+ ``AWS_SESSION_TOKEN``), web identity (``AWS_WEB_IDENTITY_TOKEN_FILE``), the ECS
  task role, then the EC2 instance role.
- ``az://``: ``connection_string`` (or ``AZURE_STORAGE_CONNECTION_STRING``), or
  ``account_url`` with a ``sas_token``, or ``account_url`` alone with object_store's
  chain (``AZURE_CLIENT_ID``/``AZURE_CLIENT_SECRET``/``AZURE_TENANT_ID``, workload
  identity, managed identity).
- ``gs://``: ``endpoint_url`` (an emulator: unsigned requests, as the SDK driver's
  anonymous client), else ``GOOGLE_APPLICATION_CREDENTIALS`` / a service account /
  the gcloud application-default file / the metadata server.

Every store is built with object_store's retries off (``max_retries`` 0): the Bucket
retries, and must see every failed attempt to keep conditional writes exactly-once.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from datetime import timedelta
from typing import TYPE_CHECKING, Any, cast
from urllib.parse import urlsplit

from cloudstores.bucket.options import Options, check_bucket_name, check_endpoint
from cloudstores.bucket.url import BucketURL
from cloudstores.errors import ConfigurationError

if TYPE_CHECKING:
    from obstore.store import AzureConfig, ClientConfig, GCSConfig, RetryConfig, S3Config

__all__ = ["StoreSpec", "store_spec"]

DEFAULT_TIMEOUT = 600.0
"""Whole-request cap (a 5 GiB upload must fit); the Bucket's per-request timeout
(``RetryConfig.request_timeout``, 60 s by default) is usually the tighter bound."""
DEFAULT_CONNECT_TIMEOUT = 10.0
DEFAULT_READ_TIMEOUT = 60.0
DEFAULT_PAGE_SIZE = 1000
ENV_AZURE_CONNECTION_STRING = "AZURE_STORAGE_CONNECTION_STRING"
_S3_CREDENTIAL_OPTIONS = {
    "aws_access_key_id",
    "aws_secret_access_key",
    "aws_session_token",
    "access_key",
    "secret_key",
    "secret",
}
_SCHEMES = {
    "s3": "s3",
    "az": "az",
    "azure": "az",
    "abfs": "az",
    "abfss": "az",
    "gs": "gs",
    "gcs": "gs",
}


class StoreSpec:
    """Everything needed to build one store later (in ``open``), checked up front.

    ``build`` imports obstore and constructs the store; ``credentials`` names where the
    credentials are expected to come from, for error messages. (A plain class, not a
    dataclass: this module is on the cold-start path.)
    """

    __slots__ = ("build", "credentials", "name", "page_size", "prefix", "scheme")

    def __init__(
        self,
        *,
        scheme: str,
        name: str,
        prefix: str,
        page_size: int,
        credentials: str,
        build: Callable[[], Any],
    ) -> None:
        self.scheme, self.name, self.prefix = scheme, name, prefix
        self.page_size, self.credentials, self.build = page_size, credentials, build

    def __repr__(self) -> str:
        return f"<StoreSpec {self.scheme}://{self.name}/{self.prefix}>"


def store_spec(url: BucketURL, options: Mapping[str, Any] | None = None) -> StoreSpec:
    """Read the URL's options and keywords (unknown ones are an error) into a StoreSpec."""
    scheme = _SCHEMES.get(url.scheme)
    if scheme is None:
        raise ConfigurationError(
            f"engine=obstore serves s3://, az:// and gs://, not {url.scheme}://"
        )
    if not url.name:
        raise ConfigurationError(f"{url.scheme}:// URL needs a bucket or container name")
    check_bucket_name(scheme, url.name, what="container" if scheme == "az" else "bucket")
    opts = Options(scheme, url.options, options)
    page_size = opts.whole("page_size", DEFAULT_PAGE_SIZE, maximum=5000)
    client: ClientConfig = {
        "timeout": timedelta(seconds=opts.seconds("timeout", DEFAULT_TIMEOUT)),
        "connect_timeout": timedelta(
            seconds=opts.seconds("connect_timeout", DEFAULT_CONNECT_TIMEOUT)
        ),
        "read_timeout": timedelta(seconds=opts.seconds("read_timeout", DEFAULT_READ_TIMEOUT)),
    }
    builder = {"s3": _s3, "az": _azure, "gs": _gcs}[scheme]
    credentials, build = builder(url.name, opts, client)
    opts.done()
    return StoreSpec(
        scheme=scheme,
        name=url.name,
        prefix=url.prefix,
        page_size=page_size,
        credentials=credentials,
        build=build,
    )


def _retry_off() -> RetryConfig:
    return {"max_retries": 0, "retry_timeout": timedelta(seconds=0)}


def _allow_http(endpoint: str | None, client: ClientConfig) -> ClientConfig:
    if endpoint and endpoint.startswith("http://"):
        with_http = client.copy()
        with_http["allow_http"] = True
        return with_http
    return client


# ---------------------------------------------------------------------- s3
def _s3(name: str, opts: Options, client: ClientConfig) -> tuple[str, Callable[[], Any]]:
    opts.refuse(
        _S3_CREDENTIAL_OPTIONS,
        "use a profile or the AWS credential chain (environment, config, roles)",
    )
    region = opts.text("region")
    endpoint = check_endpoint("s3", "endpoint_url", opts.text("endpoint_url"))
    profile = opts.text("profile")
    opts.whole("max_connections", 64, maximum=10_000)  # SDK option: reqwest's pool grows
    env = os.environ
    has_keys = bool(env.get("AWS_ACCESS_KEY_ID") and env.get("AWS_SECRET_ACCESS_KEY"))
    profile = profile or (None if has_keys else env.get("AWS_PROFILE") or None)
    shared_files = [
        env.get("AWS_SHARED_CREDENTIALS_FILE", "~/.aws/credentials"),
        env.get("AWS_CONFIG_FILE", "~/.aws/config"),
    ]
    use_boto3 = profile is not None or (
        not has_keys
        and not env.get("AWS_WEB_IDENTITY_TOKEN_FILE")
        and not env.get("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI")
        and not env.get("AWS_CONTAINER_CREDENTIALS_FULL_URI")
        and any(os.path.isfile(os.path.expanduser(path)) for path in shared_files)
    )
    if use_boto3:
        where = f"AWS profile {profile or 'default'} (shared config files, read with boto3)"
    elif has_keys:
        where = "AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY in the environment"
    else:
        where = (
            "the AWS chain: AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, AWS_PROFILE, "
            "web identity, the ECS task role or the EC2 instance role"
        )

    def build() -> Any:
        from obstore.store import S3Store

        config: dict[str, Any] = {"conditional_put": "etag"}
        if region:
            config["region"] = region
        if endpoint:
            config["endpoint"] = endpoint
            config["virtual_hosted_style_request"] = False
        provider = _boto3_provider(profile) if use_boto3 else None
        if provider is not None and "region" not in config and provider.config.get("region"):
            config["region"] = provider.config["region"]
        return S3Store(
            name,
            config=cast("S3Config", config),
            client_options=_allow_http(endpoint, client),
            retry_config=_retry_off(),
            credential_provider=provider,
        )

    return where, build


def _boto3_provider(profile: str | None) -> Any:
    try:
        import boto3  # type: ignore[import-untyped]
        from obstore.auth.boto3 import Boto3CredentialProvider
    except ImportError as exc:
        raise ConfigurationError(
            "an AWS profile with engine=obstore needs boto3: pip install 'cloudstores[s3]'"
        ) from exc
    try:
        return Boto3CredentialProvider(boto3.Session(profile_name=profile))
    except Exception as exc:  # botocore ProfileNotFound, or no credentials in the profile
        raise ConfigurationError(
            f"no AWS credentials in profile {profile or 'default'}: {exc}"
        ) from exc


# ---------------------------------------------------------------------- azure
def _azure(name: str, opts: Options, client: ClientConfig) -> tuple[str, Callable[[], Any]]:
    opts.refuse(
        ["credential"],
        "engine=obstore takes no Azure credential object; use a "
        "sas_token, a connection string or the environment",
    )
    connection_string = opts.text("connection_string")
    account_url = check_endpoint("az", "account_url", opts.text("account_url"))
    sas_token = opts.text("sas_token")
    opts.whole("max_connections", 64, maximum=10_000)  # SDK option: reqwest's pool grows
    if connection_string is None and account_url is None:
        connection_string = os.environ.get(ENV_AZURE_CONNECTION_STRING) or None
    if connection_string is not None and (account_url or sas_token):
        raise ConfigurationError(
            "az:// takes either connection_string or account_url (+ sas_token), not both"
        )
    if connection_string is not None:
        config = _parse_connection_string(connection_string)
        where = "the connection string"
    elif account_url is not None:
        config = _account_url_config(account_url)
        if sas_token:
            config["sas_key"] = sas_token.lstrip("?")
            where = "the sas_token"
        else:
            where = (
                "the Azure chain: AZURE_CLIENT_ID/AZURE_CLIENT_SECRET/AZURE_TENANT_ID, "
                "workload identity (AZURE_FEDERATED_TOKEN_FILE) or managed identity"
            )
    else:
        raise ConfigurationError(
            "az:// needs connection_string or account_url "
            f"(or {ENV_AZURE_CONNECTION_STRING} in the environment)"
        )

    def build() -> Any:
        from obstore.store import AzureStore

        options = _allow_http(config.get("endpoint"), client)
        return AzureStore(
            name,
            config=cast("AzureConfig", config),
            client_options=options,
            retry_config=_retry_off(),
        )

    return where, build


def _parse_connection_string(text: str) -> dict[str, Any]:
    parts: dict[str, str] = {}
    for item in text.split(";"):
        name, sep, value = item.strip().partition("=")
        if sep:
            parts[name.strip().lower()] = value.strip()
    if parts.get("usedevelopmentstorage", "").lower() == "true":
        return {"use_emulator": True}
    account = parts.get("accountname")
    config: dict[str, Any] = {}
    if account:
        config["account_name"] = account
    if parts.get("accountkey"):
        config["account_key"] = parts["accountkey"]
    elif parts.get("sharedaccesssignature"):
        config["sas_key"] = parts["sharedaccesssignature"].lstrip("?")
    else:
        raise ConfigurationError(
            "Azure connection string has neither AccountKey nor SharedAccessSignature"
        )
    endpoint = parts.get("blobendpoint")
    if endpoint:
        config["endpoint"] = endpoint.rstrip("/")
        config.setdefault("account_name", _account_from_endpoint(endpoint))
    elif account:
        protocol = parts.get("defaultendpointsprotocol", "https")
        suffix = parts.get("endpointsuffix", "core.windows.net")
        config["endpoint"] = f"{protocol}://{account}.blob.{suffix}"
    if not config.get("account_name"):
        raise ConfigurationError("Azure connection string names no AccountName")
    return config


def _account_url_config(account_url: str) -> dict[str, Any]:
    if not account_url.startswith(("https://", "http://")):
        raise ConfigurationError("az:// account_url must start with https://")
    return {
        "endpoint": account_url.rstrip("/"),
        "account_name": _account_from_endpoint(account_url),
    }


def _account_from_endpoint(endpoint: str) -> str:
    """``https://ACCOUNT.blob...`` or an emulator's ``http://host:port/ACCOUNT``."""
    parts = urlsplit(endpoint)
    path = parts.path.strip("/")
    if path:
        return path.split("/")[0]
    return (parts.hostname or "").split(".")[0]


# ---------------------------------------------------------------------- gcs
def _gcs(name: str, opts: Options, client: ClientConfig) -> tuple[str, Callable[[], Any]]:
    endpoint = check_endpoint("gs", "endpoint_url", opts.text("endpoint_url"))
    opts.text("project")  # the SDK needs it for some calls; object requests do not
    opts.whole("threads", 16, maximum=1024)  # SDK option (its thread pool); obstore is async
    if endpoint is None and os.environ.get("STORAGE_EMULATOR_HOST"):
        host = os.environ["STORAGE_EMULATOR_HOST"]
        endpoint = host if "://" in host else f"http://{host}"
    if endpoint is not None:
        where = f"none (unsigned requests to the emulator at {endpoint})"
    else:
        where = (
            "Google application-default credentials: GOOGLE_APPLICATION_CREDENTIALS, "
            "GOOGLE_SERVICE_ACCOUNT, gcloud's application_default_credentials.json "
            "or the metadata server"
        )

    def build() -> Any:
        from obstore.store import GCSStore

        config: dict[str, Any] = {}
        if endpoint is not None:
            # object_store's own emulator setup: a service-account JSON that names the
            # base URL and turns OAuth off.
            import json

            config["service_account_key"] = json.dumps(
                {
                    "gcs_base_url": endpoint.rstrip("/"),
                    "disable_oauth": True,
                    "client_email": "",
                    "private_key": "",
                    "private_key_id": "",
                }
            )
        return GCSStore(
            name,
            config=cast("GCSConfig", config),
            client_options=_allow_http(endpoint, client),
            retry_config=_retry_off(),
        )

    return where, build
