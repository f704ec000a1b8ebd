"""Checkpoint policy (every N, every T seconds, on close), forks, and concurrent verify."""

from __future__ import annotations

import asyncio

import cloudstores
from cloudstores.bucket.types import StoredObject
from cloudstores.keys import key_number
from cloudstores.stores.audit import AuditOptions, AuditStore, Ed25519Signer
from cloudstores.stores.audit.layout import StreamKeys
from cloudstores.testing import FaultyBucket

SIGNER = Ed25519Signer.from_bytes(bytes(range(5, 37)))


async def _sizes(bucket: cloudstores.Bucket, stream: str) -> list[int]:
    keys = StreamKeys("default", stream)
    return [key_number(i.key, keys.cp_prefix) async for i in bucket.list(keys.cp_prefix)]


async def test_every_n_entries_and_on_close(bucket: cloudstores.Bucket) -> None:
    options = AuditOptions(checkpoint_every=10, checkpoint_interval=None)
    async with AuditStore(bucket, signer=SIGNER, options=options) as audit:
        for i in range(25):
            await audit.append("n", {"i": i})
        await audit.flush()
        assert await _sizes(bucket, "n") == [10, 20]
        # a batch that crosses a boundary seals at its own end
        await audit.append_many("n", [{"i": i} for i in range(25, 37)])
        await audit.flush()
        assert await _sizes(bucket, "n") == [10, 20, 37]
        await audit.append("n", {"i": 37})
    assert await _sizes(bucket, "n") == [10, 20, 37, 38]  # sealed on close
    async with AuditStore(bucket, verifier=SIGNER.verifier()) as auditor:
        report = await auditor.verify("n")
    assert report.ok and report.last_checkpoint == 38 and report.checkpoints == 4
    async with AuditStore(bucket, signer=SIGNER) as reader:
        cp = await reader.checkpoint("n")  # nothing new: the newest one is returned
        assert cp is not None and cp.size == 38 and cp.prev is not None
        assert cp.prev.size == 37 and len(cp.leaves) == 1 and cp.leaves_start == 37


async def test_every_t_seconds(bucket: cloudstores.Bucket) -> None:
    options = AuditOptions(
        checkpoint_every=None, checkpoint_interval=0.5, checkpoint_on_close=False
    )
    async with AuditStore(bucket, signer=SIGNER, options=options) as audit:
        for i in range(3):
            await audit.append("t", {"i": i})
        assert await _sizes(bucket, "t") == []
        for _ in range(100):
            await asyncio.sleep(0.05)
            if await _sizes(bucket, "t"):
                break
        assert await _sizes(bucket, "t") == [3]
        await audit.append("t", {"i": 3})
    assert await _sizes(bucket, "t") == [3]  # closed before T elapsed; no seal on close


async def test_concurrent_checkpoints_fork_and_still_verify(bucket: cloudstores.Bucket) -> None:
    options = AuditOptions(
        checkpoint_every=None, checkpoint_interval=None, checkpoint_on_close=False
    )
    a = AuditStore(bucket, signer=SIGNER, options=options)
    b = AuditStore(bucket, signer=SIGNER, options=options)
    for i in range(5):
        await a.append("f", {"i": i})
    for i in range(3):
        await b.append("f", {"i": 5 + i})
    head_a = a._writer("f")
    head_b = b._writer("f")
    # both look for the newest checkpoint at once, find none, and seal different sizes
    await asyncio.gather(
        head_a.checkpointer.write(5, head_a._head), head_b.checkpointer.write(8, head_b._head)
    )
    assert await _sizes(bucket, "f") == [5, 8]
    await a.append("f", {"i": 8})
    assert (await a.checkpoint("f")) is not None  # chains on the newest (8)
    async with AuditStore(bucket, verifier=SIGNER.verifier()) as auditor:
        report = await auditor.verify("f")
    assert report.ok, report.summary()
    assert report.last_checkpoint == 9 and report.checkpoints == 3
    await a.close()
    await b.close()


class _SlowGets(FaultyBucket):
    """No faults: every GET takes 10 ms; records the most GETs in flight at once."""

    in_flight = 0
    most = 0

    async def _get(self, key: str) -> StoredObject:
        self.in_flight += 1
        self.most = max(self.most, self.in_flight)
        try:
            await asyncio.sleep(0.01)
            return await super()._get(key)
        finally:
            self.in_flight -= 1


async def test_verify_and_read_fetch_concurrently() -> None:
    inner = cloudstores.open_bucket("memory://audit-concurrent-verify/p")
    slow = _SlowGets(inner)
    async with slow:
        options = AuditOptions(checkpoint_every=25, checkpoint_interval=None)
        async with AuditStore(slow, signer=SIGNER, options=options) as audit:
            for i in range(100):
                await audit.append("v", {"i": i})
            await audit.flush()
            slow.most = 0
            report = await audit.verify("v")
            assert report.ok and report.objects == 100
            assert slow.most >= 8, slow.most
            slow.most = 0
            assert len([e async for e in audit.read("v")]) == 100
            assert slow.most >= 8, slow.most
