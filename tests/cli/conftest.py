"""Helpers for the command-line tests: run the command in-process, seed a bucket."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner, Result

from cloudstores.cli import app
from cloudstores.cli.demo import run_demo
from cloudstores.stores.audit import Ed25519Signer

Run = Callable[..., Result]


@pytest.fixture
def cli(monkeypatch: pytest.MonkeyPatch) -> Run:
    """``cli("ls", url, ...)``: the command in-process; ``.stdout``, ``.stderr``, exit code."""
    monkeypatch.delenv("CLOUDSTORES_URL", raising=False)
    monkeypatch.delenv("CLOUDSTORES_WORKSPACE", raising=False)
    runner = CliRunner()

    def run(*args: str, env: Mapping[str, str | None] | None = None) -> Result:
        return runner.invoke(app, list(args), env=env)

    return run


def as_json(result: Result) -> Any:
    assert result.exit_code in (0, 1), result.output
    return json.loads(result.stdout)


@pytest.fixture
def signer(tmp_path: Path) -> Ed25519Signer:
    return Ed25519Signer.generate()


@pytest.fixture
def seeded(make_bucket_url: Any, request: pytest.FixtureRequest) -> Callable[..., tuple[str, str]]:
    """``seeded(backend, signer=None)`` -> (url, run_id): a bucket with one demo run in
    workspace ``demo``."""

    def make(backend: str, signer: Ed25519Signer | None = None) -> tuple[str, str]:
        url = str(make_bucket_url(backend))
        run_id = asyncio.run(run_demo(url, workspace="demo", signer=signer))
        return url, run_id

    return make
