"""RecordCollection on every backend: costs in requests, unique ids, orders and cursors,
aggregates, bad input (before any request), tampered objects; Stores and sync wiring."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest

import cloudstores
from cloudstores import codec
from cloudstores.errors import (
    AlreadyExistsError,
    IntegrityError,
    InvalidIdError,
    InvalidInputError,
    NotFoundError,
    PayloadTooLargeError,
    SerializationError,
)
from cloudstores.ids import encode_id
from cloudstores.stores.records import RecordCollection, RecordOptions
from cloudstores.testing import FaultyBucket

FIELDS = {"run_id": "string", "node_id": "string", "cost": "number"}
PREFIX = "ws/team-a/records/costs/"


@pytest.fixture
async def costs(bucket: cloudstores.Bucket) -> AsyncIterator[RecordCollection]:
    collection = RecordCollection(
        bucket,
        "costs",
        workspace="team-a",
        fields=FIELDS,
        partition="run_id",
        options=RecordOptions(max_bytes=4096),
    )
    yield collection
    await collection.close()


async def test_append_and_get_cost_requests(
    costs: RecordCollection, bucket: cloudstores.Bucket
) -> None:
    await costs.append({"run_id": "r1", "cost": 1})  # the first write reads the cold index
    bucket.requests.clear()
    stored = await costs.append({"run_id": "r1", "node_id": "plan", "cost": 2.5})
    assert dict(bucket.requests) == {"put": 2}  # the record + its index segment
    bucket.requests.clear()
    assert await costs.get(stored.id) == stored
    assert dict(bucket.requests) == {"get": 1}
    bucket.requests.clear()
    assert await costs.get_or_none("nope") is None
    assert dict(bucket.requests) == {"get": 1}
    with pytest.raises(NotFoundError):
        await costs.get("user:42")


async def test_a_unique_id_is_idempotent_or_taken(
    costs: RecordCollection, bucket: cloudstores.Bucket
) -> None:
    first = await costs.append({"run_id": "r1", "cost": 3}, id="call:1/é")
    assert first == cloudstores.Record("call:1/é", {"run_id": "r1", "cost": 3})
    bucket.requests.clear()
    assert await costs.append({"cost": 3, "run_id": "r1"}, id="call:1/é") == first
    # the refused PUT, the Bucket's HEAD (was it our own landed retry?), GET, index PUT
    assert dict(bucket.requests) == {"put": 2, "head": 1, "get": 1}
    with pytest.raises(AlreadyExistsError, match="other content"):
        await costs.append({"run_id": "r1", "cost": 4}, id="call:1/é")
    assert await costs.get("call:1/é") == first
    assert await costs.count() == 1
    long_id = "k" * 1000
    await costs.append({"cost": 1}, id=long_id)  # a hashed key; the id lives in the body
    assert (await costs.get(long_id)).id == long_id
    assert [r.id for r in (await costs.query()).records] == ["call:1/é", long_id]


async def test_generated_ids_are_unique_and_sort_by_time(costs: RecordCollection) -> None:
    stored = await costs.append_many([{"run_id": "r1", "cost": i} for i in range(12)])
    stored += [await costs.append({"run_id": "r2", "cost": 12 + i}) for i in range(3)]
    ids = [r.id for r in stored]
    assert len(set(ids)) == 15 and all(encode_id(i) == i and len(i) == 26 for i in ids)
    assert sorted(ids[12:]) == ids[12:] and max(ids[:12]) < ids[12]
    page = await costs.query()
    assert [r.value["cost"] for r in page.records] == [r.value["cost"] for r in stored]


async def test_orders_cursors_count_aggregate(costs: RecordCollection) -> None:
    rows = [
        {"run_id": "r1", "node_id": "plan", "cost": 2},
        {"run_id": "r1", "node_id": "write", "cost": 0.5},
        {"run_id": "r2", "node_id": "plan", "cost": 7},
        {"run_id": "r1", "node_id": "plan", "cost": 1.25},
        {"run_id": "r1", "cost": 3},
        {"run_id": "r1", "node_id": "write"},
    ]
    for row in rows:
        await costs.append(row)
    groups = await costs.aggregate(where={"run_id": "r1"}, group_by="node_id", sum=["cost"])
    assert {g: (r.count, r.sums["cost"]) for g, r in groups.items()} == {
        "plan": (2, 3.25),
        "write": (2, 0.5),
        None: (1, 3),
    }
    assert await costs.count(where={"cost": {"gt": 1}}) == 4
    newest = await costs.query(descending=True, limit=2)
    assert [r.value for r in newest.records] == rows[:-3:-1]
    rest = await costs.query(descending=True, start_after=newest.cursor)
    assert [r.value for r in rest.records] == rows[-3::-1] and rest.cursor is None
    by_cost = await costs.query(where={"run_id": "r1"}, order_by="cost", limit=3)
    assert [r.value.get("cost") for r in by_cost.records] == [None, 0.5, 1.25]
    tail = await costs.query(where={"run_id": "r1"}, order_by="cost", start_after=by_cost.cursor)
    assert [r.value.get("cost") for r in tail.records] == [2, 3]
    with pytest.raises(InvalidInputError):  # a cursor of another order
        await costs.query(start_after=by_cost.cursor)


async def test_bad_input_raises_before_any_request(
    costs: RecordCollection, bucket: cloudstores.Bucket
) -> None:
    bad_appends: list[tuple[object, dict[str, object], type[Exception]]] = [
        ([1], {}, InvalidInputError),
        ({"at": datetime.now(UTC)}, {}, InvalidInputError),
        ({"raw": b"x"}, {}, InvalidInputError),
        ({"t": (1, 2)}, {}, InvalidInputError),
        ({1: "x"}, {}, InvalidInputError),
        ({"v": float("nan")}, {}, SerializationError),
        ({"cost": "cheap"}, {}, InvalidInputError),
        ({"run_id": 7}, {}, InvalidInputError),
        ({"pad": "x" * 5000}, {}, PayloadTooLargeError),
        ({"ok": 1}, {"id": ""}, InvalidIdError),
        ({"ok": 1}, {"id": 42}, InvalidIdError),
        ({"ok": 1}, {"id": "\ud800"}, InvalidIdError),
    ]
    for record, kwargs, error in bad_appends:
        with pytest.raises(error):
            await costs.append(record, **kwargs)  # type: ignore[arg-type]
    with pytest.raises(InvalidInputError):
        await costs.append_many([{"ok": 1}, {"cost": "x"}])
    with pytest.raises(InvalidInputError):
        await costs.append_many([{"ok": 1}], ids=["a", "b"])
    for kwargs in (
        {"where": {"nope": 1}},
        {"where": {"_key": "x"}},
        {"order_by": "nope"},
        {"order_by": None},
        {"limit": -1},
        {"start_after": "not a cursor"},
        {"where": {"node_id": {"gt": "a"}}},
    ):
        with pytest.raises(InvalidInputError):
            await costs.query(**kwargs)  # type: ignore[arg-type]
    with pytest.raises(InvalidInputError):
        await costs.aggregate(sum=["node_id"])
    with pytest.raises(InvalidInputError):
        await costs.aggregate(group_by="nope")
    with pytest.raises(InvalidIdError):
        await costs.get("")
    for name in ("", "a/b", "..", "x" * 129, None):
        with pytest.raises(InvalidIdError):
            RecordCollection(bucket, name, fields=FIELDS)  # type: ignore[arg-type]
    for fields, partition in (
        ({"Bad": "string"}, None),
        ({"cost": "money"}, None),
        ("run_id", None),
        ([1], None),
        (FIELDS, "cost"),
        (FIELDS, "missing"),
    ):
        with pytest.raises(InvalidInputError):
            RecordCollection(bucket, "c", fields=fields, partition=partition)
    assert sum(bucket.requests.values()) == 0
    assert [i async for i in bucket.list("")] == []


async def test_a_record_that_disagrees_with_its_entry_is_skipped(
    costs: RecordCollection, bucket: cloudstores.Bucket
) -> None:
    kept = await costs.append({"run_id": "r1", "cost": 1})
    moved = await costs.append({"run_id": "r1", "cost": 2}, id="moved")
    gone = await costs.append({"run_id": "r1", "cost": 3}, id="gone")
    # Someone with write access rewrites one record (its checksum recomputed) and
    # deletes another: their index entries no longer tell the truth.
    forged = {"$format": 1, "id": "moved", "record": {"run_id": "r9", "cost": 2}}
    body = codec.dumps({**forged, "$sha256": codec.sha256_hex(codec.dumps(forged))})
    await bucket.put(f"{PREFIX}moved.json", body, mode="overwrite")
    await bucket.delete(f"{PREFIX}gone.json")
    page = await costs.query(where={"run_id": "r1"})
    assert page.records == [kept]
    assert sorted(s.key for s in costs.index_mismatches) == [
        f"{PREFIX}gone.json",
        f"{PREFIX}moved.json",
    ]
    assert moved.id == "moved" and gone.id == "gone"
    # A record stored under another id's key is never read as that id.
    other = {"$format": 1, "id": "someone-else", "record": {"cost": 1}}
    body = codec.dumps({**other, "$sha256": codec.sha256_hex(codec.dumps(other))})
    await bucket.put(f"{PREFIX}{kept.id}.json", body, mode="overwrite")
    with pytest.raises(IntegrityError):
        await costs.get(kept.id)
    await bucket.put(f"{PREFIX}broken.json", b"[1, 2", mode="create")
    with pytest.raises(IntegrityError):
        await costs.get("broken")
    await bucket.put(f"{PREFIX}big.json", b" " * 5000, mode="create")
    with pytest.raises(IntegrityError):
        await costs.get("big")


async def test_stores_records_and_the_sync_api() -> None:
    async with cloudstores.open_stores("memory://records-wiring/p", workspace="w") as stores:
        calls = stores.records("calls", fields=FIELDS, partition="run_id")
        assert stores.records("calls", fields=FIELDS, partition="run_id") is calls
        with pytest.raises(InvalidInputError, match="other fields"):
            stores.records("calls", fields={"run_id": "string"})
        with pytest.raises(InvalidIdError):
            stores.records("bad/name", fields=FIELDS)
        await calls.append({"run_id": "r1", "node_id": "n", "cost": 2})
    with cloudstores.sync.open_stores("memory://records-wiring/p", workspace="w") as sync:
        records = sync.records("calls", fields=FIELDS, partition="run_id")
        records.append({"run_id": "r1", "node_id": "n", "cost": 3}, id="x")
        groups = records.aggregate(where={"run_id": "r1"}, group_by="node_id", sum=["cost"])
        assert groups["n"].count == 2 and groups["n"].sums == {"cost": 5}
        assert records.get("x").value["cost"] == 3
        assert [r.value["cost"] for r in records.query().records] == [2, 3]


async def test_appends_whose_answer_is_lost_land_once() -> None:
    """A PUT that lands but whose answer is lost is retried: the record is stored once
    and its append answers normally (no false AlreadyExistsError), ids given or not."""
    inner = cloudstores.open_bucket("memory://records-flaky/p")
    flaky = FaultyBucket(
        inner,
        after=0.3,
        resend=0.1,
        ops={"put"},
        seed=11,
        retry=cloudstores.RetryConfig(initial_backoff=0.001, max_backoff=0.01),
    )
    async with inner, flaky:
        calls = RecordCollection(flaky, "calls", fields=FIELDS, partition="run_id")
        named = [await calls.append({"run_id": "r", "cost": i}, id=f"k:{i}") for i in range(20)]
        fresh = await calls.append_many([{"run_id": "r", "cost": 100 + i} for i in range(20)])
        await calls.close()
        assert flaky.injected["after"] > 0
        stored = (await calls.query(where={"run_id": "r"})).records
        assert stored == named + fresh
        listed = [i.key async for i in inner.list("ws/default/records/calls/")]
        assert len(listed) == 40
