"""The file backend across real processes: create-only and compare-and-swap stay exact."""

from __future__ import annotations

import asyncio
import multiprocessing
from pathlib import Path

import cloudstores
from cloudstores import IfMatch
from cloudstores.bucket.file_format import is_sidecar_name, sidecar_name
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
    # no temp file left: the root holds the one object, its sidecar and the lock files only
    left = {str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*") if p.is_file()}
    inode = (tmp_path / "once").stat().st_ino
    assert {p for p in left if not p.startswith(".cloudstores/locks/")} == {
        "once",
        sidecar_name(inode),
    }


async def _swap_from(url: str, etag: str, worker: int) -> bool:
    async with cloudstores.open_bucket(url) as bucket:
        try:
            await bucket.put(
                "cas", f"{worker}".encode(), mode=IfMatch(cloudstores.Version(etag=etag))
            )
        except PreconditionFailedError:
            return False
        return True


def swap_from(url: str, etag: str, worker: int) -> bool:
    return asyncio.run(_swap_from(url, etag, worker))


async def test_compare_and_swap_from_one_version_has_one_winner(tmp_path: Path) -> None:
    url = f"file://{tmp_path}"
    async with cloudstores.open_bucket(url) as bucket:
        start = await bucket.put("cas", b"start")
    ctx = multiprocessing.get_context("spawn")
    with ctx.Pool(4) as pool:
        winners = pool.starmap(swap_from, [(url, start.etag, w) for w in range(8)])
    assert sum(winners) == 1
    async with cloudstores.open_bucket(url) as bucket:
        assert (await bucket.get("cas")).data == f"{winners.index(True)}".encode()
    # the replaced version's sidecar is gone, the winner's is there
    assert sorted(p.name for p in tmp_path.iterdir() if is_sidecar_name(p.name)) == [
        sidecar_name((tmp_path / "cas").stat().st_ino)
    ]


async def _tagged_increments(url: str, times: int) -> None:
    async with cloudstores.open_bucket(url) as bucket:
        done = 0
        while done < times:
            current = await bucket.get("tagged")
            n = str(int(current.data) + 1)
            try:
                await bucket.put(
                    "tagged", n.encode(), mode=IfMatch(current.version), metadata={"n": n}
                )
                done += 1
            except PreconditionFailedError:
                pass


def tagged_increments(url: str, times: int) -> None:
    asyncio.run(_tagged_increments(url, times))


async def _read_pairs(url: str, reads: int) -> int:
    """Read and check that bytes and metadata always come from the same version."""
    async with cloudstores.open_bucket(url) as bucket:
        for _ in range(reads):
            got = await bucket.get("tagged")
            assert got.metadata["n"] == got.data.decode(), (got.data, got.metadata)
            info = await bucket.head("tagged")
            assert info.metadata["n"] == str(int(info.metadata["n"]))
        return reads


def read_pairs(url: str, reads: int) -> int:
    return asyncio.run(_read_pairs(url, reads))


async def test_readers_never_pair_bytes_and_metadata_of_two_versions(tmp_path: Path) -> None:
    url = f"file://{tmp_path}?fsync=false"
    async with cloudstores.open_bucket(url) as bucket:
        await bucket.put("tagged", b"0", metadata={"n": "0"})
    ctx = multiprocessing.get_context("spawn")
    with ctx.Pool(4) as pool:
        readers = [pool.apply_async(read_pairs, (url, 300)) for _ in range(2)]
        writers = [pool.apply_async(tagged_increments, (url, 40)) for _ in range(2)]
        for job in writers:
            job.get()
        assert [job.get() for job in readers] == [300, 300]
    async with cloudstores.open_bucket(url) as bucket:
        got = await bucket.get("tagged")
    assert got.data == b"80" and got.metadata["n"] == "80"
