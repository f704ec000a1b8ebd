"""The demo script and the command line, end to end on the local-file backend."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from typer.testing import CliRunner

from cloudstores.cli import app

REPO = Path(__file__).resolve().parents[1]


def run_demo(tmp_path: Path) -> str:
    url = f"file://{tmp_path / 'bucket'}"
    out = subprocess.run(
        [sys.executable, str(REPO / "examples" / "demo.py"), "--url", url],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    return out.stdout


def test_demo_stores_a_run_and_verifies_its_log(tmp_path: Path) -> None:
    stdout = run_demo(tmp_path)
    assert "verify run-events: OK" in stdout
    assert "completed" in stdout and "Where it lies" in stdout
    ws = tmp_path / "bucket" / "ws" / "demo"
    assert len(list((ws / "artifacts").glob("*.json"))) == 5
    assert len(list((ws / "runs").rglob("v/*.json"))) == 6


def test_cli_show_verify_reindex(tmp_path: Path) -> None:
    run_demo(tmp_path)
    url = f"file://{tmp_path / 'bucket'}"
    runner = CliRunner()
    shown = runner.invoke(app, ["show", url, "--workspace", "demo"])
    assert shown.exit_code == 0, shown.output
    assert "Runs in workspace" in shown.output and "run-events: 7 entries" in shown.output
    verified = runner.invoke(app, ["verify", url, "run-events", "-w", "demo"])
    assert verified.exit_code == 0, verified.output
    reindexed = runner.invoke(app, ["reindex", url, "-w", "demo"])
    assert reindexed.exit_code == 0 and "added 0" in reindexed.output
    # tamper with one audit entry on disk: verify now fails with exit code 1
    entry = sorted((tmp_path / "bucket" / "ws" / "demo" / "audit").rglob("e/*.json"))[2]
    raw = entry.read_bytes()
    entry.write_bytes(raw.replace(b"step_completed", b"step_complete!", 1))
    tampered = runner.invoke(app, ["verify", url, "run-events", "-w", "demo"])
    assert tampered.exit_code == 1, tampered.output
    assert "PROBLEMS FOUND" in tampered.output
    bad = runner.invoke(app, ["show", url, "--workspace", "../demo"])
    assert bad.exit_code == 2 and "workspace" in bad.output
