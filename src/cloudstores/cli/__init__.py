"""The ``cloudstores`` command line: look into a bucket's stores, verify, repair."""

from __future__ import annotations

from cloudstores.cli.app import app, main

__all__ = ["app", "main"]
