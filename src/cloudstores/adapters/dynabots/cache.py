"""``BucketCacheStore``: DynaBots' ``CacheStore`` on a document collection."""

from __future__ import annotations

import math
from datetime import timedelta
from typing import Any

from cloudstores.adapters.dynabots._base import StoresAdapter, check_name
from cloudstores.errors import InvalidInputError
from cloudstores.stores.documents import DocumentStore
from cloudstores.stores.workspace import Stores

__all__ = ["BucketCacheStore"]

DEFAULT_COLLECTION = "dynabots-cache"
DEFAULT_TTL_SECONDS = 3600.0


class BucketCacheStore(StoresAdapter):
    """Cached values as documents of one collection, key = document id.

    Each ``set`` writes a version that expires ``ttl_seconds`` later (the document
    store's ``expires_at``): from then on ``get`` answers None, as after ``delete``.
    Nothing is ever overwritten or removed (a delete is a tombstone version), so the
    collection grows with every ``set``; give the bucket a lifecycle rule on the
    collection's prefix, or use another cache, where that matters.

    Args:
        stores: the stores to borrow (see :func:`cloudstores.open_stores`).
        ttl_seconds: seconds a value lives (default 3600, as the reference memory and
            Redis caches); None: values never expire.
        collection: the document collection (default ``dynabots-cache``).
    """

    def __init__(
        self,
        stores: Stores,
        *,
        ttl_seconds: float | None = DEFAULT_TTL_SECONDS,
        collection: str = DEFAULT_COLLECTION,
    ) -> None:
        super().__init__(stores)
        if ttl_seconds is not None and (
            not isinstance(ttl_seconds, int | float)
            or isinstance(ttl_seconds, bool)
            or not math.isfinite(ttl_seconds)
            or ttl_seconds <= 0
        ):
            raise InvalidInputError(f"ttl_seconds must be > 0 or None, not {ttl_seconds!r}")
        self.ttl = None if ttl_seconds is None else timedelta(seconds=ttl_seconds)
        self.collection = collection
        self._docs()  # a bad name fails here, before any request

    def _docs(self) -> DocumentStore:
        return self.stores.documents(self.collection)

    async def get(self, key: str) -> dict[str, Any] | None:
        """The value set last under ``key`` (a fresh copy), or None if it was never set,
        was deleted or has expired. Cost: one LIST, and one GET unless cached."""
        check_name(key, what="key")
        document = await self._docs().get_or_none(key)
        return None if document is None else document.value

    async def set(self, key: str, value: dict[str, Any]) -> bool:
        """Store ``value`` (JSON that comes back as itself) under ``key`` for
        ``ttl_seconds``. Cost: one PUT when this store wrote the key last, else one LIST
        and one GET more; plus the index entry (one PUT, shared with concurrent writes)."""
        check_name(key, what="key")
        await self._docs().put(key, value, expires_at=self.ttl)
        return True

    async def delete(self, key: str) -> bool:
        """Forget ``key``; True whether or not it was set (as the reference caches).
        Cost: one LIST (and one GET unless cached), and one PUT of a tombstone if the
        value was live."""
        check_name(key, what="key")
        await self._docs().delete(key)
        return True
