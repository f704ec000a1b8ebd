"""Differential test: the four adapters against a brute-force model of DynaBots'
reference backends, one random call sequence (400 operations, fixed seed).

dynabots-core 0.1.1 ships the protocols only; its reference backends are the examples of
its documentation (the in-memory ExecutionStore and CacheStore, the PostgreSQL
ExecutionStore and ReputationStore, the file AuditStore). The model below is written
from those semantics. Where the references disagree with each other or with ours, the
model follows ours, and each difference is listed here (and in docs/frameworks.md):

1. ``list_workflows`` order: newest first saved first, as the PostgreSQL reference
   (``ORDER BY created_at DESC``, ``created_at`` kept on update); the in-memory example
   returns insertion order. A re-save keeps its place in both.
2. An unknown filter name raises InvalidInputError; the references ignore it and
   return unfiltered rows (a silent wrong answer).
3. A filter value of None means "no filter"; the references also skip ``""`` (any falsy
   value), ours filters by ``""``. The sequence never filters by ``""``.
4. Every value read is a fresh copy (the in-memory references hand out the stored
   object itself), and values must be JSON (the in-memory references keep anything).
5. Leaderboard rows are ``{"agent_name", "domain", "score", "updates"}`` (the
   PostgreSQL reference selects ``wins``/``losses`` columns its own update never sets);
   ties are broken by agent name. Deltas here are multiples of 1/64, so sums are exact
   whatever their order; with arbitrary floats our index may add them in another order
   than the sequential ``score + delta`` and differ in the last bits.
6. Audit events carry no timestamp member: the audit entry's ``ts`` is the time.
"""

from __future__ import annotations

import random
from typing import Any

import pytest

import cloudstores
from cloudstores.adapters.dynabots import (
    BucketAuditStore,
    BucketCacheStore,
    BucketExecutionStore,
    BucketReputationStore,
)

SEED = 20261126
OPERATIONS = 400
WORKFLOWS = [f"wf-{i}" for i in range(10)] + ["wf:odd/id é"]
STATUSES = ["running", "done", "failed"]
USERS = ["ann", "bob", "cy"]
KEYS = [f"pattern:{i}" for i in range(6)]
AGENTS = ["Orc", "Elf", "Dwarf", "Troll", "Gnome"]
DOMAINS = ["data", "reports"]


class Model:
    """What the reference backends answer (with the listed differences applied)."""

    def __init__(self) -> None:
        self.workflows: dict[str, tuple[int, dict[str, Any]]] = {}
        self.saves = 0
        self.cache: dict[str, dict[str, Any]] = {}
        self.scores: dict[tuple[str, str], tuple[float, int]] = {}
        self.events: dict[str, list[dict[str, Any]]] = {}

    def save(self, data: dict[str, Any]) -> bool:
        first = self.workflows.get(data["id"], (self.saves, {}))[0]
        self.workflows[data["id"]] = (first, data)
        self.saves += 1
        return True

    def listing(self, limit: int, filters: dict[str, Any]) -> list[dict[str, Any]]:
        rows = sorted(self.workflows.values(), key=lambda row: -row[0])
        for name, value in filters.items():
            if value is not None:
                rows = [row for row in rows if row[1].get(name) == value]
        return [data for _, data in rows[:limit]]

    def update(self, agent: str, domain: str, delta: float) -> bool:
        score, count = self.scores.get((agent, domain), (0.5, 0))
        self.scores[(agent, domain)] = (score + delta, count + 1)
        return True

    def board(self, domain: str, limit: int) -> list[dict[str, Any]]:
        rows = [
            {"agent_name": agent, "domain": domain, "score": score, "updates": count}
            for (agent, d), (score, count) in self.scores.items()
            if d == domain
        ]
        rows.sort(key=lambda r: (-r["score"], r["agent_name"]))
        return rows[:limit]


def workflow(rng: random.Random) -> dict[str, Any]:
    data: dict[str, Any] = {"id": rng.choice(WORKFLOWS), "status": rng.choice(STATUSES)}
    if rng.random() < 0.8:
        data["user_id"] = rng.choice(USERS)
    data["result"] = {"n": rng.randrange(1000), "tags": rng.sample(["a", "b", "c"], 2)}
    return data


class Run:
    """The adapters and the model, driven by one seeded generator."""

    def __init__(self, stores: cloudstores.Stores, rng: random.Random) -> None:
        self.rng, self.model = rng, Model()
        self.executions = BucketExecutionStore(stores)
        self.audit = BucketAuditStore(stores)
        self.cache = BucketCacheStore(stores)
        self.reputation = BucketReputationStore(stores)

    async def save(self) -> None:
        data = workflow(self.rng)
        assert await self.executions.save_workflow(data) is self.model.save(data)

    async def get(self) -> None:
        wid = self.rng.choice([*WORKFLOWS, "wf-missing"])
        expected = self.model.workflows.get(wid, (0, None))[1]
        assert await self.executions.get_workflow(wid) == expected

    async def list(self) -> None:
        limit = self.rng.randrange(0, 14)
        filters = {
            "status": self.rng.choice([None, *STATUSES]),
            "user_id": self.rng.choice([None, None, *USERS]),
        }
        got = await self.executions.list_workflows(limit=limit, **filters)
        assert got == self.model.listing(limit, filters)

    async def set(self) -> None:
        key, value = self.rng.choice(KEYS), {"route": self.rng.randrange(100), "hits": [1]}
        assert await self.cache.set(key, value) is True
        self.model.cache[key] = value

    async def cache_get(self) -> None:
        key = self.rng.choice(KEYS)
        assert await self.cache.get(key) == self.model.cache.get(key)

    async def delete(self) -> None:
        key = self.rng.choice(KEYS)
        assert await self.cache.delete(key) is True
        self.model.cache.pop(key, None)

    async def update(self) -> None:
        agent, domain = self.rng.choice(AGENTS), self.rng.choice(DOMAINS)
        delta = self.rng.randint(-24, 24) / 64
        ok = await self.reputation.update_reputation(agent, domain, delta)
        assert ok is self.model.update(agent, domain, delta)

    async def score(self) -> None:
        agent, domain = self.rng.choice(AGENTS), self.rng.choice(DOMAINS)
        expected = self.model.scores.get((agent, domain), (0.5, 0))[0]
        assert await self.reputation.get_reputation(agent, domain) == expected

    async def board(self) -> None:
        domain, limit = self.rng.choice(DOMAINS), self.rng.randrange(0, 7)
        expected = self.model.board(domain, limit)
        assert await self.reputation.get_leaderboard(domain, limit) == expected

    async def log(self) -> None:
        wid = self.rng.choice(WORKFLOWS)
        event = await log_one(self.rng, self.audit, wid)
        self.model.events.setdefault(wid, []).append(event)


KINDS = ["save", "save", "get", "list", "set", "cache_get", "delete"]
KINDS += ["update", "update", "score", "board", "log"]


@pytest.mark.parametrize("backend", ["memory", "file"])
async def test_random_sequence_matches_the_reference_model(
    backend: str, make_bucket_url: Any
) -> None:
    rng = random.Random(SEED)
    async with cloudstores.open_stores(make_bucket_url(backend), workspace="diff") as stores:
        run = Run(stores, rng)
        done: dict[str, int] = {}
        for step in range(OPERATIONS):
            kind = rng.choice(KINDS)
            done[kind] = done.get(kind, 0) + 1
            try:
                await getattr(run, kind)()
            except AssertionError as exc:
                raise AssertionError(f"step {step}: {kind}: {exc}") from exc
        assert min(done.values()) >= 10, done  # every kind of call was exercised
        for wid, events in run.model.events.items():
            assert [entry.event for entry in await run.audit.events(wid)] == events, wid
        assert (await stores.audit.verify(run.audit.stream)).ok


async def log_one(rng: random.Random, audit: BucketAuditStore, wid: str) -> dict[str, Any]:
    """One random audit call; the event the file reference writes, minus its timestamp."""
    choice = rng.randrange(3)
    if choice == 0:
        data = {"step": rng.randrange(50)}
        assert await audit.log_workflow(wid, data)
        return {"event_type": "workflow", "workflow_id": wid, "data": data}
    if choice == 1:
        task, data = f"t{rng.randrange(5)}", {"ok": rng.random() < 0.5}
        assert await audit.log_task(wid, task, data)
        return {"event_type": "task", "workflow_id": wid, "task_id": task, "data": data}
    error_type, message = rng.choice(["Timeout", "ValueError"]), f"m{rng.randrange(9)}"
    assert await audit.log_error(wid, error_type, message)
    return {
        "event_type": "error",
        "workflow_id": wid,
        "error_type": error_type,
        "message": message,
    }
