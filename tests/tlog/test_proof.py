"""c2sp tlog-proof@v1: round trip, offline verification under a policy, tampering caught."""

from __future__ import annotations

import hashlib

import pytest

from cloudstores.errors import IntegrityError, InvalidInputError
from cloudstores.tlog import merkle
from cloudstores.tlog.checkpoint import Checkpoint, sign_checkpoint
from cloudstores.tlog.cosignature import CosignatureSigner, cosign
from cloudstores.tlog.errors import InclusionProofError, MalformedNoteError, SignatureError
from cloudstores.tlog.note import Ed25519NoteSigner
from cloudstores.tlog.proof import format_tlog_proof, parse_tlog_proof, verify_tlog_proof
from tests.tlog.brute import MemoryTree, leaves_for, mth

ORIGIN = "example.com/log"
LOG = Ed25519NoteSigner.from_seed(ORIGIN, hashlib.sha256(b"log").digest())
W = CosignatureSigner.from_seed("w.example/1", hashlib.sha256(b"w").digest(), clock=lambda: 7)
LEAVES = leaves_for(21)


async def _proof(index: int, extra: bytes | None = None, witnessed: bool = True) -> bytes:
    note = await sign_checkpoint(Checkpoint(ORIGIN, 21, mth(LEAVES)), [LOG])
    if witnessed:
        note = await cosign(note, W)
    path = merkle.inclusion_proof(index, 21, MemoryTree(LEAVES).hash_at)
    return format_tlog_proof(index, path, note, extra)


async def test_round_trip_and_verify() -> None:
    for index in [0, 7, 20]:
        data = await _proof(index, extra=b"context" if index == 7 else None)
        parsed = parse_tlog_proof(data)
        assert parsed.index == index and (parsed.extra == b"context") == (index == 7)
        assert (
            format_tlog_proof(parsed.index, parsed.proof, parsed.checkpoint, parsed.extra) == data
        )
        cp = verify_tlog_proof(
            data,
            LEAVES[index],
            [LOG.verifier()],
            origin=ORIGIN,
            witnesses=[W.verifier()],
            required_witnesses=1,
        )
        assert cp.size == 21
    text = (await _proof(3)).decode()
    assert text.startswith("c2sp.org/tlog-proof@v1\nindex 3\n")


async def test_tampering_is_caught() -> None:
    data = await _proof(5)
    with pytest.raises(InclusionProofError):
        verify_tlog_proof(data, LEAVES[6], [LOG.verifier()], origin=ORIGIN)
    with pytest.raises(InclusionProofError):
        verify_tlog_proof(
            data.replace(b"index 5", b"index 4"), LEAVES[5], [LOG.verifier()], origin=ORIGIN
        )
    with pytest.raises(MalformedNoteError):
        verify_tlog_proof(
            data.replace(b"index 5", b"index 21"), LEAVES[5], [LOG.verifier()], origin=ORIGIN
        )
    with pytest.raises(MalformedNoteError):
        verify_tlog_proof(data, LEAVES[5], [LOG.verifier()], origin="example.com/other")
    with pytest.raises(SignatureError):
        verify_tlog_proof(
            await _proof(5, witnessed=False),
            LEAVES[5],
            [LOG.verifier()],
            origin=ORIGIN,
            witnesses=[W.verifier()],
            required_witnesses=1,
        )
    lines = data.split(b"\n")
    lines[2] = lines[3]  # one proof hash replaced by another
    with pytest.raises(InclusionProofError):
        verify_tlog_proof(b"\n".join(lines), LEAVES[5], [LOG.verifier()], origin=ORIGIN)


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"c2sp.org/tlog-proof@v2\nindex 0\n\nx",
        b"c2sp.org/tlog-proof@v1\n\nx",
        b"c2sp.org/tlog-proof@v1\nindex 01\n\nx",
        b"c2sp.org/tlog-proof@v1\nextra \nindex 0\n\nx",
        b"c2sp.org/tlog-proof@v1\nindex 0\nAAAA\n\nx",
        b"c2sp.org/tlog-proof@v1\nindex 0\n",
    ],
)
def test_malformed(data: bytes) -> None:
    with pytest.raises(MalformedNoteError) as info:
        parse_tlog_proof(data)
    assert isinstance(info.value, IntegrityError)


def test_bad_arguments() -> None:
    with pytest.raises(InvalidInputError):
        format_tlog_proof(-1, [], b"")
    with pytest.raises(InvalidInputError):
        format_tlog_proof(0, [b"short"], b"")
    with pytest.raises(InvalidInputError):
        format_tlog_proof(0, [], b"", extra=b"")
