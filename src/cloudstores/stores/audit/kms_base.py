"""What every cloud KMS signer shares: the key's public half (ECDSA P-256 or Ed25519),
the check of every signature the service returns, and r||s to DER.

A KMS signer holds no private key: it asks the service for a signature and checks it
against the public key fetched when it opened, so a wrong key, a wrong algorithm or a
corrupted answer raises :class:`~cloudstores.errors.IntegrityError` before the
signature is used. Nothing here makes a request.
"""

from __future__ import annotations

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

from cloudstores.errors import ConfigurationError, IntegrityError, InvalidInputError
from cloudstores.stores.audit.kms import EcdsaVerifier
from cloudstores.stores.audit.signing import (
    ECDSA_P256,
    ED25519,
    Ed25519Verifier,
    key_id_of,
)
from cloudstores.tlog.ecdsa_note import load_p256_spki

__all__ = ["KmsPublicKey", "KmsSigner", "raw_to_der"]


def raw_to_der(signature: bytes) -> bytes:
    """An ECDSA P-256 signature as IEEE P1363 ``r || s`` (32 + 32 bytes, big-endian: what
    Azure Key Vault's ES256 returns) in ASN.1 DER (what checkpoints and notes carry).
    IntegrityError if it is not 64 bytes."""
    if not isinstance(signature, bytes) or len(signature) != 64:
        size = len(signature) if isinstance(signature, bytes) else type(signature).__name__
        raise IntegrityError(f"an ES256 signature is 64 bytes (r || s), got {size}")
    r = int.from_bytes(signature[:32], "big")
    s = int.from_bytes(signature[32:], "big")
    return encode_dss_signature(r, s)


class KmsPublicKey:
    """The public half of a KMS key from its DER SubjectPublicKeyInfo: ECDSA P-256
    (algorithm ``ecdsa-p256-sha256``) or Ed25519 (``ed25519``); ConfigurationError for
    any other kind."""

    def __init__(self, der: bytes) -> None:
        try:
            key = serialization.load_der_public_key(der)
        except (ValueError, TypeError) as exc:
            raise ConfigurationError("the KMS public key is not a DER SPKI") from exc
        self.der = der
        self.raw = b""
        if isinstance(key, ec.EllipticCurvePublicKey):
            try:
                self._ec: ec.EllipticCurvePublicKey | None = load_p256_spki(der)
            except InvalidInputError as exc:
                raise ConfigurationError(f"the KMS key is not usable: {exc.message}") from exc
            self._ed: Ed25519PublicKey | None = None
            self.algorithm = ECDSA_P256
            self.key_id = key_id_of(der)
        elif isinstance(key, Ed25519PublicKey):
            self._ec, self._ed = None, key
            self.raw = key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
            self.algorithm = ED25519
            self.key_id = key_id_of(self.raw)
        else:
            raise ConfigurationError(
                f"the KMS key is {type(key).__name__}; ECDSA P-256 or Ed25519 is needed"
            )

    @classmethod
    def from_pem(cls, pem: bytes) -> KmsPublicKey:
        try:
            key = serialization.load_pem_public_key(pem)
        except (ValueError, TypeError) as exc:
            raise ConfigurationError("the KMS public key is not PEM") from exc
        return cls(
            key.public_bytes(
                serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
            )
        )

    @classmethod
    def from_p256_point(cls, x: bytes, y: bytes) -> KmsPublicKey:
        """From the affine coordinates of a P-256 point (a JSON Web Key's ``x``, ``y``)."""
        try:
            numbers = ec.EllipticCurvePublicNumbers(
                int.from_bytes(x, "big"), int.from_bytes(y, "big"), ec.SECP256R1()
            )
            key = numbers.public_key()
        except (ValueError, TypeError) as exc:
            raise ConfigurationError("the KMS key's point is not on P-256") from exc
        return cls(
            key.public_bytes(
                serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
            )
        )

    def valid(self, message: bytes, signature: bytes) -> bool:
        try:
            if self._ec is not None:
                self._ec.verify(signature, message, ec.ECDSA(hashes.SHA256()))
            else:
                assert self._ed is not None
                self._ed.verify(signature, message)
        except (InvalidSignature, ValueError):
            return False
        return True

    def pem(self) -> bytes:
        key = serialization.load_der_public_key(self.der)
        return key.public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )


class KmsSigner:
    """Base of a cloud KMS signer: subclasses fetch the public key in ``open()`` (then
    call ``_adopt``) and implement ``_service_sign``; ``sign`` checks every answer."""

    service = "KMS"

    def __init__(self) -> None:
        self._public: KmsPublicKey | None = None

    def _adopt(self, public: KmsPublicKey) -> None:
        self._public = public

    def _key(self) -> KmsPublicKey:
        if self._public is None:
            raise InvalidInputError(f"{type(self).__name__} is not open: await signer.open() first")
        return self._public

    @property
    def algorithm(self) -> str:
        return self._key().algorithm

    @property
    def key_id(self) -> str:
        return self._key().key_id

    @property
    def public_der(self) -> bytes:
        """The DER SubjectPublicKeyInfo (empty before ``open``)."""
        return b"" if self._public is None else self._public.der

    @property
    def public_key(self) -> bytes:
        """The raw 32-byte public key of an Ed25519 key (empty for ECDSA)."""
        return b"" if self._public is None else self._public.raw

    async def _service_sign(self, message: bytes) -> bytes:
        """The signature the service returns, in the checkpoint's encoding (DER for
        ECDSA, 64 raw bytes for Ed25519). One request."""
        raise NotImplementedError

    async def sign(self, message: bytes) -> bytes:
        """A signature of ``message`` by the KMS key (one request), checked against the
        public key: IntegrityError if the service answered one that does not verify."""
        public = self._key()
        if not isinstance(message, bytes):
            raise InvalidInputError("the message to sign must be bytes")
        signature = await self._service_sign(message)
        if not public.valid(message, signature):
            raise IntegrityError(
                f"{self.service} key {self!r} returned a signature that does not verify"
            )
        return signature

    def verifier(self) -> Ed25519Verifier | EcdsaVerifier:
        public = self._key()
        if public.algorithm == ED25519:
            return Ed25519Verifier(Ed25519PublicKey.from_public_bytes(public.raw))
        return EcdsaVerifier(public.der)

    def public_pem(self) -> bytes:
        """The public key as PEM, for auditors (``verify --public-key``)."""
        return self._key().pem()
