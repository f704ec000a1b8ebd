"""BucketExecutionStore: Binex's ``ExecutionStore`` protocol (all of it) on cloudstores.

Runs, step records and workflow snapshots go to the execution store (runs as numbered
immutable versions: every update is kept in its history); cost records to a record
collection aggregated from its index (``_costs.py``); CAO sessions, the node cache and
eval baselines/results to documents and records (``_extras.py``). Where Binex's memory
and SQLite backends disagree, the choice made is documented in docs/frameworks.md.
"""

from __future__ import annotations

from typing import Any

from binex.models.execution import ExecutionRecord, RunSummary

from cloudstores.adapters.binex._base import to_store_id
from cloudstores.adapters.binex._costs import CostsMixin
from cloudstores.adapters.binex._extras import ExtrasMixin
from cloudstores.adapters.binex._models import from_record, from_run, to_record, to_run
from cloudstores.codec import is_digest
from cloudstores.errors import AlreadyExistsError, InvalidInputError, NotFoundError

__all__ = ["BucketExecutionStore"]


def _check(value: object, what: str) -> str:
    if not isinstance(value, str) or not value:
        raise InvalidInputError(f"{what} must be a non-empty str, not {value!r:.100}")
    return value


class BucketExecutionStore(CostsMixin, ExtrasMixin):
    """Binex's execution store in a bucket: ``BucketExecutionStore.from_url(url)`` or
    ``BucketExecutionStore(stores)``. Pass it as ``Orchestrator(execution_store=...)``.

    Costs (warm index): ``create_run`` 1 LIST + 1 PUT + index; ``update_run`` 1 LIST +
    1 PUT + index; ``get_run`` 1 LIST + 1 GET; ``list_runs`` the index + 1 GET per run;
    ``record`` 1 PUT + index; ``list_records``/``get_step`` the index + 1 GET per record.
    """

    # ------------------------------------------------------------------ runs
    async def create_run(self, run_summary: RunSummary) -> None:
        """Store a new run. A run that exists gets this summary as its next version (as
        Binex's memory store replaces it; SQLite would raise)."""
        run = to_run(run_summary)
        try:
            await self.stores.executions.create_run(run)
        except AlreadyExistsError:
            await self.stores.executions.update_run(run)

    async def update_run(self, run_summary: RunSummary) -> None:
        """Store the summary as the run's next version; a run that does not exist is
        created (as Binex's memory store does; SQLite would ignore the update)."""
        run = to_run(run_summary)
        try:
            await self.stores.executions.update_run(run)
        except NotFoundError:
            try:
                await self.stores.executions.create_run(run)
            except AlreadyExistsError:  # created meanwhile by another writer
                await self.stores.executions.update_run(run)

    async def get_run(self, run_id: str) -> RunSummary | None:
        found = await self.stores.executions.get_run_or_none(to_store_id(run_id, what="run_id"))
        return None if found is None else from_run(found)

    async def list_runs(self, limit: int | None = None, offset: int = 0) -> list[RunSummary]:
        """Runs in the order they were created (an update does not move one), paged."""
        runs = await self.stores.executions.list_runs(limit=limit, offset=offset, order="stored")
        return [from_run(r) for r in runs]

    # ------------------------------------------------------------------ step records
    async def record(self, execution_record: ExecutionRecord) -> None:
        """Store a step record, whether or not its run exists. The same id again:
        identical is a no-op, different raises AlreadyExistsError (SQLite also refuses
        it; the memory store would keep both)."""
        await self.stores.executions.record(to_record(execution_record), require_run=False)

    async def get_step(self, run_id: str, task_id: str) -> ExecutionRecord | None:
        """The first record stored for ``task_id`` in the run; None if none."""
        _check(task_id, "task_id")
        try:
            found = await self.stores.executions.get_step(
                to_store_id(run_id, what="run_id"), task_id, which="first"
            )
        except NotFoundError:
            return None
        return from_record(found)

    async def list_records(self, run_id: str) -> list[ExecutionRecord]:
        """The run's records in the order they were stored."""
        found = await self.stores.executions.list_records(
            to_store_id(run_id, what="run_id"), order="stored"
        )
        return [from_record(r) for r in found]

    # ------------------------------------------------------------------ workflow snapshots
    async def store_workflow_snapshot(self, content: str, version: int) -> str:
        """Store the workflow text once per SHA-256 of its UTF-8 bytes (exactly as given);
        returns the hex digest. The first ``version`` stored for a content stays."""
        if not isinstance(content, str):
            raise InvalidInputError("workflow content must be a str")
        return await self.stores.executions.store_workflow_snapshot(
            content, version, normalize=False
        )

    async def get_workflow_snapshot(self, content_hash: str) -> dict[str, Any] | None:
        """``{"hash", "content", "version", "created_at"}`` (ISO text), or None."""
        if not isinstance(content_hash, str) or not is_digest(content_hash):
            return None  # no SHA-256 hex digest names no snapshot
        snap = await self.stores.executions.get_workflow_snapshot_or_none(content_hash)
        if snap is None:
            return None
        return {
            "hash": snap.hash,
            "content": snap.content,
            "version": snap.version,
            "created_at": snap.created_at.isoformat(),
        }
