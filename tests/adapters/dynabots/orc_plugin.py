"""A pytest plugin for orc-arena's own test suite: every ``Arena`` built without a
``reputation_store`` gets a :class:`BucketReputationStore` on a fresh memory bucket.

    pytest -p tests.adapters.dynabots.orc_plugin <orc-arena sdist>/tests

The plugin counts the store calls and keeps the deltas each Arena sent; at the end it
reads every (agent, domain) back through a fresh store on the same bucket and checks
it holds 0.5 plus the sum of those deltas. The summary goes to the terminal and, as
JSON, to the file named by ``ORC_PLUGIN_REPORT`` (if set).
"""

from __future__ import annotations

import asyncio
import json
import math
import os
import uuid
from collections import Counter, defaultdict
from typing import Any

import dynabots_core
import orc
import pytest
from orc.arena import arena as arena_module

from cloudstores.adapters.dynabots import BucketReputationStore

CALLS: Counter[str] = Counter()
SENT: dict[tuple[str, str, str], list[float]] = defaultdict(list)  # (url, agent, domain)
URLS: list[str] = []


class CountingReputationStore(BucketReputationStore):
    """Our store, counting its calls and remembering the deltas it was sent."""

    url = ""

    async def get_reputation(self, agent_name: str, domain: str) -> float:
        CALLS["get_reputation"] += 1
        return await super().get_reputation(agent_name, domain)

    async def update_reputation(self, agent_name: str, domain: str, delta: float) -> bool:
        CALLS["update_reputation"] += 1
        SENT[(self.url, agent_name, domain)].append(delta)
        return await super().update_reputation(agent_name, domain, delta)

    async def get_leaderboard(self, domain: str, limit: int = 10) -> list[dict[str, Any]]:
        CALLS["get_leaderboard"] += 1
        return await super().get_leaderboard(domain, limit)


_original_init = arena_module.Arena.__init__


def _init(self: Any, *args: Any, **kwargs: Any) -> None:
    if len(args) < 4 and kwargs.get("reputation_store") is None:
        url = f"memory://orc-{uuid.uuid4().hex}/rep"
        store = CountingReputationStore.from_url(url)
        store.url = url
        URLS.append(url)
        kwargs["reputation_store"] = store
        CALLS["arenas"] += 1
    _original_init(self, *args, **kwargs)


arena_module.Arena.__init__ = _init  # type: ignore[method-assign]


async def _read_back() -> list[str]:
    """Every (agent, domain) the suite sent deltas for, read through a fresh store."""
    wrong = []
    for (url, agent, domain), deltas in SENT.items():
        async with BucketReputationStore.from_url(url) as fresh:
            got = await fresh.get_reputation(agent, domain)
        if not math.isclose(got, 0.5 + math.fsum(deltas), rel_tol=1e-9, abs_tol=1e-12):
            wrong.append(f"{agent}/{domain}: {got} != 0.5 + sum({deltas})")
    return wrong


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    wrong = asyncio.run(_read_back())
    report = {
        "calls": dict(CALLS),
        "keys": len(SENT),
        "deltas": sum(len(d) for d in SENT.values()),
        "read_back_wrong": wrong,
        "modules": {"dynabots_core": dynabots_core.__file__, "orc": orc.__file__},
    }
    path = os.environ.get("ORC_PLUGIN_REPORT")
    if path:
        with open(path, "w") as out:
            json.dump(report, out)
    if wrong:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_terminal_summary(terminalreporter: Any) -> None:
    terminalreporter.write_line(f"cloudstores reputation store: {dict(CALLS)}, {len(SENT)} keys")
