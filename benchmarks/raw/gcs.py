"""Raw google-cloud-storage baseline for the benchmark, shaped like the gs:// driver.

It runs the synchronous SDK in the same kind of bounded thread pool (``threads``
workers, default 16) with the same widened connection pool, and writes the same way
(one multipart upload, ``ifGenerationMatch=0``, no SDK retries), so the benchmark
measures what the cloudstores layer costs on top of the SDK, not a different
transport. Keys are relative to the URL's prefix.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from io import BytesIO
from typing import Any, TypeVar
from urllib.parse import parse_qs, unquote, urlsplit

T = TypeVar("T")

DEFAULT_THREADS = 16
TIMEOUT = 60.0


class RawGCS:
    """put/get straight through google-cloud-storage, off the event loop."""

    def __init__(self, url: str) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("gs", "gcs"):
            raise ValueError(f"not a gs:// URL: {url!r}")
        options = {k: v[-1] for k, v in parse_qs(parts.query).items()}
        self.bucket_name = unquote(parts.netloc)
        self.prefix = unquote(parts.path).strip("/")
        self.endpoint_url = options.get("endpoint_url") or None
        self.project = options.get("project") or None
        self.threads = int(options.get("threads") or DEFAULT_THREADS)
        self._pool: ThreadPoolExecutor | None = None
        self._client: Any = None
        self._bucket: Any = None

    def _key(self, key: str) -> str:
        return f"{self.prefix}/{key}" if self.prefix else key

    async def open(self) -> None:
        """Start the thread pool and build the client in it."""
        self._pool = ThreadPoolExecutor(self.threads, thread_name_prefix="raw-gcs")
        self._client = await self._run(self._make_client)
        self._bucket = self._client.bucket(self.bucket_name)

    def _make_client(self) -> Any:
        from google.auth.credentials import AnonymousCredentials
        from google.cloud import storage
        from requests.adapters import HTTPAdapter

        if self.endpoint_url:
            client = storage.Client(
                project=self.project,
                credentials=AnonymousCredentials(),
                client_options={"api_endpoint": self.endpoint_url},
                use_auth_w_custom_endpoint=False,
            )
        else:
            client = storage.Client(project=self.project)
        session = client._http
        if not getattr(session, "is_mtls", False):
            adapter = HTTPAdapter(pool_connections=10, pool_maxsize=max(self.threads, 10))
            session.mount("https://", adapter)
            session.mount("http://", adapter)
        return client

    async def _run(self, fn: Callable[[], T]) -> T:
        return await asyncio.get_running_loop().run_in_executor(self._pool, fn)

    async def put(self, key: str, data: bytes, *, metadata: dict[str, str] | None = None) -> None:
        """Create-only write: one multipart upload with ifGenerationMatch=0."""

        def upload() -> None:
            blob = self._bucket.blob(self._key(key))
            blob.content_type = "application/octet-stream"
            if metadata:
                blob.metadata = metadata
            response = blob._do_multipart_upload(
                self._client,
                BytesIO(data),
                "application/octet-stream",
                len(data),
                predefined_acl=None,
                if_generation_match=0,
                if_generation_not_match=None,
                if_metageneration_match=None,
                if_metageneration_not_match=None,
                timeout=TIMEOUT,
                retry=None,
            )
            blob._set_properties(response.json())

        await self._run(upload)

    async def get(self, key: str) -> bytes:
        """One media download."""
        blob = self._bucket.blob(self._key(key))
        data: bytes = await self._run(lambda: blob.download_as_bytes(timeout=TIMEOUT, retry=None))
        return data

    async def close(self) -> None:
        """Shut the pool down and close the HTTP session."""
        if self._pool is not None:
            self._pool.shutdown(wait=True)
            self._pool = None
        if self._client is not None:
            self._client.close()
            self._client = None
