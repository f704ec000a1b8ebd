"""Index v2 against a brute-force model: random adds, versions, tombstones, concurrent
writers and compactors, and every query form, on all five backends.

Tiny chunk and level sizes make several levels, tail segments and racing compactions
happen within the run. Bursts of concurrent adds touch distinct identities, so the
model knows the winner of each (ties between versions are decided by commit order).
"""

from __future__ import annotations

import asyncio
import random
from datetime import UTC, datetime, timedelta
from typing import Any

import cloudstores
from cloudstores.stores.index import Field, Index, IndexEntry, IndexOptions, Schema

SCHEMA = Schema(
    (
        Field("part"),
        Field("n", "number"),
        Field("at", "datetime"),
        Field("flag", "bool"),
        Field("tag"),
    ),
    partition="part",
)
TINY = IndexOptions(
    max_batch=6, compact_every=3, chunk_bytes=600, level1_bytes=2000, fanout=2, fetch_concurrency=8
)
PREFIX = "ws/m/_index/model"
Row = tuple[tuple[str, str], int, dict[str, Any]]


class Model:
    """The winner of each identity: highest version, ties to the first committed."""

    def __init__(self) -> None:
        self.best: dict[tuple[str, str], IndexEntry] = {}

    def apply(self, entry: IndexEntry) -> None:
        seen = self.best.get(entry.identity)
        if seen is None or entry.version > seen.version:
            self.best[entry.identity] = entry

    def live(self) -> list[IndexEntry]:
        return [e for e in self.best.values() if not e.tombstone]


def random_entry(index: Index, rng: random.Random, identity: tuple[str, str]) -> IndexEntry:
    part, key = identity
    version = rng.randrange(5)
    if rng.random() < 0.08:
        return index.entry(key, {"part": part}, version=version, tombstone=True)
    fields: dict[str, object] = {"part": part}
    if rng.random() < 0.9:
        fields["n"] = rng.randrange(-50, 50)
    if rng.random() < 0.9:
        fields["at"] = datetime(2026, 1, 1, tzinfo=UTC) + timedelta(minutes=rng.randrange(9999))
    fields["flag"] = rng.random() < 0.5
    if rng.random() < 0.9:
        fields["tag"] = rng.choice("abcd")
    return index.entry(key, fields, version=version)


def rows(entries: list[IndexEntry]) -> list[Row]:
    return [(e.identity, e.version, dict(e.fields)) for e in entries]


def by(name: str) -> Any:
    def sort(e: IndexEntry) -> tuple[Any, ...]:
        value = e.fields.get(name)
        return (0, 0, *e.identity) if value is None else (1, value, *e.identity)

    return sort


async def check(index: Index, model: Model, rng: random.Random) -> None:
    live = model.live()
    assert rows((await index.query()).entries) == rows(sorted(live, key=lambda e: e.identity))
    assert [e.identity for e in (await index.query(order_by="_key")).entries] == sorted(
        (e.identity for e in live), key=lambda i: (i[1], i[0])
    )
    part = f"p{rng.randrange(12)}"
    want = sorted((e for e in live if e.partition == part), key=lambda e: e.identity)
    assert rows((await index.query(where={"part": part})).entries) == rows(want)
    lo = rng.randrange(-50, 40)
    hi = lo + rng.randrange(1, 40)
    descending = rng.random() < 0.5
    got = await index.query(where={"n": {"gte": lo, "lt": hi}}, order_by="n", descending=descending)
    want = sorted(
        (e for e in live if e.fields.get("n") is not None and lo <= e.fields["n"] < hi),
        key=by("n"),
        reverse=descending,
    )  # type: ignore[operator]
    assert rows(got.entries) == rows(want)
    since = datetime(2026, 1, 1, tzinfo=UTC) + timedelta(minutes=rng.randrange(9000))
    text = SCHEMA.by_name["at"].normalize(since)
    want = sorted(
        (e for e in live if e.fields.get("at") is not None and e.fields["at"] >= text), key=by("at")
    )  # type: ignore[operator]
    paged: list[IndexEntry] = []
    cursor: str | None = None
    while True:
        page = await index.query(
            where={"at": {"gte": since}}, order_by="at", limit=7, start_after=cursor
        )
        paged.extend(page.entries)
        cursor = page.cursor
        if cursor is None:
            break
    assert rows(paged) == rows(want)
    tag = rng.choice("abcd")
    want = sorted(
        (e for e in live if e.fields.get("tag") == tag and e.partition == part),
        key=lambda e: e.identity,
    )
    assert rows((await index.query(where={"tag": tag, "part": part})).entries) == rows(want)
    assert await index.count(where={"flag": True}) == sum(
        1 for e in live if e.fields.get("flag") is True
    )
    groups = await index.aggregate(group_by="tag", sum=["n"])
    expected: dict[Any, tuple[int, int]] = {}
    for e in live:
        count, total = expected.get(e.fields.get("tag"), (0, 0))
        value = e.fields.get("n")
        added = value if isinstance(value, int) else 0
        expected[e.fields.get("tag")] = (count + 1, total + added)
    assert {g: (r.count, r.sums["n"]) for g, r in groups.items()} == expected


async def test_index_matches_a_brute_force_model(bucket: cloudstores.Bucket, backend: str) -> None:
    ops = 2000 if backend in ("memory", "file") else 160
    rng = random.Random(20261125)
    writers = [Index(bucket, PREFIX, SCHEMA, options=TINY) for _ in range(2)]
    model = Model()
    identities = [(f"p{rng.randrange(12)}", f"k{i:03d}") for i in range(160)]
    done = bursts = 0
    while done < ops:
        chosen = rng.sample(identities, rng.randrange(1, 7))
        adds = [(rng.choice(writers), random_entry(writers[0], rng, ident)) for ident in chosen]
        await asyncio.gather(*(w.add([e]) for w, e in adds))
        for _, entry in adds:
            model.apply(entry)
        done += len(adds)
        bursts += 1
        if bursts % 15 == 0:  # two compactors race (beside the writers' own)
            await asyncio.gather(writers[0].compact(), writers[1].compact())
        if bursts % (10 if ops > 500 else 20) == 0:
            reader = rng.choice([*writers, Index(bucket, PREFIX, SCHEMA, options=TINY)])
            await check(reader, model, rng)
    for writer in writers:
        await writer.close()
    cold = Index(bucket, PREFIX, SCHEMA, options=TINY)
    await check(cold, model, rng)
    assert cold.manifest is not None and cold.manifest.levels >= 2
    assert not cold.problems and not writers[0].problems and not writers[1].problems
