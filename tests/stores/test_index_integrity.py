"""Index v2 on all five backends: untrusted index objects, crash-safe compaction, the
format-1 layout of older workspaces, and what a cold reader pays."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

import pytest

import cloudstores
from cloudstores import codec
from cloudstores.errors import BackendUnavailableError, PayloadTooLargeError
from cloudstores.models import Artifact, RunSummary
from cloudstores.stores.artifacts import ArtifactStore
from cloudstores.stores.executions import ExecutionStore
from cloudstores.stores.index import Field, Index, IndexOptions, Schema
from cloudstores.stores.index.query import Where, compile_where
from cloudstores.testing import FaultyBucket

SCHEMA = Schema((Field("part"), Field("n", "number")), partition="part")
TINY = IndexOptions(
    max_batch=4, compact_every=3, chunk_bytes=300, level1_bytes=900, fanout=2, auto_compact=False
)
PREFIX = "ws/t/_index/t"
FAST_FAIL = cloudstores.RetryConfig(max_attempts=2, initial_backoff=0.001, max_backoff=0.002)


async def fill(index: Index, count: int, *, start: int = 0) -> None:
    for i in range(start, start + count, 4):
        await index.add(
            [
                index.entry(f"k{j:04d}", {"part": f"p{j % 7}", "n": j})
                for j in range(i, min(i + 4, start + count))
            ]
        )


async def keys(index: Index) -> list[str]:
    return sorted(e.key for e in (await index.query()).entries)


async def test_bad_index_objects_are_reported_and_skipped(bucket: cloudstores.Bucket) -> None:
    writer = Index(bucket, PREFIX, SCHEMA, options=TINY)
    await fill(writer, 12)  # segments 0, 1, 2
    seg = writer.layout.segment
    # segment 1 rewritten with segment 0's body; an entry without fields in segment 3;
    # segment 4 is not JSON at all
    body0 = (await bucket.get(seg(0))).data
    await bucket.put(seg(1), body0, mode="overwrite")
    await bucket.put(
        seg(3),
        codec.dumps(
            {
                "format": 2,
                "seq": 3,
                "entries": [
                    {"k": "bad"},
                    {"k": "k0100", "v": 0, "f": {"part": "p1", "n": "NaN"}},
                    {"k": "k0101", "v": 0, "f": {"part": "p2"}},
                ],
            }
        ),
    )
    await bucket.put(seg(4), b"{not json")
    reader = Index(bucket, PREFIX, SCHEMA, options=TINY)
    found = await keys(reader)
    assert found == sorted([f"k{j:04d}" for j in (*range(4), *range(8, 12))] + ["k0101"])
    reasons = " | ".join(p.reason for p in reader.problems)
    assert "holds seq 0, its key says 1" in reasons and "not JSON" in reasons
    assert "no valid version" in reasons and "expected a number" in reasons
    # writers are not blocked: the next segment is 5, and a compaction goes through
    await reader.add([reader.entry("k0200", {"part": "p0", "n": 1})])
    assert (
        reader.layout.segment_number([i.key async for i in bucket.list(reader.layout.segments)][-1])
        == 5
    )
    assert await reader.compact()
    assert "k0200" in await keys(Index(bucket, PREFIX, SCHEMA, options=TINY))


async def test_a_deleted_segment_is_a_reported_gap(bucket: cloudstores.Bucket) -> None:
    writer = Index(bucket, PREFIX, SCHEMA, options=TINY)
    await fill(writer, 16)  # segments 0..3
    await bucket.delete(writer.layout.segment(1))
    reader = Index(bucket, PREFIX, SCHEMA, options=TINY)
    found = await keys(reader)
    assert found == [f"k{j:04d}" for j in (*range(4), *range(8, 16))]  # later ones stay
    assert [p.key for p in reader.problems] == [writer.layout.segment(1)]
    assert "missing" in reader.problems[0].reason


async def test_oversize_fields_are_refused_before_any_request(bucket: cloudstores.Bucket) -> None:
    store = ArtifactStore(bucket, workspace="w")
    bucket.requests.clear()
    with pytest.raises(PayloadTooLargeError):
        # 512 characters (the model's bound) of 4 UTF-8 bytes each: over the index's
        # 1,024-byte bound for a string field
        await store.store(Artifact(id="a", run_id="r", type="\U0001d54f" * 512))
    assert sum(bucket.requests.values()) == 0


@pytest.mark.parametrize("fault", ["before", "after"])
async def test_compaction_survives_faults(bucket: cloudstores.Bucket, fault: str) -> None:
    writer = Index(bucket, PREFIX, SCHEMA, options=TINY)
    await fill(writer, 40)
    await writer.compact()
    await fill(writer, 40, start=40)
    expected = [f"k{j:04d}" for j in range(80)]
    # every chunk and manifest PUT fails (before it lands, or after: the caller times out)
    broken = FaultyBucket(
        bucket,
        retry=FAST_FAIL,
        seed=3,
        **{fault: 1.0},  # type: ignore[arg-type]
        match=lambda op, key: op == "put" and ("/c/" in key or "/m/" in key),
    )
    crashing = Index(broken, PREFIX, SCHEMA, options=TINY)
    if fault == "before":
        with pytest.raises(BackendUnavailableError):
            await crashing.compact()
    else:
        # the writes land; put-id reconciliation may prove some, the rest time out
        with contextlib.suppress(cloudstores.errors.TransientError):
            await crashing.compact()
    cold = Index(bucket, PREFIX, SCHEMA, options=TINY)
    assert await keys(cold) == expected and await cold.count() == 80
    # a half-done compaction is redone by the next one, whatever landed before
    flaky = FaultyBucket(
        bucket,
        seed=5,
        **{fault: 0.3},  # type: ignore[arg-type]
        match=lambda op, key: op == "put",
    )
    resumed = Index(flaky, PREFIX, SCHEMA, options=TINY)
    for _ in range(5):
        try:
            if await resumed.compact():
                break
        except cloudstores.errors.TransientError:
            resumed = Index(flaky, PREFIX, SCHEMA, options=TINY)
    healthy = Index(bucket, PREFIX, SCHEMA, options=TINY)
    await healthy.compact()
    final = Index(bucket, PREFIX, SCHEMA, options=TINY)
    assert await keys(final) == expected and await final.count() == 80
    assert final.manifest is not None and not final._tail and not final.problems


async def test_format_1_workspace_is_read_then_upgraded(bucket: cloudstores.Bucket) -> None:
    """Objects exactly as the format-1 index wrote them, then reindex upgrades them."""
    root = "ws/old/"
    arts = [Artifact(id=f"a{i}", run_id=f"r{i % 2}", type="note") for i in range(6)]
    for art in arts:
        await bucket.put(f"{root}artifacts/{art.id}.json", codec.dumps(art.model_dump()))
    old = [
        {
            "k": a.id,
            "id": a.id,
            "run_id": a.run_id,
            "type": a.type,
            "created_by": a.created_by,
            "task_id": a.task_id,
            "created_at": a.created_at.isoformat(),
        }
        for a in arts
    ]
    index = f"{root}_index/artifacts/"
    await bucket.put(f"{index}snap/{1:020d}.json", codec.dumps({"upto": 1, "entries": old[:4]}))
    for seq, part in enumerate([old[:2], old[2:4], old[4:5], old[5:] + old[:1]]):
        await bucket.put(f"{index}{seq:020d}.json", codec.dumps({"seq": seq, "entries": part}))
    runs = [
        RunSummary(run_id="run", status=s, version=v) for v, s in enumerate(["running", "done"])
    ]
    run_entries = []
    for summary in runs:
        await bucket.put(
            f"{root}runs/run/v/{summary.version:010d}.json", codec.dumps(summary.model_dump())
        )
        run_entries.append(
            {
                "k": f"r:run:{summary.version}",
                "kind": "run",
                "run_id": "run",
                "version": summary.version,
                "status": summary.status,
                "user_id": None,
                "workflow_name": None,
                "started_at": summary.started_at.isoformat(),
            }
        )
    await bucket.put(
        f"{root}_index/runs/{0:020d}.json", codec.dumps({"seq": 0, "entries": run_entries})
    )

    store = ArtifactStore(bucket, workspace="old")
    assert [a.id for a in await store.list_by_run("r0")] == ["a0", "a2", "a4"]
    assert [a.id async for a in store.list(type="note")] == [a.id for a in arts]
    executions = ExecutionStore(bucket, workspace="old")
    assert [r.status for r in await executions.list_runs()] == ["done"]
    assert not store.index.problems and not executions.index.problems

    assert (await store.reindex()).added == ()
    await executions.reindex()
    upgraded = [i.key async for i in bucket.list(f"{index}m/")]
    assert len(upgraded) == 1
    fresh = ArtifactStore(bucket, workspace="old")
    bucket.requests.clear()
    assert [a.id for a in await fresh.list_by_run("r1")] == ["a1", "a3", "a5"]
    # the manifests only (no snapshot listing any more; the tail is probed by one GET)
    assert bucket.requests["list"] == 1
    assert [r.status for r in await ExecutionStore(bucket, workspace="old").list_runs()] == ["done"]


async def test_cold_list_by_run_reads_manifest_matching_chunks_and_tail(
    bucket: cloudstores.Bucket, backend: str
) -> None:
    if backend != "memory":
        pytest.skip("20,000 artifacts: memory only (the other backends run the model test)")
    store = ArtifactStore(bucket, workspace="big")
    store.index.options = IndexOptions(
        chunk_bytes=8 * 1024, level1_bytes=64 * 1024, fanout=4, compact_every=4, max_batch=200
    )
    gate = asyncio.Semaphore(64)

    async def one(i: int) -> None:
        async with gate:
            await store.store(Artifact(id=f"a{i:05d}", run_id=f"run-{i % 2000:04d}"))

    await asyncio.gather(*(one(i) for i in range(20_000)))
    await store.close()
    cold = ArtifactStore(bucket, workspace="big")
    listed: list[int] = []  # keys returned by each LIST page
    inner = bucket._list_page

    async def recording(*args: Any) -> Any:
        items, token = await inner(*args)
        listed.append(len(items))
        return items, token

    bucket._list_page = recording  # type: ignore[method-assign]
    bucket.requests.clear()
    found = await cold.list_by_run("run-0042")
    assert [a.id for a in found] == [f"a{i:05d}" for i in range(42, 20_000, 2000)]
    manifest = cold.index.manifest
    assert manifest is not None and manifest.levels >= 2
    matching = [
        c
        for c in manifest.chunks
        if c.holds(("run-0042", "a00042"))
        or c.overlaps(("run-0042", ""), ("run-0042", "\U0010ffff"))
    ]
    # the writer folded (here: compacted) its tail when it closed: a cold reader makes
    # one LIST (m/) and GETs the manifest, the matching chunks and one tail probe (a
    # 404); the artifacts ride inline in their entries, so no data object is read
    assert cold.index._tail == {}
    assert dict(bucket.requests) == {"list": 1, "get": 1 + len(matching) + 1}
    assert len(matching) <= manifest.levels + 1
    # ... and that LIST asks for one key, however many manifests the history left
    assert manifest.n >= 10 and listed == [1]
    assert not cold.index_mismatches and not cold.index.problems


async def test_stores_write_past_a_bad_segment_and_reindex_repairs(
    bucket: cloudstores.Bucket,
) -> None:
    store = ArtifactStore(bucket, workspace="w")
    await store.store(Artifact(id="a1", run_id="r"))
    segment0 = store.index.layout.segment(0)
    await bucket.put(segment0, b'{"seq": 0, "entries": [{"no": "k"}]}', mode="overwrite")
    fresh = ArtifactStore(bucket, workspace="w")
    await fresh.store(Artifact(id="a2", run_id="r"))  # not blocked by the bad segment
    assert [a.id for a in await fresh.list_by_run("r")] == ["a2"]
    assert fresh.index.problems and fresh.index.problems[0].key == segment0
    report = await fresh.reindex()
    assert report.added == ("a1",)
    assert sorted(a.id for a in await ArtifactStore(bucket, workspace="w").list_by_run("r")) == [
        "a1",
        "a2",
    ]


async def test_cursor_pages_survive_concurrent_writers(bucket: cloudstores.Bucket) -> None:
    writer = Index(bucket, PREFIX, SCHEMA, options=TINY)
    await fill(writer, 30)
    reader = Index(bucket, PREFIX, SCHEMA, options=TINY)
    seen: list[str] = []
    cursor: str | None = None
    extra = 1000
    while True:
        page = await reader.query(order_by="n", descending=True, limit=7, start_after=cursor)
        seen.extend(e.key for e in page.entries)
        # other writers land entries before, inside and after the pages between calls
        await writer.add([writer.entry(f"x{extra}", {"part": "p1", "n": extra % 40 - 5})])
        extra += 1
        if extra % 2:
            await writer.compact()
        cursor = page.cursor
        if cursor is None:
            break
    original = [f"k{j:04d}" for j in range(29, -1, -1)]
    assert [k for k in seen if k.startswith("k")] == original  # each once, in order
    assert len(seen) == len(set(seen))
    with pytest.raises(cloudstores.errors.InvalidInputError):
        await reader.query(order_by="n", start_after=cursor or "bm90IGEgY3Vyc29y")


async def test_bad_query_arguments_fail_before_any_request(
    bucket: cloudstores.Bucket, backend: str
) -> None:
    if backend != "memory":
        pytest.skip("argument checks make no request: one backend is enough")
    index = Index(bucket, PREFIX, SCHEMA, options=TINY)
    bad: list[dict[str, object]] = [
        {"where": {"nope": 1}},
        {"where": {"part": {"gt": "a"}}},
        {"where": {"n": {"near": 1}}},
        {"where": {"n": "x"}},
        {"where": {"n": {}}},
        {"order_by": "nope"},
        {"limit": -1},
        {"limit": True},
        {"descending": "yes"},
        {"start_after": 5},
        {"where": ["n"]},
    ]
    for kwargs in bad:
        with pytest.raises(cloudstores.errors.InvalidInputError):
            await index.query(**kwargs)  # type: ignore[arg-type]
    with pytest.raises(cloudstores.errors.InvalidInputError):
        await index.aggregate(sum=["part"])
    with pytest.raises(cloudstores.errors.InvalidInputError):
        await index.aggregate(group_by="nope")
    for make in (
        lambda: index.entry("", {}),
        lambda: index.entry("k", {"n": float("nan")}),
        lambda: index.entry("k", {"other": 1}),
        lambda: index.entry("k", {}, version=-1),
        lambda: index.entry("k" * 2000, {}),
        lambda: index.entry("k", {"n": True}),
    ):
        with pytest.raises(cloudstores.errors.InvalidInputError):
            make()
    assert sum(bucket.requests.values()) == 0


async def test_close_folds_the_tail_and_a_bad_fold_falls_back_to_segments(
    bucket: cloudstores.Bucket,
) -> None:
    writer = Index(bucket, PREFIX, SCHEMA, options=TINY)
    await fill(writer, 8)  # segments 0, 1
    await writer.compact()  # manifest 0: upto 1
    await fill(writer, 8, start=8)  # segments 2, 3
    folding = IndexOptions(max_batch=4, chunk_bytes=4096, auto_compact=False)
    writer.options = folding
    await writer.close()  # manifest 1 (format 3): manifest 0's chunks + segments 2, 3
    newest = min([i.key async for i in bucket.list(writer.layout.manifests)])
    body = codec.loads((await bucket.get(newest)).data)
    assert body["format"] == 3 and body["upto"] == 3 and len(body["tail"]) == 8
    assert [e["s"] for e in body["tail"]] == [2] * 4 + [3] * 4

    reader = Index(bucket, PREFIX, SCHEMA, options=folding)
    bucket.requests.clear()
    page = await reader.query(where={"part": "p3"})
    assert sorted(e.key for e in page.entries) == ["k0003", "k0010"]
    chunks = len(reader._select(_where(reader, "p3")))
    # LIST m/, GET manifest, GET the matching chunks, GET segment 4 (absent): no tail
    assert dict(bucket.requests) == {"list": 1, "get": 2 + chunks}
    assert reader._tail == {} and not reader.problems

    # a folded manifest with one bad tail entry is skipped whole: the older manifest and
    # the segments give the same answer
    body["tail"][0]["f"]["n"] = "NaN"
    await bucket.put(newest, codec.dumps(body), mode="overwrite")
    reader = Index(bucket, PREFIX, SCHEMA, options=folding)
    assert await keys(reader) == [f"k{j:04d}" for j in range(16)]
    assert reader.manifest is not None and reader.manifest.n == 0
    assert sorted(reader._tail) == [2, 3]
    assert [p.key for p in reader.problems] == [newest]

    # a writer that only read folds nothing on close
    bucket.requests.clear()
    await reader.close()
    assert sum(bucket.requests.values()) == 0


def _where(index: Index, part: str) -> Where:
    return compile_where(index.schema, {"part": part})
