"""The async ``Bucket`` interface and what every driver shares.

Public methods (``put``, ``get``, ``head``, ``list``, ``delete``) validate their
arguments, join the URL prefix, cap requests in flight, retry transient failures with
backoff and reconcile ambiguous conditional writes. A driver implements only the
single-request primitives (``_put``, ``_get``, ``_head``, ``_list_page``, ``_delete``),
each raising errors from :mod:`cloudstores.errors`.
"""

from __future__ import annotations

import asyncio
import re
import time
import uuid
from abc import ABC, abstractmethod
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import replace
from typing import Any, Self, TypeVar

from cloudstores._resource import AsyncResource
from cloudstores.bucket.types import IfMatch, ObjectInfo, PutMode, StoredObject, Version
from cloudstores.bucket.url import BucketURL
from cloudstores.errors import (
    ConflictError,
    InvalidInputError,
    InvalidKeyError,
    NotFoundError,
    PayloadTooLargeError,
    StoreTimeoutError,
    TransientError,
)
from cloudstores.keys import MAX_KEY_BYTES, validate_key, validate_prefix
from cloudstores.retry import RetryConfig

__all__ = ["PUT_ID_KEY", "Bucket", "ListPage"]

T = TypeVar("T")

PUT_ID_KEY = "cloudstores_put_id"
"""Metadata key carrying the unique id of a conditional put (see ``Bucket.put``)."""

ListPage = tuple[list[ObjectInfo], str | None]
"""One page of a listing: the objects, and the token for the next page (None: last)."""

DEFAULT_CONTENT_TYPE = "application/octet-stream"
MAX_OBJECT_BYTES = 5 * 1024**3
_METADATA_KEY = re.compile(r"[a-z][a-z0-9_]{0,62}")


class Bucket(AsyncResource, ABC):
    """An async bucket of immutable-by-default objects, under one key prefix.

    Open it with :func:`cloudstores.open_bucket` and use it as an async context
    manager. Keys are relative to the URL's prefix. Every method is safe to call from
    many tasks at once.
    """

    scheme: str = ""

    def __init__(
        self,
        *,
        name: str,
        prefix: str = "",
        retry: RetryConfig | None = None,
        max_in_flight: int | None = None,
    ) -> None:
        self.name = name
        self.prefix = prefix.strip("/")
        self.retry = retry or RetryConfig()
        self._limit = asyncio.Semaphore(max_in_flight) if max_in_flight else None
        self.max_in_flight = max_in_flight
        self.requests: Counter[str] = Counter()
        """Requests sent, by operation (``put``, ``get``, ``head``, ``list``, ``delete``),
        retries included. Tests assert on these; they cost nothing to keep."""

    @classmethod
    def from_url(
        cls, url: BucketURL, *, retry: RetryConfig | None, max_in_flight: int | None
    ) -> Self:
        """Build the driver from a parsed URL (see :func:`cloudstores.open_bucket`)."""
        raise NotImplementedError(f"{cls.__name__} cannot be opened by URL")

    # ------------------------------------------------------------------ lifecycle
    async def open(self) -> None:
        """Create clients and connection pools. Called by ``async with``."""

    async def close(self) -> None:
        """Release clients and connection pools. Called by ``async with``."""

    @property
    def url(self) -> str:
        """The bucket's address, without credentials."""
        return f"{self.scheme}://{self.name}/{self.prefix}".rstrip("/")

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.url}>"

    # ------------------------------------------------------------------ public API
    async def put(
        self,
        key: str,
        data: bytes,
        *,
        mode: PutMode = "create",
        content_type: str | None = None,
        metadata: Mapping[str, str] | None = None,
    ) -> Version:
        """Write ``data`` at ``key`` and return the new version.

        Args:
            mode: ``"create"`` (default) writes only if the key is free, else raises
                AlreadyExistsError. ``IfMatch(version)`` writes only if the object is
                still at ``version``, else raises PreconditionFailedError (NotFoundError
                if it is gone). ``"overwrite"`` writes unconditionally.
            content_type: MIME type stored with the object.
            metadata: user metadata; keys match ``[a-z][a-z0-9_]*`` (portable across
                S3's lower-casing and Azure's identifier rule), values are ASCII.

        A conditional put carries a unique put-id in its metadata. Every conflict on a
        conditional put is treated as possibly our own: an attempt may have failed
        ambiguously (timeout, reset, 5xx), or the HTTP client may have re-sent the
        request on a reused connection without telling us. So the object is read back:
        if it carries our put-id, our write landed and this call returns its version
        rather than a false conflict. An ``IfMatch`` conflict whose object is gone is
        NotFoundError.
        """
        full = self._full_key(key)
        data = _check_body(data, key=full)
        if not (mode in ("create", "overwrite") or isinstance(mode, IfMatch)):
            raise InvalidInputError(f"unknown put mode {mode!r}", key=full)
        meta = _check_metadata(metadata, key=full)
        put_id = uuid.uuid4().hex
        meta[PUT_ID_KEY] = put_id
        ctype = content_type or DEFAULT_CONTENT_TYPE

        async def attempt() -> Version:
            try:
                return await self._request(
                    "put", self._put(full, data, mode=mode, content_type=ctype, metadata=meta)
                )
            except ConflictError as conflict:
                if mode == "overwrite":
                    raise
                return await self._reconcile(full, put_id, mode, conflict)

        return await self._with_retries(attempt, key=full)

    async def get(self, key: str) -> StoredObject:
        """Read an object with its body. Raises NotFoundError if it does not exist."""
        full = self._full_key(key)
        obj = await self._with_retries(lambda: self._request("get", self._get(full)), key=full)
        return replace(obj, key=key, metadata=_public(obj.metadata))

    async def head(self, key: str) -> ObjectInfo:
        """Read an object's description. Raises NotFoundError if it does not exist."""
        full = self._full_key(key)
        info = await self._with_retries(lambda: self._request("head", self._head(full)), key=full)
        return replace(info, key=key, metadata=_public(info.metadata))

    async def delete(self, key: str) -> None:
        """Delete an object. Raises NotFoundError if it does not exist."""
        full = self._full_key(key)
        await self._with_retries(lambda: self._request("delete", self._delete(full)), key=full)

    async def list(
        self, prefix: str = "", *, start_after: str | None = None
    ) -> AsyncIterator[ObjectInfo]:
        """Yield every object whose key starts with ``prefix``, in lexicographic order.

        ``start_after`` (exclusive) skips keys up to and including it. Pagination is
        hidden; each page is fetched (and retried) as it is needed.
        """
        validate_prefix(prefix)
        if start_after is not None:
            validate_key(start_after)
        base = f"{self.prefix}/" if self.prefix else ""
        full_prefix = base + prefix
        full_start = base + start_after if start_after is not None else None
        token: str | None = None
        while True:

            def page(tok: str | None = token) -> Awaitable[ListPage]:
                return self._request("list", self._list_page(full_prefix, full_start, tok))

            items, token = await self._with_retries(page, key=full_prefix)
            for info in items:
                if full_start is not None and info.key <= full_start:
                    continue
                yield replace(info, key=info.key[len(base) :], metadata=_public(info.metadata))
            if token is None:
                return

    # ------------------------------------------------------------------ driver primitives
    @abstractmethod
    async def _put(
        self,
        key: str,
        data: bytes,
        *,
        mode: PutMode,
        content_type: str,
        metadata: Mapping[str, str],
    ) -> Version:
        """One write request. ``key`` is the full key (prefix joined)."""

    @abstractmethod
    async def _get(self, key: str) -> StoredObject:
        """One read request."""

    @abstractmethod
    async def _head(self, key: str) -> ObjectInfo:
        """One metadata request."""

    @abstractmethod
    async def _list_page(self, prefix: str, start_after: str | None, token: str | None) -> ListPage:
        """One listing request: keys under ``prefix``, sorted; full keys in the result.

        Drivers should start after ``start_after`` where the backend can; the caller
        filters anything at or before it, so a backend without that option may ignore it.
        """

    @abstractmethod
    async def _delete(self, key: str) -> None:
        """One delete request."""

    # ------------------------------------------------------------------ shared machinery
    def _full_key(self, key: str) -> str:
        validate_key(key)
        full = f"{self.prefix}/{key}" if self.prefix else key
        if len(full.encode("utf-8")) > MAX_KEY_BYTES:
            raise InvalidKeyError(
                f"key with the bucket prefix is longer than {MAX_KEY_BYTES} bytes",
                bucket=self.name,
                key=key[:64],
            )
        return full

    async def _request(self, op: str, call: Awaitable[T]) -> T:
        """Send one request: count it, hold a slot of ``max_in_flight``, apply the timeout."""
        self.requests[op] += 1
        timeout = self.retry.request_timeout
        if self._limit is None:
            return await _timed(call, timeout, op)
        async with self._limit:
            return await _timed(call, timeout, op)

    async def _with_retries(self, attempt: Callable[[], Awaitable[T]], *, key: str) -> T:
        cfg = self.retry
        started = time.monotonic()
        backoff: float | None = None
        for number in range(1, cfg.max_attempts + 1):
            try:
                return await attempt()
            except TransientError as exc:
                if exc.bucket is None:
                    exc.bucket = self.name
                if exc.key is None:
                    exc.key = key
                backoff = cfg.next_backoff(backoff)
                spent = time.monotonic() - started
                if number == cfg.max_attempts or spent + backoff > cfg.deadline:
                    raise
                await asyncio.sleep(backoff)
        raise AssertionError("unreachable")  # pragma: no cover

    async def _reconcile(
        self, key: str, put_id: str, mode: PutMode, conflict: ConflictError
    ) -> Version:
        """Decide a conflict on a conditional put: ours (success), gone, or real.

        Our own write may be what we conflict with: an earlier attempt that failed
        ambiguously, or a re-send the HTTP client made by itself. A HEAD tells: the
        object carries our put-id (return its version), is gone (IfMatch: NotFoundError),
        or is another writer's (re-raise the conflict).
        """
        try:
            info = await self._with_retries(lambda: self._request("head", self._head(key)), key=key)
        except NotFoundError:
            if isinstance(mode, IfMatch):
                raise NotFoundError(
                    f"{key!r} does not exist in {self.url}", bucket=self.name, key=key
                ) from conflict
            raise conflict from None
        if info.metadata.get(PUT_ID_KEY) == put_id:
            return info.version
        raise conflict


async def _timed(call: Awaitable[T], limit: float | None, op: str) -> T:
    if limit is None:
        return await call
    try:
        async with asyncio.timeout(limit):
            return await call
    except TimeoutError as exc:
        if isinstance(exc, StoreTimeoutError):
            raise
        raise StoreTimeoutError(f"{op} took longer than {limit} s") from exc


def _check_body(data: Any, *, key: str) -> bytes:
    if isinstance(data, bytearray | memoryview):
        data = bytes(data)
    if not isinstance(data, bytes):
        raise InvalidInputError(f"object body must be bytes, not {type(data).__name__}", key=key)
    if len(data) > MAX_OBJECT_BYTES:
        raise PayloadTooLargeError(f"object body is over {MAX_OBJECT_BYTES} bytes", key=key)
    return data


def _check_metadata(metadata: Mapping[str, str] | None, *, key: str) -> dict[str, str]:
    meta = dict(metadata or {})
    for name, value in meta.items():
        if not isinstance(name, str) or not _METADATA_KEY.fullmatch(name) or name == PUT_ID_KEY:
            raise InvalidInputError(
                f"metadata key {name!r} must match [a-z][a-z0-9_]* and not be reserved", key=key
            )
        if not isinstance(value, str) or not value.isascii() or len(value) > 1024:
            raise InvalidInputError(
                f"metadata value for {name!r} must be ASCII text up to 1,024 chars", key=key
            )
    if sum(len(n) + len(v) for n, v in meta.items()) > 1800:
        raise InvalidInputError("metadata is over 1,800 bytes (S3 allows 2 KiB)", key=key)
    return meta


def _public(metadata: Mapping[str, str]) -> dict[str, str]:
    return {k: v for k, v in metadata.items() if k != PUT_ID_KEY}
