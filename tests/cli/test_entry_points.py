"""The command as users start it: the console script, ``python -m``, a missing extra."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import cloudstores

SRC = str(Path(cloudstores.__file__).resolve().parents[1])
ENV = {**os.environ, "PYTHONPATH": SRC, "COLUMNS": "120"}


def run(*argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(argv, capture_output=True, text=True, env=ENV, timeout=120)


def test_console_script_and_python_m(seeded: Any) -> None:
    script = Path(sys.executable).with_name("cloudstores")
    version = run(str(script), "--version")
    assert (
        version.returncode == 0
        and version.stdout.strip() == f"cloudstores {cloudstores.__version__}"
    )
    url, _ = seeded("file")
    clean = run(sys.executable, "-m", "cloudstores", "verify", url, "run-events", "-w", "demo")
    assert clean.returncode == 0 and "run-events: OK" in clean.stdout, clean.stderr
    missing = run(sys.executable, "-m", "cloudstores", "verify", url, "nope", "-w", "demo")
    assert missing.returncode == 2 and missing.stderr.count("\n") == 1, missing.stderr


BLOCK_TYPER = """
import sys
class Block:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in ("typer", "rich"):
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
sys.meta_path.insert(0, Block())
sys.argv = ["cloudstores", "--version"]
import cloudstores  # the library itself needs neither
from cloudstores.cli import main
main()
"""


def test_missing_cli_extra_says_how_to_install() -> None:
    done = run(sys.executable, "-c", BLOCK_TYPER)
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [
        "error: the cloudstores command needs its extra: pip install 'cloudstores[cli]' "
        "(missing: typer)"
    ]
