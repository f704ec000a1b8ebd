"""4 processes race on the same unique keys of one stream on moto: each key appears
exactly once, every process gets the same entry for an identical event, one process
wins each key whose events differ, and the stream verifies."""

from __future__ import annotations

import asyncio
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

import cloudstores
from cloudstores.stores.audit import AuditStore
from tests.stores.audit_keys_worker import STREAM

ROOT = Path(__file__).resolve().parents[2]


async def test_4_processes_race_on_the_same_keys(make_bucket_url: Any) -> None:
    url = make_bucket_url("s3")
    count, workers = 12, 4
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), str(ROOT)])}
    start_at = time.time() + 4
    procs = [
        await asyncio.create_subprocess_exec(
            sys.executable, "-m", "tests.stores.audit_keys_worker",
            url, str(w), str(count), str(start_at),
            cwd=ROOT, env=env,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        )
        for w in range(workers)
    ]  # fmt: skip
    outputs = [await proc.communicate() for proc in procs]
    results = []
    for proc, (out, err) in zip(procs, outputs, strict=True):
        assert proc.returncode == 0, err.decode()[-3000:]
        results.append(json.loads(out.decode().strip().splitlines()[-1]))
    for i in range(count):
        seen = {tuple(r["same"][f"same-{i}"]) for r in results}
        assert len(seen) == 1, (i, seen)  # every process got the one entry
    winners = [k for r in results for k in r["mine"]]
    assert sorted(winners) == sorted(f"mine-{i}" for i in range(count))
    assert sum(r["refused"] for r in results) == (workers - 1) * count
    async with cloudstores.open_bucket(url) as bucket, AuditStore(bucket) as audit:
        report = await audit.verify(STREAM)
        assert report.ok, report.summary()
        keys = [e.key async for e in audit.read(STREAM) if e.key is not None]
        assert sorted(keys) == sorted([f"same-{i}" for i in range(count)] + winners)
        for r in results:
            for key, (seq, digest) in {**r["same"], **r["mine"]}.items():
                entry = await audit.get(STREAM, seq)
                assert (entry.key, entry.hash) == (key, digest)
