"""ArtifactStore on all five backends: round trips, immutability, lists, lineage, limits."""

from __future__ import annotations

import asyncio
import random
from datetime import UTC, datetime, timedelta

import pytest

import cloudstores
from cloudstores.errors import (
    AlreadyExistsError,
    InvalidIdError,
    InvalidInputError,
    NotFoundError,
    PayloadTooLargeError,
    SerializationError,
)
from cloudstores.models import Artifact, Lineage
from cloudstores.stores.artifacts import ArtifactStore

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def art(i: int, run: str = "run-1", **kw: object) -> Artifact:
    fields: dict[str, object] = {
        "id": f"art-{i:04d}",
        "run_id": run,
        "content": {"i": i},
        "created_at": T0 + timedelta(minutes=i),
    }
    fields.update(kw)
    return Artifact(**fields)


async def test_round_trip_every_field(artifacts: ArtifactStore) -> None:
    a = Artifact(
        id="a1",
        run_id="r1",
        type="llm_response",
        content={"text": "hi", "n": [1, 2.5]},
        status="complete",
        lineage=Lineage(produced_by="node-1", derived_from=("a0",)),
        metadata={"model": "x", "tokens": 12},
        created_by="agent-7",
        task_id="t-3",
    )
    assert await artifacts.store(a) == a
    assert await artifacts.get("a1") == a


async def test_get_is_one_get(artifacts: ArtifactStore, bucket: cloudstores.Bucket) -> None:
    await artifacts.store(art(1))
    bucket.requests.clear()
    await artifacts.get("art-0001")
    assert dict(bucket.requests) == {"get": 1}


async def test_immutable_same_content_is_idempotent(artifacts: ArtifactStore) -> None:
    first = await artifacts.store(art(1))
    again = await artifacts.store(art(1, created_at=T0 + timedelta(days=3)))
    assert again == first  # the stored one, with its original created_at
    with pytest.raises(AlreadyExistsError, match="different content"):
        await artifacts.store(art(1, content={"i": "changed"}))
    assert (await artifacts.get("art-0001")).content == {"i": 1}
    assert [a.id for a in await artifacts.list_by_run("run-1")] == ["art-0001"]


async def test_large_content_shares_one_blob(
    artifacts: ArtifactStore, bucket: cloudstores.Bucket
) -> None:
    big = {"text": "x" * 10_000}
    await artifacts.store(Artifact(id="big-1", run_id="r", content=big))
    await artifacts.store(Artifact(id="big-2", run_id="r", content=big))
    assert (await artifacts.get("big-2")).content == big
    blobs = [i.key async for i in bucket.list("ws/team-a/blobs/")]
    assert len(blobs) == 1
    bucket.requests.clear()
    await artifacts.get("big-1")
    assert dict(bucket.requests) == {"get": 2}


async def test_bad_input_writes_nothing(
    artifacts: ArtifactStore, bucket: cloudstores.Bucket
) -> None:
    for bad_id in ["a/b", "..", "a..b", "x\n", "", "x" * 257, "ünï"]:
        with pytest.raises(InvalidIdError):
            Artifact(id=bad_id, run_id="r")
        with pytest.raises(InvalidIdError):
            await artifacts.get(bad_id)
    with pytest.raises(InvalidIdError):
        Artifact(id="ok", run_id="r", lineage=Lineage(derived_from=("../x",)))
    with pytest.raises(SerializationError):
        await artifacts.store(Artifact(id="nan", run_id="r", content={"v": float("nan")}))
    with pytest.raises(SerializationError):
        await artifacts.store(Artifact(id="inf", run_id="r", content=[float("inf")]))
    with pytest.raises(SerializationError):
        await artifacts.store(Artifact(id="obj", run_id="r", content={"v": object()}))
    with pytest.raises(SerializationError):
        # whole bytes content is stored (test_content.py); nested bytes are refused
        await artifacts.store(Artifact(id="bytes", run_id="r", content={"raw": b"raw"}))
    with pytest.raises(PayloadTooLargeError):
        await artifacts.store(Artifact(id="huge", run_id="r", content="x" * (1024 * 1024 + 1)))
    with pytest.raises(InvalidInputError):
        await artifacts.store({"id": "dict"})  # type: ignore[arg-type]
    with pytest.raises(InvalidInputError):
        Artifact(id="x", run_id="r", unknown_field=1)
    assert sum(bucket.requests.values()) == 0
    assert [i async for i in bucket.list("")] == []


async def test_missing_artifact(artifacts: ArtifactStore) -> None:
    with pytest.raises(NotFoundError, match="nope"):
        await artifacts.get("nope")
    assert await artifacts.get_or_none("nope") is None
    with pytest.raises(NotFoundError):
        await artifacts.get_lineage("nope")


async def test_list_filters_and_pages_match_brute_force(artifacts: ArtifactStore) -> None:
    rng = random.Random(5)
    stored = [
        art(
            i,
            run=f"run-{rng.randint(1, 3)}",
            type=rng.choice(["text", "code", "plan"]),
            created_by=rng.choice(["alice", "bob", None]),
            task_id=rng.choice(["t1", "t2"]),
        )
        for i in range(60)
    ]
    rng.shuffle(stored)
    await asyncio.gather(*(artifacts.store(a) for a in stored))

    async def listed(**kw: object) -> list[str]:
        return [a.id async for a in artifacts.list(**kw)]  # type: ignore[arg-type]

    def brute(pred: object = None, limit: int | None = None) -> list[str]:
        ids = sorted(a.id for a in stored if pred is None or pred(a))  # type: ignore[operator]
        return ids[:limit]

    assert await listed() == brute()
    assert await listed(run_id="run-2") == brute(lambda a: a.run_id == "run-2")
    assert await listed(type="code", created_by="bob") == brute(
        lambda a: a.type == "code" and a.created_by == "bob"
    )
    assert await listed(task_id="t1", run_id="run-1") == brute(
        lambda a: a.task_id == "t1" and a.run_id == "run-1"
    )
    since, until = T0 + timedelta(minutes=10), T0 + timedelta(minutes=30)
    assert await listed(since=since, until=until) == brute(lambda a: since <= a.created_at < until)
    naive = since.replace(tzinfo=None)  # naive datetimes are UTC
    assert await listed(since=naive) == brute(lambda a: a.created_at >= since)
    # pages of 7, by id
    pages: list[str] = []
    cursor = None
    while True:
        page = await listed(limit=7, start_after=cursor) if cursor else await listed(limit=7)
        pages.extend(page)
        if len(page) < 7:
            break
        cursor = page[-1]
    assert pages == brute()
    by_run = [a.id for a in await artifacts.list_by_run("run-3")]
    assert sorted(by_run) == brute(lambda a: a.run_id == "run-3")


async def test_lineage_dag_shared_parents_and_cycle(artifacts: ArtifactStore) -> None:
    #   root1   root2
    #     \    /    \
    #      mid1     mid2
    #        \      /
    #         leaf
    def node(name: str, *parents: str) -> Artifact:
        return Artifact(id=name, run_id="r", lineage=Lineage(derived_from=parents))

    for a in [
        node("root1"),
        node("root2"),
        node("mid1", "root1", "root2"),
        node("mid2", "root2"),
        node("leaf", "mid1", "mid2", "ghost"),
    ]:
        await artifacts.store(a)
    ids = [a.id for a in await artifacts.get_lineage("leaf")]
    assert ids[0] == "leaf"
    assert sorted(ids) == ["leaf", "mid1", "mid2", "root1", "root2"]  # each once; ghost skipped
    assert ids.index("mid1") < ids.index("root1")
    # bad data: a cycle c1 -> c2 -> c3 -> c1
    for a in [node("c1", "c3"), node("c2", "c1"), node("c3", "c2")]:
        await artifacts.store(a)
    assert sorted(a.id for a in await artifacts.get_lineage("c1")) == ["c1", "c2", "c3"]


async def test_concurrent_writers_each_listed_once(artifacts: ArtifactStore) -> None:
    async def writer(w: int) -> None:
        for i in range(50):
            await artifacts.store(Artifact(id=f"w{w}-{i}", run_id=f"run-{w % 4}", content=i))

    await asyncio.gather(*(writer(w) for w in range(16)))
    listed = [a.id async for a in artifacts.list()]
    assert len(listed) == 800
    assert sorted(listed) == sorted(f"w{w}-{i}" for w in range(16) for i in range(50))
    # a second, cold reader of the same workspace sees the same
    cold = ArtifactStore(artifacts.bucket, workspace="team-a")
    assert sorted([a.id async for a in cold.list()]) == sorted(listed)
    by_run = await cold.list_by_run("run-1")
    assert len(by_run) == 200 and all(a.run_id == "run-1" for a in by_run)
