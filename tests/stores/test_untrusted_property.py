"""Property: whatever garbage lands in a workspace, every read is right or a typed error.

Each example writes a small workspace (artifacts, one in a blob; a run with versions and
steps; a checkpointed audit stream), then makes random out-of-band changes with the raw
Bucket API: garbage objects planted at chosen keys (new ones and existing ones), random
byte flips in existing objects, and objects copied over others. Fresh stores then read
everything back. Every read must return exactly what was written or raise a
cloudstores error (a StoreError); lists may leave out what the damage hid, but never
return anything that was not written or does not match the filter. ``verify`` and both
``reindex`` must finish with a report, and ``verify`` must report a problem whenever
an audit object changed.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import cloudstores
from cloudstores.errors import IntegrityError, StoreError
from cloudstores.models import Artifact, ExecutionRecord, Lineage, RunSummary
from cloudstores.stores.artifacts import ArtifactOptions, ArtifactStore
from cloudstores.stores.audit import AuditEntry, AuditOptions, AuditStore, Ed25519Signer
from cloudstores.stores.executions import ExecutionStore

T = TypeVar("T")
WS_NAME = "prop"
WS = f"ws/{WS_NAME}/"
ART_OPTIONS = ArtifactOptions(inline_bytes=256)
AUDIT_OPTIONS = AuditOptions(checkpoint_every=2, checkpoint_interval=None)
SIGNER = Ed25519Signer.from_bytes(bytes(range(32)))
"""Signed checkpoints: then every byte of every audit object is covered by a hash or a
signature, so any change must be reported (keyless checkpoints leave their own ``time``
unprotected: see docs/threat-model.md)."""
EXAMPLES = {"memory": 30, "file": 12, "s3": 4}

PLANT_KEYS = [
    "artifacts/a1.json",
    "artifacts/zz.json",
    "artifacts/notes.txt",
    "artifacts/a3.json",
    "blobs/" + "0" * 64 + ".json",
    "runs/r1/v/0000000001.json",
    "runs/r1/v/0000000003.json",
    "runs/r1/v/0000000009.json",
    "runs/r1/v/latest.json",
    "runs/r1/steps/s1.json",
    "runs/r1/steps/s9.json",
    "runs/r1/notes",
    "runs/r2/v/0000000000.json",
    f"audit/s/e/{1:020d}.json",
    f"audit/s/e/{7:020d}.json",
    f"audit/s/e/{50_000_000:020d}.json",
    "audit/s/e/x.json",
    f"audit/s/cp/{2:020d}.json",
    f"audit/s/cp/{60_000_000:020d}.json",
    f"_index/artifacts/{0:020d}.json",
    f"_index/artifacts/{9:020d}.json",
    f"_index/runs/{1:020d}.json",
    f"_index/runs/snap/{0:020d}.json",
]
FIELD_NAMES = [
    "id",
    "run_id",
    "version",
    "content",
    "$format",
    "$blob",
    "$sha256",
    "entries",
    "v",
    "seq",
    "hash",
    "k",
    "kind",
    "task_id",
]

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**63), 2**63 - 1)
    | st.text(max_size=8)
    | st.sampled_from(["r1", "a1", "t1", "0" * 64, "2026-01-01T00:00:00Z"]),
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(st.sampled_from(FIELD_NAMES) | st.text(max_size=5), inner, max_size=4)
    ),
    max_leaves=8,
)
garbage = st.binary(max_size=48) | json_values.map(orjson.dumps)
action = st.one_of(
    st.tuples(st.just("plant"), st.sampled_from(PLANT_KEYS), garbage),
    st.tuples(st.just("flip"), st.integers(0, 10**6), st.integers(0, 10**6), st.integers(1, 255)),
    st.tuples(st.just("copy"), st.integers(0, 10**6), st.integers(0, 10**6)),
)


@dataclass
class Written:
    artifacts: dict[str, Artifact]
    history: list[RunSummary]
    records: dict[str, ExecutionRecord]
    entries: list[AuditEntry]


async def _write(bucket: cloudstores.Bucket) -> Written:
    artifacts = ArtifactStore(bucket, workspace=WS_NAME, options=ART_OPTIONS)
    executions = ExecutionStore(bucket, workspace=WS_NAME)
    stored = [
        await artifacts.store(Artifact(id="a1", run_id="r1", type="text", content="one")),
        await artifacts.store(
            Artifact(id="a2", run_id="r1", type="blob", content={"big": "x" * 1000})
        ),
        await artifacts.store(
            Artifact(
                id="a3",
                run_id="r2",
                type="text",
                content=[3],
                lineage=Lineage(derived_from=("a1", "a2")),
            )
        ),
    ]
    history = [await executions.create_run(RunSummary(run_id="r1"))]
    for status in ("a", "b"):
        history.append(await executions.update_run(RunSummary(run_id="r1", status=status)))
    records = {}
    for i, task in enumerate(("t1", "t2", "t1")):
        record = ExecutionRecord(id=f"s{i}", run_id="r1", task_id=task, cost=float(i))
        records[record.id] = await executions.record(record)
    await artifacts.close()
    await executions.close()
    async with AuditStore(bucket, workspace=WS_NAME, options=AUDIT_OPTIONS, signer=SIGNER) as audit:
        entries = [await audit.append("s", {"i": i}) for i in range(5)]
    return Written({a.id: a for a in stored}, history, records, entries)


async def _snapshot(bucket: cloudstores.Bucket) -> dict[str, bytes]:
    return {info.key: (await bucket.get(info.key)).data async for info in bucket.list(WS)}


async def _attack(bucket: cloudstores.Bucket, actions: list[tuple[Any, ...]]) -> None:
    for act in actions:
        keys = [info.key async for info in bucket.list(WS)]
        if act[0] == "plant":
            await bucket.put(WS + act[1], act[2], mode="overwrite")
        elif act[0] == "flip":
            key = keys[act[1] % len(keys)]
            data = bytearray((await bucket.get(key)).data)
            if data:
                data[act[2] % len(data)] ^= act[3]
                await bucket.put(key, bytes(data), mode="overwrite")
        else:
            source, target = keys[act[1] % len(keys)], keys[act[2] % len(keys)]
            await bucket.put(target, (await bucket.get(source)).data, mode="overwrite")


async def _right_or_typed(read: Awaitable[T], check: Callable[[T], bool]) -> None:
    """``read`` returns a value ``check`` accepts, or raises a StoreError."""
    try:
        value = await read
    except StoreError:
        return
    assert check(value), value


async def _collect(items: AsyncIterator[T], out: list[T]) -> list[T]:
    async for item in items:
        out.append(item)
    return out


async def _check(
    bucket: cloudstores.Bucket, written: Written, before: dict[str, bytes], after: dict[str, bytes]
) -> None:
    arts = written.artifacts
    artifacts = ArtifactStore(bucket, workspace=WS_NAME, options=ART_OPTIONS)
    executions = ExecutionStore(bucket, workspace=WS_NAME)
    audit = AuditStore(bucket, workspace=WS_NAME, options=AUDIT_OPTIONS, signer=SIGNER)

    def known(a: Artifact) -> bool:
        return arts.get(a.id) == a

    for artifact_id, artifact in arts.items():
        await _right_or_typed(artifacts.get(artifact_id), lambda a, want=artifact: a == want)
    for run in ("r1", "r2"):
        await _right_or_typed(
            artifacts.list_by_run(run),
            lambda got, r=run: all(known(a) and a.run_id == r for a in got),
        )
    listed: list[Artifact] = []
    with contextlib.suppress(StoreError):
        await _collect(artifacts.list(type="text"), listed)
    assert all(known(a) and a.type == "text" for a in listed)
    await _right_or_typed(artifacts.get_lineage("a3"), lambda got: all(map(known, got)))

    await _right_or_typed(executions.get_run("r1"), lambda r: r == written.history[-1])
    await _right_or_typed(executions.run_history("r1"), lambda h: h == written.history)
    await _right_or_typed(
        executions.list_runs(), lambda runs: all(r in written.history for r in runs)
    )
    records = written.records
    await _right_or_typed(
        executions.list_records("r1"), lambda got: all(records.get(s.id) == s for s in got)
    )
    await _right_or_typed(
        executions.get_step("r1", "t1"), lambda s: records.get(s.id) == s and s.task_id == "t1"
    )

    for entry in written.entries:
        await _right_or_typed(audit.get("s", entry.seq), lambda e, want=entry: e == want)
    read: list[AuditEntry] = []
    with contextlib.suppress(StoreError):
        await _collect(audit.read("s"), read)
    assert read == written.entries[: len(read)]

    report = await audit.verify("s")
    audit_keys = {
        k
        for k in before.keys() | after.keys()
        if k.startswith((f"{WS}audit/s/e/", f"{WS}audit/s/cp/"))
    }
    if any(before.get(k) != after.get(k) for k in audit_keys):
        assert not report.ok, report
    index_damaged = any(
        before.get(k) != after.get(k) for k in before.keys() | after.keys() if "/_index/" in k
    )
    for store in (artifacts, executions):
        try:
            await store.reindex()
        except IntegrityError:
            # Today's index refuses a damaged segment as a whole; Index v2 skips and
            # reports it. Until then a damaged index may stop reindex, with a typed error.
            assert index_damaged
        await store.close()


@pytest.mark.parametrize("kind", sorted(EXAMPLES))
def test_reads_are_right_or_typed_errors_whatever_is_planted(
    kind: str, make_bucket_url: Any
) -> None:
    @settings(
        max_examples=EXAMPLES[kind],
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
    @given(actions=st.lists(action, min_size=1, max_size=5))
    def run(actions: list[tuple[Any, ...]]) -> None:
        async def example() -> None:
            async with cloudstores.open_bucket(make_bucket_url(kind)) as bucket:
                written = await _write(bucket)
                before = await _snapshot(bucket)
                await _attack(bucket, actions)
                await _check(bucket, written, before, await _snapshot(bucket))

        asyncio.run(example())

    run()
