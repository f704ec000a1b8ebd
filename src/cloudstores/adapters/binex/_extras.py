"""Binex's CAO sessions, node cache and eval baselines/results on documents and records.

* CAO sessions: documents ``binex.cao_sessions`` (id: terminal id; field ``status``),
  listed in the order they were created.
* Node cache: documents ``binex.node_cache`` (id: cache key; field ``made_at``, the
  entry's ``created_at`` in UTC).
* Eval baselines: documents ``binex.eval_baselines`` (one per suite and case; field
  ``suite_name``). Eval results: records ``binex.eval_results`` (fields ``suite_name``
  and ``executed_at``, the text Binex stores, which orders newest first).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from binex.models.cache import CacheEntry

from cloudstores import codec
from cloudstores.adapters.binex._base import StoresAdapter
from cloudstores.errors import InvalidInputError, NotFoundError
from cloudstores.stores.documents import Document, DocumentStore
from cloudstores.stores.index import Field
from cloudstores.stores.records import RecordCollection

__all__ = ["ExtrasMixin"]

SESSIONS = "binex.cao_sessions"
CACHE = "binex.node_cache"
BASELINES = "binex.eval_baselines"
RESULTS = "binex.eval_results"
_SESSION_FIELDS = ("status",)
_CACHE_FIELDS = {"made_at": "datetime"}
_BASELINE_FIELDS = ("suite_name",)
_RESULT_FIELDS = (Field("suite_name"), Field("executed_at"))
_SESSION_KEYS = ("terminal_id", "run_id", "node_name", "started_at", "status", "session_name")


def _text(value: object, what: str) -> str:
    if not isinstance(value, str) or not value:
        raise InvalidInputError(f"{what} must be a non-empty str, not {value!r:.100}")
    return value


def _utc(when: datetime) -> datetime:
    return when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)


def _session(doc: Document) -> dict[str, str]:
    value = doc.value
    return {k: value[k] for k in _SESSION_KEYS}


class ExtrasMixin(StoresAdapter):
    """CAO sessions, node cache and eval storage of :class:`BucketExecutionStore`."""

    def _docs(self, name: str, fields: Any) -> DocumentStore:
        return self.stores.documents(name, fields=fields)

    # ------------------------------------------------------------------ CAO sessions
    async def create_cao_session(
        self,
        terminal_id: str,
        run_id: str,
        node_name: str,
        session_name: str | None = None,
    ) -> None:
        """Register an active session (again: replaced, keeping its place in the list)."""
        _text(terminal_id, "terminal_id")
        if session_name is not None and not isinstance(session_name, str):
            raise InvalidInputError("session_name must be a str or None")
        value = {
            "terminal_id": terminal_id,
            "run_id": run_id,
            "node_name": node_name,
            "started_at": datetime.now(UTC).isoformat(),
            "status": "active",
            "session_name": session_name or "",
        }
        await self._docs(SESSIONS, _SESSION_FIELDS).put(terminal_id, value)

    async def _set_status(self, terminal_id: str, status: str) -> None:
        def change(value: Any) -> Any:
            return {**value, "status": status}

        with contextlib.suppress(NotFoundError):  # unknown: nothing to mark, as in Binex
            await self._docs(SESSIONS, _SESSION_FIELDS).update(terminal_id, change)

    async def complete_cao_session(self, terminal_id: str) -> None:
        """Mark the session completed (an unknown one: nothing happens)."""
        await self._set_status(_text(terminal_id, "terminal_id"), "completed")

    async def get_cao_sessions(self, status: str | None = None) -> list[dict[str, str]]:
        """The sessions (with ``status``, if given and not empty), oldest first."""
        where = {"status": status} if status else None
        page = await self._docs(SESSIONS, _SESSION_FIELDS).query(where=where, order_by="created_at")
        return [_session(d) for d in page.documents]

    async def get_orphaned_cao_sessions(self) -> list[dict[str, str]]:
        return await self.get_cao_sessions(status="orphaned")

    async def mark_cao_sessions_orphaned(self, terminal_ids: list[str]) -> None:
        """Mark these sessions orphaned, whatever their status (unknown ids: skipped)."""
        ids = [_text(t, "terminal_id") for t in terminal_ids]
        await asyncio.gather(*(self._set_status(t, "orphaned") for t in dict.fromkeys(ids)))

    async def delete_cao_session(self, terminal_id: str) -> bool:
        """Delete the session; False if there was none."""
        return await self._docs(SESSIONS, _SESSION_FIELDS).delete(_text(terminal_id, "terminal_id"))

    # ------------------------------------------------------------------ node cache
    async def get_cache_entry(self, cache_key: str) -> CacheEntry | None:
        doc = await self._docs(CACHE, _CACHE_FIELDS).get_or_none(_text(cache_key, "cache_key"))
        return None if doc is None else CacheEntry.model_validate(doc.value["entry"])

    async def put_cache_entry(self, entry: CacheEntry) -> None:
        """Store (or replace) the entry of ``entry.cache_key``."""
        if not isinstance(entry, CacheEntry):
            raise InvalidInputError(f"expected a binex CacheEntry, not {type(entry).__name__}")
        value = {"entry": entry.model_dump(mode="json"), "made_at": _utc(entry.created_at)}
        value["made_at"] = value["made_at"].isoformat()
        await self._docs(CACHE, _CACHE_FIELDS).put(_text(entry.cache_key, "cache_key"), value)

    async def count_cache_entries(self) -> int:
        """How many entries there are (from the index alone)."""
        return await self._docs(CACHE, _CACHE_FIELDS).count()

    async def clear_cache_entries(self, older_than_days: float | None = None) -> int:
        """Delete every entry, or those whose ``created_at`` is more than
        ``older_than_days`` ago; returns how many were deleted."""
        where: dict[str, object] | None = None
        if older_than_days is not None:
            if isinstance(older_than_days, bool) or not isinstance(older_than_days, int | float):
                raise InvalidInputError("older_than_days must be a number or None")
            cutoff = datetime.now(UTC) - timedelta(days=older_than_days)
            where = {"made_at": {"lt": cutoff}}
        store = self._docs(CACHE, _CACHE_FIELDS)
        page = await store.query(where=where)
        deleted = await asyncio.gather(*(store.delete(d.id) for d in page.documents))
        return sum(deleted)

    # ------------------------------------------------------------------ eval baselines
    async def set_baseline(self, suite_name: str, case_id: str, run_id: str) -> None:
        """Bless ``run_id`` as the baseline of ``(suite_name, case_id)`` (replacing one)."""
        _text(suite_name, "suite_name")
        _text(case_id, "case_id")
        value = {
            "suite_name": suite_name,
            "case_id": case_id,
            "run_id": run_id,
            "blessed_at": datetime.now(UTC).isoformat(),
        }
        doc_id = codec.dumps([suite_name, case_id]).decode()
        await self._docs(BASELINES, _BASELINE_FIELDS).put(doc_id, value)

    async def get_baselines(self, suite_name: str) -> dict[str, str]:
        """``{case_id: run_id}`` of the suite."""
        page = await self._docs(BASELINES, _BASELINE_FIELDS).query(
            where={"suite_name": _text(suite_name, "suite_name")}
        )
        return {d.value["case_id"]: d.value["run_id"] for d in page.documents}

    # ------------------------------------------------------------------ eval results
    @property
    def _results(self) -> RecordCollection:
        return self.stores.records(RESULTS, fields=_RESULT_FIELDS)

    async def save_eval_result(self, result: Any) -> str:
        """Store an EvalResult; returns its new id (``eval_`` + 12 hex digits).

        ``payload`` is the result's JSON text (``model_dump_json()``; ``json.dumps``
        for a plain value), as Binex's memory store keeps it and its web UI reads it.
        """
        result_id = "eval_" + uuid.uuid4().hex[:12]
        if hasattr(result, "model_dump_json"):
            payload = result.model_dump_json()
        else:
            try:
                payload = json.dumps(result)
            except (TypeError, ValueError) as exc:
                raise InvalidInputError(f"eval result is not JSON: {exc}") from None
        executed_at = getattr(result, "executed_at", None)
        if executed_at is None:
            executed_at = datetime.now(UTC)
        if hasattr(executed_at, "isoformat"):
            executed_at = executed_at.isoformat()
        row = {
            "id": result_id,
            "suite_name": getattr(result, "suite_name", ""),
            "suite_path": getattr(result, "suite_path", None),
            "executed_at": executed_at,
            "payload": payload,
        }
        await self._results.append(row, id=result_id)
        return result_id

    async def list_eval_results(
        self, limit: int = 50, suite_name: str | None = None
    ) -> list[dict[str, Any]]:
        """At most ``limit`` results (of ``suite_name``, if given and not empty), newest
        ``executed_at`` first; index query + 1 GET per result returned."""
        if isinstance(limit, bool) or not isinstance(limit, int):
            raise InvalidInputError("limit must be an int")
        if limit <= 0:
            return []
        where = {"suite_name": suite_name} if suite_name else None
        page = await self._results.query(
            where=where, order_by="executed_at", descending=True, limit=limit
        )
        return [dict(r.value) for r in page.records]

    async def get_eval_result(self, result_id: str) -> dict[str, Any] | None:
        record = await self._results.get_or_none(_text(result_id, "result_id"))
        return None if record is None else dict(record.value)
