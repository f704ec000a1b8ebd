"""``az://container[/prefix]``: Azure Blob Storage through ``azure-storage-blob`` (aio).

Addressing, one of::

    az://container/prefix?connection_string=DefaultEndpointsProtocol=...   (URL-encoded)
    az://container/prefix?account_url=https://ACCOUNT.blob.core.windows.net[&sas_token=..]
    az://container/prefix        with AZURE_STORAGE_CONNECTION_STRING in the environment

With ``account_url`` the credential is the ``sas_token`` option, else the ``credential``
option (any azure-core credential object, passed to ``open_bucket`` as a keyword), else
``azure.identity.aio.DefaultAzureCredential`` when azure-identity is installed. Secrets
are better passed as ``open_bucket`` keywords than in the URL; neither ``url``, ``repr``
nor any error message of this driver ever contains them.

Other options: ``max_connections`` (aiohttp pool size, default 64), ``connect_timeout``
and ``read_timeout`` (seconds, defaults 20 and 60), ``page_size`` (list page, default
5000, the service maximum).

Conditional writes: create-only is ``If-None-Match: *`` (Azurite answers 409
BlobAlreadyExists, real Azure 409 or 412: both become AlreadyExistsError); ``IfMatch``
is ``If-Match: etag`` (412 becomes PreconditionFailedError, or NotFoundError when a
follow-up HEAD finds the blob gone). The SDK's own retries are off: the base class
retries and reconciles ambiguous writes. A missing *container* is a
ConfigurationError, not NotFoundError: it is a wrong URL, not a missing object.

ETags are returned quoted (``"0x8D..."``) everywhere, including listings, where the
service sends them bare, so versions from ``list``, ``head`` and ``put`` compare equal.
"""

from __future__ import annotations

import asyncio
import importlib.util
import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any, Self

from cloudstores.bucket._aiohttp import disable_resend
from cloudstores.bucket.base import Bucket, ListPage
from cloudstores.bucket.types import IfMatch, ObjectInfo, PutMode, StoredObject, Version
from cloudstores.bucket.url import BucketURL
from cloudstores.errors import (
    AlreadyExistsError,
    BackendUnavailableError,
    ConfigurationError,
    ConflictError,
    InvalidInputError,
    NotFoundError,
    PayloadTooLargeError,
    PermissionDeniedError,
    PreconditionFailedError,
    StoreError,
    StoreTimeoutError,
    ThrottledError,
)
from cloudstores.retry import RetryConfig

try:
    import aiohttp
    from azure.core import MatchConditions
    from azure.core.exceptions import (
        AzureError,
        ClientAuthenticationError,
        DecodeError,
        HttpResponseError,
        ServiceRequestError,
        ServiceRequestTimeoutError,
        ServiceResponseError,
        ServiceResponseTimeoutError,
    )
    from azure.core.pipeline.transport import AioHttpTransport
    from azure.storage.blob import BlobProperties, BlobType, ContentSettings
    from azure.storage.blob.aio import BlobClient, BlobServiceClient, ContainerClient
except ImportError as _exc:  # pragma: no cover - depends on the installed extras
    raise ConfigurationError(
        "az:// buckets need the azure extra: pip install 'cloudstores[azure]'"
    ) from _exc

__all__ = ["AzureBucket", "make_transport"]

ENV_CONNECTION_STRING = "AZURE_STORAGE_CONNECTION_STRING"
DEFAULT_MAX_CONNECTIONS = 64
DEFAULT_CONNECT_TIMEOUT = 20.0
DEFAULT_READ_TIMEOUT = 60.0
DEFAULT_PAGE_SIZE = 5000
SINGLE_REQUEST_BYTES = 64 * 1024**2
"""Bodies up to this size go up in one Put Blob and come down in one Get Blob."""

SDK_CLIENT_OPTIONS: dict[str, Any] = {
    "retry_total": 0,  # the base class retries; SDK retries would hide ambiguity
    "retry_to_secondary": False,
    "max_single_put_size": SINGLE_REQUEST_BYTES,
    "max_single_get_size": SINGLE_REQUEST_BYTES,
    "logging_enable": False,
}
"""Keyword options every service client of this driver (and its benchmark) gets."""


def make_transport(
    max_connections: int = DEFAULT_MAX_CONNECTIONS,
    *,
    connect_timeout: float = DEFAULT_CONNECT_TIMEOUT,
    read_timeout: float = DEFAULT_READ_TIMEOUT,
) -> tuple[aiohttp.ClientSession, AioHttpTransport]:
    """An aiohttp session with a ``max_connections`` pool, and an SDK transport on it.

    The caller owns the session (close it after the client). Call inside a running loop.
    """
    connector = aiohttp.TCPConnector(limit=max_connections, limit_per_host=max_connections)
    session = aiohttp.ClientSession(
        connector=connector,
        trust_env=True,  # honour HTTPS_PROXY etc., as the SDK's own session does
        cookie_jar=aiohttp.DummyCookieJar(),
        auto_decompress=False,  # the SDK expects raw bodies
    )
    disable_resend(session)  # every attempt must be one the Bucket sees
    transport = AioHttpTransport(
        session=session,
        session_owner=False,
        connection_timeout=connect_timeout,
        read_timeout=read_timeout,
    )
    return session, transport


class AzureBucket(Bucket):
    """Block blobs in one Azure Storage container, under an optional prefix."""

    scheme = "az"

    def __init__(
        self,
        *,
        container: str,
        prefix: str = "",
        connection_string: str | None = None,
        account_url: str | None = None,
        credential: Any = None,
        max_connections: int = DEFAULT_MAX_CONNECTIONS,
        connect_timeout: float = DEFAULT_CONNECT_TIMEOUT,
        read_timeout: float = DEFAULT_READ_TIMEOUT,
        page_size: int = DEFAULT_PAGE_SIZE,
        retry: RetryConfig | None = None,
        max_in_flight: int | None = None,
    ) -> None:
        if not container:
            raise ConfigurationError("az:// URLs name a container: az://CONTAINER[/prefix]")
        if bool(connection_string) == bool(account_url):
            raise ConfigurationError(
                "az:// needs exactly one of connection_string or account_url "
                f"(or {ENV_CONNECTION_STRING} in the environment)"
            )
        if account_url is not None and not account_url.startswith(("https://", "http://")):
            raise ConfigurationError("az:// account_url must start with https://")
        if max_connections < 1 or page_size < 1:
            raise ConfigurationError("az:// max_connections and page_size must be at least 1")
        super().__init__(name=container, prefix=prefix, retry=retry, max_in_flight=max_in_flight)
        self._connection_string = connection_string
        self._account_url = account_url
        self._credential = credential
        self.max_connections = max_connections
        self.connect_timeout = connect_timeout
        self.read_timeout = read_timeout
        self.page_size = page_size
        self._use_start_from = True
        self._open_lock = asyncio.Lock()
        self._session: aiohttp.ClientSession | None = None
        self._service: BlobServiceClient | None = None
        self._container: ContainerClient | None = None
        self._owned_credential: Any = None

    @classmethod
    def from_url(
        cls, url: BucketURL, *, retry: RetryConfig | None, max_in_flight: int | None
    ) -> Self:
        connection_string = url.pop("connection_string") or None
        account_url = url.pop("account_url") or None
        sas_token = url.pop("sas_token") or None
        credential = url.pop("credential")
        max_connections = url.pop_int("max_connections", DEFAULT_MAX_CONNECTIONS)
        page_size = url.pop_int("page_size", DEFAULT_PAGE_SIZE)
        connect_timeout = _pop_float(url, "connect_timeout", DEFAULT_CONNECT_TIMEOUT)
        read_timeout = _pop_float(url, "read_timeout", DEFAULT_READ_TIMEOUT)
        url.reject_unknown()
        if connection_string is None and account_url is None:
            connection_string = os.environ.get(ENV_CONNECTION_STRING) or None
        if connection_string is not None and (sas_token is not None or account_url):
            raise ConfigurationError(
                "az:// takes either connection_string or account_url (+ sas_token), not both"
            )
        if sas_token is not None:
            if credential is not None:
                raise ConfigurationError("az:// takes either sas_token or credential, not both")
            credential = str(sas_token).lstrip("?")
        if (
            account_url is not None
            and credential is None
            and importlib.util.find_spec("azure.identity") is None
        ):
            raise ConfigurationError(
                "az:// with account_url needs a sas_token, a credential, or azure-identity "
                "installed for DefaultAzureCredential: pip install 'cloudstores[azure-identity]'"
            )
        return cls(
            container=url.name,
            prefix=url.prefix,
            connection_string=connection_string,
            account_url=account_url,
            credential=credential,
            max_connections=max_connections or DEFAULT_MAX_CONNECTIONS,
            connect_timeout=connect_timeout,
            read_timeout=read_timeout,
            page_size=page_size or DEFAULT_PAGE_SIZE,
            retry=retry,
            max_in_flight=max_in_flight,
        )

    # ------------------------------------------------------------------ lifecycle
    async def open(self) -> None:
        """Create the aiohttp pool and the SDK clients (idempotent)."""
        async with self._open_lock:
            if self._container is not None:
                return
            session, transport = make_transport(
                self.max_connections,
                connect_timeout=self.connect_timeout,
                read_timeout=self.read_timeout,
            )
            try:
                self._service = self._make_service(transport)
            except BaseException:
                await session.close()
                await self._close_credential()
                raise
            self._session = session
            self._container = self._service.get_container_client(self.name)

    def _make_service(self, transport: AioHttpTransport) -> BlobServiceClient:
        options: dict[str, Any] = {"transport": transport, **SDK_CLIENT_OPTIONS}
        if self._connection_string is not None:
            try:
                return BlobServiceClient.from_connection_string(
                    self._connection_string, credential=self._credential, **options
                )
            except ValueError as exc:
                error = ConfigurationError(f"az://{self.name}: the connection string is malformed")
                raise error from (None if _mentions_secret(exc) else exc)
        assert self._account_url is not None
        credential = self._credential
        token_auth = credential is None or hasattr(credential, "get_token")
        if token_auth and self._account_url.startswith("http://"):
            raise ConfigurationError(
                f"az://{self.name}: Azure AD credentials need an https:// account_url "
                "(use a sas_token or a connection string with an http:// emulator)"
            )
        if credential is None:
            from azure.identity.aio import DefaultAzureCredential

            credential = self._owned_credential = DefaultAzureCredential()
        try:
            return BlobServiceClient(self._account_url, credential=credential, **options)
        except ValueError as exc:
            raise ConfigurationError(f"az://{self.name}: unusable account_url") from exc

    async def close(self) -> None:
        """Close the SDK clients, the aiohttp pool and a credential we created."""
        async with self._open_lock:
            service, session = self._service, self._session
            self._service = self._container = None
            self._session = None
            try:
                if service is not None:
                    await service.close()
            finally:
                if session is not None:
                    await session.close()
                await self._close_credential()

    async def _close_credential(self) -> None:
        credential, self._owned_credential = self._owned_credential, None
        if credential is not None:
            await credential.close()

    async def _containers(self) -> ContainerClient:
        if self._container is None:
            await self.open()
        assert self._container is not None
        return self._container

    async def _blob(self, key: str) -> BlobClient:
        return (await self._containers()).get_blob_client(key)

    # ------------------------------------------------------------------ errors
    @contextmanager
    def _errors(self, op: str, key: str, mode: PutMode | None = None) -> Iterator[None]:
        """The one place where SDK and network errors become cloudstores errors."""
        try:
            yield
        except StoreError:
            raise
        except Exception as exc:
            error = _translate(exc, op=op, container=self.name, key=key, mode=mode)
            if error is None:
                raise
            raise error from exc

    # ------------------------------------------------------------------ primitives
    async def _put(
        self,
        key: str,
        data: bytes,
        *,
        mode: PutMode,
        content_type: str,
        metadata: Mapping[str, str],
    ) -> Version:
        blob = await self._blob(key)
        options: dict[str, Any] = {
            "blob_type": BlobType.BLOCKBLOB,
            "length": len(data),
            "metadata": dict(metadata),
            "content_settings": ContentSettings(content_type=content_type),
        }
        if mode == "create":
            options["overwrite"] = False  # If-None-Match: * (never etag='*' + IfMissing)
        elif isinstance(mode, IfMatch):
            # overwrite=True: otherwise the SDK rewrites a 412 into "BlobAlreadyExists".
            options.update(
                overwrite=True,
                etag=_quoted(mode.version.etag),
                match_condition=MatchConditions.IfNotModified,
            )
        else:
            options["overwrite"] = True
        # A 412 to If-Match may mean the blob is gone: the Bucket HEADs it to tell.
        with self._errors("put", key, mode):
            response = await blob.upload_blob(data, **options)
        return Version(etag=_quoted(response["etag"]))

    async def _get(self, key: str) -> StoredObject:
        blob = await self._blob(key)
        with self._errors("get", key):
            downloader = await blob.download_blob()
            data = await downloader.readall()
        props = downloader.properties
        return StoredObject(
            key=key,
            data=data,
            version=Version(etag=_quoted(props.etag)),
            last_modified=props.last_modified,
            content_type=props.content_settings.content_type,
            metadata=dict(props.metadata or {}),
        )

    async def _head(self, key: str) -> ObjectInfo:
        blob = await self._blob(key)
        with self._errors("head", key):
            props = await blob.get_blob_properties()
        return _info(props, key)

    async def _delete(self, key: str) -> None:
        blob = await self._blob(key)
        with self._errors("delete", key):
            await blob.delete_blob()

    async def _list_page(self, prefix: str, start_after: str | None, token: str | None) -> ListPage:
        container = await self._containers()
        options: dict[str, Any] = {
            "name_starts_with": prefix or None,
            "include": ["metadata"],
            "results_per_page": self.page_size,
        }
        # Azure has no exclusive start-after; ``start_from`` (inclusive, recent service
        # versions and SDKs) skips ahead on the first page. A service that refuses it (400)
        # or an older SDK that does not know it (TypeError) gets plain listings from then on.
        use_start_from = token is None and start_after is not None and self._use_start_from
        if use_start_from:
            options["start_from"] = start_after
        try:
            with self._errors("list", prefix):
                pages: Any = container.list_blobs(**options).by_page(continuation_token=token)
                page = await pages.__anext__()
                items = [props async for props in page]
        except (InvalidInputError, TypeError):
            if not use_start_from:
                raise
            self._use_start_from = False
            self.requests["list"] += 1
            return await self._list_page(prefix, start_after, token)
        infos = [
            _info(props, props.name)
            for props in items
            if start_after is None or props.name > start_after
        ]
        return infos, (pages.continuation_token or None)


# ---------------------------------------------------------------------- helpers
def _pop_float(url: BucketURL, name: str, default: float) -> float:
    value = url.pop(name)
    if value is None or value == "":
        return default
    try:
        result = float(value)
    except (TypeError, ValueError) as exc:
        raise ConfigurationError(f"URL option {name}={value!r} is not a number") from exc
    if result <= 0:
        raise ConfigurationError(f"URL option {name} must be positive")
    return result


def _quoted(etag: str | None) -> str:
    """ETags in one form: quoted, as Put/Get/Head send them (List sends them bare)."""
    if not etag:
        return '""'
    return etag if etag.startswith(('"', "W/")) else f'"{etag}"'


def _info(props: BlobProperties, key: str) -> ObjectInfo:
    return ObjectInfo(
        key=key,
        size=int(props.size or 0),
        version=Version(etag=_quoted(props.etag)),
        last_modified=props.last_modified,
        content_type=props.content_settings.content_type if props.content_settings else None,
        metadata=dict(props.metadata or {}),
    )


def _mentions_secret(exc: BaseException) -> bool:
    text = str(exc).lower()
    return any(word in text for word in ("accountkey", "sig=", "sharedaccesssignature"))


_EXISTS_CODES = ("BlobAlreadyExists", "")


def _translate(
    exc: Exception, *, op: str, container: str, key: str, mode: PutMode | None
) -> StoreError | None:
    """The cloudstores error for an SDK or network error (None: not ours to translate).

    Messages carry the operation, container, key, status and service error code, never
    the SDK's text (an auth failure's text may echo the string it signed).
    """
    where = f"{op} {key!r} in az://{container}"
    kw: dict[str, Any] = {"bucket": container, "key": key}
    if isinstance(exc, ServiceRequestTimeoutError | ServiceResponseTimeoutError | TimeoutError):
        return StoreTimeoutError(f"{where}: no answer in time", **kw)
    if isinstance(exc, DecodeError):
        # IncompleteReadError (a truncated body) and other unreadable answers.
        return BackendUnavailableError(f"{where}: bad response ({type(exc).__name__})", **kw)
    if isinstance(exc, ClientAuthenticationError) and not exc.status_code:
        return PermissionDeniedError(f"{where}: could not get an Azure credential", **kw)
    if isinstance(exc, HttpResponseError) and exc.status_code:
        status = int(exc.status_code)
        raw_code = getattr(exc, "error_code", None) or ""
        code = str(getattr(raw_code, "value", raw_code))  # a StorageErrorCode enum, or str
        what = f"{where}: {status} {code}".rstrip()
        if status == 404:
            if code == "ContainerNotFound":
                return ConfigurationError(f"container {container!r} does not exist ({what})", **kw)
            return NotFoundError(f"{key!r} does not exist in az://{container}", **kw)
        # Azurite answers 409 BlobAlreadyExists, Azure 409 or 412 ConditionNotMet.
        if mode == "create" and (status == 412 or (status == 409 and code in _EXISTS_CODES)):
            return AlreadyExistsError(f"{key!r} already exists in az://{container}", **kw)
        if status == 412:
            version = f" {mode.version}" if isinstance(mode, IfMatch) else ""
            return PreconditionFailedError(
                f"{key!r} in az://{container} is no longer at the version{version} ({code})",
                **kw,
            )
        if status in (401, 403):
            return PermissionDeniedError(f"{what}: credentials refused", **kw)
        if status == 409:
            return ConflictError(what, **kw)
        if status == 408 or code == "OperationTimedOut":
            return StoreTimeoutError(what, **kw)
        if status == 429 or (status == 503 and code in ("ServerBusy", "")):
            return ThrottledError(what, **kw)
        if status >= 500:
            return BackendUnavailableError(what, **kw)
        if status == 413:
            return PayloadTooLargeError(what, **kw)
        if status == 400:
            return InvalidInputError(what, **kw)
        return StoreError(what, **kw)
    if isinstance(exc, ServiceRequestError | ServiceResponseError | aiohttp.ClientError | OSError):
        inner = getattr(exc, "inner_exception", None) or exc
        return BackendUnavailableError(
            f"{where}: connection failed ({type(inner).__name__})", **kw
        )
    if isinstance(exc, AzureError):
        return StoreError(f"{where}: {type(exc).__name__}", **kw)
    return None
