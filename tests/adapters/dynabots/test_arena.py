"""Orc!!'s Arena runs trials with our reputation store; the scores land in the bucket."""

from __future__ import annotations

import math
import random
import uuid
from typing import Any

import pytest
from dynabots_core import TaskResult, Verdict
from dynabots_core.protocols.judge import Submission
from orc.arena import Arena, ArenaConfig

from cloudstores.adapters.dynabots import BucketExecutionStore, BucketReputationStore


class Fighter:
    """An agent of the ``data`` domain that answers at once (the Agent protocol)."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.capabilities = ["query"]
        self.domains = ["data"]

    async def process_task(self, task: str, context: dict[str, Any]) -> TaskResult:
        return TaskResult.success(task_id=context["task_id"], data={"by": self.name})

    async def health_check(self) -> bool:
        return True


class CoinJudge:
    """A judge that picks a winner with a seeded coin (the Judge protocol)."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)

    async def evaluate(self, task: str, submissions: list[Submission]) -> Verdict:
        winner = self.rng.choice([s.agent for s in submissions])
        return Verdict(winner=winner, reasoning="coin", scores={winner: 1.0})


class Recording(BucketReputationStore):
    """Our store, remembering what the Arena sent it."""

    sent: list[tuple[str, str, float]]

    async def update_reputation(self, agent_name: str, domain: str, delta: float) -> bool:
        self.sent.append((agent_name, domain, delta))
        return await super().update_reputation(agent_name, domain, delta)


@pytest.mark.parametrize("backend", ["memory", "s3"])
async def test_arena_trials_land_in_the_bucket(backend: str, make_bucket_url: Any) -> None:
    url = make_bucket_url(backend)
    config = ArenaConfig(challenge_probability=1.0, challenge_cooldown_seconds=0)
    async with (
        Recording.from_url(url, workspace="orc") as store,
        BucketExecutionStore.from_url(url, workspace="orc") as trials,
    ):
        store.sent = []
        arena = Arena([Fighter("Grom"), Fighter("Thrall")], CoinJudge(7), config, store)
        for i in range(6):
            result = await arena.process(f"query the data {i}", domain="data")
            assert result.was_challenged
            await trials.save_workflow({"id": str(uuid.uuid4()), **result.to_dict()})
    assert len(store.sent) == 12  # two updates per trial

    async with (
        BucketReputationStore.from_url(url, workspace="orc") as fresh,
        BucketExecutionStore.from_url(url, workspace="orc") as trials,
    ):
        board = await fresh.get_leaderboard("data")
        assert {row["agent_name"] for row in board} == {"Grom", "Thrall"}
        assert board[0]["score"] >= board[1]["score"]
        for row in board:
            sent = [d for agent, _, d in store.sent if agent == row["agent_name"]]
            assert row["updates"] == len(sent)
            expected = 0.5 + math.fsum(sent)
            assert math.isclose(row["score"], expected, rel_tol=1e-9, abs_tol=1e-12)
            got = await fresh.get_reputation(row["agent_name"], "data")
            assert got == row["score"]
        saved = await trials.list_workflows()
        assert len(saved) == 6
        assert {t["winner"] for t in saved} <= {"Grom", "Thrall"}
