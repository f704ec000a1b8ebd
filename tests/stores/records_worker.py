"""A process of test_records_processes: append the same ids as the other processes, at
once, and print what each append answered as JSON.

    python -m tests.stores.records_worker URL NAME START_AT

Even ids get the same record in every process (all must succeed, with that record); odd
ids get this process's own record (exactly one process may win each).
"""

from __future__ import annotations

import asyncio
import json
import sys
import time

import cloudstores
from cloudstores.errors import AlreadyExistsError

IDS = [f"order:{i}" for i in range(6)]
FIELDS = {"who": "string", "n": "number"}


def record(name: str, i: int) -> dict[str, object]:
    return {"n": i, "who": "everyone" if i % 2 == 0 else name}


async def main(url: str, name: str, start_at: float) -> None:
    async with cloudstores.open_stores(url, workspace="race") as stores:
        orders = stores.records("orders", fields=FIELDS)
        await orders.count()  # warm the index before the start line
        await asyncio.sleep(max(0.0, start_at - time.time()))

        async def one(i: int) -> tuple[str, object]:
            try:
                stored = await orders.append(record(name, i), id=IDS[i])
            except AlreadyExistsError:
                return IDS[i], "taken"
            return IDS[i], stored.value

        answers = dict(await asyncio.gather(*(one(i) for i in range(len(IDS)))))
    print(json.dumps(answers))


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2], float(sys.argv[3])))
