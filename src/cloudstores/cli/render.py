"""Rich tables of what a workspace holds: runs, steps, artifacts, audit streams."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table

from cloudstores.models import Artifact, ExecutionRecord, RunSummary
from cloudstores.stores.audit import AuditEntry, VerifyReport

__all__ = ["artifacts_table", "audit_table", "runs_table", "steps_table", "verify_table"]


def _when(value: object) -> str:
    return value.strftime("%Y-%m-%d %H:%M:%S") if hasattr(value, "strftime") else "-"


def runs_table(runs: list[RunSummary], *, title: str = "Runs") -> Table:
    table = Table(title=title)
    for column in ("run", "version", "workflow", "status", "nodes done/failed/total",
                   "cost", "user", "updated"):
        table.add_column(column)
    for run in runs:
        table.add_row(run.run_id, str(run.version), run.workflow_name, run.status,
                      f"{run.completed_nodes}/{run.failed_nodes}/{run.total_nodes}",
                      f"{run.total_cost:.4f}", run.user_id or "-", _when(run.updated_at))
    return table


def steps_table(records: list[ExecutionRecord], *, title: str = "Steps") -> Table:
    table = Table(title=title)
    for column in ("record", "task", "agent", "status", "inputs", "outputs", "latency ms"):
        table.add_column(column)
    for rec in records:
        table.add_row(rec.id, rec.task_id, rec.agent_id or "-", rec.status,
                      ", ".join(rec.input_artifact_refs) or "-",
                      ", ".join(rec.output_artifact_refs) or "-",
                      f"{rec.latency_ms:.0f}" if rec.latency_ms is not None else "-")
    return table


def artifacts_table(artifacts: list[Artifact], *, title: str = "Artifacts") -> Table:
    table = Table(title=title)
    for column in ("artifact", "type", "task", "created by", "derived from", "content"):
        table.add_column(column)
    for a in artifacts:
        preview = str(a.content)
        table.add_row(a.id, a.type, a.task_id or "-", a.created_by or "-",
                      ", ".join(a.lineage.derived_from) or "-",
                      preview if len(preview) <= 40 else preview[:37] + "...")
    return table


def audit_table(entries: list[AuditEntry], *, title: str = "Audit log") -> Table:
    table = Table(title=title)
    for column in ("seq", "time", "event", "prev", "hash"):
        table.add_column(column)
    for e in entries:
        table.add_row(str(e.seq), _when(e.ts), str(e.event.get("event", e.event))[:40],
                      e.prev[:12], e.hash[:12])
    return table


def verify_table(report: VerifyReport) -> Table:
    table = Table(title=f"verify {report.stream}: {'OK' if report.ok else 'PROBLEMS FOUND'}")
    table.add_column("check")
    table.add_column("result")
    table.add_row("entries", str(report.size))
    table.add_row("objects read", str(report.objects))
    table.add_row("checkpoints", str(report.checkpoints))
    table.add_row("signatures checked", "yes" if report.signatures_checked else "no (keyless)")
    table.add_row("unsealed entries", str(report.unsealed))
    table.add_row("first bad seq", "-" if report.first_bad_seq is None
                  else str(report.first_bad_seq))
    for problem in report.problems[:10]:
        table.add_row(f"problem at {problem.seq}", f"{problem.kind}: {problem.detail}")
    return table


def print_all(console: Console, *tables: Table) -> None:
    for table in tables:
        console.print(table)
