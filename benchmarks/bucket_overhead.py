"""Bucket overhead: 1 KiB PUT and GET throughput through ``Bucket`` vs the raw SDK.

On each emulator, in one run: 16 concurrent requests, create-only PUTs of 1 KiB and
GETs of them, straight on the SDK, through cloudstores, and on the SDK with the same
put-id metadata cloudstores sends (to tell the layer's cost from the metadata's),
alternating over several rounds in fresh buckets (the median is reported). The
emulator is the bottleneck on this machine, so compare the ratio, not the rates.

    .venv/bin/python benchmarks/bucket_overhead.py [--count 1000] [--rounds 3] [s3 azure gcs]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import uuid
from collections.abc import Awaitable

from _harness import emulator, print_table, rate, raw_client

import cloudstores

BODY = b"x" * 1024
CONCURRENCY = 16


async def phase(cloud: str, url: str, who: str, count: int) -> tuple[float, float]:
    """PUT then GET ``count`` 1 KiB objects in a fresh bucket; return both rates.

    ``who``: ``ours`` (Bucket), ``raw`` (the plain SDK call), or ``raw+id`` (the SDK call
    also carrying a random put-id in the object's metadata, as every Bucket put does so
    that a retried conditional write can recognise its own landed attempt).
    """
    if who in ("raw", "raw+id"):
        client = raw_client(cloud, url)
        await client.open()
        get, close = client.get, client.close
        if who == "raw":
            put = client.put
        else:
            def put(key: str, data: bytes) -> Awaitable[None]:
                return client.put(key, data, metadata={"cloudstores_put_id": uuid.uuid4().hex})
    else:
        bucket = cloudstores.open_bucket(url)
        await bucket.open()
        put, get, close = bucket.put, bucket.get, bucket.close
    try:
        await rate(lambda i: put(f"warm/{i}", BODY), 32, CONCURRENCY)
        put_rate = await rate(lambda i: put(f"k/{i:06d}", BODY), count, CONCURRENCY)
        get_rate = await rate(lambda i: get(f"k/{i:06d}"), count, CONCURRENCY)
    finally:
        await close()
    return put_rate, get_rate


async def measure_cloud(cloud: str, count: int, rounds: int) -> list[list[str]]:
    """Alternate raw and cloudstores phases, each in a fresh bucket (emulators slow down
    as a bucket fills, so order and fill must not favour either side)."""
    sides = ("raw", "ours", "raw+id")
    results: dict[str, list[tuple[float, float]]] = {who: [] for who in sides}
    with emulator(cloud) as new_url:
        for r in range(rounds):
            for who in (sides if r % 2 == 0 else sides[::-1]):
                results[who].append(await phase(cloud, new_url(), who, count))
    rows = []
    for column, op in ((0, "PUT"), (1, "GET")):
        ours, raw, with_id = (statistics.median(x[column] for x in results[who])
                              for who in ("ours", "raw", "raw+id"))
        row = [f"{cloud} {op} 1 KiB", f"{ours:,.0f}", f"{raw:,.0f}", f"{ours / raw:.2f}"]
        row += [f"{with_id:,.0f}", f"{ours / with_id:.2f}"] if op == "PUT" else ["", ""]
        rows.append(row)
    return rows


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("clouds", nargs="*", default=["s3", "azure", "gcs"])
    parser.add_argument("--count", type=int, default=1000, help="requests per round")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    rows: list[list[str]] = []
    for cloud in args.clouds:
        rows.extend(await measure_cloud(cloud, args.count, args.rounds))
    print_table(f"Bucket vs raw SDK, {CONCURRENCY} in flight, median of {args.rounds} rounds "
                f"of {args.count}", ["operation", "cloudstores /s", "raw SDK /s", "ratio",
                                     "raw + put-id /s", "ratio to it"], rows)


if __name__ == "__main__":
    asyncio.run(main())
