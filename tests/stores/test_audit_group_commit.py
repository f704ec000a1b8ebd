"""The audit writer on GroupCommit: if its flusher task is cancelled, every append
waiting on it fails (none hangs), and the stream stays whole for the next append."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

import cloudstores
from cloudstores.errors import ConflictError
from cloudstores.stores.audit import AuditOptions, AuditStore
from cloudstores.testing import FaultyBucket

OPTIONS = AuditOptions(checkpoint_every=None, checkpoint_interval=None, max_batch=2)


def _gated(bucket: cloudstores.Bucket) -> tuple[FaultyBucket, asyncio.Event, asyncio.Event]:
    """A wrapper (no faults) whose PUTs wait for ``gate``; ``entered``: one is waiting."""
    wrapper = FaultyBucket(bucket)
    gate, entered = asyncio.Event(), asyncio.Event()
    inner_put = wrapper.faults.put

    async def put(key: str, data: bytes, **kwargs: Any) -> Any:
        entered.set()
        await gate.wait()
        return await inner_put(key, data, **kwargs)

    wrapper.faults.put = put  # type: ignore[method-assign]
    return wrapper, gate, entered


@pytest.mark.parametrize("when", ["before_it_runs", "while_writing"])
async def test_cancelled_flusher_fails_every_append_and_the_stream_recovers(
    bucket: cloudstores.Bucket, when: str
) -> None:
    gated, gate, entered = _gated(bucket)
    async with AuditStore(gated, options=OPTIONS) as store:
        appends = [asyncio.ensure_future(store.append("s", {"i": i})) for i in range(5)]
        await asyncio.sleep(0)  # every append is queued; the flusher is scheduled
        group = store._writers["s"]._group
        flusher = group._flusher
        assert flusher is not None
        if when == "while_writing":
            await entered.wait()  # the first batch is taken and its PUT is held
            assert group.pending == 3
        flusher.cancel()
        results = await asyncio.wait_for(
            asyncio.gather(*appends, return_exceptions=True), timeout=30
        )
        assert all(isinstance(r, ConflictError) for r in results), results
        assert not group.busy and group.pending == 0

        gate.set()
        entry = await store.append("s", {"i": "after"})
        assert entry.seq == 0  # nothing of the cancelled appends was written
        report = await store.verify("s")
        assert report.ok, report.summary()
        assert report.size == 1
