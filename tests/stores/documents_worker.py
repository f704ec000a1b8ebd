"""A worker process for test_documents_processes: ``count`` concurrent increments of one
hot document, then print how many of its calls returned.

    python -m tests.stores.documents_worker URL COUNT
"""

from __future__ import annotations

import asyncio
import json
import sys
from typing import Any

import cloudstores


def add(value: dict[str, Any]) -> dict[str, Any]:
    return {**value, "n": value["n"] + 1}


async def main(url: str, count: int) -> None:
    async with cloudstores.open_stores(url, workspace="procs") as stores:
        docs = stores.documents("counters", fields={"n": "number"})
        results = await asyncio.gather(
            *(docs.update("hot", add, default={"n": 0}) for _ in range(count))
        )
    print(json.dumps({"done": len(results), "versions": sorted({r.version for r in results})}))


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], int(sys.argv[2])))
