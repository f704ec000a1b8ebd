"""ExecutionStore on all five backends: runs, versions, records, snapshots, bad input."""

from __future__ import annotations

import asyncio
import random
from datetime import UTC, datetime, timedelta

import pytest

import cloudstores
from cloudstores.errors import (
    AlreadyExistsError,
    InvalidIdError,
    InvalidInputError,
    NotFoundError,
    PreconditionFailedError,
    SerializationError,
)
from cloudstores.models import ExecutionRecord, RunSummary
from cloudstores.stores.executions import ExecutionStore

T0 = datetime(2026, 3, 1, tzinfo=UTC)


async def test_run_lifecycle(executions: ExecutionStore) -> None:
    created = await executions.create_run(
        RunSummary(
            run_id="run-1",
            workflow_name="wf",
            total_nodes=3,
            user_id="u1",
            data={"trial": {"agents": ["a", "b"]}},
        )
    )
    assert created.version == 0
    assert await executions.get_run("run-1") == created
    update = created.model_copy(
        update={"status": "completed", "completed_nodes": 3, "total_cost": 0.25, "completed_at": T0}
    )
    stored = await executions.update_run(update)
    assert stored.version == 1
    latest = await executions.get_run("run-1")
    assert (latest.status, latest.version, latest.completed_nodes) == ("completed", 1, 3)
    history = await executions.run_history("run-1")
    assert [v.version for v in history] == [0, 1]
    assert [v.status for v in history] == ["running", "completed"]
    with pytest.raises(AlreadyExistsError):
        await executions.create_run(RunSummary(run_id="run-1"))


async def test_get_run_costs_two_requests_when_warm(
    executions: ExecutionStore, bucket: cloudstores.Bucket
) -> None:
    await executions.create_run(RunSummary(run_id="r"))
    await executions.update_run(RunSummary(run_id="r", status="done"))
    bucket.requests.clear()
    assert (await executions.get_run("r")).status == "done"
    # one LIST of the versions from the newest known (which also proves no gap after
    # it), and one GET of the latest
    assert dict(bucket.requests) == {"list": 1, "get": 1}


async def test_optimistic_update(executions: ExecutionStore) -> None:
    await executions.create_run(RunSummary(run_id="r"))
    await executions.update_run(RunSummary(run_id="r", status="a"), expected_version=0)
    with pytest.raises(PreconditionFailedError, match="version 1"):
        await executions.update_run(RunSummary(run_id="r", status="b"), expected_version=0)
    assert (await executions.get_run("r")).status == "a"


async def test_missing_runs_and_bad_input_write_nothing(
    executions: ExecutionStore, bucket: cloudstores.Bucket
) -> None:
    with pytest.raises(NotFoundError, match="ghost"):
        await executions.update_run(RunSummary(run_id="ghost", status="x"))
    with pytest.raises(NotFoundError):
        await executions.record(ExecutionRecord(id="s1", run_id="ghost", task_id="t"))
    with pytest.raises(NotFoundError):
        await executions.get_run("ghost")
    with pytest.raises(NotFoundError):
        await executions.run_history("ghost")
    with pytest.raises(InvalidIdError):
        await executions.get_run("../other-ws/runs/x")
    with pytest.raises(InvalidIdError):
        RunSummary(run_id="a/b")
    with pytest.raises(InvalidIdError):
        ExecutionRecord(id="a\x00", run_id="r", task_id="t")
    with pytest.raises(SerializationError):
        await executions.create_run(RunSummary(run_id="nan", data={"x": float("nan")}))
    with pytest.raises(InvalidInputError):
        await executions.create_run({"run_id": "dict"})  # type: ignore[arg-type]
    with pytest.raises(InvalidInputError):
        await executions.list_runs(limit=-1)
    with pytest.raises(InvalidInputError):
        await executions.get_workflow_snapshot("not-a-hash")
    assert [i.key async for i in bucket.list("") if "/_index/" not in i.key] == []


async def test_records_in_order(executions: ExecutionStore) -> None:
    await executions.create_run(RunSummary(run_id="r"))
    steps = [
        ExecutionRecord(
            id=f"rec-{i}",
            run_id="r",
            task_id=f"task-{i % 3}",
            agent_id="agent",
            status="completed",
            latency_ms=1.5 * i,
            output_artifact_refs=(f"art-{i}",),
            cost=0.01,
            details={"attempt": i},
            timestamp=T0 + timedelta(seconds=i),
        )
        for i in range(9)
    ]
    shuffled = steps[:]
    random.Random(1).shuffle(shuffled)
    for step in shuffled:
        await executions.record(step)
    assert await executions.list_records("r") == steps
    assert (await executions.get_step("r", "task-1")).id == "rec-7"  # the newest of task-1
    with pytest.raises(NotFoundError):
        await executions.get_step("r", "task-9")
    await executions.record(steps[0])  # same record again: idempotent
    with pytest.raises(AlreadyExistsError):
        await executions.record(steps[0].model_copy(update={"status": "failed"}))
    assert len(await executions.list_records("r")) == 9


async def test_list_runs_filters_and_paging(executions: ExecutionStore) -> None:
    rng = random.Random(2)
    runs = [
        RunSummary(
            run_id=f"run-{i:02d}",
            status=rng.choice(["running", "completed"]),
            user_id=rng.choice(["u1", "u2"]),
            started_at=T0 + timedelta(hours=i),
        )
        for i in range(20)
    ]
    await asyncio.gather(*(executions.create_run(r) for r in runs))
    # finish a few: the filter sees each run's latest version
    for r in runs[:5]:
        await executions.update_run(r.model_copy(update={"status": "failed"}))
    latest = {r.run_id: ("failed" if i < 5 else r.status) for i, r in enumerate(runs)}
    newest_first = [r.run_id for r in reversed(runs)]

    async def ids(**kw: object) -> list[str]:
        return [r.run_id for r in await executions.list_runs(**kw)]  # type: ignore[arg-type]

    assert await ids() == newest_first
    assert await ids(status="failed") == [i for i in newest_first if latest[i] == "failed"]
    assert await ids(status="completed", user_id="u2") == [
        r.run_id for r in reversed(runs) if latest[r.run_id] == "completed" and r.user_id == "u2"
    ]
    assert await ids(since=T0 + timedelta(hours=15)) == newest_first[:5]
    assert await ids(until=T0 + timedelta(hours=2)) == ["run-01", "run-00"]
    assert await ids(limit=4, offset=3) == newest_first[3:7]
    assert all(r.status == "failed" for r in await executions.list_runs(status="failed"))


async def test_workflow_snapshots_deduplicated(
    executions: ExecutionStore, bucket: cloudstores.Bucket
) -> None:
    yaml_a = "name: wf\nnodes:\n  - a\n"
    h1 = await executions.store_workflow_snapshot(yaml_a, 1)
    h2 = await executions.store_workflow_snapshot("name: wf  \r\nnodes:\r\n  - a\r\n", 1)
    assert h1 == h2 and len(h1) == 64
    h3 = await executions.store_workflow_snapshot({"nodes": ["a"], "name": "wf"}, 2)
    assert h3 != h1
    assert h3 == await executions.store_workflow_snapshot({"name": "wf", "nodes": ["a"]}, 2)
    snap = await executions.get_workflow_snapshot(h1)
    assert (snap.content, snap.version, snap.hash) == (yaml_a, 1, h1)
    assert len([i async for i in bucket.list("ws/team-a/workflows/")]) == 2
    with pytest.raises(NotFoundError):
        await executions.get_workflow_snapshot("0" * 64)


async def test_concurrent_updates_lose_nothing(executions: ExecutionStore) -> None:
    await executions.create_run(RunSummary(run_id="hot"))

    async def updater(w: int) -> list[int]:
        versions = []
        for i in range(10):
            stored = await executions.update_run(
                RunSummary(run_id="hot", status=f"w{w}-{i}", completed_nodes=i)
            )
            versions.append(stored.version)
        return versions

    acknowledged = await asyncio.gather(*(updater(w) for w in range(8)))
    history = await executions.run_history("hot")
    assert [v.version for v in history] == list(range(81))
    statuses = {v.status for v in history}
    assert statuses >= {f"w{w}-{i}" for w in range(8) for i in range(10)}
    all_versions = [v for vs in acknowledged for v in vs]
    assert sorted(all_versions) == list(range(1, 81))  # every update has its own version
    assert (await executions.get_run("hot")).version == 80
