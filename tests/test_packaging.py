"""The sdist and the wheel, as `python -m build` makes them (make package adds twine check).

The sdist must carry the tests and what they read, and be able to run them; the wheel's
metadata must carry the SPDX license expression, the license file and the Project-URLs.
One build (sdist, then the wheel from the sdist) for the module: a few seconds.
"""

from __future__ import annotations

import email
import subprocess
import sys
import tarfile
import zipfile
from email.message import Message
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
NAME = "cloudstores-0.1.0"
TEST = "tests/stores/test_group_commit.py"  # quick, and needs no emulator


@pytest.fixture(scope="module")
def dist(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    subprocess.run(
        [sys.executable, "-m", "build", "--no-isolation", "--outdir", str(out), str(REPO)],
        capture_output=True,
        check=True,
        timeout=300,
    )
    return out


def _sdist_names(dist: Path) -> set[str]:
    (sdist,) = dist.glob("*.tar.gz")
    with tarfile.open(sdist) as tar:
        return {name.removeprefix(NAME + "/") for name in tar.getnames()}


def _wheel_metadata(dist: Path) -> tuple[Message, set[str]]:
    (wheel,) = dist.glob("*.whl")
    with zipfile.ZipFile(wheel) as whl:
        names = set(whl.namelist())
        meta = email.message_from_bytes(whl.read(f"{NAME}.dist-info/METADATA"))
    return meta, names


def test_sdist_carries_the_tests_and_what_they_read(dist: Path) -> None:
    if not (REPO / ".git").exists():
        pytest.skip("not a git checkout (run from an sdist): nothing to compare with")
    names = _sdist_names(dist)
    tracked = subprocess.run(
        ["git", "ls-files", "tests", "terraform", "verifiers", "docs", "benchmarks", "examples"],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    assert tracked, "git ls-files found nothing"
    missing = sorted(set(tracked) - names)
    assert not missing, f"tracked files missing from the sdist: {missing[:10]}"
    for name in (
        "LICENSE",
        "CHANGELOG.md",
        "README.md",
        "Makefile",
        "mkdocs.yml",
        "package.json",
        "package-lock.json",
        "scripts/terraform_checks.sh",
        "scripts/mkdocs_hooks.py",
        "src/cloudstores/py.typed",
    ):
        assert name in names, name
    assert not [n for n in names if n.endswith(".pyc") or "/.terraform/" in n]


def test_sdist_runs_its_tests(dist: Path, tmp_path: Path) -> None:
    (sdist,) = dist.glob("*.tar.gz")
    with tarfile.open(sdist) as tar:
        tar.extractall(tmp_path, filter="data")
    root = tmp_path / NAME
    out = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-n", "0", TEST],
        cwd=root,
        env={"PYTHONPATH": str(root / "src"), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert out.returncode == 0, out.stdout[-2000:] + out.stderr[-2000:]
    assert " passed" in out.stdout


def test_wheel_metadata_license_and_urls(dist: Path) -> None:
    meta, names = _wheel_metadata(dist)
    assert meta["Metadata-Version"] >= "2.4"
    assert meta["License-Expression"] == "Apache-2.0"
    assert meta.get_all("License-File") == ["LICENSE"]
    assert not [c for c in meta.get_all("Classifier") or [] if c.startswith("License ::")]
    urls = dict(u.split(", ", 1) for u in meta.get_all("Project-URL") or [])
    assert {"Homepage", "Documentation", "Repository", "Issues", "Changelog"} <= set(urls)
    assert all(u.startswith("https://") for u in urls.values())
    assert any(n.endswith(".dist-info/licenses/LICENSE") for n in names)
    assert "cloudstores/py.typed" in names
    assert not [n for n in names if n.startswith("tests/")]
