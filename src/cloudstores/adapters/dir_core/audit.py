"""The DIR storages that are append-only logs, on the audit store (hash-chained,
tamper-evident, ``cloudstores audit verify`` checks them):

* ``dir.decision_audit``: one entry per ``DecisionAuditStorage.record``;
* ``dir.decision_ledger``: one keyed entry per flow (the key is the dfid, so a flow is
  in the ledger at most once, across processes);
* ``dir.lifecycle``: one entry per ``LifecycleStorage.record_transition``.

Costs: an append is one create-only PUT (group-committed with concurrent appends); a
ledger append three PUTs (key marker, entry, binding); reading a whole stream one LIST
page per 1,000 objects and one GET per object; ``events_for_dfid`` the stream's query
index (kept up to date by the reader) and one GET per entry object it returns.
"""

from __future__ import annotations

import contextlib
from typing import Any

from cloudstores.adapters.dir_core._common import (
    PREFIX,
    BucketStorageBase,
    dumps_json_dict,
    iso_z,
    loads_or_empty,
    text,
)
from cloudstores.errors import AlreadyExistsError
from cloudstores.stores.audit import AuditEntry, AuditStore
from cloudstores.stores.workspace import Stores

__all__ = ["BucketDecisionAuditStorage", "BucketDecisionLedgerStorage", "BucketLifecycleStorage"]

SEVERITIES = frozenset({"DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"})
_BY_DFID = {"dfid": "string"}


async def _read_all(audit: AuditStore, stream: str) -> list[AuditEntry]:
    return [entry async for entry in audit.read(stream)]


async def _by_dfid(audit: AuditStore, stream: str, dfid: str) -> list[AuditEntry]:
    """The entries of ``stream`` whose event has ``dfid``, in stream order."""
    audit.stream_fields(stream, _BY_DFID)
    found: list[AuditEntry] = []
    cursor: str | None = None
    while True:
        page = await audit.query(stream, where={"dfid": dfid}, descending=False, start_after=cursor)
        found.extend(page.entries)
        cursor = page.cursor
        if cursor is None:
            return found


class BucketDecisionAuditStorage(BucketStorageBase):
    """``DecisionAuditStorage`` on the audit stream ``dir.decision_audit``.

    ``details`` is stored as DIR's ``dumps_json_dict`` text (sorted keys,
    ``default=str``) and read back with ``json.loads``, as DIR's SQLite does; an unknown
    severity is stored as ``INFO`` (DIR's SQLite rule). ``timestamp`` and ``created_at``
    are the entry's own time (UTC, microseconds, ``...Z``).
    """

    stream = PREFIX + "decision_audit"

    def record(
        self,
        dfid: str,
        event: str,
        *,
        step_id: str = "",
        state: str = "",
        details: dict[str, Any] | None = None,
        root_dfid: str | None = None,
        agent_id: str | None = None,
        severity: str = "INFO",
    ) -> None:
        row = {
            "dfid": text(dfid),
            "root_dfid": text(root_dfid or dfid),
            "event_type": text(event),
            "severity": text(severity) if severity in SEVERITIES else "INFO",
            "step_id": text(step_id),
            "state": text(state),
            "detail_json": dumps_json_dict(details or {}),
            "agent_id": None if agent_id is None else text(agent_id),
        }

        async def go(stores: Stores) -> None:
            await stores.audit.append(self.stream, row)

        self._run(go)

    @staticmethod
    def _row(entry: AuditEntry) -> dict[str, Any]:
        e = entry.event
        ts = iso_z(entry.ts)
        return {
            "dfid": e["dfid"],
            "root_dfid": e["root_dfid"],
            "event": e["event_type"],
            "event_type": e["event_type"],
            "timestamp": ts,
            "created_at": ts,
            "severity": e["severity"],
            "step_id": e["step_id"],
            "state": e["state"],
            "details": loads_or_empty(e["detail_json"]),
        }

    def events_for_dfid(self, dfid: str) -> list[dict[str, Any]]:
        async def go(stores: Stores) -> list[AuditEntry]:
            return await _by_dfid(stores.audit, self.stream, text(dfid))

        return [self._row(entry) for entry in self._run(go)]

    def all_events_chronological(self) -> list[dict[str, Any]]:
        async def go(stores: Stores) -> list[AuditEntry]:
            return await _read_all(stores.audit, self.stream)

        return [self._row(entry) for entry in self._run(go)]


class BucketDecisionLedgerStorage(BucketStorageBase):
    """``DecisionLedgerStorage`` on the audit stream ``dir.decision_ledger``, keyed by
    dfid: a flow's first append wins and a later one is ignored (DIR's ``INSERT OR
    IGNORE``), also when two processes append the same flow at once. ``committed_at``
    is the entry's time; ``intent_payload`` is stored as ``dumps_json_dict`` text."""

    stream = PREFIX + "decision_ledger"

    def append(self, pci: Any, *, agent_id: str, root_dfid: str | None = None) -> None:
        dfid = text(pci.dfid)
        row = {
            "dfid": dfid,
            "root_dfid": text(root_dfid or dfid),
            "agent_id": text(agent_id),
            "intent_payload_json": dumps_json_dict(dict(pci.intent_payload)),
            "context_ref": pci.context_ref,
            "evidence_hash": pci.evidence_hash,
            "signature": pci.signature or "",
        }

        async def go(stores: Stores) -> None:
            # A flow already in the ledger keeps its first entry (append-only).
            with contextlib.suppress(AlreadyExistsError):
                await stores.audit.append(self.stream, row, key=dfid)

        self._run(go)

    @staticmethod
    def _row(entry: AuditEntry) -> dict[str, Any]:
        e = entry.event
        return {
            "dfid": e["dfid"],
            "root_dfid": e["root_dfid"],
            "agent_id": e["agent_id"],
            "intent_payload": loads_or_empty(e["intent_payload_json"]),
            "context_ref": e["context_ref"],
            "evidence_hash": e["evidence_hash"],
            "signature": e["signature"],
            "committed_at": iso_z(entry.ts),
        }

    def get_by_dfid(self, dfid: str) -> dict[str, Any] | None:
        async def go(stores: Stores) -> AuditEntry | None:
            return await stores.audit.get_key(self.stream, text(dfid))

        entry = self._run(go)
        return None if entry is None else self._row(entry)

    def entries_for_dfid(self, dfid: str) -> list[dict[str, Any]]:
        entry = self.get_by_dfid(dfid)
        return [] if entry is None else [entry]

    def all_entries_chronological(self) -> list[dict[str, Any]]:
        async def go(stores: Stores) -> list[AuditEntry]:
            return await _read_all(stores.audit, self.stream)

        return [self._row(entry) for entry in self._run(go)]


class BucketLifecycleStorage(BucketStorageBase):
    """``LifecycleStorage`` on the audit stream ``dir.lifecycle``; ``get_transitions``
    reads it back (DIR's memory backend has the same helper)."""

    stream = PREFIX + "lifecycle"

    def record_transition(
        self, dfid: str, from_status: str, to_status: str, *, root_dfid: str | None = None
    ) -> None:
        row = {
            "dfid": text(dfid),
            "root_dfid": text(root_dfid or dfid),
            "from_status": text(from_status),
            "to_status": text(to_status),
        }

        async def go(stores: Stores) -> None:
            await stores.audit.append(self.stream, row)

        self._run(go)

    def get_transitions(self, dfid: str | None = None) -> list[dict[str, Any]]:
        """Every transition (of ``dfid`` only, if given), oldest first."""

        async def go(stores: Stores) -> list[AuditEntry]:
            if dfid is None:
                return await _read_all(stores.audit, self.stream)
            return await _by_dfid(stores.audit, self.stream, text(dfid))

        return [{**entry.event, "created_at": entry.ts.isoformat()} for entry in self._run(go)]
