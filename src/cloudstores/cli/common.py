"""What every command shares: the typer app, the URL and workspace arguments, and
the one place errors become one line and exit status 2."""

from __future__ import annotations

import asyncio
import logging
import os
import sys
from collections.abc import Coroutine
from dataclasses import dataclass
from typing import Annotated, Any, TypeVar

import typer

from cloudstores import __version__
from cloudstores.bucket import Bucket
from cloudstores.cli.output import Output
from cloudstores.errors import ConfigurationError, NotFoundError
from cloudstores.keys import DEFAULT_WORKSPACE, validate_workspace, workspace_prefix
from cloudstores.stores.layout import WORKSPACES

__all__ = [
    "URL_ENV",
    "WORKSPACE_ENV",
    "Json",
    "Workspace",
    "app",
    "execute",
    "list_workspaces",
    "require_workspace",
    "split_url",
]

T = TypeVar("T")
URL_ENV = "CLOUDSTORES_URL"
WORKSPACE_ENV = "CLOUDSTORES_WORKSPACE"

app = typer.Typer(
    help=(
        "Look into cloudstores buckets (runs, artifacts, audit logs), verify audit logs, "
        "copy between backends.\n\nURL is a bucket URL (file:///dir, s3://bucket/prefix, "
        f"az://container/prefix, gs://bucket/prefix); it may be left out when {URL_ENV} is set."
    ),
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

Workspace = Annotated[
    str,
    typer.Option("--workspace", "-w", envvar=WORKSPACE_ENV, help="workspace name"),
]
Json = Annotated[bool, typer.Option("--json", help="print one JSON document")]


@dataclass
class _State:
    debug: bool = False


STATE = _State()


def _version(value: bool) -> None:
    if value:
        typer.echo(f"cloudstores {__version__}")
        raise typer.Exit()


@app.callback()
def root(
    debug: Annotated[
        bool,
        typer.Option("--debug", envvar="CLOUDSTORES_DEBUG", help="show tracebacks on errors"),
    ] = False,
    version: Annotated[
        bool,
        typer.Option("--version", callback=_version, is_eager=True, help="print the version"),
    ] = False,
) -> None:
    """cloudstores: immutable stores for agent artifacts, audit logs and run records."""
    STATE.debug = debug
    _log_to_stderr(debug)


class _Stderr(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to whatever ``sys.stderr`` is now (a test runner swaps it per command)."""

    @property
    def stream(self) -> Any:
        return sys.stderr

    @stream.setter
    def stream(self, value: Any) -> None:
        pass


_HANDLER = _Stderr()
_HANDLER.setFormatter(logging.Formatter("%(name)s: %(message)s"))


def _log_to_stderr(debug: bool) -> None:
    """Our retry lines (logger ``cloudstores``) on stderr; the SDKs' own chatter (Azure
    identity prints a page per failed credential) only with ``--debug``."""
    ours = logging.getLogger("cloudstores")
    if _HANDLER not in ours.handlers:
        ours.addHandler(_HANDLER)
    ours.setLevel(logging.DEBUG if debug else logging.WARNING)
    ours.propagate = False
    for name in ("azure", "botocore", "aiobotocore", "google", "urllib3"):
        logging.getLogger(name).setLevel(logging.DEBUG if debug else logging.CRITICAL)


def split_url(args: list[str] | None, *, at_most: int) -> tuple[str, list[str]]:
    """``[URL] REST...`` -> (url, rest). A URL always holds ':' or '/', which no stream,
    kind or id may hold, so leaving it out (and using $CLOUDSTORES_URL) is unambiguous."""
    args = list(args or [])
    if args and (":" in args[0] or "/" in args[0]):
        url, rest = args[0], args[1:]
    else:
        url, rest = os.environ.get(URL_ENV, ""), args
        if not url:
            raise ConfigurationError(
                f"no bucket URL: give one (file:///dir, s3://bucket/prefix, ...) or set {URL_ENV}"
            )
    if len(rest) > at_most:
        raise ConfigurationError(f"too many arguments: {' '.join(rest)}")
    return url, rest


async def list_workspaces(bucket: Bucket) -> list[str]:
    """Workspace names, sorted: one LIST request per workspace (each skips past the last)."""
    names: list[str] = []
    after: str | None = None
    while True:
        first = None
        async for info in bucket.list(WORKSPACES, start_after=after):
            first = info.key
            break
        if first is None:
            return names
        name = first[len(WORKSPACES) :].split("/", 1)[0]
        names.append(name)
        after = f"{WORKSPACES}{name}0"  # '0' sorts right after '/': skips every key of `name`


async def require_workspace(bucket: Bucket, workspace: str) -> None:
    """NotFoundError naming the workspaces there if ``workspace`` holds nothing (1 LIST)."""
    async for _ in bucket.list(workspace_prefix(workspace)):
        return
    known = await list_workspaces(bucket)
    raise NotFoundError(
        f"workspace {workspace!r} not found at {bucket.url} "
        f"(workspaces there: {', '.join(known) if known else 'none'})"
    )


def execute(out: Output, coro: Coroutine[Any, Any, T]) -> T:
    """Run ``coro``; any failure becomes one line on stderr and exit status 2
    (the traceback too with ``--debug``)."""
    try:
        return asyncio.run(coro)
    except typer.Exit:
        raise
    except KeyboardInterrupt:
        out.error("interrupted (copy and reindex resume where they stopped when run again)")
        raise typer.Exit(130) from None
    except Exception as exc:
        if STATE.debug:
            raise
        message = getattr(exc, "message", None) or str(exc) or type(exc).__name__
        if not isinstance(exc, (ConfigurationError, NotFoundError)):
            message = f"{type(exc).__name__}: {message}"
        out.error(" ".join(str(message).split()))
        raise typer.Exit(2) from None


def check_workspace(workspace: str) -> str:
    return validate_workspace(workspace or DEFAULT_WORKSPACE)
