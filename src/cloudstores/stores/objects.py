"""Reading and writing JSON records as bucket objects: what every store shares."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable
from typing import Any, TypeVar

from cloudstores import codec
from cloudstores.bucket.base import Bucket
from cloudstores.bucket.types import Version
from cloudstores.errors import IntegrityError, NotFoundError

__all__ = [
    "JSON",
    "Progress",
    "expect_dict",
    "gather_limited",
    "get_json",
    "get_json_or_none",
    "probe_forward",
    "put_json",
]

T = TypeVar("T")
R = TypeVar("R")
JSON = "application/json"
Progress = Callable[[int], None]
"""A callback for long work (``verify``, ``reindex``): called with the count done so far."""


async def put_json(bucket: Bucket, key: str, body: bytes) -> Version:
    """Create ``key`` with canonical JSON ``body`` (create-only)."""
    return await bucket.put(key, body, content_type=JSON)


async def get_json(bucket: Bucket, key: str) -> Any:
    """GET ``key`` and decode it; IntegrityError if it is not JSON."""
    obj = await bucket.get(key)
    return codec.loads(obj.data, key=key)


async def get_json_or_none(bucket: Bucket, key: str) -> Any:
    """Like :func:`get_json`, but None when the object does not exist."""
    try:
        return await get_json(bucket, key)
    except NotFoundError:
        return None


def expect_dict(value: Any, *, key: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise IntegrityError(f"stored object {key!r} is not a JSON object", key=key)
    return value


async def gather_limited(items: Iterable[T], fn: Callable[[T], Awaitable[R]],
                         limit: int = 32) -> list[R]:
    """``fn`` over ``items`` with at most ``limit`` running at once, results in order."""
    gate = asyncio.Semaphore(limit)

    async def one(item: T) -> R:
        async with gate:
            return await fn(item)

    return list(await asyncio.gather(*(one(item) for item in items)))


async def probe_forward(start: int, fetch: Callable[[int], Awaitable[R | None]], *,
                        window: int = 1, max_window: int = 64) -> list[R]:
    """Fetch ``start, start+1, ...`` until the first None; return what was found, in order.

    Numbered objects that are written without gaps (index segments, run versions) are
    found this way without a LIST: ``window`` requests at once (one, by default: a warm
    reader that expects nothing new pays one GET, one that knows the latest pays two),
    then as many as were found so far (windows 1, 1, 2, 4, ...: the total doubles), up
    to ``max_window``, while objects keep coming.
    """
    found: list[R] = []
    while True:
        numbers = range(start + len(found), start + len(found) + window)
        results = await asyncio.gather(*(fetch(n) for n in numbers))
        for result in results:
            if result is None:
                return found
            found.append(result)
        window = min(max(window, len(found)), max_window)
