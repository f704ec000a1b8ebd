"""Witness add-checkpoint checks: growth cosigned; forks, rollbacks, bad signatures refused."""

from __future__ import annotations

import hashlib

import pytest

from cloudstores.tlog import merkle
from cloudstores.tlog.checkpoint import Checkpoint, sign_checkpoint
from cloudstores.tlog.cosignature import CosignatureSigner, check_witnesses
from cloudstores.tlog.errors import MalformedNoteError, OldSizeMismatchError, WitnessRefusedError
from cloudstores.tlog.note import Ed25519NoteSigner, parse_note
from cloudstores.tlog.witness import (
    add_checkpoint,
    format_add_checkpoint,
    parse_add_checkpoint,
)
from tests.tlog.brute import MemoryTree, leaves_for, mth

ORIGIN = "example.com/log"
LOG = Ed25519NoteSigner.from_seed(ORIGIN, hashlib.sha256(b"log").digest())
ROGUE = Ed25519NoteSigner.from_seed(ORIGIN, hashlib.sha256(b"rogue").digest())
WITNESS = CosignatureSigner.from_seed(
    "w.example/1", hashlib.sha256(b"w").digest(), clock=lambda: 1700000000
)
TRUSTED = {ORIGIN: [LOG.verifier()]}
LEAVES = leaves_for(40)
FORKED = LEAVES[:20] + leaves_for(20, salt="fork")


async def _signed(
    size: int, leaves: list[bytes] = LEAVES, signer: Ed25519NoteSigner = LOG, origin: str = ORIGIN
) -> bytes:
    return await sign_checkpoint(Checkpoint(origin, size, mth(leaves[:size])), [signer])


async def _request(old: int, new: int, leaves: list[bytes] = LEAVES, **kw: object) -> bytes:
    proof = merkle.consistency_proof(old, new, MemoryTree(leaves[:new]).hash_at)
    return format_add_checkpoint(old, proof, await _signed(new, leaves, **kw))  # type: ignore[arg-type]


def _cp(size: int, leaves: list[bytes] = LEAVES) -> Checkpoint:
    return Checkpoint(ORIGIN, size, mth(leaves[:size]))


async def test_growth_is_cosigned_and_the_response_is_cosignature_lines() -> None:
    latest = None
    for size in [5, 5, 8, 31, 40]:
        body = await _request(latest.size if latest else 0, size)
        latest, lines = await add_checkpoint(body, TRUSTED, latest, WITNESS)
        assert latest == _cp(size)
        note = await _signed(size) + lines
        assert check_witnesses(note, [WITNESS.verifier()], 1).timestamps == {
            "w.example/1": 1700000000
        }


async def test_fork_at_same_size_is_refused() -> None:
    body = await _request(30, 30, FORKED)
    with pytest.raises(WitnessRefusedError) as info:
        await add_checkpoint(body, TRUSTED, _cp(30), WITNESS)
    assert info.value.status == 422


async def test_fork_that_grows_is_refused() -> None:
    # The forked log proves consistency with its own size-25 tree, not with ours.
    body = await _request(25, 35, FORKED)
    with pytest.raises(WitnessRefusedError) as info:
        await add_checkpoint(body, TRUSTED, _cp(25), WITNESS)
    assert info.value.status == 422


async def test_rollback_is_refused() -> None:
    latest = _cp(30)
    # an older checkpoint presented as newest: old size is ours, but above its size
    with pytest.raises(WitnessRefusedError) as info:
        await add_checkpoint(
            format_add_checkpoint(30, [], await _signed(20)), TRUSTED, latest, WITNESS
        )
    assert info.value.status == 400
    # or claiming to extend an older state: conflict, answering our latest size
    with pytest.raises(OldSizeMismatchError) as conflict:
        await add_checkpoint(await _request(10, 20), TRUSTED, latest, WITNESS)
    assert conflict.value.status == 409 and conflict.value.latest_size == 30


async def test_signatures_and_origins() -> None:
    with pytest.raises(WitnessRefusedError) as info:
        await add_checkpoint(await _request(0, 5, signer=ROGUE), TRUSTED, None, WITNESS)
    assert info.value.status == 403
    with pytest.raises(WitnessRefusedError) as info:
        await add_checkpoint(
            await _request(0, 5, origin="example.com/other"), TRUSTED, None, WITNESS
        )
    assert info.value.status == 404


async def test_empty_tree_and_proof_rules() -> None:
    bad_empty = await sign_checkpoint(Checkpoint(ORIGIN, 0, bytes(32)), [LOG])
    with pytest.raises(WitnessRefusedError):
        await add_checkpoint(format_add_checkpoint(0, [], bad_empty), TRUSTED, None, WITNESS)
    good_empty = await sign_checkpoint(Checkpoint(ORIGIN, 0, merkle.EMPTY_ROOT), [LOG])
    cp, _ = await add_checkpoint(format_add_checkpoint(0, [], good_empty), TRUSTED, None, WITNESS)
    assert cp.size == 0
    with pytest.raises(WitnessRefusedError):
        await add_checkpoint(
            format_add_checkpoint(0, [LEAVES[0]], await _signed(5)), TRUSTED, None, WITNESS
        )


SPEC_BODY = (
    "old 20852014\n"
    "PlRNCrwHpqhGrupue0L7gxbjbMiKA9temvuZZDDpkaw=\n"
    "jrJZDmY8Y7SyJE0MWLpLozkIVMSMZcD5kvuKxPC3swk=\n"
    "5+pKlUdi2LeF/BcMHBn+Ku6yhPGNCswZZD1X/6QgPd8=\n"
    "/6WVhPs2CwSsb5rYBH5cjHV/wSmA79abXAwhXw3Kj/0=\n"
    "\n"
    "example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n\n"
    "\u2014 example.com/behind-the-sofa Az3grlgtzPICa5OS8npVmf1Myq/5IZniMp+ZJurmRDeOoRDe4URYN7u5/"
    "Zhcyv2q1gGzGku9nTo+zyWE+xeMcTOAYQ8=\n"
).encode()


def test_spec_example_request_parses_and_round_trips() -> None:
    request = parse_add_checkpoint(SPEC_BODY)
    assert request.old_size == 20852014 and len(request.proof) == 4
    assert request.note.text.startswith("example.com/behind-the-sofa\n20852163\n")
    again = format_add_checkpoint(request.old_size, request.proof, request.note.to_bytes())
    assert again == SPEC_BODY
    assert parse_note(request.note.to_bytes()) == request.note


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"old 1\n",
        b"old 01\n\nx",
        b"new 1\n\n",
        b"old 1\nAAAA\n\n",
        b"old -1\n\n",
        b"old 1\n" + b"PlRNCrwHpqhGrupue0L7gxbjbMiKA9temvuZZDDpkaw=\n" * 64 + b"\n",
        b"old 1\n\nnot a note\n",
    ],
)
def test_malformed_requests(body: bytes) -> None:
    with pytest.raises(MalformedNoteError):
        parse_add_checkpoint(body)
