"""``reindex``, ``copy``, ``diff``, ``demo`` and ``migrate-files``: repair, migrate,
compare, try it out."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from cloudstores.bucket import open_bucket
from cloudstores.bucket.file_migrate import MigrationReport, migrate_files
from cloudstores.cli.common import Json, Workspace, app, execute, require_workspace, split_url
from cloudstores.cli.demo import DEMO_STREAM, run_demo
from cloudstores.cli.output import Output
from cloudstores.cli.transfer import TransferReport, copy_objects, diff_objects
from cloudstores.errors import ConfigurationError
from cloudstores.keys import DEFAULT_WORKSPACE
from cloudstores.stores.audit import Ed25519Signer
from cloudstores.stores.workspace import open_stores

__all__ = ["copy", "demo", "diff", "migrate_files_command", "reindex"]

Jobs = Annotated[int, typer.Option("--jobs", "-j", min=1, max=256, help="transfers at once")]


@app.command()
def reindex(
    args: Annotated[list[str] | None, typer.Argument(metavar="[URL]")] = None,
    workspace: Workspace = DEFAULT_WORKSPACE,
    json: Json = False,
) -> None:
    """Rebuild missing index entries from the data objects (after a crash). Idempotent."""
    out = Output(json_mode=json)

    async def main() -> list[dict[str, Any]]:
        url, _ = split_url(args, at_most=0)
        results = []
        async with open_stores(url, workspace=workspace) as stores:
            await require_workspace(stores.bucket, stores.workspace)
            for store in (stores.artifacts, stores.executions):
                with out.progress(f"scanning {type(store).__name__}", "objects") as tick:
                    report = await store.reindex(on_progress=tick)
                results.append(
                    {
                        "store": report.store,
                        "scanned": report.scanned,
                        "added": len(report.added),
                        "skipped": [{"key": s.key, "reason": s.reason} for s in report.skipped],
                    }
                )
        return results

    results = execute(out, main())

    def human() -> None:
        for r in results:
            out.line(
                f"{r['store']}: scanned {r['scanned']}, added {r['added']}, "
                f"skipped {len(r['skipped'])}"
            )
            for item in r["skipped"][:20]:
                out.line(f"  skipped {item['key']}: {item['reason']}", "yellow")

    out.result(results, human)


def _transfer(out: Output, src: str, dst: str, jobs: int, *, copying: bool) -> TransferReport:
    async def main() -> TransferReport:
        if src.split("?")[0].rstrip("/") == dst.split("?")[0].rstrip("/"):
            raise ConfigurationError("SRC and DST are the same place")
        async with open_bucket(src) as a, open_bucket(dst) as b:
            what = "copying" if copying else "comparing"
            with out.progress(what, "objects", bar=True) as tick:
                run = copy_objects if copying else diff_objects
                return await run(a, b, jobs=jobs, on_progress=tick)

    return execute(out, main())


def _show(out: Output, report: TransferReport, *, copying: bool) -> None:
    for key in report.conflicts[:50]:
        out.line(f"conflict (kept, not overwritten): {key}", "red")
    for key, error in list(report.errors.items())[:50]:
        out.line(f"error: {key}: {error}", "red")
    if not copying:
        for key in report.missing[:50]:
            out.line(f"only in SRC: {key}", "yellow")
        for key in report.extra[:50]:
            out.line(f"only in DST: {key}", "yellow")
        out.line(
            f"{report.listed} objects in SRC: {len(report.same)} same, "
            f"{len(report.missing)} only in SRC, {len(report.extra)} only in DST, "
            f"{len(report.conflicts)} different, {len(report.errors)} errors"
        )
        return
    out.line(
        f"{report.listed} objects in SRC: {len(report.copied)} copied, "
        f"{len(report.same)} already there, {len(report.conflicts)} conflicts, "
        f"{len(report.errors)} errors"
    )


def _exit(report: TransferReport) -> None:
    if report.errors:
        raise typer.Exit(2)
    if not report.clean:
        raise typer.Exit(1)


@app.command()
def copy(
    src: Annotated[str, typer.Argument(help="source bucket URL")],
    dst: Annotated[str, typer.Argument(help="destination bucket URL (any backend)")],
    jobs: Jobs = 16,
    json: Json = False,
) -> None:
    """Copy every object under SRC to DST, create-only: never overwrites.

    Idempotent and resumable: run it again after an interruption and it copies what is
    still missing. An object that exists at DST with other bytes is a conflict, reported
    and kept. Exit 0 done, 1 conflicts, 2 errors (run again to retry them)."""
    out = Output(json_mode=json)
    report = _transfer(out, src, dst, jobs, copying=True)
    out.result(report.as_dict(), lambda: _show(out, report, copying=True))
    _exit(report)


@app.command()
def diff(
    src: Annotated[str, typer.Argument(help="bucket URL")],
    dst: Annotated[str, typer.Argument(help="bucket URL (any backend)")],
    jobs: Jobs = 16,
    json: Json = False,
) -> None:
    """Compare every object under SRC and DST, byte for byte.

    Exit 0 identical, 1 different (keys only on one side, or with other bytes), 2 error."""
    out = Output(json_mode=json)
    report = _transfer(out, src, dst, jobs, copying=False)
    out.result(report.as_dict(), lambda: _show(out, report, copying=False))
    _exit(report)


def _default_demo_url() -> str:
    root = Path("cloudstores-demo").resolve()
    root.mkdir(exist_ok=True)
    return f"file://{root}"


@app.command()
def demo(
    args: Annotated[
        list[str] | None,
        typer.Argument(metavar="[URL]", help="default: file://./cloudstores-demo"),
    ] = None,
    workspace: Annotated[str, typer.Option("--workspace", "-w")] = "demo",
    key: Annotated[
        Path | None,
        typer.Option(help="Ed25519 private key (PEM) to sign the audit log (see keygen)"),
    ] = None,
    json: Json = False,
) -> None:
    """Store one small agent run (records, artifacts, an audit stream) to look at."""
    out = Output(json_mode=json)

    async def main() -> dict[str, str]:
        url = split_url(args, at_most=0)[0] if args else _default_demo_url()
        signer = Ed25519Signer.from_file(key) if key else None
        run_id = await run_demo(url, workspace=workspace, signer=signer)
        return {"url": url, "workspace": workspace, "run_id": run_id, "stream": DEMO_STREAM}

    result = execute(out, main())

    def human() -> None:
        url, ws = result["url"], result["workspace"]
        out.line(f"stored run {result['run_id']} in workspace {ws!r} at {url}")
        out.line("look at it:")
        out.line(f"  cloudstores ls {url} runs -w {ws}")
        out.line(f"  cloudstores show {url} run {result['run_id']} -w {ws}")
        out.line(f"  cloudstores verify {url} {DEMO_STREAM} -w {ws}")

    out.result(result, human)


@app.command("migrate-files")
def migrate_files_command(
    args: Annotated[list[str] | None, typer.Argument(metavar="[URL]")] = None,
    jobs: Jobs = 8,
    json: Json = False,
) -> None:
    """Rewrite legacy CSOBJ1 object files of a file:// URL as plain files with a sidecar
    (etags kept). Safe while others use the bucket; idempotent, resumable."""
    out = Output(json_mode=json)

    async def main() -> MigrationReport:
        url, _ = split_url(args, at_most=0)
        async with open_bucket(url) as bucket:
            with out.progress("migrating", "objects") as tick:
                return await migrate_files(bucket, jobs=jobs, on_progress=tick)

    report = execute(out, main())
    data = {"scanned": report.scanned, "rewritten": report.rewritten, "vanished": report.vanished}
    out.result(
        data,
        lambda: out.line(
            f"scanned {report.scanned}, rewritten {report.rewritten}, "
            f"vanished meanwhile {report.vanished}"
        ),
    )
