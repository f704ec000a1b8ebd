"""Reading and writing JSON records as bucket objects: what every store shares.

Every byte read from a bucket is untrusted input: :func:`read_record` bounds the size,
checks the JSON shape and validates the model, and callers then check the record
against the key it came from (:func:`agree`). Whatever is wrong is an IntegrityError
naming the key, never a raw KeyError/TypeError and never a silently wrong answer.
The ``check_*`` helpers validate public arguments before the first request.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Iterable
from datetime import datetime
from typing import Any, TypeVar

from pydantic import BaseModel

from cloudstores import codec
from cloudstores.bucket.base import Bucket
from cloudstores.bucket.types import Version
from cloudstores.errors import IntegrityError, InvalidInputError, NotFoundError

__all__ = [
    "JSON",
    "MAX_CONCURRENCY",
    "Progress",
    "agree",
    "check_bool",
    "check_callable",
    "check_datetime",
    "check_int",
    "check_text",
    "expect_dict",
    "gather_limited",
    "get_json",
    "get_json_or_none",
    "log",
    "probe_forward",
    "put_json",
    "read_record",
    "seal",
    "unseal",
    "validate_record",
]

T = TypeVar("T")
R = TypeVar("R")
M = TypeVar("M", bound=BaseModel)
JSON = "application/json"
MAX_CONCURRENCY = 1024
Progress = Callable[[int], None]
"""A callback for long work (``verify``, ``reindex``): called with the count done so far."""

log = logging.getLogger("cloudstores.stores")
"""Where the stores report what they skipped (an index hint a data object contradicts)."""


async def put_json(bucket: Bucket, key: str, body: bytes) -> Version:
    """Create ``key`` with canonical JSON ``body`` (create-only)."""
    return await bucket.put(key, body, content_type=JSON)


async def get_json(bucket: Bucket, key: str, *, max_bytes: int | None = None) -> Any:
    """GET ``key`` and decode it; IntegrityError if it is not JSON or over ``max_bytes``."""
    obj = await bucket.get(key)
    if max_bytes is not None and len(obj.data) > max_bytes:
        raise IntegrityError(
            f"stored object {key!r} is {len(obj.data)} bytes, over the limit of {max_bytes}",
            key=key,
        )
    return codec.loads(obj.data, key=key)


async def get_json_or_none(bucket: Bucket, key: str, *, max_bytes: int | None = None) -> Any:
    """Like :func:`get_json`, but None when the object does not exist."""
    try:
        return await get_json(bucket, key, max_bytes=max_bytes)
    except NotFoundError:
        return None


def expect_dict(value: Any, *, key: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise IntegrityError(f"stored object {key!r} is not a JSON object", key=key)
    return value


CHECKSUM = "$sha256"
"""A stored record's checksum field: sha256 hex of the canonical JSON of the record
without it. It catches corruption (a flipped byte, a truncated or mixed-up object), not
forgery: whoever can write the object can recompute it (the audit log's signed
checkpoints are what resists forgery). Records written before it existed have none and
are read unchecked."""


def seal(record: dict[str, Any]) -> bytes:
    """Canonical bytes of ``record`` with its checksum field added."""
    return codec.dumps({**record, CHECKSUM: codec.sha256_hex(codec.dumps(record))})


def unseal(record: dict[str, Any], *, key: str) -> bool:
    """Check and remove the checksum of a stored record (in place); False if it has
    none (an older record), IntegrityError naming ``key`` if it does not match."""
    if CHECKSUM not in record:
        return False
    claimed = record.pop(CHECKSUM)
    try:
        actual = codec.sha256_hex(codec.dumps(record))
    except InvalidInputError as exc:  # e.g. an integer beyond 64 bits
        raise IntegrityError(f"stored object {key!r} cannot be re-encoded: {exc}", key=key) from exc
    if claimed != actual:
        raise IntegrityError(f"stored object {key!r} does not match its checksum", key=key)
    return True


def validate_record(body: Any, model: type[M], key: str) -> M:
    """``body`` as ``model`` (its checksum checked first, if it has one); IntegrityError
    naming ``key`` if it is not one."""
    record = expect_dict(body, key=key)
    unseal(record, key=key)
    try:
        return model.model_validate(record)
    except (ValueError, TypeError) as exc:  # pydantic's ValidationError is a ValueError
        raise IntegrityError(f"stored record {key!r} is malformed: {exc}", key=key) from exc


async def read_record(bucket: Bucket, key: str, model: type[M], *, max_bytes: int) -> M:
    """GET ``key`` as a ``model`` record (size-bounded, shape-checked)."""
    return validate_record(await get_json(bucket, key, max_bytes=max_bytes), model, key)


def agree(key: str, what: str, stored: object, expected: object) -> None:
    """IntegrityError unless a record's ``what`` is what its key says."""
    if stored != expected:
        raise IntegrityError(
            f"stored object {key!r} holds {what} {stored!r}, but its key says {expected!r}", key=key
        )


# ---------------------------------------------------------------------- argument checks
def check_int(value: object, *, what: str, lo: int = 0, hi: int | None = None) -> int:
    """``value`` if it is an int (not a bool) in ``[lo, hi]``, else InvalidInputError."""
    if not isinstance(value, int) or isinstance(value, bool):
        raise InvalidInputError(f"{what} must be an int, not {type(value).__name__}")
    if value < lo or (hi is not None and value > hi):
        bound = f"{lo}..{hi}" if hi is not None else f">= {lo}"
        raise InvalidInputError(f"{what} must be {bound}, not {value}")
    return value


def check_text(value: object, *, what: str, optional: bool = True) -> str | None:
    """``value`` if it is a str (or None when ``optional``), else InvalidInputError."""
    if value is None and optional:
        return None
    if not isinstance(value, str):
        raise InvalidInputError(f"{what} must be a str, not {type(value).__name__}")
    return value


def check_datetime(value: object, *, what: str) -> datetime | None:
    if value is not None and not isinstance(value, datetime):
        raise InvalidInputError(f"{what} must be a datetime, not {type(value).__name__}")
    return value


def check_bool(value: object, *, what: str) -> bool:
    if not isinstance(value, bool):
        raise InvalidInputError(f"{what} must be a bool, not {type(value).__name__}")
    return value


def check_callable(value: object, *, what: str) -> None:
    if value is not None and not callable(value):
        raise InvalidInputError(f"{what} must be callable or None")


# ---------------------------------------------------------------------- concurrency
async def gather_limited(
    items: Iterable[T], fn: Callable[[T], Awaitable[R]], limit: int = 32
) -> list[R]:
    """``fn`` over ``items`` with at most ``limit`` running at once, results in order."""
    gate = asyncio.Semaphore(max(1, limit))

    async def one(item: T) -> R:
        async with gate:
            return await fn(item)

    return list(await asyncio.gather(*(one(item) for item in items)))


async def probe_forward(
    start: int,
    fetch: Callable[[int], Awaitable[R | None]],
    *,
    window: int = 1,
    max_window: int = 64,
) -> list[R]:
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
