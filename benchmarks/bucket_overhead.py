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

from _harness import best_of, emulator, print_table, raw_client, rate

import cloudstores

BODY = b"x" * 1024
CONCURRENCY = 16


async def measure_cloud(cloud: str, count: int, rounds: int) -> list[list[str]]:
    with emulator(cloud) as new_url:
        url = new_url()
        raw = raw_client(cloud, url)
        await raw.open()
        try:
            async with cloudstores.open_bucket(url) as bucket:
                # warm both connection pools
                await rate(lambda i: raw.put(f"warm/raw/{i}", BODY), 64, CONCURRENCY)
                await rate(lambda i: bucket.put(f"warm/ours/{i}", BODY), 64, CONCURRENCY)
                put_raw: list[float] = []
                put_ours: list[float] = []

                async def puts(r: int) -> float:
                    put_raw.append(await rate(lambda i: raw.put(f"raw/{r}/{i}", BODY),
                                              count, CONCURRENCY))
                    put_ours.append(await rate(lambda i: bucket.put(f"ours/{r}/{i}", BODY),
                                               count, CONCURRENCY))
                    return 0.0

                await best_of(rounds, puts)
                get_raw: list[float] = []
                get_ours: list[float] = []

                async def gets(r: int) -> float:
                    get_raw.append(await rate(lambda i: raw.get(f"raw/{r}/{i}"),
                                              count, CONCURRENCY))
                    get_ours.append(await rate(lambda i: bucket.get(f"ours/{r}/{i}"),
                                               count, CONCURRENCY))
                    return 0.0

                await best_of(rounds, gets)
        finally:
            await raw.close()
    rows = []
    for op, ours, theirs in (("PUT", put_ours, put_raw), ("GET", get_ours, get_raw)):
        o, t = sorted(ours)[len(ours) // 2], sorted(theirs)[len(theirs) // 2]
        rows.append([f"{cloud} {op} 1 KiB", f"{o:,.0f}", f"{t:,.0f}", f"{o / t:.2f}"])
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
