"""update lands exactly once when requests time out after landing, are re-sent by the
HTTP client, or fail before reaching the backend (FaultyBucket under the Bucket layer)."""

from __future__ import annotations

import asyncio
from typing import Any

import cloudstores
from cloudstores.stores.documents import DocumentStore
from cloudstores.testing import FaultyBucket


def add(value: dict[str, Any]) -> dict[str, Any]:
    return {**value, "n": value["n"] + 1}


async def test_updates_land_once_under_faults(bucket: cloudstores.Bucket, backend: str) -> None:
    flaky = [
        FaultyBucket(bucket, after=0.25, resend=0.1, before=0.1, seed=seed, ops={"put", "list"})
        for seed in (1, 2)
    ]
    stores = [DocumentStore(b, "faults", fields={"n": "number"}) for b in flaky]
    rounds, per_round = (6, 8) if backend in ("memory", "file") else (3, 6)
    for _ in range(rounds):
        await asyncio.gather(
            *(stores[i % 2].update("c", add, default={"n": 0}) for i in range(per_round))
        )
    for store in stores:
        await store.close()
    assert sum(b.injected["after"] for b in flaky) > 0
    clean = DocumentStore(bucket, "faults", fields={"n": "number"})
    assert (await clean.get("c")).value == {"n": rounds * per_round}
    assert (await clean.query(where={"n": rounds * per_round})).documents[0].id == "c"
