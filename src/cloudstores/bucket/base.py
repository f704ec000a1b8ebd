"""The one concrete ``Bucket``: everything every driver shares, written once.

A :class:`~cloudstores.bucket.driver.Driver` sends single requests for one backend.
``Bucket`` owns the rest: it validates keys, bodies and metadata before any request,
joins the URL prefix, opens the driver once (lazily, under a lock, so two racing first
calls build one client), caps requests in flight, applies the per-request timeout,
counts requests, translates SDK errors through the driver's hook (one place), retries
transient failures with backoff, and reconciles conditional writes by put-id.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import time
import uuid
import weakref
from collections import Counter
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import replace
from typing import Any, TypeVar

from cloudstores._resource import AsyncResource
from cloudstores.bucket.driver import Driver, ListPage
from cloudstores.bucket.errors import Request
from cloudstores.bucket.types import IfMatch, ObjectInfo, PutMode, StoredObject, Version
from cloudstores.errors import (
    ConfigurationError,
    ConflictError,
    IntegrityError,
    InvalidInputError,
    InvalidKeyError,
    NotFoundError,
    PayloadTooLargeError,
    PermissionDeniedError,
    StoreError,
    StoreTimeoutError,
    TransientError,
)
from cloudstores.keys import MAX_KEY_BYTES, validate_key, validate_prefix
from cloudstores.retry import RetryConfig

__all__ = ["PUT_ID_KEY", "Bucket", "ListPage"]

T = TypeVar("T")

PUT_ID_KEY = "cloudstores_put_id"
"""Metadata key carrying the unique id of a conditional put (see ``Bucket.put``)."""

DEFAULT_CONTENT_TYPE = "application/octet-stream"
MAX_OBJECT_BYTES = 5 * 1024**3
MAX_IN_FLIGHT = 1_000_000
_METADATA_KEY = re.compile(r"[a-z][a-z0-9_]{0,62}")
log = logging.getLogger("cloudstores")
"""One WARNING line per retry (what failed, why, the wait); never a credential."""


class Bucket(AsyncResource):
    """An async bucket of immutable-by-default objects, under one key prefix.

    Open it with :func:`cloudstores.open_bucket` and use it as an async context
    manager (or let the first request open it). Keys are relative to the URL's prefix.
    Every method is safe to call from many tasks at once.
    """

    def __init__(
        self,
        driver: Driver,
        *,
        prefix: str = "",
        retry: RetryConfig | None = None,
        max_in_flight: int | None = None,
    ) -> None:
        if not isinstance(driver, Driver):
            raise InvalidInputError(f"not a bucket driver: {type(driver).__name__}")
        if retry is not None and not isinstance(retry, RetryConfig):
            raise InvalidInputError(f"retry must be a RetryConfig, not {type(retry).__name__}")
        self.driver = driver
        self.prefix = _check_prefix(prefix)
        self.retry = retry or RetryConfig()
        self.max_in_flight = _check_max_in_flight(max_in_flight)
        self._limit = asyncio.Semaphore(self.max_in_flight) if self.max_in_flight else None
        self._open_lock = asyncio.Lock()
        self._opened = False
        self._guard_token: object | None = None
        self._guard: AsyncGenerator[None, None] | None = None
        self.requests: Counter[str] = Counter()
        """Requests sent, by operation (``put``, ``get``, ``head``, ``list``, ``delete``),
        retries included. Tests assert on these; they cost nothing to keep."""

    # ------------------------------------------------------------------ identity
    @property
    def scheme(self) -> str:
        return self.driver.scheme

    @property
    def name(self) -> str:
        return self.driver.name

    @property
    def url(self) -> str:
        """The bucket's address, without credentials."""
        return f"{self.scheme}://{self.name}/{self.prefix}".rstrip("/")

    def __repr__(self) -> str:
        kind = type(self.driver).__name__.removesuffix("Driver")
        label = type(self).__name__ if type(self) is not Bucket else f"{kind}Bucket"
        return f"<{label} {self.url}>"

    # ------------------------------------------------------------------ lifecycle
    async def open(self) -> None:
        """Open the driver (clients, pools) once. Called by ``async with`` or lazily.

        A bucket follows the event loop it is used in: when a later call runs in
        another loop (``asyncio.run`` per invocation), the clients of the old loop are
        dropped and new ones made. Clients of a loop-bound driver (s3, az) are closed
        when ``asyncio.run`` shuts its loop down, so nothing leaks between invocations.
        """
        self._enter_loop()
        if self._opened:
            return
        async with self._open_lock:
            if self._opened:
                return
            request = Request("open", "", None, self.name, self.scheme)
            try:
                await self._open_driver()
            except StoreError:
                raise
            except Exception as exc:
                raise self._translate(exc, request) from exc
            self._opened = True
            if _loop_bound(self.driver):
                await self._arm_loop_end_guard()

    async def close(self) -> None:
        """Close the driver. A later request opens it again."""
        self._enter_loop()
        async with self._open_lock:
            if not self._opened:
                return
            self._opened = False
            guard, self._guard, self._guard_token = self._guard, None, None
            try:
                await self._close_driver()
            finally:
                if guard is not None:
                    await guard.aclose()

    def _rebind_loop(self) -> None:
        """A new event loop: new lock and slots; drop the old loop's clients unawaited."""
        self._open_lock = asyncio.Lock()
        self._limit = asyncio.Semaphore(self.max_in_flight) if self.max_in_flight else None
        self._guard = self._guard_token = None
        if self._opened and _loop_bound(self.driver):
            self._opened = False
            discard = getattr(self.driver, "discard", None)
            if callable(discard):
                discard()

    async def _arm_loop_end_guard(self) -> None:
        """Close the driver when this loop shuts down (``asyncio.run`` closes every
        async generator still open, so a suspended one runs its ``finally`` then)."""
        token = object()
        guard = _close_at_loop_end(weakref.ref(self), token)
        await anext(guard)
        self._guard, self._guard_token = guard, token

    async def _loop_ended(self, token: object) -> None:
        if token is not self._guard_token or not self._opened:
            return
        self._guard = self._guard_token = None
        self._opened = False
        with contextlib.suppress(Exception):  # the loop is ending: no one to tell
            await self._close_driver()

    async def _open_driver(self) -> None:
        await self.driver.open()

    async def _close_driver(self) -> None:
        await self.driver.close()

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
        if isinstance(mode, IfMatch) and not isinstance(mode.version, Version):
            raise InvalidInputError(
                "IfMatch takes a Version (from put, get, head or list)", key=full
            )
        ctype = _check_content_type(content_type, key=full)
        meta = _check_metadata(metadata, key=full)
        put_id = uuid.uuid4().hex
        meta[PUT_ID_KEY] = put_id

        async def attempt() -> Version:
            try:
                return await self._send(
                    "put",
                    full,
                    lambda: self._put(full, data, mode=mode, content_type=ctype, metadata=meta),
                    mode=mode,
                )
            except ConflictError as conflict:
                if mode == "overwrite":
                    raise
                return await self._reconcile(full, put_id, mode, conflict)

        return await self._with_retries(attempt, key=full)

    async def get(self, key: str) -> StoredObject:
        """Read an object with its body. Raises NotFoundError if it does not exist."""
        full = self._full_key(key)
        obj = await self._with_retries(
            lambda: self._send("get", full, lambda: self._get(full)), key=full
        )
        return replace(obj, key=key, metadata=_public(obj.metadata))

    async def head(self, key: str) -> ObjectInfo:
        """Read an object's description. Raises NotFoundError if it does not exist."""
        full = self._full_key(key)
        info = await self._head_full(full)
        return replace(info, key=key, metadata=_public(info.metadata))

    async def delete(self, key: str) -> None:
        """Delete an object. Raises NotFoundError if it does not exist."""
        full = self._full_key(key)
        await self._with_retries(
            lambda: self._send("delete", full, lambda: self._delete(full)), key=full
        )

    async def list(
        self, prefix: str = "", *, start_after: str | None = None, limit: int | None = None
    ) -> AsyncIterator[ObjectInfo]:
        """Yield every object whose key starts with ``prefix``, in lexicographic order.

        ``start_after`` (exclusive) skips keys up to and including it. ``limit`` (>= 1)
        yields at most that many and asks the backend for no more than that per page
        (S3 ``MaxKeys``, Azure ``maxresults``, GCS ``maxResults``; the obstore engine
        still fetches its own page size): a caller that wants the first key pays for
        one key, not for a page of 1,000. Pagination is hidden; each page is fetched
        (and retried) as it is needed.
        """
        validate_prefix(prefix)
        if start_after is not None:
            validate_key(start_after)
        if limit is not None and (
            not isinstance(limit, int) or isinstance(limit, bool) or limit < 1
        ):
            raise InvalidInputError("list: limit must be an int >= 1")
        left = limit
        base = f"{self.prefix}/" if self.prefix else ""
        full_prefix = base + prefix
        full_start = base + start_after if start_after is not None else None
        token: str | None = None
        while True:

            def page(tok: str | None = token, want: int | None = left) -> Awaitable[ListPage]:
                return self._send(
                    "list",
                    full_prefix,
                    lambda: self._list_page(full_prefix, full_start, tok, want),
                )

            items, token = await self._with_retries(page, key=full_prefix)
            for info in items:
                if full_start is not None and info.key <= full_start:
                    continue
                if not info.key.startswith(full_prefix):
                    continue  # never yield what a backend returned outside the prefix
                yield replace(info, key=info.key[len(base) :], metadata=_public(info.metadata))
                if left is not None:
                    left -= 1
                    if left == 0:
                        return
            if token is None:
                return

    # ------------------------------------------------------------------ driver calls
    # One method per driver primitive, so a test wrapper may override one of them.
    async def _put(
        self,
        key: str,
        data: bytes,
        *,
        mode: PutMode,
        content_type: str,
        metadata: Mapping[str, str],
    ) -> Version:
        return await self.driver.put(
            key, data, mode=mode, content_type=content_type, metadata=metadata
        )

    async def _get(self, key: str) -> StoredObject:
        return await self.driver.get(key)

    async def _head(self, key: str) -> ObjectInfo:
        return await self.driver.head(key)

    async def _list_page(
        self, prefix: str, start_after: str | None, token: str | None, limit: int | None = None
    ) -> ListPage:
        if limit is None:  # a driver written before ``limit`` existed still works
            return await self.driver.list_page(prefix, start_after, token)
        return await self.driver.list_page(prefix, start_after, token, limit)

    async def _delete(self, key: str) -> None:
        await self.driver.delete(key)

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

    async def _send(
        self, op: str, key: str, call: Callable[[], Awaitable[T]], *, mode: PutMode | None = None
    ) -> T:
        """Send one request: open once, count it, hold a slot, time it, translate errors."""
        self._enter_loop()
        if not self._opened:
            await self.open()
        self.requests[op] += 1
        try:
            if self._limit is None:
                return await _timed(call(), self.retry.request_timeout, op)
            async with self._limit:
                return await _timed(call(), self.retry.request_timeout, op)
        except StoreError as exc:
            if exc.bucket is None:
                exc.bucket = self.name
            if exc.key is None and key:
                exc.key = key
            raise
        except Exception as exc:
            raise self._translate(exc, Request(op, key, mode, self.name, self.scheme)) from exc

    def _translate(self, exc: Exception, request: Request) -> StoreError:
        try:
            error = self.driver.translate(exc, request)
        except Exception:  # a broken hook must not hide the original failure
            error = request.error(StoreError, f"{request.where}: {type(exc).__name__}")
        if not isinstance(error, StoreError):
            error = request.error(StoreError, f"{request.where}: {type(exc).__name__}")
        if error.bucket is None:
            error.bucket = self.name
        if error.key is None and request.key:
            error.key = request.key
        return error

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
                log.warning(
                    "retrying in %.2f s (attempt %d of %d failed): %s: %s",
                    backoff,
                    number,
                    cfg.max_attempts,
                    type(exc).__name__,
                    exc.message,
                )
                await asyncio.sleep(backoff)
        raise AssertionError("unreachable")  # pragma: no cover

    async def _head_full(self, full: str) -> ObjectInfo:
        return await self._with_retries(
            lambda: self._send("head", full, lambda: self._head(full)), key=full
        )

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
            info = await self._head_full(key)
        except NotFoundError:
            if isinstance(mode, IfMatch):
                raise NotFoundError(
                    f"{key!r} does not exist in {self.url}", bucket=self.name, key=key
                ) from conflict
            raise conflict from None
        except (IntegrityError, PermissionDeniedError):
            # Unreadable (damaged, or not ours to read): it cannot be shown to be ours,
            # so the conflict stands.
            raise conflict from None
        if info.metadata.get(PUT_ID_KEY) == put_id:
            return info.version
        raise conflict


async def _close_at_loop_end(
    bucket: weakref.ReferenceType[Bucket], token: object
) -> AsyncGenerator[None, None]:
    try:
        yield
    finally:
        owner = bucket()
        if owner is not None:
            await owner._loop_ended(token)


def _loop_bound(driver: Driver) -> bool:
    """Whether the driver's clients belong to one event loop (True unless it says not)."""
    return bool(getattr(driver, "loop_bound", True))


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


def _check_prefix(prefix: object) -> str:
    if not isinstance(prefix, str):
        raise ConfigurationError(f"bucket prefix must be str, not {type(prefix).__name__}")
    stripped = prefix.strip("/")
    if stripped:
        try:
            validate_key(stripped)
        except InvalidKeyError as exc:
            raise ConfigurationError(f"unusable bucket prefix: {exc.message}") from None
    return stripped


def _check_max_in_flight(value: object) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_IN_FLIGHT:
        raise InvalidInputError(f"max_in_flight must be a whole number from 1, not {value!r}")
    return value


def _check_body(data: Any, *, key: str) -> bytes:
    if isinstance(data, bytearray | memoryview):
        data = bytes(data)
    if not isinstance(data, bytes):
        raise InvalidInputError(f"object body must be bytes, not {type(data).__name__}", key=key)
    if len(data) > MAX_OBJECT_BYTES:
        raise PayloadTooLargeError(f"object body is over {MAX_OBJECT_BYTES} bytes", key=key)
    return data


def _check_content_type(content_type: object, *, key: str) -> str:
    if content_type is None:
        return DEFAULT_CONTENT_TYPE
    if (
        not isinstance(content_type, str)
        or not content_type
        or len(content_type) > 255
        or not content_type.isascii()
        or not content_type.isprintable()
    ):
        raise InvalidInputError("content_type must be printable ASCII, 1..255 chars", key=key)
    return content_type


def _check_metadata(metadata: Mapping[str, str] | None, *, key: str) -> dict[str, str]:
    if metadata is not None and not isinstance(metadata, Mapping):
        raise InvalidInputError(
            f"metadata must be a mapping of str to str, not {type(metadata).__name__}", key=key
        )
    meta = dict(metadata or {})
    for name, value in meta.items():
        if not isinstance(name, str) or not _METADATA_KEY.fullmatch(name) or name == PUT_ID_KEY:
            raise InvalidInputError(
                f"metadata key {name!r} must match [a-z][a-z0-9_]* and not be reserved", key=key
            )
        if (
            not isinstance(value, str)
            or not value.isascii()
            or not value.isprintable()
            or len(value) > 1024
        ):
            raise InvalidInputError(
                f"metadata value for {name!r} must be printable ASCII up to 1,024 chars", key=key
            )
    if sum(len(n) + len(v) for n, v in meta.items()) > 1800:
        raise InvalidInputError("metadata is over 1,800 bytes (S3 allows 2 KiB)", key=key)
    return meta


def _public(metadata: Mapping[str, str]) -> dict[str, str]:
    return {k: v for k, v in metadata.items() if k != PUT_ID_KEY}
