"""Binex's RunSummary and ExecutionRecord to and from the execution store's models.

Fields both have map one to one; the Binex fields ours lacks ride in ``data`` (runs)
and ``details`` (records), so a round trip gives back what Binex stored. Ids go
through :func:`to_store_id` / :func:`from_store_id`.
"""

from __future__ import annotations

from typing import Any

from binex.models.execution import ExecutionRecord as BinexRecord
from binex.models.execution import RunSummary as BinexRun

from cloudstores.adapters.binex._base import from_store_id, to_store_id
from cloudstores.errors import InvalidInputError
from cloudstores.models import ExecutionRecord, RunSummary

__all__ = ["from_record", "from_run", "to_record", "to_run"]

_RUN_EXTRA = (
    "workflow_path",
    "resumed_from",
    "git_sha",
    "git_dirty",
    "observed",
    "eval_suite_id",
    "eval_case_id",
    "source",
)
"""RunSummary fields of Binex that ours lacks: kept in ``RunSummary.data``."""
_RECORD_EXTRA = ("parent_task_id", "requested_model", "actual_model", "trace_events")
"""ExecutionRecord fields of Binex that ours lacks: kept in ``ExecutionRecord.details``."""


def to_run(run: BinexRun) -> RunSummary:
    if not isinstance(run, BinexRun):
        raise InvalidInputError(f"expected a binex RunSummary, not {type(run).__name__}")
    dumped = run.model_dump(mode="json")
    return RunSummary(
        run_id=to_store_id(run.run_id, what="run_id"),
        workflow_name=run.workflow_name,
        status=run.status,
        started_at=run.started_at,
        completed_at=run.completed_at,
        total_nodes=run.total_nodes,
        completed_nodes=run.completed_nodes,
        failed_nodes=run.failed_nodes,
        skipped_nodes=run.skipped_nodes,
        forked_from=run.forked_from,
        forked_at_step=run.forked_at_step,
        workflow_hash=run.workflow_hash,
        total_cost=run.total_cost,
        data={name: dumped[name] for name in _RUN_EXTRA},
    )


def from_run(run: RunSummary) -> BinexRun:
    return BinexRun(
        run_id=from_store_id(run.run_id),
        workflow_name=run.workflow_name,
        status=run.status,
        started_at=run.started_at,
        completed_at=run.completed_at,
        total_nodes=run.total_nodes,
        completed_nodes=run.completed_nodes,
        failed_nodes=run.failed_nodes,
        skipped_nodes=run.skipped_nodes,
        forked_from=run.forked_from,
        forked_at_step=run.forked_at_step,
        workflow_hash=run.workflow_hash,
        total_cost=run.total_cost,
        **{name: run.data[name] for name in _RUN_EXTRA if name in run.data},
    )


def to_record(rec: BinexRecord) -> ExecutionRecord:
    if not isinstance(rec, BinexRecord):
        raise InvalidInputError(f"expected a binex ExecutionRecord, not {type(rec).__name__}")
    dumped = rec.model_dump(mode="json")
    details: dict[str, Any] = {name: dumped[name] for name in _RECORD_EXTRA}
    if rec.tool_calls is None:
        details["tool_calls"] = None  # ours holds a list: remember "none" apart from []
    return ExecutionRecord(
        id=to_store_id(rec.id, what="record id"),
        run_id=to_store_id(rec.run_id, what="run_id"),
        task_id=rec.task_id,
        agent_id=rec.agent_id,
        status=rec.status.value,
        input_artifact_refs=tuple(rec.input_artifact_refs),
        output_artifact_refs=tuple(rec.output_artifact_refs),
        prompt=rec.prompt,
        model=rec.model,
        tool_calls=dumped["tool_calls"] or [],
        latency_ms=rec.latency_ms,
        error=rec.error,
        trace_id=rec.trace_id,
        details=details,
        timestamp=rec.timestamp,
    )


def from_record(rec: ExecutionRecord) -> BinexRecord:
    details = rec.details
    tool_calls = None if "tool_calls" in details else list(rec.tool_calls)
    return BinexRecord(
        id=from_store_id(rec.id),
        run_id=from_store_id(rec.run_id),
        task_id=rec.task_id,
        agent_id=rec.agent_id or "",
        status=rec.status,
        input_artifact_refs=list(rec.input_artifact_refs),
        output_artifact_refs=list(rec.output_artifact_refs),
        prompt=rec.prompt,
        model=rec.model,
        tool_calls=tool_calls,
        latency_ms=round(rec.latency_ms or 0),
        timestamp=rec.timestamp,
        trace_id=rec.trace_id or "",
        error=rec.error,
        **{name: details.get(name) for name in _RECORD_EXTRA},
    )
