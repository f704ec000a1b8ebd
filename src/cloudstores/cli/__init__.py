"""The ``cloudstores`` command line: look into a bucket's stores, verify, copy, repair.

It needs the ``cli`` extra (typer and rich), which serverless bundles leave out. Without
it, :func:`main` prints one line saying how to install it and exits with status 2.
"""

from __future__ import annotations

import sys
from typing import Any

__all__ = ["INSTALL_HINT", "app", "main"]

INSTALL_HINT = "the cloudstores command needs its extra: pip install 'cloudstores[cli]'"


def main() -> None:
    """The console script (and ``python -m cloudstores``)."""
    try:
        from cloudstores.cli.commands import app
    except ImportError as exc:
        if exc.name not in ("typer", "rich", "click") and not str(exc.name).startswith(
            ("typer.", "rich.", "click.")
        ):
            raise
        print(f"error: {INSTALL_HINT} (missing: {exc.name})", file=sys.stderr)
        raise SystemExit(2) from None
    app()


def __getattr__(name: str) -> Any:
    if name == "app":
        from cloudstores.cli.commands import app

        return app
    raise AttributeError(name)
