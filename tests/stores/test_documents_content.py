"""DocumentStore values follow the content rule: ``bytes`` documents round-trip through
the content-addressed blob path, values that would not come back as themselves are
refused before any request, and a changed blob is an IntegrityError. Five backends."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import pytest

import cloudstores
from cloudstores import codec
from cloudstores.errors import IntegrityError, InvalidInputError, SerializationError
from cloudstores.stores.documents import DocumentStore

FIELDS = {"team": "string"}
BLOBS = "ws/default/blobs/"
VALUES = [b"", b"\xff\x00\xfe not utf-8 \x80", bytes(range(256)) * 40]  # 0 B, small, 10 KiB


@pytest.fixture
async def docs(bucket: cloudstores.Bucket) -> AsyncIterator[DocumentStore]:
    store = DocumentStore(bucket, "files", fields=FIELDS)
    yield store
    await store.close()


async def test_bytes_round_trip_with_request_counts(
    docs: DocumentStore, bucket: cloudstores.Bucket
) -> None:
    for n, value in enumerate(VALUES):
        await docs.put(f"d{n}", {"team": "x"})  # so that the bytes put below is warm
        await docs.index.close()  # (and its index tail folded, as in test_documents)
        bucket.requests.clear()
        put = await docs.put(f"d{n}", value)  # blob PUT + version PUT + index PUT
        assert put.value == value and type(put.value) is bytes
        assert bucket.requests == {"put": 3}
    await docs.put("json", {"team": "a"})
    await docs.put("same", VALUES[1])  # identical bytes share one blob
    blobs = [i.key async for i in bucket.list(BLOBS)]
    assert sorted(blobs) == sorted(f"{BLOBS}{codec.sha256_hex(v)}.json" for v in VALUES)
    assert (await bucket.get(f"{BLOBS}{codec.sha256_hex(VALUES[2])}.json")).data == VALUES[2]
    await docs.index.close()

    cold = DocumentStore(bucket, "files", fields=FIELDS)
    for n, value in enumerate(VALUES):
        bucket.requests.clear()
        got = await cold.get(f"d{n}")  # cold: LIST + version GET + blob GET
        assert got.value == value and type(got.value) is bytes
        assert bucket.requests == {"list": 1, "get": 2}
    bucket.requests.clear()
    assert (await cold.get("d2")).value == VALUES[2]  # cached bytes: one LIST only
    assert bucket.requests == {"list": 1}

    seen: list[Any] = []

    def grow(old: Any) -> bytes:
        seen.append(old)
        return bytes(old) + b"\x00!"

    await docs.index.close()
    bucket.requests.clear()
    updated = await docs.update("d1", grow)  # warm: blob PUT + version PUT + index PUT
    assert seen == [VALUES[1]] and updated.value == VALUES[1] + b"\x00!"
    assert bucket.requests == {"put": 3}
    to_json = await docs.update("d0", lambda old: {"team": "b", "was": len(old)})
    assert to_json.value == {"team": "b", "was": 0}
    await docs.index.close()

    other = DocumentStore(bucket, "files", fields=FIELDS)
    bucket.requests.clear()
    history = await other.history("d1")  # LIST + 3 version GETs + 2 blob GETs
    assert [d.value for d in history] == [{"team": "x"}, VALUES[1], VALUES[1] + b"\x00!"]
    assert bucket.requests == {"list": 1, "get": 5}

    page = await other.query()  # a bytes document has null declared fields
    by_id = {d.id: d.value for d in page.documents}
    assert by_id == {
        "d0": {"team": "b", "was": 0},
        "d1": VALUES[1] + b"\x00!",
        "d2": VALUES[2],
        "json": {"team": "a"},
        "same": VALUES[1],
    }
    assert [d.id for d in (await other.query(where={"team": "b"})).documents] == ["d0"]
    assert await other.count(where={"team": None}) == 3
    assert not other.index_mismatches
    await other.close()
    await cold.close()


@pytest.mark.parametrize(
    "value",
    [
        datetime(2026, 1, 1, tzinfo=UTC),
        (1, 2),
        {"a": [1, {"b": b"nested"}]},
        bytearray(b"x"),
    ],
    ids=["datetime", "tuple", "nested-bytes", "bytearray"],
)
async def test_values_that_would_not_come_back_are_refused_before_any_request(
    docs: DocumentStore, bucket: cloudstores.Bucket, value: Any
) -> None:
    await docs.put("d", {"team": "a"})
    await docs.index.close()
    bucket.requests.clear()
    with pytest.raises(SerializationError) as put_error:
        await docs.put("d", value)
    assert isinstance(put_error.value, InvalidInputError)
    assert "value" in str(put_error.value)
    with pytest.raises(SerializationError, match="default"):
        await docs.update("new", lambda v: v, default=value)
    assert sum(bucket.requests.values()) == 0

    with pytest.raises(SerializationError, match="fn's result"):
        await docs.update("d", lambda _: value)  # warm: refused without a write
    assert "put" not in bucket.requests
    assert (await docs.get("d")).value == {"team": "a"}
    if isinstance(value, dict):
        with pytest.raises(SerializationError, match=r"value\['a'\]\[1\]\['b'\] is a bytes"):
            await docs.put("d", value)


async def test_a_json_value_shaped_like_a_pointer_stays_a_value(
    docs: DocumentStore, bucket: cloudstores.Bucket
) -> None:
    fake = {"$blob": codec.sha256_hex(b"x"), "$kind": "bytes"}
    await docs.put("p", fake)
    await docs.index.close()
    assert (await DocumentStore(bucket, "files").get("p")).value == fake


async def test_changed_or_missing_blob_is_an_integrity_error(
    docs: DocumentStore, bucket: cloudstores.Bucket
) -> None:
    await docs.put("d", b"original")
    await docs.index.close()
    key = f"{BLOBS}{codec.sha256_hex(b'original')}.json"
    await bucket.put(key, b"tampered", mode="overwrite")
    cold = DocumentStore(bucket, "files", fields=FIELDS)
    with pytest.raises(IntegrityError) as error:
        await cold.get("d")
    assert error.value.key == key
    await bucket.delete(key)
    with pytest.raises(IntegrityError) as missing:
        await DocumentStore(bucket, "files", fields=FIELDS).history("d")
    assert missing.value.key == key
    assert [d.id for d in (await cold.query()).documents] == []
    assert cold.index_mismatches
    await cold.close()
