"""Two processes save the same audit ids at once (moto): each id is saved by exactly
one; the other gets SynthOrg's DuplicateRecordError. Then a third process that saves
an id already stored gets it too."""

from __future__ import annotations

import asyncio
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

from cloudstores.adapters.synthorg import BucketAuditRepository
from tests.adapters.synthorg.stubs import AuditEntry
from tests.adapters.synthorg.worker import IDS

ROOT = Path(__file__).resolve().parents[3]


async def _workers(url: str, names: list[str], start_at: float) -> dict[str, dict[str, str]]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), str(ROOT)])}
    procs = [
        await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "tests.adapters.synthorg.worker",
            url,
            name,
            str(start_at),
            cwd=ROOT,
            env=env,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        for name in names
    ]
    answers: dict[str, dict[str, str]] = {}
    for name, proc in zip(names, procs, strict=True):
        out, err = await proc.communicate()
        assert proc.returncode == 0, err.decode()[-2000:]
        answers[name] = json.loads(out.decode().strip().splitlines()[-1])
    return answers


async def test_duplicate_ids_across_processes(make_bucket_url: Any) -> None:
    url = make_bucket_url("s3")
    answers = await _workers(url, ["p0", "p1"], time.time() + 6)
    winners: dict[str, str] = {}
    for entry_id in IDS:
        said = {name: answers[name][entry_id] for name in answers}
        assert sorted(said.values()) == ["duplicate", "saved"], said
        winners[entry_id] = next(n for n, s in said.items() if s == "saved")
    late = await _workers(url, ["p2"], 0)  # a later process: every id is taken
    assert set(late["p2"].values()) == {"duplicate"}
    async with BucketAuditRepository.from_url(url, workspace="race", model=AuditEntry) as repo:
        stored = await repo.query()
        assert sorted(e.id for e in stored) == sorted(IDS)
        assert {e.id: e.agent_id for e in stored} == winners
        assert (await repo.verify()).ok
