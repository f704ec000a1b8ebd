"""Tamper detection: out-of-band changes to a 100-entry stream, each caught by verify.

The stream is written by one signed store (checkpoints every 50 entries, one entry per
object). Each change is then made with the raw Bucket API at the same URL (overwrite,
delete: the out-of-band path on every backend), and a fresh auditor that holds only the
public key runs ``verify``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import orjson

import cloudstores
from cloudstores.stores.audit import (
    AuditOptions,
    AuditStore,
    Ed25519Signer,
    VerifyReport,
    chain,
)
from cloudstores.stores.audit.layout import StreamKeys

SIZE = 100  # small: 11 streams of single-entry objects on every backend
OPTIONS = AuditOptions(checkpoint_every=25, checkpoint_interval=None)
SIGNER = Ed25519Signer.from_bytes(bytes(range(32)))
OTHER = Ed25519Signer.from_bytes(bytes(range(1, 33)))

Tamper = Callable[[cloudstores.Bucket, StreamKeys], Awaitable[None]]


async def _data(bucket: cloudstores.Bucket, key: str) -> bytes:
    return (await bucket.get(key)).data


async def _overwrite(bucket: cloudstores.Bucket, key: str, data: bytes) -> None:
    await bucket.put(key, data, mode="overwrite")


async def flip_byte(bucket: cloudstores.Bucket, k: StreamKeys) -> None:
    data = await _data(bucket, k.entry(42))
    at = data.index(b"event number 42") + 1
    await _overwrite(bucket, k.entry(42), data[:at] + bytes([data[at] ^ 1]) + data[at + 1 :])


async def delete_entry(bucket: cloudstores.Bucket, k: StreamKeys) -> None:
    await bucket.delete(k.entry(42))


async def swap_entries(bucket: cloudstores.Bucket, k: StreamKeys) -> None:
    a, b = await asyncio.gather(_data(bucket, k.entry(30)), _data(bucket, k.entry(31)))
    await _overwrite(bucket, k.entry(30), b)
    await _overwrite(bucket, k.entry(31), a)


async def duplicate_entry(bucket: cloudstores.Bucket, k: StreamKeys) -> None:
    await _overwrite(bucket, k.entry(70), await _data(bucket, k.entry(57)))


async def duplicate_past_tail(bucket: cloudstores.Bucket, k: StreamKeys) -> None:
    await bucket.put(k.entry(SIZE), await _data(bucket, k.entry(57)))


async def truncate(bucket: cloudstores.Bucket, k: StreamKeys) -> None:
    await asyncio.gather(*(bucket.delete(k.entry(seq)) for seq in range(85, SIZE)))


async def older_checkpoint(bucket: cloudstores.Bucket, k: StreamKeys) -> None:
    await _overwrite(bucket, k.checkpoint(75), await _data(bucket, k.checkpoint(50)))


async def _resign(bucket: cloudstores.Bucket, k: StreamKeys, *, keep_key_id: bool) -> None:
    doc = orjson.loads(await _data(bucket, k.checkpoint(75)))
    doc.pop("signature")
    if not keep_key_id:
        doc["key_id"] = OTHER.key_id
    signature = await OTHER.sign(chain.checkpoint_message(doc))
    data, _ = chain.encode_checkpoint(doc, signature)
    await _overwrite(bucket, k.checkpoint(75), data)


async def other_key(bucket: cloudstores.Bucket, k: StreamKeys) -> None:
    await _resign(bucket, k, keep_key_id=False)


async def other_key_same_id(bucket: cloudstores.Bucket, k: StreamKeys) -> None:
    await _resign(bucket, k, keep_key_id=True)


async def rehash_after_edit(bucket: cloudstores.Bucket, k: StreamKeys) -> None:
    """Edit entry 57, then rewrite 57..199 so that every hash and link is consistent."""
    prev: str | None = None
    for seq in range(57, SIZE):
        [entry] = orjson.loads(await _data(bucket, k.entry(seq)))["entries"]
        if seq == 57:
            entry["event"]["msg"] = "nothing happened here"
        data, digest = chain.build_entry(
            workspace=entry["ws"],
            stream=entry["stream"],
            seq=seq,
            ts=entry["ts"],
            event=orjson.dumps(entry["event"], option=orjson.OPT_SORT_KEYS),
            prev=prev if prev is not None else entry["prev"],
        )
        prev = digest
        await _overwrite(bucket, k.entry(seq), chain.encode_object([data]))


# name -> (change, expected first bad seq, expected problem kind of the first problem)
CASES: dict[str, tuple[Tamper, int, str]] = {
    "flip_byte": (flip_byte, 42, "bad_hash"),
    "delete_entry": (delete_entry, 42, "missing"),
    "swap_entries": (swap_entries, 30, "seq_mismatch"),
    "duplicate_entry": (duplicate_entry, 70, "seq_mismatch"),
    "duplicate_past_tail": (duplicate_past_tail, SIZE, "seq_mismatch"),
    "truncate_below_checkpoint": (truncate, 85, "missing"),
    "older_checkpoint": (older_checkpoint, 74, "bad_checkpoint"),
    "other_key": (other_key, 74, "bad_signature"),
    "other_key_same_id": (other_key_same_id, 74, "bad_signature"),
    "rehash_after_edit": (rehash_after_edit, 57, "sealed_entry_changed"),
}

ROOT_CAUGHT = (
    "flip_byte",
    "delete_entry",
    "swap_entries",
    "duplicate_entry",
    "truncate_below_checkpoint",
    "rehash_after_edit",
)
"""The cases that change entries below a checkpoint (the others change the tail past
every checkpoint, or a checkpoint itself)."""


async def _fill(audit: AuditStore, stream: str) -> None:
    for i in range(SIZE):
        await audit.append(stream, {"i": i, "msg": f"event number {i}"})


async def _verify(bucket: cloudstores.Bucket, stream: str) -> VerifyReport:
    async with AuditStore(bucket, verifier=SIGNER.verifier(), options=OPTIONS) as auditor:
        return await auditor.verify(stream)


async def test_tampering_is_detected(bucket: cloudstores.Bucket) -> None:
    streams = ["clean", *CASES]
    async with AuditStore(bucket, signer=SIGNER, options=OPTIONS) as writer:
        await asyncio.gather(*(_fill(writer, name) for name in streams))
        await writer.flush()
        clean = await writer.verify("clean")
    assert clean.ok, clean.problems
    assert (clean.size, clean.checkpoints, clean.last_checkpoint, clean.unsealed) == (
        SIZE,
        4,
        SIZE,
        0,
    )
    assert clean.signatures_checked and clean.first_bad_seq is None

    await asyncio.gather(
        *(change(bucket, StreamKeys("default", name)) for name, (change, _, _) in CASES.items())
    )
    reports = await asyncio.gather(*(_verify(bucket, name) for name in streams))
    found = {
        r.stream: (r.first_bad_seq, r.problems[0].kind if r.problems else None) for r in reports
    }
    expected = {name: (seq, kind) for name, (_, seq, kind) in CASES.items()}
    expected["clean"] = (None, None)
    assert found == expected, "\n".join(r.summary() for r in reports)
    # every change to the entries under a checkpoint also breaks its Merkle root
    root_caught = {r.stream for r in reports if any(p.kind == "root_mismatch" for p in r.problems)}
    assert root_caught == set(ROOT_CAUGHT), "\n".join(r.summary() for r in reports)


async def test_rollback_of_a_seen_checkpoint(bucket: cloudstores.Bucket) -> None:
    """A checkpoint this store wrote (or a trusted one) that disappears is a rollback."""
    options = AuditOptions(checkpoint_every=5, checkpoint_interval=None)
    async with AuditStore(bucket, signer=SIGNER, options=options) as audit:
        for i in range(12):
            await audit.append("rb", {"i": i})
        await audit.flush()
        trusted = await audit.checkpoint("rb")
        assert trusted is not None and trusted.size == 12
        assert (await audit.verify("rb")).ok
        keys = StreamKeys("default", "rb")
        for seq in (10, 11):
            await bucket.delete(keys.entry(seq))
        await bucket.delete(keys.checkpoint(12))
        report = await audit.verify("rb")
        assert not report.ok and report.problems[0].kind == "rollback"
        assert report.first_bad_seq == 11
    async with AuditStore(bucket, verifier=SIGNER.verifier()) as auditor:
        assert (await auditor.verify("rb")).ok  # without memory the cut is invisible...
        report = await auditor.verify("rb", trusted=trusted)  # ...unless it is trusted
        assert [p.kind for p in report.problems] == ["rollback"]
