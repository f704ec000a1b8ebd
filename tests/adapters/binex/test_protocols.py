"""The Binex adapter implements Binex's two store protocols in full (memory and s3)."""

from __future__ import annotations

import inspect
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from binex.eval.models import EvalResult
from binex.models.artifact import Artifact, Lineage
from binex.models.cache import CacheEntry
from binex.models.cost import CostRecord
from binex.models.execution import ExecutionRecord, RunSummary
from binex.models.task import TaskStatus
from binex.stores import ArtifactStore, ExecutionStore

import cloudstores
from cloudstores.adapters.binex import BucketArtifactStore, BucketExecutionStore
from cloudstores.adapters.binex._base import from_store_id, to_store_id
from cloudstores.errors import AlreadyExistsError, InvalidIdError, InvalidInputError
from cloudstores.keys import validate_id
from cloudstores.stores.workspace import Stores

PAIRS = [(ArtifactStore, BucketArtifactStore), (ExecutionStore, BucketExecutionStore)]


def _methods(protocol: type) -> dict[str, inspect.Signature]:
    return {
        name: inspect.signature(fn)
        for name, fn in vars(protocol).items()
        if inspect.iscoroutinefunction(fn)
    }


@pytest.mark.parametrize(("protocol", "ours"), PAIRS)
def test_every_protocol_method_with_its_parameters(protocol: type, ours: type) -> None:
    wanted = _methods(protocol)
    assert len(wanted) == (4 if protocol is ArtifactStore else 30)
    for name, signature in wanted.items():
        mine = inspect.signature(getattr(ours, name))
        assert inspect.iscoroutinefunction(getattr(ours, name)), name
        theirs = [(p.name, p.default) for p in signature.parameters.values()]
        assert [(p.name, p.default) for p in mine.parameters.values()] == theirs, name
    assert inspect.iscoroutinefunction(ours.close)
    source = inspect.getsource(inspect.getmodule(ours))  # type: ignore[arg-type]
    assert "NotImplementedError" not in source


def test_from_url_owns_and_constructor_borrows() -> None:
    with pytest.raises(InvalidInputError):
        BucketExecutionStore("memory://x")  # type: ignore[arg-type]
    owned = BucketArtifactStore.from_url("memory://binex-own/p", workspace="w1")
    assert owned.stores.workspace == "w1"


def _run(run_id: str, **kw: Any) -> RunSummary:
    fields: dict[str, Any] = {"workflow_name": "wf", "status": "running", "total_nodes": 2}
    return RunSummary(run_id=run_id, **(fields | kw))


def _rec(rec_id: str, run_id: str, task_id: str, **kw: Any) -> ExecutionRecord:
    return ExecutionRecord(
        id=rec_id,
        run_id=run_id,
        task_id=task_id,
        agent_id="local://echo",
        status=TaskStatus.COMPLETED,
        latency_ms=3,
        trace_id="t1",
        **kw,
    )


def _eval(suite: str, when: datetime) -> EvalResult:
    return EvalResult(
        suite_name=suite,
        suite_path="s.yaml",
        executed_at=when,
        total=1,
        passed=1,
        failed=0,
        no_baseline=0,
        total_cost=0.0,
        cases=[],
    )


def _cost(cid: str, run_id: str, task_id: str, cost: float, **kw: Any) -> CostRecord:
    return CostRecord(id=cid, run_id=run_id, task_id=task_id, cost=cost, source="llm_tokens", **kw)


@pytest.mark.parametrize("backend", ["memory", "s3"])
async def test_every_method_once(stores: Stores) -> None:
    art = BucketArtifactStore(stores)
    ex = BucketExecutionStore(stores)
    # artifacts: one id in two runs; get() gives the newest, each run keeps its own
    a1 = Artifact(
        id="art_a", run_id="r1", type="result", content={"x": 1}, lineage=Lineage(produced_by="a")
    )
    b1 = Artifact(
        id="art_b",
        run_id="r1",
        type="result",
        content="b",
        lineage=Lineage(produced_by="b", derived_from=["art_a", "missing"]),
    )
    a2 = a1.model_copy(update={"run_id": "r2", "content": {"x": 2}})
    for a in (a1, b1, a2):
        await art.store(a)
    assert (await art.get("art_a")) == a2
    assert await art.get("nope") is None
    assert [a.id for a in await art.list_by_run("r1")] == ["art_a", "art_b"]
    assert await art.list_by_run("r2") == [a2]
    assert await art.get_lineage("art_b") == [a2]
    # runs and records (a run id Binex would accept but our keys would not: escaped)
    odd = "run:ü/1"
    await ex.create_run(_run("r1"))
    await ex.create_run(_run(odd, git_sha="abc", observed=True))
    await ex.update_run(_run("r1", status="completed", completed_at=datetime.now(UTC)))
    got = await ex.get_run(odd)
    assert got is not None and got.run_id == odd and got.git_sha == "abc" and got.observed
    assert [r.run_id for r in await ex.list_runs()] == ["r1", odd]
    assert [r.status for r in await ex.list_runs(limit=1)] == ["completed"]
    assert [r.run_id for r in await ex.list_runs(offset=1)] == [odd]
    assert await ex.get_run("nope") is None
    r1 = _rec("rec_1", odd, "a", tool_calls=None, parent_task_id="p", trace_events=[{"e": 1}])
    r2 = _rec("rec_2", odd, "a", tool_calls=[])
    await ex.record(r1)
    await ex.record(r2)
    await ex.record(r1)  # the same again: a no-op
    with pytest.raises(AlreadyExistsError):
        await ex.record(r1.model_copy(update={"error": "other"}))
    assert await ex.list_records(odd) == [r1, r2]
    assert await ex.get_step(odd, "a") == r1
    assert await ex.get_step(odd, "b") is None
    # costs
    day = datetime(2026, 1, 2, 23, 30, tzinfo=UTC)
    costs = [
        _cost("c1", "r1", "a", 0.5, model="m1", timestamp=day),
        _cost("c2", "r1", "b", 0.25, model=None, timestamp=day + timedelta(hours=1)),
        _cost("c3", "r1", "a", 1.0, model="m1", timestamp=day - timedelta(hours=1)),
        _cost("c4", "r1", "a", 2.0, model="m1", timestamp=day).model_copy(
            update={"source": "replay"}
        ),
        _cost("c5", "r2", "a", 0.125, model="", timestamp=day),
    ]
    for c in costs:
        await ex.record_cost(c)
    await ex.record_cost(costs[0])  # the same again: a no-op, counted once
    with pytest.raises(AlreadyExistsError):
        await ex.record_cost(costs[0].model_copy(update={"cost": 9.0}))
    assert [c.id for c in await ex.list_costs("r1")] == ["c3", "c1", "c4", "c2"]
    assert [c.id for c in await ex.list_costs_batch(["r2", "r1"])] == ["c3", "c5", "c1", "c4", "c2"]
    assert await ex.get_node_cost("r1", "a") == 3.5
    summary = await ex.get_run_cost_summary("r1")
    assert summary.total_cost == 1.75 and summary.node_costs == {"a": 1.5, "b": 0.25}
    agg = await ex.get_cost_aggregations(["r1", "r2"])
    assert agg == {
        "by_model": [
            {"model": "m1", "cost": 3.5, "count": 3},
            {"model": "unknown", "cost": 0.375, "count": 2},
        ],
        "by_node": [
            {"node_id": "a", "cost": 3.625, "count": 4},
            {"node_id": "b", "cost": 0.25, "count": 1},
        ],
        "by_date": [
            {"date": "2026-01-02", "cost": 3.625, "runs": 2},
            {"date": "2026-01-03", "cost": 0.25, "runs": 1},
        ],
    }
    assert await ex.get_cost_aggregations([]) == {"by_model": [], "by_node": [], "by_date": []}
    # CAO sessions
    await ex.create_cao_session("t1", "r1", "n1")
    await ex.create_cao_session("t2", "r1", "n2", session_name="s")
    await ex.complete_cao_session("t1")
    await ex.complete_cao_session("unknown")
    await ex.mark_cao_sessions_orphaned(["t2", "unknown"])
    sessions = await ex.get_cao_sessions()
    assert [(s["terminal_id"], s["status"], s["session_name"]) for s in sessions] == [
        ("t1", "completed", ""),
        ("t2", "orphaned", "s"),
    ]
    assert [s["terminal_id"] for s in await ex.get_orphaned_cao_sessions()] == ["t2"]
    assert await ex.delete_cao_session("t1") and not await ex.delete_cao_session("t1")
    # workflow snapshots: hashed exactly as given
    digest = await ex.store_workflow_snapshot("name: wf  \r\n", 1)
    assert await ex.store_workflow_snapshot("name: wf  \r\n", 2) == digest
    snap = await ex.get_workflow_snapshot(digest)
    assert snap is not None and (snap["content"], snap["version"]) == ("name: wf  \r\n", 1)
    assert await ex.get_workflow_snapshot("not-a-digest") is None
    # node cache
    naive = (day - timedelta(days=30)).replace(tzinfo=None)  # taken as UTC
    old = CacheEntry(cache_key="k:1", run_id="r1", node_id="a", created_at=naive)
    new = CacheEntry(cache_key="k/2", run_id="r1", node_id="b", artifact_ids=["art_b"])
    await ex.put_cache_entry(old)
    await ex.put_cache_entry(new)
    assert await ex.get_cache_entry("k/2") == new and await ex.get_cache_entry("x") is None
    assert await ex.count_cache_entries() == 2
    assert await ex.clear_cache_entries(older_than_days=7) == 1
    assert await ex.clear_cache_entries() == 1 and await ex.count_cache_entries() == 0
    # eval baselines and results
    await ex.set_baseline("suite", "case-1", "r1")
    await ex.set_baseline("suite", "case-1", "r2")
    await ex.set_baseline("other", "case-1", "r1")
    assert await ex.get_baselines("suite") == {"case-1": "r2"}
    first = _eval("suite", day)
    ids = [
        await ex.save_eval_result(first),
        await ex.save_eval_result(_eval("suite", day + timedelta(days=1))),
        await ex.save_eval_result(_eval("other", day + timedelta(days=2))),
    ]
    listed = await ex.list_eval_results(limit=5, suite_name="suite")
    assert [r["id"] for r in listed] == ids[1::-1]
    assert [r["id"] for r in await ex.list_eval_results(limit=1)] == ids[2:]
    got_result = await ex.get_eval_result(ids[0])
    assert got_result is not None and EvalResult.model_validate_json(got_result["payload"]) == first
    assert await ex.get_eval_result("eval_nope") is None
    await ex.close()
    await art.close()


@pytest.mark.parametrize(
    "value", ["run_1", "a.b-c_d", "run:1", "ü", "a/b", "..", "_x-mine", "x" * 256, "a b"]
)
def test_store_ids_round_trip(value: str) -> None:
    stored = to_store_id(value, what="id")
    assert validate_id(stored) == stored
    assert from_store_id(stored) == value
    assert (stored == value) == (value in ("run_1", "a.b-c_d", "x" * 256))


def test_store_ids_refuse_what_cannot_be_a_key() -> None:
    for bad in ("", "\ud800", "é" * 100, 5):
        with pytest.raises(InvalidIdError):
            to_store_id(bad, what="run_id")


async def test_close_of_an_owned_store_closes_its_stores(make_bucket_url: Any) -> None:
    ex = BucketExecutionStore.from_url(make_bucket_url("memory"))
    await ex.create_run(_run("r1"))
    await ex.close()
    assert isinstance(ex.stores, cloudstores.Stores)


@pytest.mark.parametrize("backend", ["memory"])
async def test_cost_sums_read_no_cost_record(stores: Stores) -> None:
    ex = BucketExecutionStore(stores)
    for i in range(30):
        await ex.record_cost(_cost(f"c{i}", "r1", f"task{i % 3}", 0.5, model=f"m{i % 2}"))
    await ex.get_cost_aggregations(["r1"])  # warms the index
    before = stores.bucket.requests.copy()
    agg = await ex.get_cost_aggregations(["r1"])
    summary = await ex.get_run_cost_summary("r1")
    node = await ex.get_node_cost("r1", "task0")
    used = stores.bucket.requests - before
    assert [row["count"] for row in agg["by_model"]] == [15, 15]
    assert summary.total_cost == 15.0 and node == 5.0
    print("\nrequests of three cost reads over 30 records:", dict(used))
    assert used["get"] + used["list"] <= 10  # the index only: no GET per cost record
