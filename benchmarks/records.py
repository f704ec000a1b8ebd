"""Record collections vs the raw SDK on moto and Azurite.

    PYTHONPATH=src .venv/bin/python benchmarks/records.py [--count 10000] [--runs 100] [s3 azure]

1. ``append`` throughput: 64 concurrent appenders, at most 16 requests in flight (the
   bucket's ``max_in_flight``), vs raw create-only PUTs of the same bodies at 16 in
   flight. The index entries ride along by group commit. Client CPU per record.
2. ``aggregate(where={"run_id": r}, group_by="node_id", sum=["cost"])`` over ``--count``
   records in ``--runs`` runs: warm (the writer's collection) and cold (a new collection
   object each call) vs the raw SDK with the best layout it could have
   (``raw/{run}/{id}.json``: LIST the run's prefix, GET each record, sum).
3. ``aggregate(group_by="node_id", sum=["cost"])`` over the whole collection vs a raw
   full scan (LIST every record, GET each, sum), one call each.

Both sides run against the same emulator in the same run; compare ratios, not times (the
emulator is the bottleneck). The raw side's LIST goes through our bucket's driver (one
paginated LIST call), its GETs and PUTs straight through the SDK.
"""

from __future__ import annotations

import argparse
import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any

from _harness import emulator, print_table, rate, raw_client

import cloudstores
from cloudstores import codec
from cloudstores.stores.records import RecordCollection

FIELDS = {"run_id": "string", "node_id": "string", "cost": "number"}
NODES = ("plan", "search", "write", "judge")


def record(i: int, runs: int) -> dict[str, Any]:
    return {
        "run_id": f"run-{i % runs:04d}",
        "node_id": NODES[i % len(NODES)],
        "cost": (i % 97) / 1000,
        "model": "model-x",
        "tokens": {"in": 812, "out": 96},
    }


def collection(bucket: cloudstores.Bucket) -> RecordCollection:
    return RecordCollection(bucket, "costs", workspace="bench", fields=FIELDS, partition="run_id")


async def measured(fn: Callable[[], Awaitable[Any]], repeat: int) -> tuple[float, float]:
    """(calls per second, client CPU ms per call) of ``repeat`` sequential calls."""
    cpu, wall = time.process_time(), time.perf_counter()
    for _ in range(repeat):
        await fn()
    return repeat / (time.perf_counter() - wall), 1000 * (time.process_time() - cpu) / repeat


async def measured_rate(
    op: Callable[[int], Awaitable[object]], count: int, conc: int
) -> tuple[float, float]:
    cpu = time.process_time()
    per_second = await rate(op, count, conc)
    return per_second, 1000 * (time.process_time() - cpu) / count


def sums(bodies: list[bytes]) -> dict[str, tuple[int, float]]:
    out: dict[str, tuple[int, float]] = {}
    for body in bodies:
        value = codec.loads(body)
        value = value.get("record", value)
        count, total = out.get(value["node_id"], (0, 0.0))
        out[value["node_id"]] = (count + 1, total + value["cost"])
    return out


async def cloud_rows(cloud: str, count: int, runs: int) -> list[list[str]]:
    rows: list[list[str]] = []
    with emulator(cloud) as new_url:
        url = new_url()
        raw = raw_client(cloud, url)
        await raw.open()
        bodies = [codec.dumps(record(i, runs)) for i in range(count)]
        raw_put, raw_put_cpu = await measured_rate(
            lambda i: raw.put(f"raw/run-{i % runs:04d}/r{i:06d}.json", bodies[i]), count, 16
        )
        async with cloudstores.open_bucket(url, max_in_flight=16) as bucket:
            writer = collection(bucket)
            ours_put, ours_put_cpu = await measured_rate(
                lambda i: writer.append(record(i, runs)), count, 64
            )
            await writer.close()
            puts = bucket.requests["put"] / count
            rows.append(
                [
                    f"{cloud} append ({count:,}; 64 writers, 16 in flight)",
                    f"{ours_put:,.0f}/s",
                    f"{raw_put:,.0f}/s",
                    f"{ours_put / raw_put:.2f}",
                    f"{ours_put_cpu:.2f} / {raw_put_cpu:.2f}",
                    f"{puts:.3f} PUT per record",
                ]
            )
            run = "run-0007"
            want = {
                g: (r.count, round(r.sums["cost"], 9))
                for g, r in (
                    await writer.aggregate(where={"run_id": run}, group_by="node_id", sum=["cost"])
                ).items()
            }

            async def raw_by_run() -> None:
                keys = [info.key async for info in bucket.list(f"raw/{run}/")]
                found = sums(await asyncio.gather(*(raw.get(k) for k in keys)))
                assert {g: (c, round(t, 9)) for g, (c, t) in found.items()} == want

            async def warm() -> None:
                await writer.aggregate(where={"run_id": run}, group_by="node_id", sum=["cost"])

            async def cold() -> None:
                await collection(bucket).aggregate(
                    where={"run_id": run}, group_by="node_id", sum=["cost"]
                )

            raw_rate, raw_cpu = await measured(raw_by_run, 10)
            warm_rate, warm_cpu = await measured(warm, 10)
            cold_rate, cold_cpu = await measured(cold, 10)
            bucket.requests.clear()
            await cold()
            cold_requests = f"{bucket.requests['list']} LIST + {bucket.requests['get']} GET"
            per_run = count // runs
            for label, ours, cpu, note in (
                ("warm", warm_rate, warm_cpu, "warm: 1 GET (tail probe)"),
                ("cold", cold_rate, cold_cpu, f"cold: {cold_requests}"),
            ):
                rows.append(
                    [
                        f"{cloud} aggregate one run ({per_run} of {count:,}), {label}",
                        f"{ours:,.1f}/s",
                        f"{raw_rate:,.1f}/s",
                        f"{ours / raw_rate:.2f}",
                        f"{cpu:.2f} / {raw_cpu:.2f}",
                        f"{note}; raw: LIST run prefix + {per_run} GET",
                    ]
                )

            async def raw_scan() -> None:
                keys = [info.key async for info in bucket.list("raw/")]
                gate = asyncio.Semaphore(16)

                async def one(key: str) -> bytes:
                    async with gate:
                        data: bytes = await raw.get(key)
                        return data

                assert len(sums(await asyncio.gather(*(one(k) for k in keys)))) == len(NODES)

            async def whole() -> None:
                groups = await collection(bucket).aggregate(group_by="node_id", sum=["cost"])
                assert sum(r.count for r in groups.values()) == count

            scan_rate, scan_cpu = await measured(raw_scan, 1)
            whole_rate, whole_cpu = await measured(whole, 3)
            rows.append(
                [
                    f"{cloud} aggregate all {count:,}, cold",
                    f"{whole_rate:,.2f}/s",
                    f"{scan_rate:,.3f}/s",
                    f"{whole_rate / scan_rate:.1f}",
                    f"{whole_cpu:.1f} / {scan_cpu:.1f}",
                    f"raw: LIST + {count:,} GET",
                ]
            )
        await raw.close()
    return rows


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("clouds", nargs="*", default=["s3", "azure"])
    parser.add_argument("--count", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=100)
    args = parser.parse_args()
    rows: list[list[str]] = []
    for cloud in args.clouds:
        rows.extend(await cloud_rows(cloud, args.count, args.runs))
    print_table(
        "record collections vs the raw SDK (same emulator, same run)",
        ["operation", "ours", "raw SDK", "ratio", "CPU ms/op ours / raw", "notes"],
        rows,
    )


if __name__ == "__main__":
    asyncio.run(main())
