"""Checkpoint keys in Azure Key Vault (or Managed HSM): ``azurekeyvault://`` URLs.

``azurekeyvault://<vault-name>/<key-name>[/<version>]`` names key ``<key-name>`` of the
vault at ``https://<vault-name>.vault.azure.net``; a host with a dot instead of a vault
name is used as it is (``azurekeyvault://myvault.vault.azure.cn/audit``, a Managed HSM
``azurekeyvault://myhsm.managedhsm.azure.net/audit``). Without a version the key's
current version when the signer opens is pinned for its lifetime. The key must be an
``EC`` / ``EC-HSM`` key on curve ``P-256`` with the ``sign`` operation (Key Vault has no
Ed25519 keys). Credentials: ``azure.identity.aio.DefaultAzureCredential`` unless one is
given.

Cost: opening is one ``GET key``; each signature one ``sign`` (ES256 over the SHA-256
digest, which Key Vault returns as 64 bytes ``r || s``: converted to DER and checked
against the public key before use). Needs the ``azure-kms`` extra
(``azure-keyvault-keys``, ``azure-identity``), imported only when a signer opens.
"""

from __future__ import annotations

import hashlib
import re
from contextlib import AsyncExitStack
from typing import Any

from cloudstores.errors import ConfigurationError, InvalidInputError, StoreError
from cloudstores.stores.audit.kms_base import KmsPublicKey, KmsSigner, raw_to_der

__all__ = ["AzureKeyVaultSigner", "parse_azure_url"]

SCHEME = "azurekeyvault://"
_VAULT = re.compile(r"[A-Za-z](?:[A-Za-z0-9-]{1,22})[A-Za-z0-9]")
_HOST = re.compile(r"(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}")
_NAME = re.compile(r"[0-9A-Za-z-]{1,127}")
_VERSION = re.compile(r"[0-9A-Za-z]{1,64}")


def parse_azure_url(url: str) -> tuple[str, str, str | None]:
    """``(vault URL, key name, version or None)`` of an ``azurekeyvault://`` URL;
    InvalidInputError (no request made) when it is malformed."""
    if not isinstance(url, str) or not url.startswith(SCHEME):
        raise InvalidInputError(f"not an {SCHEME} URL: {url!r}")
    rest = url[len(SCHEME) :]
    if "?" in rest or "#" in rest:
        raise InvalidInputError(f"{SCHEME} URLs take no options: {url!r}")
    parts = rest.split("/")
    if len(parts) not in (2, 3) or not all(parts):
        raise InvalidInputError(
            f"expected {SCHEME}<vault-name>/<key-name>[/<version>], got {url!r}"
        )
    vault, name = parts[0], parts[1]
    version = parts[2] if len(parts) == 3 else None
    if "." in vault:
        if not _HOST.fullmatch(vault):
            raise InvalidInputError(f"{vault!r} is not a Key Vault host name")
        vault_url = f"https://{vault.lower()}"
    else:
        if not _VAULT.fullmatch(vault) or "--" in vault:
            raise InvalidInputError(
                f"{vault!r} is not a Key Vault name (3-24 letters, digits and dashes)"
            )
        vault_url = f"https://{vault.lower()}.vault.azure.net"
    if not _NAME.fullmatch(name):
        raise InvalidInputError(f"{name!r} is not a Key Vault key name (letters, digits, -)")
    if version is not None and not _VERSION.fullmatch(version):
        raise InvalidInputError(f"{version!r} is not a Key Vault key version")
    return vault_url, name, version


class AzureKeyVaultSigner(KmsSigner):
    """Signs checkpoints with an Azure Key Vault P-256 key (``await open()`` first, or
    ``open_signer``; ``aclose()`` or ``async with`` releases the clients)."""

    service = "Azure Key Vault"

    def __init__(
        self, vault_url: str, name: str, version: str | None = None, *, credential: Any = None
    ) -> None:
        super().__init__()
        if not isinstance(vault_url, str) or not vault_url.startswith("https://"):
            raise InvalidInputError("vault_url must be an https:// URL")
        if not isinstance(name, str) or not _NAME.fullmatch(name):
            raise InvalidInputError(f"{name!r} is not a Key Vault key name")
        if version is not None and not (isinstance(version, str) and _VERSION.fullmatch(version)):
            raise InvalidInputError(f"{version!r} is not a Key Vault key version")
        self.vault_url, self.name, self.version = vault_url, name, version
        self.credential = credential
        self.key_url = ""
        """The versioned key id the signer uses (set by ``open``)."""
        self._stack: AsyncExitStack | None = None
        self._crypto: Any = None
        self._es256: Any = None

    @classmethod
    def from_url(cls, url: str, *, credential: Any = None) -> AzureKeyVaultSigner:
        vault_url, name, version = parse_azure_url(url)
        return cls(vault_url, name, version, credential=credential)

    async def open(self) -> AzureKeyVaultSigner:
        """Fetch the key (one GET) and check it is an EC P-256 key (ConfigurationError
        otherwise); later signatures use that version."""
        if self._crypto is not None:
            return self
        try:
            from azure.keyvault.keys.aio import KeyClient  # type: ignore[import-untyped, import-not-found, unused-ignore]
            from azure.keyvault.keys.crypto import SignatureAlgorithm  # type: ignore[import-untyped, import-not-found, unused-ignore]
            from azure.keyvault.keys.crypto.aio import CryptographyClient  # type: ignore[import-untyped, import-not-found, unused-ignore]
        except ImportError as exc:
            raise ConfigurationError(
                "azurekeyvault:// needs the azure-kms extra (azure-keyvault-keys, "
                "azure-identity): pip install 'cloudstores[azure-kms]'"
            ) from exc
        stack = AsyncExitStack()
        try:
            credential = self.credential
            if credential is None:
                try:
                    from azure.identity.aio import DefaultAzureCredential
                except ImportError as exc:
                    raise ConfigurationError(
                        "azurekeyvault:// needs azure-identity for its default credential: "
                        "pip install 'cloudstores[azure-kms]'"
                    ) from exc
                credential = await stack.enter_async_context(DefaultAzureCredential())
            client = await stack.enter_async_context(
                KeyClient(vault_url=self.vault_url, credential=credential)
            )
            try:
                key = await client.get_key(self.name, version=self.version)
            except Exception as exc:
                raise StoreError(f"Azure Key Vault get_key({self.name}) failed: {exc}") from exc
            jwk = key.key
            kty = str(getattr(jwk.kty, "value", jwk.kty))
            crv = str(getattr(jwk.crv, "value", jwk.crv))
            if kty not in ("EC", "EC-HSM") or crv != "P-256":
                raise ConfigurationError(
                    f"Azure Key Vault key {self.name} is {kty}/{crv}; an EC P-256 key is needed"
                )
            self._adopt(KmsPublicKey.from_p256_point(bytes(jwk.x), bytes(jwk.y)))
            crypto = await stack.enter_async_context(CryptographyClient(key, credential=credential))
        except BaseException:
            await stack.aclose()
            raise
        self.key_url = str(key.id)
        self._stack, self._crypto, self._es256 = stack, crypto, SignatureAlgorithm.es256
        return self

    async def _service_sign(self, message: bytes) -> bytes:
        if self._crypto is None:
            raise InvalidInputError("AzureKeyVaultSigner is not open: await signer.open() first")
        try:
            result = await self._crypto.sign(self._es256, hashlib.sha256(message).digest())
        except Exception as exc:
            raise StoreError(f"Azure Key Vault sign({self.name}) failed: {exc}") from exc
        return raw_to_der(bytes(result.signature))

    async def aclose(self) -> None:
        stack, self._stack, self._crypto = self._stack, None, None
        if stack is not None:
            await stack.aclose()

    async def __aenter__(self) -> AzureKeyVaultSigner:
        return await self.open()

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    def __repr__(self) -> str:
        return f"AzureKeyVaultSigner({self.vault_url!r}, {self.name!r}, {self.version!r})"
