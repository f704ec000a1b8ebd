"""``BucketAuditStore``: DynaBots' ``AuditStore`` on a tamper-evident audit stream."""

from __future__ import annotations

from typing import Any

from cloudstores.adapters.dynabots._base import StoresAdapter, check_name
from cloudstores.errors import InvalidInputError
from cloudstores.stores.audit import AuditEntry, AuditStore
from cloudstores.stores.audit.layout import validate_stream
from cloudstores.stores.workspace import Stores

__all__ = ["BucketAuditStore"]

DEFAULT_STREAM = "dynabots"
FIELDS = {"event_type": "string", "workflow_id": "string", "task_id": "string"}


class BucketAuditStore(StoresAdapter):
    """Workflow, task and error events appended to one hash-chained audit stream.

    Each call appends one event (a create-only entry chained to the one before, so
    ``stores.audit.verify(stream)`` detects any rewrite or gap) and returns True once it
    is durable. The events, as ``AuditEntry.event`` (the entry's ``ts`` is the time)::

        {"event_type": "workflow", "workflow_id": w, "data": {...}}
        {"event_type": "task", "workflow_id": w, "task_id": t, "data": {...}}
        {"event_type": "error", "workflow_id": w, "error_type": e, "message": m}

    Args:
        stores: the stores to borrow (see :func:`cloudstores.open_stores`; its
            ``audit_signer`` signs the checkpoints).
        stream: the audit stream (default ``dynabots``).
    """

    def __init__(self, stores: Stores, *, stream: str = DEFAULT_STREAM) -> None:
        super().__init__(stores)
        self.stream = validate_stream(stream)

    def _audit(self) -> AuditStore:
        audit = self.stores.audit
        audit.stream_fields(self.stream, FIELDS)  # no request; kept if already declared
        return audit

    async def _log(self, event: dict[str, Any]) -> bool:
        await self._audit().append(self.stream, event)
        return True

    async def log_workflow(self, workflow_id: str, data: dict[str, Any]) -> bool:
        """Append a workflow event. Cost: one create-only PUT (group-committed with
        concurrent appends of this store)."""
        check_name(workflow_id, what="workflow_id")
        _check_data(data)
        return await self._log({"event_type": "workflow", "workflow_id": workflow_id, "data": data})

    async def log_task(self, workflow_id: str, task_id: str, data: dict[str, Any]) -> bool:
        """Append a task event. Cost: as :meth:`log_workflow`."""
        check_name(workflow_id, what="workflow_id")
        check_name(task_id, what="task_id")
        _check_data(data)
        return await self._log(
            {"event_type": "task", "workflow_id": workflow_id, "task_id": task_id, "data": data}
        )

    async def log_error(self, workflow_id: str, error_type: str, message: str) -> bool:
        """Append an error event. Cost: as :meth:`log_workflow`."""
        check_name(workflow_id, what="workflow_id")
        check_name(error_type, what="error_type")
        if not isinstance(message, str):
            raise InvalidInputError(f"message must be a str, not {type(message).__name__}")
        return await self._log(
            {
                "event_type": "error",
                "workflow_id": workflow_id,
                "error_type": error_type,
                "message": message,
            }
        )

    async def events(
        self, workflow_id: str, *, event_type: str | None = None, limit: int | None = None
    ) -> list[AuditEntry]:
        """The events of ``workflow_id`` (of one ``event_type`` if given), oldest first,
        at most ``limit`` (the newest ones). Not in the protocol: a read-back for
        reviewers. Cost: the audit query (see ``AuditStore.query``)."""
        check_name(workflow_id, what="workflow_id")
        where: dict[str, Any] = {"workflow_id": workflow_id}
        if event_type is not None:
            where["event_type"] = check_name(event_type, what="event_type")
        audit = self._audit()
        found: list[AuditEntry] = []
        cursor: str | None = None
        while limit is None or len(found) < limit:
            want = None if limit is None else limit - len(found)
            page = await audit.query(self.stream, where=where, limit=want, start_after=cursor)
            found.extend(page.entries)
            cursor = page.cursor
            if cursor is None:
                break
        return found[::-1]


def _check_data(data: object) -> None:
    if not isinstance(data, dict):
        raise InvalidInputError(f"data must be a dict, not {type(data).__name__}")
