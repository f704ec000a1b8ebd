"""Bucket contents are untrusted input: planted, swapped, deleted and malformed objects.

Each test makes an out-of-band change with the raw Bucket API (overwrite, delete) and
checks that the stores answer with the right data or a cloudstores error naming the
key, never a wrong answer or a raw exception. Each one failed on main before the fix.
"""

from __future__ import annotations

import tracemalloc
from datetime import UTC, datetime, timedelta

import orjson
import pytest
from typer.testing import CliRunner

import cloudstores
from cloudstores import codec
from cloudstores.cli import app
from cloudstores.errors import IntegrityError, InvalidInputError, NotFoundError
from cloudstores.models import MAX_FIELD_CHARS, Artifact, ExecutionRecord, RunSummary
from cloudstores.stores.artifacts import ArtifactOptions, ArtifactStore
from cloudstores.stores.audit import AuditOptions, AuditStore
from cloudstores.stores.executions import ExecutionStore
from cloudstores.stores.objects import seal

WS = "ws/team-a/"
T0 = datetime(2026, 1, 1, tzinfo=UTC)


async def _json(bucket: cloudstores.Bucket, key: str) -> dict[str, object]:
    value = orjson.loads((await bucket.get(key)).data)
    assert isinstance(value, dict)
    return value


async def _overwrite(
    bucket: cloudstores.Bucket, key: str, value: dict[str, object], *, sealed: bool = True
) -> None:
    """Overwrite ``key`` with ``value``; ``sealed``: with a valid checksum, as an attacker
    who knows the format would write it (so the check under test is not the checksum)."""
    if sealed:
        value = {k: v for k, v in value.items() if k != "$sha256"}
    await bucket.put(key, seal(value) if sealed else codec.dumps(value), mode="overwrite")


# ---------------------------------------------------------------------- artifacts
async def test_user_content_cannot_forge_a_blob_pointer(artifacts: ArtifactStore) -> None:
    big = {"text": "x" * 10_000}  # over inline_bytes: stored in a blob
    await artifacts.store(Artifact(id="big", run_id="r", content=big))
    digest = codec.sha256_hex(codec.dumps(big))
    forged = [
        {"$cloudstores_blob": digest},
        {"$cloudstores_blob": "nope"},
        {"$cloudstores_blob": 5},
        {"$blob": digest},
    ]
    for i, content in enumerate(forged):
        await artifacts.store(Artifact(id=f"user-{i}", run_id="r", content=content))
        assert (await artifacts.get(f"user-{i}")).content == content
    with pytest.raises(InvalidInputError):  # the pointer field is not a model field
        Artifact(id="x", run_id="r", **{"$blob": digest})  # type: ignore[arg-type]


async def test_format_1_records_are_still_read(
    artifacts: ArtifactStore, bucket: cloudstores.Bucket
) -> None:
    content = {"text": "y" * 10_000}
    data = codec.dumps(content)
    digest = codec.sha256_hex(data)
    await bucket.put(f"{WS}blobs/{digest}.json", data)
    old = Artifact(id="old", run_id="r", content={"$cloudstores_blob": digest}).model_dump()
    await bucket.put(f"{WS}artifacts/old.json", codec.dumps(old))
    inline = Artifact(id="old-inline", run_id="r", content={"a": 1}).model_dump()
    await bucket.put(f"{WS}artifacts/old-inline.json", codec.dumps(inline))
    assert (await artifacts.get("old")).content == content
    assert (await artifacts.get("old-inline")).content == {"a": 1}


async def test_get_checks_the_stored_id_against_the_key(
    artifacts: ArtifactStore, bucket: cloudstores.Bucket
) -> None:
    await artifacts.store(Artifact(id="a", run_id="r", content="A"))
    await bucket.put(f"{WS}artifacts/b.json", (await bucket.get(f"{WS}artifacts/a.json")).data)
    with pytest.raises(IntegrityError) as caught:
        await artifacts.get("b")
    assert caught.value.key == f"{WS}artifacts/b.json"


async def test_a_rewritten_index_never_returns_another_runs_artifact(
    artifacts: ArtifactStore, bucket: cloudstores.Bucket
) -> None:
    await artifacts.store(Artifact(id="art-a", run_id="rA", type="t", content=1, created_at=T0))
    await artifacts.store(Artifact(id="art-b", run_id="rB", type="t", content=2, created_at=T0))
    await artifacts.close()
    # rewrite every index object so that art-a's entry claims run rB (same length)
    async for info in bucket.list(f"{WS}_index/artifacts/"):
        data = (await bucket.get(info.key)).data
        await bucket.put(info.key, data.replace(b'"rA"', b'"rB"'), mode="overwrite")
    fresh = ArtifactStore(bucket, workspace="team-a")
    assert [a.id for a in await fresh.list_by_run("rB")] == ["art-b"]
    assert [a.id async for a in fresh.list(run_id="rB")] == ["art-b"]
    assert [a.id async for a in fresh.list(type="t", limit=1)] == ["art-a"]
    assert [m.key for m in fresh.index_mismatches] == [f"{WS}artifacts/art-a.json"] * 2


@pytest.mark.parametrize("index_inline_bytes", [0, 2048])
async def test_a_swapped_data_object_is_not_listed_under_the_wrong_run(
    bucket: cloudstores.Bucket, index_inline_bytes: int
) -> None:
    artifacts = ArtifactStore(
        bucket, workspace="team-a", options=ArtifactOptions(index_inline_bytes=index_inline_bytes)
    )
    stored = await artifacts.store(Artifact(id="x", run_id="rB", content="mine"))
    planted = Artifact(id="x", run_id="rA", content="theirs").model_dump()
    await bucket.put(
        f"{WS}artifacts/x.json", seal({**planted, "$format": 2}), mode="overwrite"
    )  # a well-formed record: its checksum recomputed
    for reader in (artifacts, ArtifactStore(bucket, workspace="team-a")):
        listed = await reader.list_by_run("rB")
        paged = [a async for a in reader.list(run_id="rB")]
        if index_inline_bytes:
            # the entry carries the record as stored: the list answers from it (rB, "mine")
            # and never with the planted object; `get` reads the data object
            assert listed == paged == [stored]
        else:
            assert listed == paged == []
        assert await reader.list_by_run("rA") == []
    assert (await artifacts.get("x")).content == "theirs"
    await artifacts.close()


async def test_a_tampered_inline_copy_is_never_returned(bucket: cloudstores.Bucket) -> None:
    """The inline copy in an index entry is checked like a data object: a copy whose
    checksum fails, whose id is not the entry's key, that points at a blob or that does
    not match its entry's run is reported, and the data object is read instead."""
    writer = ArtifactStore(bucket, workspace="team-a")
    good = await writer.store(Artifact(id="x", run_id="rB", content="mine"))
    await writer.store(Artifact(id="y", run_id="rB", content="yours"))
    await writer.close()
    prefix = f"{WS}_index/artifacts/"

    async def rewrite(change: object) -> None:
        # segments and the folded manifest (two artifacts: no chunk was written)
        async for info in bucket.list(prefix):
            body = orjson.loads((await bucket.get(info.key)).data)
            for entry in [*body.get("entries", []), *body.get("tail", [])]:
                if entry["k"] == "x" and "d" in entry:
                    change(entry)  # type: ignore[operator]
            await bucket.put(info.key, codec.dumps(body), mode="overwrite")

    def sealed(record: dict[str, object]) -> dict[str, object]:
        return orjson.loads(seal(record))

    base = {k: v for k, v in good.model_dump(mode="json").items()}
    tampers = [
        # checksum no longer matches
        lambda e: e["d"].update(content="forged"),
        # well sealed, but another id than the entry's key
        lambda e: e.update(d=sealed({**base, "id": "y", "$format": 2})),
        # well sealed, but another run than the entry (and the query)
        lambda e: e.update(d=sealed({**base, "run_id": "rA", "$format": 2})),
        # well sealed, but a blob pointer (an inline copy never has one)
        lambda e: e.update(d=sealed({**base, "content": None, "$blob": "0" * 64, "$format": 2})),
        # no checksum at all (format 1 shape)
        lambda e: e.update(d={**base}),
    ]
    for tamper in tampers:
        await rewrite(tamper)
        reader = ArtifactStore(bucket, workspace="team-a")
        bucket.requests.clear()
        found = await reader.list_by_run("rB")
        assert [a.id for a in found] == ["x", "y"]
        assert found[0] == good  # from the data object, never the tampered copy
        assert bucket.requests["get"] >= 1 + 1  # the data object of x was read
        assert [m.key for m in reader.inline_mismatches] == [f"{WS}artifacts/x.json"]
        assert not reader.index_mismatches
        assert [a.content async for a in reader.list(run_id="rB")] == ["mine", "yours"]


async def test_artifact_reads_answer_integrity_errors(
    artifacts: ArtifactStore, bucket: cloudstores.Bucket
) -> None:
    await artifacts.store(Artifact(id="big", run_id="r", content={"t": "z" * 10_000}))
    for i, body in enumerate(
        [
            b"[]",
            b'{"id": "bad-0"}',
            b'{"$format": 7}',
            b"\xff\xfe",
            b'{"$format": 2, "$blob": "../x", "id": "bad-4"}',
        ]
    ):
        await bucket.put(f"{WS}artifacts/bad-{i}.json", body)
        with pytest.raises(IntegrityError) as caught:
            await artifacts.get(f"bad-{i}")
        assert caught.value.key == f"{WS}artifacts/bad-{i}.json"
    blob = next([i.key async for i in bucket.list(f"{WS}blobs/")].__iter__())
    await bucket.delete(blob)
    with pytest.raises(IntegrityError, match="missing"):
        await artifacts.get("big")


async def test_artifact_reindex_skips_and_reports_strays(
    artifacts: ArtifactStore, bucket: cloudstores.Bucket
) -> None:
    await artifacts.store(Artifact(id="ok", run_id="r"))
    orphan = Artifact(id="orphan", run_id="r").model_dump()
    await bucket.put(f"{WS}artifacts/orphan.json", seal({**orphan, "$format": 2}))
    await bucket.put(f"{WS}artifacts/notes.txt", b"hello")
    await bucket.put(f"{WS}artifacts/broken.json", b"{not json")
    await bucket.put(
        f"{WS}artifacts/liar.json",
        seal({**Artifact(id="other", run_id="r").model_dump(), "$format": 2}),
    )
    report = await artifacts.reindex()
    assert report.added == ("orphan",)
    assert sorted(s.key for s in report.skipped) == sorted(
        f"{WS}artifacts/{n}" for n in ("notes.txt", "broken.json", "liar.json")
    )
    assert report.scanned == 5


async def test_a_flipped_byte_that_keeps_valid_json_is_detected(
    artifacts: ArtifactStore, executions: ExecutionStore, bucket: cloudstores.Bucket
) -> None:
    await artifacts.store(Artifact(id="a", run_id="r", content={"text": "hello"}))
    await executions.create_run(RunSummary(run_id="r", status="running"))
    for key, old, new in (
        (f"{WS}artifacts/a.json", b"hello", b"hellp"),
        (f"{WS}runs/r/v/0000000000.json", b"running", b"runninh"),
    ):
        data = (await bucket.get(key)).data
        await bucket.put(key, data.replace(old, new), mode="overwrite")
    with pytest.raises(IntegrityError, match="checksum"):
        await artifacts.get("a")
    with pytest.raises(IntegrityError, match="checksum"):
        await executions.get_run("r")


# ---------------------------------------------------------------------- runs and steps
async def test_get_run_checks_run_id_and_version_against_the_key(
    executions: ExecutionStore, bucket: cloudstores.Bucket
) -> None:
    await executions.create_run(RunSummary(run_id="rA", status="a"))
    await executions.create_run(RunSummary(run_id="rB", status="b"))
    await executions.update_run(RunSummary(run_id="rB", status="b1"))
    v0 = f"{WS}runs/rB/v/0000000000.json"
    await bucket.put(
        v0, (await bucket.get(f"{WS}runs/rA/v/0000000000.json")).data, mode="overwrite"
    )
    with pytest.raises(IntegrityError) as caught:
        await executions.run_history("rB")
    assert caught.value.key == v0
    v1 = f"{WS}runs/rB/v/0000000001.json"
    body = await _json(bucket, v1)
    await _overwrite(bucket, v1, {**body, "version": 7})
    with pytest.raises(IntegrityError) as caught:
        await executions.get_run("rB")
    assert caught.value.key == v1


async def test_step_records_are_checked_against_the_key(
    executions: ExecutionStore, bucket: cloudstores.Bucket
) -> None:
    await executions.create_run(RunSummary(run_id="r"))
    await executions.record(ExecutionRecord(id="s1", run_id="r", task_id="t"))
    await executions.record(ExecutionRecord(id="s2", run_id="r", task_id="t", timestamp=T0))
    planted = ExecutionRecord(id="s1", run_id="r", task_id="other").model_dump()
    await _overwrite(bucket, f"{WS}runs/r/steps/s2.json", planted, sealed=False)  # no checksum
    with pytest.raises(IntegrityError) as caught:
        await executions.list_records("r")
    assert caught.value.key == f"{WS}runs/r/steps/s2.json"
    # a record whose task no longer matches its index entry is not the task's answer
    await _overwrite(
        bucket,
        f"{WS}runs/r/steps/s2.json",
        ExecutionRecord(id="s2", run_id="r", task_id="other").model_dump(),
        sealed=False,
    )
    assert (await executions.get_step("r", "t")).id == "s1"


async def test_a_gap_in_run_history_is_detected(
    executions: ExecutionStore, bucket: cloudstores.Bucket
) -> None:
    await executions.create_run(RunSummary(run_id="r"))
    for i in range(5):
        await executions.update_run(RunSummary(run_id="r", status=f"s{i}"))
    await bucket.delete(f"{WS}runs/r/v/0000000003.json")
    with pytest.raises(IntegrityError, match="version 3") as caught:
        await executions.run_history("r")
    assert caught.value.key == f"{WS}runs/r/v/0000000003.json"
    cold = ExecutionStore(bucket, workspace="team-a")
    with pytest.raises(IntegrityError, match="version 3"):
        await cold.run_history("r")
    # the newest version deleted: the warm reader knows it existed
    await bucket.delete(f"{WS}runs/r/v/0000000005.json")
    with pytest.raises(IntegrityError, match="version 5"):
        await executions.get_run("r")
    with pytest.raises(IntegrityError, match="version 5"):
        await cold.get_run("r")  # the index knows it
    with pytest.raises(IntegrityError):
        await executions.update_run(RunSummary(run_id="r", status="refill"))
    assert [i.key async for i in bucket.list(f"{WS}runs/r/v/")][-1].endswith("04.json")


async def test_list_runs_checks_each_run_against_the_filter(
    executions: ExecutionStore, bucket: cloudstores.Bucket
) -> None:
    await executions.create_run(RunSummary(run_id="r1", status="done", started_at=T0))
    await executions.create_run(
        RunSummary(run_id="r2", status="running", started_at=T0 + timedelta(hours=1))
    )
    key = f"{WS}runs/r2/v/0000000000.json"
    body = await _json(bucket, key)
    await _overwrite(bucket, key, {**body, "status": "failed"})
    assert [r.run_id for r in await executions.list_runs(status="running")] == []
    assert [r.run_id for r in await executions.list_runs()] == ["r2", "r1"]
    assert [m.key for m in executions.index_mismatches] == [key]


async def test_run_reads_answer_integrity_errors(
    executions: ExecutionStore, bucket: cloudstores.Bucket
) -> None:
    for i, body in enumerate([b"[1]", b'{"run_id": 5}', b"nul", b'{"run_id": "zz"}']):
        await bucket.put(f"{WS}runs/r{i}/v/0000000000.json", body)
        with pytest.raises(IntegrityError) as caught:
            await executions.get_run(f"r{i}")
        assert caught.value.key == f"{WS}runs/r{i}/v/0000000000.json"
    digest = await executions.store_workflow_snapshot("a: 1", 1)
    key = f"{WS}workflows/{digest}.json"
    await _overwrite(bucket, key, {**(await _json(bucket, key)), "content": "b: 2\n"})
    with pytest.raises(IntegrityError):
        await executions.get_workflow_snapshot(digest)


async def test_run_reindex_skips_and_reports_strays(
    executions: ExecutionStore, bucket: cloudstores.Bucket
) -> None:
    await executions.create_run(RunSummary(run_id="r"))
    await bucket.put(f"{WS}runs/r/v/latest.json", b"{}")
    await bucket.put(f"{WS}runs/r/notes.txt", b"x")
    await bucket.put(f"{WS}runs/r/v/0000000001.json", b"garbage")
    orphan = ExecutionRecord(id="s9", run_id="r", task_id="t").model_dump()
    await bucket.put(f"{WS}runs/r/steps/s9.json", codec.dumps(orphan))
    report = await executions.reindex()
    assert report.added == ("s:r:s9",)
    assert sorted(s.key for s in report.skipped) == sorted(
        f"{WS}runs/r/{n}" for n in ("v/latest.json", "notes.txt", "v/0000000001.json")
    )


# ---------------------------------------------------------------------- audit
async def test_audit_get_checks_the_entry_hash(bucket: cloudstores.Bucket) -> None:
    options = AuditOptions(checkpoint_every=None, checkpoint_interval=None)
    async with AuditStore(bucket, workspace="team-a", options=options) as audit:
        for i in range(3):
            await audit.append("s", {"i": i})
    key = f"{WS}audit/s/e/{1:020d}.json"
    doc = await _json(bucket, key)
    entries = doc["entries"]
    assert isinstance(entries, list)
    entries[0]["event"] = {"i": 99}
    await _overwrite(bucket, key, doc, sealed=False)
    fresh = AuditStore(bucket, workspace="team-a", options=options)
    with pytest.raises(IntegrityError) as caught:
        await fresh.get("s", 1)
    assert caught.value.key == key
    assert (await fresh.get("s", 2)).event == {"i": 2}


async def test_verify_allocation_is_bounded_whatever_keys_are_planted(
    bucket: cloudstores.Bucket,
) -> None:
    options = AuditOptions(checkpoint_every=None, checkpoint_interval=None)
    async with AuditStore(bucket, workspace="team-a", options=options) as audit:
        await audit.append_many("s", [{"i": 0}, {"i": 1}])
        planted = f"{WS}audit/s/e/{50_000_000:020d}.json"
        await bucket.put(planted, b'{"not": "an entry"}')
        await bucket.put(f"{WS}audit/s/cp/{90_000_000:020d}.json", b"{}")
        tracemalloc.start()
        try:
            report = await audit.verify("s")
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
    assert peak < 20 * 1024 * 1024, peak
    assert not report.ok
    found = {(p.kind, p.seq) for p in report.problems}
    assert ("unreadable", 50_000_000) in found and ("missing", 2) in found
    assert ("bad_checkpoint", 89_999_999) in found


async def test_stray_audit_keys_block_no_writer_or_reader(bucket: cloudstores.Bucket) -> None:
    options = AuditOptions(checkpoint_every=2, checkpoint_interval=None)
    async with AuditStore(bucket, workspace="team-a", options=options) as audit:
        await audit.append("s", {"i": 0})
    await bucket.put(f"{WS}audit/s/e/notes.txt", b"x")
    await bucket.put(f"{WS}audit/s/cp/readme.json", b"x")
    async with AuditStore(bucket, workspace="team-a", options=options) as audit:
        for i in range(1, 4):
            assert (await audit.append("s", {"i": i})).seq == i
        assert [e.event["i"] async for e in audit.read("s")] == [0, 1, 2, 3]
        assert (await audit.head("s")).size == 4
        report = await audit.verify("s")
    assert {p.kind for p in report.problems} == {"unexpected"}
    assert report.size == 4 and report.last_checkpoint == 4


# ---------------------------------------------------------------------- inputs
async def test_indexed_fields_are_bounded_before_any_request(
    artifacts: ArtifactStore, executions: ExecutionStore, bucket: cloudstores.Bucket
) -> None:
    long = "t" * (MAX_FIELD_CHARS + 1)
    for fields in (
        {"type": long},
        {"task_id": long},
        {"created_by": long},
        {"status": "s" * 4 * 1024 * 1024},
    ):
        with pytest.raises(InvalidInputError):
            Artifact(id="a", run_id="r", **fields)  # type: ignore[arg-type]
    with pytest.raises(InvalidInputError):
        RunSummary(run_id="r", user_id=long)
    with pytest.raises(InvalidInputError):
        ExecutionRecord(id="s", run_id="r", task_id=long)
    Artifact(id="a", run_id="r", type="t" * MAX_FIELD_CHARS)  # the limit itself is fine
    assert sum(bucket.requests.values()) == 0


async def test_wrong_argument_types_are_invalid_input_before_any_request(
    artifacts: ArtifactStore, executions: ExecutionStore, bucket: cloudstores.Bucket
) -> None:
    bad_options = [
        {"fetch_concurrency": 0},
        {"fetch_concurrency": "8"},
        {"max_bytes": -1},
        {"inline_bytes": 1.5},
        {"max_bytes": True},
    ]
    for kwargs in bad_options:
        with pytest.raises(InvalidInputError):
            ArtifactOptions(**kwargs)  # type: ignore[arg-type]
    for kwargs in (
        {"read_concurrency": "4"},
        {"max_batch": 2.0},
        {"max_wait": "1"},
        {"checkpoint_every": 1.5},
        {"max_batch_bytes": 1 << 40},
    ):
        with pytest.raises(InvalidInputError):
            AuditOptions(**kwargs)  # type: ignore[arg-type]
    with pytest.raises(InvalidInputError):
        ArtifactStore("memory://x")  # type: ignore[arg-type]
    with pytest.raises(InvalidInputError):
        ExecutionStore(bucket, fetch_concurrency=0)
    calls = [
        lambda: artifacts.get(5),  # type: ignore[arg-type]
        lambda: artifacts.list_by_run(None),  # type: ignore[arg-type]
        lambda: artifacts.reindex(on_progress=3),  # type: ignore[arg-type]
        lambda: executions.list_runs(offset="1"),  # type: ignore[arg-type]
        lambda: executions.list_runs(limit=True),
        lambda: executions.list_runs(status=5),  # type: ignore[arg-type]
        lambda: executions.list_runs(since="2020-01-01"),  # type: ignore[arg-type]
        lambda: executions.get_step("r", 5),  # type: ignore[arg-type]
        lambda: executions.update_run(RunSummary(run_id="r"), expected_version="0"),  # type: ignore[arg-type]
        lambda: executions.reindex(on_progress="x"),  # type: ignore[arg-type]
    ]
    for call in calls:
        with pytest.raises(InvalidInputError):
            await call()
    for kwargs in ({"limit": "2"}, {"type": 3}, {"since": 0}, {"start_after": 1}):
        with pytest.raises(InvalidInputError):
            [a async for a in artifacts.list(**kwargs)]  # type: ignore[arg-type]
    audit = AuditStore(bucket, workspace="team-a")
    for call in (
        lambda: audit.verify("s", on_progress=1),  # type: ignore[arg-type]
        lambda: audit.verify("s", max_problems=True),
        lambda: audit.get("s", "1"),
    ):  # type: ignore[arg-type]
        with pytest.raises(InvalidInputError):
            await call()
    assert sum(bucket.requests.values()) == 0


# ---------------------------------------------------------------------- the CLI
def test_cli_prints_stored_markup_as_text(tmp_path: object) -> None:
    import asyncio

    url = f"file://{tmp_path}/bucket"
    markup = "[/y] [bold]b[/bold] [link=http://x]l[/link] :smile: \x1b[31m"

    async def write() -> None:
        async with cloudstores.open_stores(url, workspace="demo") as stores:
            await stores.executions.create_run(
                RunSummary(run_id="r", workflow_name=markup, status="[/]", user_id="[x")
            )
            await stores.artifacts.store(
                Artifact(id="a", run_id="r", type="[/y]", content={"text": markup})
            )
            await stores.audit.append("s", {"text": markup})

    asyncio.run(write())
    runner = CliRunner()
    for what in ("runs", "artifacts"):  # on a terminal (rich tables) and piped (plain lines)
        for env in ({"FORCE_COLOR": "1", "COLUMNS": "300"}, {}):
            shown = runner.invoke(app, ["ls", url, what, "--workspace", "demo"], env=env)
            assert shown.exit_code == 0, shown.output
            assert "[/y]" in shown.output and "\x1b[31m" not in shown.output
            assert what == "artifacts" or "[/]" in shown.output
    bad = runner.invoke(app, ["ls", url, "runs", "--workspace", "[/y]"])
    assert bad.exit_code == 2, bad.output
    assert "[/y]" in bad.output
    reindexed = runner.invoke(app, ["reindex", url, "-w", "demo"])
    assert reindexed.exit_code == 0, reindexed.output


async def test_not_found_stays_not_found(
    artifacts: ArtifactStore, executions: ExecutionStore
) -> None:
    with pytest.raises(NotFoundError):
        await artifacts.get("nothing")
    with pytest.raises(NotFoundError):
        await executions.get_run("nothing")
    with pytest.raises(NotFoundError):
        await executions.run_history("nothing")
