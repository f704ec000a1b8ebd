"""Index v2 at scale on the memory and file backends, with a request and byte counter.

    PYTHONPATH=src .venv/bin/python benchmarks/index_scale.py [--sizes 10000 100000 1000000]
        [--backends memory file] [--per-partition 10]

For each size N: N artifact-like entries (the artifact store's schema) in N / 10
partitions (runs), added in batches of 256 (one tail segment each, as group commit
makes them under load) with the index's default options and background compaction.
Then, on a cold index object: one partition query, and a full ``count()``. Printed:

* bytes written by the index (segments, chunks, manifests) / bytes of the entries as
  added (their JSON in the segments): the write amplification, target <= 30;
* a cold partition query: index objects read (GETs) and bytes, target <= 10 and 1 MB;
* a cold full count: what it GETs (manifests and chunks only, never data objects).

The memory backend keeps every byte in RAM: chunks no manifest references are deleted
between batches (counted as written all the same) so that 1M entries fit.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson

try:
    from _harness import print_table
except ModuleNotFoundError:  # run as `python -m benchmarks.index_scale`
    from benchmarks._harness import print_table

import cloudstores
from cloudstores.bucket.base import Bucket
from cloudstores.bucket.driver import Driver, ListPage
from cloudstores.bucket.types import ObjectInfo, PutMode, StoredObject, Version
from cloudstores.errors import StoreError
from cloudstores.stores.artifacts import ARTIFACT_FIELDS
from cloudstores.stores.index import Index, IndexOptions
from cloudstores.stores.index.entries import encode_entry

PREFIX = "ws/bench/_index/artifacts"
BATCH = 256


def kind_of(key: str) -> str:
    if "/_index/" not in key:
        return "data"
    if "/c/" in key:
        return "chunk"
    if "/m/" in key:
        return "manifest"
    return "segment"


class CountingDriver:
    """Wraps a bucket's driver; counts bytes read and written, and GETs, by object kind."""

    def __init__(self, inner: Driver) -> None:
        self.inner = inner
        self.scheme = inner.scheme
        self.name = inner.name
        self.written: Counter[str] = Counter()
        self.read: Counter[str] = Counter()
        self.gets: Counter[str] = Counter()

    async def open(self) -> None:
        """The inner bucket opened it."""

    async def close(self) -> None:
        """The inner bucket closes it."""

    async def put(
        self,
        key: str,
        data: bytes,
        *,
        mode: PutMode,
        content_type: str,
        metadata: Mapping[str, str],
    ) -> Version:
        self.written[kind_of(key)] += len(data)
        return await self.inner.put(
            key, data, mode=mode, content_type=content_type, metadata=metadata
        )

    async def get(self, key: str) -> StoredObject:
        obj = await self.inner.get(key)
        self.read[kind_of(key)] += len(obj.data)
        self.gets[kind_of(key)] += 1
        return obj

    async def head(self, key: str) -> ObjectInfo:
        return await self.inner.head(key)

    async def delete(self, key: str) -> None:
        await self.inner.delete(key)

    async def list_page(
        self, prefix: str, start_after: str | None, token: str | None, limit: int | None = None
    ) -> ListPage:
        return await self.inner.list_page(prefix, start_after, token, limit)

    def translate(self, exc: Exception, request: Any) -> StoreError:
        return self.inner.translate(exc, request)


class CountingBucket(Bucket):
    """A Bucket over a :class:`CountingDriver` of ``inner``'s driver, same prefix."""

    def __init__(self, inner: Bucket) -> None:
        self.counter = CountingDriver(inner.driver)
        super().__init__(self.counter, prefix=inner.prefix, retry=inner.retry)
        self.written, self.read, self.gets = (
            self.counter.written,
            self.counter.read,
            self.counter.gets,
        )

    def reset(self) -> None:
        self.requests.clear()
        self.read.clear()
        self.gets.clear()


async def collect_garbage(bucket: CountingBucket, index: Index) -> None:
    """Delete chunks the index's manifest does not reference (memory backend only)."""
    if index.manifest is None or (index._compacting is not None and not index._compacting.done()):
        return
    live = {index.layout.chunk(c.id) for c in index.manifest.chunks}
    stale = [i.key async for i in bucket.list(index.layout.chunks) if i.key not in live]
    for key in stale:
        await bucket.delete(key)


async def one_size(url: str, size: int, per_partition: int, gc: bool) -> dict[str, str]:
    partitions = max(1, size // per_partition)
    base = datetime(2026, 1, 1, tzinfo=UTC)
    async with cloudstores.open_bucket(url) as inner:
        bucket = CountingBucket(inner)
        options = IndexOptions(cache_bytes=512 * 1024 * 1024)
        index = Index(bucket, PREFIX, ARTIFACT_FIELDS, options=options)
        entry_bytes = 0
        started = time.perf_counter()
        for start in range(0, size, BATCH):
            batch = [
                index.entry(
                    f"a{i:07d}",
                    {
                        "run_id": f"run-{i % partitions:06d}",
                        "type": "llm_response",
                        "created_by": f"agent-{i % 13}",
                        "task_id": f"t{i % 97}",
                        "created_at": base + timedelta(seconds=i),
                    },
                )
                for i in range(start, min(start + BATCH, size))
            ]
            entry_bytes += sum(len(orjson.dumps(encode_entry(e, stamp=False))) + 1 for e in batch)
            await index.add(batch)
            if gc and (start // BATCH) % 20 == 19:
                await collect_garbage(bucket, index)
        await index.close()
        write_s = time.perf_counter() - started
        written = dict(bucket.written)
        total_written = sum(written.values())
        manifest = index.manifest

        cold = Index(bucket, PREFIX, ARTIFACT_FIELDS, options=options)
        bucket.reset()
        wanted = f"run-{(partitions // 2):06d}"
        found = await cold.count(where={"run_id": wanted})
        part_gets, part_bytes = sum(bucket.gets.values()), sum(bucket.read.values())
        part_lists = bucket.requests["list"]
        part_kinds = dict(bucket.gets)

        cold_all = Index(bucket, PREFIX, ARTIFACT_FIELDS, options=options)
        bucket.reset()
        total = await cold_all.count()
        count_kinds = dict(bucket.gets)
        assert found == per_partition or size < per_partition, (found, per_partition)
        assert total == size, (total, size)
        assert not cold.problems and not cold_all.problems and not index.problems
    return {
        "entries": f"{size:,}",
        "partitions": f"{partitions:,}",
        "write s": f"{write_s:,.1f}",
        "entry MB": f"{entry_bytes / 1e6:,.1f}",
        "index MB written (seg/chunk/manifest)": (
            f"{total_written / 1e6:,.1f} ({written.get('segment', 0) / 1e6:,.1f}/"
            f"{written.get('chunk', 0) / 1e6:,.1f}/{written.get('manifest', 0) / 1e6:,.1f})"
        ),
        "written / entry bytes": f"{total_written / entry_bytes:.1f}",
        "levels, chunks, manifest n": (
            f"{manifest.levels}, {len(manifest.chunks)}, {manifest.n}" if manifest else "-"
        ),
        "cold partition query: GETs (m/c/seg), LISTs, KB": (
            f"{part_gets} ({part_kinds.get('manifest', 0)}/{part_kinds.get('chunk', 0)}/"
            f"{part_kinds.get('segment', 0)}), {part_lists}, {part_bytes / 1e3:,.0f}"
        ),
        "cold count(): GETs by kind": ", ".join(f"{k} {v}" for k, v in sorted(count_kinds.items())),
    }


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", type=int, nargs="*", default=[10_000, 100_000, 1_000_000])
    parser.add_argument("--backends", nargs="*", default=["memory", "file"])
    parser.add_argument("--per-partition", type=int, default=10)
    args = parser.parse_args()
    for backend in args.backends:
        rows: list[list[str]] = []
        columns: list[str] = []
        for size in args.sizes:
            with tempfile.TemporaryDirectory(prefix="bench-index-") as tmp:
                url = (
                    f"memory://index-scale-{size}/p"
                    if backend == "memory"
                    else f"file://{Path(tmp)}?fsync=false"
                )
                row = await one_size(url, size, args.per_partition, gc=backend == "memory")
            columns = list(row)
            rows.append(list(row.values()))
            print(row, file=sys.stderr, flush=True)
        print_table(f"Index v2 growth on {backend}", columns, rows)


if __name__ == "__main__":
    asyncio.run(main())
