"""The tree head of a checkpoint as a C2SP tlog-checkpoint signed note.

Note text (c2sp.org/tlog-checkpoint)::

    cloudstores/audit/<workspace>/<stream>\\n     origin: one log per stream
    <size>\\n                                     decimal
    <base64 root>\\n                              RFC 6962 root of entries [0, size)

signed (c2sp.org/signed-note, Ed25519, type 0x01) by the store's signer under the key
name ``cloudstores-audit/<key_id>``: one key signs every stream of a store, so the key
name is not the origin (which tlog-checkpoint only recommends). The verifier key of a
signer is :func:`vkey` (``<name>+<hash>+<base64(0x01 || public key)>``).
Signers without a raw Ed25519 public key (a KMS) give no note: the checkpoint's JSON
signature still covers its root.
"""

from __future__ import annotations

from cloudstores.errors import IntegrityError
from cloudstores.stores.audit.signing import ED25519, Signer, Verifier, key_id_of
from cloudstores.tlog.checkpoint import Checkpoint as NoteCheckpoint
from cloudstores.tlog.checkpoint import open_checkpoint, parse_checkpoint
from cloudstores.tlog.errors import MalformedNoteError, SignatureError
from cloudstores.tlog.note import (
    SIG_ED25519,
    Ed25519NoteVerifier,
    Note,
    NoteSignature,
    compute_key_id,
    format_vkey,
    parse_note,
)

__all__ = ["check_note", "key_name", "make_note", "note_verifiers", "origin", "vkey", "vkey_of"]


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


def vkey(signer: Signer) -> str | None:
    """The signed-note verifier key of ``signer`` (None if it cannot sign notes)."""
    public = _public_key(signer)
    return None if public is None else format_vkey(key_name(signer.key_id), SIG_ED25519, public)


async def make_note(
    signer: Signer | None, workspace: str, stream: str, size: int, root: bytes
) -> str | None:
    """The signed note text, or None (keyless, or a signer without a raw Ed25519 key).
    One ``sign`` call."""
    if signer is None:
        return None
    public = _public_key(signer)
    if public is None:
        return None
    text = NoteCheckpoint(origin(workspace, stream), size, root).text()
    name = key_name(signer.key_id)
    signature = await signer.sign(text.encode())
    line = NoteSignature(name, compute_key_id(name, SIG_ED25519, public), signature)
    return Note(text, (line,)).to_bytes().decode()


def note_verifiers(verifier: Verifier | None) -> list[Ed25519NoteVerifier]:
    """Note verifiers for the trusted keys of ``verifier`` (empty if it has none)."""
    keys = getattr(verifier, "public_keys", None)
    if not isinstance(keys, dict):
        return []
    return [Ed25519NoteVerifier(key_name(kid), pub) for kid, pub in keys.items()]


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
