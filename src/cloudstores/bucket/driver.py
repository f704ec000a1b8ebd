"""The Driver protocol: one backend's single requests, and its SDK-error hook.

A driver knows one SDK. Each call sends one request (an exception is noted where a
backend needs two to keep the contract) and never retries, counts or validates: the
one concrete :class:`cloudstores.Bucket` does that for every driver. Keys are FULL keys
(the URL prefix already joined). Methods raise cloudstores errors directly or let the
SDK's exceptions out; the Bucket passes anything that is not a ``StoreError`` to
``translate`` (one place).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol, TypeAlias, runtime_checkable

from cloudstores.bucket.errors import Request
from cloudstores.bucket.types import ObjectInfo, PutMode, StoredObject, Version
from cloudstores.errors import StoreError

__all__ = ["Driver", "DriverFactory", "ListPage"]

ListPage: TypeAlias = tuple[list[ObjectInfo], str | None]
"""One page of a listing: the objects (sorted by key), and the next token (None: last)."""


@runtime_checkable
class Driver(Protocol):
    """What the Bucket needs from a backend. See docs/bucket.md, "Drivers"."""

    scheme: str
    """The URL scheme it was opened with: memory, file, s3, az, gs."""
    name: str
    """The bucket, container or root directory (messages and ``Bucket.url``)."""

    async def open(self) -> None:
        """Create clients and pools. The Bucket calls it once, under its lock."""

    async def close(self) -> None:
        """Release clients and pools."""

    async def put(
        self,
        key: str,
        data: bytes,
        *,
        mode: PutMode,
        content_type: str,
        metadata: Mapping[str, str],
    ) -> Version:
        """One write. ``create``: only if absent; ``IfMatch``: only at that version."""

    async def get(self, key: str) -> StoredObject:
        """One read, with the user metadata the put stored."""

    async def head(self, key: str) -> ObjectInfo:
        """One metadata read, with the user metadata the put stored."""

    async def list_page(
        self, prefix: str, start_after: str | None, token: str | None, limit: int | None = None
    ) -> ListPage:
        """One listing page under ``prefix``, sorted, starting after ``start_after``
        where the backend can (the Bucket filters anything at or before it). ``limit``
        (a hint; None: the backend's page size) asks for at most that many keys, so
        that a caller who wants the first key does not pay for a full page."""

    async def delete(self, key: str) -> None:
        """One delete; NotFoundError if the object is absent."""

    def translate(self, exc: Exception, request: Request) -> StoreError:
        """The cloudstores error for an SDK exception raised while serving ``request``."""


class DriverFactory(Protocol):
    """A driver class: builds a driver from a parsed URL and keyword options."""

    def from_url(self, url: Any, **options: Any) -> Driver: ...
