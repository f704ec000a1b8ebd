"""Rich tables of what a workspace holds: runs, steps, artifacts, audit streams.

Everything shown comes from a bucket (or a URL, or an error message quoting one) and is
untrusted text: every cell is a :class:`rich.text.Text`, never markup, so ``[/y]`` or
``[link=...]`` in stored data is printed as it is instead of crashing or styling the
output. :func:`plain` is the one way text reaches rich.
"""

from __future__ import annotations

from rich.console import Console
from rich.table import Table
from rich.text import Text

from cloudstores.models import Artifact, ExecutionRecord, RunSummary
from cloudstores.stores.audit import AuditEntry, VerifyReport

__all__ = ["artifacts_table", "audit_table", "plain", "runs_table", "steps_table", "verify_table"]


def plain(value: object, style: str = "") -> Text:
    """``value`` as literal text (no markup, no emoji codes), with control characters
    shown escaped so stored data cannot move the cursor or rewrite the terminal."""
    text = str(value)
    if any(ord(c) < 0x20 or 0x7F <= ord(c) <= 0x9F for c in text):
        text = "".join(c if 0x20 <= ord(c) < 0x7F or ord(c) > 0x9F else repr(c)[1:-1] for c in text)
    return Text(text, style=style)


def _row(table: Table, *cells: object) -> None:
    table.add_row(*(plain(cell) for cell in cells))


def _title(title: str) -> Text:
    return plain(title, style="table.title")


def _when(value: object) -> str:
    return value.strftime("%Y-%m-%d %H:%M:%S") if hasattr(value, "strftime") else "-"


def runs_table(runs: list[RunSummary], *, title: str = "Runs") -> Table:
    table = Table(title=_title(title))
    for column in (
        "run",
        "version",
        "workflow",
        "status",
        "nodes done/failed/total",
        "cost",
        "user",
        "updated",
    ):
        table.add_column(column)
    for run in runs:
        _row(
            table,
            run.run_id,
            str(run.version),
            run.workflow_name,
            run.status,
            f"{run.completed_nodes}/{run.failed_nodes}/{run.total_nodes}",
            f"{run.total_cost:.4f}",
            run.user_id or "-",
            _when(run.updated_at),
        )
    return table


def steps_table(records: list[ExecutionRecord], *, title: str = "Steps") -> Table:
    table = Table(title=_title(title))
    for column in ("record", "task", "agent", "status", "inputs", "outputs", "latency ms"):
        table.add_column(column)
    for rec in records:
        _row(
            table,
            rec.id,
            rec.task_id,
            rec.agent_id or "-",
            rec.status,
            ", ".join(rec.input_artifact_refs) or "-",
            ", ".join(rec.output_artifact_refs) or "-",
            f"{rec.latency_ms:.0f}" if rec.latency_ms is not None else "-",
        )
    return table


def artifacts_table(artifacts: list[Artifact], *, title: str = "Artifacts") -> Table:
    table = Table(title=_title(title))
    for column in ("artifact", "type", "task", "created by", "derived from", "content"):
        table.add_column(column)
    for a in artifacts:
        preview = str(a.content)
        _row(
            table,
            a.id,
            a.type,
            a.task_id or "-",
            a.created_by or "-",
            ", ".join(a.lineage.derived_from) or "-",
            preview if len(preview) <= 40 else preview[:37] + "...",
        )
    return table


def audit_table(entries: list[AuditEntry], *, title: str = "Audit log") -> Table:
    table = Table(title=_title(title))
    for column in ("seq", "time", "event", "prev", "hash"):
        table.add_column(column)
    for e in entries:
        _row(
            table,
            str(e.seq),
            _when(e.ts),
            str(e.event.get("event", e.event))[:40],
            e.prev[:12],
            e.hash[:12],
        )
    return table


def verify_table(report: VerifyReport) -> Table:
    table = Table(
        title=_title(f"verify {report.stream}: {'OK' if report.ok else 'PROBLEMS FOUND'}")
    )
    table.add_column("check")
    table.add_column("result")
    _row(table, "entries", str(report.size))
    _row(table, "objects read", str(report.objects))
    _row(table, "checkpoints", str(report.checkpoints))
    _row(
        table,
        "signatures checked",
        "yes" if report.signatures_checked else "NOT checked (no key given)",
    )
    _row(table, "unsealed entries", str(report.unsealed))
    _row(table, "first bad seq", "-" if report.first_bad_seq is None else str(report.first_bad_seq))
    for problem in report.problems[:10]:
        _row(table, f"problem at {problem.seq}", f"{problem.kind}: {problem.detail}")
    return table


def print_all(console: Console, *tables: Table) -> None:
    for table in tables:
        console.print(table)
