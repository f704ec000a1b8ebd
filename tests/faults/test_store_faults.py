"""The stores under a lost response, on every cloud: each acknowledged write lands once.

Today (issue 8) a lost answer to a create-only PUT makes the audit writer append the
event twice and ``update_run`` store two versions, because the HTTP client's hidden
re-send meets our own object and the bucket layer reports it as another writer's.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

import cloudstores
from cloudstores.models import Artifact, RunSummary
from cloudstores.stores.audit import AuditOptions
from tests.faults.conftest import FAST_RETRY, Proxied

WS = "ws/team-a/"


@pytest.fixture
async def stores(proxied: Proxied) -> AsyncIterator[cloudstores.Stores]:
    """The stores of workspace team-a, through the proxy, no automatic checkpoints."""
    options = AuditOptions(
        checkpoint_every=None, checkpoint_interval=None, checkpoint_on_close=False
    )
    async with cloudstores.open_stores(
        proxied.url, workspace="team-a", retry=FAST_RETRY, audit_options=options
    ) as opened:
        yield opened


async def test_audit_append_with_lost_response_is_logged_once(
    stores: cloudstores.Stores, proxied: Proxied
) -> None:
    await stores.audit.append("s1", {"n": 0})
    proxied.proxy.plan("drop_response", **proxied.writes(f"{WS}audit/s1/e/"))
    entry = await stores.audit.append("s1", {"n": 1})
    await stores.audit.append("s1", {"n": 2})
    assert proxied.proxy.fired("drop_response") == 1
    entries = [e async for e in stores.audit.read("s1")]
    assert [e.event["n"] for e in entries] == [0, 1, 2]  # today: 0, 1, 1, 2 (event 1 twice)
    assert [e.seq for e in entries] == [0, 1, 2]
    assert entry.seq == 1
    report = await stores.audit.verify("s1")
    assert report.ok
    assert report.size == 3


async def test_update_run_with_lost_response_is_one_version(
    stores: cloudstores.Stores, proxied: Proxied
) -> None:
    run = await stores.executions.create_run(RunSummary(run_id="r1", status="running"))
    proxied.proxy.plan("drop_response", **proxied.writes(f"{WS}runs/r1/v/"))
    updated = await stores.executions.update_run(run.model_copy(update={"status": "done"}))
    assert proxied.proxy.fired("drop_response") == 1
    history = await stores.executions.run_history("r1")
    assert [v.status for v in history] == ["running", "done"]  # today: the update twice
    assert updated.version == 1
    assert (await stores.executions.get_run("r1")).status == "done"


async def test_artifact_store_with_lost_response_is_stored_once(
    stores: cloudstores.Stores, proxied: Proxied
) -> None:
    await stores.artifacts.store(Artifact(id="warm", run_id="run-1", content={"x": 0}))
    proxied.proxy.plan("drop_response", **proxied.writes(f"{WS}artifacts/a1"))
    artifact = Artifact(id="a1", run_id="run-1", content={"x": 1})
    stored = await stores.artifacts.store(artifact)
    assert proxied.proxy.fired("drop_response") == 1
    assert stored.content == {"x": 1}
    assert (await stores.artifacts.get("a1")).content == {"x": 1}
    assert [a.id for a in await stores.artifacts.list_by_run("run-1")] == ["warm", "a1"]
