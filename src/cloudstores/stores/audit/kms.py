"""Checkpoint keys in a cloud KMS: ``open_signer(url)`` and ECDSA P-256 verification.

``awskms://<key id>``, ``awskms://alias/<name>`` or ``awskms://arn:aws:kms:...`` with
optional ``?region=...&endpoint_url=...&profile=...``: an AWS KMS asymmetric key of
spec ``ECC_NIST_P256`` and usage ``SIGN_VERIFY`` (``ECDSA_SHA_256``). The private key
never leaves KMS. A path (or ``file://`` URL) is an Ed25519 key file
(:class:`~cloudstores.stores.audit.Ed25519Signer`). ``azurekeyvault://<vault>/<key>``
is an Azure Key Vault P-256 key (:mod:`~cloudstores.stores.audit.kms_azure`),
``gcpkms://projects/.../cryptoKeyVersions/<n>`` a Google Cloud KMS P-256 or Ed25519
key version (:mod:`~cloudstores.stores.audit.kms_gcp`).

Algorithm ``ecdsa-p256-sha256``: the checkpoint's JSON ``signature`` is the base64 ASN.1
DER ECDSA signature of SHA-256(message); its ``key_id`` is the first 16 hex digits of
SHA-256 of the key's DER SubjectPublicKeyInfo. Its signed note carries a C2SP
signed-note signature of type ``0x02`` (:mod:`cloudstores.tlog.ecdsa_note`).

Cost: opening the signer is one ``GetPublicKey``; each checkpoint is two ``Sign``
calls (its JSON signature and its note). A message up to 4,096 bytes (KMS's limit) is
sent as ``RAW``; a longer one (a checkpoint listing many leaves) as its SHA-256
``DIGEST``, which signs the same thing. Every signature KMS returns is checked against
the public key before it is used. AWS KMS Ed25519 keys (``ECC_NIST_EDWARDS25519``) are
not supported: pure Ed25519 (``ED25519_SHA_512``) signs only RAW messages of up to
4,096 bytes, which a checkpoint listing its leaves exceeds, and the pre-hashed variant
(``ED25519_PH_SHA_512``) is Ed25519ph, which neither the checkpoint format nor
C2SP signed-note accepts.
"""

from __future__ import annotations

import hashlib
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

from cloudstores.errors import ConfigurationError, IntegrityError, InvalidInputError, StoreError
from cloudstores.stores.audit.signing import ECDSA_P256, Ed25519Signer, Ed25519Verifier, Signer
from cloudstores.tlog.ecdsa_note import load_p256_spki

__all__ = [
    "ECDSA_P256",
    "AnyVerifier",
    "AwsKmsSigner",
    "EcdsaVerifier",
    "ecdsa_key_id_of",
    "load_verifier",
    "open_signer",
]


_RAW_LIMIT = 4096
_OPTIONS = frozenset({"region", "endpoint_url", "profile"})


def ecdsa_key_id_of(der: bytes) -> str:
    """The checkpoint ``key_id`` of an ECDSA key: SHA-256(DER SPKI), 16 hex digits."""
    return hashlib.sha256(der).hexdigest()[:16]


class EcdsaVerifier:
    """Checks ``ecdsa-p256-sha256`` checkpoint signatures of one or more P-256 keys."""

    def __init__(self, *ders: bytes) -> None:
        if not ders:
            raise InvalidInputError("EcdsaVerifier needs at least one public key")
        self._keys = {ecdsa_key_id_of(der): (der, load_p256_spki(der)) for der in ders}

    @classmethod
    def from_pem(cls, *pems: bytes) -> EcdsaVerifier:
        ders = []
        for pem in pems:
            try:
                key = serialization.load_pem_public_key(pem)
            except ValueError as exc:
                raise ConfigurationError("not a PEM public key") from exc
            ders.append(
                key.public_bytes(
                    serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
                )
            )
        return cls(*ders)

    @property
    def key_ids(self) -> tuple[str, ...]:
        return tuple(sorted(self._keys))

    @property
    def ecdsa_keys(self) -> dict[str, bytes]:
        """DER SPKI public keys by key id (for the type-0x02 note verifier keys)."""
        return {kid: der for kid, (der, _) in self._keys.items()}

    def verify(self, message: bytes, signature: bytes, *, algorithm: str, key_id: str) -> bool:
        found = self._keys.get(key_id)
        if algorithm != ECDSA_P256 or found is None:
            return False
        try:
            found[1].verify(signature, message, ec.ECDSA(hashes.SHA256()))
        except (InvalidSignature, ValueError):
            return False
        return True

    def __repr__(self) -> str:
        return f"EcdsaVerifier(key_ids={list(self.key_ids)})"


def _parse(url: str) -> tuple[str, dict[str, str]]:
    rest = url[len("awskms://") :]
    key, _, query = rest.partition("?")
    key = unquote(key)
    if not key or any(c.isspace() for c in key):
        raise InvalidInputError(f"awskms URL names no key: {url!r}")
    options: dict[str, str] = {}
    for name, values in parse_qs(query, keep_blank_values=True).items():
        if name not in _OPTIONS:
            raise InvalidInputError(f"awskms URL option {name!r} is unknown ({sorted(_OPTIONS)})")
        options[name] = values[-1]
    return key, options


class AwsKmsSigner:
    """Signs checkpoints with an AWS KMS ``ECC_NIST_P256`` key (``await open()`` first,
    or ``open_signer``; ``aclose()`` or ``async with`` releases the client)."""

    algorithm = ECDSA_P256

    def __init__(
        self,
        key: str,
        *,
        region: str | None = None,
        endpoint_url: str | None = None,
        profile: str | None = None,
    ) -> None:
        if not isinstance(key, str) or not key:
            raise InvalidInputError("an AWS KMS key id, ARN or alias/<name> is required")
        self.key = key
        self.region = region
        self.endpoint_url = endpoint_url
        self.profile = profile
        self._stack: AsyncExitStack | None = None
        self._client: Any = None
        self.public_der = b""
        self._public: ec.EllipticCurvePublicKey | None = None

    @classmethod
    def from_url(cls, url: str) -> AwsKmsSigner:
        key, options = _parse(url)
        return cls(key, **options)

    @property
    def key_id(self) -> str:
        if not self.public_der:
            raise InvalidInputError("AwsKmsSigner is not open: await signer.open() first")
        return ecdsa_key_id_of(self.public_der)

    async def open(self) -> AwsKmsSigner:
        """Create the KMS client and fetch the public key (one GetPublicKey). Checks the
        key is ECC_NIST_P256 for SIGN_VERIFY (ConfigurationError otherwise)."""
        if self._client is not None:
            return self
        try:
            import aioboto3
        except ImportError as exc:  # pragma: no cover - depends on the install
            raise ConfigurationError(
                "awskms:// needs the s3 extra (aioboto3): pip install 'cloudstores[s3]'"
            ) from exc

        stack = AsyncExitStack()
        try:
            session = aioboto3.Session(profile_name=self.profile)
            client = await stack.enter_async_context(
                session.client("kms", region_name=self.region, endpoint_url=self.endpoint_url)
            )
            try:
                answer = await client.get_public_key(KeyId=self.key)
            except Exception as exc:
                raise StoreError(f"AWS KMS GetPublicKey({self.key}) failed: {exc}") from exc
            spec = answer.get("KeySpec") or answer.get("CustomerMasterKeySpec")
            if spec != "ECC_NIST_P256" or answer.get("KeyUsage") != "SIGN_VERIFY":
                raise ConfigurationError(
                    f"AWS KMS key {self.key} is {spec}/{answer.get('KeyUsage')}; "
                    "an ECC_NIST_P256 SIGN_VERIFY key is needed"
                )
            der = bytes(answer["PublicKey"])
            self._public = load_p256_spki(der)
            self.public_der = der
        except BaseException:
            await stack.aclose()
            raise
        self._stack, self._client = stack, client
        return self

    async def sign(self, message: bytes) -> bytes:
        """ASN.1 DER ECDSA signature of SHA-256(message), by KMS (one Sign call),
        checked against the public key (IntegrityError if KMS answered a bad one)."""
        if self._client is None or self._public is None:
            raise InvalidInputError("AwsKmsSigner is not open: await signer.open() first")
        if len(message) <= _RAW_LIMIT:
            request = {"Message": message, "MessageType": "RAW"}
        else:
            request = {"Message": hashlib.sha256(message).digest(), "MessageType": "DIGEST"}
        try:
            answer = await self._client.sign(
                KeyId=self.key, SigningAlgorithm="ECDSA_SHA_256", **request
            )
        except Exception as exc:
            raise StoreError(f"AWS KMS Sign({self.key}) failed: {exc}") from exc
        signature = bytes(answer["Signature"])
        try:
            self._public.verify(signature, message, ec.ECDSA(hashes.SHA256()))
        except InvalidSignature:
            raise IntegrityError(
                f"AWS KMS key {self.key} returned a signature that does not verify "
                f"({request['MessageType']} message)"
            ) from None
        return signature

    def verifier(self) -> EcdsaVerifier:
        return EcdsaVerifier(self.public_der)

    def public_pem(self) -> bytes:
        """The public key as PEM, for auditors (``verify --public-key``)."""
        if self._public is None:
            raise InvalidInputError("AwsKmsSigner is not open: await signer.open() first")
        return self._public.public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )

    async def aclose(self) -> None:
        stack, self._stack, self._client = self._stack, None, None
        if stack is not None:
            await stack.aclose()

    async def __aenter__(self) -> AwsKmsSigner:
        return await self.open()

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    def __repr__(self) -> str:
        return f"AwsKmsSigner({self.key!r}, region={self.region!r})"


async def open_signer(url: str | Path) -> Signer:
    """The checkpoint signer a URL names, ready to sign (see the module docstring).
    A URL is validated before any request. Close a KMS signer with ``aclose()`` (or
    ``async with``) when done."""
    text = str(url)
    if text.startswith("awskms://"):
        return await AwsKmsSigner.from_url(text).open()
    if text.startswith("azurekeyvault://"):
        from cloudstores.stores.audit.kms_azure import AzureKeyVaultSigner

        return await AzureKeyVaultSigner.from_url(text).open()
    if text.startswith("gcpkms://"):
        from cloudstores.stores.audit.kms_gcp import GcpKmsSigner

        return await GcpKmsSigner.from_url(text).open()
    if "://" in text and not text.startswith("file://"):
        raise ConfigurationError(
            f"unknown signer URL {text!r} (awskms://, azurekeyvault://, gcpkms://, or a key file)"
        )
    return Ed25519Signer.from_file(text.removeprefix("file://"))


class AnyVerifier:
    """Several verifiers as one: a signature verifies if one of them accepts it (a log
    whose key moved from an Ed25519 file to a KMS key, or several keys of each kind)."""

    def __init__(self, *verifiers: Ed25519Verifier | EcdsaVerifier) -> None:
        if not verifiers:
            raise InvalidInputError("AnyVerifier needs at least one verifier")
        self.verifiers = verifiers

    @property
    def key_ids(self) -> tuple[str, ...]:
        return tuple(kid for v in self.verifiers for kid in v.key_ids)

    @property
    def public_keys(self) -> dict[str, bytes]:
        out: dict[str, bytes] = {}
        for v in self.verifiers:
            if isinstance(v, Ed25519Verifier):
                out.update(v.public_keys)
        return out

    @property
    def ecdsa_keys(self) -> dict[str, bytes]:
        out: dict[str, bytes] = {}
        for v in self.verifiers:
            if isinstance(v, EcdsaVerifier):
                out.update(v.ecdsa_keys)
        return out

    def verify(self, message: bytes, signature: bytes, *, algorithm: str, key_id: str) -> bool:
        return any(
            v.verify(message, signature, algorithm=algorithm, key_id=key_id) for v in self.verifiers
        )

    def __repr__(self) -> str:
        return f"AnyVerifier(key_ids={list(self.key_ids)})"


def load_verifier(*paths: str | Path) -> Ed25519Verifier | EcdsaVerifier | AnyVerifier:
    """The verifier of public key files of either kind: Ed25519 (PEM or raw 32 bytes) and
    ECDSA P-256 (PEM SubjectPublicKeyInfo, e.g. a KMS key's public key)."""
    if not paths:
        raise InvalidInputError("no public key file given")
    ed: list[bytes] = []
    ecdsa: list[bytes] = []
    for path in paths:
        try:
            data = Path(path).read_bytes()
        except OSError as exc:
            raise ConfigurationError(f"cannot read public key {path}: {exc}") from exc
        key = None
        if data.startswith(b"-----"):
            try:
                key = serialization.load_pem_public_key(data)
            except ValueError as exc:
                raise ConfigurationError(f"{path}: not a PEM public key") from exc
        if isinstance(key, ec.EllipticCurvePublicKey):
            ecdsa.append(
                key.public_bytes(
                    serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
                )
            )
        else:
            ed.append(data)
    found: list[Ed25519Verifier | EcdsaVerifier] = []
    if ed:
        found.append(Ed25519Verifier.from_bytes(*ed))
    if ecdsa:
        found.append(EcdsaVerifier(*ecdsa))
    return found[0] if len(found) == 1 else AnyVerifier(*found)
