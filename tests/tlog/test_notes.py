"""Signed notes, checkpoints and cosignatures: the spec's own example, round trips, and
strict rejection of malformed or wrongly signed untrusted input."""

from __future__ import annotations

import base64
import hashlib

import pytest

from cloudstores.errors import IntegrityError, InvalidInputError
from cloudstores.tlog.checkpoint import (
    Checkpoint,
    open_checkpoint,
    parse_checkpoint,
    sign_checkpoint,
)
from cloudstores.tlog.cosignature import (
    CosignatureSigner,
    CosignatureVerifier,
    check_witnesses,
    cosign,
    cosignature_message,
)
from cloudstores.tlog.errors import MalformedNoteError, SignatureError
from cloudstores.tlog.note import (
    Ed25519NoteSigner,
    Ed25519NoteVerifier,
    compute_key_id,
    open_note,
    parse_note,
    parse_vkey,
    sign_note,
)

SPEC_VKEY = "example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k"
SPEC_NOTE = (
    "This is an example message.\n\n"
    "\u2014 example.com/foo Uw2QOkn8srV1yJGh2VYRlL1Tnagv1YEq6TfXppzi2ONncAlTgK7Ztg1ERYNZXsYjOBH3"
    "mFXmRKuwHjG1Yu72IneyaQM=\n"
).encode()


def seed(label: str) -> bytes:
    return hashlib.sha256(label.encode()).digest()


LOG = Ed25519NoteSigner.from_seed("example.com/log", seed("log"))
OTHER = Ed25519NoteSigner.from_seed("example.com/other", seed("other"))
W1 = CosignatureSigner.from_seed("witness.example/w1", seed("w1"), clock=lambda: 1679315147)
W2 = CosignatureSigner.from_seed("witness.example/w2", seed("w2"), clock=lambda: 1679315148)
CP = Checkpoint("example.com/log", 20852163, hashlib.sha256(b"root").digest())


def test_spec_example_verifies() -> None:
    verifier = Ed25519NoteVerifier.from_vkey(SPEC_VKEY)
    assert verifier.vkey == SPEC_VKEY
    opened = open_note(SPEC_NOTE, [verifier])
    assert opened.text == "This is an example message.\n"
    assert opened.verified_names == {"example.com/foo"}
    with pytest.raises(SignatureError):
        open_note(SPEC_NOTE.replace(b"example message", b"example massage"), [verifier])


def test_key_ids_and_vkeys() -> None:
    key = parse_vkey(LOG.verifier().vkey)
    assert (key.name, key.key_id, key.sig_type, key.public_key) == (
        LOG.name,
        LOG.key_id,
        0x01,
        LOG.public_key,
    )
    digest = hashlib.sha256(b"example.com/log\n\x01" + LOG.public_key).digest()
    assert LOG.key_id == int.from_bytes(digest[:4], "big")
    assert W1.key_id == compute_key_id(W1.name, 0x04, W1.public_key)
    assert W1.key_id != compute_key_id(W1.name, 0x01, W1.public_key)
    assert CosignatureVerifier.from_vkey(W1.verifier().vkey).key_id == W1.key_id
    for bad in [
        "a+b",
        "a+530d903a",
        "a b+530d903a+AQ==",
        "a+530D903A+AekyeRrm",
        "+00000000+AQ==",
        SPEC_VKEY.replace("530d903a", "530d903b"),
        SPEC_VKEY + "=",
        "x" * 5000,
    ]:
        with pytest.raises(InvalidInputError):
            Ed25519NoteVerifier.from_vkey(bad)
    with pytest.raises(InvalidInputError):
        CosignatureVerifier.from_vkey(SPEC_VKEY)  # type 0x01 is not a cosignature key


async def test_checkpoint_round_trip_with_several_signatures() -> None:
    signed = await sign_checkpoint(CP, [LOG, OTHER])
    text = signed.decode()
    assert text.startswith(
        "example.com/log\n20852163\n"
        + base64.b64encode(CP.root).decode()
        + "\n\n\u2014 example.com/log "
    )
    cp, opened = open_checkpoint(signed, [LOG.verifier()], origin="example.com/log")
    assert cp == CP and opened.verified_names == {"example.com/log"}
    cp, opened = open_checkpoint(signed, [LOG.verifier(), OTHER.verifier()])
    assert opened.verified_names == {"example.com/log", "example.com/other"}
    with pytest.raises(MalformedNoteError):
        open_checkpoint(signed, [LOG.verifier()], origin="example.com/elsewhere")
    ext = Checkpoint("o", 0, bytes(32), ("ext one", "ext-two"))
    assert parse_checkpoint(ext.text()) == ext


async def test_unknown_keys_are_ignored_but_a_bad_known_signature_rejects() -> None:
    signed = await sign_checkpoint(CP, [LOG, OTHER])
    open_note(signed, [LOG.verifier()])  # OTHER is unknown: ignored
    with pytest.raises(SignatureError):
        open_note(signed, [Ed25519NoteVerifier("example.com/nobody", OTHER.public_key)])
    # same name, other key id: unknown, ignored; same id other name: unknown too
    impostor = Ed25519NoteSigner.from_seed("example.com/log", seed("impostor"))
    both = await sign_note(parse_note(signed), [impostor])
    open_note(both, [LOG.verifier()])
    # a known key whose signature fails rejects the whole note
    note = parse_note(signed)
    sig = note.signatures[0]
    bad = type(note)(note.text, (type(sig)(sig.name, sig.key_id, bytes(64)), *note.signatures[1:]))
    with pytest.raises(SignatureError):
        open_note(bad.to_bytes(), [LOG.verifier(), OTHER.verifier()])


async def test_cosignatures() -> None:
    signed = await sign_checkpoint(CP, [LOG])
    cosigned = await cosign(await cosign(signed, W1), W2)
    report = check_witnesses(cosigned, [W1.verifier(), W2.verifier()], 2)
    assert report.timestamps == {W1.name: 1679315147, W2.name: 1679315148}
    cp, _opened = open_checkpoint(cosigned, [LOG.verifier()])  # still a valid checkpoint note
    assert cp == CP
    sig = next(s for s in parse_note(cosigned).signatures if s.name == W1.name)
    assert sig.signature[:8] == (1679315147).to_bytes(8, "big")
    message = cosignature_message(CP.text().encode(), 1679315147)
    assert message == b"cosignature/v1\ntime 1679315147\n" + CP.text().encode()
    with pytest.raises(SignatureError):
        check_witnesses(signed, [W1.verifier(), W2.verifier()], 1)
    # a cosignature over another tree head does not carry over
    other = await sign_checkpoint(Checkpoint(CP.origin, CP.size, bytes(32)), [LOG])
    moved = (
        parse_note(other).text.encode()
        + b"\n"
        + "".join(s.line() for s in parse_note(cosigned).signatures).encode()
    )
    with pytest.raises(SignatureError):
        check_witnesses(moved, [W1.verifier()], 1)
    # a Ed25519 note verifier does not accept a cosignature (different key id and message)
    with pytest.raises(SignatureError):
        open_note(cosigned, [Ed25519NoteVerifier(W1.name, W1.public_key)])
    with pytest.raises(InvalidInputError):
        check_witnesses(cosigned, [W1.verifier()], 2)


@pytest.mark.parametrize(
    "data",
    [
        b"no signatures\n",
        b"text\n\n",
        b"text\n\n\xe2\x80\x94 name AAAAAAA=",  # no final newline
        b"text\n\n- name AAAAAAAA\n",  # hyphen, not em dash
        "text\n\n\u2014 name  AAAAAAAA\n".encode(),
        "text\n\n\u2014 na+me AAAAAAAA\n".encode(),
        "text\n\n\u2014 na\u00a0me AAAAAAAA\n".encode(),
        "text\n\n\u2014 name AAAA\n".encode(),  # shorter than key id + 1 byte
        "text\n\n\u2014 name AAAAAAAA=\n".encode(),  # bad padding
        "text\n\n\u2014 name AAAAAAB=\n".encode(),  # non-canonical trailing bits
        "te\x07xt\n\n\u2014 name AAAAAAAA\n".encode(),
        "text\r\n\n\u2014 name AAAAAAAA\n".encode(),
        b"text\xff\n\n\xe2\x80\x94 name AAAAAAAA\n",
        b"text\n\n" + "\u2014 name AAAAAAAA\n".encode() * 65,
        b"x" * (256 * 1024 + 1),
    ],
)
def test_malformed_notes_are_rejected(data: bytes) -> None:
    with pytest.raises(MalformedNoteError) as info:
        open_note(data, [LOG.verifier()])
    assert isinstance(info.value, IntegrityError)


@pytest.mark.parametrize(
    "text",
    [
        "o\n1\n" + base64.b64encode(bytes(32)).decode(),  # no final newline
        "o\n1\n",
        "\n1\n" + base64.b64encode(bytes(32)).decode() + "\n",
        "o\n01\n" + base64.b64encode(bytes(32)).decode() + "\n",
        "o\n-1\n" + base64.b64encode(bytes(32)).decode() + "\n",
        "o\n+1\n" + base64.b64encode(bytes(32)).decode() + "\n",
        "o\n9223372036854775808\n" + base64.b64encode(bytes(32)).decode() + "\n",
        "o\n1\n" + base64.b64encode(bytes(31)).decode() + "\n",
        "o\n1\n" + base64.b64encode(bytes(32)).decode().rstrip("=") + "\n",
        "o\n1\n" + base64.b64encode(bytes(32)).decode() + "\n\n",  # empty extension line
    ],
)
def test_malformed_checkpoints_are_rejected(text: str) -> None:
    with pytest.raises(MalformedNoteError):
        parse_checkpoint(text)


async def test_bad_arguments() -> None:
    with pytest.raises(InvalidInputError):
        Checkpoint("", 1, bytes(32))
    with pytest.raises(InvalidInputError):
        Checkpoint("o", -1, bytes(32))
    with pytest.raises(InvalidInputError):
        Checkpoint("o", 1, bytes(31))
    with pytest.raises(InvalidInputError):
        Checkpoint("o\x01", 1, bytes(32))
    with pytest.raises(InvalidInputError):
        await sign_note("no newline", [LOG])
    with pytest.raises(InvalidInputError):
        await sign_note("x\n", [])
    with pytest.raises(InvalidInputError):
        open_note(SPEC_NOTE, [])
    with pytest.raises(InvalidInputError):
        Ed25519NoteSigner.from_seed("has space", seed("x"))
    with pytest.raises(InvalidInputError):
        cosignature_message(b"x\n", 2**63)
