"""Rewrite a ``file://`` root written before the sidecar format (``CSOBJ1`` files).

Reads never need it: a legacy file is read as it is. Migrating makes every data file
hold exactly its object's bytes (so ``jq`` and other tools read it). Each object is
rewritten in place with its etag, content type and metadata kept, by a
compare-and-swap on that etag under the key's lock, so it is safe beside running
readers and writers in other processes; an object written meanwhile is already in the
new format. Idempotent: interrupted, it resumes by running again.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass

from cloudstores.bucket.base import Bucket
from cloudstores.bucket.file import FileDriver
from cloudstores.errors import ConfigurationError, InvalidInputError, NotFoundError

__all__ = ["MigrationReport", "migrate_files"]

MAX_JOBS = 256


@dataclass(frozen=True, slots=True)
class MigrationReport:
    scanned: int
    """Objects listed."""
    rewritten: int
    """Legacy files rewritten as data file + sidecar."""
    vanished: int
    """Objects deleted between being listed and being looked at."""


async def migrate_files(
    bucket: Bucket, *, jobs: int = 8, on_progress: Callable[[int], object] | None = None
) -> MigrationReport:
    """Rewrite every legacy object file of a ``file://`` bucket; the others are left alone.

    Costs one listing of the root plus, per object, one read of its sidecar or first
    line, and for a legacy file one read and one write. ``on_progress(scanned)`` is
    called after each object.
    """
    if not isinstance(jobs, int) or isinstance(jobs, bool) or not 1 <= jobs <= MAX_JOBS:
        raise InvalidInputError(f"jobs must be a whole number from 1 to {MAX_JOBS}, not {jobs!r}")
    driver = bucket.driver
    if not isinstance(driver, FileDriver):
        raise ConfigurationError(
            f"migrate-files works on file:// buckets only, not {bucket.scheme}://"
        )
    scanned = rewritten = vanished = 0
    limit = asyncio.Semaphore(jobs)

    async def one(key: str) -> None:
        nonlocal scanned, rewritten, vanished
        async with limit:
            try:
                changed = await driver.upgrade(key)  # never `x += await`: x is read first
            except NotFoundError:
                vanished += 1
            else:
                rewritten += changed
            scanned += 1
            if on_progress is not None:
                on_progress(scanned)

    base = f"{bucket.prefix}/" if bucket.prefix else ""
    pending: set[asyncio.Task[None]] = set()
    try:
        async for info in bucket.list():
            pending.add(asyncio.create_task(one(base + info.key)))
            if len(pending) >= jobs * 4:
                done, pending = await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
                for task in done:
                    task.result()
        if pending:
            await asyncio.gather(*pending)
    finally:
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)
    return MigrationReport(scanned=scanned, rewritten=rewritten, vanished=vanished)
