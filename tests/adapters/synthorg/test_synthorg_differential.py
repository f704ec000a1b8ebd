"""Ours against the reference of SynthOrg's SQLite repositories (reference.py): the same
random call sequence (fixed seed), every result and every error class compared.

Differences (listed in docs/frameworks.md, checked here so the list stays true):

* Timestamps come back with the offset they were saved with; SQLite returns them in UTC.
  Same instant, so the models compare equal; the JSON text differs (counted below).
* Equal timestamps: SQLite leaves their order unspecified; ours (and the reference)
  put the later save first.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from cloudstores.adapters.synthorg import BucketArtifactRepository, BucketAuditRepository
from tests.adapters.synthorg import stubs
from tests.adapters.synthorg.reference import (
    ReferenceArtifactRepository,
    ReferenceAuditRepository,
    normalize,
)
from tests.adapters.synthorg.stubs import ApprovalRiskLevel, Artifact, ArtifactType, AuditEntry

OPERATIONS = 320
T0 = datetime(2026, 3, 1, tzinfo=UTC)
ZONES = [UTC, timezone(timedelta(hours=2)), timezone(timedelta(hours=-7, minutes=-30))]


def _when(rng: random.Random) -> datetime:
    # few distinct instants (ties), in several offsets, some with microseconds
    at = T0 + timedelta(minutes=rng.randrange(40), microseconds=rng.choice([0, 0, 250_001]))
    return at.astimezone(rng.choice(ZONES))


def _entry(rng: random.Random, n: int, used: list[str]) -> AuditEntry:
    fresh = f"e{n}-{rng.randrange(9)}"
    used.append(fresh)
    return AuditEntry(
        id=rng.choice(used) if rng.random() < 0.2 else fresh,  # some ids again
        timestamp=_when(rng),
        agent_id=rng.choice(["a1", "a2", "a3", None]),
        tool_name="t",
        tool_category="c",
        action_type=rng.choice(["fs:read", "fs:write", "net:get"]),
        arguments_hash=f"{n:064x}",
        verdict=rng.choice(["allow", "deny", "escalate", "output_scan"]),
        risk_level=rng.choice(list(ApprovalRiskLevel)),
        reason="r",
        evaluation_duration_ms=rng.choice([0.0, 1.25]),
    )


def _query(rng: random.Random) -> dict[str, Any]:
    kw: dict[str, Any] = {}
    if rng.random() < 0.4:
        kw["agent_id"] = rng.choice(["a1", "a2", "a3", "zz"])
    if rng.random() < 0.3:
        kw["action_type"] = rng.choice(["fs:read", "fs:write", "net:get"])
    if rng.random() < 0.3:
        kw["verdict"] = rng.choice(["allow", "deny", "escalate", "output_scan"])
    if rng.random() < 0.3:
        kw["risk_level"] = rng.choice(list(ApprovalRiskLevel))
    if rng.random() < 0.4:
        kw["since"] = _when(rng)
    if rng.random() < 0.4:
        kw["until"] = _when(rng)
    if rng.random() < 0.7:
        kw["limit"] = rng.choice([1, 3, 10, 100, 0, -1])
    if rng.random() < 0.03:
        kw["since"] = datetime(2026, 3, 1)  # naive
    return kw


def _artifact(rng: random.Random) -> Artifact:
    return Artifact(
        id=rng.choice(["a-1", "a-10", "a-2", "b", "B", "é", "x:y/z", "a-1 "]),
        type=rng.choice(list(ArtifactType)),
        path="p",
        task_id=rng.choice(["t1", "t2"]),
        created_by=rng.choice(["u1", "u2", "u3"]),
        description=rng.choice(["", "d"]),
        size_bytes=rng.randrange(3),
        created_at=rng.choice([None, _when(rng)]),
    )


async def _run(call: Any) -> tuple[str, Any]:
    try:
        return "ok", await call
    except stubs.PersistenceError as exc:
        return type(exc).__name__, None


async def test_differential_against_the_sqlite_reference(make_bucket_url: Any) -> None:
    url = make_bucket_url("memory")  # on moto too it passes (about 100 s): kept lean here
    rng = random.Random(20261126)
    ref_audit, ref_arts = ReferenceAuditRepository(), ReferenceArtifactRepository()
    audit = BucketAuditRepository.from_url(url, model=AuditEntry, errors=stubs.Errors)
    arts = BucketArtifactRepository(audit.stores, model=Artifact, errors=stubs.Errors)
    kinds: dict[str, int] = {}
    offsets_differ = 0
    seen: dict[str, int] = {}
    used: list[str] = []
    try:
        for n in range(OPERATIONS):
            op = rng.choice(["save", "save", "query", "a_save", "a_get", "a_list", "a_delete"])
            kinds[op] = kinds.get(op, 0) + 1
            if op == "save":
                e = _entry(rng, n, used)
                calls = (audit.save(e), ref_audit.save(e))
            elif op == "query":
                kw = _query(rng)
                calls = (audit.query(**kw), ref_audit.query(**kw))
            elif op == "a_save":
                a = _artifact(rng)
                calls = (arts.save(a), ref_arts.save(a))
            elif op == "a_get":
                aid = _artifact(rng).id
                calls = (arts.get(aid), ref_arts.get(aid))
            elif op == "a_list":
                kw = {
                    k: v
                    for k, v in (
                        ("task_id", rng.choice([None, "t1", "t2"])),
                        ("created_by", rng.choice([None, "u1", "u2"])),
                        ("artifact_type", rng.choice([None, *ArtifactType])),
                    )
                    if v is not None
                }
                calls = (arts.list_artifacts(**kw), ref_arts.list_artifacts(**kw))
            else:
                aid = _artifact(rng).id
                calls = (arts.delete(aid), ref_arts.delete(aid))
            got, want = await _run(calls[0]), await _run(calls[1])
            assert got == want, (n, op, got, want)  # models: equal fields, instants equal
            outcome = got[0] if got[0] != "ok" else ("rows" if got[1] else "empty/none")
            seen[f"{op}:{outcome}"] = seen.get(f"{op}:{outcome}", 0) + 1
            if normalize(got[1]) != normalize(want[1]):
                offsets_differ += 1  # the same instants, in the offset they were saved with
        # every kind of answer was exercised
        for kind in ("save:DuplicateRecordError", "query:QueryError", "query:rows", "a_list:rows"):
            assert seen.get(kind), (kind, seen)
        print(
            f"\n{OPERATIONS} operations, outcomes {sorted(seen.items())}; equal as models: "
            f"all; equal as JSON text: all but {offsets_differ} (UTC offset of timestamps)"
        )
    finally:
        await audit.close()
