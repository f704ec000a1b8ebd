"""Raw obstore baseline: the same requests the obstore engine sends, nothing around them.

The store is configured exactly as the engine configures it (same URL options,
``conditional_put="etag"``, retries off, same timeouts), so a comparison measures the
cloudstores layer, not a different client setup. Keys are relative to the URL's prefix.
"""

from __future__ import annotations

from typing import Any

import obstore

from cloudstores.bucket._obstore_stores import store_spec
from cloudstores.bucket.url import BucketURL

__all__ = ["RawObstore"]


class RawObstore:
    """Create-only put and get of whole objects straight through obstore."""

    def __init__(self, url: str) -> None:
        self._spec = store_spec(BucketURL(url))
        self.prefix = self._spec.prefix
        self._store: Any = None

    async def open(self) -> None:
        self._store = self._spec.build()

    def _key(self, key: str) -> str:
        return f"{self.prefix}/{key}" if self.prefix else key

    async def put(self, key: str, data: bytes, *, metadata: dict[str, str] | None = None) -> None:
        attributes = {"Content-Type": "application/octet-stream", **(metadata or {})}
        await obstore.put_async(
            self._store,
            self._key(key),
            data,
            mode="create",
            attributes=attributes,
            use_multipart=False,
        )

    async def get(self, key: str) -> bytes:
        result = await obstore.get_async(self._store, self._key(key))
        return bytes(await result.bytes_async())

    async def close(self) -> None:
        self._store = None
