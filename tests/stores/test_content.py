"""Binary content and the JSON-types rule (stores/content.py), on the five backends.

Bytes content round-trips as bytes through the sha256-checked blob path; a value JSON
would give back as another type (datetime, tuple, nested bytes...) is refused before
any request, in artifacts and in the execution store's free-form fields.
"""

from __future__ import annotations

import enum
import uuid
from collections import OrderedDict
from datetime import UTC, date, datetime, time
from typing import Any

import pytest

import cloudstores
from cloudstores import codec
from cloudstores.errors import (
    AlreadyExistsError,
    IntegrityError,
    PayloadTooLargeError,
    SerializationError,
)
from cloudstores.models import Artifact, ExecutionRecord, RunSummary
from cloudstores.stores import content
from cloudstores.stores.artifacts import ArtifactStore
from cloudstores.stores.executions import ExecutionStore

WS = "ws/team-a/"
LARGE = bytes(range(256)) * 40  # 10 KiB, over the fixture's 4 KiB inline limit


class Color(enum.Enum):
    RED = "red"


# ---------------------------------------------------------------------- the rule itself
@pytest.mark.parametrize(
    "value",
    [None, True, 0, -(1 << 63), (1 << 64) - 1, 1.5, "ü", [], {}, {"a": [1, {"b": None}]}],
)
def test_json_values_pass(value: Any) -> None:
    content.check_json(value)
    content.check_content(value)


@pytest.mark.parametrize(
    ("value", "path", "words"),
    [
        (datetime(2026, 1, 1, tzinfo=UTC), "content", "datetime"),
        ({"a": [1, date(2026, 1, 1)]}, "content['a'][1]", "date"),
        ({"t": time(1, 2)}, "content['t']", "time"),
        ({"x": (1, 2)}, "content['x']", "tuple"),
        ([b"raw"], "content[0]", "bytes"),
        (bytearray(b"x"), "content", "bytearray"),
        ({"u": uuid.UUID(int=1)}, "content['u']", "UUID"),
        ({"c": Color.RED}, "content['c']", "Color"),
        (OrderedDict(a=1), "content", "plain dict"),
        ({1: "x"}, "content", "keys are str"),
        ({"n": float("nan")}, "content['n']", "not valid JSON"),
        ([1 << 64], "content[0]", "64 bits"),
        ({"s": "\ud800"}, "content['s']", "UTF-8"),
        ({"s": {1, 2}}, "content['s']", "set"),
    ],
)
def test_non_json_values_are_refused_with_their_path(value: Any, path: str, words: str) -> None:
    with pytest.raises(SerializationError) as caught:
        content.check_json(value)
    assert caught.value.message.startswith(path) and words in caught.value.message


def test_cycles_and_depth_are_refused_shared_values_are_not() -> None:
    loop: list[Any] = []
    loop.append(loop)
    with pytest.raises(SerializationError, match="cycle"):
        content.check_json({"a": loop})
    deep: list[Any] = []
    for _ in range(content.MAX_DEPTH):
        deep = [deep]
    with pytest.raises(SerializationError, match="deeper"):
        content.check_json(deep)
    shared = {"x": 1}
    content.check_json([shared, shared, {"y": shared}])  # a DAG is fine


def test_bytes_only_as_a_whole_and_pointer_shape() -> None:
    content.check_content(b"")
    with pytest.raises(SerializationError, match="bytes"):
        content.check_json(b"x")
    blob = content.encode(b"\x00\xff")
    assert (blob.kind, blob.data) == ("bytes", b"\x00\xff")
    record: dict[str, Any] = {"content": None, **content.pointer(blob)}
    assert content.take_pointer(record, key="k") == content.Pointer(blob.digest, "bytes")
    assert record == {"content": None}
    assert content.take_pointer({"content": 1}, key="k") is None
    for bad in ({"$blob": "zz"}, {"$blob": "0" * 64, "$kind": "text"}, {"$kind": "bytes"}):
        with pytest.raises(IntegrityError):
            content.take_pointer(dict(bad), key="k")
    with pytest.raises(IntegrityError, match="hash"):
        content.decode(b"\x00\xfe", content.Pointer(blob.digest, "bytes"), key="k")


def test_pydantic_models_keep_content_types() -> None:
    a = Artifact(id="a", run_id="r", content=b"\xff\x00")
    assert type(a.content) is bytes and a.model_dump()["content"] == b"\xff\x00"
    assert a.model_copy(update={"status": "x"}).content == b"\xff\x00"
    when = datetime(2026, 1, 1, tzinfo=UTC)
    # the model holds a datetime as it is; the store refuses it (below)
    assert Artifact(id="a", run_id="r", content={"t": when}).content == {"t": when}


# ---------------------------------------------------------------------- artifacts
@pytest.mark.parametrize(
    "data", [b"", b"\x00\xffnot utf-8", LARGE], ids=["empty", "small", "large"]
)
async def test_bytes_round_trip_through_a_blob(
    artifacts: ArtifactStore, bucket: cloudstores.Bucket, data: bytes
) -> None:
    await artifacts.store(Artifact(id="warm", run_id="r", content=1))  # index warm
    bucket.requests.clear()
    a = Artifact(id="bin", run_id="r", type="image/png", content=data, metadata={"n": 1})
    assert await artifacts.store(a) == a
    # the blob, the record, the index segment
    assert dict(bucket.requests) == {"put": 3}
    bucket.requests.clear()
    got = await artifacts.get("bin")
    assert dict(bucket.requests) == {"get": 2}
    assert type(got.content) is bytes and got.content == data and got == a
    digest = codec.sha256_hex(data)
    blob = await bucket.get(f"{WS}blobs/{digest}.json")
    assert blob.data == data  # stored raw, not base64 or JSON
    assert [x.content for x in await artifacts.list_by_run("r")] == [1, data]


async def test_bytes_identity_and_sharing(
    artifacts: ArtifactStore, bucket: cloudstores.Bucket
) -> None:
    await artifacts.store(Artifact(id="a", run_id="r", content=b"same"))
    await artifacts.store(Artifact(id="b", run_id="r", content=b"same"))
    assert len([i async for i in bucket.list(f"{WS}blobs/")]) == 1
    await artifacts.store(Artifact(id="a", run_id="r", content=b"same"))  # idempotent
    with pytest.raises(AlreadyExistsError):
        await artifacts.store(Artifact(id="a", run_id="r", content=b"other"))
    with pytest.raises(AlreadyExistsError):  # the text of the same bytes is not the same
        await artifacts.store(Artifact(id="a", run_id="r", content="same"))
    with pytest.raises(PayloadTooLargeError):
        await artifacts.store(Artifact(id="huge", run_id="r", content=b"x" * (1024 * 1024 + 1)))


async def test_tampered_bytes_blob_is_an_integrity_error(
    artifacts: ArtifactStore, bucket: cloudstores.Bucket
) -> None:
    await artifacts.store(Artifact(id="bin", run_id="r", content=b"original"))
    key = f"{WS}blobs/{codec.sha256_hex(b'original')}.json"
    await bucket.put(key, b"tampered", mode="overwrite")
    with pytest.raises(IntegrityError, match="hash"):
        await artifacts.get("bin")
    await bucket.delete(key)
    with pytest.raises(IntegrityError, match="missing"):
        await artifacts.get("bin")


async def test_non_json_content_is_refused_before_any_request(
    artifacts: ArtifactStore, bucket: cloudstores.Bucket
) -> None:
    when = datetime(2026, 1, 1, tzinfo=UTC)
    for fields in (
        {"content": when},
        {"content": {"when": date(2026, 1, 1)}},
        {"content": [b"nested"]},
        {"content": (1, 2)},
        {"metadata": {"at": when}},
    ):
        with pytest.raises(SerializationError, match="JSON cannot hold"):
            await artifacts.store(Artifact(id="x", run_id="r", **fields))
    assert sum(bucket.requests.values()) == 0
    assert [i async for i in bucket.list("")] == []


# ---------------------------------------------------------------------- executions
async def test_execution_free_form_fields_follow_the_rule(
    executions: ExecutionStore, bucket: cloudstores.Bucket
) -> None:
    when = datetime(2026, 1, 1, tzinfo=UTC)
    with pytest.raises(SerializationError, match=r"data\['at'\] is a datetime"):
        await executions.create_run(RunSummary(run_id="r", data={"at": when}))
    with pytest.raises(SerializationError, match=r"details\['at'\]"):
        await executions.record(
            ExecutionRecord(id="s", run_id="r", task_id="t", details={"at": when})
        )
    with pytest.raises(SerializationError, match=r"tool_calls\[0\]"):
        await executions.record(
            ExecutionRecord(id="s", run_id="r", task_id="t", tool_calls=[("name", 1)])
        )
    assert sum(bucket.requests.values()) == 0
    await executions.create_run(RunSummary(run_id="r", data={"at": when.isoformat()}))
    bucket.requests.clear()
    with pytest.raises(SerializationError):
        await executions.update_run(RunSummary(run_id="r", data={"at": when}))
    assert sum(bucket.requests.values()) == 0
    assert (await executions.get_run("r")).data == {"at": when.isoformat()}
