"""C2SP signed-note: text signed by one or more keys, Ed25519 keys, verifier keys.

Format (c2sp.org/signed-note)::

    <text, ending in "\\n">
    <blank line>
    — <key name> <base64(4-byte big-endian key ID || signature)>\\n   (one or more)

- the text is UTF-8, ends in a newline, may hold empty lines; it is separated from the
  signatures by the LAST empty line; no control characters but newline anywhere;
- key names are non-empty, without Unicode white space or ``+``;
- Ed25519 (type 0x01): key ID = SHA-256(name || 0x0A || 0x01 || 32-byte public key)[:4],
  signature = RFC 8032 Ed25519 over the text bytes;
- verifier key (vkey): ``<name>+<hex key ID, 8 lowercase digits>+base64(type || public key)``.

Opening a note (:func:`open_note`): a signature is *known* when both its key name and key
ID match a trusted verifier; unknown signatures are ignored (as the spec requires), a
known one that fails rejects the whole note, and a note with no verified known signature
is rejected. Every byte is untrusted: sizes are bounded and each failure is a typed error
(:class:`MalformedNoteError` or :class:`SignatureError`, both IntegrityErrors).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Protocol, Self, runtime_checkable

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from cloudstores.errors import InvalidInputError
from cloudstores.tlog.errors import MalformedNoteError, SignatureError

__all__ = [
    "DEFAULT_MAX_NOTE_SIZE",
    "DEFAULT_MAX_SIGNATURES",
    "SIG_COSIGNATURE_V1",
    "SIG_ED25519",
    "Ed25519NoteSigner",
    "Ed25519NoteVerifier",
    "Note",
    "NoteSignature",
    "NoteSigner",
    "NoteVerifier",
    "OpenedNote",
    "VerifierKey",
    "b64decode_strict",
    "check_key_name",
    "check_text",
    "compute_key_id",
    "format_vkey",
    "open_note",
    "parse_note",
    "parse_vkey",
    "sign_note",
]

SIG_ED25519 = 0x01
SIG_COSIGNATURE_V1 = 0x04
DEFAULT_MAX_NOTE_SIZE = 256 * 1024
DEFAULT_MAX_SIGNATURES = 64  # the spec asks to accept at least 16
MAX_KEY_NAME = 256
_DASH = "\u2014"
# Unicode White_Space (what Go's unicode.IsSpace and the spec's "Unicode spaces" mean).
_SPACE = re.compile("[\t\n\v\f\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]")
_CONTROL = re.compile("[\x00-\x09\x0b-\x1f]")


def b64decode_strict(text: str, what: str = "base64") -> bytes:
    """Standard padded base64 (RFC 4648 section 4), canonical only; MalformedNoteError else."""
    try:
        data = base64.b64decode(text.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError, ValueError) as exc:
        raise MalformedNoteError(f"{what} is not valid base64") from exc
    if base64.b64encode(data).decode("ascii") != text:
        raise MalformedNoteError(f"{what} is not canonical base64")
    return data


def _name_problem(name: object) -> str | None:
    if not isinstance(name, str) or not name:
        return "key name must be a non-empty string"
    if len(name.encode("utf-8", "surrogatepass")) > MAX_KEY_NAME:
        return f"key name is longer than {MAX_KEY_NAME} bytes"
    if _SPACE.search(name) or "+" in name or _CONTROL.search(name):
        return f"key name {name!r} has a space, a '+' or a control character"
    return None


def check_key_name(name: str) -> str:
    """Return ``name`` if it is a valid key name, else raise InvalidInputError."""
    problem = _name_problem(name)
    if problem:
        raise InvalidInputError(problem)
    return name


def check_text(text: str) -> bytes:
    """The UTF-8 bytes of a note text; InvalidInputError unless it is a valid note text."""
    if not isinstance(text, str) or not text.endswith("\n"):
        raise InvalidInputError("note text must be a string ending in a newline")
    if _CONTROL.search(text):
        raise InvalidInputError("note text has a control character other than newline")
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise InvalidInputError("note text is not valid Unicode") from exc


def compute_key_id(name: str, sig_type: int, public_key: bytes) -> int:
    """SHA-256(name || 0x0A || type || public key)[:4] as a big-endian uint32."""
    check_key_name(name)
    digest = hashlib.sha256(name.encode() + b"\n" + bytes([sig_type]) + public_key).digest()
    return int.from_bytes(digest[:4], "big")


@dataclass(frozen=True)
class VerifierKey:
    """The three parts of a vkey string."""

    name: str
    key_id: int
    sig_type: int
    public_key: bytes


def format_vkey(name: str, sig_type: int, public_key: bytes) -> str:
    """``<name>+<hex key ID>+base64(type || public key)``."""
    key_id = compute_key_id(name, sig_type, public_key)
    return f"{name}+{key_id:08x}+" + base64.b64encode(bytes([sig_type]) + public_key).decode()


def parse_vkey(vkey: str) -> VerifierKey:
    """Split a vkey; InvalidInputError if malformed (it is configuration, not stored data)."""
    if not isinstance(vkey, str) or len(vkey) > 4096:
        raise InvalidInputError("verifier key must be a string of at most 4096 characters")
    parts = vkey.split("+", 2)  # the base64 part may itself hold "+"
    if len(parts) != 3 or not re.fullmatch("[0-9a-f]{8}", parts[1]):
        raise InvalidInputError(f"not a verifier key (name+hash+key): {vkey[:80]!r}")
    name = check_key_name(parts[0])
    try:
        raw = b64decode_strict(parts[2], "verifier key")
    except MalformedNoteError as exc:
        raise InvalidInputError(exc.message) from exc
    if len(raw) < 2:
        raise InvalidInputError("verifier key has no key material")
    return VerifierKey(name, int(parts[1], 16), raw[0], raw[1:])


@runtime_checkable
class NoteSigner(Protocol):
    """Makes one note signature line; async so a cloud KMS can sign."""

    @property
    def name(self) -> str: ...

    @property
    def key_id(self) -> int: ...

    async def sign(self, text: bytes) -> bytes:
        """The signature bytes (without the key ID) for this note text."""
        ...


@runtime_checkable
class NoteVerifier(Protocol):
    """Checks the signatures of one key, identified by name and key ID."""

    @property
    def name(self) -> str: ...

    @property
    def key_id(self) -> int: ...

    def verify(self, text: bytes, signature: bytes) -> bool: ...


class Ed25519KeyVerifier:
    """An Ed25519 verifier key of one signature type (``sig_type``): its name, key id
    and vkey string. Subclasses say how a signature of their type is checked."""

    sig_type = SIG_ED25519

    def __init__(self, name: str, public_key: bytes) -> None:
        if not isinstance(public_key, bytes) or len(public_key) != 32:
            raise InvalidInputError("an Ed25519 public key is 32 bytes")
        self.name = check_key_name(name)
        self.public_key = public_key
        self.key_id = compute_key_id(name, self.sig_type, public_key)
        self._key = Ed25519PublicKey.from_public_bytes(public_key)

    @classmethod
    def from_vkey(cls, vkey: str) -> Self:
        key = parse_vkey(vkey)
        if key.sig_type != cls.sig_type:
            raise InvalidInputError(
                f"verifier key type is {key.sig_type:#04x}, not {cls.sig_type:#04x}"
            )
        verifier = cls(key.name, key.public_key)
        if verifier.key_id != key.key_id:
            raise InvalidInputError(f"verifier key hash {key.key_id:08x} does not match its key")
        return verifier

    @property
    def vkey(self) -> str:
        return format_vkey(self.name, self.sig_type, self.public_key)


class Ed25519NoteVerifier(Ed25519KeyVerifier):
    """Verifies type 0x01 Ed25519 note signatures."""

    sig_type = SIG_ED25519

    def verify(self, text: bytes, signature: bytes) -> bool:
        if len(signature) != 64:
            return False
        try:
            self._key.verify(signature, text)
        except InvalidSignature:
            return False
        return True


class Ed25519NoteSigner:
    """An Ed25519 private key that signs note texts (type 0x01)."""

    def __init__(self, name: str, private_key: Ed25519PrivateKey) -> None:
        self.name = check_key_name(name)
        self._key = private_key
        self.public_key = private_key.public_key().public_bytes(
            serialization.Encoding.Raw, serialization.PublicFormat.Raw
        )
        self.key_id = compute_key_id(name, SIG_ED25519, self.public_key)

    @classmethod
    def from_seed(cls, name: str, seed: bytes) -> Ed25519NoteSigner:
        if not isinstance(seed, bytes) or len(seed) != 32:
            raise InvalidInputError("an Ed25519 seed is 32 bytes")
        return cls(name, Ed25519PrivateKey.from_private_bytes(seed))

    async def sign(self, text: bytes) -> bytes:
        return self._key.sign(text)

    def verifier(self) -> Ed25519NoteVerifier:
        return Ed25519NoteVerifier(self.name, self.public_key)


@dataclass(frozen=True)
class NoteSignature:
    """One signature line: key name, key ID and the signature bytes after the ID."""

    name: str
    key_id: int
    signature: bytes

    def line(self) -> str:
        blob = self.key_id.to_bytes(4, "big") + self.signature
        return f"{_DASH} {self.name} {base64.b64encode(blob).decode()}\n"


@dataclass(frozen=True)
class Note:
    """A parsed note: its text (with the final newline) and its signature lines."""

    text: str
    signatures: tuple[NoteSignature, ...]

    def to_bytes(self) -> bytes:
        return (self.text + "\n" + "".join(s.line() for s in self.signatures)).encode("utf-8")


@dataclass(frozen=True)
class OpenedNote:
    """A note with at least one verified trusted signature."""

    note: Note
    verified: tuple[NoteSignature, ...]

    @property
    def text(self) -> str:
        return self.note.text

    @property
    def verified_names(self) -> frozenset[str]:
        return frozenset(s.name for s in self.verified)


def parse_note(
    data: bytes,
    *,
    max_size: int = DEFAULT_MAX_NOTE_SIZE,
    max_signatures: int = DEFAULT_MAX_SIGNATURES,
) -> Note:
    """Parse a signed note without checking signatures; MalformedNoteError if malformed."""
    if not isinstance(data, bytes | bytearray):
        raise InvalidInputError("a note is bytes")
    if len(data) > max_size:
        raise MalformedNoteError(f"note is {len(data)} bytes, over the {max_size}-byte limit")
    try:
        content = bytes(data).decode("utf-8")
    except UnicodeDecodeError as exc:
        raise MalformedNoteError("note is not valid UTF-8") from exc
    if _CONTROL.search(content):
        raise MalformedNoteError("note has a control character other than newline")
    split = content.rfind("\n\n")
    if split < 0:
        raise MalformedNoteError("note has no blank line before its signatures")
    text, block = content[: split + 1], content[split + 2 :]
    if not block.endswith("\n"):
        raise MalformedNoteError("note does not end with a signature line and newline")
    lines = block[:-1].split("\n")
    if len(lines) > max_signatures:
        raise MalformedNoteError(f"note has {len(lines)} signatures, over {max_signatures}")
    signatures = []
    for line in lines:
        if not line.startswith(_DASH + " "):
            raise MalformedNoteError("signature line does not start with an em dash and space")
        parts = line[2:].split(" ")
        if len(parts) != 2 or _name_problem(parts[0]):
            raise MalformedNoteError("signature line is not '— <key name> <base64>'")
        blob = b64decode_strict(parts[1], "signature")
        if len(blob) < 5:
            raise MalformedNoteError("signature is shorter than a key ID and one byte")
        signatures.append(NoteSignature(parts[0], int.from_bytes(blob[:4], "big"), blob[4:]))
    return Note(text, tuple(signatures))


def _index(verifiers: Iterable[NoteVerifier]) -> dict[tuple[str, int], NoteVerifier]:
    known: dict[tuple[str, int], NoteVerifier] = {}
    for verifier in verifiers:
        ident = (verifier.name, verifier.key_id)
        if ident in known:
            raise InvalidInputError(f"two verifiers for key {verifier.name}+{verifier.key_id:08x}")
        known[ident] = verifier
    return known


def open_note(
    data: bytes | Note,
    verifiers: Sequence[NoteVerifier],
    *,
    max_size: int = DEFAULT_MAX_NOTE_SIZE,
    max_signatures: int = DEFAULT_MAX_SIGNATURES,
) -> OpenedNote:
    """Parse and verify: raise SignatureError unless a trusted signature verifies and no
    trusted signature fails; signatures of unknown keys are ignored."""
    known = _index(verifiers)
    if not known:
        raise InvalidInputError("open_note needs at least one verifier")
    note = (
        data
        if isinstance(data, Note)
        else parse_note(data, max_size=max_size, max_signatures=max_signatures)
    )
    text = note.text.encode("utf-8")
    verified = []
    for sig in note.signatures:
        verifier = known.get((sig.name, sig.key_id))
        if verifier is None:
            continue
        if not verifier.verify(text, sig.signature):
            raise SignatureError(f"signature by {sig.name}+{sig.key_id:08x} does not verify")
        verified.append(sig)
    if not verified:
        raise SignatureError("note has no signature by a trusted key")
    return OpenedNote(note, tuple(verified))


async def sign_note(text: str | Note, signers: Sequence[NoteSigner]) -> bytes:
    """A signed note: ``text`` (or an existing note, whose lines are kept) plus one line per
    signer. Signatures of the same key already present are replaced, not repeated."""
    if not signers:
        raise InvalidInputError("sign_note needs at least one signer")
    note = text if isinstance(text, Note) else Note(text, ())
    body = check_text(note.text)
    new = []
    for signer in signers:
        check_key_name(signer.name)
        new.append(NoteSignature(signer.name, signer.key_id, await signer.sign(body)))
    idents = {(s.name, s.key_id) for s in new}
    if len(idents) != len(new):
        raise InvalidInputError("two signers with the same key name and ID")
    kept = tuple(s for s in note.signatures if (s.name, s.key_id) not in idents)
    return Note(note.text, kept + tuple(new)).to_bytes()
