"""What the sync API and per-invocation event loops cost, in CPU, on this machine.

    PYTHONPATH=src python -m benchmarks.sync_overhead

1. One thread hop per sync call: 2,000 ``get`` on a memory bucket, async vs sync vs
   sync from 8 threads, in process CPU time per call (wall time on a shared machine is
   noise); requests are identical, the difference is the hop.
2. Re-making the S3 client in a new event loop (``asyncio.run`` per invocation): CPU
   of ``S3Driver.open`` with a fresh aioboto3 session each time vs the kept one.
"""

from __future__ import annotations

import asyncio
import os
import time
from concurrent.futures import ThreadPoolExecutor

import cloudstores
from cloudstores import sync
from cloudstores.bucket.s3 import S3Driver

N = 2000


async def _async_gets() -> float:
    async with cloudstores.open_bucket("memory://bench-async") as bucket:
        await bucket.put("k", b"x")
        started = time.process_time()
        for _ in range(N):
            await bucket.get("k")
        return (time.process_time() - started) / N


def hop() -> None:
    a = asyncio.run(_async_gets())
    with sync.open_bucket("memory://bench-sync") as bucket:
        bucket.put("k", b"x")
        started = time.process_time()
        for _ in range(N):
            bucket.get("k")
        s = (time.process_time() - started) / N
        started = time.process_time()
        with ThreadPoolExecutor(8) as pool:
            list(pool.map(lambda _: bucket.get("k"), range(N)))
        p = (time.process_time() - started) / N
        requests = dict(bucket.requests)
    print(
        f"memory get x{N}: async {a * 1e6:.0f} us CPU/call, sync {s * 1e6:.0f} us CPU/call "
        f"(+{(s - a) * 1e6:.0f} us per hop), sync from 8 threads {p * 1e6:.0f} us CPU/call; "
        f"requests {requests}"
    )


def reopen() -> None:
    os.environ.setdefault("AWS_ACCESS_KEY_ID", "bench")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "bench")
    driver = S3Driver("bkt", region="us-east-1", endpoint_url="http://127.0.0.1:9")

    async def once(keep_session: bool) -> float:
        if not keep_session:
            driver._session = None
        started = time.process_time()
        await driver.open()
        spent = time.process_time() - started
        await driver.close()
        return spent

    for keep in (False, True):
        cpu = [asyncio.run(once(keep)) for _ in range(6)]
        label = "kept session" if keep else "new session "
        print(f"S3 client open per asyncio.run, {label}: CPU s {[round(c, 3) for c in cpu]}")


if __name__ == "__main__":
    hop()
    reopen()
