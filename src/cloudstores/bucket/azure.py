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
is ``If-Match: etag`` (412 becomes PreconditionFailedError; the Bucket's follow-up
HEAD turns it into NotFoundError when the blob is gone). The SDK's own retries and
aiohttp's hidden re-send on a reused connection are off: the Bucket retries and
reconciles ambiguous writes. A missing *container* is a
ConfigurationError, not NotFoundError: it is a wrong URL, not a missing object.

ETags are returned quoted (``"0x8D..."``) everywhere, including listings, where the
service sends them bare, so versions from ``list``, ``head`` and ``put`` compare equal.
"""

from __future__ import annotations

import importlib.util
import os
from collections.abc import Mapping
from typing import Any, Self

from cloudstores.bucket._aiohttp import disable_resend
from cloudstores.bucket.credentials import NO_CREDENTIALS
from cloudstores.bucket.driver import ListPage
from cloudstores.bucket.errors import Request, connection_error, error_for_status, timeout_error
from cloudstores.bucket.options import Options, check_bucket_name, check_endpoint
from cloudstores.bucket.types import IfMatch, ObjectInfo, PutMode, StoredObject, Version
from cloudstores.bucket.url import BucketURL
from cloudstores.errors import (
    AlreadyExistsError,
    BackendUnavailableError,
    ConfigurationError,
    ConflictError,
    InvalidInputError,
    PermissionDeniedError,
    StoreError,
    StoreTimeoutError,
    ThrottledError,
)

try:
    import aiohttp
    from azure.core import MatchConditions
    from azure.core.exceptions import (
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

__all__ = ["SDK_CLIENT_OPTIONS", "AzureDriver", "make_transport"]

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


class AzureDriver:
    """Block blobs in one Azure Storage container."""

    scheme = "az"

    def __init__(
        self,
        container: str,
        *,
        connection_string: str | None = None,
        account_url: str | None = None,
        credential: Any = None,
        max_connections: int = DEFAULT_MAX_CONNECTIONS,
        connect_timeout: float = DEFAULT_CONNECT_TIMEOUT,
        read_timeout: float = DEFAULT_READ_TIMEOUT,
        page_size: int = DEFAULT_PAGE_SIZE,
    ) -> None:
        check_bucket_name("az", container, what="container")
        if bool(connection_string) == bool(account_url):
            raise ConfigurationError(
                "az:// needs exactly one of connection_string or account_url "
                f"(or {ENV_CONNECTION_STRING} in the environment)"
            )
        check_endpoint("az", "account_url", account_url)
        if max_connections < 1 or page_size < 1:
            raise ConfigurationError("az:// max_connections and page_size must be at least 1")
        self.name = container
        self._connection_string = connection_string
        self._account_url = account_url
        self._credential = credential
        self.max_connections = max_connections
        self.connect_timeout = connect_timeout
        self.read_timeout = read_timeout
        self.page_size = page_size
        self._use_start_from = True
        self._session: aiohttp.ClientSession | None = None
        self._service: BlobServiceClient | None = None
        self._container: ContainerClient | None = None
        self._owned_credential: Any = None

    def __repr__(self) -> str:
        return f"<AzureDriver az://{self.name}>"

    @classmethod
    def from_url(cls, url: BucketURL, **options: Any) -> Self:
        opts = Options("az", url.options, options)
        connection_string = opts.text("connection_string")
        account_url = opts.text("account_url")
        sas_token = opts.text("sas_token")
        credential = opts.raw("credential")
        max_connections = opts.whole("max_connections", DEFAULT_MAX_CONNECTIONS, maximum=10_000)
        page_size = opts.whole("page_size", DEFAULT_PAGE_SIZE, maximum=DEFAULT_PAGE_SIZE)
        connect_timeout = opts.seconds("connect_timeout", DEFAULT_CONNECT_TIMEOUT)
        read_timeout = opts.seconds("read_timeout", DEFAULT_READ_TIMEOUT)
        opts.done()
        if connection_string is None and account_url is None:
            connection_string = os.environ.get(ENV_CONNECTION_STRING) or None
        if connection_string is not None and (sas_token is not None or account_url):
            raise ConfigurationError(
                "az:// takes either connection_string or account_url (+ sas_token), not both"
            )
        if sas_token is not None:
            if credential is not None:
                raise ConfigurationError("az:// takes either sas_token or credential, not both")
            credential = sas_token.lstrip("?")
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
            url.name,
            connection_string=connection_string,
            account_url=account_url,
            credential=credential,
            max_connections=max_connections,
            connect_timeout=connect_timeout,
            read_timeout=read_timeout,
            page_size=page_size,
        )

    # ------------------------------------------------------------------ lifecycle
    async def open(self) -> None:
        """Create the aiohttp pool and the SDK clients (the Bucket calls this once)."""
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
            except ValueError:
                # The SDK's message may quote the string (with its AccountKey): drop it.
                raise ConfigurationError(
                    f"az://{self.name}: the connection string is malformed"
                ) from None
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
        except ValueError:
            raise ConfigurationError(f"az://{self.name}: unusable account_url") from None

    async def close(self) -> None:
        """Close the SDK clients, the aiohttp pool and a credential we created."""
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

    def discard(self) -> None:
        """Forget the clients of an event loop that is gone (they cannot be awaited)."""
        self._service = self._container = None
        self._session = None
        self._owned_credential = None

    async def _close_credential(self) -> None:
        credential, self._owned_credential = self._owned_credential, None
        if credential is not None:
            await credential.close()

    def _blob(self, key: str) -> BlobClient:
        assert self._container is not None, "the Bucket opens the driver first"
        return self._container.get_blob_client(key)

    # ------------------------------------------------------------------ errors
    def translate(self, exc: Exception, request: Request) -> StoreError:
        """azure-core and aiohttp errors; HTTP statuses go through the shared table.

        Messages carry the operation, container, key, status and service error code,
        never the SDK's text (an auth failure's text may echo the string it signed).
        """
        if isinstance(exc, ServiceRequestTimeoutError | ServiceResponseTimeoutError | TimeoutError):
            return timeout_error(request)
        if isinstance(exc, DecodeError):
            # IncompleteReadError (a truncated body) and other unreadable answers.
            return connection_error(request, exc)
        if isinstance(exc, ClientAuthenticationError) and not exc.status_code:
            return request.error(
                PermissionDeniedError,
                f"{request.where}: could not get an Azure credential; {NO_CREDENTIALS['az']}",
            )
        if isinstance(exc, HttpResponseError) and exc.status_code:
            return _status_error(int(exc.status_code), _error_code(exc), request)
        if isinstance(
            exc, ServiceRequestError | ServiceResponseError | aiohttp.ClientError | OSError
        ):
            inner = getattr(exc, "inner_exception", None) or exc
            return connection_error(request, inner)
        return request.error(StoreError, f"{request.where}: {type(exc).__name__}")

    # ------------------------------------------------------------------ requests
    async def put(
        self,
        key: str,
        data: bytes,
        *,
        mode: PutMode,
        content_type: str,
        metadata: Mapping[str, str],
    ) -> Version:
        blob = self._blob(key)
        options: dict[str, Any] = {
            "blob_type": BlobType.BLOCKBLOB,
            "length": len(data),
            "metadata": dict(metadata),
            "content_settings": ContentSettings(content_type=content_type),
        }
        if mode == "create":
            options["overwrite"] = False  # If-None-Match: * (never etag='*' + IfMissing)
        elif isinstance(mode, IfMatch):
            if not mode.version.etag:
                raise InvalidInputError(
                    f"{key!r}: IfMatch needs a Version with an ETag "
                    "(that one came from another backend)",
                    bucket=self.name,
                    key=key,
                )
            # overwrite=True: otherwise the SDK rewrites a 412 into "BlobAlreadyExists".
            options.update(
                overwrite=True,
                etag=_quoted(mode.version.etag),
                match_condition=MatchConditions.IfNotModified,
            )
        else:
            options["overwrite"] = True
        # A 412 to If-Match may mean the blob is gone: the Bucket HEADs it to tell.
        response = await blob.upload_blob(data, **options)
        return Version(etag=_quoted(response["etag"]))

    async def get(self, key: str) -> StoredObject:
        downloader = await self._blob(key).download_blob()
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

    async def head(self, key: str) -> ObjectInfo:
        props = await self._blob(key).get_blob_properties()
        return _info(props, key)

    async def delete(self, key: str) -> None:
        await self._blob(key).delete_blob()

    async def list_page(
        self, prefix: str, start_after: str | None, token: str | None, limit: int | None = None
    ) -> ListPage:
        assert self._container is not None, "the Bucket opens the driver first"
        options: dict[str, Any] = {
            "name_starts_with": prefix or None,
            "include": ["metadata"],
            "results_per_page": self.page_size,
        }
        # Azure has no exclusive start-after; ``start_from`` (inclusive, recent service
        # versions and SDKs) skips ahead on the first page. A service that refuses it (400)
        # or an older SDK that does not know it (TypeError) gets plain listings from then on
        # (that page costs one more request, which the Bucket does not count).
        use_start_from = token is None and start_after is not None and self._use_start_from
        if use_start_from:
            options["start_from"] = start_after
        if limit is not None:  # one more when start_from (inclusive) may return start_after
            want = limit + 1 if start_after is not None else limit
            options["results_per_page"] = max(1, min(want, self.page_size))
        try:
            pages: Any = self._container.list_blobs(**options).by_page(continuation_token=token)
            page = await pages.__anext__()
            items = [props async for props in page]
        except (HttpResponseError, TypeError) as exc:
            if not use_start_from or getattr(exc, "status_code", 400) != 400:
                raise
            self._use_start_from = False
            return await self.list_page(prefix, start_after, token, limit)
        infos = [
            _info(props, props.name)
            for props in items
            if start_after is None or props.name > start_after
        ]
        return infos, (pages.continuation_token or None)


# ---------------------------------------------------------------------- helpers
def _error_code(exc: HttpResponseError) -> str:
    raw_code = getattr(exc, "error_code", None) or ""
    return str(getattr(raw_code, "value", raw_code))  # a StorageErrorCode enum, or str


def _status_error(status: int, code: str, request: Request) -> StoreError:
    """Azure's own service codes, then the shared status table."""
    answer = f"({status} {code})".replace(" )", ")")
    if status == 404 and code == "ContainerNotFound":
        return request.error(
            ConfigurationError, f"container {request.bucket!r} does not exist {answer}"
        )
    if status == 409 and code == "BlobAlreadyExists":
        return request.error(
            AlreadyExistsError, f"{request.key!r} already exists in az://{request.bucket}"
        )
    if status == 409 and code not in ("", "BlobAlreadyExists") and request.mode == "create":
        return request.error(ConflictError, f"{request.where}: conflict {answer}")
    if code == "OperationTimedOut":
        return request.error(StoreTimeoutError, f"{request.where}: timed out {answer}")
    if code == "ServerBusy":
        return request.error(ThrottledError, f"{request.where}: server busy {answer}")
    if status == 503 and code not in ("", "ServerBusy"):
        return request.error(BackendUnavailableError, f"{request.where}: unavailable {answer}")
    return error_for_status(status, code, request)


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
