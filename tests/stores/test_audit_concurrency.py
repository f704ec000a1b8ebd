"""Many writers on one stream: no gap, no duplicate, every acknowledged entry in the log.

In-process: 32 tasks over 4 stores (4 writers with their own tail caches, 8 tasks each,
so both group commit and lost races happen) on every backend. Cross-process: 4 real
processes x 250 appends on the file backend and on moto, as the issue asks.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
from multiprocessing.synchronize import Barrier
from typing import Any

import pytest

import cloudstores
from cloudstores.stores.audit import AuditEntry, AuditOptions, AuditStore, Ed25519Signer

SEED = bytes(range(7, 39))
OPTIONS = AuditOptions(checkpoint_every=100, checkpoint_interval=None)


async def _check_log(
    bucket: cloudstores.Bucket, stream: str, acked: list[tuple[int, str]], total: int
) -> None:
    """The log holds 0..total-1 exactly, every acked (seq, hash) is in it, verify is clean."""
    assert sorted(seq for seq, _ in acked) == list(range(total))
    signer = Ed25519Signer.from_bytes(SEED)
    async with AuditStore(bucket, verifier=signer.verifier()) as auditor:
        log = [e async for e in auditor.read(stream)]
        assert [e.seq for e in log] == list(range(total))
        by_seq = {e.seq: e.hash for e in log}
        assert all(by_seq[seq] == digest for seq, digest in acked)
        ids = [(e.event["w"], e.event["i"]) for e in log]
        assert len(set(ids)) == total
        report = await auditor.verify(stream)
        assert report.ok, report.summary()
        assert report.size == total and report.signatures_checked


async def test_32_tasks_4_writers(bucket: cloudstores.Bucket) -> None:
    per_task = 8
    signer = Ed25519Signer.from_bytes(SEED)
    stores = [AuditStore(bucket, signer=signer, options=OPTIONS) for _ in range(4)]

    async def task(w: int, t: int) -> list[AuditEntry]:
        store = stores[w]
        return [await store.append("shared", {"w": f"{w}.{t}", "i": i}) for i in range(per_task)]

    results = await asyncio.gather(*(task(w, t) for w in range(4) for t in range(8)))
    await asyncio.gather(*(s.close() for s in stores))
    acked = [(e.seq, e.hash) for entries in results for e in entries]
    await _check_log(bucket, "shared", acked, 32 * per_task)


def _process_main(url: str, worker: int, count: int, barrier: Barrier, queue: Any) -> None:
    try:
        queue.put(asyncio.run(_process_appends(url, worker, count, barrier)))
    except BaseException as exc:  # report, do not hang the parent
        queue.put(repr(exc))


async def _process_appends(
    url: str, worker: int, count: int, barrier: Barrier
) -> list[tuple[int, str]]:
    signer = Ed25519Signer.from_bytes(SEED)
    async with (
        cloudstores.open_bucket(url) as bucket,
        AuditStore(bucket, signer=signer, options=OPTIONS) as audit,
    ):
        await audit.head("multi")  # warm up (imports, connections) before the start
        barrier.wait()
        tasks, each = 5, count // 5

        async def run(t: int) -> list[tuple[int, str]]:
            out = []
            for i in range(each):
                entry = await audit.append(
                    "multi", {"w": f"{worker}.{os.getpid()}", "i": t * each + i}
                )
                out.append((entry.seq, entry.hash))
            return out

        results = await asyncio.gather(*(run(t) for t in range(tasks)))
    return [item for chunk in results for item in chunk]


@pytest.mark.parametrize("where", ["file", "s3"])
async def test_4_processes_x_250(where: str, make_bucket_url: Any) -> None:
    url = make_bucket_url(where)
    ctx = multiprocessing.get_context("spawn")
    barrier = ctx.Barrier(4)
    queue = ctx.Queue()
    procs = [
        ctx.Process(target=_process_main, args=(url, w, 250, barrier, queue)) for w in range(4)
    ]
    for proc in procs:
        proc.start()
    try:
        results = [await asyncio.to_thread(queue.get, True, 240) for _ in procs]
    finally:
        for proc in procs:
            await asyncio.to_thread(proc.join, 30)
            if proc.is_alive():
                proc.kill()
    errors = [r for r in results if isinstance(r, str)]
    assert not errors, errors
    acked = [item for chunk in results for item in chunk]
    assert len(acked) == 1000
    async with cloudstores.open_bucket(url) as bucket:
        await _check_log(bucket, "multi", acked, 1000)
