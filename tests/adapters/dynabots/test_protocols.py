"""The four DynaBots storage protocols on the five backends: conformance, read-back
through fresh stores, ownership, expiry, and validation before any request."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from dynabots_core.protocols import storage

import cloudstores
from cloudstores.adapters.dynabots import (
    BucketAuditStore,
    BucketCacheStore,
    BucketExecutionStore,
    BucketReputationStore,
)
from cloudstores.errors import InvalidInputError

PAIRS = [
    (BucketExecutionStore, storage.ExecutionStore),
    (BucketAuditStore, storage.AuditStore),
    (BucketCacheStore, storage.CacheStore),
    (BucketReputationStore, storage.ReputationStore),
]


@pytest.fixture(params=["memory", "file", "s3", "azure", "gcs"])
def url(request: pytest.FixtureRequest, make_bucket_url: Any) -> str:
    return str(make_bucket_url(request.param))


async def test_protocols_hold_and_data_lands_in_the_bucket(url: str) -> None:
    stores = cloudstores.open_stores(url, workspace="bots")
    adapters = [cls(stores) for cls, _ in PAIRS]
    for adapter, (_, protocol) in zip(adapters, PAIRS, strict=True):
        assert isinstance(adapter, protocol)
    executions, audit, cache, reputation = adapters
    assert isinstance(executions, BucketExecutionStore)
    assert isinstance(audit, BucketAuditStore)
    assert isinstance(cache, BucketCacheStore)
    assert isinstance(reputation, BucketReputationStore)

    assert await executions.save_workflow({"id": "w1", "status": "done", "user_id": "ann"})
    assert await executions.save_workflow({"id": "w2", "status": "failed", "user_id": "bob"})
    assert await executions.save_workflow({"id": "w1", "status": "done", "user_id": "bob", "n": 2})
    assert await audit.log_workflow("w1", {"step": 1})
    assert await audit.log_task("w1", "t1", {"ok": True})
    assert await audit.log_error("w1", "Timeout", "slow")
    assert await cache.set("pattern:a", {"route": "x"})
    assert await cache.set("pattern:b", {"route": "y"})
    assert await cache.delete("pattern:b")
    for agent, delta in [("A", 0.25), ("B", -0.125), ("A", 0.5), ("C", 0.0)]:
        assert await reputation.update_reputation(agent, "data", delta)
    for adapter in adapters:
        await adapter.close()  # borrowed: the stores stay open
    await stores.close()

    # Read back through adapters that own fresh stores on the same bucket.
    async with BucketExecutionStore.from_url(url, workspace="bots") as executions:
        assert await executions.get_workflow("w1") == {
            "id": "w1",
            "status": "done",
            "user_id": "bob",
            "n": 2,
        }
        assert await executions.get_workflow("nope") is None
        listed = await executions.list_workflows()
        assert [w["id"] for w in listed] == ["w2", "w1"]  # newest first saved first
        assert [w["id"] for w in await executions.list_workflows(user_id="bob")] == ["w2", "w1"]
        assert [w["id"] for w in await executions.list_workflows(status="done")] == ["w1"]
        assert await executions.list_workflows(status="done", user_id="ann") == []
        assert [w["id"] for w in await executions.list_workflows(limit=1)] == ["w2"]
        past = datetime.now(UTC) - timedelta(days=1)
        assert len(await executions.list_workflows(date_range=(past, None))) == 2
        assert await executions.list_workflows(date_range=(None, past)) == []
    async with BucketAuditStore.from_url(url, workspace="bots") as audit:
        events = [e.event for e in await audit.events("w1")]
        assert [e["event_type"] for e in events] == ["workflow", "task", "error"]
        assert events[1] == {"event_type": "task", "workflow_id": "w1", "task_id": "t1"} | {
            "data": {"ok": True}
        }
        report = await audit.stores.audit.verify(audit.stream)
        assert report.ok, report
    async with BucketCacheStore.from_url(url, workspace="bots") as cache:
        assert await cache.get("pattern:a") == {"route": "x"}
        assert await cache.get("pattern:b") is None
    async with BucketReputationStore.from_url(url, workspace="bots") as reputation:
        assert await reputation.get_reputation("A", "data") == 1.25
        assert await reputation.get_reputation("B", "data") == 0.375
        assert await reputation.get_reputation("A", "other") == 0.5
        board = await reputation.get_leaderboard("data")
        assert board == [
            {"agent_name": "A", "domain": "data", "score": 1.25, "updates": 2},
            {"agent_name": "C", "domain": "data", "score": 0.5, "updates": 1},
            {"agent_name": "B", "domain": "data", "score": 0.375, "updates": 1},
        ]
        assert await reputation.get_leaderboard("data", limit=1) == board[:1]
        assert await reputation.get_leaderboard("nobody") == []


async def test_owned_stores_close_and_borrowed_do_not(make_bucket_url: Any) -> None:
    url = make_bucket_url("memory")
    stores = cloudstores.open_stores(url)
    borrowed = BucketCacheStore(stores)
    await borrowed.set("k", {"v": 1})
    await borrowed.close()
    assert await BucketCacheStore(stores).get("k") == {"v": 1}  # still usable
    await stores.close()
    owned = BucketCacheStore.from_url(url, ttl_seconds=None, collection="other")
    assert owned.collection == "other" and owned.ttl is None
    async with owned:
        assert await owned.get("k") is None  # another collection


async def test_cache_entries_expire(make_bucket_url: Any) -> None:
    url = make_bucket_url("memory")
    async with BucketCacheStore.from_url(url, ttl_seconds=30) as cache:
        before = datetime.now(UTC)
        await cache.set("k", {"v": 1})
        document = await cache.stores.documents(cache.collection).get("k")
        assert document.expires_at is not None
        assert before + timedelta(seconds=30) <= document.expires_at
        assert document.expires_at <= datetime.now(UTC) + timedelta(seconds=30)
        # An entry whose expiry has passed reads as missing, and delete still answers True.
        await cache.stores.documents(cache.collection).put(
            "k", {"v": 2}, expires_at=datetime(2000, 1, 1, tzinfo=UTC)
        )
        assert await cache.get("k") is None
        assert await cache.delete("k") is True
        await cache.set("k", {"v": 3})
        assert await cache.get("k") == {"v": 3}


BAD_CALLS: list[tuple[type[Any], str, tuple[Any, ...], dict[str, Any]]] = [
    (BucketExecutionStore, "save_workflow", ({"status": "x"},), {}),
    (BucketExecutionStore, "save_workflow", ([("id", "w")],), {}),
    (BucketExecutionStore, "save_workflow", ({"id": "w", "status": 3},), {}),
    (BucketExecutionStore, "save_workflow", ({"id": "w", "at": datetime.now(UTC)},), {}),
    (BucketExecutionStore, "get_workflow", (7,), {}),
    (BucketExecutionStore, "list_workflows", (), {"limit": -1}),
    (BucketExecutionStore, "list_workflows", (), {"limit": True}),
    (BucketExecutionStore, "list_workflows", (), {"owner": "ann"}),
    (BucketExecutionStore, "list_workflows", (), {"status": 3}),
    (BucketExecutionStore, "list_workflows", (), {"date_range": "today"}),
    (BucketAuditStore, "log_workflow", ("", {}), {}),
    (BucketAuditStore, "log_workflow", ("w", "data"), {}),
    (BucketAuditStore, "log_workflow", ("w", {"x": float("nan")}), {}),
    (BucketAuditStore, "log_task", ("w", None, {}), {}),
    (BucketAuditStore, "log_error", ("w", "E", 5), {}),
    (BucketCacheStore, "get", ("",), {}),
    (BucketCacheStore, "set", ("k", {"x": b"bytes"}), {}),
    (BucketCacheStore, "delete", (None,), {}),
    (BucketReputationStore, "update_reputation", ("a", "d", float("inf")), {}),
    (BucketReputationStore, "update_reputation", ("a", "d", True), {}),
    (BucketReputationStore, "update_reputation", ("a", "d", "0.1"), {}),
    (BucketReputationStore, "get_reputation", ("", "d"), {}),
    (BucketReputationStore, "get_leaderboard", ("d",), {"limit": -1}),
]


@pytest.mark.parametrize(("cls", "method", "args", "kwargs"), BAD_CALLS)
async def test_bad_input_fails_before_any_request(
    make_bucket_url: Any, cls: type[Any], method: str, args: tuple[Any, ...], kwargs: Any
) -> None:
    async with cls.from_url(make_bucket_url("memory")) as adapter:
        with pytest.raises(InvalidInputError):
            await getattr(adapter, method)(*args, **kwargs)
        assert sum(adapter.stores.bucket.requests.values()) == 0


def test_bad_options_fail_at_construction() -> None:
    url = "memory://options/p"
    with pytest.raises(InvalidInputError):
        BucketCacheStore.from_url(url, ttl_seconds=0)
    with pytest.raises(InvalidInputError):
        BucketReputationStore.from_url(url, collection="a/b")
    with pytest.raises(InvalidInputError):
        BucketExecutionStore.from_url(url, filter_fields=["date_range"])
    with pytest.raises(InvalidInputError):
        BucketAuditStore.from_url(url, stream="no/slash")
    with pytest.raises(InvalidInputError):
        BucketCacheStore(object())  # type: ignore[arg-type]


async def test_reputation_request_counts(make_bucket_url: Any) -> None:
    """A delta costs two PUTs (record, index entry); after 150 deltas a cold read of a
    score still costs one LIST and three GETs (the index manifest and two chunks)."""
    url = make_bucket_url("memory")
    async with BucketReputationStore.from_url(url) as store:
        await store.update_reputation("agent0", "data", 0.25)
        requests = store.stores.bucket.requests
        before = dict(requests)
        await store.update_reputation("agent0", "data", 0.25)
        assert {k: requests[k] - before.get(k, 0) for k in requests} == {
            "put": 2,
            "get": 0,
            "list": 0,
        }
        for i in range(148):
            await store.update_reputation(f"agent{i % 7}", "data", 1 / 64)
    async with BucketReputationStore.from_url(url) as cold:
        score = await cold.get_reputation("agent0", "data")
        assert score == 0.5 + 0.5 + 22 / 64  # agent0 got i = 0, 7, ... 147: 22 deltas
        assert dict(cold.stores.bucket.requests) == {"list": 1, "get": 3}


async def test_list_workflows_is_an_index_query(make_bucket_url: Any) -> None:
    """Filtered listing reads the index (warm: one GET) and the workflows it returns,
    never the other workflows: 20 saved, 3 listed, 4 GETs and no LIST."""
    url = make_bucket_url("memory")
    async with BucketExecutionStore.from_url(url) as executions:
        for i in range(20):
            status = "done" if i % 2 else "running"
            await executions.save_workflow({"id": f"w{i}", "status": status, "user_id": "u"})
    async with BucketExecutionStore.from_url(url) as executions:
        await executions.list_workflows(limit=1)  # warm the index
        requests = executions.stores.bucket.requests
        requests.clear()
        listed = await executions.list_workflows(limit=3, status="done", user_id="u")
        assert [w["id"] for w in listed] == ["w19", "w17", "w15"]
        assert dict(requests) == {"get": 4}
