"""Witnesses: a witness with its own key and its own bucket cosigns a log's newest
checkpoint only if it extends what it cosigned before; ``verify`` can require k of n
witnesses. A log owner with full write access to the log bucket (and the log's key)
who rewrites, forks or rolls back history is caught: the witness refuses and says why,
and the cosignatures it left are evidence ``verify`` reports as ``witness_fork``.
On the five backends (the log and each witness on its own bucket)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from dataclasses import dataclass
from typing import Any

import pytest

import cloudstores
from cloudstores.errors import InvalidInputError
from cloudstores.stores.audit import AuditOptions, AuditStore, Ed25519Signer, note_vkey
from cloudstores.stores.audit.layout import StreamKeys
from cloudstores.stores.audit.witnessing import (
    Witness,
    format_witness_key,
    parse_witness_key,
)
from cloudstores.tlog.cosignature import CosignatureSigner, CosignatureVerifier

LOG = Ed25519Signer.from_bytes(bytes(range(40, 72)))
STREAM = "payments"
OPTIONS = AuditOptions(checkpoint_every=None, checkpoint_interval=None, checkpoint_on_close=False)


@dataclass
class Setup:
    log: cloudstores.Bucket
    w1: Witness
    w2: Witness
    keys: list[CosignatureVerifier]


@pytest.fixture
async def setup(backend: str, make_bucket_url: Any) -> AsyncIterator[Setup]:
    """The log's bucket and each witness's own bucket, all on ``backend`` (the five
    backends, and the obstore engine on the clouds)."""
    async with AsyncExitStack() as stack:
        buckets = [
            await stack.enter_async_context(cloudstores.open_bucket(make_bucket_url(backend)))
            for _ in range(3)
        ]
        vkey = note_vkey(LOG)
        assert vkey is not None
        s1 = CosignatureSigner.from_seed("witness.example/w1", bytes(32))
        s2 = CosignatureSigner.from_seed("witness.example/w2", bytes(range(32)))
        yield Setup(
            buckets[0],
            Witness(buckets[1], s1, [vkey]),
            Witness(buckets[2], s2, [vkey]),
            [s1.verifier(), s2.verifier()],
        )


async def _append(log: cloudstores.Bucket, start: int, stop: int, tag: str = "") -> None:
    """Entries [start, stop) and a checkpoint at stop, signed with the log's key."""
    async with AuditStore(log, signer=LOG, options=OPTIONS) as audit:
        await audit.append_many(STREAM, [{"i": i, "tag": tag} for i in range(start, stop)])
        await audit.checkpoint(STREAM)


async def _wipe(log: cloudstores.Bucket, *, keep_cosigs: bool = True) -> None:
    """The log owner deletes the stream (full write access to the log bucket)."""
    keys = StreamKeys("default", STREAM)
    doomed = [info.key async for info in log.list(keys.base)]
    for key in doomed:
        if not (keep_cosigs and key.startswith(keys.cosig_prefix)):
            await log.delete(key)


async def _verify(log: cloudstores.Bucket, keys: list[CosignatureVerifier], k: int) -> Any:
    async with AuditStore(log, verifier=LOG.verifier()) as auditor:
        return await auditor.verify(STREAM, witnesses=keys, required_witnesses=k)


async def test_witnesses_cosign_a_growing_log_and_verify_requires_k(setup: Setup) -> None:
    await _append(setup.log, 0, 20)
    first = await setup.w1.witness(setup.log, STREAM)
    assert (first.status, first.size, first.cosigned_size) == ("cosigned", 20, 20)
    report = await _verify(setup.log, setup.keys, 1)
    assert report.ok and report.witnessed_size == 20
    assert report.witnesses == ("witness.example/w1",)
    # 2 of 2 required: only one cosigned so far
    report = await _verify(setup.log, setup.keys, 2)
    assert not report.ok and [p.kind for p in report.problems] == ["unwitnessed"]
    await _append(setup.log, 20, 45)
    for witness in (setup.w1, setup.w2):
        result = await witness.witness(setup.log, STREAM)
        assert (result.status, result.size) == ("cosigned", 45), result.reason
    again = await setup.w1.witness(setup.log, STREAM)
    assert again.status == "up_to_date" and again.ok
    report = await _verify(setup.log, setup.keys, 2)
    assert report.ok and report.witnessed_size == 45
    assert report.witnesses == ("witness.example/w1", "witness.example/w2")


async def test_rewritten_history_is_refused_and_reported(setup: Setup) -> None:
    await _append(setup.log, 0, 20)
    assert (await setup.w1.witness(setup.log, STREAM)).status == "cosigned"
    # the owner rewrites everything and re-signs longer checkpoints with the log's key
    await _wipe(setup.log)
    await _append(setup.log, 0, 20, tag="rewritten")
    await _append(setup.log, 20, 30, tag="rewritten")
    refused = await setup.w1.witness(setup.log, STREAM)
    assert refused.status == "refused" and not refused.ok
    assert refused.http_status == 422 and "fork" in refused.reason
    assert refused.cosigned_size == 20 and refused.size == 30
    assert (await setup.w1.latest(refused.origin)).size == 20  # state unchanged
    # the rewritten log verifies on its own, but not against the witness
    async with AuditStore(setup.log, verifier=LOG.verifier()) as auditor:
        assert (await auditor.verify(STREAM)).ok
    report = await _verify(setup.log, setup.keys, 1)
    assert not report.ok
    assert {p.kind for p in report.problems} == {"witness_fork", "unwitnessed"}
    # deleting the evidence leaves the log unwitnessed
    await _wipe(setup.log, keep_cosigs=False)
    await _append(setup.log, 0, 30, tag="again")
    report = await _verify(setup.log, setup.keys, 1)
    assert [p.kind for p in report.problems] == ["unwitnessed"]


async def test_fork_at_the_same_size_is_refused(setup: Setup) -> None:
    await _append(setup.log, 0, 20)
    assert (await setup.w1.witness(setup.log, STREAM)).status == "cosigned"
    await _wipe(setup.log)
    await _append(setup.log, 0, 20, tag="fork")
    refused = await setup.w1.witness(setup.log, STREAM)
    assert refused.status == "refused" and refused.http_status == 422
    assert "another root" in refused.reason
    report = await _verify(setup.log, setup.keys, 1)
    assert any(p.kind == "witness_fork" and p.checkpoint == 20 for p in report.problems)


async def test_rollback_is_refused(setup: Setup) -> None:
    await _append(setup.log, 0, 20)
    await _append(setup.log, 20, 40)
    assert (await setup.w1.witness(setup.log, STREAM)).cosigned_size == 40
    # the owner presents the older checkpoint as the newest
    await setup.log.delete(StreamKeys("default", STREAM).checkpoint(40))
    refused = await setup.w1.witness(setup.log, STREAM)
    assert refused.status == "refused" and refused.http_status == 400
    assert "rollback" in refused.reason and refused.size == 20


async def test_untrusted_log_key_and_bad_input(setup: Setup) -> None:
    other = Ed25519Signer.from_bytes(bytes(range(1, 33)))
    async with AuditStore(setup.log, signer=other, options=OPTIONS) as audit:
        await audit.append(STREAM, {"i": 0})
        await audit.checkpoint(STREAM)
    refused = await setup.w1.witness(setup.log, STREAM)
    assert refused.status == "refused" and refused.http_status == 403
    before = sum(setup.log.requests.values())
    with pytest.raises(InvalidInputError):
        await setup.w1.witness(setup.log, "bad/stream")
    with pytest.raises(InvalidInputError):
        Witness(setup.log, setup.w1.signer, [])
    async with AuditStore(setup.log) as audit:
        with pytest.raises(InvalidInputError):
            await audit.verify(STREAM, witnesses=setup.keys, required_witnesses=3)
        with pytest.raises(InvalidInputError):
            await audit.verify(STREAM, witnesses=[setup.keys[0]] * 2, required_witnesses=1)
    assert sum(setup.log.requests.values()) == before


def test_witness_key_file_round_trip() -> None:
    text = format_witness_key("witness.example/w9", bytes(range(32)))
    signer = parse_witness_key(text)
    assert (
        signer.verifier().vkey
        == CosignatureSigner.from_seed("witness.example/w9", bytes(range(32))).verifier().vkey
    )
    with pytest.raises(InvalidInputError):
        parse_witness_key(text.replace("w9+", "w8+"))
    plus = format_witness_key("w", bytes([0xFB] * 32))  # base64 with "+" in it
    assert "+" in plus.split("+", 4)[4]
    assert (
        parse_witness_key(plus).public_key
        == CosignatureSigner.from_seed("w", bytes([0xFB] * 32)).public_key
    )
