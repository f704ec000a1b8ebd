"""Bucket overhead: 1 KiB PUT and GET throughput through ``Bucket`` vs the raw SDK.

On each emulator, in one run: 16 concurrent requests, create-only PUTs of 1 KiB and
GETs of them, first straight on the SDK and then through cloudstores, interleaved over
several rounds (the median is reported). The emulator is the bottleneck on this
machine, so compare the ratio, not the absolute rates.

    .venv/bin/python benchmarks/bucket_overhead.py [--count 1000] [--rounds 3] [s3 azure gcs]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics

from _harness import emulator, print_table, rate, raw_client

import cloudstores

BODY = b"x" * 1024
CONCURRENCY = 16


async def phase(cloud: str, url: str, who: str, count: int) -> tuple[float, float]:
    """PUT then GET ``count`` 1 KiB objects in a fresh bucket; return both rates."""
    if who == "raw":
        client = raw_client(cloud, url)
        await client.open()
        put, get, close = client.put, client.get, client.close
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
    results: dict[str, list[tuple[float, float]]] = {"raw": [], "ours": []}
    with emulator(cloud) as new_url:
        for r in range(rounds):
            for who in (("raw", "ours") if r % 2 == 0 else ("ours", "raw")):
                results[who].append(await phase(cloud, new_url(), who, count))
    rows = []
    for column, op in ((0, "PUT"), (1, "GET")):
        ours = statistics.median(x[column] for x in results["ours"])
        raw = statistics.median(x[column] for x in results["raw"])
        rows.append([f"{cloud} {op} 1 KiB", f"{ours:,.0f}", f"{raw:,.0f}", f"{ours / raw:.2f}"])
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
                f"of {args.count}", ["operation", "cloudstores /s", "raw SDK /s", "ratio"], rows)


if __name__ == "__main__":
    asyncio.run(main())
