"""Azure Key Vault (``azurekeyvault://``) and Google Cloud KMS (``gcpkms://``) signers.

Neither service has an emulator, so the real services are opt-in
(``CLOUDSTORES_TEST_AZUREKV_URL``, ``CLOUDSTORES_TEST_GCPKMS_URL``: skipped with the
reason otherwise). Offline, everything around the service is checked: URLs validated
before any request, the clear error when the SDK is missing, Key Vault's ``r || s`` to
DER, and the check of every returned signature: a local key stands in for the service
(a Cloud KMS client object with its two calls; Key Vault's CryptographyClient ``sign``),
so checkpoints signed through the signers' own code verify, notes carry the right
signed-note type, and a service answering with another key is refused.
"""

from __future__ import annotations

import hashlib
import os
import sys
import uuid
from dataclasses import dataclass
from typing import Any

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

import cloudstores
from cloudstores.errors import ConfigurationError, IntegrityError, InvalidInputError
from cloudstores.stores.audit import AuditOptions, AuditStore, note_vkey
from cloudstores.stores.audit.kms import open_signer
from cloudstores.stores.audit.kms_azure import AzureKeyVaultSigner, parse_azure_url
from cloudstores.stores.audit.kms_base import KmsPublicKey, raw_to_der
from cloudstores.stores.audit.kms_gcp import GcpKmsSigner, parse_gcp_url
from cloudstores.tlog.note import parse_vkey

GCP = "projects/p-1/locations/europe-west1/keyRings/audit/cryptoKeys/cp/cryptoKeyVersions/3"
OPTIONS = AuditOptions(checkpoint_every=10, checkpoint_interval=None, max_checkpoint_leaves=16)


def test_azure_urls() -> None:
    assert parse_azure_url("azurekeyvault://my-vault/audit-key") == (
        "https://my-vault.vault.azure.net",
        "audit-key",
        None,
    )
    assert parse_azure_url("azurekeyvault://My-Vault/k/0123456789abcdef0123456789abcdef") == (
        "https://my-vault.vault.azure.net",
        "k",
        "0123456789abcdef0123456789abcdef",
    )
    assert parse_azure_url("azurekeyvault://hsm1.managedhsm.azure.net/k")[0] == (
        "https://hsm1.managedhsm.azure.net"
    )
    for bad in (
        "azurekeyvault://",
        "azurekeyvault://vault",
        "azurekeyvault://vault/",
        "azurekeyvault://v/k",  # a vault name is 3-24 characters
        "azurekeyvault://vault/k/v/extra",
        "azurekeyvault://vault/key_name",
        "azurekeyvault://vault/k/not-hex!",
        "azurekeyvault://vault/k?tenant=x",
        "azurekeyvault://bad..host/k",
        "azurekeyvault://-vault/k",
        "https://vault.vault.azure.net/keys/k",
    ):
        with pytest.raises(InvalidInputError):
            parse_azure_url(bad)
    with pytest.raises(InvalidInputError):
        AzureKeyVaultSigner("http://vault", "k")


def test_gcp_urls() -> None:
    assert parse_gcp_url(f"gcpkms://{GCP}") == GCP
    for bad in (
        "gcpkms://",
        f"gcpkms://{GCP}?x=1",
        f"gcpkms://{GCP}/",
        "gcpkms://projects/p/locations/l/keyRings/r/cryptoKeys/k",  # no version
        "gcpkms://projects/p/locations/l/keyRings/r/cryptoKeys/k/cryptoKeyVersions/0",
        "gcpkms://projects/p/locations/l/keyRings/r w/cryptoKeys/k/cryptoKeyVersions/1",
        "gcpkms://projects/p/keys/k",
        f"awskms://{GCP}",
    ):
        with pytest.raises(InvalidInputError):
            parse_gcp_url(bad)


async def test_urls_are_refused_before_any_sdk_or_request(monkeypatch: Any) -> None:
    """Malformed URLs fail first; a well-formed one without its SDK says which extra."""
    for name in ("azure.keyvault.keys.aio", "google.cloud.kms", "google.cloud"):
        monkeypatch.setitem(sys.modules, name, None)  # as if not installed
    for bad in ("azurekeyvault://vault", "gcpkms://projects/p"):
        with pytest.raises(InvalidInputError):
            await open_signer(bad)
    with pytest.raises(ConfigurationError, match=r"azure-kms"):
        await open_signer("azurekeyvault://my-vault/audit")
    with pytest.raises(ConfigurationError, match=r"gcp-kms"):
        await open_signer(f"gcpkms://{GCP}")
    with pytest.raises(ConfigurationError, match="unknown signer URL"):
        await open_signer("vault://x/y")
    for signer in (AzureKeyVaultSigner.from_url("azurekeyvault://v12/k"), GcpKmsSigner(GCP)):
        with pytest.raises(InvalidInputError, match="not open"):
            await signer.sign(b"m")
        with pytest.raises(InvalidInputError, match="not open"):
            signer.key_id  # noqa: B018


def test_raw_r_s_to_der() -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    message = b"checkpoint"
    for _ in range(8):  # r and s of any length (leading zero bytes) round-trip
        der = key.sign(message, ec.ECDSA(hashes.SHA256()))
        r, s = decode_dss_signature(der)
        raw = r.to_bytes(32, "big") + s.to_bytes(32, "big")
        assert raw_to_der(raw) == der
    der_pub = key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    public = KmsPublicKey(der_pub)
    assert public.valid(message, raw_to_der(raw)) and not public.valid(b"other", raw_to_der(raw))
    for bad in (b"", raw[:63], raw + b"\x00", der):
        with pytest.raises(IntegrityError):
            raw_to_der(bad)
    with pytest.raises(ConfigurationError):  # not P-256 nor Ed25519
        KmsPublicKey(
            ec.generate_private_key(ec.SECP384R1())
            .public_key()
            .public_bytes(
                serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
            )
        )


# ---------------------------------------------------------------- local stand-ins
@dataclass
class _Answer:
    signature: bytes = b""
    pem: str = ""
    algorithm: Any = None
    name: str = ""


@dataclass
class _Algorithm:
    name: str


class LocalCloudKms:
    """The two Cloud KMS client calls the signer makes, answered with a local key
    (``signing_key``: another key than the one published, to play a faulty service)."""

    def __init__(self, algorithm: str) -> None:
        if algorithm == "EC_SIGN_ED25519":
            self.key: Any = Ed25519PrivateKey.generate()
        else:
            self.key = ec.generate_private_key(ec.SECP256R1())
        self.signing_key = self.key
        self.algorithm = algorithm
        self.requests: list[dict[str, Any]] = []

    async def get_public_key(self, request: dict[str, Any]) -> _Answer:
        pem = self.key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        return _Answer(pem=pem.decode(), algorithm=_Algorithm(self.algorithm))

    async def asymmetric_sign(self, request: dict[str, Any]) -> _Answer:
        self.requests.append(request)
        if isinstance(self.signing_key, Ed25519PrivateKey):
            return _Answer(signature=self.signing_key.sign(request["data"]))
        from cryptography.hazmat.primitives.asymmetric.utils import Prehashed

        digest = request["digest"]["sha256"]
        return _Answer(
            signature=self.signing_key.sign(digest, ec.ECDSA(Prehashed(hashes.SHA256())))
        )


async def _checkpoint_round(signer: Any) -> None:
    """A store signing with ``signer``: its checkpoints verify with the signer's
    verifier and carry a signed note."""
    async with cloudstores.open_bucket(f"memory://{uuid.uuid4().hex}") as bucket:
        async with AuditStore(bucket, signer=signer, options=OPTIONS) as audit:
            await audit.append_many("s", [{"i": i} for i in range(12)])
            await audit.append_many("s", [{"i": i, "f": 1.0} for i in range(12, 25)])
        async with AuditStore(bucket, verifier=signer.verifier()) as auditor:
            report = await auditor.verify("s")
            assert report.ok and report.signatures_checked and report.checkpoints >= 2
            newest = await auditor.latest_checkpoint("s")
            assert newest is not None and newest.note is not None


@pytest.mark.parametrize(
    ("algorithm", "note_type"), [("EC_SIGN_P256_SHA256", 2), ("EC_SIGN_ED25519", 1)]
)
async def test_gcp_signer_through_a_local_key(algorithm: str, note_type: int) -> None:
    service = LocalCloudKms(algorithm)
    signer = await GcpKmsSigner.from_url(f"gcpkms://{GCP}", client=service).open()
    assert signer.algorithm == ("ed25519" if note_type == 1 else "ecdsa-p256-sha256")
    vkey = note_vkey(signer)
    assert vkey is not None and parse_vkey(vkey).sig_type == note_type
    await _checkpoint_round(signer)
    if note_type == 2:  # only the digest leaves the process
        assert all(set(r) == {"name", "digest"} for r in service.requests)
    else:
        assert all(set(r) == {"name", "data"} for r in service.requests)
        with pytest.raises(ConfigurationError, match="max_checkpoint_leaves"):
            await signer.sign(b"x" * (64 * 1024 + 1))
    service.signing_key = LocalCloudKms(algorithm).key  # the service answers another key
    with pytest.raises(IntegrityError, match="does not verify"):
        await signer.sign(b"m")
    await signer.aclose()


async def test_gcp_signer_refuses_other_algorithms() -> None:
    service = LocalCloudKms("EC_SIGN_P256_SHA256")
    service.algorithm = "RSA_SIGN_PSS_2048_SHA256"
    with pytest.raises(ConfigurationError, match="RSA_SIGN_PSS_2048_SHA256"):
        await GcpKmsSigner(GCP, client=service).open()
    service.algorithm = "EC_SIGN_ED25519"  # says Ed25519, publishes a P-256 key
    with pytest.raises(ConfigurationError, match="is not EC_SIGN_ED25519"):
        await GcpKmsSigner(GCP, client=service).open()


class _LocalKeyVaultCrypto:
    """Key Vault's CryptographyClient.sign: ES256 over a digest, answered as r || s."""

    def __init__(self, key: ec.EllipticCurvePrivateKey) -> None:
        self.key = key
        self.digests: list[bytes] = []

    async def sign(self, algorithm: Any, digest: bytes) -> _Answer:
        from cryptography.hazmat.primitives.asymmetric.utils import Prehashed

        self.digests.append(digest)
        der = self.key.sign(digest, ec.ECDSA(Prehashed(hashes.SHA256())))
        r, s = decode_dss_signature(der)
        return _Answer(signature=r.to_bytes(32, "big") + s.to_bytes(32, "big"))


async def test_azure_signer_through_a_local_key() -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    numbers = key.public_key().public_numbers()
    signer = AzureKeyVaultSigner.from_url("azurekeyvault://audit-vault/cp")
    # what open() does with the key Key Vault returns (its JSON Web Key's x and y)
    signer._adopt(
        KmsPublicKey.from_p256_point(numbers.x.to_bytes(32, "big"), numbers.y.to_bytes(32, "big"))
    )
    crypto = _LocalKeyVaultCrypto(key)
    signer._crypto, signer._es256 = crypto, "ES256"
    assert signer.algorithm == "ecdsa-p256-sha256"
    vkey = note_vkey(signer)
    assert vkey is not None and parse_vkey(vkey).sig_type == 2
    await _checkpoint_round(signer)
    signature = await signer.sign(b"m")
    assert signature[0] == 0x30 and crypto.digests[-1] == hashlib.sha256(b"m").digest()
    crypto.key = ec.generate_private_key(ec.SECP256R1())
    with pytest.raises(IntegrityError, match="does not verify"):
        await signer.sign(b"m")
    with pytest.raises(ConfigurationError):
        KmsPublicKey.from_p256_point(b"\x01" * 32, b"\x02" * 32)  # not on the curve
    await signer.aclose()


# ---------------------------------------------------------------- real services
async def _real_round(url: str) -> None:
    signer: Any = await open_signer(url)
    try:
        for size in (100, 5000):
            message = b"m" * size
            signature = await signer.sign(message)
            assert signer.verifier().verify(
                message, signature, algorithm=signer.algorithm, key_id=signer.key_id
            )
        await _checkpoint_round(signer)
    finally:
        await signer.aclose()


@pytest.mark.skipif(
    not os.environ.get("CLOUDSTORES_TEST_AZUREKV_URL"),
    reason="real Azure Key Vault is opt-in: set CLOUDSTORES_TEST_AZUREKV_URL="
    "azurekeyvault://<vault>/<key> (an EC P-256 key with sign) with Azure credentials "
    "and pip install 'cloudstores[azure-kms]'",
)
async def test_real_azure_key_vault() -> None:
    await _real_round(os.environ["CLOUDSTORES_TEST_AZUREKV_URL"])


@pytest.mark.skipif(
    not os.environ.get("CLOUDSTORES_TEST_GCPKMS_URL"),
    reason="real Google Cloud KMS is opt-in: set CLOUDSTORES_TEST_GCPKMS_URL="
    "gcpkms://projects/.../cryptoKeyVersions/N (EC_SIGN_P256_SHA256 or EC_SIGN_ED25519) "
    "with Application Default Credentials and pip install 'cloudstores[gcp-kms]'",
)
async def test_real_gcp_kms() -> None:
    await _real_round(os.environ["CLOUDSTORES_TEST_GCPKMS_URL"])
