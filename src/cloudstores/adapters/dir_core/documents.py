"""The DIR storages that hold current state, each a document collection with numbered,
create-only versions (an overwrite is a new version, a delete a tombstone version).

Costs per call (DocumentStore): a write is one PUT when this process knows the newest
version and nothing changed (else one LIST and one GET more), plus its index entry
(group-committed); a read is one LIST and, unless cached, one GET; a listing is the
index query plus one GET per document returned.
"""

from __future__ import annotations

from typing import Any

from cloudstores.adapters.dir_core._common import (
    PREFIX,
    BucketStorageBase,
    dumps_json_dict,
    loads_or_empty,
    text,
)
from cloudstores.errors import NotFoundError
from cloudstores.stores.documents import DocumentStore
from cloudstores.stores.workspace import Stores

__all__ = [
    "BucketAgentRegistryStorage",
    "BucketContextStorage",
    "BucketIdempotencyStorage",
    "BucketIntentRetryStorage",
    "BucketSagaStorage",
]

ACTIVE = "ACTIVE"


async def _all_ids(docs: DocumentStore, where: dict[str, object] | None = None) -> list[str]:
    """Ids of the live documents matching ``where``, oldest first (by creation time)."""
    return [d.id for d in await docs.query_all(where=where, order_by="created_at")]


async def _value(docs: DocumentStore, id: str) -> Any:
    document = await docs.get_or_none(id)
    return None if document is None else document.value


class BucketAgentRegistryStorage(BucketStorageBase):
    """``AgentRegistryStorage``: one document per agent in ``dir.agent_registry``,
    ``status`` indexed (``list_active_agents`` reads the index, not every agent).

    Follows the protocol (and DIR's SQLite): ``upsert_agent`` replaces the whole record,
    so a suspension reason is cleared; ``get_agent`` has the six documented keys.
    """

    collection = PREFIX + "agent_registry"

    def _docs(self, stores: Stores) -> DocumentStore:
        return stores.documents(self.collection, fields={"status": "string"})

    def upsert_agent(
        self,
        agent_id: str,
        contract_json: str,
        priority: int,
        status: str,
        agent_version: str | None,
        session_token: str | None,
    ) -> None:
        id = text(agent_id)
        value = {
            "agent_id": id,
            "contract_json": contract_json,
            "priority": priority,
            "status": text(status),
            "agent_version": agent_version,
            "session_token": session_token,
            "suspension_reason": None,
        }

        async def go(stores: Stores) -> None:
            await self._docs(stores).put(id, value)

        self._run(go)

    def get_agent(self, agent_id: str) -> dict[str, Any] | None:
        async def go(stores: Stores) -> Any:
            return await _value(self._docs(stores), text(agent_id))

        rec = self._run(go)
        if rec is None:
            return None
        return {
            "agent_id": rec["agent_id"],
            "contract": loads_or_empty(rec["contract_json"]),
            "priority": rec["priority"],
            "status": rec["status"],
            "agent_version": rec["agent_version"],
            "session_token": rec["session_token"],
        }

    def update_status(self, agent_id: str, status: str, suspension_reason: str | None) -> bool:
        new_status = text(status)

        def change(rec: dict[str, Any]) -> dict[str, Any]:
            return {**rec, "status": new_status, "suspension_reason": suspension_reason}

        async def go(stores: Stores) -> bool:
            try:
                await self._docs(stores).update(text(agent_id), change)
            except NotFoundError:
                return False
            return True

        return self._run(go)

    def get_status(self, agent_id: str) -> tuple[str, str | None] | None:
        async def go(stores: Stores) -> Any:
            return await _value(self._docs(stores), text(agent_id))

        rec = self._run(go)
        return None if rec is None else (rec["status"], rec["suspension_reason"])

    def list_active_agents(self) -> list[str]:
        async def go(stores: Stores) -> list[str]:
            return await _all_ids(self._docs(stores), {"status": ACTIVE})

        return self._run(go)


class BucketContextStorage(BucketStorageBase):
    """``ContextStorage``: flow sessions in ``dir.flow_context``, agent states in
    ``dir.agent_state``, the JSON text kept as given (as DIR's backends keep it)."""

    sessions = PREFIX + "flow_context"
    states = PREFIX + "agent_state"

    def _get(self, collection: str, id: str) -> str | None:
        async def go(stores: Stores) -> Any:
            return await _value(stores.documents(collection), text(id))

        rec = self._run(go)
        return None if rec is None else str(rec["data"])

    def _set(self, collection: str, id: str, data_json: str) -> None:
        value = {"data": text(data_json)}

        async def go(stores: Stores) -> None:
            await stores.documents(collection).put(text(id), value)

        self._run(go)

    def get_session(self, dfid: str) -> str | None:
        return self._get(self.sessions, dfid)

    def set_session(self, dfid: str, data_json: str, *, agent_id: str | None = None) -> None:
        del agent_id  # DIR's SQLite needs it for a foreign key; documents have none
        self._set(self.sessions, dfid, data_json)

    def get_state(self, agent_id: str) -> str | None:
        return self._get(self.states, agent_id)

    def set_state(self, agent_id: str, data_json: str) -> None:
        self._set(self.states, agent_id, data_json)


class BucketIdempotencyStorage(BucketStorageBase):
    """``IdempotencyStorage``: one document per key in ``dir.idempotency``; the result is
    stored as DIR's ``dumps_json_dict`` text, so it reads back as DIR's SQLite returns it
    (a ``datetime`` comes back as its text)."""

    collection = PREFIX + "idempotency"

    def get(self, key: str) -> dict[str, Any] | None:
        async def go(stores: Stores) -> Any:
            return await _value(stores.documents(self.collection), text(key))

        rec = self._run(go)
        return None if rec is None else dict(loads_or_empty(rec["result"]))

    def set(self, key: str, result: dict[str, Any]) -> None:
        value = {"result": dumps_json_dict(result)}

        async def go(stores: Stores) -> None:
            await stores.documents(self.collection).put(text(key), value)

        self._run(go)


class BucketSagaStorage(BucketStorageBase):
    """``SagaStorage``: one document per dirty flow in ``dir.saga_dirty``; clearing it
    writes a tombstone version."""

    collection = PREFIX + "saga_dirty"

    def mark_dirty(self, dfid: str, failed_step: str, partial_state_json: str) -> None:
        value = {"failed_step": text(failed_step), "partial_state_json": partial_state_json}

        async def go(stores: Stores) -> None:
            await stores.documents(self.collection).put(text(dfid), value)

        self._run(go)

    def get_dirty_flows(self) -> list[str]:
        async def go(stores: Stores) -> list[str]:
            return await _all_ids(stores.documents(self.collection))

        return self._run(go)

    def get_dirty_state(self, dfid: str) -> dict[str, Any] | None:
        async def go(stores: Stores) -> Any:
            return await _value(stores.documents(self.collection), text(dfid))

        rec = self._run(go)
        if rec is None:
            return None
        return {
            "failed_step": rec["failed_step"],
            "partial_state": loads_or_empty(rec["partial_state_json"]),
        }

    def clear_dirty(self, dfid: str) -> None:
        async def go(stores: Stores) -> None:
            await stores.documents(self.collection).delete(text(dfid))

        self._run(go)


class BucketIntentRetryStorage(BucketStorageBase):
    """``IntentRetryStorage``: one document per flow in ``dir.intent_retry``."""

    collection = PREFIX + "intent_retry"

    def get_count(self, dfid: str) -> int:
        async def go(stores: Stores) -> Any:
            return await _value(stores.documents(self.collection), text(dfid))

        rec = self._run(go)
        return 0 if rec is None else int(rec["count"])

    def set_count(self, dfid: str, count: int) -> None:
        value = {"count": int(count)}

        async def go(stores: Stores) -> None:
            await stores.documents(self.collection).put(text(dfid), value)

        self._run(go)

    def delete(self, dfid: str) -> None:
        async def go(stores: Stores) -> None:
            await stores.documents(self.collection).delete(text(dfid))

        self._run(go)
