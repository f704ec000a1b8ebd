"""The tree head of a checkpoint as a C2SP tlog-checkpoint signed note.

Note text (c2sp.org/tlog-checkpoint)::

    cloudstores/audit/<workspace>/<stream>\\n     origin: one log per stream
    <size>\\n                                     decimal
    <base64 root>\\n                              RFC 6962 root of entries [0, size)

signed (c2sp.org/signed-note, Ed25519, type 0x01) by the store's signer under the key
name ``cloudstores-audit/<key_id>``: one key signs every stream of a store, so the key
name is not the origin (which tlog-checkpoint only recommends). The verifier key of a
signer is :func:`vkey` (``<name>+<hash>+<base64(0x01 || public key)>``).
An ECDSA P-256 signer (an AWS KMS, Azure Key Vault or Cloud KMS key) signs type 0x02;
a Cloud KMS Ed25519 key type 0x01 like a key file. Other signers give no note: the
checkpoint's JSON signature still covers its root.
"""

from __future__ import annotations

from cloudstores.errors import IntegrityError
from cloudstores.stores.audit.signing import ECDSA_P256, ED25519, Signer, Verifier, key_id_of
from cloudstores.tlog.checkpoint import Checkpoint as NoteCheckpoint
from cloudstores.tlog.checkpoint import open_checkpoint, parse_checkpoint
from cloudstores.tlog.ecdsa_note import SIG_ECDSA, EcdsaNoteVerifier, ecdsa_key_id
from cloudstores.tlog.errors import MalformedNoteError, SignatureError
from cloudstores.tlog.note import (
    SIG_ED25519,
    Ed25519NoteVerifier,
    Note,
    NoteSignature,
    NoteVerifier,
    compute_key_id,
    format_vkey,
    parse_note,
    parse_vkey,
)

__all__ = [
    "check_note",
    "key_name",
    "make_note",
    "note_verifier",
    "note_verifiers",
    "origin",
    "vkey",
    "vkey_of",
]


def origin(workspace: str, stream: str) -> str:
    return f"cloudstores/audit/{workspace}/{stream}"


def key_name(key_id: str) -> str:
    return f"cloudstores-audit/{key_id}"


def _public_key(signer: Signer) -> bytes | None:
    public = getattr(signer, "public_key", None)
    if signer.algorithm != ED25519 or not isinstance(public, bytes) or len(public) != 32:
        return None
    return public


def vkey_of(public_key: bytes) -> str:
    """The signed-note verifier key of a raw 32-byte Ed25519 public key (as a store
    signing with it names it: ``cloudstores-audit/<key_id>``)."""
    return format_vkey(key_name(key_id_of(public_key)), SIG_ED25519, public_key)


def _ecdsa_der(signer: Signer) -> bytes | None:
    """The DER SPKI of an ECDSA P-256 signer (a KMS key), else None."""
    der = getattr(signer, "public_der", None)
    if signer.algorithm != ECDSA_P256 or not isinstance(der, bytes) or not der:
        return None
    return der


def vkey(signer: Signer) -> str | None:
    """The signed-note verifier key of ``signer`` (None if it cannot sign notes): type
    0x01 for Ed25519, type 0x02 (DER SPKI) for an ECDSA P-256 key such as a KMS key."""
    der = _ecdsa_der(signer)
    if der is not None:
        return EcdsaNoteVerifier(key_name(signer.key_id), der).vkey
    public = _public_key(signer)
    return None if public is None else format_vkey(key_name(signer.key_id), SIG_ED25519, public)


async def make_note(
    signer: Signer | None, workspace: str, stream: str, size: int, root: bytes
) -> str | None:
    """The signed note text, or None (keyless, or a signer that is neither a raw
    Ed25519 key nor an ECDSA P-256 key). One ``sign`` call. An ECDSA signer signs with
    signed-note type 0x02 (key ID = SHA-256(DER SPKI)[:4], DER signature)."""
    if signer is None:
        return None
    public = _public_key(signer)
    der = _ecdsa_der(signer)
    if public is None and der is None:
        return None
    text = NoteCheckpoint(origin(workspace, stream), size, root).text()
    name = key_name(signer.key_id)
    signature = await signer.sign(text.encode())
    if der is not None:
        line = NoteSignature(name, ecdsa_key_id(der), signature)
    else:
        assert public is not None
        line = NoteSignature(name, compute_key_id(name, SIG_ED25519, public), signature)
    return Note(text, (line,)).to_bytes().decode()


def note_verifier(vkey: str) -> NoteVerifier:
    """The note verifier of a vkey string: type 0x01 (Ed25519) or 0x02 (ECDSA P-256).
    InvalidInputError for another type or a malformed key."""
    if parse_vkey(vkey).sig_type == SIG_ECDSA:
        return EcdsaNoteVerifier.from_vkey(vkey)
    return Ed25519NoteVerifier.from_vkey(vkey)


def note_verifiers(verifier: Verifier | None) -> list[NoteVerifier]:
    """Note verifiers for the trusted keys of ``verifier`` (empty if it has none):
    Ed25519 keys (``public_keys``) and ECDSA P-256 keys (``ecdsa_keys``)."""
    out: list[NoteVerifier] = []
    keys = getattr(verifier, "public_keys", None)
    if isinstance(keys, dict):
        out += [Ed25519NoteVerifier(key_name(kid), pub) for kid, pub in keys.items()]
    ecdsa = getattr(verifier, "ecdsa_keys", None)
    if isinstance(ecdsa, dict):
        out += [EcdsaNoteVerifier(key_name(kid), der) for kid, der in ecdsa.items()]
    return out


def check_note(
    note: str, *, workspace: str, stream: str, size: int, root: bytes, verifier: Verifier | None
) -> None:
    """IntegrityError unless ``note`` states exactly this tree head (and, with trusted
    keys, carries a valid signature by one and no invalid one)."""
    try:
        data = note.encode()
        verifiers = note_verifiers(verifier)
        if verifiers:
            head, _ = open_checkpoint(data, verifiers, origin=origin(workspace, stream))
        else:
            head = parse_checkpoint(parse_note(data).text)
    except (MalformedNoteError, SignatureError, UnicodeEncodeError) as exc:
        raise IntegrityError(f"checkpoint note: {exc}") from exc
    if (head.origin, head.size, head.root, head.extensions) != (
        origin(workspace, stream),
        size,
        root,
        (),
    ):
        raise IntegrityError("checkpoint note does not state the checkpoint's tree head")
