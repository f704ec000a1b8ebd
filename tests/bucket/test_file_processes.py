"""The file backend across real processes: create-only and compare-and-swap stay exact."""

from __future__ import annotations

import asyncio
import multiprocessing
from pathlib import Path

import cloudstores
from cloudstores import IfMatch
from cloudstores.errors import AlreadyExistsError, PreconditionFailedError


async def _increment(url: str, times: int) -> int:
    conflicts = 0
    async with cloudstores.open_bucket(url) as bucket:
        done = 0
        while done < times:
            current = await bucket.get("counter")
            try:
                await bucket.put(
                    "counter", str(int(current.data) + 1).encode(), mode=IfMatch(current.version)
                )
                done += 1
            except PreconditionFailedError:
                conflicts += 1
    return conflicts


def increment(url: str, times: int) -> int:
    return asyncio.run(_increment(url, times))


async def _create(url: str, worker: int) -> bool:
    async with cloudstores.open_bucket(url) as bucket:
        try:
            await bucket.put("once", f"{worker}".encode())
        except AlreadyExistsError:
            return False
        return True


def create(url: str, worker: int) -> bool:
    return asyncio.run(_create(url, worker))


async def test_cas_counter_across_processes(tmp_path: Path) -> None:
    url = f"file://{tmp_path}"
    async with cloudstores.open_bucket(url) as bucket:
        await bucket.put("counter", b"0")
    ctx = multiprocessing.get_context("spawn")
    with ctx.Pool(4) as pool:
        conflicts = pool.starmap(increment, [(url, 25)] * 4)
    async with cloudstores.open_bucket(url) as bucket:
        assert int((await bucket.get("counter")).data) == 100
    assert sum(conflicts) >= 0


async def test_create_only_across_processes(tmp_path: Path) -> None:
    url = f"file://{tmp_path}"
    ctx = multiprocessing.get_context("spawn")
    with ctx.Pool(6) as pool:
        winners = pool.starmap(create, [(url, w) for w in range(12)])
    assert sum(winners) == 1
    # no temp file left: the root holds the one object and the lock files only
    left = {str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*") if p.is_file()}
    assert {p for p in left if not p.startswith(".cloudstores/locks/")} == {"once"}
