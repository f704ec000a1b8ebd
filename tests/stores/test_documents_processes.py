"""Four processes x 50 concurrent increments of one document on moto: exactly 200."""

from __future__ import annotations

import asyncio
import itertools
import json
import os
import sys
from pathlib import Path
from typing import Any

import cloudstores

ROOT = Path(__file__).resolve().parents[2]


async def test_four_processes_increment_one_document(make_bucket_url: Any) -> None:
    url = make_bucket_url("s3")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), str(ROOT)])}
    procs = [
        await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "tests.stores.documents_worker",
            url,
            "50",
            cwd=ROOT,
            env=env,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        for _ in range(4)
    ]
    outputs = [await proc.communicate() for proc in procs]
    for proc, (out, err) in zip(procs, outputs, strict=True):
        assert proc.returncode == 0, err.decode()[-2000:]
        assert json.loads(out.decode().strip().splitlines()[-1])["done"] == 50
    async with cloudstores.open_stores(url, workspace="procs") as stores:
        docs = stores.documents("counters", fields={"n": "number"})
        hot = await docs.get("hot")
        assert hot.value == {"n": 200}
        history = await docs.history("hot")
        assert [d.version for d in history] == list(range(len(history)))
        # each version carries at least one increment, none is applied twice
        steps = [b.value["n"] - a.value["n"] for a, b in itertools.pairwise(history)]
        assert history[0].value["n"] >= 1 and all(step >= 1 for step in steps)
        assert (await docs.query(where={"n": 200})).documents[0].id == "hot"
