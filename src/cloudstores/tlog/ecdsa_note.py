"""C2SP signed-note signature type ``0x02``: ECDSA over SHA-256, as
github.com/transparency-dev/witness (and Sigstore's Rekor) implement it.

- the public key is the DER ``SubjectPublicKeyInfo`` of a NIST P-256 key (the spec
  allows P-384 and P-521 and recommends P-256; only P-256 is accepted here);
- key ID = SHA-256(DER SPKI)[:4], big-endian (NOT the name-based key ID of Ed25519);
- vkey = ``<name>+<key ID hex>+base64(0x02 || DER SPKI)``;
- the signature bytes after the key ID are the ASN.1 DER ECDSA signature of
  SHA-256(note text).

This is what a checkpoint signed by a cloud KMS ECDSA key carries (a KMS signs
SHA-256 digests with P-256 keys and returns DER signatures).
"""

from __future__ import annotations

import base64
import hashlib

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

from cloudstores.errors import InvalidInputError
from cloudstores.tlog.note import check_key_name, parse_vkey

__all__ = ["SIG_ECDSA", "EcdsaNoteVerifier", "ecdsa_key_id", "load_p256_spki"]

SIG_ECDSA = 0x02


def ecdsa_key_id(der: bytes) -> int:
    """SHA-256(DER SPKI)[:4] as a big-endian uint32."""
    return int.from_bytes(hashlib.sha256(der).digest()[:4], "big")


def load_p256_spki(der: bytes) -> ec.EllipticCurvePublicKey:
    """The P-256 public key of a DER SubjectPublicKeyInfo; InvalidInputError otherwise."""
    try:
        key = serialization.load_der_public_key(der)
    except (ValueError, TypeError) as exc:
        raise InvalidInputError("not a DER SubjectPublicKeyInfo") from exc
    if not isinstance(key, ec.EllipticCurvePublicKey) or not isinstance(key.curve, ec.SECP256R1):
        raise InvalidInputError("not an ECDSA NIST P-256 public key")
    canonical = key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    if canonical != der:
        raise InvalidInputError("the public key is not in canonical DER SPKI form")
    return key


class EcdsaNoteVerifier:
    """Checks type-0x02 note signatures of one P-256 key."""

    sig_type = SIG_ECDSA

    def __init__(self, name: str, der: bytes) -> None:
        self.name = check_key_name(name)
        self._key = load_p256_spki(der)
        self.der = der
        self.key_id = ecdsa_key_id(der)

    @classmethod
    def from_vkey(cls, vkey: str) -> EcdsaNoteVerifier:
        key = parse_vkey(vkey)
        if key.sig_type != SIG_ECDSA:
            raise InvalidInputError(f"verifier key type is {key.sig_type:#04x}, not 0x02")
        verifier = cls(key.name, key.public_key)
        if verifier.key_id != key.key_id:
            raise InvalidInputError(f"verifier key hash {key.key_id:08x} does not match its key")
        return verifier

    @property
    def vkey(self) -> str:
        payload = base64.b64encode(bytes([SIG_ECDSA]) + self.der).decode()
        return f"{self.name}+{self.key_id:08x}+{payload}"

    def verify(self, text: bytes, signature: bytes) -> bool:
        try:
            self._key.verify(signature, text, ec.ECDSA(hashes.SHA256()))
        except (InvalidSignature, ValueError):
            return False
        return True
