"""Each command's happy path, as text and as --json, against real backends."""

from __future__ import annotations

import asyncio
import json
import os
from pathlib import Path
from typing import Any

import pytest

import cloudstores
from tests.cli.conftest import Run, as_json

BACKENDS = ["file", "s3"]


@pytest.mark.parametrize("backend", BACKENDS)
def test_ls_show_cat_reindex(backend: str, cli: Run, seeded: Any) -> None:
    url, run_id = seeded(backend)
    assert as_json(cli("ls", url, "--json")) == [{"workspace": "demo"}]
    plain = cli("ls", url, "runs", "-w", "demo")  # piped: plain lines, no box drawing
    assert plain.exit_code == 0 and run_id in plain.stdout and "│" not in plain.stdout
    assert plain.stdout.splitlines()[1].split("\t")[:2] == ["run_id", "status"]
    runs = as_json(cli("ls", url, "runs", "-w", "demo", "--json"))
    assert [r["run_id"] for r in runs] == [run_id] and runs[0]["status"] == "completed"
    arts = as_json(cli("ls", url, "artifacts", "-w", "demo", "--run", run_id, "--json"))
    assert sorted(a["task_id"] for a in arts) == ["draft", "plan", "search"]
    streams = as_json(cli("ls", url, "audit", "-w", "demo", "--json"))
    assert streams[0]["stream"] == "run-events" and streams[0]["size"] == 5
    stores = {s["store"] for s in as_json(cli("ls", url, "stores", "-w", "demo", "--json"))}
    assert {"artifacts", "audit", "runs"} <= stores

    shown = as_json(cli("show", url, "artifact", f"{run_id}.draft", "-w", "demo", "--json"))
    assert shown["lineage"]["derived_from"] == [f"{run_id}.search"]
    text = cli("show", url, "run", run_id, "-w", "demo")
    assert text.exit_code == 0 and json.loads(text.stdout)["completed_nodes"] == 3
    step = as_json(cli("show", url, "step", run_id, "draft-1", "-w", "demo", "--json"))
    assert step["task_id"] == "draft"
    entry = as_json(cli("show", url, "entry", "run-events", "4", "-w", "demo", "--json"))
    assert entry["event"]["event"] == "run_completed"

    keys = as_json(cli("ls", url, "keys", "-w", "demo", "--json", "--limit", "1000"))
    key = next(k["key"] for k in keys if k["key"].endswith(f"{run_id}.plan.json"))
    raw = cli("cat", url, key)
    assert raw.exit_code == 0 and raw.stdout_bytes.startswith(b"{") and run_id in raw.stdout
    assert as_json(cli("cat", url, key, "--json"))["size"] == len(raw.stdout_bytes)

    reindexed = as_json(cli("reindex", url, "-w", "demo", "--json"))
    assert [r["added"] for r in reindexed] == [0, 0]
    assert "added 0" in cli("reindex", url, "-w", "demo").stdout


def test_env_url_and_workspace(cli: Run, seeded: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    url, run_id = seeded("file")
    env = {"CLOUDSTORES_URL": url, "CLOUDSTORES_WORKSPACE": "demo"}
    runs = as_json(cli("ls", "runs", "--json", env=env))
    assert runs[0]["run_id"] == run_id
    assert cli("verify", "run-events", env=env).exit_code == 0
    monkeypatch.setenv("CLOUDSTORES_URL", url)
    monkeypatch.setenv("CLOUDSTORES_WORKSPACE", "demo")

    async def via_library() -> str:
        async with cloudstores.open_stores() as stores:
            return (await stores.executions.get_run(run_id)).run_id

    assert asyncio.run(via_library()) == run_id


def test_keygen_and_signatures(cli: Run, seeded: Any, tmp_path: Path) -> None:
    made = as_json(cli("keygen", str(tmp_path / "audit.pem"), "--json"))
    assert os.stat(made["private_key"]).st_mode & 0o777 == 0o600
    again = cli("keygen", str(tmp_path / "audit.pem"))
    assert again.exit_code == 2 and "never overwrites" in again.stderr
    url = f"file://{tmp_path / 'b'}"
    (tmp_path / "b").mkdir()
    demo = as_json(cli("demo", url, "--key", made["private_key"], "--json"))
    assert demo["workspace"] == "demo"

    keyless = cli("verify", url, "run-events", "-w", "demo")
    assert keyless.exit_code == 0, keyless.output
    assert "NOT verified: no key given" in keyless.stdout and "verified with" not in keyless.stdout
    report = as_json(cli("verify", url, "run-events", "-w", "demo", "--json"))
    assert report["signatures_verified"] is False and report["signature_key_ids"] == [
        made["key_id"]
    ]
    required = cli("verify", url, "run-events", "-w", "demo", "--require-signatures")
    assert required.exit_code == 2 and "NOT verified" in required.stdout

    keyed = cli("verify", url, "-w", "demo", "-k", made["public_key"], "--require-signatures")
    assert keyed.exit_code == 0, keyed.output
    assert f"verified with key ids [{made['key_id']}]" in keyed.stdout

    other = as_json(cli("keygen", str(tmp_path / "other.pem"), "--json"))
    wrong = cli("verify", url, "run-events", "-w", "demo", "-k", other["public_key"])
    assert wrong.exit_code == 1 and "a signature does not verify" in wrong.stdout


def test_unsigned_log_is_named(cli: Run, seeded: Any) -> None:
    url, _ = seeded("file")
    out = cli("verify", url, "run-events", "-w", "demo")
    assert out.exit_code == 0 and "signatures: unsigned log" in out.stdout
    required = cli("verify", url, "-w", "demo", "--require-signatures")
    assert required.exit_code == 2
