"""``EscalationStorage``: budget tokens as append-only records, requests as documents.

* ``dir.escalation_budget`` (records, ``agent_id`` and ``created_at`` indexed):
  ``get_window_count`` counts from the index alone (no record is read).
* ``dir.escalation_requests`` (documents, ``status`` indexed): one per flow.

Costs: a token is one PUT plus its index entry; a window count the index query; a
request write one PUT (plus a LIST and GET when this process did not write the newest
version); the pending list the index query and one GET per pending request.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from cloudstores.adapters.dir_core._common import PREFIX, BucketStorageBase, loads_or_empty, text
from cloudstores.errors import InvalidInputError
from cloudstores.stores.documents import DocumentStore
from cloudstores.stores.records import RecordCollection
from cloudstores.stores.workspace import Stores

__all__ = ["BucketEscalationStorage"]

PENDING = "PENDING"


def _since(since_str: str) -> datetime:
    """DIR's window start (``2026-11-26 01:02:03``, naive meaning UTC, or ISO 8601)."""
    try:
        since = datetime.fromisoformat(text(since_str).replace(" ", "T"))
    except ValueError:
        raise InvalidInputError(f"since_str is not a timestamp: {since_str!r}") from None
    return since.replace(tzinfo=UTC) if since.tzinfo is None else since.astimezone(UTC)


def _time_text(when: datetime) -> str:
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class BucketEscalationStorage(BucketStorageBase):
    """``EscalationStorage`` (see the module doc).

    Follows DIR's SQLite where its backends differ: ``resolve_request`` changes only a
    pending request (a second decision is ignored) and stores ``APPROVED``, or
    ``REJECTED`` for ``ABORT``; a proposal of None keeps the stored one.
    ``insert_request`` on a flow that has one replaces it (DIR's memory backend; its
    SQLite keeps both rows and lists both while pending).
    """

    budget = PREFIX + "escalation_budget"
    requests = PREFIX + "escalation_requests"

    def _tokens(self, stores: Stores) -> RecordCollection:
        return stores.records(self.budget, fields={"agent_id": "string", "created_at": "datetime"})

    def _requests(self, stores: Stores) -> DocumentStore:
        return stores.documents(self.requests, fields={"status": "string"})

    def get_window_count(self, agent_id: str, since_str: str) -> int:
        where = {"agent_id": text(agent_id), "created_at": {"gte": _since(since_str)}}

        async def go(stores: Stores) -> int:
            return await self._tokens(stores).count(where=where)

        return self._run(go)

    def record_budget_token(self, agent_id: str) -> None:
        record = {"agent_id": text(agent_id), "created_at": _time_text(datetime.now(UTC))}

        async def go(stores: Stores) -> None:
            await self._tokens(stores).append(record)

        self._run(go)

    def insert_request(
        self,
        dfid: str,
        agent_id: str,
        reason: str,
        context_json: str,
        proposal_json: str,
        impact: str,
    ) -> None:
        id = text(dfid)
        value = {
            "dfid": id,
            "root_dfid": text(dfid),
            "agent_id": text(agent_id),
            "reason": text(reason),
            "context_json": context_json,
            "proposal_json": proposal_json,
            "impact": text(impact),
            "status": PENDING,
            "resolved_at": None,
            "human_decision": None,
        }

        async def go(stores: Stores) -> None:
            await self._requests(stores).put(id, value)

        self._run(go)

    def resolve_request(
        self, dfid: str, resolved_at: str, decision: str, proposal_json: str | None
    ) -> None:
        status = "REJECTED" if (decision or "").upper() == "ABORT" else "APPROVED"

        def change(req: dict[str, Any] | None) -> dict[str, Any] | None:
            if req is None or req["status"] != PENDING:
                return req
            new = {**req, "status": status, "resolved_at": resolved_at}
            new["human_decision"] = decision
            if proposal_json is not None:
                new["proposal_json"] = proposal_json
            return new

        async def go(stores: Stores) -> None:
            docs = self._requests(stores)
            current = await docs.get_or_none(text(dfid))
            if current is None or current.value["status"] != PENDING:
                return  # nothing pending: write nothing
            await docs.update(text(dfid), change)

        self._run(go)

    def get_pending_requests(self) -> list[dict[str, Any]]:
        async def go(stores: Stores) -> list[Any]:
            pending = self._requests(stores).query_all(
                where={"status": PENDING}, order_by="created_at"
            )
            return [d.value for d in await pending]

        return [
            {
                "dfid": req["dfid"],
                "agent_id": req["agent_id"],
                "reason": req["reason"],
                "context": loads_or_empty(req["context_json"]),
                "proposal": loads_or_empty(req["proposal_json"]),
                "impact": req["impact"],
            }
            for req in self._run(go)
        ]
