"""Checkpoint keys in Google Cloud KMS: ``gcpkms://`` URLs.

``gcpkms://projects/<p>/locations/<l>/keyRings/<r>/cryptoKeys/<k>/cryptoKeyVersions/<n>``
names one key version (the resource name after the scheme). Its algorithm must be
``EC_SIGN_P256_SHA256`` (checkpoints ``ecdsa-p256-sha256``, notes signed-note type 0x02)
or ``EC_SIGN_ED25519`` (checkpoints ``ed25519``, notes type 0x01: the same formats as an
Ed25519 key file). Credentials: Application Default Credentials.

Cost: opening is one ``GetPublicKey``; each signature one ``AsymmetricSign`` (P-256: the
SHA-256 digest is sent; Ed25519: the message itself, which Cloud KMS takes up to 64 KiB,
so a checkpoint listing more than about 900 leaves is refused before the request: keep
``max_checkpoint_leaves`` at 900 or less with an Ed25519 key). Every signature is
checked against the public key before use. Needs the ``gcp-kms`` extra
(``google-cloud-kms``), imported only when a signer opens.
"""

from __future__ import annotations

import hashlib
import re
from typing import Any

from cloudstores.errors import ConfigurationError, InvalidInputError, StoreError
from cloudstores.stores.audit.kms_base import KmsPublicKey, KmsSigner
from cloudstores.stores.audit.signing import ED25519

__all__ = ["GcpKmsSigner", "parse_gcp_url"]

SCHEME = "gcpkms://"
_SEGMENT = r"[A-Za-z0-9_-]{1,63}"
_NAME = re.compile(
    rf"projects/[a-z0-9.:-]{{1,100}}/locations/{_SEGMENT}/keyRings/{_SEGMENT}"
    rf"/cryptoKeys/{_SEGMENT}/cryptoKeyVersions/[1-9][0-9]{{0,9}}"
)
ALGORITHMS = ("EC_SIGN_P256_SHA256", "EC_SIGN_ED25519")
MAX_DATA = 64 * 1024
"""Cloud KMS's limit on the data of an AsymmetricSign (Ed25519 signs the message itself)."""


def parse_gcp_url(url: str) -> str:
    """The key version's resource name of a ``gcpkms://`` URL; InvalidInputError (no
    request made) when it is malformed."""
    if not isinstance(url, str) or not url.startswith(SCHEME):
        raise InvalidInputError(f"not a {SCHEME} URL: {url!r}")
    name = url[len(SCHEME) :]
    if not _NAME.fullmatch(name):
        raise InvalidInputError(
            f"expected {SCHEME}projects/<p>/locations/<l>/keyRings/<r>/cryptoKeys/<k>/"
            f"cryptoKeyVersions/<n>, got {url!r}"
        )
    return name


class GcpKmsSigner(KmsSigner):
    """Signs checkpoints with a Google Cloud KMS key version (``await open()`` first, or
    ``open_signer``; ``aclose()`` or ``async with`` releases the client)."""

    service = "Google Cloud KMS"

    def __init__(self, name: str, *, client: Any = None) -> None:
        super().__init__()
        if not isinstance(name, str) or not _NAME.fullmatch(name):
            raise InvalidInputError(f"{name!r} is not a Cloud KMS key version name")
        self.name = name
        self._client = client
        self._own_client = client is None
        self._opened = False

    @classmethod
    def from_url(cls, url: str, *, client: Any = None) -> GcpKmsSigner:
        return cls(parse_gcp_url(url), client=client)

    async def open(self) -> GcpKmsSigner:
        """Fetch the public key (one GetPublicKey) and check its algorithm
        (ConfigurationError unless P-256 or Ed25519 signing)."""
        if self._opened:
            return self
        if self._client is None:
            try:
                from google.cloud import kms
            except ImportError as exc:
                raise ConfigurationError(
                    "gcpkms:// needs the gcp-kms extra (google-cloud-kms): "
                    "pip install 'cloudstores[gcp-kms]'"
                ) from exc
            try:
                self._client = kms.KeyManagementServiceAsyncClient()
            except Exception as exc:
                raise ConfigurationError(f"no Google Cloud credentials: {exc}") from exc
        try:
            answer = await self._client.get_public_key(request={"name": self.name})
        except Exception as exc:
            await self.aclose()
            raise StoreError(f"Cloud KMS GetPublicKey({self.name}) failed: {exc}") from exc
        algorithm = str(getattr(answer.algorithm, "name", answer.algorithm))
        if algorithm not in ALGORITHMS:
            await self.aclose()
            raise ConfigurationError(
                f"Cloud KMS key {self.name} is {algorithm}; one of {ALGORITHMS} is needed"
            )
        pem = answer.pem.encode() if isinstance(answer.pem, str) else bytes(answer.pem)
        public = KmsPublicKey.from_pem(pem)
        if (public.algorithm == ED25519) != (algorithm == "EC_SIGN_ED25519"):
            await self.aclose()
            raise ConfigurationError(f"Cloud KMS key {self.name}: its PEM is not {algorithm}")
        self._adopt(public)
        self._opened = True
        return self

    async def _service_sign(self, message: bytes) -> bytes:
        if not self._opened:
            raise InvalidInputError("GcpKmsSigner is not open: await signer.open() first")
        if self.algorithm == ED25519:
            if len(message) > MAX_DATA:
                raise ConfigurationError(
                    f"a {len(message)}-byte message is over Cloud KMS's {MAX_DATA} for an "
                    "Ed25519 key: lower AuditOptions.max_checkpoint_leaves (900 fits)"
                )
            request: dict[str, Any] = {"name": self.name, "data": message}
        else:
            request = {"name": self.name, "digest": {"sha256": hashlib.sha256(message).digest()}}
        try:
            answer = await self._client.asymmetric_sign(request=request)
        except Exception as exc:
            raise StoreError(f"Cloud KMS AsymmetricSign({self.name}) failed: {exc}") from exc
        return bytes(answer.signature)

    async def aclose(self) -> None:
        client, self._opened = self._client, False
        if client is not None and self._own_client:
            self._client = None
            transport = getattr(client, "transport", None)
            close = getattr(transport, "close", None)
            if close is not None:
                await close()

    async def __aenter__(self) -> GcpKmsSigner:
        return await self.open()

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    def __repr__(self) -> str:
        return f"GcpKmsSigner({self.name!r})"
