"""Entry format 3 (RFC 8785 hashing) beside the legacy formats 1 and 2: new entries hash
their JCS bytes, streams written in the old formats still verify, and a stream that
mixes formats (per entry) verifies, keyed appends included."""

from __future__ import annotations

import hashlib

import orjson
import pytest

import cloudstores
from cloudstores.errors import InvalidInputError, SerializationError
from cloudstores.stores.audit import AuditOptions, AuditStore, Ed25519Signer, chain
from cloudstores.stores.audit.layout import StreamKeys
from cloudstores.tlog import jcs

SIGNER = Ed25519Signer.from_bytes(bytes(range(1, 33)))
FLOATS = {"one": 1.0, "neg_zero": -0.0, "big": 1e21, "tiny": 1e-7, "\ufb33": 1, "\U0001f600": 2}


def _options(entry_format: int) -> AuditOptions:
    return AuditOptions(
        checkpoint_every=4, checkpoint_interval=None, max_batch=1, entry_format=entry_format
    )


def test_format_3_entry_is_the_jcs_bytes_of_its_members() -> None:
    event = chain.encode_event(FLOATS, 1 << 20)
    assert event == jcs.dumps(FLOATS)
    assert event.decode() == (
        '{"big":1e+21,"neg_zero":0,"one":1,"tiny":1e-7,"\U0001f600":2,"\ufb33":1}'
    )  # U+1F600 before U+FB33: UTF-16 order (orjson's code point order is the reverse)
    data, digest = chain.build_entry(
        workspace="w",
        stream="s",
        seq=3,
        ts="2026-01-01T00:00:00.000000Z",
        event=event,
        prev="ab" * 32,
        key="k\u00e9",
    )
    entry = orjson.loads(data)
    assert entry["v"] == 3 and entry["key"] == "k\u00e9"
    assert data == jcs.dumps(entry)  # stored bytes are JCS too
    body = {k: v for k, v in entry.items() if k != "hash"}
    assert digest == entry["hash"] == hashlib.sha256(b"\x00" + jcs.dumps(body)).hexdigest()
    assert chain.recompute_hash(entry) == digest
    assert chain.parse_object(chain.encode_object([data])) == [entry]


def test_legacy_formats_keep_their_bytes() -> None:
    event = chain.encode_event({"x": 1.0}, 1 << 20, 1)
    assert event == b'{"x":1.0}'
    data, digest = chain.build_entry(
        workspace="w",
        stream="s",
        seq=0,
        ts="2026-01-01T00:00:00.000000Z",
        event=event,
        prev=chain.GENESIS,
        entry_format=1,
    )
    entry = orjson.loads(data)
    assert entry["v"] == 1 and b'"x":1.0' in data
    assert chain.recompute_hash(entry) == digest
    # the same content under v 3 hashes other bytes
    assert chain.recompute_hash({**entry, "v": 3}) != digest


@pytest.mark.parametrize(
    "entry_patch",
    [{"v": 3.0}, {"v": True}, {"v": 3, "key": 5}, {"v": 4}, {"v": 2}],
)
def test_entry_shapes_refused(entry_patch: dict[str, object]) -> None:
    data, _ = chain.build_entry(
        workspace="w",
        stream="s",
        seq=0,
        ts="2026-01-01T00:00:00.000000Z",
        event=b"{}",
        prev=chain.GENESIS,
    )
    entry = {**orjson.loads(data), **entry_patch}
    with pytest.raises(cloudstores.errors.IntegrityError):
        chain.parse_object(chain.encode_object([orjson.dumps(entry)]))


def test_unrepresentable_number_in_a_stored_entry_is_a_hash_mismatch() -> None:
    data, _ = chain.build_entry(
        workspace="w",
        stream="s",
        seq=0,
        ts="2026-01-01T00:00:00.000000Z",
        event=b"{}",
        prev=chain.GENESIS,
    )
    entry = {**orjson.loads(data), "event": {"n": 2**53 + 1}}
    assert chain.recompute_hash(entry) == ""


async def test_options_and_events_checked_before_any_request(bucket: cloudstores.Bucket) -> None:
    with pytest.raises(InvalidInputError):
        AuditOptions(entry_format=2)
    with pytest.raises(InvalidInputError):
        AuditOptions(entry_format=True)  # type: ignore[arg-type]
    before = sum(bucket.requests.values())
    async with AuditStore(bucket, options=_options(3)) as audit:
        with pytest.raises(SerializationError):
            await audit.append("s", {"n": 2**53 + 1})  # no double equals it
        assert sum(bucket.requests.values()) == before
    async with AuditStore(bucket, options=_options(1)) as legacy:
        entry = await legacy.append("s", {"n": 2**53 + 1})  # orjson keeps 64-bit ints
        assert entry.event == {"n": 2**53 + 1}


async def test_mixed_formats_in_one_stream_verify(bucket: cloudstores.Bucket) -> None:
    stream = "mixed"
    async with AuditStore(bucket, signer=SIGNER, options=_options(1)) as old:
        await old.append(stream, {"i": 0, "f": 1.0})
        await old.append(stream, {"i": 1, "f": -0.0}, key="legacy-key")
        await old.append_many(stream, [{"i": 2}, {"i": 3, "\ufb33": 1, "\U0001f600": 2}])
    async with AuditStore(bucket, signer=SIGNER, options=_options(3)) as new:
        await new.append(stream, {"i": 4, "f": 1.0})
        await new.append(stream, {"i": 5, "f": -0.0}, key="new-key")
        # the key appended in format 1, repeated by a format-3 writer with the same
        # event: the original (format 2) entry, not a conflict
        again = await new.append(stream, {"i": 1, "f": -0.0}, key="legacy-key")
        assert again.seq == 1 and again.key == "legacy-key"
        await new.append_many(stream, [{"i": 6, **FLOATS}, {"i": 7}])
    async with AuditStore(bucket, verifier=SIGNER.verifier()) as auditor:
        entries = [await auditor.get(stream, seq) for seq in range(8)]
        report = await auditor.verify(stream)
    assert report.ok, report.summary()
    assert report.size == 8
    keys = StreamKeys("default", stream)
    versions = []
    for seq in range(8):
        try:
            raw = (await bucket.get(keys.entry(seq))).data
        except cloudstores.errors.NotFoundError:
            continue
        versions += [e["v"] for e in orjson.loads(raw)["entries"]]
    assert versions == [1, 2, 1, 1, 3, 3, 3, 3]
    assert entries[4].event == {"i": 4, "f": 1}  # JCS writes 1.0 as 1
    assert entries[0].event == {"i": 0, "f": 1.0}  # format 1 keeps it
