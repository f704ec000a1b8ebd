"""Checkpoint signing: the ``Signer`` / ``Verifier`` protocols and Ed25519 keys.

A signer signs the checkpoint message (see ``chain.checkpoint_message``); ``sign`` is
async so that a cloud KMS can implement it. Keys load from raw bytes (32-byte seed or
public key) or PEM (PKCS#8 private, SubjectPublicKeyInfo public), from bytes or a file.
Without a signer the store runs keyless: checkpoints are still written and chained,
with ``algorithm = "none"`` and no signature.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Protocol, runtime_checkable

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)

from cloudstores.errors import ConfigurationError

__all__ = [
    "ECDSA_P256",
    "ED25519",
    "Ed25519Signer",
    "Ed25519Verifier",
    "Signer",
    "Verifier",
    "key_id_of",
]

ED25519 = "ed25519"
ECDSA_P256 = "ecdsa-p256-sha256"
"""ECDSA P-256 over SHA-256, DER signatures: KMS keys (``stores.audit.kms``)."""


@runtime_checkable
class Signer(Protocol):
    """Signs checkpoint messages. ``key_id`` names the key in each checkpoint."""

    @property
    def algorithm(self) -> str: ...

    @property
    def key_id(self) -> str: ...

    async def sign(self, message: bytes) -> bytes: ...

    def verifier(self) -> Verifier | None:
        """A verifier for this signer's signatures, if it can make one."""
        ...


@runtime_checkable
class Verifier(Protocol):
    """Checks checkpoint signatures."""

    def verify(self, message: bytes, signature: bytes, *, algorithm: str, key_id: str) -> bool:
        """True if ``signature`` over ``message`` is valid for a key this verifier trusts."""
        ...


def key_id_of(public_raw: bytes) -> str:
    """A short, stable name for a public key: the first 16 hex digits of its SHA-256."""
    return hashlib.sha256(public_raw).hexdigest()[:16]


def _read(source: bytes | str | Path) -> bytes:
    if isinstance(source, bytes):
        return source
    try:
        return Path(source).read_bytes()
    except OSError as exc:
        raise ConfigurationError(f"cannot read key file {str(source)!r}: {exc.strerror}") from exc


class Ed25519Signer:
    """An Ed25519 private key (``cryptography``)."""

    algorithm = ED25519

    def __init__(self, key: Ed25519PrivateKey) -> None:
        self._key = key
        self._public = key.public_key().public_bytes(
            serialization.Encoding.Raw, serialization.PublicFormat.Raw
        )
        self._key_id = key_id_of(self._public)

    @classmethod
    def generate(cls) -> Ed25519Signer:
        return cls(Ed25519PrivateKey.generate())

    @classmethod
    def from_bytes(cls, data: bytes, *, password: bytes | None = None) -> Ed25519Signer:
        """From a raw 32-byte seed or a PEM (PKCS#8) private key."""
        if len(data) == 32 and not data.startswith(b"-----"):
            return cls(Ed25519PrivateKey.from_private_bytes(data))
        try:
            key = serialization.load_pem_private_key(data, password=password)
        except (ValueError, TypeError) as exc:
            raise ConfigurationError(f"not an Ed25519 private key: {exc}") from exc
        if not isinstance(key, Ed25519PrivateKey):
            raise ConfigurationError(f"not an Ed25519 private key: {type(key).__name__}")
        return cls(key)

    @classmethod
    def from_file(cls, path: str | Path, *, password: bytes | None = None) -> Ed25519Signer:
        """From a file holding a PEM private key or a raw 32-byte seed."""
        return cls.from_bytes(_read(path), password=password)

    @property
    def key_id(self) -> str:
        return self._key_id

    @property
    def public_key(self) -> bytes:
        """The raw 32-byte public key."""
        return self._public

    def private_pem(self) -> bytes:
        return self._key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )

    def public_pem(self) -> bytes:
        return self._key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )

    async def sign(self, message: bytes) -> bytes:
        return self._key.sign(message)

    def verifier(self) -> Ed25519Verifier:
        return Ed25519Verifier(self._key.public_key())

    def __repr__(self) -> str:
        return f"<Ed25519Signer key_id={self._key_id}>"


class Ed25519Verifier:
    """One or more trusted Ed25519 public keys (several during a key rotation)."""

    algorithm = ED25519

    def __init__(self, *keys: Ed25519PublicKey) -> None:
        if not keys:
            raise ConfigurationError("Ed25519Verifier needs at least one public key")
        self._keys: dict[str, Ed25519PublicKey] = {}
        for key in keys:
            raw = key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
            self._keys[key_id_of(raw)] = key

    @classmethod
    def from_bytes(cls, *data: bytes) -> Ed25519Verifier:
        """From raw 32-byte public keys or PEM (SubjectPublicKeyInfo) public keys."""
        keys: list[Ed25519PublicKey] = []
        for item in data:
            if len(item) == 32 and not item.startswith(b"-----"):
                keys.append(Ed25519PublicKey.from_public_bytes(item))
                continue
            try:
                key = serialization.load_pem_public_key(item)
            except (ValueError, TypeError) as exc:
                raise ConfigurationError(f"not an Ed25519 public key: {exc}") from exc
            if not isinstance(key, Ed25519PublicKey):
                raise ConfigurationError(f"not an Ed25519 public key: {type(key).__name__}")
            keys.append(key)
        return cls(*keys)

    @classmethod
    def from_file(cls, *paths: str | Path) -> Ed25519Verifier:
        return cls.from_bytes(*(_read(p) for p in paths))

    @property
    def key_ids(self) -> tuple[str, ...]:
        return tuple(self._keys)

    @property
    def public_keys(self) -> dict[str, bytes]:
        """Raw 32-byte public keys by key id (for the signed-note verifier keys)."""
        return {
            kid: key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
            for kid, key in self._keys.items()
        }

    def verify(self, message: bytes, signature: bytes, *, algorithm: str, key_id: str) -> bool:
        key = self._keys.get(key_id)
        if algorithm != ED25519 or key is None:
            return False
        try:
            key.verify(signature, message)
        except InvalidSignature:
            return False
        return True

    def __repr__(self) -> str:
        return f"<Ed25519Verifier key_ids={list(self._keys)}>"
