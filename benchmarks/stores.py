"""Artifact store vs the raw SDK (moto, Azurite) and vs Binex's filesystem lookup.

    .venv/bin/python benchmarks/stores.py [--count 2000] [--listed 10000] [s3 azure]

1. ``store`` throughput: 64 concurrent writers, at most 16 requests in flight (the
   bucket's ``max_in_flight``), vs raw create-only PUTs of the same bodies at 16 in
   flight. The index rides along by group commit.
2. ``get`` vs raw GET, 16 concurrent.
3. ``list_by_run`` over ``--listed`` artifacts (5 per run) vs the raw SDK listing a
   Binex-style ``artifacts/{run_id}/`` prefix and GETting what it lists; warm (the
   writer's index) and cold (a new store object each call: manifest, the run's chunks,
   tail segments), and the requests one cold call makes.
4. ``get`` on the file backend vs Binex's FilesystemArtifactStore lookup (``rglob`` for
   ``{id}.json`` under ``artifacts/``) over the same number of artifacts.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

try:
    from _harness import emulator, print_table, rate, raw_client
except ModuleNotFoundError:  # run as `python -m benchmarks.stores`
    from benchmarks._harness import emulator, print_table, rate, raw_client

import cloudstores
from cloudstores import codec
from cloudstores.models import Artifact
from cloudstores.stores.artifacts import ArtifactStore

CONTENT = {"text": "y" * 900, "tokens": 321}
PER_RUN = 5


def artifact(i: int, runs: int) -> Artifact:
    return Artifact(
        id=f"a{i:06d}",
        run_id=f"run-{i % runs:05d}",
        type="llm_response",
        content=CONTENT,
        created_by="agent-1",
        task_id=f"t{i % 7}",
    )


def body_of(a: Artifact) -> bytes:
    return codec.dumps(a.model_dump())


CPU_MS: dict[str, float] = {}
"""Client CPU (``time.process_time``, every thread of this process) per call, in ms, of
the last ``timed`` run under each name."""


async def timed(coro_factory: object, repeat: int = 20, name: str = "") -> float:
    """Calls per second of an async callable, ``repeat`` sequential calls."""
    started, cpu = time.perf_counter(), time.process_time()
    for _ in range(repeat):
        await coro_factory()  # type: ignore[operator]
    CPU_MS[name] = (time.process_time() - cpu) / repeat * 1000
    return repeat / (time.perf_counter() - started)


async def throughput(cloud: str, url: str, who: str, count: int) -> tuple[float, float, float]:
    """(store or PUT rate, get rate, PUTs per artifact) of one side, in a fresh bucket."""
    runs = max(1, count // PER_RUN)
    if who == "raw":
        raw = raw_client(cloud, url)
        await raw.open()
        bodies = [body_of(artifact(i, runs)) for i in range(count)]
        try:
            put = await rate(lambda i: raw.put(f"artifacts/a{i:06d}.json", bodies[i]), count, 16)
            get = await rate(lambda i: raw.get(f"artifacts/a{i:06d}.json"), count, 16)
        finally:
            await raw.close()
        return put, get, 1.0
    async with cloudstores.open_bucket(url, max_in_flight=16) as bucket:
        store = ArtifactStore(bucket, workspace="bench")
        put = await rate(lambda i: store.store(artifact(i, runs)), count, 64)
        await store.close()
        puts = bucket.requests["put"]
        get = await rate(lambda i: store.get(f"a{i:06d}"), count, 16)
    return put, get, puts / count


async def cloud_rows(cloud: str, count: int, listed: int, rounds: int) -> list[list[str]]:
    rows: list[list[str]] = []
    with emulator(cloud) as new_url:
        # 1 + 2: store and get throughput; sides alternate, each in a fresh bucket
        sides: dict[str, list[tuple[float, float, float]]] = {"raw": [], "ours": []}
        for r in range(rounds):
            for who in ("raw", "ours") if r % 2 == 0 else ("ours", "raw"):
                sides[who].append(await throughput(cloud, new_url(), who, count))
        raw_put, raw_get = (statistics.median(x[i] for x in sides["raw"]) for i in (0, 1))
        ours_put, ours_get, puts = (
            statistics.median(x[i] for x in sides["ours"]) for i in (0, 1, 2)
        )
        rows.append(
            [
                f"{cloud} store (64 writers, 16 in flight)",
                f"{ours_put:,.0f}/s",
                f"{raw_put:,.0f}/s",
                f"{ours_put / raw_put:.2f}",
                f"{puts:.3f} PUT per artifact",
            ]
        )
        rows.append(
            [
                f"{cloud} get (16 concurrent)",
                f"{ours_get:,.0f}/s",
                f"{raw_get:,.0f}/s",
                f"{ours_get / raw_get:.2f}",
                "1 GET each",
            ]
        )

        # 3: list_by_run over `listed` artifacts
        runs = listed // PER_RUN
        url = new_url()
        raw = raw_client(cloud, url)
        await raw.open()
        await rate(
            lambda i: raw.put(
                f"binex/artifacts/run-{i % runs:05d}/a{i:06d}.json", body_of(artifact(i, runs))
            ),
            listed,
            16,
        )
        async with cloudstores.open_bucket(url, max_in_flight=16) as bucket:
            writer = ArtifactStore(bucket, workspace="bench")
            await rate(lambda i: writer.store(artifact(i, runs)), listed, 64)
            await writer.close()
            raw_bucket = cloudstores.open_bucket(url)  # the SDK's list through our driver

            async def raw_list_by_run() -> None:
                keys = [info.key async for info in raw_bucket.list("binex/artifacts/run-00007/")]
                await asyncio.gather(*(raw.get(k) for k in keys))

            async def raw_scan_by_run() -> None:
                """No run-keyed layout: LIST every artifact key, keep the run's, GET them."""
                keys = [
                    info.key
                    async for info in raw_bucket.list("binex/artifacts/")
                    if "/run-00007/" in info.key
                ]
                await asyncio.gather(*(raw.get(k) for k in keys))

            async def cold_list_by_run() -> None:
                assert (
                    len(await ArtifactStore(bucket, workspace="bench").list_by_run("run-00007"))
                    == PER_RUN
                )

            async def warm_list_by_run() -> None:
                assert len(await writer.list_by_run("run-00007")) == PER_RUN

            async with raw_bucket:
                raw_rate = await timed(raw_list_by_run, name="raw")
                scan_rate = await timed(raw_scan_by_run, repeat=3)
            cold_rate = await timed(cold_list_by_run, name="cold")
            warm_rate = await timed(warm_list_by_run, name="warm")
            bucket.requests.clear()
            cold = ArtifactStore(bucket, workspace="bench")
            page_keys: list[int] = []  # keys each LIST page returned
            inner_page = bucket._list_page

            async def recording(*args: Any) -> Any:
                items, token = await inner_page(*args)
                page_keys.append(len(items))
                return items, token

            bucket._list_page = recording  # type: ignore[method-assign]
            await cold.list_by_run("run-00007")
            bucket._list_page = inner_page  # type: ignore[method-assign]
            manifest = cold.index.manifest
            cold_requests = (
                f"{bucket.requests['list']} LIST (of {'+'.join(map(str, page_keys))} keys) + "
                f"{bucket.requests['get']} GET "
                f"(1 manifest of {len(manifest.chunks) if manifest else 0} chunks, "
                f"{len(manifest.tail) if manifest else 0} folded entries, "
                f"n={manifest.n if manifest else -1}; "
                f"{len(cold.index._tail)} tail segments; "
                f"{PER_RUN} artifacts)"
            )
        await raw.close()
        rows.append(
            [
                f"{cloud} list_by_run, {listed:,} stored, warm reader",
                f"{warm_rate:,.1f}/s",
                f"{raw_rate:,.1f}/s",
                f"{warm_rate / raw_rate:.2f}",
                "raw: LIST run prefix + GETs",
            ]
        )
        rows.append(
            [
                f"{cloud} list_by_run, {listed:,} stored, cold reader",
                f"{cold_rate:,.1f}/s",
                f"{raw_rate:,.1f}/s",
                f"{cold_rate / raw_rate:.2f}",
                "cold: manifest + the run's chunks + tail",
            ]
        )
        rows.append(
            [
                f"{cloud} list_by_run client CPU per call",
                f"cold {CPU_MS['cold']:.1f} ms, warm {CPU_MS['warm']:.1f} ms",
                f"{CPU_MS['raw']:.1f} ms",
                f"{CPU_MS['cold'] / CPU_MS['raw']:.2f}",
                "time.process_time per call",
            ]
        )
        rows.append(
            [
                f"{cloud} cold list_by_run requests",
                cold_requests,
                f"1 LIST + {PER_RUN} GET",
                "",
                "raw: LIST run prefix + GETs",
            ]
        )
        rows.append(
            [
                f"{cloud} list_by_run, {listed:,} stored, cold reader",
                f"{cold_rate:,.1f}/s",
                f"{scan_rate:,.2f}/s",
                f"{cold_rate / scan_rate:.1f}",
                "raw: LIST all artifact keys + GETs",
            ]
        )
    return rows


async def binex_rows(listed: int) -> list[list[str]]:
    """Our file-backend ``get`` vs Binex's rglob lookup over the same artifacts."""
    runs = listed // PER_RUN
    with tempfile.TemporaryDirectory(prefix="bench-binex-") as tmp:
        root = Path(tmp)
        binex = root / "binex" / "artifacts"
        for i in range(listed):
            a = artifact(i, runs)
            folder = binex / a.run_id
            folder.mkdir(parents=True, exist_ok=True)
            (folder / f"{a.id}.json").write_bytes(body_of(a))
        (root / "ours").mkdir()
        async with cloudstores.open_bucket(f"file://{root / 'ours'}?fsync=false") as bucket:
            store = ArtifactStore(bucket, workspace="bench")
            await rate(lambda i: store.store(artifact(i, runs)), listed, 64)
            await store.close()
            wanted = [f"a{(i * 7919) % listed:06d}" for i in range(50)]

            def rglob_get(artifact_id: str) -> bytes:
                for path in binex.rglob(f"{artifact_id}.json"):
                    return path.read_bytes()
                raise KeyError(artifact_id)

            started = time.perf_counter()
            for artifact_id in wanted:
                rglob_get(artifact_id)
            binex_rate = len(wanted) / (time.perf_counter() - started)
            ours_rate = await rate(lambda i: store.get(wanted[i]), len(wanted), 1)
    return [
        [
            f"file get, {listed:,} stored (1 at a time)",
            f"{ours_rate:,.0f}/s",
            f"{binex_rate:,.1f}/s",
            f"{ours_rate / binex_rate:,.0f}",
            "baseline: Binex rglob lookup",
        ]
    ]


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("clouds", nargs="*", default=["s3", "azure"])
    parser.add_argument("--count", type=int, default=2000, help="artifacts for store/get")
    parser.add_argument("--listed", type=int, default=10_000, help="artifacts for list_by_run")
    parser.add_argument("--rounds", type=int, default=2, help="alternating rounds of 1 and 2")
    args = parser.parse_args()
    rows: list[list[str]] = []
    for cloud in args.clouds:
        rows.extend(await cloud_rows(cloud, args.count, args.listed, args.rounds))
    rows.extend(await binex_rows(args.listed))
    print_table(
        "Artifact store vs raw SDK and Binex",
        ["measure", "cloudstores", "baseline", "ratio", "note"],
        rows,
    )


if __name__ == "__main__":
    asyncio.run(main())
