"""ExecutionStore options (require_run, which, order, normalize, *_or_none), five backends."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta

import pytest

import cloudstores
from cloudstores.errors import InvalidInputError, NotFoundError
from cloudstores.models import ExecutionRecord, RunSummary
from cloudstores.stores.executions import ExecutionStore

T0 = datetime(2026, 3, 1, tzinfo=UTC)


def step(i: int, task: str, seconds: int, run: str = "r") -> ExecutionRecord:
    return ExecutionRecord(
        id=f"s{i}", run_id=run, task_id=task, timestamp=T0 + timedelta(seconds=seconds)
    )


async def test_bad_options_are_refused_before_any_request(
    executions: ExecutionStore, bucket: cloudstores.Bucket
) -> None:
    calls = [
        executions.record(step(1, "t", 0), require_run=1),  # type: ignore[arg-type]
        executions.get_step("r", "t", which="last"),  # type: ignore[arg-type]
        executions.list_records("r", order="id"),  # type: ignore[arg-type]
        executions.list_runs(order="newest"),  # type: ignore[arg-type]
        executions.store_workflow_snapshot("x", 1, normalize="no"),  # type: ignore[arg-type]
        executions.store_workflow_snapshot({"a": 1}, 1, normalize=False),
        executions.store_workflow_snapshot("\ud800", 1, normalize=False),
        executions.get_workflow_snapshot_or_none("nope"),
    ]
    for call in calls:
        with pytest.raises(InvalidInputError):
            await call
    assert sum(bucket.requests.values()) == 0


async def test_record_without_a_run_check(
    executions: ExecutionStore, bucket: cloudstores.Bucket
) -> None:
    with pytest.raises(NotFoundError):
        await executions.record(step(1, "t", 0, run="ghost"))
    bucket.requests.clear()
    stored = await executions.record(step(1, "t", 0, run="ghost"), require_run=False)
    assert dict(bucket.requests) == {"put": 2}  # the record and the index segment, no LIST
    assert await executions.list_records("ghost") == [stored]
    assert await executions.get_step("ghost", "t") == stored
    with pytest.raises(NotFoundError):
        await executions.get_run("ghost")


async def test_get_step_which_and_list_records_order(executions: ExecutionStore) -> None:
    await executions.create_run(RunSummary(run_id="r"))
    # stored in this order; timestamps disagree with it
    stored = [step(1, "a", 30), step(2, "b", 10), step(3, "a", 50), step(4, "a", 20)]
    for s in stored:
        await executions.record(s)
    await executions.record(stored[0])  # stored again: keeps its first place
    assert await executions.list_records("r", order="stored") == stored
    by_time = await executions.list_records("r")
    assert [s.id for s in by_time] == ["s2", "s4", "s1", "s3"]
    assert await executions.list_records("r", order="timestamp") == by_time
    assert (await executions.get_step("r", "a")).id == "s3"  # newest timestamp
    assert (await executions.get_step("r", "a", which="newest")).id == "s3"
    assert (await executions.get_step("r", "a", which="first")).id == "s1"
    assert (await executions.get_step("r", "b", which="first")).id == "s2"
    with pytest.raises(NotFoundError):
        await executions.get_step("r", "zzz", which="first")
    assert await executions.list_records("empty", order="stored") == []


async def test_list_runs_in_stored_order(
    executions: ExecutionStore, bucket: cloudstores.Bucket
) -> None:
    # created in this order, started_at in another
    names = ["m", "c", "x", "a"]
    hours = [2, 0, 3, 1]
    for name, h in zip(names, hours, strict=True):
        await executions.create_run(
            RunSummary(run_id=name, started_at=T0 + timedelta(hours=h), user_id="u")
        )
    await executions.update_run(RunSummary(run_id="c", status="done", started_at=T0))

    async def ids(**kw: object) -> list[str]:
        return [r.run_id for r in await executions.list_runs(**kw)]  # type: ignore[arg-type]

    assert await ids() == ["x", "m", "a", "c"]  # newest started_at first
    assert await ids(order="started_at") == ["x", "m", "a", "c"]
    assert await ids(order="stored") == names  # an update does not move "c"
    assert await ids(order="stored", limit=2, offset=1) == ["c", "x"]
    assert await ids(order="stored", status="running") == ["m", "x", "a"]
    await executions.list_runs(order="stored")  # warm
    bucket.requests.clear()
    runs = await executions.list_runs(order="stored")
    # one probe of the index per query (runs, creations), one GET per run
    assert dict(bucket.requests) == {"get": 2 + len(runs)}
    # a fresh store (cold index) sees the same order
    fresh = ExecutionStore(bucket, workspace="team-a")
    assert [r.run_id for r in await fresh.list_runs(order="stored")] == names
    await fresh.close()


async def test_raw_workflow_snapshot_comes_back_byte_identical(
    executions: ExecutionStore, bucket: cloudstores.Bucket
) -> None:
    raw = "name: wf  \r\nnodes:\r\n  - a\t\n\n\nünï"
    bucket.requests.clear()
    digest = await executions.store_workflow_snapshot(raw, 3, normalize=False)
    assert dict(bucket.requests) == {"put": 1}
    assert digest == hashlib.sha256(raw.encode()).hexdigest()
    bucket.requests.clear()
    snap = await executions.get_workflow_snapshot(digest)
    assert dict(bucket.requests) == {"get": 1}
    assert snap.content.encode() == raw.encode() and snap.version == 3
    normalized = await executions.store_workflow_snapshot(raw, 3)
    assert normalized != digest
    assert (await executions.get_workflow_snapshot(normalized)).content == (
        "name: wf\nnodes:\n  - a\n\n\nünï\n"
    )
    # the same raw text again: same hash, one object
    assert await executions.store_workflow_snapshot(raw, 4, normalize=False) == digest
    assert len([i async for i in bucket.list("ws/team-a/workflows/")]) == 2


async def test_get_workflow_snapshot_or_none(
    executions: ExecutionStore, bucket: cloudstores.Bucket
) -> None:
    bucket.requests.clear()
    assert await executions.get_workflow_snapshot_or_none("0" * 64) is None
    assert dict(bucket.requests) == {"get": 1}
    digest = await executions.store_workflow_snapshot({"b": 1, "a": [2]}, 1)
    snap = await executions.get_workflow_snapshot_or_none(digest)
    assert snap is not None and snap.content == '{"a":[2],"b":1}'


async def test_reindex_restores_creation_entries(
    executions: ExecutionStore, bucket: cloudstores.Bucket
) -> None:
    for name in ["b", "a"]:
        await executions.create_run(RunSummary(run_id=name))
    await executions.close()
    async for info in bucket.list("ws/team-a/_index/runs/"):
        await bucket.delete(info.key)
    fresh = ExecutionStore(bucket, workspace="team-a")
    report = await fresh.reindex()
    assert set(report.added) == {"r:a:0", "r:b:0", "c:a", "c:b"}
    # a lost index is rebuilt in the order reindex finds the runs (by run id)
    assert [r.run_id for r in await fresh.list_runs(order="stored")] == ["a", "b"]
    assert (await fresh.reindex()).added == ()
    await fresh.close()
