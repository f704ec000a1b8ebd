"""DocumentStore against a plain dict model: random put / update / delete / expiry by an
injected clock / get / query / count / aggregate, two stores writing one collection, on
all five backends.

Tiny index sizes make tail segments, chunks and compactions happen within the run. The
two stores cache the newest versions they saw, so stale caches, lost races and the
re-read after them are exercised too. Bursts of concurrent updates of one document check
that every increment lands exactly once (however the store batches them into versions).
"""

from __future__ import annotations

import asyncio
import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import cloudstores
from cloudstores.errors import NotFoundError
from cloudstores.stores.documents import DocumentStore
from cloudstores.stores.index import IndexOptions

TINY = IndexOptions(
    max_batch=8, compact_every=6, chunk_bytes=1500, level1_bytes=6000, fanout=2, fetch_concurrency=8
)
FIELDS = {"tag": "string", "n": "number", "flag": "bool"}
DEFAULT = {"tag": "a", "n": 0, "flag": False}


@dataclass
class Doc:
    value: Any
    expires: datetime | None
    version: int
    deleted: bool = False

    def live(self, now: datetime) -> bool:
        return not self.deleted and (self.expires is None or self.expires > now)


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 6, 1, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


def bump(value: dict[str, Any]) -> dict[str, Any]:
    return {**value, "n": value["n"] + 1}


async def check(
    store: DocumentStore, model: dict[str, Doc], clock: Clock, rng: random.Random
) -> None:
    now = clock.now
    live = {k: d for k, d in model.items() if d.live(now)}

    def rows(docs: list[cloudstores.Document]) -> list[tuple[str, int, Any]]:
        return [(d.id, d.version, d.value) for d in docs]

    everything = await store.query()
    assert rows(everything.documents) == [(k, live[k].version, live[k].value) for k in sorted(live)]
    tag = rng.choice("abc")
    got = await store.query(where={"tag": tag})
    assert [d.id for d in got.documents] == sorted(
        k for k, d in live.items() if d.value["tag"] == tag
    )
    lo = rng.randrange(-5, 10)
    descending = rng.random() < 0.5
    want = sorted(
        (k for k, d in live.items() if d.value["n"] >= lo),
        key=lambda k: (live[k].value["n"], k),
        reverse=descending,
    )
    paged: list[str] = []
    cursor = None
    while True:
        page = await store.query(
            where={"n": {"gte": lo}},
            order_by="n",
            descending=descending,
            limit=4,
            start_after=cursor,
        )
        paged.extend(d.id for d in page.documents)
        cursor = page.cursor
        if cursor is None:
            break
    assert paged == want
    assert await store.count(where={"flag": True}) == sum(
        1 for d in live.values() if d.value["flag"]
    )
    groups = await store.aggregate(group_by="tag", sum=["n"])
    expected: dict[Any, tuple[int, float]] = {}
    for d in live.values():
        count, total = expected.get(d.value["tag"], (0, 0))
        expected[d.value["tag"]] = (count + 1, total + d.value["n"])
    assert {g: (r.count, r.sums["n"]) for g, r in groups.items()} == expected
    assert not store.index_mismatches and not store.index.problems


async def test_documents_match_a_dict_model(bucket: cloudstores.Bucket, backend: str) -> None:
    # 2,000 operations in memory; fewer where each one is an HTTP or file round trip
    ops = {"memory": 2000, "file": 600}.get(backend, 120)
    rng = random.Random(20261126)
    clock = Clock()
    stores = [
        DocumentStore(bucket, "model", fields=FIELDS, index_options=TINY, clock=clock)
        for _ in range(2)
    ]
    model: dict[str, Doc] = {}
    ids = [f"d{i:02d}" for i in range(40)]
    done = 0
    while done < ops:
        store = rng.choice(stores)
        doc_id = rng.choice(ids)
        have = model.get(doc_id)
        roll = rng.random()
        done += 1
        if roll < 0.3:
            value = {
                "tag": rng.choice("abc"),
                "n": rng.randrange(-5, 10),
                "flag": rng.random() < 0.5,
            }
            expires = (
                None if rng.random() < 0.6 else clock.now + timedelta(minutes=rng.randrange(-2, 30))
            )
            doc = await store.put(doc_id, value, expires_at=expires)
            assert doc.version == (0 if have is None else have.version + 1)
            model[doc_id] = Doc(value, expires, doc.version)
        elif roll < 0.55:
            base = have.value if have is not None and have.live(clock.now) else None
            if base is None and rng.random() < 0.3:
                try:
                    await store.update(doc_id, bump)
                except NotFoundError:
                    continue
                raise AssertionError("update of a missing document without default")
            doc = await store.update(doc_id, bump, default=DEFAULT)
            expected = bump(base if base is not None else DEFAULT)
            assert doc.value == expected and doc.version == (
                0 if have is None else have.version + 1
            )
            keep = have.expires if have is not None and base is not None else None
            model[doc_id] = Doc(expected, keep, doc.version)
        elif roll < 0.65:
            # a burst: k concurrent increments of one document, through both stores
            k = rng.randrange(2, 9)
            base = have.value if have is not None and have.live(clock.now) else None
            results = await asyncio.gather(
                *(rng.choice(stores).update(doc_id, bump, default=DEFAULT) for _ in range(k))
            )
            start = base if base is not None else DEFAULT
            newest = max(results, key=lambda d: d.version)
            assert newest.value == {**start, "n": start["n"] + k}
            keep = have.expires if have is not None and base is not None else None
            model[doc_id] = Doc(newest.value, keep, newest.version)
            done += k - 1
        elif roll < 0.75:
            hidden = await store.delete(doc_id)
            assert hidden == (have is not None and have.live(clock.now))
            if hidden:
                assert have is not None
                model[doc_id] = Doc(None, None, have.version + 1, deleted=True)
        elif roll < 0.8:
            clock.now += timedelta(minutes=rng.randrange(1, 6))
        else:
            got = await store.get_or_none(doc_id)
            if have is not None and have.live(clock.now):
                assert got is not None and (got.version, got.value) == (have.version, have.value)
                assert got.expires_at == have.expires
            else:
                assert got is None
        if done % 100 < 1 or rng.random() < 0.02:
            await check(rng.choice(stores), model, clock, rng)
    for store in stores:
        await store.close()
    cold = DocumentStore(bucket, "model", fields=FIELDS, index_options=TINY, clock=clock)
    await check(cold, model, clock, rng)
    assert cold.index.manifest is not None
    some = rng.choice(sorted(model))
    history = await cold.history(some)
    assert [d.version for d in history] == list(range(model[some].version + 1))
    assert history[-1].deleted == model[some].deleted
