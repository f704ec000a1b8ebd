"""Bucket overhead: 1 KiB PUT and GET through ``Bucket`` vs the raw client, per engine.

On each emulator, in one run: 16 concurrent requests, create-only PUTs of 1 KiB and
GETs of them, on these sides, alternating over several rounds, each phase in a fresh
bucket (the median is reported):

- ``raw SDK``: the plain SDK call (aioboto3, azure-storage-blob aio, google-cloud-storage);
- ``SDK engine``: cloudstores' default engine over that SDK;
- ``raw SDK + put-id``: the SDK call also carrying the put-id metadata every Bucket put
  carries (to tell the layer's cost from the metadata's);
- ``obstore engine``: cloudstores with ``engine="obstore"``;
- ``raw obstore``: the plain obstore call, configured as the engine configures it.

For every side it reports throughput and client CPU per request (``time.process_time``
over the phase, all threads of this process: the emulator runs in another process).
The emulator is the bottleneck on this machine, so compare ratios, not rates. obstore
on fake-gcs-server is an emulator gap (its XML-API upload answers 400 "invalid
uploadType"), so gcs runs only the SDK sides.

    .venv/bin/python benchmarks/bucket_overhead.py [--count 1000] [--rounds 3] [s3 azure gcs]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from _harness import emulator, print_table, rate, raw_client

import cloudstores

BODY = b"x" * 1024
CONCURRENCY = 16
SIDES = ("raw SDK", "SDK engine", "raw SDK + put-id", "obstore engine", "raw obstore")
OBSTORE_SIDES = ("obstore engine", "raw obstore")
OBSTORE_CLOUDS = ("s3", "azure")
Figures = tuple[float, float, float, float]  # put /s, put µs CPU, get /s, get µs CPU


async def timed(op: Callable[[int], Awaitable[object]], count: int) -> tuple[float, float]:
    """Requests per second and client CPU microseconds per request for ``count`` ops."""
    cpu = time.process_time()
    per_second = await rate(op, count, CONCURRENCY)
    return per_second, (time.process_time() - cpu) / count * 1e6


def open_side(cloud: str, url: str, side: str) -> Any:
    """An object with open/put/get/close for ``side`` at ``url``."""
    if side == "raw obstore":
        from benchmarks.raw.obstore import RawObstore

        return RawObstore(url)
    if side.startswith("raw SDK"):
        return raw_client(cloud, url)
    engine = "obstore" if side == "obstore engine" else None
    return cloudstores.open_bucket(url, engine=engine)


async def phase(cloud: str, url: str, side: str, count: int) -> Figures:
    """PUT then GET ``count`` 1 KiB objects in a fresh bucket through ``side``."""
    client = open_side(cloud, url, side)
    await client.open()
    put: Callable[[str, bytes], Awaitable[object]] = client.put
    if side == "raw SDK + put-id":

        def put(key: str, data: bytes) -> Awaitable[object]:
            return client.put(key, data, metadata={"cloudstores_put_id": uuid.uuid4().hex})

    try:
        await rate(lambda i: put(f"warm/{i}", BODY), 32, CONCURRENCY)
        put_rate, put_cpu = await timed(lambda i: put(f"k/{i:06d}", BODY), count)
        get_rate, get_cpu = await timed(lambda i: client.get(f"k/{i:06d}"), count)
    finally:
        await client.close()
    return put_rate, put_cpu, get_rate, get_cpu


async def measure_cloud(cloud: str, count: int, rounds: int) -> list[list[str]]:
    """Alternate the sides (forward, then backward), each phase in a fresh bucket
    (emulators slow down as a bucket fills, so order and fill must favour no side)."""
    sides = [s for s in SIDES if cloud in OBSTORE_CLOUDS or s not in OBSTORE_SIDES]
    results: dict[str, list[Figures]] = {side: [] for side in sides}
    with emulator(cloud) as new_url:
        for r in range(rounds):
            for side in sides if r % 2 == 0 else sides[::-1]:
                results[side].append(await phase(cloud, new_url(), side, count))
    med = {
        side: [statistics.median(x[i] for x in results[side]) for i in range(4)] for side in sides
    }
    ratio_to = {
        "SDK engine": "raw SDK",
        "raw SDK + put-id": "raw SDK",
        "obstore engine": "raw obstore",
    }
    rows = []
    for op, (r_col, c_col) in (("PUT", (0, 1)), ("GET", (2, 3))):
        for side in sides:
            base = ratio_to.get(side)
            row = [
                f"{cloud} {op} 1 KiB",
                side,
                f"{med[side][r_col]:,.0f}",
                f"{med[side][c_col]:,.0f}",
            ]
            if base is not None:
                row += [
                    f"{med[side][r_col] / med[base][r_col]:.2f}",
                    f"{med[side][c_col] / med[base][c_col]:.2f}",
                ]
            else:
                row += ["", ""]
            if side == "obstore engine":
                row += [
                    f"{med[side][r_col] / med['SDK engine'][r_col]:.2f}",
                    f"{med[side][c_col] / med['SDK engine'][c_col]:.2f}",
                ]
            else:
                row += ["", ""]
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
    print_table(
        f"Bucket vs raw client, {CONCURRENCY} in flight, median of {args.rounds} rounds of "
        f"{args.count} (ratios: engine to its raw client, put-id side to raw SDK)",
        [
            "operation",
            "side",
            "req/s",
            "CPU µs/req",
            "ratio req/s",
            "ratio CPU",
            "vs SDK engine req/s",
            "vs SDK engine CPU",
        ],
        rows,
    )


if __name__ == "__main__":
    asyncio.run(main())
