"""The shape compaction leaves: appends with increasing keys (time-ordered ids, runs
that sort by time) keep a bounded number of chunks, and a cold reader's GETs stay few.

Before coalescing, each compaction of such a tail wrote one new small chunk beside the
others (1,000 appends: 166 chunks, a cold query 167 GETs).
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import uuid
from typing import Any

import pytest

import cloudstores
from cloudstores.errors import TransientError
from cloudstores.stores.index import Field, Index, IndexOptions, Schema
from cloudstores.stores.index.chunks import ChunkInfo, Manifest, encode_manifest, entry_bytes
from cloudstores.stores.index.compaction import MAX_SMALL_RUN, _Plan
from cloudstores.testing import FaultyBucket

SCHEMA = Schema((Field("run"), Field("n", "number")), partition="run")
SMALL = IndexOptions(
    max_batch=4, compact_every=3, chunk_bytes=2048, level1_bytes=8192, fanout=4, fetch_concurrency=8
)
PREFIX = "ws/shape/_index/records"
FAST_FAIL = cloudstores.RetryConfig(max_attempts=2, initial_backoff=0.001, max_backoff=0.002)


def run_of(i: int) -> str:
    return f"run-{i // 4:06d}"  # runs that sort by time: four entries each


async def append(index: Index, start: int, stop: int) -> int:
    """Append entries ``start..stop`` one at a time (one segment each); their bytes."""
    size = 0
    for i in range(start, stop):
        entry = index.entry(f"01J{i:023d}", {"run": run_of(i), "n": i})
        size += entry_bytes(entry.stamped(i, 0))
        await index.add([entry])
    return size


def longest_small_run(chunks: list[ChunkInfo], half: int) -> int:
    longest = 0
    for level in {c.level for c in chunks}:
        run = 0
        for info in sorted((c for c in chunks if c.level == level), key=lambda c: c.lo):
            run = run + 1 if info.bytes <= half else 0
            longest = max(longest, run)
    return longest


@pytest.mark.parametrize(("where", "count"), [("memory", 1000), ("s3", 200)])
async def test_increasing_keys_keep_few_chunks_and_cold_reads_cheap(
    make_bucket_url: Any, where: str, count: int
) -> None:
    async with cloudstores.open_bucket(make_bucket_url(where)) as bucket:
        writer = Index(bucket, PREFIX, SCHEMA, options=SMALL)
        size = await append(writer, 0, count)
        await writer.close()
        assert writer.manifest is not None and not writer.problems
        chunks = list(writer.manifest.chunks)
        # chunks end between half and all of chunk_bytes, plus a short run of small ones
        bound = math.ceil(size / (SMALL.chunk_bytes // 2)) + MAX_SMALL_RUN
        assert len(chunks) <= bound, (len(chunks), bound)
        assert longest_small_run(chunks, SMALL.chunk_bytes // 2) <= MAX_SMALL_RUN
        # a cold query of everything: LIST m/, GET the manifest, every chunk, one 404
        cold = Index(bucket, PREFIX, SCHEMA, options=SMALL)
        bucket.requests.clear()
        got = (await cold.query()).entries
        assert [e.key for e in got] == [f"01J{i:023d}" for i in range(count)]
        assert bucket.requests["get"] == len(chunks) + 2 and bucket.requests["list"] == 1
        # before coalescing: 335 GETs at 1,000 on memory (333 chunks), 68 at 200
        assert bucket.requests["get"] <= (62 if count == 1000 else 18)
        # a cold partition query reads the manifest, at most 2 chunks, one 404
        cold = Index(bucket, PREFIX, SCHEMA, options=SMALL)
        bucket.requests.clear()
        wanted = run_of(count // 2)
        got = (await cold.query(where={"run": wanted})).entries
        assert [e.fields["n"] for e in got] == [i for i in range(count) if run_of(i) == wanted]
        assert bucket.requests["get"] <= 4 and bucket.requests["list"] == 1
        assert not cold.problems


async def test_default_options_1000_appends_stay_in_a_few_chunks() -> None:
    """The defect as found: default sizes, 1,000 appends of time-ordered ids (memory
    only: the test above runs the same appends on moto)."""
    async with cloudstores.open_bucket(f"memory://{uuid.uuid4().hex}/p") as bucket:
        await default_options_1000_appends(bucket)


async def default_options_1000_appends(bucket: cloudstores.Bucket) -> None:
    writer = Index(bucket, PREFIX, SCHEMA)
    await append(writer, 0, 1000)
    await writer.close()
    assert writer.manifest is not None and len(writer.manifest.chunks) <= 4
    cold = Index(bucket, PREFIX, SCHEMA)
    bucket.requests.clear()
    assert await cold.count() == 1000
    assert bucket.requests["get"] <= 6 and bucket.requests["list"] == 1


async def test_a_layout_of_many_small_chunks_is_coalesced(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A workspace compacted before coalescing existed (one small chunk per compaction)
    is repaired by the next compaction, and reads the same before and after (planning
    only: memory is enough)."""
    async with cloudstores.open_bucket(f"memory://{uuid.uuid4().hex}/p") as bucket:
        await repair_many_small_chunks(bucket, monkeypatch)


async def repair_many_small_chunks(
    bucket: cloudstores.Bucket, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def no_coalescing(self: _Plan, level: int) -> None:
        return None

    with monkeypatch.context() as patch:
        patch.setattr(_Plan, "coalesce", no_coalescing)
        old = Index(bucket, PREFIX, SCHEMA, options=SMALL)
        await append(old, 0, 240)
        await old.close()
    assert old.manifest is not None
    before = len(old.manifest.chunks)
    assert before >= 60  # 240 appends, a compaction every 3 segments
    expected = (await Index(bucket, PREFIX, SCHEMA, options=SMALL).query()).entries
    manual = IndexOptions(max_batch=4, chunk_bytes=2048, level1_bytes=8192, auto_compact=False)
    writer = Index(bucket, PREFIX, SCHEMA, options=manual)
    await append(writer, 240, 243)
    assert await writer.compact()
    assert writer.manifest is not None and len(writer.manifest.chunks) <= 16
    cold = Index(bucket, PREFIX, SCHEMA, options=SMALL)
    got = (await cold.query()).entries
    assert [(e.key, e.fields) for e in got[:240]] == [(e.key, e.fields) for e in expected]
    assert len(got) == 243 and not cold.problems


@pytest.mark.parametrize("where", ["memory", "s3"])
@pytest.mark.parametrize("fault", ["before", "after"])
async def test_a_crash_while_coalescing_loses_nothing(
    make_bucket_url: Any, where: str, fault: str
) -> None:
    """Faults above the driver: memory and moto are enough."""
    async with cloudstores.open_bucket(make_bucket_url(where)) as bucket:
        await crash_while_coalescing(bucket, fault)


async def crash_while_coalescing(bucket: cloudstores.Bucket, fault: str) -> None:
    manual = IndexOptions(
        max_batch=4, compact_every=3, chunk_bytes=2048, level1_bytes=8192, auto_compact=False
    )
    writer = Index(bucket, PREFIX, SCHEMA, options=manual)
    for start in range(0, 36, 6):  # six compactions of a small tail each
        await append(writer, start, start + 6)
        assert await writer.compact()
    expected = [f"01J{i:023d}" for i in range(42)]
    await append(writer, 36, 42)
    broken = FaultyBucket(
        bucket,
        retry=FAST_FAIL,
        seed=11,
        **{fault: 1.0},  # type: ignore[arg-type]
        match=lambda op, key: op == "put" and ("/c/" in key or "/m/" in key),
    )
    with contextlib.suppress(TransientError):
        await Index(broken, PREFIX, SCHEMA, options=manual).compact()
    cold = Index(bucket, PREFIX, SCHEMA, options=manual)
    assert [e.key for e in (await cold.query()).entries] == expected
    # (after: the manifest may have landed) more appends, then two compactors race to
    # finish the work; one wins, the other changes nothing
    await append(Index(bucket, PREFIX, SCHEMA, options=manual), 42, 48)
    expected += [f"01J{i:023d}" for i in range(42, 48)]
    first, second = (Index(bucket, PREFIX, SCHEMA, options=manual) for _ in range(2))
    await first.refresh()
    await second.refresh()
    assert sorted(await asyncio.gather(first.compact(), second.compact())) == [False, True]
    final = Index(bucket, PREFIX, SCHEMA, options=manual)
    assert [e.key for e in (await final.query()).entries] == expected
    assert final.manifest is not None and not final._tail and not final.problems
    assert longest_small_run(list(final.manifest.chunks), manual.chunk_bytes // 2) <= 2


async def test_chunk_sizes_a_manifest_lies_about_do_not_break_coalescing() -> None:
    """Sizes in a manifest are untrusted: claimed tiny, the chunks look mergeable, but a
    merge that does not give fewer chunks is skipped; nothing is lost."""
    manual = IndexOptions(max_batch=8, chunk_bytes=1024, level1_bytes=1 << 20, auto_compact=False)
    async with cloudstores.open_bucket(f"memory://{uuid.uuid4().hex}/p") as bucket:
        writer = Index(bucket, PREFIX, SCHEMA, options=manual)
        for start in range(0, 64, 8):
            await append(writer, start, start + 8)
        assert await writer.compact()
        honest = writer.manifest
        assert honest is not None and len(honest.chunks) >= 5
        lying = Manifest(
            honest.n + 1,
            honest.upto,
            tuple(
                ChunkInfo(c.id, c.level, c.count, 1, c.lo, c.hi, c.min, c.max)
                for c in honest.chunks
            ),
            honest.cursors,
            honest.upto,
        )
        await bucket.put(
            writer.layout.manifest(lying.n, lying.since), encode_manifest(lying, SCHEMA)
        )
        compactor = Index(bucket, PREFIX, SCHEMA, options=manual)
        await append(compactor, 64, 67)
        assert await compactor.compact()
        cold = Index(bucket, PREFIX, SCHEMA, options=manual)
        assert [e.key for e in (await cold.query()).entries] == [f"01J{i:023d}" for i in range(67)]
        assert cold.manifest is not None and cold.manifest.n == honest.n + 2
        assert not cold.problems and not compactor.problems
