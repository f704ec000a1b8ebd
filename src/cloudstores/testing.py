"""Test helpers: a driver wrapper that injects faults, deterministically from a seed.

``FaultyDriver`` sits *below* the Bucket: it wraps another driver's single requests,
so the retries, backoff and put-id reconciliation of :class:`Bucket` run exactly as
they would against a flaky network. ``FaultyBucket`` is the convenience: a Bucket over
``FaultyDriver(inner_bucket.driver)``, with the inner bucket's prefix::

    inner = cloudstores.open_bucket("memory://t")
    flaky = FaultyBucket(inner, after=0.2, seed=7)     # 20%: write lands, caller times out
    async with flaky:
        await flaky.put("k", b"v")                     # succeeds exactly once
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Awaitable, Callable, Collection, Mapping
from typing import TypeVar

from cloudstores.bucket.base import Bucket
from cloudstores.bucket.driver import Driver, ListPage
from cloudstores.bucket.errors import Request
from cloudstores.bucket.types import ObjectInfo, PutMode, StoredObject, Version
from cloudstores.errors import (
    BackendUnavailableError,
    InvalidInputError,
    StoreError,
    StoreTimeoutError,
    ThrottledError,
)
from cloudstores.retry import RetryConfig

__all__ = ["FaultyBucket", "FaultyDriver"]

T = TypeVar("T")
ALL_OPS = frozenset({"put", "get", "head", "list", "delete"})
FAST_RETRY = RetryConfig(initial_backoff=0.001, max_backoff=0.01)


class FaultyDriver:
    """Wrap ``inner`` and fail a chosen fraction of its requests.

    Each request draws once from a seeded generator and meets at most one fault:

    Args:
        before: fraction that fail before reaching the backend (503, nothing happened).
        after: fraction that reach the backend and succeed there, but the caller sees
            a timeout (the ambiguous case conditional writes must reconcile).
        throttle: fraction answered with a throttling error before reaching the backend.
        reset: fraction whose connection is reset before reaching the backend.
        resend: fraction of puts that land, lose their answer, and are re-sent by the
            HTTP client by itself (as aiohttp does on a reused connection): the caller
            sees the re-send's answer (a conflict, for a conditional put) as if it were
            its first attempt.
        ops: which operations may fail (default all: put, get, head, list, delete).
        match: optional ``(op, full_key) -> bool``; only matching requests may fail.
        seed: seed of the generator.

    ``injected`` counts the faults injected, by kind. ``open``/``close`` pass through.
    """

    def __init__(
        self,
        inner: Driver,
        *,
        before: float = 0.0,
        after: float = 0.0,
        throttle: float = 0.0,
        reset: float = 0.0,
        resend: float = 0.0,
        ops: Collection[str] = ALL_OPS,
        match: Callable[[str, str], bool] | None = None,
        seed: int = 0,
    ) -> None:
        fractions = (before, after, throttle, reset, resend)
        if any(not 0.0 <= f <= 1.0 for f in fractions) or sum(fractions) > 1.0:
            raise InvalidInputError("fault fractions must be in [0, 1] and add up to at most 1")
        self.inner = inner
        self.scheme = inner.scheme
        self.name = inner.name
        self.before, self.after, self.throttle, self.reset = before, after, throttle, reset
        self.resend = resend
        self.ops = frozenset(ops)
        self.match = match
        self._rng = random.Random(seed)
        self.injected: Counter[str] = Counter()

    async def open(self) -> None:
        await self.inner.open()

    async def close(self) -> None:
        await self.inner.close()

    def translate(self, exc: Exception, request: Request) -> StoreError:
        return self.inner.translate(exc, request)

    async def _faulty(self, op: str, key: str, call: Callable[[], Awaitable[T]]) -> T:
        if op not in self.ops or (self.match is not None and not self.match(op, key)):
            return await call()
        draw = self._rng.random()
        where = f"{op} {key!r}"
        if draw < self.before:
            self.injected["before"] += 1
            raise BackendUnavailableError(f"injected 503 before {where}", key=key)
        draw -= self.before
        if draw < self.throttle:
            self.injected["throttle"] += 1
            raise ThrottledError(f"injected throttling on {where}", key=key)
        draw -= self.throttle
        if draw < self.reset:
            self.injected["reset"] += 1
            raise BackendUnavailableError(f"injected connection reset on {where}", key=key)
        draw -= self.reset
        if op == "put":
            if draw < self.resend:
                self.injected["resend"] += 1
                await call()  # lands; its answer is lost, and the client sends it again
                return await call()
            draw -= self.resend
        result = await call()
        if draw < self.after:
            self.injected["after"] += 1
            raise StoreTimeoutError(f"injected timeout after {where} succeeded", key=key)
        return result

    async def put(
        self,
        key: str,
        data: bytes,
        *,
        mode: PutMode,
        content_type: str,
        metadata: Mapping[str, str],
    ) -> Version:
        return await self._faulty(
            "put",
            key,
            lambda: self.inner.put(
                key, data, mode=mode, content_type=content_type, metadata=metadata
            ),
        )

    async def get(self, key: str) -> StoredObject:
        return await self._faulty("get", key, lambda: self.inner.get(key))

    async def head(self, key: str) -> ObjectInfo:
        return await self._faulty("head", key, lambda: self.inner.head(key))

    async def delete(self, key: str) -> None:
        await self._faulty("delete", key, lambda: self.inner.delete(key))

    async def list_page(
        self, prefix: str, start_after: str | None, token: str | None, limit: int | None = None
    ) -> ListPage:
        return await self._faulty(
            "list", prefix, lambda: self.inner.list_page(prefix, start_after, token, limit)
        )


class FaultyBucket(Bucket):
    """A Bucket over ``FaultyDriver(inner.driver, ...)``, under ``inner``'s prefix.

    Takes FaultyDriver's arguments, plus ``retry`` (this bucket's own policy, fast by
    default; the inner bucket's is not used) and ``max_in_flight``. Opening and closing
    it opens and closes ``inner`` (once, however many wrappers share it). SDK errors
    raised below the wrapper are translated by the inner driver, as usual.
    """

    def __init__(
        self,
        inner: Bucket,
        *,
        before: float = 0.0,
        after: float = 0.0,
        throttle: float = 0.0,
        reset: float = 0.0,
        resend: float = 0.0,
        ops: Collection[str] = ALL_OPS,
        match: Callable[[str, str], bool] | None = None,
        seed: int = 0,
        retry: RetryConfig | None = None,
        max_in_flight: int | None = None,
    ) -> None:
        self.faults = FaultyDriver(
            inner.driver,
            before=before,
            after=after,
            throttle=throttle,
            reset=reset,
            resend=resend,
            ops=ops,
            match=match,
            seed=seed,
        )
        super().__init__(
            self.faults, prefix=inner.prefix, retry=retry or FAST_RETRY, max_in_flight=max_in_flight
        )
        self.inner = inner

    @property
    def injected(self) -> Counter[str]:
        return self.faults.injected

    @property
    def url(self) -> str:
        return self.inner.url

    async def _open_driver(self) -> None:
        await self.inner.open()

    async def _close_driver(self) -> None:
        await self.inner.close()
