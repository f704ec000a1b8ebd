"""A process of test_audit_keys_processes: append the same unique keys as the others.

    python -m tests.stores.audit_keys_worker URL WORKER KEYS START_AT

Keys ``same-{i}`` carry the same event in every process (idempotent); keys ``mine-{i}``
carry this worker's own event (one process wins, the others get AlreadyExistsError).
Prints ``{"same": {key: [seq, hash]}, "mine": {key: [seq, hash]}, "refused": n}``.
"""

from __future__ import annotations

import asyncio
import json
import random
import sys
import time

import cloudstores
from cloudstores.errors import AlreadyExistsError
from cloudstores.stores.audit import AuditOptions, AuditStore

OPTIONS = AuditOptions(checkpoint_every=25, checkpoint_interval=None)
STREAM = "keyed"
FAST = cloudstores.RetryConfig(initial_backoff=0.005, max_backoff=0.1)
"""moto answers racing conditional PUTs with 409 ConditionalRequestConflict, which is
retried: keep the backoff short so the test stays quick."""


async def main(url: str, worker: int, count: int, start_at: float) -> None:
    rng = random.Random(worker)
    jobs = [("same", i) for i in range(count)] + [("mine", i) for i in range(count)]
    rng.shuffle(jobs)
    same: dict[str, list[object]] = {}
    mine: dict[str, list[object]] = {}
    refused = 0
    async with (
        cloudstores.open_bucket(url, retry=FAST) as bucket,
        AuditStore(bucket, options=OPTIONS) as audit,
    ):
        await audit.head(STREAM)
        await asyncio.sleep(max(0.0, start_at - time.time()))

        async def run(part: list[tuple[str, int]]) -> None:
            nonlocal refused
            for kind, i in part:
                key = f"{kind}-{i}"
                event = {"i": i} if kind == "same" else {"i": i, "by": worker}
                try:
                    entry = await audit.append(STREAM, event, key=key)
                except AlreadyExistsError:
                    refused += 1
                    continue
                (same if kind == "same" else mine)[key] = [entry.seq, entry.hash]
                if i % 4 == 0:
                    await audit.append(STREAM, {"plain": i, "by": worker})

        await asyncio.gather(*(run(jobs[t::4]) for t in range(4)))
    print(json.dumps({"same": same, "mine": mine, "refused": refused}))


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4])))
