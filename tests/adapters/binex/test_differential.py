"""Differential test: Binex's own InMemory stores and ours, driven by one random call
sequence (fixed seed), every result compared after JSON normalisation.

Where we differ from Binex's memory store on purpose (docs/frameworks.md, "## Binex"),
the normalisation says so, and the test counts how often each difference was seen:

* ``list_by_run``: an artifact id a later run stored again stays listed under the older
  run with us (the memory store moves it); both lists are compared as sets by id, and
  ours less those superseded artifacts must equal the memory store's.
* ``list_costs``/``list_costs_batch``: we order by ``timestamp`` (as Binex's SQLite
  store), the memory store by storing order: its list is sorted the same way (stable).
* ``get_cost_aggregations``: groups of equal cost are ordered by name with us, by first
  appearance in the memory store (SQLite: unordered): equal-cost groups are sorted.
* ``create_cao_session`` / ``get_workflow_snapshot``: ``started_at`` / ``created_at``
  are real UTC times with us, ``""`` in the memory store: left out of the comparison.
* ``save_eval_result`` makes random ids on both sides: results map ids by position.
"""

from __future__ import annotations

import collections
import copy
import random
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from binex.eval.models import EvalResult
from binex.models.artifact import Artifact, Lineage
from binex.models.cache import CacheEntry
from binex.models.cost import CostRecord
from binex.models.execution import ExecutionRecord, RunSummary
from binex.models.task import TaskStatus
from binex.stores.backends.memory import InMemoryArtifactStore, InMemoryExecutionStore
from pydantic import BaseModel

from cloudstores.adapters.binex import BucketArtifactStore, BucketExecutionStore
from cloudstores.stores.workspace import Stores

SEED = 20261126
OPS = 320
T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)

RUNS = ["run_a", "run_b", "run:c/ü", "run_d"]
ARTIFACTS = ["art_greeter", "art_responder", "art_x", "art y"]
TASKS = ["greeter", "responder", "judge"]
MODELS = [None, "", "gpt-x", "claude-y", "unknown"]
SOURCES = ["llm_tokens", "local", "replay", "agent_report"]
TERMINALS = ["term-1", "term-2", "term:3", "term-4"]
CACHE_KEYS = ["k1", "k/2", "k:3", "k4"]
SUITES = ["suite-a", "suite-b"]
CASES = ["case-1", "case-2", "case 3"]
WORKFLOWS = ["name: a\n", "name: b\r\nnodes: {}  \n", "name: ü\n"]


def normal(value: Any) -> Any:
    """JSON form: models dumped in JSON mode, floats to 9 places, tuples as lists."""
    if isinstance(value, BaseModel):
        return normal(value.model_dump(mode="json"))
    if isinstance(value, dict):
        return {str(k): normal(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [normal(v) for v in value]
    if isinstance(value, float):
        return round(value, 9)
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat()
    return value


class Differ:
    """Calls the same method on both sides and compares; counts what it saw."""

    def __init__(self, rng: random.Random, ours: tuple[Any, Any]) -> None:
        self.rng = rng
        self.ref_art, self.ref_ex = InMemoryArtifactStore(), InMemoryExecutionStore()
        self.our_art, self.our_ex = ours
        self.calls: collections.Counter[str] = collections.Counter()
        self.differences: collections.Counter[str] = collections.Counter()
        self.eval_ids: list[tuple[str, str]] = []  # (memory id, our id)
        self.created_runs: set[str] = set()
        self.clock = 0

    def tick(self) -> datetime:
        """A fresh, strictly increasing time (no ties where order is compared)."""
        self.clock += 1
        return T0 + timedelta(minutes=7 * self.clock, microseconds=self.clock)

    async def both(
        self, side: str, name: str, *args: Any, normalise: Callable[[Any], Any] = normal
    ) -> tuple[Any, Any]:
        ref = getattr(self.ref_art if side == "art" else self.ref_ex, name)
        ours = getattr(self.our_art if side == "art" else self.our_ex, name)
        got_ref = await ref(*copy.deepcopy(args))
        got_ours = await ours(*copy.deepcopy(args))
        self.calls[name] += 1
        assert normalise(got_ours) == normalise(got_ref), (name, args)
        return got_ref, got_ours

    # ------------------------------------------------------------------ artifacts
    async def store_artifact(self) -> None:
        parents = self.rng.sample([*ARTIFACTS, "art_missing"], self.rng.randint(0, 2))
        content = self.rng.choice([None, "text", {"k": [1, 2.5, None]}, [True, "ü"], 7])
        art = Artifact(
            id=self.rng.choice(ARTIFACTS),
            run_id=self.rng.choice(RUNS),
            type=self.rng.choice(["result", "llm_response"]),
            content=content,
            status=self.rng.choice(["complete", "partial"]),
            lineage=Lineage(produced_by=self.rng.choice(TASKS), derived_from=parents),
            metadata=self.rng.choice([None, {"m": 1}]),
            created_at=self.tick(),
        )
        await self.both("art", "store", art)

    async def get_artifact(self) -> None:
        await self.both("art", "get", self.rng.choice([*ARTIFACTS, "nope"]))

    async def get_lineage(self) -> None:
        await self.both("art", "get_lineage", self.rng.choice(ARTIFACTS))

    async def list_by_run(self) -> None:
        run_id = self.rng.choice(RUNS)
        ref = await self.ref_art.list_by_run(run_id)
        ours = await self.our_art.list_by_run(run_id)
        self.calls["list_by_run"] += 1
        newest = {a.id: a.run_id for a in self.ref_art._artifacts.values()}
        kept = [a for a in ours if newest.get(a.id) == run_id]
        self.differences["list_by_run: older run keeps a reused id"] += len(ours) - len(kept)
        assert sorted(normal(kept), key=lambda a: a["id"]) == sorted(
            normal(ref), key=lambda a: a["id"]
        )

    # ------------------------------------------------------------------ runs and records
    def _run(self, run_id: str) -> RunSummary:
        return RunSummary(
            run_id=run_id,
            workflow_name=self.rng.choice(["hello-world", "wf"]),
            workflow_path=self.rng.choice([None, "w.yaml"]),
            status=self.rng.choice(["running", "completed", "failed", "over_budget"]),
            started_at=self.tick(),
            completed_at=self.rng.choice([None, self.tick()]),
            total_nodes=self.rng.randint(0, 5),
            completed_nodes=self.rng.randint(0, 5),
            total_cost=round(self.rng.random(), 3),
            git_sha=self.rng.choice([None, "abc123"]),
            git_dirty=self.rng.random() < 0.5,
            eval_suite_id=self.rng.choice([None, "suite-a"]),
            source=self.rng.choice([None, "otel-import"]),
        )

    async def create_run(self) -> None:
        # Mostly new runs; sometimes one that exists (both replace it: a new version)
        run_id = self.rng.choice(RUNS)
        await self.both("ex", "create_run", self._run(run_id))
        self.created_runs.add(run_id)

    async def update_run(self) -> None:
        # A run that may not exist: the memory store creates it, and so do we
        await self.both("ex", "update_run", self._run(self.rng.choice(RUNS)))

    async def get_run(self) -> None:
        await self.both("ex", "get_run", self.rng.choice([*RUNS, "run_none"]))

    async def list_runs(self) -> None:
        limit = self.rng.choice([None, 0, 1, 2, 10])
        await self.both("ex", "list_runs", limit, self.rng.randint(0, 3))

    async def record(self) -> None:
        rec = ExecutionRecord(
            id=f"rec_{self.clock}_{self.rng.randint(0, 999)}",
            run_id=self.rng.choice(RUNS),
            task_id=self.rng.choice(TASKS),
            parent_task_id=self.rng.choice([None, "greeter"]),
            agent_id="local://echo",
            status=self.rng.choice(list(TaskStatus)),
            input_artifact_refs=self.rng.sample(ARTIFACTS, 1),
            prompt=self.rng.choice([None, "say hi"]),
            model=self.rng.choice(MODELS),
            tool_calls=self.rng.choice([None, [], [{"name": "t", "args": {"a": 1}}]]),
            latency_ms=self.rng.randint(0, 5000),
            timestamp=self.tick(),
            trace_id="trace_1",
            error=self.rng.choice([None, "boom"]),
            trace_events=self.rng.choice([None, [{"e": "start"}]]),
        )
        await self.both("ex", "record", rec)

    async def get_step(self) -> None:
        await self.both("ex", "get_step", self.rng.choice(RUNS), self.rng.choice(TASKS))

    async def list_records(self) -> None:
        await self.both("ex", "list_records", self.rng.choice(RUNS))

    # ------------------------------------------------------------------ costs
    async def record_cost(self) -> None:
        cost = CostRecord(
            id=f"cost_{self.clock}_{self.rng.randint(0, 999)}",
            run_id=self.rng.choice(RUNS),
            task_id=self.rng.choice(TASKS),
            cost=self.rng.choice([0.0, round(self.rng.random(), 3)]),
            source=self.rng.choice(SOURCES),
            prompt_tokens=self.rng.choice([None, 10]),
            model=self.rng.choice(MODELS),
            timestamp=self.tick(),
        )
        await self.both("ex", "record_cost", cost)

    async def list_costs(self) -> None:
        await self.both("ex", "list_costs", self.rng.choice(RUNS), normalise=_by_time)

    async def list_costs_batch(self) -> None:
        runs = self.rng.sample(RUNS, self.rng.randint(0, len(RUNS)))
        await self.both("ex", "list_costs_batch", runs, normalise=_by_time)

    async def get_cost_aggregations(self) -> None:
        runs = self.rng.sample(RUNS, self.rng.randint(0, len(RUNS)))
        await self.both("ex", "get_cost_aggregations", runs, normalise=_ties_by_name)

    async def get_node_cost(self) -> None:
        await self.both("ex", "get_node_cost", self.rng.choice(RUNS), self.rng.choice(TASKS))

    async def get_run_cost_summary(self) -> None:
        await self.both("ex", "get_run_cost_summary", self.rng.choice(RUNS))

    # ------------------------------------------------------------------ CAO sessions
    async def create_cao_session(self) -> None:
        args = (
            self.rng.choice(TERMINALS),
            self.rng.choice(RUNS),
            self.rng.choice(TASKS),
            self.rng.choice([None, "sess"]),
        )
        await self.both("ex", "create_cao_session", *args)

    async def complete_cao_session(self) -> None:
        await self.both("ex", "complete_cao_session", self.rng.choice(TERMINALS))

    async def get_cao_sessions(self) -> None:
        status = self.rng.choice([None, "", "active", "completed", "orphaned"])
        await self.both("ex", "get_cao_sessions", status, normalise=_no_started_at)

    async def get_orphaned_cao_sessions(self) -> None:
        await self.both("ex", "get_orphaned_cao_sessions", normalise=_no_started_at)

    async def mark_cao_sessions_orphaned(self) -> None:
        ids = self.rng.sample(TERMINALS, self.rng.randint(0, 3))
        await self.both("ex", "mark_cao_sessions_orphaned", ids)

    async def delete_cao_session(self) -> None:
        await self.both("ex", "delete_cao_session", self.rng.choice(TERMINALS))

    # ------------------------------------------------------------------ snapshots
    async def store_workflow_snapshot(self) -> None:
        args = (self.rng.choice(WORKFLOWS), self.rng.randint(1, 3))
        await self.both("ex", "store_workflow_snapshot", *args)

    async def get_workflow_snapshot(self) -> None:
        known = [*self.ref_ex._workflow_snapshots, "0" * 64, "not-a-hash"]
        await self.both(
            "ex", "get_workflow_snapshot", self.rng.choice(known), normalise=_no_created_at
        )

    # ------------------------------------------------------------------ node cache
    async def put_cache_entry(self) -> None:
        age = timedelta(days=self.rng.choice([0, 3, 10, 40]))
        entry = CacheEntry(
            cache_key=self.rng.choice(CACHE_KEYS),
            run_id=self.rng.choice(RUNS),
            node_id=self.rng.choice(TASKS),
            artifact_ids=self.rng.sample(ARTIFACTS, 2),
            saved_cost=round(self.rng.random(), 3),
            created_at=datetime.now(UTC) - age,
        )
        await self.both("ex", "put_cache_entry", entry)

    async def get_cache_entry(self) -> None:
        await self.both("ex", "get_cache_entry", self.rng.choice(CACHE_KEYS))

    async def count_cache_entries(self) -> None:
        await self.both("ex", "count_cache_entries")

    async def clear_cache_entries(self) -> None:
        # Cut-offs half a day away from every entry's age: no race with the clock
        days = self.rng.choice([None, 1.5, 20.5, 365.5])
        await self.both("ex", "clear_cache_entries", days)

    # ------------------------------------------------------------------ evals
    async def set_baseline(self) -> None:
        args = (self.rng.choice(SUITES), self.rng.choice(CASES), self.rng.choice(RUNS))
        await self.both("ex", "set_baseline", *args)

    async def get_baselines(self) -> None:
        await self.both("ex", "get_baselines", self.rng.choice([*SUITES, "none"]))

    async def save_eval_result(self) -> None:
        result = EvalResult(
            suite_name=self.rng.choice(SUITES),
            suite_path="suite.yaml",
            executed_at=self.tick(),
            total=2,
            passed=self.rng.randint(0, 2),
            failed=0,
            no_baseline=0,
            total_cost=round(self.rng.random(), 3),
            cases=[],
        )
        ref = await self.ref_ex.save_eval_result(result.model_copy(deep=True))
        ours = await self.our_ex.save_eval_result(result.model_copy(deep=True))
        self.calls["save_eval_result"] += 1
        assert ours.startswith("eval_") and len(ours) == len(ref)
        self.eval_ids.append((ref, ours))

    def _ids_by_position(self, value: Any) -> Any:
        mapping = {ours: f"#{i}" for i, (_, ours) in enumerate(self.eval_ids)}
        mapping.update({ref: f"#{i}" for i, (ref, _) in enumerate(self.eval_ids)})
        rows = value if isinstance(value, list) else [value]
        out = [None if r is None else {**normal(r), "id": mapping[r["id"]]} for r in rows]
        return out if isinstance(value, list) else out[0]

    async def list_eval_results(self) -> None:
        args = (self.rng.choice([1, 3, 50]), self.rng.choice([None, "", *SUITES]))
        await self.both("ex", "list_eval_results", *args, normalise=self._ids_by_position)

    async def get_eval_result(self) -> None:
        if not self.eval_ids:
            return
        ref_id, our_id = self.rng.choice(self.eval_ids)
        ref = await self.ref_ex.get_eval_result(ref_id)
        ours = await self.our_ex.get_eval_result(our_id)
        self.calls["get_eval_result"] += 1
        assert self._ids_by_position(ours) == self._ids_by_position(ref)


def _by_time(costs: list[CostRecord]) -> Any:
    return normal(sorted(costs, key=lambda c: c.timestamp))


def _ties_by_name(agg: dict[str, list[dict[str, Any]]]) -> Any:
    return {
        k: sorted(normal(rows), key=lambda r: (-r["cost"], str(r.get("model", r.get("node_id")))))
        if k != "by_date"
        else normal(rows)
        for k, rows in agg.items()
    }


def _no_started_at(sessions: list[dict[str, str]]) -> Any:
    return [{k: v for k, v in s.items() if k != "started_at"} for s in sessions]


def _no_created_at(snapshot: dict[str, Any] | None) -> Any:
    return None if snapshot is None else {k: v for k, v in snapshot.items() if k != "created_at"}


OPERATIONS: list[tuple[str, int]] = [
    ("store_artifact", 6),
    ("get_artifact", 3),
    ("get_lineage", 2),
    ("list_by_run", 3),
    ("create_run", 3),
    ("update_run", 3),
    ("get_run", 2),
    ("list_runs", 2),
    ("record", 4),
    ("get_step", 2),
    ("list_records", 2),
    ("record_cost", 6),
    ("list_costs", 2),
    ("list_costs_batch", 2),
    ("get_cost_aggregations", 3),
    ("get_node_cost", 2),
    ("get_run_cost_summary", 2),
    ("create_cao_session", 3),
    ("complete_cao_session", 2),
    ("get_cao_sessions", 2),
    ("get_orphaned_cao_sessions", 1),
    ("mark_cao_sessions_orphaned", 1),
    ("delete_cao_session", 1),
    ("store_workflow_snapshot", 2),
    ("get_workflow_snapshot", 2),
    ("put_cache_entry", 3),
    ("get_cache_entry", 2),
    ("count_cache_entries", 1),
    ("clear_cache_entries", 1),
    ("set_baseline", 2),
    ("get_baselines", 2),
    ("save_eval_result", 2),
    ("list_eval_results", 2),
    ("get_eval_result", 1),
]


@pytest.mark.parametrize("backend", ["memory", "azure"])
async def test_same_results_as_binex_memory_stores(stores: Stores) -> None:
    rng = random.Random(SEED)
    differ = Differ(rng, (BucketArtifactStore(stores), BucketExecutionStore(stores)))
    names = [name for name, _ in OPERATIONS]
    weights = [w for _, w in OPERATIONS]
    for _ in range(OPS):
        op: Callable[[], Awaitable[None]] = getattr(differ, rng.choices(names, weights)[0])
        await op()
    total = sum(differ.calls.values())
    print(f"\nbinex differential: {total} operations, {len(differ.calls)} methods")
    print("calls:", dict(sorted(differ.calls.items())))
    print("documented differences seen:", dict(differ.differences))
    print("bucket requests:", dict(sorted(stores.bucket.requests.items())))
    assert total >= 300
    assert len(differ.calls) == 34  # every method of both protocols
