"""The file backend's on-disk format: plain bytes beside a sidecar, legacy files, migration.

Data files hold exactly the bytes put (``json.load`` reads them); a sidecar named by
the data file's inode holds etag, content type and metadata; files without one are
plain objects, or legacy ``CSOBJ1`` objects, which ``migrate-files`` rewrites keeping
their etags. The cross-process races are in test_file_processes.py.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import AsyncIterator
from pathlib import Path

import orjson
import pytest
from typer.testing import CliRunner

import cloudstores
from cloudstores import IfMatch, Version
from cloudstores.bucket.file_format import MAGIC, META_PREFIX, is_sidecar_name, sidecar_name
from cloudstores.bucket.file_migrate import migrate_files
from cloudstores.cli.commands import app
from cloudstores.errors import (
    ConfigurationError,
    IntegrityError,
    InvalidInputError,
    PreconditionFailedError,
)
from cloudstores.stores.workspace import open_stores

FIXTURE = Path(__file__).parent / "fixtures" / "csobj1"
"""A root written by the CSOBJ1 file backend (``cloudstores demo``, workspace ``old``)."""


@pytest.fixture
async def root(tmp_path: Path) -> Path:
    path = tmp_path / "root"
    path.mkdir()
    return path


@pytest.fixture
async def bucket(root: Path) -> AsyncIterator[cloudstores.Bucket]:
    async with cloudstores.open_bucket(f"file://{root}?fsync=false") as opened:
        yield opened


def legacy(body: bytes, etag: str = "e1", content_type: str | None = "text/plain") -> bytes:
    header = {"etag": etag, "content_type": content_type, "metadata": {"m": "v"}}
    return MAGIC + orjson.dumps(header) + b"\n" + body


def sidecars(directory: Path) -> list[Path]:
    return sorted(p for p in directory.iterdir() if is_sidecar_name(p.name))


def data_files(root: Path) -> list[Path]:
    return sorted(
        p
        for p in root.rglob("*")
        if p.is_file() and ".cloudstores" not in p.parts and not is_sidecar_name(p.name)
    )


# ---------------------------------------------------------------------- plain bytes
async def test_json_load_of_a_stored_object_equals_what_was_put(
    bucket: cloudstores.Bucket, root: Path
) -> None:
    doc = {"id": "a1", "nested": {"list": [1, 2.5, None, "ü"]}}
    version = await bucket.put(
        "ws/w/artifacts/a1.json",
        orjson.dumps(doc),
        content_type="application/json",
        metadata={"origin": "test"},
    )
    path = root / "ws" / "w" / "artifacts" / "a1.json"
    with path.open() as fh:
        assert json.load(fh) == doc
    assert path.read_bytes() == orjson.dumps(doc)
    # the sidecar beside it holds what the header used to hold
    [side] = sidecars(path.parent)
    assert side.name == sidecar_name(path.stat().st_ino)
    meta = json.loads(side.read_bytes())
    assert meta["etag"] == version.etag
    assert meta["content_type"] == "application/json"
    assert meta["metadata"]["origin"] == "test"
    got = await bucket.get("ws/w/artifacts/a1.json")
    assert (got.version, got.content_type, got.metadata["origin"]) == (
        version,
        "application/json",
        "test",
    )
    # the stores' objects are JSON files too
    async with open_stores(f"file://{root}?fsync=false", workspace="w") as stores:
        await stores.audit.append("s", {"event": "x"})
    [entry] = (root / "ws" / "w" / "audit" / "s" / "e").glob("*.json")
    assert json.loads(entry.read_bytes())["entries"][0]["event"] == {"event": "x"}


async def test_bytes_that_look_like_a_legacy_header_stay_bytes(
    bucket: cloudstores.Bucket, root: Path
) -> None:
    body = legacy(b"inner")
    await bucket.put("k", body)
    assert (root / "k").read_bytes() == body
    assert (await bucket.get("k")).data == body
    assert (await bucket.head("k")).size == len(body)


async def test_replacing_and_deleting_remove_the_old_sidecar(
    bucket: cloudstores.Bucket, root: Path
) -> None:
    v = await bucket.put("d/k", b"1")
    for n in range(2, 5):
        v = await bucket.put("d/k", str(n).encode(), mode=IfMatch(v))
        await bucket.put("d/o", str(n).encode(), mode="overwrite")
        assert [s.name for s in sidecars(root / "d")] == sorted(
            sidecar_name((root / "d" / name).stat().st_ino) for name in ("k", "o")
        )
    await bucket.delete("d/k")
    await bucket.delete("d/o")
    assert sidecars(root / "d") == []


# ---------------------------------------------------------------------- files without a sidecar
async def test_a_file_written_by_another_tool_is_an_object(
    bucket: cloudstores.Bucket, root: Path
) -> None:
    (root / "tools").mkdir()
    (root / "tools" / "by-jq.json").write_bytes(b'{"a": 1}\n')
    (root / "tools" / "empty").write_bytes(b"")
    got = await bucket.get("tools/by-jq.json")
    assert (got.data, got.content_type, dict(got.metadata)) == (b'{"a": 1}\n', None, {})
    assert (await bucket.get("tools/empty")).data == b""
    listed = [i async for i in bucket.list("tools/")]
    assert [(i.key, i.size) for i in listed] == [("tools/by-jq.json", 9), ("tools/empty", 0)]
    assert listed[0].version == got.version
    # editing it in place is a new version: compare-and-swap notices
    (root / "tools" / "by-jq.json").write_bytes(b'{"a": 2}\n')
    with pytest.raises(PreconditionFailedError):
        await bucket.put("tools/by-jq.json", b"{}", mode=IfMatch(got.version))
    current = await bucket.head("tools/by-jq.json")
    await bucket.put("tools/by-jq.json", b"{}", mode=IfMatch(current.version))
    assert (await bucket.get("tools/by-jq.json")).data == b"{}"


async def test_a_sidecar_of_another_file_is_ignored(bucket: cloudstores.Bucket, root: Path) -> None:
    v = await bucket.put("k", b"one", metadata={"m": "v"})
    (root / "k").write_bytes(b"edited in place")  # same inode, other size: not that version
    got = await bucket.get("k")
    assert got.data == b"edited in place"
    assert got.version != v and dict(got.metadata) == {}


@pytest.mark.parametrize(
    "damage", [b"", b"{not json", b"[1]", b'{"format": 2}', b"x" * (80 * 1024)]
)
async def test_damaged_sidecar_is_reported_and_listing_still_works(
    bucket: cloudstores.Bucket, root: Path, damage: bytes
) -> None:
    await bucket.put("a", b"a")
    await bucket.put("b", b"bb")
    (root / sidecar_name((root / "b").stat().st_ino)).write_bytes(damage)
    for read in (bucket.get, bucket.head):
        with pytest.raises(IntegrityError, match="'b'"):
            await read("b")
    assert [(i.key, i.size) async for i in bucket.list()] == [("a", 1), ("b", 2)]
    await bucket.put("b", b"repaired", mode="overwrite")
    assert (await bucket.get("b")).data == b"repaired"


async def test_a_planted_sidecar_link_is_not_followed(
    bucket: cloudstores.Bucket, root: Path, tmp_path: Path
) -> None:
    await bucket.put("k", b"x")
    side = root / sidecar_name((root / "k").stat().st_ino)
    target = tmp_path / "elsewhere"
    target.write_bytes(side.read_bytes())
    side.unlink()
    side.symlink_to(target)
    with pytest.raises(IntegrityError, match="symbolic link"):
        await bucket.get("k")


async def test_metadata_too_large_for_a_sidecar_is_refused_before_writing(
    bucket: cloudstores.Bucket, root: Path
) -> None:
    with pytest.raises(InvalidInputError):
        await bucket.put("k", b"x", content_type="t/" + "x" * 70_000)
    assert list(root.iterdir()) == []


# ---------------------------------------------------------------------- legacy files
async def test_legacy_file_reads_as_before(bucket: cloudstores.Bucket, root: Path) -> None:
    (root / "old").write_bytes(legacy(b"body bytes", etag="legacy-etag"))
    got = await bucket.get("old")
    assert got.data == b"body bytes"
    assert got.version == Version(etag="legacy-etag")
    assert (got.content_type, dict(got.metadata)) == ("text/plain", {"m": "v"})
    assert (await bucket.head("old")).size == len(b"body bytes")
    assert [(i.key, i.size, i.version.etag) async for i in bucket.list()] == [
        ("old", 10, "legacy-etag")
    ]
    # a compare-and-swap on its etag replaces it with a plain file
    await bucket.put("old", b"new", mode=IfMatch(got.version))
    assert (root / "old").read_bytes() == b"new"


async def test_legacy_fixture_reads_verifies_and_migrates(tmp_path: Path) -> None:
    root = tmp_path / "legacy"
    shutil.copytree(FIXTURE, root)
    url = f"file://{root}?fsync=false"
    before = {p: p.read_bytes() for p in data_files(root)}
    assert before and all(b.startswith(MAGIC) for b in before.values())

    async def snapshot() -> dict[str, tuple[bytes, str]]:
        async with cloudstores.open_bucket(url) as bucket:
            return {
                i.key: ((await bucket.get(i.key)).data, i.version.etag) async for i in bucket.list()
            }

    async def check_stores() -> None:
        async with open_stores(url, workspace="old") as stores:
            [run] = await stores.executions.list_runs()
            assert len([a async for a in stores.artifacts.list(run_id=run.run_id)]) == 3
            report = await stores.audit.verify("run-events")
            assert report.ok and report.size == 5

    read_before = await snapshot()
    await check_stores()
    async with cloudstores.open_bucket(url) as bucket:
        ticks: list[int] = []
        report = await migrate_files(bucket, jobs=4, on_progress=ticks.append)
    assert (report.scanned, report.rewritten, report.vanished) == (len(before), len(before), 0)
    assert sorted(ticks) == list(range(1, len(before) + 1))
    assert await snapshot() == read_before  # same bytes, same etags
    for path in data_files(root):
        assert not path.read_bytes().startswith(MAGIC)
        if path.suffix == ".json":
            json.loads(path.read_bytes())
    await check_stores()
    async with cloudstores.open_bucket(url) as bucket:
        again = await migrate_files(bucket)
    assert (again.scanned, again.rewritten) == (len(before), 0)


def test_migrate_files_command(tmp_path: Path) -> None:
    root = tmp_path / "legacy"
    shutil.copytree(FIXTURE, root)
    count = len(data_files(root))
    runner = CliRunner()
    done = runner.invoke(app, ["migrate-files", f"file://{root}", "--json"])
    assert done.exit_code == 0, done.output
    assert json.loads(done.stdout) == {"scanned": count, "rewritten": count, "vanished": 0}
    done = runner.invoke(app, ["migrate-files", f"file://{root}"])
    assert done.exit_code == 0, done.output
    assert f"scanned {count}, rewritten 0" in done.stdout
    done = runner.invoke(app, ["migrate-files", "memory://x"])
    assert done.exit_code == 2
    assert "file://" in done.output


async def test_migrate_files_refuses_other_backends() -> None:
    async with cloudstores.open_bucket("memory://migrate-refused") as bucket:
        with pytest.raises(ConfigurationError):
            await migrate_files(bucket)
        with pytest.raises(InvalidInputError):
            await migrate_files(bucket, jobs=0)


def test_sidecar_names_are_never_keys() -> None:
    assert "\\" in META_PREFIX  # keys cannot hold a backslash
    assert META_PREFIX.startswith(".")  # hidden from ls and shell globs
    assert os.sep not in sidecar_name(12345)
