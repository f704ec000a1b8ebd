"""The demo script, end to end on the local-file backend (the command line: tests/cli/)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

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
    assert len(list((ws / "artifacts").glob("*.json"))) == 3
    assert len(list((ws / "runs").rglob("v/*.json"))) == 4
