"""orc-arena's own 81 tests (from its sdist), run with our reputation store injected.

The sdist is downloaded once into ``.cache/sdists`` (git-ignored) with pip. Its root
bundles a copy of ``dynabots_core`` and its conftest puts the directory above
``tests/`` first on ``sys.path``: so only ``tests/`` is copied, under another name, into
a temporary directory, and the installed ``dynabots_core`` and ``orc`` are the ones
imported (the plugin's report names their files, checked below).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
CACHE = ROOT / ".cache" / "sdists"
SDIST = "orc_arena-0.1.1"
EXPECTED_TESTS = 81
PIP_DOWNLOAD = (sys.executable, "-m", "pip", "download", "--quiet", "--disable-pip-version-check")
PIP_DOWNLOAD += ("--no-deps", "--no-binary", ":all:")
PYTEST = (sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:xdist")
PYTEST += ("-c", os.devnull, "-o", "asyncio_mode=auto")
PYTEST += ("-o", "asyncio_default_fixture_loop_scope=function")
PLUGIN = "tests.adapters.dynabots.orc_plugin"


def sdist() -> Path:
    """The cached sdist, downloaded first if missing (atomically: xdist workers race)."""
    target = CACHE / f"{SDIST}.tar.gz"
    if target.exists():
        return target
    CACHE.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=CACHE) as tmp:
        subprocess.run(
            [*PIP_DOWNLOAD, "orc-arena==0.1.1", "-d", tmp],
            check=True,
            timeout=240,
        )
        os.replace(Path(tmp) / target.name, target)
    return target


def test_orc_arena_suite_passes_with_our_reputation_store(tmp_path: Path) -> None:
    with tarfile.open(sdist()) as archive:
        archive.extractall(tmp_path / "sdist", filter="data")
    suite = tmp_path / "suite" / "orc_tests"
    shutil.copytree(tmp_path / "sdist" / SDIST / "tests", suite)
    report_path = tmp_path / "report.json"
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), str(ROOT)]),
        "ORC_PLUGIN_REPORT": str(report_path),
    }
    done = subprocess.run(
        [*PYTEST, "-p", PLUGIN, "--rootdir", str(suite.parent), str(suite)],
        cwd=suite.parent,
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
    )
    tail = done.stdout[-3000:] + done.stderr[-2000:]
    assert done.returncode == 0, tail
    assert f"{EXPECTED_TESTS} passed" in done.stdout, tail
    report = json.loads(report_path.read_text())
    print(report)
    # the installed packages, not the sdist's bundled copies
    for module in report["modules"].values():
        assert str(tmp_path) not in module, report["modules"]
    assert report["read_back_wrong"] == []
    assert report["calls"]["update_reputation"] > 0
    assert report["calls"]["update_reputation"] == report["deltas"]


if __name__ == "__main__":  # pragma: no cover
    pytest.main([__file__, "-s"])
