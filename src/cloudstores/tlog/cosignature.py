"""C2SP tlog-cosignature v1 (Ed25519): a witness's timestamped signature of a checkpoint.

- key ID = SHA-256(name || 0x0A || 0x04 || 32-byte Ed25519 public key)[:4];
  vkey = ``<name>+<hex key ID>+base64(0x04 || public key)``;
- signed message = ``cosignature/v1\\n`` || ``time <decimal POSIX seconds>\\n`` || the
  checkpoint note text (with its final newline, without signature lines);
- signature line bytes (after the key ID) = uint64 big-endian timestamp || 64-byte
  Ed25519 signature; timestamps above 2**63 - 1 are invalid.

A cosignature is an ordinary note signature line, so a checkpoint carrying the log's
signature and any number of cosignatures stays a valid signed note for every reader.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from cloudstores.errors import InvalidInputError
from cloudstores.tlog.errors import SignatureError
from cloudstores.tlog.note import (
    SIG_COSIGNATURE_V1,
    Ed25519KeyVerifier,
    Note,
    check_key_name,
    compute_key_id,
    parse_note,
    sign_note,
)

__all__ = [
    "MAX_TIMESTAMP",
    "CosignatureSigner",
    "CosignatureVerifier",
    "WitnessReport",
    "check_witnesses",
    "cosign",
    "cosignature_message",
]

MAX_TIMESTAMP = 2**63 - 1
HEADER = b"cosignature/v1\n"


def cosignature_message(text: bytes, timestamp: int) -> bytes:
    """The bytes a v1 cosignature signs."""
    if (
        isinstance(timestamp, bool)
        or not isinstance(timestamp, int)
        or not (0 <= timestamp <= MAX_TIMESTAMP)
    ):
        raise InvalidInputError(f"cosignature timestamp {timestamp!r} is outside [0, 2**63-1]")
    return HEADER + b"time %d\n" % timestamp + text


class CosignatureSigner:
    """A witness key: signs ``cosignature/v1`` messages, at ``clock()`` seconds."""

    def __init__(
        self, name: str, private_key: Ed25519PrivateKey, *, clock: Callable[[], float] = time.time
    ) -> None:
        self.name = check_key_name(name)
        self._key = private_key
        self._clock = clock
        self.public_key = private_key.public_key().public_bytes(
            serialization.Encoding.Raw, serialization.PublicFormat.Raw
        )
        self.key_id = compute_key_id(name, SIG_COSIGNATURE_V1, self.public_key)

    @classmethod
    def from_seed(
        cls, name: str, seed: bytes, *, clock: Callable[[], float] = time.time
    ) -> CosignatureSigner:
        if not isinstance(seed, bytes) or len(seed) != 32:
            raise InvalidInputError("an Ed25519 seed is 32 bytes")
        return cls(name, Ed25519PrivateKey.from_private_bytes(seed), clock=clock)

    def sign_at(self, text: bytes, timestamp: int) -> bytes:
        """Timestamp (8 bytes, big-endian) || Ed25519 signature of the v1 message."""
        signature = self._key.sign(cosignature_message(text, timestamp))
        return timestamp.to_bytes(8, "big") + signature

    async def sign(self, text: bytes) -> bytes:
        return self.sign_at(text, int(self._clock()))

    def verifier(self) -> CosignatureVerifier:
        return CosignatureVerifier(self.name, self.public_key)


class CosignatureVerifier(Ed25519KeyVerifier):
    """Checks v1 cosignatures of one witness key (type 0x04)."""

    sig_type = SIG_COSIGNATURE_V1

    @staticmethod
    def timestamp(signature: bytes) -> int:
        """The timestamp of a 72-byte cosignature (InvalidInputError if not 72 bytes)."""
        if len(signature) != 72:
            raise InvalidInputError("a v1 cosignature is 72 bytes")
        return int.from_bytes(signature[:8], "big")

    def verify(self, text: bytes, signature: bytes) -> bool:
        if len(signature) != 72:
            return False
        timestamp = int.from_bytes(signature[:8], "big")
        if timestamp > MAX_TIMESTAMP:
            return False
        try:
            self._key.verify(signature[8:], cosignature_message(text, timestamp))
        except InvalidSignature:
            return False
        return True


async def cosign(note: bytes | Note, signer: CosignatureSigner) -> bytes:
    """Add (or replace) ``signer``'s cosignature line on a signed checkpoint note.

    This only signs: a witness must first have verified the log's signature and the
    consistency proof from the last checkpoint it cosigned.
    """
    parsed = note if isinstance(note, Note) else parse_note(note)
    return await sign_note(parsed, [signer])


@dataclass(frozen=True)
class WitnessReport:
    """Witnesses whose cosignature verified, with their timestamps."""

    timestamps: dict[str, int]


def check_witnesses(
    note: bytes | Note, witnesses: Sequence[CosignatureVerifier], required: int
) -> WitnessReport:
    """Require ``required`` distinct trusted witnesses to have cosigned the note's text.

    A cosignature from a trusted witness that fails to verify is a SignatureError, as
    is a quorum that is not met; lines of unknown keys are ignored.
    """
    if (
        isinstance(required, bool)
        or not isinstance(required, int)
        or not (0 <= required <= len(witnesses))
    ):
        raise InvalidInputError(f"required witnesses {required!r} is not in [0, {len(witnesses)}]")
    known = {(w.name, w.key_id): w for w in witnesses}
    if len(known) != len(witnesses):
        raise InvalidInputError("two witnesses with the same key name and ID")
    parsed = note if isinstance(note, Note) else parse_note(note)
    text = parsed.text.encode("utf-8")
    timestamps: dict[str, int] = {}
    for sig in parsed.signatures:
        witness = known.get((sig.name, sig.key_id))
        if witness is None:
            continue
        if not witness.verify(text, sig.signature):
            raise SignatureError(f"cosignature by {sig.name}+{sig.key_id:08x} does not verify")
        timestamps[sig.name] = witness.timestamp(sig.signature)
    if len(timestamps) < required:
        raise SignatureError(f"{len(timestamps)} of the {required} required witnesses cosigned")
    return WitnessReport(timestamps)
