"""``migrate-files``: rewrite a ``file://`` root written before the sidecar format."""

from __future__ import annotations

from typing import Annotated

import typer

from cloudstores.bucket import open_bucket
from cloudstores.bucket.file_migrate import MigrationReport, migrate_files
from cloudstores.cli.common import Json, app, execute, split_url
from cloudstores.cli.output import Output

__all__ = ["migrate_files_command"]


@app.command("migrate-files")
def migrate_files_command(
    args: Annotated[list[str] | None, typer.Argument(metavar="[URL]")] = None,
    jobs: Annotated[int, typer.Option("--jobs", "-j", min=1, max=256, help="files at once")] = 8,
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
