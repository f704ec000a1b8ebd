"""A second process for test_index_processes: add entries, compact, then wait until the
index shows every entry of both processes; print the keys it sees as JSON.

    python -m tests.stores.index_worker URL NAME COUNT TOTAL
"""

from __future__ import annotations

import asyncio
import json
import sys
import time

import cloudstores
from cloudstores.stores.index import Field, Index, IndexOptions, Schema

SCHEMA = Schema((Field("part"), Field("who")), partition="part")
OPTIONS = IndexOptions(max_batch=5, compact_every=3, chunk_bytes=512, level1_bytes=2048, fanout=2)
PREFIX = "ws/p/_index/two"


async def main(url: str, name: str, count: int, total: int) -> None:
    async with cloudstores.open_bucket(url) as bucket:
        index = Index(bucket, PREFIX, SCHEMA, options=OPTIONS)
        for start in range(0, count, 3):
            batch = [
                index.entry(f"{name}-{i:04d}", {"part": f"p{i % 5}", "who": name})
                for i in range(start, min(start + 3, count))
            ]
            await index.add(batch)
            if start % 30 == 0:
                await index.compact()
        deadline = time.monotonic() + 120
        seen: list[str] = []
        while time.monotonic() < deadline:
            seen = sorted(e.key for e in (await index.query()).entries)
            if len(seen) >= total:
                break
            await asyncio.sleep(0.2)
        await index.close()
        print(json.dumps({"keys": seen, "problems": [p.reason for p in index.problems]}))


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])))
