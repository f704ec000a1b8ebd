"""Fixtures of the DIR adapter tests, and the guard of their own job.

dir-core needs Python >= 3.12: on the main (3.11) run every module here skips itself
("runs in the 3.12 job"); ``make pytest-dir`` runs exactly these tests in ``.venv312``
with ``CLOUDSTORES_DIR_JOB=1``, and then a skipped test, or none run, fails the job.
"""

from __future__ import annotations

import os
import sys
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

DIR_JOB = os.environ.get("CLOUDSTORES_DIR_JOB") == "1"
SKIP_REASON = "dir-core needs Python >= 3.12: runs in the 3.12 job (make pytest-dir)"
ON_312 = sys.version_info >= (3, 12)
_outcomes: dict[str, int] = {"passed": 0, "skipped": 0}


def pytest_configure(config: pytest.Config) -> None:
    if DIR_JOB and not ON_312:
        raise pytest.UsageError("CLOUDSTORES_DIR_JOB=1 needs Python >= 3.12 (.venv312)")


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if report.when == "call" and report.passed:
        _outcomes["passed"] += 1
    elif report.skipped:
        _outcomes["skipped"] += 1


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    # Under xdist each worker counts its own; the controller sees every report.
    controller = not hasattr(session.config, "workerinput")
    missing = _outcomes["skipped"] or not _outcomes["passed"]
    if DIR_JOB and controller and exitstatus == 0 and missing:
        session.exitstatus = 1
        print(f"\nDIR job: {_outcomes} - nothing may be skipped or missing here")


@pytest.fixture(params=["memory", "s3"])
def dir_url(request: pytest.FixtureRequest, make_bucket_url: Any) -> str:
    """A fresh bucket URL on memory and on moto (S3)."""
    return str(make_bucket_url(request.param))


@pytest.fixture
def bundle(dir_url: str) -> Iterator[Any]:
    from cloudstores.adapters.dir_core import bucket_storage

    storage = bucket_storage(dir_url, workspace=f"w-{uuid.uuid4().hex[:8]}")
    yield storage
    storage.close()
