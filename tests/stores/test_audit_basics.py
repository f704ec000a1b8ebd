"""Audit store basics on every backend: append, get, read, head, streams, batches."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest

import cloudstores
from cloudstores.errors import NotFoundError, SerializationError
from cloudstores.stores.audit import (
    AuditEntry,
    AuditOptions,
    AuditStore,
    Ed25519Signer,
)
from cloudstores.stores.audit.chain import GENESIS

QUIET = AuditOptions(checkpoint_every=None, checkpoint_interval=None, checkpoint_on_close=False)


async def test_append_returns_chained_durable_entries(bucket: cloudstores.Bucket) -> None:
    async with AuditStore(bucket, workspace="acme", options=QUIET) as audit:
        first = await audit.append("payments", {"action": "refund", "amount": 12.5})
        second = await audit.append("payments", {"action": "close", "nested": {"b": [1, 2]}})
    assert (first.seq, second.seq) == (0, 1)
    assert first.prev == GENESIS and second.prev == first.hash
    assert first.workspace == "acme" and first.stream == "payments"
    assert first.ts.tzinfo is not None and abs(datetime.now(UTC) - first.ts).total_seconds() < 60
    # durable: a fresh store on the same bucket reads the same entries
    async with AuditStore(bucket, workspace="acme", options=QUIET) as reader:
        assert await reader.get("payments", 0) == first
        assert await reader.get("payments", 1) == second
        assert [e async for e in reader.read("payments")] == [first, second]
        head = await reader.head("payments")
        assert (head.size, head.hash) == (2, second.hash)
    keys = [info.key async for info in bucket.list("ws/acme/audit/payments/e/")]
    assert keys == [
        "ws/acme/audit/payments/e/00000000000000000000.json",
        "ws/acme/audit/payments/e/00000000000000000001.json",
    ]


async def test_read_ranges_and_get_missing(bucket: cloudstores.Bucket) -> None:
    async with AuditStore(bucket, options=QUIET) as audit:
        for i in range(7):
            await audit.append("s", {"i": i})
        assert [e.seq async for e in audit.read("s", 2, 5)] == [2, 3, 4]
        assert [e.seq async for e in audit.read("s", 5)] == [5, 6]
        assert [e.seq async for e in audit.read("s", 9)] == []
        assert [e.seq async for e in audit.read("s", 3, 3)] == []
        with pytest.raises(NotFoundError):
            await audit.get("s", 7)
        with pytest.raises(NotFoundError):
            await audit.get("never", 0)
        empty = await audit.head("never")
        assert (empty.size, empty.hash) == (0, GENESIS)
        assert [e async for e in audit.read("never")] == []


async def test_append_many_is_one_object_with_own_seqs(bucket: cloudstores.Bucket) -> None:
    async with AuditStore(bucket, options=QUIET) as audit:
        await audit.append("s", {"i": "solo"})
        before = bucket.requests["put"]
        entries = await audit.append_many("s", [{"i": i} for i in range(5)])
        assert bucket.requests["put"] - before == 1
        assert [e.seq for e in entries] == [1, 2, 3, 4, 5]
        assert all(entries[i].prev == entries[i - 1].hash for i in range(1, 5))
        assert await audit.append_many("s", []) == []
    # a cold reader finds entries inside the batch (one bounded LIST, then one GET)
    async with AuditStore(bucket, options=QUIET) as reader:
        assert await reader.get("s", 3) == entries[2]
        assert [e.event async for e in reader.read("s", 2, 4)] == [{"i": 1}, {"i": 2}]
        assert (await reader.head("s")).size == 6
    keys = [info.key async for info in bucket.list("ws/default/audit/s/e/")]
    assert [k.rsplit("/", 1)[1] for k in keys] == [f"{0:020d}.json", f"{1:020d}.json"]


async def test_group_commit_batches_concurrent_appends(bucket: cloudstores.Bucket) -> None:
    async with AuditStore(bucket, options=QUIET) as audit:
        entries = await asyncio.gather(*(audit.append("g", {"i": i}) for i in range(64)))
    assert sorted(e.seq for e in entries) == list(range(64))
    # fewer objects than events, and each entry keeps its own number and event
    keys = [info.key async for info in bucket.list("ws/default/audit/g/e/")]
    assert len(keys) < 64
    async with AuditStore(bucket, options=QUIET) as reader:
        stored = {e.seq: e async for e in reader.read("g")}
        assert all(stored[e.seq] == e for e in entries)
        assert (await reader.verify("g")).ok


async def test_max_batch_splits_objects(bucket: cloudstores.Bucket) -> None:
    options = AuditOptions(max_batch=4, checkpoint_every=None, checkpoint_interval=None)
    async with AuditStore(bucket, options=options) as audit:
        entries = await audit.append_many("m", [{"i": i} for i in range(10)])
    assert [e.seq for e in entries] == list(range(10))
    keys = [info.key async for info in bucket.list("ws/default/audit/m/e/")]
    assert [int(k.rsplit("/", 1)[1][:20]) for k in keys] == [0, 4, 8]


async def test_streams_lists_each_stream_once(bucket: cloudstores.Bucket) -> None:
    async with AuditStore(bucket, workspace="w1", options=QUIET) as audit:
        for name in ["beta", "alpha", "a-b.c_d"]:
            await audit.append(name, {"x": 1})
            await audit.append(name, {"x": 2})
        assert [s async for s in audit.streams()] == ["a-b.c_d", "alpha", "beta"]
    async with AuditStore(bucket, workspace="w2", options=QUIET) as other:
        assert [s async for s in other.streams()] == []


async def test_request_counts(bucket: cloudstores.Bucket) -> None:
    """A warm append is one PUT; get(stream, seq) is one GET."""
    async with AuditStore(bucket, options=QUIET) as audit:
        for i in range(3):
            await audit.append("rc", {"i": i})
        before = dict(bucket.requests)
        await audit.append("rc", {"i": 3})
        delta = {k: v - before.get(k, 0) for k, v in bucket.requests.items()}
        assert {k: v for k, v in delta.items() if v} == {"put": 1}
    async with AuditStore(bucket, options=QUIET) as cold:
        before = dict(bucket.requests)
        entry = await cold.get("rc", 2)
        delta = {k: v - before.get(k, 0) for k, v in bucket.requests.items()}
        assert {k: v for k, v in delta.items() if v} == {"get": 1}
        assert entry.event == {"i": 2}


async def test_entries_survive_json_round_trip(bucket: cloudstores.Bucket) -> None:
    event = {
        "unicode": "héllo ✓ 😀",
        "big": 2**62,
        "neg": -1.5e-7,
        "none": None,
        "list": [True, False, {"z": 1, "a": 2}],
        "empty": {},
    }
    async with AuditStore(bucket, options=QUIET) as audit:
        # RFC 8785 (entry format 3) numbers are doubles: 2**62 would come back changed
        with pytest.raises(SerializationError):
            await audit.append("rt", event)
        entry = await audit.append("rt", {**event, "big": 2**53 - 1})
        assert entry.event == {**event, "big": 2**53 - 1}
        assert await audit.get("rt", 0) == entry
        assert (await audit.verify("rt")).ok
    legacy = AuditOptions(
        checkpoint_every=None, checkpoint_interval=None, checkpoint_on_close=False, entry_format=1
    )
    async with AuditStore(bucket, options=legacy) as old:
        exact = await old.append("rt1", event)  # the legacy format keeps 64-bit integers
        assert exact.event == event and await old.get("rt1", 0) == exact
    assert isinstance(entry, AuditEntry)
    with pytest.raises(Exception):  # noqa: B017 - frozen model
        entry.seq = 5  # type: ignore[misc]


async def test_keyless_and_signed_checkpoints(bucket: cloudstores.Bucket) -> None:
    opts = AuditOptions(checkpoint_every=5, checkpoint_interval=None)
    async with AuditStore(bucket, options=opts) as keyless:
        for i in range(6):
            await keyless.append("k", {"i": i})
        await keyless.flush()
        report = await keyless.verify("k")
        assert report.ok and not report.signatures_checked
        assert report.last_checkpoint == 5 and report.unsealed == 1
    signer = Ed25519Signer.generate()
    async with AuditStore(bucket, signer=signer, options=opts) as signed:
        for i in range(6):
            await signed.append("s", {"i": i})
    async with AuditStore(bucket, verifier=signer.verifier()) as auditor:
        report = await auditor.verify("s")
        assert report.ok and report.signatures_checked
        assert report.last_checkpoint == 6 and report.unsealed == 0  # sealed on close
        # a verifier that trusts a key finds the keyless stream's checkpoints unsigned
        bad = await auditor.verify("k")
        assert not bad.ok and {p.kind for p in bad.problems} == {"bad_signature"}


async def test_verify_reports_progress(bucket: cloudstores.Bucket) -> None:
    async with AuditStore(bucket, options=QUIET) as audit:
        for i in range(5):
            await audit.append("p", {"i": i})
        await audit.append_many("p", [{"i": i} for i in range(5, 9)])
        seen: list[int] = []
        report = await audit.verify("p", on_progress=seen.append)
    assert report.ok and seen == [1, 2, 3, 4, 5, 9]  # entries checked, after each object
