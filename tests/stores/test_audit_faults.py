"""Faults: 20% of requests fail (half after the write landed); 500 appends stay exact."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from typing import Any

import cloudstores
from cloudstores.stores.audit import AuditOptions, AuditStore, Ed25519Signer
from cloudstores.testing import FaultyBucket

SIGNER = Ed25519Signer.from_bytes(bytes(range(3, 35)))
FAST = cloudstores.RetryConfig(initial_backoff=0.001, max_backoff=0.01, seed=1)


async def test_500_appends_through_faults(bucket_url: str) -> None:
    inner = cloudstores.open_bucket(bucket_url)
    flaky = FaultyBucket(inner, before=0.1, after=0.1, seed=20, retry=FAST)
    options = AuditOptions(checkpoint_every=50, checkpoint_interval=None)
    acked: list[tuple[int, str, int]] = []
    failed = 0
    async with flaky:
        # two writers with their own tail caches, so lost races meet ambiguous writes;
        # one batches, one writes an object per event (more requests, more faults)
        writers = [
            AuditStore(flaky, signer=SIGNER, options=options),
            AuditStore(flaky, signer=SIGNER, options=replace(options, max_batch=1)),
        ]

        async def task(t: int) -> None:
            nonlocal failed
            for i in range(20):
                n = t * 20 + i
                try:
                    entry = await writers[t % 2].append("faulty", {"n": n})
                except cloudstores.errors.StoreError:
                    failed += 1
                else:
                    acked.append((entry.seq, entry.hash, n))

        await asyncio.gather(*(task(t) for t in range(25)))
        await asyncio.gather(*(w.close() for w in writers))
        assert flaky.injected["after"] >= 20 and flaky.injected["before"] >= 20

        async with AuditStore(inner, verifier=SIGNER.verifier()) as auditor:
            log = [e async for e in auditor.read("faulty")]
            report = await auditor.verify("faulty")
    assert failed == 0  # ten attempts per request: nothing should surface
    assert len(acked) == 500
    assert [e.seq for e in log] == list(range(len(log)))  # no gap
    counts: dict[Any, int] = {}
    for entry in log:
        counts[entry.event["n"]] = counts.get(entry.event["n"], 0) + 1
    by_seq = {e.seq: e for e in log}
    for seq, digest, n in acked:  # every acknowledged entry, exactly once
        assert by_seq[seq].hash == digest and by_seq[seq].event == {"n": n}
        assert counts[n] == 1
    assert report.ok, report.summary()
    assert report.last_checkpoint is not None
