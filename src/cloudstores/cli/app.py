"""``cloudstores show | verify | reindex``: the stores of one workspace from a terminal.

cloudstores show file:///data/agents --workspace client-a
cloudstores verify s3://bucket/prefix security --public-key audit.pub
cloudstores reindex az://container/prefix --workspace client-a
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from rich.console import Console
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from cloudstores.cli.render import artifacts_table, plain, runs_table, verify_table
from cloudstores.errors import StoreError
from cloudstores.keys import DEFAULT_WORKSPACE
from cloudstores.stores.audit import Ed25519Verifier
from cloudstores.stores.workspace import open_stores

__all__ = ["app", "main"]

T = TypeVar("T")

app = typer.Typer(
    help="Look into cloudstores buckets: runs, artifacts, audit logs.",
    no_args_is_help=True,
    add_completion=False,
)
console = Console()
Workspace = Annotated[str, typer.Option("--workspace", "-w", help="workspace name")]


@app.command()
def show(
    url: str,
    workspace: Workspace = DEFAULT_WORKSPACE,
    limit: Annotated[int, typer.Option(help="runs to show")] = 20,
) -> None:
    """Show the newest runs, their artifacts, and the audit streams with their heads."""

    async def run() -> None:
        async with open_stores(url, workspace=workspace) as stores:
            runs = await stores.executions.list_runs(limit=limit)
            console.print(runs_table(runs, title=f"Runs in workspace {workspace!r}"))
            for summary in runs[:3]:
                found = await stores.artifacts.list_by_run(summary.run_id)
                console.print(artifacts_table(found, title=f"Artifacts of {summary.run_id}"))
            async for stream in stores.audit.streams():
                head = await stores.audit.head(stream)
                console.print(
                    plain("audit stream ")
                    .append(plain(stream, "bold"))
                    .append(plain(f": {head.size} entries, head {head.hash[:16]}"))
                )

    _run(run())


@app.command()
def verify(
    url: str,
    stream: str,
    workspace: Workspace = DEFAULT_WORKSPACE,
    public_key: Annotated[
        Path | None,
        typer.Option(help="Ed25519 public key (PEM or raw) that signed the checkpoints"),
    ] = None,
) -> None:
    """Verify an audit stream: every link, hash, checkpoint and signature."""

    async def run() -> bool:
        verifier = Ed25519Verifier.from_file(public_key) if public_key else None
        async with open_stores(url, workspace=workspace, audit_verifier=verifier) as stores:
            with _counting(f"verifying {stream}", "entries") as count:
                report = await stores.audit.verify(stream, on_progress=count)
        console.print(verify_table(report))
        return report.ok

    if not _run(run()):
        raise typer.Exit(1)


@app.command()
def reindex(url: str, workspace: Workspace = DEFAULT_WORKSPACE) -> None:
    """Rebuild missing index entries from the data objects (after a crash)."""

    async def run() -> None:
        async with open_stores(url, workspace=workspace) as stores:
            for store in (stores.artifacts, stores.executions):
                with _counting(f"scanning {type(store).__name__}", "objects") as count:
                    report = await store.reindex(on_progress=count)
                console.print(
                    plain(
                        f"{report.store}: scanned {report.scanned}, "
                        f"added {len(report.added)}, "
                        f"skipped {len(report.skipped)}"
                    )
                )
                for item in report.skipped[:20]:
                    console.print(plain(f"  skipped {item.key}: {item.reason}", "yellow"))

    _run(run())


@contextmanager
def _counting(what: str, unit: str) -> Iterator[Callable[[int], None]]:
    """A transient spinner with a running count (the total is not known ahead)."""
    columns = (
        SpinnerColumn(),
        TextColumn("{task.description}", markup=False),
        TextColumn("{task.completed:,.0f} " + unit),
        TimeElapsedColumn(),
    )
    with Progress(*columns, transient=True, console=console) as progress:
        task = progress.add_task(what, total=None)
        yield lambda done: progress.update(task, completed=done)


def _run(coro: Coroutine[Any, Any, T]) -> T:
    try:
        return asyncio.run(coro)
    except StoreError as exc:
        console.print(plain("error: ", "red").append(plain(exc)))
        raise typer.Exit(2) from exc


def main() -> None:
    app()
