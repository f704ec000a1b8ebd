"""The DIR bundle: every protocol method, on memory and on moto (S3)."""

from __future__ import annotations

import sys

import pytest

from tests.adapters.dir_core.conftest import SKIP_REASON

if sys.version_info < (3, 12):
    pytest.skip(SKIP_REASON, allow_module_level=True)

import datetime as dt
from dataclasses import fields
from typing import Any

from dir_core.storage import StorageBundle, base

import cloudstores
from cloudstores import sync
from cloudstores.adapters.dir_core import (
    BucketResourceLockStorage,
    bucket_storage,
    storage_from_stores,
)

PROTOCOLS = {
    "agent_registry": base.AgentRegistryStorage,
    "context": base.ContextStorage,
    "idempotency": base.IdempotencyStorage,
    "decision_audit": base.DecisionAuditStorage,
    "decision_ledger": base.DecisionLedgerStorage,
    "saga": base.SagaStorage,
    "resource_lock": base.ResourceLockStorage,
    "intent_retry": base.IntentRetryStorage,
    "escalation": base.EscalationStorage,
    "lifecycle": base.LifecycleStorage,
}


class PCI:
    def __init__(self, dfid: str, payload: dict[str, Any]) -> None:
        self.dfid, self.intent_payload = dfid, payload
        self.context_ref, self.evidence_hash, self.signature = "ctx", "h", None


def test_bundle_has_every_storage_and_method(bundle: Any) -> None:
    assert isinstance(bundle, StorageBundle)
    assert {f.name for f in fields(StorageBundle)} == set(PROTOCOLS)
    methods = 0
    for name, protocol in PROTOCOLS.items():
        storage = getattr(bundle, name)
        assert isinstance(storage, protocol), name
        assert type(storage).__name__ == "Bucket" + protocol.__name__
        methods += sum(1 for m in dir(protocol) if not m.startswith("_"))
    assert methods == 41


def test_agents_context_idempotency_saga_retry(bundle: Any) -> None:
    reg = bundle.agent_registry
    assert reg.get_agent("a") is None and reg.get_status("a") is None
    assert reg.update_status("a", "SUSPENDED", "x") is False
    reg.upsert_agent("a", '{"role": "r"}', 2, "ACTIVE", "1.0", "tok")
    reg.upsert_agent("b", "", 1, "ACTIVE", None, None)
    assert reg.get_agent("a") == {
        "agent_id": "a",
        "contract": {"role": "r"},
        "priority": 2,
        "status": "ACTIVE",
        "agent_version": "1.0",
        "session_token": "tok",
    }
    assert reg.get_agent("b")["contract"] == {}
    assert reg.update_status("b", "SUSPENDED", "over budget") is True
    assert reg.get_status("b") == ("SUSPENDED", "over budget")
    assert reg.list_active_agents() == ["a"]

    ctx = bundle.context
    assert ctx.get_session("df 1/x") is None
    ctx.set_session("df 1/x", '{"a": 1}', agent_id="a")
    ctx.set_session("df 1/x", '{"a": 2}')
    ctx.set_state("a", "[1, 2]")
    assert (ctx.get_session("df 1/x"), ctx.get_state("a"), ctx.get_state("b")) == (
        '{"a": 2}',
        "[1, 2]",
        None,
    )

    idem = bundle.idempotency
    when = dt.datetime(2026, 1, 2, 3, 4, 5)
    idem.set("k", {"ok": True, "at": when, "n": [1, 2]})
    assert idem.get("k") == {"ok": True, "at": str(when), "n": [1, 2]}
    assert idem.get("other") is None

    saga = bundle.saga
    saga.mark_dirty("d1", "step-2", '{"x": 1}')
    saga.mark_dirty("d2", "step-1", "")
    assert sorted(saga.get_dirty_flows()) == ["d1", "d2"]
    assert saga.get_dirty_state("d1") == {"failed_step": "step-2", "partial_state": {"x": 1}}
    assert saga.get_dirty_state("d2") == {"failed_step": "step-1", "partial_state": {}}
    saga.clear_dirty("d1")
    saga.clear_dirty("never")
    assert saga.get_dirty_flows() == ["d2"] and saga.get_dirty_state("d1") is None

    retry = bundle.intent_retry
    assert retry.get_count("d1") == 0
    retry.set_count("d1", 2)
    assert retry.get_count("d1") == 2
    retry.delete("d1")
    retry.delete("d1")
    assert retry.get_count("d1") == 0


def test_audit_ledger_lifecycle_are_tamper_evident(bundle: Any) -> None:
    audit = bundle.decision_audit
    audit.record("d1", "START", details={"at": dt.date(2026, 1, 2), "b": 1, "a": 2})
    audit.record("d2", "OTHER", severity="LOUD", agent_id="a")
    audit.record("d1", "END", step_id="s", state="DONE", root_dfid="root", severity="ERROR")
    rows = audit.events_for_dfid("d1")
    assert [(r["event"], r["severity"], r["root_dfid"]) for r in rows] == [
        ("START", "INFO", "d1"),
        ("END", "ERROR", "root"),
    ]
    assert rows[0]["details"] == {"a": 2, "at": "2026-01-02", "b": 1}
    assert rows[0]["timestamp"].endswith("Z") and rows[0]["timestamp"] == rows[0]["created_at"]
    assert [r["severity"] for r in audit.all_events_chronological()] == ["INFO", "INFO", "ERROR"]
    assert audit.events_for_dfid("nobody") == []

    ledger = bundle.decision_ledger
    assert ledger.all_entries_chronological() == [] and ledger.get_by_dfid("d1") is None
    ledger.append(PCI("d1", {"qty": 3}), agent_id="a")
    ledger.append(PCI("d1", {"qty": 999}), agent_id="b")  # append-only: ignored
    ledger.append(PCI("d2", {}), agent_id="a", root_dfid="d1")
    entry = ledger.get_by_dfid("d1")
    assert entry is not None and entry["intent_payload"] == {"qty": 3}
    assert entry["agent_id"] == "a" and entry["signature"] == ""
    assert ledger.entries_for_dfid("d1") == [entry] and ledger.entries_for_dfid("x") == []
    assert [e["dfid"] for e in ledger.all_entries_chronological()] == ["d1", "d2"]

    bundle.lifecycle.record_transition("d1", "CREATED", "ACTIVE")
    bundle.lifecycle.record_transition("d1", "ACTIVE", "COMPLETED", root_dfid="r")
    assert [(t["from_status"], t["root_dfid"]) for t in bundle.lifecycle.get_transitions("d1")] == [
        ("CREATED", "d1"),
        ("ACTIVE", "r"),
    ]

    stores = bundle.stores
    for stream in ("dir.decision_audit", "dir.decision_ledger", "dir.lifecycle"):
        report = stores.audit.verify(stream)
        assert report.ok, report.summary()


def test_escalation(bundle: Any) -> None:
    esc = bundle.escalation
    since = (dt.datetime.now(dt.UTC) - dt.timedelta(minutes=5)).strftime("%Y-%m-%d %H:%M:%S")
    assert esc.get_window_count("a", since) == 0
    esc.record_budget_token("a")
    esc.record_budget_token("a")
    esc.record_budget_token("b")
    assert esc.get_window_count("a", since) == 2
    assert esc.get_window_count("a", "2999-01-01 00:00:00") == 0
    esc.insert_request("d1", "a", "why", '{"c": 1}', '{"p": 1}', "HIGH")
    esc.insert_request("d2", "b", "why", "", "", "LOW")
    pending = esc.get_pending_requests()
    assert pending == [
        {"dfid": "d1", "agent_id": "a", "reason": "why", "context": {"c": 1},
         "proposal": {"p": 1}, "impact": "HIGH"},
        {"dfid": "d2", "agent_id": "b", "reason": "why", "context": {}, "proposal": {},
         "impact": "LOW"},
    ]  # fmt: skip
    esc.resolve_request("d1", "2026-01-01T00:00:00", "APPROVE", '{"p": 2}')
    esc.resolve_request("d1", "2026-01-02T00:00:00", "ABORT", None)  # not pending: ignored
    esc.resolve_request("nobody", "2026-01-01T00:00:00", "ABORT", None)
    assert [p["dfid"] for p in esc.get_pending_requests()] == ["d2"]
    doc = bundle.stores.documents("dir.escalation_requests").get("d1").value
    assert (doc["status"], doc["human_decision"], doc["proposal_json"]) == (
        "APPROVED",
        "APPROVE",
        '{"p": 2}',
    )


def test_resource_locks(bundle: Any) -> None:
    locks = bundle.resource_lock
    assert locks.get_locked_amount("cash", "d1") == 0.0
    assert locks.acquire_batch("d1", {"cash": 10.0, "api": 1.0}, 1.0) is True
    assert locks.acquire_batch("d2", {"cash": 5.0}, 1.0) is True
    assert locks.get_locked_amount("cash", "d3") == 15.0
    assert locks.get_locked_amount("cash", "d1") == 5.0  # its own lock left out
    assert locks.acquire_batch("d1", {"cash": 7.0}, 1.0) is True  # re-acquire: replaces
    assert locks.get_locked_amount("cash", "x") == 12.0
    assert locks.get_locked_amount("api", "x") == 1.0
    locks.release("d1")
    locks.release("d1")
    assert (locks.get_locked_amount("cash", "x"), locks.get_locked_amount("api", "x")) == (5, 0)


def test_stale_check_is_refused(dir_url: str) -> None:
    """Two storages (two processes' worth): a check made stale by the other's write
    makes ``acquire_batch`` write nothing and answer False; the manager re-checks."""
    from dir_core.resource_lock import LockResult, ResourceLockManager

    one = BucketResourceLockStorage.from_url(dir_url, workspace="locks")
    two = BucketResourceLockStorage.from_url(dir_url, workspace="locks")
    try:
        assert one.get_locked_amount("cash", "d1") == 0.0  # d1 sees room for 8 of 10
        assert two.get_locked_amount("cash", "d2") == 0.0  # d2 sees room for 8 of 10
        assert two.acquire_batch("d2", {"cash": 8.0}, 1.0) is True
        assert one.acquire_batch("d1", {"cash": 8.0}, 1.0) is False  # stale: refused
        manager = ResourceLockManager(availability_provider=lambda rid: 10.0, storage=one)
        assert (
            manager.acquire("d1", {"cash": 8.0}, timeout_sec=5) == LockResult.INSUFFICIENT_LIQUIDITY
        )
        assert manager.acquire("d1", {"cash": 2.0}, timeout_sec=5) == LockResult.ACQUIRED
        assert two.get_locked_amount("cash", "x") == 10.0
    finally:
        one.close()
        two.close()


def test_borrowed_stores_and_runtime(dir_url: str) -> None:
    """``storage_from_stores`` borrows; DIR's own runtime runs on the bundle."""
    from dir_core.runtime import DecisionRuntime

    with sync.open_stores(dir_url, workspace="rt") as stores:
        borrowed = storage_from_stores(stores)
        DecisionRuntime(borrowed)
        borrowed.saga.mark_dirty("d", "s", "{}")
        borrowed.close()  # borrowed: the stores stay open
        assert stores.documents("dir.saga_dirty").get("d").value["failed_step"] == "s"


def test_bad_input_before_any_request() -> None:
    with pytest.raises(cloudstores.errors.InvalidIdError):
        bucket_storage("memory://x/y", workspace="bad/name")
    with pytest.raises(cloudstores.errors.InvalidInputError):
        BucketResourceLockStorage(object())  # type: ignore[arg-type]
    with bucket_storage("memory://bad-input/p") as b:
        with pytest.raises(cloudstores.errors.InvalidInputError):
            b.escalation.get_window_count("a", "not a time")
        assert b.stores.bucket.requests.total() == 0
