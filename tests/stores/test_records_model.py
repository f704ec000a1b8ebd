"""RecordCollection against a plain list model: random appends (with and without ids,
repeated ids with the same and with other content, batches), queries in every order
with paging, counts and aggregates, on every backend; fixed seed.

Tiny index sizes make tail segments, chunks, levels and background compactions happen
within the run. Two writer objects (as two processes would) append in turn; readers are
the writers and fresh, cold collections.
"""

from __future__ import annotations

import os
import random
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest

import cloudstores
from cloudstores.errors import AlreadyExistsError
from cloudstores.ids import encode_id
from cloudstores.stores.index import Field, IndexOptions
from cloudstores.stores.records import RecordCollection, RecordOptions

FIELDS = {
    "run_id": "string",
    "node_id": "string",
    "cost": "number",
    "at": "datetime",
    "ok": "bool",
}
TINY = RecordOptions(
    index=IndexOptions(max_batch=6, compact_every=4, chunk_bytes=1500, level1_bytes=6000, fanout=2),
    fetch_concurrency=8,
)
AT = Field("at", "datetime")
HOSTILE = ["user:1", "a/b", "../x", "café", "x" * 300, " sp ace", "k.", "!h", "q?x=1"]
Row = dict[str, Any]


def collection(bucket: cloudstores.Bucket) -> RecordCollection:
    return RecordCollection(
        bucket, "calls", workspace="m", fields=FIELDS, partition="run_id", options=TINY
    )


def random_record(rng: random.Random) -> Row:
    record: Row = {"note": rng.choice(["x", "y", {"deep": [1, 2.5, None]}])}
    if rng.random() < 0.9:
        record["run_id"] = f"r{rng.randrange(5)}"
    if rng.random() < 0.85:
        record["node_id"] = rng.choice(["plan", "search", "write", "judge"])
    if rng.random() < 0.9:
        record["cost"] = rng.randrange(-8, 40) / 4  # exact in binary: sums compare exactly
    if rng.random() < 0.8:
        when = datetime(2026, 1, 1, tzinfo=UTC) + timedelta(minutes=rng.randrange(5000))
        zone = timezone(timedelta(hours=rng.choice([0, 2, -5])))
        record["at"] = when.astimezone(zone).isoformat()
    record["ok"] = rng.random() < 0.5
    return record


class Model:
    def __init__(self) -> None:
        self.rows: list[tuple[str, Row]] = []  # stored order
        self.by_id: dict[str, Row] = {}

    def add(self, rid: str, value: Row) -> None:
        self.rows.append((rid, value))
        self.by_id[rid] = value

    def sort_key(self, order_by: str, rid: str, value: Row) -> tuple[Any, ...]:
        part, seg = value.get("run_id") or "", encode_id(rid)
        have = value.get(order_by)
        if have is None:
            return (0, 0, part, seg)
        if order_by == "at":
            have = AT.normalize(have)
        if order_by == "ok":
            have = int(have)
        return (1, have, part, seg)

    def select(self, test: Any, order_by: str, descending: bool) -> list[tuple[str, Row]]:
        rows = [(rid, v) for rid, v in self.rows if test(v)]
        if order_by != "stored":
            rows.sort(key=lambda r: self.sort_key(order_by, *r))
        return rows[::-1] if descending else rows


def random_where(rng: random.Random) -> tuple[dict[str, Any] | None, Any]:
    kind = rng.randrange(6)
    if kind == 0:
        return None, lambda v: True
    if kind == 1:
        part = f"r{rng.randrange(5)}"
        return {"run_id": part}, lambda v: v.get("run_id") == part
    if kind == 2:
        lo = rng.randrange(-8, 30) / 4
        hi = lo + rng.randrange(1, 20) / 2
        return {
            "cost": {"gte": lo, "lt": hi}
        }, lambda v: v.get("cost") is not None and lo <= v["cost"] < hi
    if kind == 3:
        part, node = f"r{rng.randrange(5)}", rng.choice(["plan", "search"])
        return {
            "run_id": part,
            "node_id": node,
        }, lambda v: v.get("run_id") == part and v.get("node_id") == node
    if kind == 4:
        return {"ok": True}, lambda v: v.get("ok") is True
    since = datetime(2026, 1, 1, tzinfo=UTC) + timedelta(minutes=rng.randrange(5000))
    text = AT.normalize(since)
    return (
        {"at": {"gte": since}},
        lambda v: (
            v.get("at") is not None and AT.normalize(v["at"]) >= text  # type: ignore[operator]
        ),
    )


async def check(
    reader: RecordCollection, model: Model, rng: random.Random, *, full: bool = False
) -> None:
    where, test = random_where(rng)
    order_by = rng.choice(["stored", "stored", "cost", "at", "node_id", "ok"])
    descending = rng.random() < 0.3
    want = model.select(test, order_by, descending)
    if full or len(want) <= 60:  # every record returned is a GET: keep it lean
        page = await reader.query(where=where, order_by=order_by, descending=descending)
        assert [(r.id, r.value) for r in page.records] == want and page.cursor is None
    limit = rng.choice([1, 4, 9])
    got: list[tuple[str, Row]] = []
    cursor: str | None = None
    for _ in range(4):  # the first pages (each page is a query of its own)
        page = await reader.query(
            where=where, order_by=order_by, descending=descending, limit=limit, start_after=cursor
        )
        assert len(page.records) <= limit
        got.extend((r.id, r.value) for r in page.records)
        cursor = page.cursor
        if cursor is None:
            break
    assert got == want if cursor is None else got == want[: len(got)]
    selected = [v for _, v in model.select(test, "stored", False)]
    assert await reader.count(where=where) == len(selected)
    groups = await reader.aggregate(where=where, group_by="node_id", sum=["cost"])
    want: dict[Any, tuple[int, float]] = {}
    for value in selected:
        count, total = want.get(value.get("node_id"), (0, 0))
        want[value.get("node_id")] = (count + 1, total + (value.get("cost") or 0))
    assert {g: (r.count, r.sums["cost"]) for g, r in groups.items()} == want


async def test_records_match_a_list_model(bucket: cloudstores.Bucket, backend: str) -> None:
    ops = {"memory": int(os.environ.get("OPS", 2000)), "file": 600}.get(backend, 120)
    rng = random.Random(20261126)
    writers = [collection(bucket), collection(bucket)]
    model = Model()
    named = 0
    for step in range(ops):
        writer = rng.choice(writers)
        roll = rng.random()
        if roll < 0.5 or not model.rows:
            record = random_record(rng)
            stored = await writer.append(record)
            assert stored.value == record and stored.id not in model.by_id
            model.add(stored.id, record)
        elif roll < 0.68:
            rid = rng.choice(HOSTILE) + str(named) if rng.random() < 0.3 else f"id-{named:05d}"
            named += 1
            record = random_record(rng)
            assert (await writer.append(record, id=rid)).value == record
            model.add(rid, record)
        elif roll < 0.78:
            rid, value = rng.choice(model.rows)
            assert await writer.append(dict(value), id=rid) == cloudstores.Record(rid, value)
        elif roll < 0.83:
            rid, value = rng.choice(model.rows)
            with pytest.raises(AlreadyExistsError):
                await writer.append({**value, "changed": step}, id=rid)
        elif roll < 0.89:
            batch = [random_record(rng) for _ in range(rng.randrange(1, 6))]
            stored_many = await writer.append_many(batch, concurrency=3)
            for stored, record in zip(stored_many, batch, strict=True):
                assert stored.value == record
                model.add(stored.id, record)
        elif roll < 0.95:
            reader = rng.choice([*writers, collection(bucket)])
            await check(reader, model, rng)
        else:
            rid, value = rng.choice(model.rows)
            assert (await rng.choice(writers).get(rid)).value == value
    for writer in writers:
        await writer.close()
    cold = collection(bucket)
    for _ in range(3):
        await check(cold, model, rng, full=True)
    assert cold.index.manifest is not None
    if ops > 500:
        assert cold.index.manifest.levels >= 2
    for each in (*writers, cold):
        assert not each.index.problems and not each.index_mismatches
