"""The generic sync API exposes documents: blocking calls, from threads and from inside a
running event loop, with the same requests as the async API."""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import Any

from cloudstores import CREATE_ONLY, sync
from cloudstores.errors import AlreadyExistsError


def test_documents_through_the_sync_api(make_bucket_url: Any) -> None:
    with sync.open_stores(make_bucket_url("memory"), workspace="w") as stores:
        docs = stores.documents("scores", fields={"team": "string", "score": "number"})
        assert isinstance(docs, sync.SyncProxy)
        docs.put("u1", {"team": "a", "score": 1}, expected_version=CREATE_ONLY)
        try:
            docs.put("u1", {"team": "a", "score": 1}, expected_version=CREATE_ONLY)
        except AlreadyExistsError:
            pass
        else:
            raise AssertionError("a second create-only put must fail")

        def add(value: dict[str, Any]) -> dict[str, Any]:
            return {**value, "score": value["score"] + 1}

        with ThreadPoolExecutor(8) as pool:
            list(pool.map(lambda _: docs.update("u1", add), range(16)))
        assert docs.get("u1").value == {"team": "a", "score": 17}

        async def inside_a_loop() -> int:
            return int(stores.documents("scores").count(where={"team": "a"}))

        assert asyncio.run(inside_a_loop()) == 1
        docs.put("tmp", {"team": "b", "score": 2}, expires_at=timedelta(hours=1))
        page = docs.query(order_by="score", descending=True)
        assert [d.id for d in page.documents] == ["u1", "tmp"]
        assert docs.aggregate(group_by="team", sum=["score"])["b"].sums == {"score": 2}
        assert docs.delete("tmp") is True
        assert docs.get_or_none("tmp") is None
        assert [d.version for d in docs.history("tmp")] == [0, 1]
