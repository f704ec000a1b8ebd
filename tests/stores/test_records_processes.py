"""Four processes append the same ids at once (moto): each id is stored once; the others
get the stored record back when theirs is identical, AlreadyExistsError when it is not."""

from __future__ import annotations

import asyncio
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

import cloudstores
from tests.stores.records_worker import FIELDS, IDS, record

ROOT = Path(__file__).resolve().parents[2]
NAMES = ("p0", "p1", "p2", "p3")


async def test_four_processes_append_the_same_ids(make_bucket_url: Any) -> None:
    url = make_bucket_url("s3")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), str(ROOT)])}
    start_at = time.time() + 8  # after the four interpreters have started
    procs = [
        await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "tests.stores.records_worker",
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
    answers: dict[str, dict[str, Any]] = {}
    for name, proc in zip(NAMES, procs, strict=True):
        out, err = await proc.communicate()
        assert proc.returncode == 0, err.decode()[-2000:]
        answers[name] = json.loads(out.decode().strip().splitlines()[-1])
    async with cloudstores.open_stores(url, workspace="race") as stores:
        orders = stores.records("orders", fields=FIELDS)
        for i, rid in enumerate(IDS):
            stored = await orders.get(rid)
            said = [answers[name][rid] for name in NAMES]
            if i % 2 == 0:  # identical everywhere: every process got the stored record
                assert said == [record("x", i)] * 4 == [stored.value] * 4
            else:  # one winner; the three others were refused
                winners = [name for name in NAMES if answers[name][rid] != "taken"]
                assert len(winners) == 1, said
                assert stored.value == record(winners[0], i) == answers[winners[0]][rid]
        page = await orders.query()
        assert sorted(r.id for r in page.records) == sorted(IDS)
        assert await orders.count() == len(IDS)
        assert not orders.index.problems and not orders.index_mismatches
