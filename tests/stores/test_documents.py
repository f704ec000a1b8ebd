"""DocumentStore: versions, conflicts, delete, expiry, any id, untrusted objects, request
counts and validation, on the five backends where they touch storage."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

import cloudstores
from cloudstores import CREATE_ONLY, codec
from cloudstores.errors import (
    AlreadyExistsError,
    IntegrityError,
    InvalidIdError,
    InvalidInputError,
    NotFoundError,
    PayloadTooLargeError,
    PreconditionFailedError,
)
from cloudstores.ids import encode_id
from cloudstores.stores.documents import DocumentStore
from cloudstores.stores.index import Field

FIELDS = {"team": "string", "score": "number"}
PREFIX = "ws/default/documents/scores/"


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 6, 1, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
async def docs(bucket: cloudstores.Bucket) -> AsyncIterator[DocumentStore]:
    store = DocumentStore(bucket, "scores", fields=FIELDS)
    yield store
    await store.close()


async def test_versions_history_and_request_counts(
    docs: DocumentStore, bucket: cloudstores.Bucket
) -> None:
    first = await docs.put("u1", {"team": "a", "score": 1})
    assert (first.id, first.version, first.value, first.expires_at) == (
        "u1",
        0,
        FIELDS and {"team": "a", "score": 1},
        None,
    )
    second = await docs.update("u1", lambda v: {**v, "score": v["score"] + 1})
    assert (second.version, second.value["score"]) == (1, 2)
    assert second.created_at == first.created_at and second.updated_at >= first.updated_at
    await docs.index.close()

    bucket.requests.clear()
    got = await docs.get("u1")  # warm and unchanged: one LIST, the version is cached
    assert (got.version, got.value) == (1, {"team": "a", "score": 2})
    assert bucket.requests == {"list": 1}

    bucket.requests.clear()
    await docs.put("u1", {"team": "b", "score": 5})  # warm: one PUT, plus the index segment
    assert bucket.requests == {"put": 2}  # (put returns once its index entry landed)

    cold = DocumentStore(bucket, "scores", fields=FIELDS)
    bucket.requests.clear()
    got = await cold.get("u1")  # cold: one LIST of the versions, one GET
    assert (got.version, got.value["team"]) == (2, "b")
    assert bucket.requests == {"list": 1, "get": 1}

    got.value["team"] = "mutated"  # values are copies
    assert (await cold.get("u1")).value["team"] == "b"
    history = await cold.history("u1")
    assert [(d.version, d.value["score"], d.deleted) for d in history] == [
        (0, 1, False),
        (1, 2, False),
        (2, 5, False),
    ]
    with pytest.raises(NotFoundError):
        await cold.history("nobody")
    with pytest.raises(NotFoundError):
        await cold.get("nobody")
    assert await cold.get_or_none("nobody") is None


async def test_expected_version_and_create_only(bucket: cloudstores.Bucket) -> None:
    one = DocumentStore(bucket, "scores", fields=FIELDS)
    two = DocumentStore(bucket, "scores", fields=FIELDS)
    await one.put("k", {"score": 1}, expected_version=CREATE_ONLY)
    with pytest.raises(AlreadyExistsError):
        await two.put("k", {"score": 2}, expected_version=CREATE_ONLY)
    await two.put("k", {"score": 2}, expected_version=0)
    # `one` still caches version 0: its CAS on 0 loses, on 1 lands
    with pytest.raises(PreconditionFailedError):
        await one.put("k", {"score": 3}, expected_version=0)
    assert (await one.put("k", {"score": 3}, expected_version=1)).version == 2
    with pytest.raises(PreconditionFailedError):
        await two.put("absent", {"score": 3}, expected_version=0)
    # a deleted document may be created again; its history keeps the tombstone
    assert await two.delete("k")
    again = await one.put("k", {"score": 9}, expected_version=CREATE_ONLY)
    assert again.version == 4 and again.created_at is not None
    assert [d.deleted for d in await one.history("k")] == [False, False, False, True, False]
    # racing creators: exactly one wins
    results = await asyncio.gather(
        *(
            s.put("race", {"score": i}, expected_version=CREATE_ONLY)
            for i, s in enumerate([one, two, one, two])
        ),
        return_exceptions=True,
    )
    assert sum(1 for r in results if isinstance(r, cloudstores.Document)) == 1
    assert all(isinstance(r, cloudstores.Document | AlreadyExistsError) for r in results)
    await one.close()
    await two.close()


async def test_delete_semantics(bucket: cloudstores.Bucket) -> None:
    clock = Clock()
    docs = DocumentStore(bucket, "scores", fields=FIELDS, clock=clock)
    other = DocumentStore(bucket, "scores", fields=FIELDS, clock=clock)
    assert await docs.delete("never") is False
    await docs.put("d", {"team": "a", "score": 1})
    assert await other.delete("d") is True
    # `docs` caches the live version: its tombstone loses the race, it reads the
    # newest (a tombstone) and writes nothing
    assert await docs.delete("d") is False
    assert [d.deleted for d in await docs.history("d")] == [False, True]
    assert await docs.get_or_none("d") is None
    assert await docs.count() == 0
    with pytest.raises(NotFoundError):
        await docs.update("d", lambda v: v)
    revived = await docs.update("d", lambda v: {**v, "score": v["score"] + 1}, default={"score": 0})
    assert (revived.version, revived.value) == (2, {"score": 1})
    await docs.put("e", {"team": "a"}, expires_at=clock.now + timedelta(minutes=1))
    clock.now += timedelta(minutes=1)
    assert await docs.delete("e") is False  # expired is not live
    await docs.close()
    await other.close()
    cold = DocumentStore(bucket, "scores", fields=FIELDS, clock=clock)
    assert [d.id for d in (await cold.query()).documents] == ["d"]


async def test_expiry_by_the_readers_clock(bucket: cloudstores.Bucket) -> None:
    clock = Clock()
    docs = DocumentStore(bucket, "scores", fields=FIELDS, clock=clock)
    start = clock.now
    await docs.put("short", {"team": "a", "score": 1}, expires_at=timedelta(minutes=5))
    await docs.put("long", {"team": "a", "score": 2}, expires_at=start + timedelta(hours=1))
    await docs.put("never", {"team": "a", "score": 4})
    assert (await docs.get("short")).expires_at == start + timedelta(minutes=5)
    assert await docs.count() == 3
    clock.now = start + timedelta(minutes=5)  # expires_at <= now: missing
    assert await docs.get_or_none("short") is None
    assert await docs.count(where={"team": "a"}) == 2
    assert (await docs.aggregate(sum=["score"]))[None].sums["score"] == 6
    assert [d.id for d in (await docs.query(order_by="expires_at")).documents] == ["long", "never"]
    assert [d.id for d in (await docs.query(where={"expires_at": None})).documents] == ["never"]
    window = {"expires_at": {"lte": start + timedelta(hours=2)}}
    assert [d.id for d in (await docs.query(where=window)).documents] == ["long"]
    # update keeps the expiry unless told otherwise; a missing (expired) one takes default
    kept = await docs.update("long", lambda v: {**v, "score": 3})
    assert kept.expires_at == start + timedelta(hours=1)
    cleared = await docs.update("long", lambda v: v, expires_at=None)
    assert cleared.expires_at is None
    fresh = await docs.update(
        "short", lambda v: {**v, "score": 7}, default={"team": "b", "score": 0}
    )
    assert fresh.value == {"team": "b", "score": 7} and fresh.expires_at is None
    clock.now = start + timedelta(days=1)
    assert await docs.count() == 3
    await docs.close()


async def test_any_id_and_untrusted_objects(bucket: cloudstores.Bucket) -> None:
    docs = DocumentStore(bucket, "scores", fields=FIELDS)
    ids = ["user:42", "a/b/../c", "café ☕", "x" * 1000, "."]
    for i, doc_id in enumerate(ids):
        await docs.put(doc_id, {"team": "t", "score": i})
    await docs.close()
    cold = DocumentStore(bucket, "scores", fields=FIELDS)
    for i, doc_id in enumerate(ids):
        assert (await cold.get(doc_id)).value["score"] == i
    assert sorted(d.id for d in (await cold.query()).documents) == sorted(ids)

    # an object whose body names another id (a hashed key cannot be decoded): refused
    long_id = "y" * 1000
    await cold.put(long_id, {"team": "t", "score": 1})
    key = f"{PREFIX}{encode_id(long_id)}/{1:020d}.json"
    body = codec.loads((await bucket.get(f"{PREFIX}{encode_id('x' * 1000)}/{0:020d}.json")).data)
    body["version"] = 1
    await bucket.put(key, codec.dumps(body))  # not sealed for this key: claims x... id
    fresh = DocumentStore(bucket, "scores", fields=FIELDS)
    with pytest.raises(IntegrityError):
        await fresh.get(long_id)
    # a gap in the versions is an IntegrityError naming the missing one
    await bucket.put(f"{PREFIX}u-gap/{0:020d}.json", b"{}")
    await bucket.put(f"{PREFIX}u-gap/{2:020d}.json", b"{}")
    with pytest.raises(IntegrityError, match="no version 1"):
        await fresh.get("u-gap")
    # an object that contradicts its index entry is skipped by queries and reported
    await fresh.put("liar", {"team": "honest", "score": 1})
    await fresh.close()
    forged = codec.loads((await bucket.get(f"{PREFIX}liar/{0:020d}.json")).data)
    forged.pop("$sha256")
    forged["value"] = {"team": "other", "score": 1}
    from cloudstores.stores.objects import seal

    await bucket.delete(f"{PREFIX}liar/{0:020d}.json")
    await bucket.put(f"{PREFIX}liar/{0:020d}.json", seal(forged))
    reader = DocumentStore(bucket, "scores", fields=FIELDS)
    assert [d.id for d in (await reader.query(where={"team": "honest"})).documents] == []
    assert reader.index_mismatches and "does not match" in reader.index_mismatches[-1].reason
    # a huge object is refused before it is decoded
    small = DocumentStore(bucket, "scores", fields=FIELDS, max_document_bytes=512)
    with pytest.raises(IntegrityError, match="over the limit"):
        await small.get("x" * 1000)


async def test_concurrent_updates_in_one_process_land_once(bucket: cloudstores.Bucket) -> None:
    one = DocumentStore(bucket, "scores", fields=FIELDS)
    two = DocumentStore(bucket, "scores", fields=FIELDS)

    def add(v: dict[str, Any]) -> dict[str, Any]:
        return {**v, "score": v["score"] + 1}

    async def add_later(v: dict[str, Any]) -> dict[str, Any]:
        await asyncio.sleep(0)
        return add(v)

    def refuse(v: dict[str, Any]) -> dict[str, Any]:
        raise ValueError("no")

    calls = [s.update("hot", add, default={"score": 0}) for s in (one, two) for _ in range(10)]
    calls += [one.update("hot", add_later, default={"score": 0}) for _ in range(4)]
    calls.append(one.update("hot", refuse, default={"score": 0}))
    calls.append(one.update("hot", lambda v: {**v, "score": float("nan")}, default={}))
    results = await asyncio.gather(*calls, return_exceptions=True)
    assert isinstance(results[-2], ValueError)
    assert isinstance(results[-1], InvalidInputError)
    assert (await one.get("hot")).value["score"] == 24
    history = await two.history("hot")
    assert history[-1].value["score"] == 24 and len(history) <= 24
    await one.close()
    await two.close()


async def test_validation_before_any_request() -> None:
    async with cloudstores.open_bucket("memory://validation/p") as bucket:
        docs = DocumentStore(bucket, "scores", fields=FIELDS, max_document_bytes=1024)
        bad: list[Any] = [
            lambda: docs.get(""),
            lambda: docs.get(5),
            lambda: docs.get("a\ud800"),
            lambda: docs.put("k", {"score": "high"}),
            lambda: docs.put("k", {"team": "t" * 2000}),
            lambda: docs.put("k", {"x": "y" * 2000}),
            lambda: docs.put("k", {1, 2}),
            lambda: docs.put("k", {}, expected_version=-1),
            lambda: docs.put("k", {}, expected_version="0"),
            lambda: docs.put("k", {}, expires_at="tomorrow"),
            lambda: docs.update("k", "not callable"),
            lambda: docs.update("k", lambda v: v, default={1, 2}),
            lambda: docs.update("k", lambda v: v, expires_at=5),
            lambda: docs.query(where={"nope": 1}),
            lambda: docs.query(order_by="nope"),
            lambda: docs.query(where={"team": {"gt": "a"}}),
            lambda: docs.count(where=["team"]),
            lambda: docs.aggregate(sum=["team"]),
            lambda: docs.query(where={"expires_at": {"gt": "not a time"}}),
            lambda: docs.history("x" * 20000),
        ]
        for make in bad:
            with pytest.raises((InvalidInputError, PayloadTooLargeError)):
                await make()
        assert sum(bucket.requests.values()) == 0
        for name in ("", "a/b", "..", "x" * 101, 5):
            with pytest.raises(InvalidIdError):
                DocumentStore(bucket, name)  # type: ignore[arg-type]
        for fields in ("team", {"created_at": "datetime"}, [Field("a"), Field("a")], {"a": "int"}):
            with pytest.raises(InvalidInputError):
                DocumentStore(bucket, "c", fields=fields)  # type: ignore[arg-type]


async def test_stores_documents_wiring() -> None:
    async with cloudstores.open_stores("memory://wiring/p", workspace="w1") as stores:
        docs = stores.documents("cache", fields=["kind"])
        assert stores.documents("cache") is docs
        assert stores.documents("cache", fields=[Field("kind")]) is docs
        with pytest.raises(InvalidInputError, match="one set of fields"):
            stores.documents("cache", fields={"kind": "number"})
        with pytest.raises(InvalidIdError):
            stores.documents("a/b")
        await docs.put("k", {"kind": "x"}, expires_at=timedelta(minutes=5))
        assert (await stores.documents("cache").get("k")).value == {"kind": "x"}
        keys = [info.key async for info in stores.bucket.list("ws/w1/documents/")]
        assert keys == [f"ws/w1/documents/cache/k/{0:020d}.json"]
