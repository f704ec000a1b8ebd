"""Bad input to the audit store: a typed error from cloudstores.errors, nothing written."""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import cloudstores
from cloudstores.errors import (
    ConfigurationError,
    InvalidIdError,
    InvalidInputError,
    PayloadTooLargeError,
    SerializationError,
    StoreError,
)
from cloudstores.stores.audit import (
    AuditOptions,
    AuditStore,
    Ed25519Signer,
    Ed25519Verifier,
)

BAD_NAMES = ["", "..", "a..b", ".", "a/b", "a b", "ü", "x" * 257, "a\x00", "../up", "a\\b"]


class Weird:
    pass


BAD_EVENTS: list[tuple[Any, type[StoreError]]] = [
    ([1, 2], SerializationError),
    ("text", SerializationError),
    (None, SerializationError),
    ({"x": math.nan}, SerializationError),
    ({"x": [1, {"y": math.inf}]}, SerializationError),
    ({"x": -math.inf}, SerializationError),
    ({"x": b"raw"}, SerializationError),
    (b'{"x": 1}', SerializationError),
    ({"x": Weird()}, SerializationError),
    ({"x": {1, 2}}, SerializationError),
    ({1: "int key"}, SerializationError),
    ({"x": 2**70}, SerializationError),
    ({"x": "y" * (256 * 1024)}, PayloadTooLargeError),
]


async def _nothing_written(bucket: cloudstores.Bucket) -> None:
    assert [info.key async for info in bucket.list("")] == []
    assert sum(bucket.requests.values()) == 1  # the LIST just made


@pytest.mark.parametrize("name", BAD_NAMES)
async def test_bad_stream_names(name: str) -> None:
    async with cloudstores.open_bucket("memory://audit-validation-names") as bucket:
        audit = AuditStore(bucket)
        calls: list[Callable[[], Any]] = [
            lambda: audit.append(name, {"x": 1}),
            lambda: audit.append_many(name, [{"x": 1}]),
            lambda: audit.get(name, 0),
            lambda: audit.head(name),
            lambda: audit.verify(name),
            lambda: audit.checkpoint(name),
        ]
        for call in calls:
            with pytest.raises(InvalidIdError):
                await call()
        with pytest.raises(InvalidIdError):
            async for _ in audit.read(name):
                pass
        assert sum(bucket.requests.values()) == 0


@pytest.mark.parametrize("workspace", ["", "..", "a/b", "x" * 64, "a b", "a..b"])
async def test_bad_workspace(workspace: str) -> None:
    async with cloudstores.open_bucket("memory://audit-validation-ws") as bucket:
        with pytest.raises(InvalidIdError):
            AuditStore(bucket, workspace=workspace)


@pytest.mark.parametrize("where", ["memory", "file"])  # checked before any request
@pytest.mark.parametrize(
    ("event", "error"), BAD_EVENTS, ids=[f"event{i}" for i in range(len(BAD_EVENTS))]
)
async def test_bad_events_write_nothing(
    where: str, make_bucket_url: Any, event: Any, error: type[StoreError]
) -> None:
    async with cloudstores.open_bucket(make_bucket_url(where)) as bucket:
        async with AuditStore(bucket) as audit:
            with pytest.raises(error):
                await audit.append("s", event)
            with pytest.raises(error):
                await audit.append_many("s", [{"ok": 1}, event])
            assert issubclass(error, InvalidInputError)
        await _nothing_written(bucket)


async def test_event_size_limit_is_configurable() -> None:
    async with (
        cloudstores.open_bucket("memory://audit-validation-size") as bucket,
        AuditStore(bucket, options=AuditOptions(max_event_bytes=100)) as audit,
    ):
        await audit.append("s", {"x": "y" * 80})
        with pytest.raises(PayloadTooLargeError):
            await audit.append("s", {"x": "y" * 100})
        assert (await audit.head("s")).size == 1


async def test_bad_arguments() -> None:
    async with cloudstores.open_bucket("memory://audit-validation-args") as bucket:
        audit = AuditStore(bucket)
        for seq in (-1, 1.5, "3", True, None):
            with pytest.raises(InvalidInputError):
                await audit.get("s", seq)  # type: ignore[arg-type]
        with pytest.raises(InvalidInputError):
            await audit.append_many("s", {"x": 1})
        with pytest.raises(InvalidInputError):
            await audit.verify("s", max_problems=0)
        with pytest.raises(InvalidInputError):
            AuditStore("memory://x")  # type: ignore[arg-type]
        assert sum(bucket.requests.values()) == 0


@pytest.mark.parametrize(
    "change",
    [
        {"max_batch": 0},
        {"max_batch": 1001},
        {"max_event_bytes": 0},
        {"max_wait": -1},
        {"checkpoint_every": 0},
        {"checkpoint_interval": 0},
        {"read_concurrency": 0},
    ],
)
def test_bad_options(change: dict[str, Any]) -> None:
    with pytest.raises(InvalidInputError):
        dataclasses.replace(AuditOptions(), **change)


def test_signing_keys_from_bytes_and_files(tmp_path: Path) -> None:
    signer = Ed25519Signer.generate()
    (tmp_path / "key.pem").write_bytes(signer.private_pem())
    (tmp_path / "pub.pem").write_bytes(signer.public_pem())
    assert Ed25519Signer.from_file(tmp_path / "key.pem").key_id == signer.key_id
    seed = bytes(range(32))
    (tmp_path / "seed").write_bytes(seed)
    assert (
        Ed25519Signer.from_file(str(tmp_path / "seed")).key_id
        == Ed25519Signer.from_bytes(seed).key_id
    )
    verifier = Ed25519Verifier.from_file(tmp_path / "pub.pem")
    assert verifier.key_ids == (signer.key_id,)
    assert Ed25519Verifier.from_bytes(signer.public_key).key_ids == (signer.key_id,)
    with pytest.raises(ConfigurationError):
        Ed25519Signer.from_bytes(b"not a key")
    with pytest.raises(ConfigurationError):
        Ed25519Signer.from_file(tmp_path / "missing")
    with pytest.raises(ConfigurationError):
        Ed25519Verifier.from_bytes(b"-----BEGIN PUBLIC KEY-----\nxx\n-----END PUBLIC KEY-----\n")
