"""Appends with a unique key: idempotent if identical, AlreadyExistsError otherwise,
exactly one entry per key through faults, crashes and racing writers (five backends)."""

from __future__ import annotations

import asyncio

import pytest

import cloudstores
from cloudstores.errors import (
    AlreadyExistsError,
    InvalidInputError,
    StoreError,
)
from cloudstores.stores.audit import AuditEntry, AuditOptions, AuditStore, chain
from cloudstores.stores.audit.layout import StreamKeys
from cloudstores.testing import FaultyBucket

OPTIONS = AuditOptions(checkpoint_every=10, checkpoint_interval=None)
ONCE = cloudstores.RetryConfig(max_attempts=1)


async def _keys_in(bucket: cloudstores.Bucket, stream: str) -> list[str | None]:
    async with AuditStore(bucket) as audit:
        report = await audit.verify(stream)
        assert report.ok, report.summary()
        return [e.key async for e in audit.read(stream)]


async def test_identical_is_idempotent_different_raises(bucket: cloudstores.Bucket) -> None:
    async with AuditStore(bucket, options=OPTIONS) as audit:
        await audit.append("s", {"plain": 1})
        first = await audit.append("s", {"a": 1}, key="id-1")
        assert first.key == "id-1" and first.seq == 1
        again = await audit.append("s", {"a": 1}, key="id-1")
        assert again == first
        with pytest.raises(AlreadyExistsError):
            await audit.append("s", {"a": 2}, key="id-1")
        await audit.append("s", {"plain": 2})
        assert await audit.get_key("s", "id-1") == first
        assert await audit.get_key("s", "nope") is None
        assert (await audit.get("s", 1)).key == "id-1"
    async with AuditStore(bucket, options=OPTIONS) as other:  # another process, cold
        assert await other.append("s", {"a": 1}, key="id-1") == first
        with pytest.raises(AlreadyExistsError):
            await other.append("s", {"a": 3}, key="id-1")
        hostile = "a/b:c ../ ü " + "x" * 900
        entry = await other.append("s", {"h": 1}, key=hostile)
        assert (await other.get_key("s", hostile)) == entry
    assert await _keys_in(bucket, "s") == [None, "id-1", None, hostile]


async def test_same_key_concurrently_in_one_store(bucket: cloudstores.Bucket) -> None:
    async with AuditStore(bucket, options=OPTIONS) as audit:
        results = await asyncio.gather(
            *(audit.append("c", {"k": i % 5}, key=f"k{i % 5}") for i in range(20)),
            *(audit.append("c", {"plain": i}) for i in range(10)),
        )
        by_key = {e.key: e for e in results if e.key is not None}
        assert all(e == by_key[e.key] for e in results if e.key is not None)
    keys = await _keys_in(bucket, "c")
    assert sorted(k for k in keys if k is not None) == [f"k{i}" for i in range(5)]


async def test_three_stores_race_on_the_same_keys(bucket: cloudstores.Bucket) -> None:
    """Three stores (own tails, own lanes) append the same keys at once: one entry each;
    for a key whose events differ, one store wins and the others get AlreadyExistsError."""
    stores = [AuditStore(bucket, options=OPTIONS) for _ in range(3)]

    async def one(w: int, i: int) -> object:
        try:
            return await stores[w].append("race", {"i": i, "w": w if i % 2 else 0}, key=f"r{i}")
        except AlreadyExistsError as exc:
            return exc

    results = await asyncio.gather(*(one(w, i) for i in range(8) for w in range(3)))
    await asyncio.gather(*(s.close() for s in stores))
    for i in range(8):
        got = results[i * 3 : i * 3 + 3]
        entries = [e for e in got if isinstance(e, AuditEntry)]
        assert len({e.seq for e in entries}) == 1, got
        assert len(entries) == (1 if i % 2 else 3)  # odd i: events differ, one winner
    keys = await _keys_in(bucket, "race")
    assert sorted(k for k in keys if k is not None) == sorted(f"r{i}" for i in range(8))


async def test_invalid_key_before_any_request(bucket: cloudstores.Bucket) -> None:
    async with AuditStore(bucket) as audit:
        before = sum(bucket.requests.values())
        for bad in ("", 5, "x" * 1025, "\ud800"):
            with pytest.raises(InvalidInputError):
                await audit.append("s", {"a": 1}, key=bad)  # type: ignore[arg-type]
        assert sum(bucket.requests.values()) == before


@pytest.mark.parametrize("step", ["/k/", "/e/"])
@pytest.mark.parametrize("fault", ["before", "after"])
async def test_fault_in_the_middle(bucket_url: str, step: str, fault: str) -> None:
    """The marker or entry PUT fails (before or after it landed) with no retry left:
    the caller's retry, or a lookup, completes the append; the key appears once."""
    inner = cloudstores.open_bucket(bucket_url)
    flaky = FaultyBucket(
        inner,
        **{fault: 1.0},
        match=lambda op, key: op == "put" and step in key and key.endswith(("/m", ".json")),
        retry=ONCE,
    )
    async with flaky, inner:
        async with AuditStore(inner, options=OPTIONS) as warm:
            await warm.append("f", {"plain": 0})
        audit = AuditStore(flaky, options=OPTIONS)
        with pytest.raises(StoreError):
            await audit.append("f", {"a": 1}, key="once")
        await audit.close()
        async with AuditStore(inner, options=OPTIONS) as retry:
            if fault == "after" and step == "/e/":
                # crashed after the entry landed, before its binding: a reader completes
                found = await retry.get_key("f", "once")
                assert found is not None and found.seq == 1
            entry = await retry.append("f", {"a": 1}, key="once")
            assert entry.key == "once" and entry.event == {"a": 1}
            assert await retry.append("f", {"a": 1}, key="once") == entry
        assert await _keys_in(inner, "f") == [None, "once"]


async def test_crash_after_marker_is_completed_by_a_reader(bucket: cloudstores.Bucket) -> None:
    keys = StreamKeys("default", "r")
    async with AuditStore(bucket, options=OPTIONS) as audit:
        await audit.append("r", {"plain": 0})
        # a claim written by a process that died before appending its entry
        body = (
            b'{"event":{"a":1},"key":"dead","start":1,"stream":"r",'
            b'"ts":"2026-01-01T00:00:00.000000Z","v":1,"ws":"default"}'
        )
        await bucket.put(keys.key_marker("dead"), body, mode="create")
        await audit.append("r", {"plain": 1})
        found = await audit.get_key("r", "dead")
        assert found is not None and found.seq == 2 and found.event == {"a": 1}
        with pytest.raises(AlreadyExistsError):
            await audit.append("r", {"a": 2}, key="dead")
    assert await _keys_in(bucket, "r") == [None, None, "dead"]


async def test_old_streams_still_verify_and_format_2_hash(bucket: cloudstores.Bucket) -> None:
    legacy = AuditOptions(entry_format=1)
    async with AuditStore(bucket, options=legacy) as audit:
        plain = await audit.append("v", {"x": 1})
        keyed = await audit.append("v", {"x": 2}, key="k")
    data, digest = chain.build_entry(
        workspace="default", stream="v", seq=0, ts=chain.format_ts(plain.ts),
        event=b'{"x":1}', prev=chain.GENESIS, entry_format=1,
    )  # fmt: skip
    assert digest == plain.hash and b'"v":1' in data and b'"key"' not in data
    _, digest2 = chain.build_entry(
        workspace="default", stream="v", seq=1, ts=chain.format_ts(keyed.ts),
        event=b'{"x":2}', prev=plain.hash, key="k", entry_format=1,
    )  # fmt: skip
    assert digest2 == keyed.hash
    # the default (format 3) hashes the RFC 8785 bytes, with the key beside v 3
    data3, digest3 = chain.build_entry(
        workspace="default", stream="v", seq=1, ts=chain.format_ts(keyed.ts),
        event=b'{"x":2}', prev=plain.hash, key="k",
    )  # fmt: skip
    assert b'"key":"k"' in data3 and b'"v":3' in data3 and digest3 != digest2
