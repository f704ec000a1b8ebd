"""Audit store vs raw create-only PUTs (moto, Azurite), and verify speed (file, moto).

    .venv/bin/python benchmarks/audit.py [--appenders 512] [--per-appender 20]
                                         [--raw-count 600] [--verify-size 10000] [s3 azure]

1. Throughput: ``--appenders`` concurrent tasks append to ONE stream through a bucket
   opened with ``max_in_flight=16``, default options (checkpoints every 100 entries
   included), vs raw create-only PUTs of one event each at 16 in flight, same event
   bytes, same emulator, same run. Figure: durably appended events per second.
2. Latency: a lone append to a warm writer with no other traffic vs one raw PUT
   (median of ``--latency-count`` sequential calls each).
3. ``verify`` of a ``--verify-size``-event stream on the file backend and on moto, in
   two shapes: one object per event (the worst case: a GET per entry) and the batched
   stream the throughput run leaves behind.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
for path in (REPO, REPO / "benchmarks"):
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))

from _harness import emulator, rate, raw_client  # noqa: E402
from rich.console import Console  # noqa: E402
from rich.table import Table  # noqa: E402

import cloudstores  # noqa: E402
from cloudstores import codec  # noqa: E402
from cloudstores.stores.audit import (  # noqa: E402
    AuditOptions,
    AuditStore,
    Ed25519Signer,
    chain,
)
from cloudstores.stores.audit.layout import StreamKeys  # noqa: E402

IN_FLIGHT = 16
SIGNER = Ed25519Signer.from_bytes(bytes(range(32)))


def event(i: int) -> dict[str, object]:
    return {
        "action": "tool_call",
        "actor": "agent-7",
        "n": i,
        "run_id": "run-000042",
        "details": {"tool": "search", "query": "q" * 120, "ok": True},
    }


EVENT_BYTES = len(codec.dumps(event(0)))
Row = list[str]


async def throughput(
    cloud: str, url: str, appenders: int, per: int, raw_count: int
) -> tuple[Row, float]:
    raw = raw_client(cloud, url)
    await raw.open()
    try:
        body = codec.dumps(event(0))
        await raw.put("raw/warm.json", body)
        raw_rate = await rate(lambda i: raw.put(f"raw/{i:08d}.json", body), raw_count, IN_FLIGHT)
    finally:
        await raw.close()

    async with (
        cloudstores.open_bucket(url, max_in_flight=IN_FLIGHT) as bucket,
        AuditStore(bucket, signer=SIGNER) as audit,
    ):
        await audit.append("bench", event(-1))  # warm: tail known, connections open

        async def appender(a: int) -> None:
            for i in range(per):
                await audit.append("bench", event(a * per + i))

        started = time.perf_counter()
        await asyncio.gather(*(appender(a) for a in range(appenders)))
        ours = appenders * per / (time.perf_counter() - started)
        puts = bucket.requests["put"]
    row = [
        f"throughput {cloud}",
        f"{ours:,.0f} ev/s",
        f"{raw_rate:,.0f} ev/s",
        f"{ours / raw_rate:.1f}x",
        ">= 10x",
        f"{appenders} appenders, {appenders * per} events, {puts} PUTs",
    ]
    return row, ours / raw_rate


async def latency(cloud: str, url: str, count: int) -> Row:
    raw = raw_client(cloud, url)
    await raw.open()
    body = codec.dumps(event(0))
    raw_times: list[float] = []
    ours: list[float] = []
    try:
        async with cloudstores.open_bucket(url, max_in_flight=IN_FLIGHT) as bucket:
            options = AuditOptions(
                checkpoint_every=None, checkpoint_interval=None, checkpoint_on_close=False
            )
            async with AuditStore(bucket, signer=SIGNER, options=options) as audit:
                for i in range(5):  # warm both paths
                    await audit.append("lat", event(i))
                    await raw.put(f"lat-raw/w{i}.json", body)
                for i in range(count):  # interleaved, so drift hits both alike
                    t0 = time.perf_counter()
                    await raw.put(f"lat-raw/{i:06d}.json", body)
                    t1 = time.perf_counter()
                    await audit.append("lat", event(i))
                    t2 = time.perf_counter()
                    raw_times.append(t1 - t0)
                    ours.append(t2 - t1)
    finally:
        await raw.close()
    ours_ms, raw_ms = statistics.median(ours) * 1e3, statistics.median(raw_times) * 1e3
    return [
        f"lone append {cloud}",
        f"{ours_ms:.2f} ms",
        f"{raw_ms:.2f} ms",
        f"{ours_ms / raw_ms:.2f}x",
        "<= 1.3x",
        f"median of {count}",
    ]


async def build_single_objects(bucket: cloudstores.Bucket, stream: str, size: int) -> None:
    """A valid ``size``-entry stream, one object per entry, PUT 32 at a time."""
    keys = StreamKeys("default", stream)
    prev = chain.GENESIS
    ts = chain.format_ts(datetime.now(UTC))
    objects: list[tuple[str, bytes]] = []
    for seq in range(size):
        data, prev = chain.build_entry(
            workspace="default",
            stream=stream,
            seq=seq,
            ts=ts,
            event=codec.dumps(event(seq)),
            prev=prev,
        )
        objects.append((keys.entry(seq), chain.encode_object([data])))
    await rate(lambda i: bucket.put(objects[i][0], objects[i][1]), size, 32)


async def raw_get_rate(cloud: str, url: str, size: int) -> float:
    """Raw GETs of the single-event objects at 16 in flight: the ceiling for verify."""
    raw = raw_client(cloud, url)
    await raw.open()
    keys = StreamKeys("default", "single")
    try:
        count = min(size, 2000)
        return await rate(lambda i: raw.get(keys.entry(i)), count, IN_FLIGHT)
    finally:
        await raw.close()


async def verify_rows(
    name: str, url: str, size: int, appenders: int, cloud: str | None = None
) -> list[Row]:
    rows: list[Row] = []
    async with cloudstores.open_bucket(url, max_in_flight=IN_FLIGHT) as bucket:
        await build_single_objects(bucket, "single", size)
        async with AuditStore(bucket, signer=SIGNER) as audit:
            per = max(1, size // appenders)

            async def appender(a: int) -> None:
                for i in range(per):
                    await audit.append("batched", event(a * per + i))

            await asyncio.gather(*(appender(a) for a in range(appenders)))
        for stream in ("single", "batched"):
            async with AuditStore(bucket, verifier=SIGNER.verifier()) as auditor:
                started = time.perf_counter()
                report = await auditor.verify(stream)
                seconds = time.perf_counter() - started
            assert report.ok, report.summary()
            ours = report.size / seconds
            raw, ratio = "", ""
            if stream == "single" and cloud is not None:
                gets = await raw_get_rate(cloud, url, size)
                raw, ratio = f"{gets:,.0f} GET/s", f"{ours / gets:.2f}x"
            rows.append(
                [
                    f"verify {name} ({stream})",
                    f"{ours:,.0f} ev/s",
                    raw,
                    ratio,
                    "",
                    f"{report.size} events in {report.objects} objects, {seconds:.2f} s",
                ]
            )
    return rows


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("clouds", nargs="*", default=["s3", "azure"])
    parser.add_argument("--appenders", type=int, default=512)
    parser.add_argument("--per-appender", type=int, default=20)
    parser.add_argument("--raw-count", type=int, default=600)
    parser.add_argument("--latency-count", type=int, default=100)
    parser.add_argument("--verify-size", type=int, default=10_000)
    args = parser.parse_args()

    rows: list[Row] = []
    with tempfile.TemporaryDirectory(prefix="bench-audit-file-") as root:
        rows += await verify_rows(
            "file", f"file://{root}?fsync=false", args.verify_size, args.appenders
        )
    for cloud in args.clouds:
        with emulator(cloud) as new_url:
            row, _ = await throughput(
                cloud, new_url(), args.appenders, args.per_appender, args.raw_count
            )
            rows.append(row)
            rows.append(await latency(cloud, new_url(), args.latency_count))
            if cloud == "s3":
                rows += await verify_rows(
                    "moto", new_url(), args.verify_size, args.appenders, cloud
                )
    table = Table(title=f"Audit store (event {EVENT_BYTES} B, {IN_FLIGHT} requests in flight)")
    for i, column in enumerate(["measure", "cloudstores", "raw SDK", "ratio", "target", "notes"]):
        table.add_column(column, justify="left" if i in (0, 5) else "right")
    for row in rows:
        table.add_row(*row)
    Console(width=150).print(table)


if __name__ == "__main__":
    asyncio.run(main())
