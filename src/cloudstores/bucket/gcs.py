"""``gs://bucket[/prefix]``: Google Cloud Storage through google-cloud-storage.

URL options: ``endpoint_url`` (an emulator such as fake-gcs-server: anonymous
credentials), ``project``, ``threads`` (size of the thread pool, default 16),
``page_size`` (objects per LIST request, at most and by default 1,000). Without
``endpoint_url`` the SDK honours ``STORAGE_EMULATOR_HOST``, else it uses the
google.auth default credentials.

google-cloud-storage is synchronous: every call runs in a bounded
``ThreadPoolExecutor`` (``threads`` workers), and the requests session's connection
pool is enlarged to ``threads`` connections (a fresh ``HTTPAdapter`` mounted on the
session the client creates), so workers never queue for, or discard, a connection.

Choices worth knowing:

* Compare-and-swap uses the object **generation** (``ifGenerationMatch``), carried as a
  decimal string in ``Version.version``; the ETag is informative only.
* Every write is ONE multipart upload (``uploadType=multipart``), whatever its size:
  the driver calls ``Blob._do_multipart_upload`` itself, because the public
  ``upload_from_*`` methods switch to a resumable upload above 8 MiB
  (``_MAX_MULTIPART_SIZE``), and fake-gcs-server ignores preconditions on resumable
  uploads. A multipart request holds the whole body in memory (about twice its size);
  the objects this library writes are small JSON documents.
* The SDK's own retries are off on every call (``retry=None``), and so are urllib3's
  (``Retry(total=0, read=False)`` on the session's adapter): the ``Bucket`` retries
  transient errors and reconciles ambiguous conditional writes; nothing re-sends a
  request it cannot see.
* ``get`` is ONE media download. GCS answers it with the object's generation, ETag,
  content type and ``x-goog-meta-*`` user metadata as response headers; the driver
  reads them from the response (the SDK keeps only some of them). Header names are
  case-insensitive, so metadata keys come back lower-cased (this library only writes
  lower-case keys). Should a server omit ``x-goog-generation``, the driver falls back
  to a metadata GET plus a download pinned to that generation (two requests).
"""

from __future__ import annotations

import asyncio
import email.utils
import http.client
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from functools import partial
from io import BytesIO
from typing import Any, Self, TypeVar

from cloudstores.bucket.credentials import NO_CREDENTIALS
from cloudstores.bucket.driver import ListPage
from cloudstores.bucket.errors import Request, connection_error, error_for_status, timeout_error
from cloudstores.bucket.options import Options, check_bucket_name, check_endpoint
from cloudstores.bucket.types import IfMatch, ObjectInfo, PutMode, StoredObject, Version
from cloudstores.bucket.url import BucketURL
from cloudstores.errors import (
    BackendUnavailableError,
    ConfigurationError,
    InvalidInputError,
    PermissionDeniedError,
    StoreError,
)

__all__ = ["GCSDriver"]

T = TypeVar("T")
DEFAULT_THREADS = 16
PAGE_SIZE = 1000
SDK_TIMEOUT = 60.0
_META_PREFIX = "x-goog-meta-"


def _import_sdk() -> Any:
    """Import google-cloud-storage on first use (``import cloudstores`` never does)."""
    try:
        from google.cloud import storage
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ConfigurationError(
            "gs:// buckets need google-cloud-storage: pip install 'cloudstores[gcs]'"
        ) from exc
    return storage


class GCSDriver:
    """Objects in one Google Cloud Storage bucket."""

    scheme = "gs"
    loop_bound = False
    """Requests run on its own thread pool: the client serves any event loop."""

    def __init__(
        self,
        name: str,
        *,
        endpoint_url: str | None = None,
        project: str | None = None,
        threads: int = DEFAULT_THREADS,
        timeout: float = SDK_TIMEOUT,
        page_size: int = PAGE_SIZE,
    ) -> None:
        check_bucket_name("gs", name)
        if threads < 1:
            raise ConfigurationError("gs:// option threads must be at least 1")
        if not 1 <= page_size <= PAGE_SIZE:
            raise ConfigurationError(f"gs:// page_size must be 1 to {PAGE_SIZE}")
        check_endpoint("gs", "endpoint_url", endpoint_url)
        self.name = name
        self.endpoint_url = endpoint_url.rstrip("/") if endpoint_url else None
        self.project = project
        self.threads = threads
        self.page_size = page_size
        self._timeout = timeout
        self._pool: ThreadPoolExecutor | None = None
        self._client: Any = None
        self._bucket: Any = None

    @classmethod
    def from_url(cls, url: BucketURL, **options: Any) -> Self:
        opts = Options("gs", url.options, options)
        driver = cls(
            url.name,
            endpoint_url=opts.text("endpoint_url"),
            project=opts.text("project"),
            threads=opts.whole("threads", DEFAULT_THREADS, maximum=1024),
            timeout=opts.seconds("timeout", SDK_TIMEOUT),
            page_size=opts.whole("page_size", PAGE_SIZE, maximum=PAGE_SIZE),
        )
        opts.done()
        return driver

    # ------------------------------------------------------------------ lifecycle
    async def open(self) -> None:
        """Start the thread pool and build the client (credentials may do I/O)."""
        pool = ThreadPoolExecutor(self.threads, thread_name_prefix="cloudstores-gcs")
        try:
            client = await asyncio.get_running_loop().run_in_executor(pool, self._make_client)
        except BaseException:
            pool.shutdown(wait=False)
            raise
        self._pool, self._client, self._bucket = pool, client, client.bucket(self.name)

    async def close(self) -> None:
        """Close the client's HTTP session and shut the thread pool down."""
        client, pool = self._client, self._pool
        self._client = self._bucket = self._pool = None
        if pool is not None:
            pool.shutdown(wait=True)
        if client is not None:
            client.close()

    def _make_client(self) -> Any:
        storage = _import_sdk()
        if self.endpoint_url:
            from google.auth import credentials as gcreds

            anonymous: Any = gcreds.AnonymousCredentials
            client = storage.Client(
                project=self.project,
                credentials=anonymous(),
                client_options={"api_endpoint": self.endpoint_url},
                use_auth_w_custom_endpoint=False,
            )
        else:
            # STORAGE_EMULATOR_HOST, if set, is honoured by the SDK itself.
            client = storage.Client(project=self.project)
        _widen_connection_pool(client._http, self.threads)
        return client

    async def _run(self, fn: Callable[[], T]) -> T:
        assert self._pool is not None, "the Bucket opens the driver first"
        return await asyncio.get_running_loop().run_in_executor(self._pool, fn)

    # ------------------------------------------------------------------ errors
    def translate(self, exc: Exception, request: Request) -> StoreError:
        """google-api-core, media and transport errors; statuses via the shared table."""
        from google.api_core import exceptions as gexc

        status = 0
        if isinstance(exc, gexc.GoogleAPICallError):
            status = int(exc.code) if isinstance(exc.code, int) else 0
        elif isinstance(exc, _sdk_exception("InvalidResponse")):
            status = int(getattr(getattr(exc, "response", None), "status_code", 0) or 0)
        if status:
            if status == 404 and request.op in ("put", "list", "open"):
                return request.error(
                    ConfigurationError, f"bucket gs://{self.name} does not exist (404)"
                )
            return error_for_status(status, "", request)
        return _transport_error(exc, request, self.name)

    # ------------------------------------------------------------------ conversions
    def _info(self, blob: Any) -> ObjectInfo:
        return ObjectInfo(
            key=blob.name,
            size=int(blob.size or 0),
            version=_version(blob.etag, blob.generation),
            last_modified=blob.updated,
            content_type=blob.content_type,
            metadata=dict(blob.metadata or {}),
        )

    # ------------------------------------------------------------------ sync calls
    def _put_sync(
        self,
        key: str,
        data: bytes,
        match: int | None,
        content_type: str,
        metadata: Mapping[str, str],
    ) -> Version:
        blob = self._bucket.blob(key)
        blob.content_type = content_type
        blob.metadata = dict(metadata)
        response = blob._do_multipart_upload(
            self._client,
            BytesIO(data),
            content_type,
            len(data),
            predefined_acl=None,
            if_generation_match=match,
            if_generation_not_match=None,
            if_metageneration_match=None,
            if_metageneration_not_match=None,
            timeout=self._timeout,
            retry=None,
        )
        blob._set_properties(response.json())
        return _version(blob.etag, blob.generation)

    def _get_sync(self, key: str) -> StoredObject | None:
        """One media download; None if the server sent no ``x-goog-generation``."""
        blob = self._bucket.blob(key)
        captured: list[Mapping[str, str]] = []
        extract = blob._extract_headers_from_download

        def keep_headers(response: Any) -> None:
            extract(response)
            captured.append(response.headers)

        blob._extract_headers_from_download = keep_headers
        data = blob.download_as_bytes(timeout=self._timeout, retry=None)
        headers = captured[-1] if captured else {}
        generation = _int(headers.get("x-goog-generation"))
        if generation is None:
            return None
        metadata = {
            name.lower()[len(_META_PREFIX) :]: value
            for name, value in headers.items()
            if name.lower().startswith(_META_PREFIX)
        }
        return StoredObject(
            key=key,
            data=data,
            version=_version(headers.get("etag"), generation),
            last_modified=_http_date(headers.get("last-modified")),
            content_type=headers.get("content-type"),
            metadata=metadata,
        )

    def _get_pinned_sync(self, key: str, info: ObjectInfo) -> StoredObject:
        """Download the generation ``info`` describes (fallback of ``get``)."""
        blob = self._bucket.blob(key)
        try:
            data = blob.download_as_bytes(
                if_generation_match=_int(info.version.version), timeout=self._timeout, retry=None
            )
        except Exception as exc:
            if getattr(exc, "code", None) == 412:
                raise BackendUnavailableError(
                    f"{key!r} in gs://{self.name} changed while it was read",
                    bucket=self.name,
                    key=key,
                ) from exc
            raise
        return StoredObject(
            key=key,
            data=data,
            version=info.version,
            last_modified=info.last_modified,
            content_type=info.content_type,
            metadata=info.metadata,
        )

    def _head_sync(self, key: str) -> ObjectInfo:
        blob = self._bucket.blob(key)
        blob.reload(timeout=self._timeout, retry=None)
        return self._info(blob)

    def _delete_sync(self, key: str) -> None:
        self._bucket.blob(key).delete(timeout=self._timeout, retry=None)

    def _list_sync(
        self, prefix: str, start_after: str | None, token: str | None, limit: int | None = None
    ) -> ListPage:
        size = self.page_size
        if limit is not None:  # start_offset is inclusive: one more, start_after itself
            size = max(1, min(limit + (start_after is not None), self.page_size))
        iterator = self._client.list_blobs(
            self._bucket,
            prefix=prefix or None,
            start_offset=start_after,
            page_token=token,
            page_size=size,
            timeout=self._timeout,
            retry=None,
        )
        page = next(iterator.pages, None)
        blobs = list(page) if page is not None else []
        next_token = iterator.next_page_token
        items = [
            self._info(blob)
            for blob in blobs
            if start_after is None or blob.name > start_after  # start_offset is inclusive
        ]
        return items, next_token or None

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
        match: int | None = None
        if mode == "create":
            match = 0
        elif isinstance(mode, IfMatch):
            match = _int(mode.version.version)
            if match is None:
                raise InvalidInputError(
                    f"IfMatch({mode.version}) has no GCS generation: that version came from "
                    "another backend",
                    bucket=self.name,
                    key=key,
                )
        # GCS answers 412, not 404, when the object of a CAS is gone: the Bucket HEADs it.
        return await self._run(partial(self._put_sync, key, data, match, content_type, metadata))

    async def get(self, key: str) -> StoredObject:
        obj = await self._run(partial(self._get_sync, key))
        if obj is not None:
            return obj
        # The server sent no generation header: GET metadata, then download that
        # generation (two requests on this fallback path, counted as one get).
        info = await self._run(partial(self._head_sync, key))
        return await self._run(partial(self._get_pinned_sync, key, info))

    async def head(self, key: str) -> ObjectInfo:
        return await self._run(partial(self._head_sync, key))

    async def delete(self, key: str) -> None:
        await self._run(partial(self._delete_sync, key))

    async def list_page(
        self, prefix: str, start_after: str | None, token: str | None, limit: int | None = None
    ) -> ListPage:
        return await self._run(partial(self._list_sync, prefix, start_after, token, limit))


def _transport_error(exc: Exception, request: Request, bucket: str) -> StoreError:
    """requests / urllib3 / google-auth errors: timeouts, credentials, connections."""
    import requests
    import urllib3.exceptions
    from google.auth import exceptions as auth_exc

    if isinstance(exc, requests.Timeout | urllib3.exceptions.TimeoutError | TimeoutError):
        return timeout_error(request)
    if isinstance(exc, auth_exc.DefaultCredentialsError):
        return request.error(
            ConfigurationError,
            f"no Google credentials found for gs://{bucket}; {NO_CREDENTIALS['gs']}",
        )
    if isinstance(exc, auth_exc.RefreshError):
        return request.error(
            PermissionDeniedError, f"Google credentials for gs://{bucket} were refused"
        )
    if isinstance(
        exc,
        auth_exc.TransportError
        | requests.RequestException
        | urllib3.exceptions.HTTPError
        | http.client.HTTPException
        | OSError,
    ):
        # Every connection-level failure is transient and ambiguous: the request may
        # have been applied, so conditional puts reconcile by put-id.
        return connection_error(request, exc)
    if isinstance(exc, _sdk_exception("DataCorruption")):
        return request.error(
            BackendUnavailableError, f"{request.where}: checksum mismatch in transit"
        )
    return request.error(StoreError, f"{request.where}: {type(exc).__name__}")


def _version(etag: str | None, generation: Any) -> Version:
    number = _int(generation)
    return Version(
        etag=_clean_etag(etag) or None, version=str(number) if number is not None else None
    )


def _widen_connection_pool(session: Any, size: int) -> None:
    """Give the requests session a pool of ``size`` connections per host (default: 10)."""
    from requests.adapters import HTTPAdapter

    if getattr(session, "is_mtls", False) or not hasattr(session, "mount"):
        return  # keep the mTLS adapter as configured by google-auth
    from urllib3.util.retry import Retry

    size = max(size, 10)
    # No retries below the Bucket: urllib3 must not re-send a request on a dropped
    # connection (total=0), nor retry a read (read=False) or follow a redirect.
    no_resend = Retry(total=0, connect=0, read=False, redirect=False, status=0)
    adapter = HTTPAdapter(pool_connections=10, pool_maxsize=size, max_retries=no_resend)
    session.mount("https://", adapter)
    session.mount("http://", adapter)


def _sdk_exception(name: str) -> type[Exception]:
    """An exception class of the media layer (moved into google.cloud.storage in 3.0)."""
    try:
        from google.cloud.storage import exceptions as media_exc
    except ImportError:  # google-cloud-storage < 3
        from google import resumable_media as media_exc
    cls: type[Exception] = getattr(media_exc, name)
    return cls


def _clean_etag(etag: str | None) -> str:
    """The ETag without quotes or weak marker (headers quote it, the JSON API does not)."""
    if not etag:
        return ""
    if etag.startswith("W/"):
        etag = etag[2:]
    return etag.strip('"')


def _int(value: Any) -> int | None:
    if value is None or value == "":
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _http_date(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        return email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
