"""Azurite (Azure Blob Storage emulator, npm ``azurite``) in a child process."""

from __future__ import annotations

import contextlib
import functools
import shutil
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import quote

from tests.emulators import Emulator, free_port, launch

ACCOUNT = "devstoreaccount1"
# The well-known, public key of Azurite's development account (not a secret).
ACCOUNT_KEY = (
    "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
)
REPO_ROOT = Path(__file__).resolve().parents[2]


def _binary() -> str:
    local = REPO_ROOT / "node_modules" / ".bin" / "azurite-blob"
    if local.exists():
        return str(local)
    found = shutil.which("azurite-blob")
    if found:
        return found
    raise RuntimeError(
        f"azurite-blob not found: run `npm ci` in {REPO_ROOT} (package.json pins azurite)"
    )


def connection_string(endpoint: str) -> str:
    """The dev account's connection string for an Azurite blob endpoint."""
    return (
        f"DefaultEndpointsProtocol=http;AccountName={ACCOUNT};AccountKey={ACCOUNT_KEY};"
        f"BlobEndpoint={endpoint}/{ACCOUNT};"
    )


def start(log_dir: Path) -> Emulator:
    """Start ``azurite-blob`` in memory on a free 127.0.0.1 port; log to ``azurite.log``."""
    binary = _binary()
    port = free_port()
    log_path = log_dir / "azurite.log"
    cmd = [
        binary,
        "--blobHost",
        "127.0.0.1",
        "--blobPort",
        str(port),
        "--inMemoryPersistence",
        "--skipApiVersionCheck",
        "--loose",
    ]
    endpoint = f"http://127.0.0.1:{port}"
    return launch(
        "azurite",
        cmd,
        endpoint=endpoint,
        probe=f"{endpoint}/{ACCOUNT}?comp=list",
        log_path=log_path,
        extra={"connection_string": connection_string(endpoint)},
    )


@functools.cache
def _service(conn: str) -> Any:
    """One client per emulator, retrying after a second rather than the SDK's 15 s.

    The SDK's default (exponential, 15 s then 18 s and 24 s, 60 s read timeout) made one
    container's setup take 109 s on a loaded machine.
    """
    from azure.storage.blob import BlobServiceClient, LinearRetry

    retry = LinearRetry(backoff=1, random_jitter_range=0, retry_total=10)
    return BlobServiceClient.from_connection_string(
        conn, retry_policy=retry, connection_timeout=10, read_timeout=20
    )


def new_bucket_url(emulator: Emulator) -> str:
    """Create a fresh container and return its ``az://`` URL (prefix ``/pre``)."""
    from azure.core.exceptions import ResourceExistsError

    name = f"t-{uuid.uuid4().hex[:20]}"
    conn = emulator.extra.get("connection_string") or connection_string(emulator.endpoint)
    # the SDK may retry a create that had landed: the name is fresh, so it is ours
    with contextlib.suppress(ResourceExistsError):
        _service(conn).create_container(name)
    return f"az://{name}/pre?connection_string={quote(conn, safe='')}"
