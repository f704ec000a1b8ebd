"""The SynthOrg repositories on memory and moto: protocols, save/query semantics, the
error mapping, tombstones, tamper-evidence, owned and borrowed stores."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

import cloudstores
from cloudstores.adapters import synthorg as ours
from cloudstores.adapters.synthorg import BucketArtifactRepository, BucketAuditRepository
from cloudstores.errors import AlreadyExistsError, InvalidInputError
from tests.adapters.synthorg import stubs
from tests.adapters.synthorg.stubs import ApprovalRiskLevel, Artifact, ArtifactType, AuditEntry

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def entry(i: int, *, agent: str = "a1", minutes: int | None = None, **kw: object) -> AuditEntry:
    fields: dict[str, object] = {
        "id": f"e-{i}",
        "timestamp": T0 + timedelta(minutes=i if minutes is None else minutes),
        "agent_id": agent,
        "tool_name": "shell",
        "tool_category": "exec",
        "action_type": "exec:run",
        "arguments_hash": f"{i:064x}",
        "verdict": "allow",
        "risk_level": ApprovalRiskLevel.LOW,
        "reason": "ok",
        "evaluation_duration_ms": 1.5,
    }
    fields.update(kw)
    return AuditEntry.model_validate(fields)


def artifact(i: int, **kw: object) -> Artifact:
    fields: dict[str, object] = {
        "id": f"art-{i:03d}",
        "type": ArtifactType.CODE,
        "path": f"src/{i}.py",
        "task_id": "t1",
        "created_by": "a1",
    }
    fields.update(kw)
    return Artifact.model_validate(fields)


async def test_audit_save_and_query(url: str) -> None:
    async with BucketAuditRepository.from_url(
        url, workspace="acme", model=AuditEntry, errors=stubs.Errors
    ) as repo:
        assert isinstance(repo, stubs.AuditRepository)
        east = timezone(timedelta(hours=5))
        await repo.save(entry(1, agent="a1"))
        await repo.save(entry(2, agent="a2", verdict="deny", risk_level=ApprovalRiskLevel.HIGH))
        # saved later, but its own timestamp (another offset) is the oldest
        await repo.save(entry(3, timestamp=(T0 - timedelta(hours=1)).astimezone(east)))
        await repo.save(entry(4, agent="a2", minutes=2))  # same instant as e-2
        got = await repo.query()
        assert [e.id for e in got] == ["e-4", "e-2", "e-1", "e-3"]  # ties: later save first
        assert got[3] == entry(3, timestamp=T0 - timedelta(hours=1))  # the same instant
        assert [e.id for e in await repo.query(agent_id="a2")] == ["e-4", "e-2"]
        assert [e.id for e in await repo.query(verdict="deny")] == ["e-2"]
        assert [e.id for e in await repo.query(risk_level=ApprovalRiskLevel.HIGH)] == ["e-2"]
        assert [e.id for e in await repo.query(action_type="exec:run", limit=2)] == ["e-4", "e-2"]
        # since and until are inclusive, on the entry's timestamp, any offset
        since = (T0 + timedelta(minutes=1)).astimezone(east)
        assert [e.id for e in await repo.query(since=since)] == ["e-4", "e-2", "e-1"]
        assert [e.id for e in await repo.query(until=T0 + timedelta(minutes=1))] == ["e-1", "e-3"]
        assert [e.id for e in await repo.query(since=since, until=since)] == ["e-1"]
        assert await repo.query(agent_id="nobody") == ()

        # a repeated id, identical or not, is a DuplicateRecordError (also ours)
        for again in (entry(1, agent="a1"), entry(1, agent="other")):
            with pytest.raises(stubs.DuplicateRecordError) as caught:
                await repo.save(again)
            assert isinstance(caught.value, AlreadyExistsError)
        assert len(await repo.query()) == 4

        # bad arguments: QueryError (also InvalidInputError), before any request
        bucket = repo.stores.bucket
        before = sum(bucket.requests.values())
        for bad in (
            {"limit": 0},
            {"limit": -3},
            {"since": T0, "until": T0 - timedelta(seconds=1)},
            {"since": datetime(2026, 1, 1)},
        ):
            with pytest.raises(stubs.QueryError) as failed:
                await repo.query(**bad)  # type: ignore[arg-type]
            assert isinstance(failed.value, InvalidInputError)
        assert sum(bucket.requests.values()) == before

        # tamper-evident: the stream verifies (every link, hash and checkpoint)
        report = await repo.verify()
        assert report.ok, report.problems


async def test_audit_without_synthorg_installed_gives_dicts_and_our_errors(url: str) -> None:
    async with cloudstores.open_stores(url, workspace="w") as stores:
        repo = BucketAuditRepository(stores, stream="sec")
        await repo.save(entry(1).model_dump(mode="json"))  # a mapping works too
        (found,) = await repo.query()
        assert found == entry(1).model_dump(mode="json")
        with pytest.raises(ours.DuplicateRecordError) as caught:
            await repo.save(entry(1))
        assert isinstance(caught.value, ours.PersistenceError | AlreadyExistsError)
        assert isinstance(caught.value, AlreadyExistsError)
        with pytest.raises(ours.QueryError):
            await repo.query(limit=0)
        await repo.close()  # borrowed: the stores stay open
        assert await repo.query(limit=1)


async def test_artifacts_crud(url: str) -> None:
    async with BucketArtifactRepository.from_url(
        url, workspace="acme", model=Artifact, errors=stubs.Errors
    ) as repo:
        assert isinstance(repo, stubs.ArtifactRepository)
        assert await repo.get("art-001") is None
        assert await repo.delete("art-001") is False
        for i in (3, 1, 2):
            await repo.save(artifact(i, task_id=f"t{i % 2}", created_by=f"a{i}"))
        await repo.save(artifact(4, type=ArtifactType.TESTS, task_id="t0"))
        assert [a.id for a in await repo.list_artifacts()] == [f"art-00{i}" for i in (1, 2, 3, 4)]
        assert [a.id for a in await repo.list_artifacts(task_id="t1")] == ["art-001", "art-003"]
        assert [a.id for a in await repo.list_artifacts(created_by="a2")] == ["art-002"]
        tests = await repo.list_artifacts(artifact_type=ArtifactType.TESTS)
        assert [a.id for a in tests] == ["art-004"]
        assert await repo.list_artifacts(task_id="t0", artifact_type="code") == (
            artifact(2, task_id="t0", created_by="a2"),
        )
        # save = insert or update
        later = datetime(2026, 5, 1, tzinfo=timezone(timedelta(hours=-3)))
        changed = artifact(2, description="v2", size_bytes=10, created_at=later)
        await repo.save(changed)
        assert await repo.get("art-002") == changed
        by_a1 = await repo.list_artifacts(created_by="a1")
        assert [a.id for a in by_a1] == ["art-001", "art-002", "art-004"]
        # delete is a tombstone: gone from get and lists, its versions kept
        assert await repo.delete("art-002") is True
        assert await repo.delete("art-002") is False
        assert await repo.get("art-002") is None
        assert [a.id for a in await repo.list_artifacts()] == ["art-001", "art-003", "art-004"]
        history = await repo.stores.documents("synthorg-artifacts").history("art-002")
        assert [d.deleted for d in history] == [False, False, True]
        await repo.save(artifact(2))  # an id comes back after a delete
        assert await repo.get("art-002") == artifact(2)


async def test_owned_and_borrowed_stores(make_bucket_url: object) -> None:
    url = make_bucket_url("memory")  # type: ignore[operator]
    repo = BucketAuditRepository.from_url(url, workspace="x", stream="s1", model=AuditEntry)
    await repo.save(entry(1))
    await repo.close()  # owned: flushed and closed; a new one reads it back
    async with BucketAuditRepository.from_url(
        url, workspace="x", stream="s1", model=AuditEntry
    ) as again:
        assert [e.id for e in await again.query()] == ["e-1"]
    async with cloudstores.open_stores(url, workspace="x") as stores:
        other = BucketAuditRepository(stores, stream="s2")
        assert await other.query() == ()  # streams are separate
    with pytest.raises(InvalidInputError):
        BucketAuditRepository("not stores")  # type: ignore[arg-type]
    with pytest.raises(InvalidInputError):
        BucketAuditRepository.from_url(url, stream="bad/name")
    with pytest.raises(cloudstores.errors.ConfigurationError):
        BucketArtifactRepository.from_url(url, errors=object())


async def test_errors_map_to_synthorg_names() -> None:
    errors = ours.ErrorMap(stubs.Errors)
    dup = errors.convert(AlreadyExistsError("x"), saving=True)
    assert isinstance(dup, stubs.DuplicateRecordError) and isinstance(dup, AlreadyExistsError)
    down = errors.convert(cloudstores.errors.BackendUnavailableError("down"))
    assert isinstance(down, stubs.PersistenceConnectionError)
    bad = errors.convert(cloudstores.errors.IntegrityError("bad"))
    assert isinstance(bad, stubs.QueryError) and isinstance(bad, stubs.PersistenceError)
    assert not isinstance(errors.convert(AlreadyExistsError("x")), stubs.DuplicateRecordError)
