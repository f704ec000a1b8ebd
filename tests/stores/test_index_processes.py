"""Two processes add and compact one index at once (moto): both see every entry."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from pathlib import Path
from typing import Any

import cloudstores
from cloudstores.stores.index import Index
from tests.stores.index_worker import OPTIONS, PREFIX, SCHEMA

ROOT = Path(__file__).resolve().parents[2]


async def test_two_processes_add_and_compact_at_once(make_bucket_url: Any) -> None:
    url = make_bucket_url("s3")
    count = 90
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), str(ROOT)])}
    procs = [
        await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "tests.stores.index_worker",
            url,
            name,
            str(count),
            str(2 * count),
            cwd=ROOT,
            env=env,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        for name in ("one", "two")
    ]
    outputs = [await proc.communicate() for proc in procs]
    expected = sorted(f"{name}-{i:04d}" for name in ("one", "two") for i in range(count))
    for proc, (out, err) in zip(procs, outputs, strict=True):
        assert proc.returncode == 0, err.decode()[-2000:]
        result = json.loads(out.decode().strip().splitlines()[-1])
        assert result["keys"] == expected
        assert result["problems"] == []
    async with cloudstores.open_bucket(url) as bucket:
        cold = Index(bucket, PREFIX, SCHEMA, options=OPTIONS)
        assert sorted(e.key for e in (await cold.query()).entries) == expected
        assert await cold.count(where={"who": "two"}) == count
        assert cold.manifest is not None and cold.manifest.n >= 2
