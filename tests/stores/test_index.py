"""The manifest index on all five backends: isolation, crash repair, request counts."""

from __future__ import annotations

import asyncio

import pytest

import cloudstores
from cloudstores.errors import BackendUnavailableError, InvalidIdError, NotFoundError
from cloudstores.models import Artifact, ExecutionRecord, RunSummary
from cloudstores.stores.artifacts import ArtifactStore
from cloudstores.stores.executions import ExecutionStore
from cloudstores.testing import FaultyBucket

FAST_FAIL = cloudstores.RetryConfig(max_attempts=2, initial_backoff=0.001, max_backoff=0.002)


async def test_workspaces_are_isolated(bucket: cloudstores.Bucket) -> None:
    a = ArtifactStore(bucket, workspace="ws-a")
    b = ArtifactStore(bucket, workspace="ws-b")
    await a.store(Artifact(id="same", run_id="r", content="from a"))
    await b.store(Artifact(id="same", run_id="r", content="from b"))
    await a.store(Artifact(id="only-a", run_id="r"))
    assert (await a.get("same")).content == "from a"
    assert (await b.get("same")).content == "from b"
    assert [x.id for x in await b.list_by_run("r")] == ["same"]
    assert sorted([x.id async for x in a.list()]) == ["only-a", "same"]
    with pytest.raises(NotFoundError):
        await b.get("only-a")
    for crafted in ["../ws-a/artifacts/only-a", "..", "ws-a/only-a", "only-a.json/..", "%2e%2e"]:
        with pytest.raises(InvalidIdError):
            await b.get(crafted)
    ea, eb = ExecutionStore(bucket, workspace="ws-a"), ExecutionStore(bucket, workspace="ws-b")
    await ea.create_run(RunSummary(run_id="run"))
    with pytest.raises(NotFoundError):
        await eb.get_run("run")
    assert await eb.list_runs() == []
    keys = [i.key async for i in bucket.list("")]
    assert all(k.startswith(("ws/ws-a/", "ws/ws-b/")) for k in keys)
    with pytest.raises(InvalidIdError):
        ArtifactStore(bucket, workspace="../ws-a")
    with pytest.raises(InvalidIdError):
        ArtifactStore(bucket, workspace="a" * 64)


async def test_crash_between_data_and_index_then_reindex(bucket: cloudstores.Bucket) -> None:
    healthy = ArtifactStore(bucket, workspace="w")
    await healthy.store(Artifact(id="a1", run_id="r"))
    index_down = FaultyBucket(
        bucket, before=1.0, retry=FAST_FAIL, match=lambda op, key: op == "put" and "/_index/" in key
    )
    crashing = ArtifactStore(index_down, workspace="w")
    with pytest.raises(BackendUnavailableError):
        await crashing.store(Artifact(id="a2", run_id="r", content={"v": 2}))

    reader = ArtifactStore(bucket, workspace="w")
    assert (await reader.get("a2")).content == {"v": 2}  # the data object is whole
    assert [a.id for a in await reader.list_by_run("r")] == ["a1"]  # the index missed it
    seen: list[int] = []
    report = await reader.reindex(on_progress=seen.append)
    assert report.added == ("a2",) and report.scanned == 2 and seen == [1, 2]
    assert [a.id for a in await reader.list_by_run("r")] == ["a1", "a2"]
    assert (await reader.reindex()).added == ()
    # the caller retries the store that failed: idempotent, and still listed once
    await reader.store(Artifact(id="a2", run_id="r", content={"v": 2}))
    fresh = ArtifactStore(bucket, workspace="w")
    assert [a.id for a in await fresh.list_by_run("r")] == ["a1", "a2"]


async def test_executions_reindex(bucket: cloudstores.Bucket) -> None:
    healthy = ExecutionStore(bucket, workspace="w")
    await healthy.create_run(RunSummary(run_id="r"))
    index_down = FaultyBucket(
        bucket, before=1.0, retry=FAST_FAIL, match=lambda op, key: op == "put" and "/_index/" in key
    )
    crashing = ExecutionStore(index_down, workspace="w")
    with pytest.raises(BackendUnavailableError):
        await crashing.update_run(RunSummary(run_id="r", status="done"))
    with pytest.raises(BackendUnavailableError):
        await crashing.record(ExecutionRecord(id="s1", run_id="r", task_id="t"))
    reader = ExecutionStore(bucket, workspace="w")
    assert (await reader.get_run("r")).status == "done"  # probing finds the new version
    assert [r.status for r in await reader.list_runs()] == ["running"]
    assert await reader.list_records("r") == []
    seen: list[int] = []
    report = await reader.reindex(on_progress=seen.append)
    assert sorted(report.added) == ["r:r:1", "s:r:s1"]
    assert seen == list(range(1, report.scanned + 1))
    assert [r.status for r in await reader.list_runs()] == ["done"]
    assert [r.id for r in await reader.list_records("r")] == ["s1"]


async def test_list_by_run_reads_the_index_not_the_bucket(bucket: cloudstores.Bucket) -> None:
    # 10,000 in memory; 2,000 on files and 1,000 on the emulators (same shape: 5
    # artifacts a run, compacted chunks plus a tail), which keeps the suite inside CI's
    # time on two shared cores
    many = {"memory": 10_000, "file": 2_000}.get(bucket.scheme, 1_000)
    writer = ArtifactStore(bucket, workspace="big")
    gate = asyncio.Semaphore(64)

    async def store(i: int) -> None:
        async with gate:
            await writer.store(Artifact(id=f"a{i:05d}", run_id=f"run-{i % (many // 5)}"))

    await asyncio.gather(*(store(i) for i in range(many)))
    await writer.close()

    bucket.requests.clear()  # warm: the writer already holds the index
    found = await writer.list_by_run("run-7")
    assert len(found) == 5
    # one probe; the artifacts ride inline in their index entries: no GET of them
    assert dict(bucket.requests) == {"get": 1}

    cold = ArtifactStore(bucket, workspace="big")
    bucket.requests.clear()
    found = await cold.list_by_run("run-7")
    assert sorted(a.id for a in found) == sorted(f"a{i:05d}" for i in range(7, many, many // 5))
    # never a LIST of artifacts/: one LIST of the manifests (the first key is the newest);
    # GETs of the manifest, the chunks whose range holds run-7 and one probe of the tail
    # (the writer folded its tail into the manifest on close); no artifact GETs
    index = cold.index
    assert index.manifest is not None  # the writer compacted as it went
    assert index._tail == {}
    matching = [
        c for c in index.manifest.chunks if c.overlaps(("run-7", ""), ("run-7", "\U0010ffff"))
    ]
    assert dict(bucket.requests) == {"list": 1, "get": 1 + len(matching) + 1}
    assert len(matching) <= index.manifest.levels + 1
    assert not cold.index_mismatches
