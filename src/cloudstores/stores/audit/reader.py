"""Finding and fetching entry objects: bounded listings, ordered concurrent GETs.

Readers never list a whole stream to find one entry. The object holding ``seq`` is
keyed by its first sequence number, which is ``seq`` itself for every single append
and for the first entry of a batch: ``get`` tries that key first (one GET). Inside a
batch, the start is at most ``MAX_BATCH_LIMIT - 1`` below, so one LIST page beginning
there finds it; and the spans this process has written or read are remembered
(``SpanCache``), so a writer's own entries are always one GET.
"""

from __future__ import annotations

import asyncio
import bisect
import logging
from collections import deque
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable
from typing import TypeVar

from cloudstores.bucket.base import Bucket
from cloudstores.bucket.types import ObjectInfo
from cloudstores.errors import IntegrityError, InvalidInputError, StoreError
from cloudstores.keys import key_number
from cloudstores.stores.audit import chain
from cloudstores.stores.audit.layout import StreamKeys
from cloudstores.stores.audit.models import MAX_BATCH_LIMIT
from cloudstores.stores.audit.records import StoredEntry

__all__ = [
    "SpanCache",
    "check_seq",
    "fetch_objects",
    "fetch_ordered",
    "list_objects",
    "numbered",
    "read_object",
]

log = logging.getLogger("cloudstores.audit")

T = TypeVar("T")
R = TypeVar("R")


class SpanCache:
    """Starts and lengths of entry objects seen by this process, for one stream."""

    __slots__ = ("_counts", "_limit", "_starts")

    def __init__(self, limit: int = 100_000) -> None:
        self._starts: list[int] = []
        self._counts: dict[int, int] = {}
        self._limit = limit

    def add(self, start: int, count: int) -> None:
        if start in self._counts:
            return
        if not self._starts or start > self._starts[-1]:
            self._starts.append(start)
        else:
            bisect.insort(self._starts, start)
        self._counts[start] = count
        if len(self._starts) > self._limit:
            drop = self._starts[: self._limit // 2]
            del self._starts[: self._limit // 2]
            for old in drop:
                del self._counts[old]

    def find(self, seq: int) -> int | None:
        """The start of the known object holding ``seq``, if any."""
        i = bisect.bisect_right(self._starts, seq) - 1
        if i < 0:
            return None
        start = self._starts[i]
        return start if seq < start + self._counts[start] else None


async def list_objects(
    bucket: Bucket, keys: StreamKeys, start: int = 0, end: int | None = None
) -> AsyncIterator[tuple[int, str]]:
    """Yield ``(first_seq, key)`` of the objects that may hold entries in ``[start, end)``.

    Starts the LIST at most ``MAX_BATCH_LIMIT`` keys before ``start`` and skips objects
    that end (where the next one begins) at or before ``start``. A key that is not an
    entry key is skipped (``verify`` reports it).
    """
    after = keys.entry(start - MAX_BATCH_LIMIT) if start >= MAX_BATCH_LIMIT else None
    held: tuple[int, str] | None = None
    async for first, info in numbered(bucket.list(keys.e_prefix, start_after=after), keys.e_prefix):
        if held is not None and first > start:
            yield held
        held = (first, info.key)
        if end is not None and first >= end:
            return
    if held is not None:
        yield held


async def numbered(
    infos: AsyncIterator[ObjectInfo], prefix: str
) -> AsyncIterator[tuple[int, ObjectInfo]]:
    """``(n, info)`` of each listed ``numbered_key(prefix, n)``; any other key is logged
    and skipped, so one planted object cannot stop writers and readers (``verify``
    reports it as ``unexpected``)."""
    async for info in infos:
        try:
            yield key_number(info.key, prefix), info
        except IntegrityError:
            log.warning("skipped stray key %r among numbered audit objects", info.key)


async def fetch_ordered(
    items: AsyncIterator[T],
    fetch: Callable[[T], Awaitable[R]],
    concurrency: int,
) -> AsyncGenerator[tuple[T, R | StoreError], None]:
    """Run ``fetch`` on each item with up to ``concurrency`` in flight; yield in order.

    A StoreError from ``fetch`` is yielded in place of the result (the caller decides);
    anything else propagates. Pending fetches are cancelled if the consumer stops early.
    """

    async def guarded(item: T) -> R | StoreError:
        try:
            return await fetch(item)
        except StoreError as exc:
            return exc

    window: deque[tuple[T, asyncio.Task[R | StoreError]]] = deque()
    try:
        async for item in items:
            window.append((item, asyncio.ensure_future(guarded(item))))
            if len(window) >= concurrency:
                head, task = window.popleft()
                yield head, await task
        while window:
            head, task = window.popleft()
            yield head, await task
    finally:
        for _, task in window:
            task.cancel()
        if window:
            await asyncio.gather(*(task for _, task in window), return_exceptions=True)


def fetch_objects(
    bucket: Bucket, items: AsyncIterator[tuple[T, str]], concurrency: int
) -> AsyncGenerator[tuple[tuple[T, str], bytes | StoreError], None]:
    """GET the body of each listed ``(number, key)``; ``fetch_ordered`` semantics."""

    async def get(item: tuple[T, str]) -> bytes:
        return (await bucket.get(item[1])).data

    return fetch_ordered(items, get, concurrency)


async def read_object(
    bucket: Bucket, keys: StreamKeys, spans: SpanCache, first: int
) -> list[StoredEntry]:
    """GET and parse the entry object at ``first``; its entries must be ``first, first+1..``
    (IntegrityError otherwise). The span is remembered."""
    key = keys.entry(first)
    entries = chain.parse_object((await bucket.get(key)).data, key=key)
    if [e["seq"] for e in entries] != list(range(first, first + len(entries))):
        raise IntegrityError(f"object at {first} holds entries from {entries[0]['seq']}", key=key)
    spans.add(first, len(entries))
    return entries


def check_seq(seq: object, *, what: str = "sequence number") -> int:
    """``seq`` if it is an int >= 0, else InvalidInputError (before any request)."""
    if not isinstance(seq, int) or isinstance(seq, bool) or seq < 0:
        raise InvalidInputError(f"{what} must be an int >= 0, not {seq!r}")
    return seq
