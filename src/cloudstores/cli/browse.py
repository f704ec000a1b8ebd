"""``ls``, ``show`` and ``cat``: what a bucket holds, one record pretty, one object raw."""

from __future__ import annotations

import sys
from typing import Annotated, Any

import typer
from rich.json import JSON

from cloudstores.bucket import open_bucket
from cloudstores.cli.common import (
    Json,
    Workspace,
    app,
    execute,
    list_workspaces,
    require_workspace,
    split_url,
)
from cloudstores.cli.output import Output
from cloudstores.errors import ConfigurationError, InvalidInputError
from cloudstores.keys import DEFAULT_WORKSPACE, workspace_prefix
from cloudstores.stores.workspace import Stores, open_stores

__all__ = ["cat", "ls", "show"]

LS_WHAT = ("workspaces", "stores", "runs", "artifacts", "audit", "keys")
SHOW_KINDS = {"run": 1, "artifact": 1, "step": 2, "entry": 2}
"""Kinds of record ``show`` finds, with how many ids each takes."""


def _when(value: Any) -> str:
    """An ISO time as ``YYYY-MM-DD HH:MM:SS`` (UTC as stored)."""
    return str(value)[:19].replace("T", " ") if value else "-"


async def _ls_stores(stores: Stores) -> list[dict[str, Any]]:
    """The top-level prefixes of the workspace (one LIST per prefix)."""
    base = workspace_prefix(stores.workspace)
    found: list[dict[str, Any]] = []
    after: str | None = None
    while True:
        first = None
        async for info in stores.bucket.list(base, start_after=after):
            first = info.key
            break
        if first is None:
            return found
        name = first[len(base) :].split("/", 1)[0]
        found.append({"store": name, "prefix": base + name + "/"})
        after = f"{base}{name}0"


async def _ls(stores: Stores, what: str, run: str | None, limit: int) -> list[dict[str, Any]]:
    if what == "stores":
        return await _ls_stores(stores)
    if what == "runs":
        runs = await stores.executions.list_runs(limit=limit)
        return [r.model_dump(mode="json") for r in runs]
    if what == "artifacts":
        rows: list[dict[str, Any]] = []
        async for a in stores.artifacts.list(run_id=run, limit=limit):
            rows.append(a.model_dump(mode="json"))
        return rows
    if what == "keys":
        keys: list[dict[str, Any]] = []
        async for info in stores.bucket.list(workspace_prefix(stores.workspace)):
            keys.append({"key": info.key, "size": info.size})
            if len(keys) >= limit:
                break
        return keys
    heads = []
    async for stream in stores.audit.streams():
        head = await stores.audit.head(stream)
        heads.append({"stream": stream, "size": head.size, "head": head.hash})
    return heads


_COLUMNS: dict[str, tuple[str, ...]] = {
    "workspaces": ("workspace",),
    "stores": ("store", "prefix"),
    "runs": ("run_id", "status", "workflow_name", "completed_nodes", "total_nodes", "updated_at"),
    "artifacts": ("id", "type", "run_id", "task_id", "created_by", "created_at"),
    "audit": ("stream", "size", "head"),
    "keys": ("key", "size"),
}


@app.command()
def ls(
    args: Annotated[
        list[str] | None,
        typer.Argument(metavar="[URL] [WHAT]", help=f"WHAT: {', '.join(LS_WHAT)}"),
    ] = None,
    workspace: Workspace = DEFAULT_WORKSPACE,
    run: Annotated[str | None, typer.Option(help="artifacts of this run only")] = None,
    limit: Annotated[int, typer.Option(min=1, help="at most this many rows")] = 100,
    json: Json = False,
) -> None:
    """List workspaces (default), or a workspace's stores, runs, artifacts, audit or keys."""
    out = Output(json_mode=json)

    async def main() -> list[dict[str, Any]]:
        url, rest = split_url(args, at_most=1)
        what = rest[0] if rest else "workspaces"
        if what not in LS_WHAT:
            raise InvalidInputError(f"ls {what!r}: choose one of {', '.join(LS_WHAT)}")
        if what == "workspaces":
            async with open_bucket(url) as bucket:
                return [{"workspace": name} for name in await list_workspaces(bucket)]
        async with open_stores(url, workspace=workspace) as stores:
            await require_workspace(stores.bucket, stores.workspace)
            return await _ls(stores, what, run, limit)

    rows = execute(out, main())
    _, rest = split_url(args, at_most=1)
    what = rest[0] if rest else "workspaces"
    columns = _COLUMNS[what]
    title = what if what == "workspaces" else f"{what} in workspace {workspace!r}"
    out.result(
        rows,
        lambda: out.table(
            title,
            columns,
            [[_when(r[c]) if c.endswith("_at") else r.get(c, "-") for c in columns] for r in rows],
        ),
    )


async def _find(stores: Stores, kind: str, ids: list[str]) -> dict[str, Any]:
    if kind == "run":
        return (await stores.executions.get_run(ids[0])).model_dump(mode="json")
    if kind == "artifact":
        return (await stores.artifacts.get(ids[0])).model_dump(mode="json")
    if kind == "entry":
        try:
            seq = int(ids[1])
        except ValueError:
            raise InvalidInputError(f"entry sequence number {ids[1]!r} is not a number") from None
        return (await stores.audit.get(ids[0], seq)).model_dump(mode="json")
    for record in await stores.executions.list_records(ids[0]):
        if record.id == ids[1]:
            return record.model_dump(mode="json")
    raise InvalidInputError(f"run {ids[0]!r} has no step {ids[1]!r}")


@app.command()
def show(
    args: Annotated[
        list[str],
        typer.Argument(
            metavar="[URL] KIND ID...",
            help="run RUN_ID | artifact ID | step RUN_ID RECORD_ID | entry STREAM SEQ",
        ),
    ],
    workspace: Workspace = DEFAULT_WORKSPACE,
    json: Json = False,
) -> None:
    """Show one record, read and checked through its store, as indented JSON."""
    out = Output(json_mode=json)

    async def main() -> dict[str, Any]:
        url, rest = split_url(args, at_most=3)
        if not rest or rest[0] not in SHOW_KINDS or len(rest) != 1 + SHOW_KINDS[rest[0]]:
            raise InvalidInputError(
                "show KIND ID...: run RUN_ID | artifact ID | step RUN_ID RECORD_ID | "
                "entry STREAM SEQ"
            )
        async with open_stores(url, workspace=workspace) as stores:
            await require_workspace(stores.bucket, stores.workspace)
            return await _find(stores, rest[0], rest[1:])

    record = execute(out, main())

    def human() -> None:
        import orjson

        text = orjson.dumps(record, option=orjson.OPT_INDENT_2).decode()
        if out.terminal:
            out.console.print(JSON(text))  # highlighted, never read as markup
        else:
            sys.stdout.write(text + "\n")

    out.result(record, human)


@app.command()
def cat(
    args: Annotated[
        list[str],
        typer.Argument(metavar="[URL] KEY", help="a key as `ls URL keys` lists it"),
    ],
    json: Json = False,
) -> None:
    """Print one object's stored bytes exactly.

    With --json: its key, size, version, content type, metadata and the bytes as text."""
    out = Output(json_mode=json)

    async def main() -> Any:
        url, rest = split_url(args, at_most=1)
        if not rest:
            raise ConfigurationError("cat needs a KEY (see `cloudstores ls URL keys`)")
        async with open_bucket(url) as bucket:
            return await bucket.get(rest[0])

    obj = execute(out, main())
    data = {
        "key": obj.key,
        "size": obj.size,
        "version": str(obj.version),
        "content_type": obj.content_type,
        "metadata": dict(obj.metadata),
        "text": obj.data.decode("utf-8", "replace"),
    }

    def raw() -> None:
        sys.stdout.buffer.write(obj.data)
        sys.stdout.flush()

    out.result(data, raw)
