"""Two processes apply reputation deltas to the same agent at once (moto): none is lost."""

from __future__ import annotations

import asyncio
import os
import sys
import time
from pathlib import Path
from typing import Any

from cloudstores.adapters.dynabots import BucketReputationStore
from cloudstores.adapters.dynabots.reputation import FIELDS
from tests.adapters.dynabots.reputation_worker import DELTAS, SHARED

ROOT = Path(__file__).resolve().parents[3]
NAMES = ("p0", "p1")


async def test_concurrent_deltas_from_two_processes_are_never_lost(make_bucket_url: Any) -> None:
    url = make_bucket_url("s3")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), str(ROOT)])}
    start_at = time.time() + 8  # after both interpreters have started
    procs = [
        await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "tests.adapters.dynabots.reputation_worker",
            url,
            name,
            str(start_at),
            cwd=ROOT,
            env=env,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        for name in NAMES
    ]
    for proc in procs:
        out, err = await proc.communicate()
        assert proc.returncode == 0, err.decode()[-2000:]
        assert out.decode().strip().endswith("done")
    async with BucketReputationStore.from_url(url, workspace="race") as fresh:
        each = sum(DELTAS)
        assert await fresh.get_reputation(*SHARED) == 0.5 + len(NAMES) * each
        board = await fresh.get_leaderboard(SHARED[1])
        assert {row["agent_name"]: (row["score"], row["updates"]) for row in board} == {
            SHARED[0]: (0.5 + len(NAMES) * each, len(NAMES) * len(DELTAS)),
            **{name: (0.5 + each, len(DELTAS)) for name in NAMES},
        }
        records = fresh.stores.records(fresh.collection, fields=FIELDS, partition="domain")
        assert not records.index_mismatches and not records.index.problems
