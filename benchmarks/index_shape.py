"""Index compaction shape: increasing keys (time-ordered ids) against random keys.

    PYTHONPATH=src .venv/bin/python benchmarks/index_shape.py [--sizes 1000 10000]
        [--batch 1] [--backend memory]

For each size N and key order: N record-like entries (no partition; fields
``status``, ``n``, ``at``) appended ``--batch`` at a time, one after the other (one
tail segment per append, as a lone writer makes them), with the index's default
options and background compaction, then ``close()``. Printed: the index bytes written
(segments, chunks, manifests) / the bytes of the entries as added (write
amplification), the chunks and levels of the final manifest, and what a cold
``query()`` of everything and a cold ``count(where=...)`` cost in GETs.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import sys
from datetime import UTC, datetime, timedelta

import orjson

try:
    from _harness import print_table
    from index_scale import CountingBucket
except ModuleNotFoundError:  # run as `python -m benchmarks.index_shape`
    from benchmarks._harness import print_table
    from benchmarks.index_scale import CountingBucket

import cloudstores
from cloudstores.stores.index import Field, Index, IndexOptions, Schema
from cloudstores.stores.index.entries import encode_entry

SCHEMA = Schema((Field("status"), Field("n", "number"), Field("at", "datetime")))
PREFIX = "ws/bench/_index/records/shape"


def ids(size: int, order: str) -> list[str]:
    made = [f"01J{i:023d}" for i in range(size)]  # 26 characters, like new_record_id()
    if order == "random":
        random.Random(7).shuffle(made)
    return made


async def one(size: int, order: str, batch: int) -> dict[str, str]:
    base = datetime(2026, 1, 1, tzinfo=UTC)
    async with cloudstores.open_bucket(f"memory://shape-{order}-{size}/p") as inner:
        bucket = CountingBucket(inner)
        options = IndexOptions()
        index = Index(bucket, PREFIX, SCHEMA, options=options)
        keys = ids(size, order)
        entry_bytes = 0
        for start in range(0, size, batch):
            entries = [
                index.entry(
                    key,
                    {
                        "status": ("done", "running", "failed")[i % 3],
                        "n": i,
                        "at": base + timedelta(seconds=i),
                    },
                )
                for i, key in enumerate(keys[start : start + batch], start)
            ]
            entry_bytes += sum(len(orjson.dumps(encode_entry(e, stamp=False))) + 1 for e in entries)
            await index.add(entries)
        await index.close()
        written = dict(bucket.written)
        total = sum(written.values())
        manifest = index.manifest
        assert manifest is not None and not index.problems

        cold = Index(bucket, PREFIX, SCHEMA, options=options)
        bucket.reset()
        rows = (await cold.query()).entries
        assert len(rows) == size, (len(rows), size)
        query_gets = sum(bucket.gets.values())
        cold = Index(bucket, PREFIX, SCHEMA, options=options)
        bucket.reset()
        failed = await cold.count(where={"status": "failed"})
        assert failed == len(range(2, size, 3))
        count_gets = sum(bucket.gets.values())
        small = sum(1 for c in manifest.chunks if c.bytes <= options.chunk_bytes // 2)
    return {
        "keys": order,
        "entries": f"{size:,}",
        "entry KB": f"{entry_bytes / 1e3:,.0f}",
        "index KB written (seg/chunk/manifest)": (
            f"{total / 1e3:,.0f} ({written.get('segment', 0) / 1e3:,.0f}/"
            f"{written.get('chunk', 0) / 1e3:,.0f}/{written.get('manifest', 0) / 1e3:,.0f})"
        ),
        "written / entry bytes": f"{total / entry_bytes:.1f}",
        "chunk+seg / entry bytes": (
            f"{(written.get('segment', 0) + written.get('chunk', 0)) / entry_bytes:.1f}"
        ),
        "levels, chunks (small), n": (
            f"{manifest.levels}, {len(manifest.chunks)} ({small}), {manifest.n}"
        ),
        "cold query() GETs": str(query_gets),
        "cold count(where) GETs": str(count_gets),
    }


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", type=int, nargs="*", default=[1_000, 10_000])
    parser.add_argument("--batch", type=int, default=1)
    args = parser.parse_args()
    rows: list[list[str]] = []
    columns: list[str] = []
    for size in args.sizes:
        for order in ("increasing", "random"):
            row = await one(size, order, args.batch)
            columns = list(row)
            rows.append(list(row.values()))
            print(row, file=sys.stderr, flush=True)
    print_table(f"Index compaction shape (appends of {args.batch})", columns, rows)


if __name__ == "__main__":
    asyncio.run(main())
