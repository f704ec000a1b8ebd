"""``copy`` and ``diff`` between any two buckets: create-only, idempotent, resumable.

Both list the two sides (one LIST page per 1,000 keys each), then look at keys:

* only in the source: ``copy`` GETs it and PUTs it create-only at the destination
  (2 requests); ``diff`` reports it missing.
* in both: sizes differ, a conflict (0 requests); same size, both are read and their
  bytes compared (2 GETs): equal is "same", else a conflict.
* only in the destination: reported by ``diff``, left alone by ``copy``.

Nothing is ever overwritten: a destination object that differs is reported as a
conflict and kept. A copy that stopped half way (killed, network gone) is resumed by
running it again: what landed is found equal and skipped. A create that races another
writer (``AlreadyExistsError``) is compared the same way. Transfers run concurrently
(``jobs`` at a time); the per-object failures are collected, not raised, so one bad
object does not stop the rest.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from cloudstores.bucket import PUT_ID_KEY, Bucket
from cloudstores.errors import AlreadyExistsError, StoreError

__all__ = ["TransferReport", "copy_objects", "diff_objects"]

Progress = Callable[[int, int], None]
"""``on_progress(done, total)``, after each object."""


@dataclass
class TransferReport:
    """What ``copy`` did or ``diff`` found, key by key (keys relative to each URL)."""

    source: str
    destination: str
    listed: int = 0
    copied: list[str] = field(default_factory=list)
    same: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    """``diff``: in the source, not in the destination."""
    extra: list[str] = field(default_factory=list)
    """In the destination, not in the source."""
    conflicts: list[str] = field(default_factory=list)
    errors: dict[str, str] = field(default_factory=dict)

    @property
    def clean(self) -> bool:
        """No conflict, no error, nothing missing (``diff``: nothing extra either)."""
        return not (self.conflicts or self.errors or self.missing or self.extra)

    def as_dict(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "destination": self.destination,
            "listed": self.listed,
            "copied": sorted(self.copied),
            "same": len(self.same),
            "missing": sorted(self.missing),
            "extra": sorted(self.extra),
            "conflicts": sorted(self.conflicts),
            "errors": dict(sorted(self.errors.items())),
        }


def _quiet(done: int, total: int) -> None:
    pass


async def _sizes(bucket: Bucket) -> dict[str, int]:
    return {info.key: info.size async for info in bucket.list("")}


async def _equal(src: Bucket, dst: Bucket, key: str) -> bool:
    a, b = await asyncio.gather(src.get(key), dst.get(key))
    return a.data == b.data


async def _run_all(
    keys: list[str], work: Callable[[str], Awaitable[None]], jobs: int, tick: Progress
) -> dict[str, str]:
    """``work(key)`` for every key, ``jobs`` at a time; failures by key."""
    errors: dict[str, str] = {}
    queue = iter(keys)
    done = 0

    async def worker() -> None:
        nonlocal done
        for key in queue:
            try:
                await work(key)
            except StoreError as exc:
                errors[key] = f"{type(exc).__name__}: {exc.message}"
            done += 1
            tick(done, len(keys))

    await asyncio.gather(*(worker() for _ in range(max(1, min(jobs, len(keys) or 1)))))
    return errors


async def _plan(src: Bucket, dst: Bucket, report: TransferReport) -> tuple[list[str], list[str]]:
    """List both sides; return (keys only in the source, keys in both with equal size)."""
    a, b = await asyncio.gather(_sizes(src), _sizes(dst))
    report.listed = len(a)
    report.extra = sorted(set(b) - set(a))
    both = sorted(set(a) & set(b))
    report.conflicts = [k for k in both if a[k] != b[k]]
    return sorted(set(a) - set(b)), [k for k in both if a[k] == b[k]]


async def diff_objects(
    src: Bucket, dst: Bucket, *, jobs: int = 16, on_progress: Progress | None = None
) -> TransferReport:
    """Compare every object under two buckets (see the module docstring for the cost)."""
    report = TransferReport(src.url, dst.url)
    report.missing, compare = await _plan(src, dst, report)

    async def check(key: str) -> None:
        (report.same if await _equal(src, dst, key) else report.conflicts).append(key)

    report.errors = await _run_all(compare, check, jobs, on_progress or _quiet)
    return report


async def copy_objects(
    src: Bucket, dst: Bucket, *, jobs: int = 16, on_progress: Progress | None = None
) -> TransferReport:
    """Copy what the destination lacks, create-only; compare what it has."""
    report = TransferReport(src.url, dst.url)
    missing, compare = await _plan(src, dst, report)
    report.extra = []  # copy leaves them alone and does not report them

    async def one(key: str) -> None:
        if key in present:
            (report.same if await _equal(src, dst, key) else report.conflicts).append(key)
            return
        obj = await src.get(key)
        metadata = {k: v for k, v in obj.metadata.items() if k != PUT_ID_KEY}
        try:
            await dst.put(
                key, obj.data, mode="create", content_type=obj.content_type, metadata=metadata
            )
        except AlreadyExistsError:  # another writer (or an earlier run) got there first
            theirs = await dst.get(key)
            (report.same if theirs.data == obj.data else report.conflicts).append(key)
            return
        report.copied.append(key)

    present = set(compare)
    report.errors = await _run_all(missing + compare, one, jobs, on_progress or _quiet)
    return report
