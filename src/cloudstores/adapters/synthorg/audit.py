"""``BucketAuditRepository``: SynthOrg's ``AuditRepository`` on the audit store.

Each ``AuditEntry`` is one event of one hash-chained audit stream (``synthorg-audit``
by default), appended with ``key=entry.id``: the audit store's unique keys make the id
unique across processes and retries, and the stream stays tamper-evident (``verify``
names the first altered entry; checkpoints can be signed). The event is the entry's
JSON (``model_dump(mode="json")``) plus ``"$save"``, a random id of the ``save`` call,
so that saving an *identical* entry again is refused like a second INSERT of the id is
in SynthOrg's SQLite backend (the audit store alone would return the first entry).

``query`` filters through the stream's query index on the declared fields
``agent_id``, ``action_type``, ``verdict``, ``risk_level`` and ``timestamp`` (the
entry's own time, not the append time) and orders by ``timestamp``, newest first; ties
(equal timestamps) come in reverse save order.
"""

from __future__ import annotations

import secrets
from datetime import datetime
from typing import Any

from cloudstores.stores.audit import VerifyReport
from cloudstores.stores.workspace import Stores

from ._base import Repository, dump, load_model, plain

__all__ = ["AUDIT_FIELDS", "BucketAuditRepository"]

AUDIT_FIELDS = {
    "agent_id": "string",
    "action_type": "string",
    "verdict": "string",
    "risk_level": "string",
    "timestamp": "datetime",
}
"""The entry fields the audit stream's query index holds."""
SAVE_KEY = "$save"
"""The event member that carries the id of the ``save`` call (stripped on reading)."""


class BucketAuditRepository(Repository):
    """SynthOrg's ``AuditRepository`` (append-only ``save`` and ``query``).

    Args:
        stores: borrowed :class:`~cloudstores.Stores` (or use :meth:`from_url`).
        stream: the audit stream (``[A-Za-z0-9._-]``).
        model: the ``AuditEntry`` class results are built with; default SynthOrg's
            (``synthorg.security.models.AuditEntry``) when installed, else results are
            plain dicts of the entry's JSON.
        errors: SynthOrg's error classes (see :mod:`.errors`).
    """

    def __init__(
        self,
        stores: Stores,
        *,
        stream: str = "synthorg-audit",
        model: Any = None,
        errors: Any = None,
    ) -> None:
        super().__init__(stores, errors=errors)
        self.model = load_model(model, "synthorg.security.models", "AuditEntry")
        self.stream = stream
        self.stores.audit.stream_fields(stream, AUDIT_FIELDS)  # validates the name too

    async def save(self, entry: Any) -> None:
        """Append ``entry``; DuplicateRecordError if an entry with its id exists.

        Cost (warm): 3 create-only PUTs (key claim, entry object, key binding); a
        repeated id: 1 refused PUT and 3 GETs.
        """
        data = dump(entry, "entry")
        entry_id = data.get("id")
        if not isinstance(entry_id, str) or not entry_id.strip():
            raise self.errors.invalid("entry.id must be a non-blank string")
        event = {**data, SAVE_KEY: secrets.token_hex(16)}
        await self._call(self.stores.audit.append(self.stream, event, key=entry_id), saving=True)

    async def query(
        self,
        *,
        agent_id: str | None = None,
        action_type: str | None = None,
        verdict: str | None = None,
        risk_level: Any = None,
        since: datetime | None = None,
        until: datetime | None = None,
        limit: int = 100,
    ) -> tuple[Any, ...]:
        """Entries matching every filter given, ``since <= timestamp <= until``, newest
        first by the entry's timestamp, at most ``limit``.

        QueryError (before any request) if ``limit < 1``, ``until < since`` or a bound
        is a naive datetime. Cost: the audit query (warm, nothing new: 1 HEAD, 1 GET,
        one GET per distinct entry object returned; new entries are indexed first).
        """
        if not isinstance(limit, int) or isinstance(limit, bool) or limit < 1:
            raise self.errors.invalid(f"limit must be >= 1, got {limit!r}")
        span: dict[str, datetime] = {}
        for name, op, bound in (("since", "gte", since), ("until", "lte", until)):
            if bound is None:
                continue
            if not isinstance(bound, datetime) or bound.tzinfo is None:
                raise self.errors.invalid(f"{name} must be a timezone-aware datetime")
            span[op] = bound
        if since is not None and until is not None and until < since:
            raise self.errors.invalid("until must not be earlier than since")
        where: dict[str, Any] = {
            name: plain(value)
            for name, value in (
                ("agent_id", agent_id),
                ("action_type", action_type),
                ("verdict", verdict),
                ("risk_level", risk_level),
            )
            if value is not None
        }
        if span:
            where["timestamp"] = span
        audit = self.stores.audit  # rebuilt per event loop: declare again (no request)
        audit.stream_fields(self.stream, AUDIT_FIELDS)
        page = await self._call(
            audit.query(self.stream, where=where, order="timestamp", descending=True, limit=limit)
        )
        return tuple(self._entry(e.event) for e in page.entries)

    def _entry(self, event: dict[str, Any]) -> Any:
        data = {k: v for k, v in event.items() if k != SAVE_KEY}
        return data if self.model is None else self.model.model_validate(data)

    async def verify(self) -> VerifyReport:
        """Check the whole stream: every link, hash and checkpoint signature (the
        audit store's ``verify``; one GET per entry object and checkpoint)."""
        return await self._call(self.stores.audit.verify(self.stream))
