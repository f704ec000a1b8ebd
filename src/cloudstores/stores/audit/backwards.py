"""Reading a stream newest first: from the head down, one window of objects at a time.

Keys only list forwards, so the reader walks down in windows: for a window of sequence
numbers ``[lo, hi)`` it LISTs the keys from ``lo`` (one page, starting at most
``MAX_BATCH_LIMIT`` keys before ``lo``, as ``reader.list_objects`` does), then GETs
those objects from the highest down, ``read_concurrency`` at a time. A window is as wide
as the entries still wanted (``limit``), at most ``MAX_BATCH_LIMIT``.

Checked on the way down: each object ends where the one above began (no gap), each
entry's hash is its content's and equals the ``prev`` of the entry above it, and the
top entry's hash is the head's: the entries given out are the chain's, anchored at the
head (``verify`` checks the whole stream, including checkpoints).
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncGenerator, AsyncIterator, Callable

from cloudstores.bucket.base import Bucket
from cloudstores.errors import IntegrityError
from cloudstores.stores.audit import chain
from cloudstores.stores.audit.layout import StreamKeys
from cloudstores.stores.audit.models import MAX_BATCH_LIMIT, AuditEntry, StreamHead
from cloudstores.stores.audit.reader import SpanCache, fetch_objects, list_objects
from cloudstores.stores.audit.records import StoredEntry

__all__ = ["read_backwards"]


async def _iterate(items: list[tuple[int, str]]) -> AsyncIterator[tuple[int, str]]:
    for item in items:
        yield item


async def read_backwards(
    bucket: Bucket,
    keys: StreamKeys,
    spans: SpanCache,
    head: StreamHead,
    *,
    start: int,
    end: int | None,
    limit: int | None,
    concurrency: int,
    check: Callable[[StoredEntry, str], None],
) -> AsyncGenerator[AuditEntry, None]:
    """Yield entries ``start <= seq < end`` (``end`` None: the head), newest first, at
    most ``limit``. ``check(entry, key)`` raises if an entry is not this stream's."""
    top = head.size if end is None else min(end, head.size)
    remaining = limit
    anchored = top == head.size
    # the next object down must end at ``expected_top`` (None: the first one read, when
    # reading below the head, only has to hold ``top - 1``), and its last entry must hash
    # to ``above`` (the head's hash, then the ``prev`` of the entry above it)
    expected_top: int | None = top if anchored else None
    above: str | None = head.hash if anchored else None
    hi = top
    while hi > start and (remaining is None or remaining > 0):
        width = MAX_BATCH_LIMIT if remaining is None else min(MAX_BATCH_LIMIT, remaining)
        lo = max(start, hi - width)
        listed = [item async for item in list_objects(bucket, keys, lo, hi) if item[0] < hi]
        if not listed:
            raise IntegrityError(
                f"stream {keys.stream!r} has no object below {hi} (run verify)",
                key=keys.entry(max(hi - 1, 0)),
            )
        listed.reverse()
        fetched = fetch_objects(bucket, _iterate(listed), concurrency)
        async with contextlib.aclosing(fetched):
            async for (first, key), data in fetched:
                if isinstance(data, BaseException):
                    raise data
                entries = chain.parse_object(data, key=key)
                ends_ok = (
                    first < hi <= first + len(entries)
                    if expected_top is None
                    else first + len(entries) == expected_top
                )
                if not ends_ok or any(e["seq"] != first + i for i, e in enumerate(entries)):
                    raise IntegrityError(
                        f"stream {keys.stream!r}: object at {first} does not end at "
                        f"{expected_top if expected_top is not None else hi} (run verify)",
                        key=key,
                    )
                spans.add(first, len(entries))
                for entry in reversed(entries):
                    if entry["seq"] >= top and not anchored:
                        continue  # above the range, in the object holding ``top - 1``
                    check(entry, key)
                    if above is not None and entry["hash"] != above:
                        raise IntegrityError(
                            f"entry {entry['seq']} of stream {keys.stream!r} fails its "
                            "chain check (run verify)",
                            key=key,
                        )
                    above = entry["prev"]
                    seq = entry["seq"]
                    if start <= seq < top:
                        yield chain.entry_from_dict(entry, key=key)
                        if remaining is not None:
                            remaining -= 1
                            if remaining <= 0:
                                return
                expected_top = first
                hi = first
                if hi <= start:
                    return
