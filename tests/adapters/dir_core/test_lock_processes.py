"""``acquire_batch`` is a check-and-set across processes: four processes race DIR's
ResourceLockManager for 4 of a capacity of 10 on moto (S3); exactly two may win.
(DIR's own backends cannot pass this: memory is per process, and SQLite's manager check
runs outside its ``BEGIN IMMEDIATE`` write, and its one row per resource replaces the
previous holder, so every racer would get ACQUIRED.)"""

from __future__ import annotations

import sys

import pytest

from tests.adapters.dir_core.conftest import SKIP_REASON

if sys.version_info < (3, 12):
    pytest.skip(SKIP_REASON, allow_module_level=True)

import os
import subprocess
from pathlib import Path
from typing import Any

from cloudstores.adapters.dir_core import BucketResourceLockStorage

ROOT = Path(__file__).resolve().parents[3]
WORKERS = 4


def test_racing_processes_never_overbook(make_bucket_url: Any, tmp_path: Path) -> None:
    url = make_bucket_url("s3")
    env = {**os.environ, "PYTHONPATH": f"{ROOT / 'src'}{os.pathsep}{ROOT}"}
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "tests.adapters.dir_core.lock_worker", url, f"flow-{i}",
             "4", str(tmp_path), str(WORKERS)],
            cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )
        for i in range(WORKERS)
    ]  # fmt: skip
    results = []
    for proc in procs:
        out, err = proc.communicate(timeout=240)
        assert proc.returncode == 0, err[-2000:]
        results.append(out.strip())
    assert sorted(results) == ["ACQUIRED"] * 2 + ["INSUFFICIENT_LIQUIDITY"] * 2, results
    check = BucketResourceLockStorage.from_url(url, workspace="race")
    try:
        assert check.get_locked_amount("cash", "nobody") == 8.0
    finally:
        check.close()
