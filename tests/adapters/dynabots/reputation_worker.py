"""A process of test_reputation_processes: apply this process's deltas at once.

    python -m tests.adapters.dynabots.reputation_worker URL NAME START_AT

Every process adds the same DELTAS to one shared (agent, domain) and to its own agent,
all concurrently, starting at START_AT (a time.time()), then prints "done".
"""

from __future__ import annotations

import asyncio
import sys
import time

from cloudstores.adapters.dynabots import BucketReputationStore

# Multiples of 1/64: every sum is exact, whatever order the deltas are added in.
DELTAS = [(-1) ** i * (i + 1) / 64 for i in range(12)]
SHARED = ("Warlord", "data")


async def main(url: str, name: str, start_at: float) -> None:
    async with BucketReputationStore.from_url(url, workspace="race") as store:
        await store.get_reputation(*SHARED)  # warm the index before the start line
        await asyncio.sleep(max(0.0, start_at - time.time()))
        await asyncio.gather(
            *(store.update_reputation(SHARED[0], SHARED[1], d) for d in DELTAS),
            *(store.update_reputation(name, SHARED[1], d) for d in DELTAS),
        )
    print("done")


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2], float(sys.argv[3])))
