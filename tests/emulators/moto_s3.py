"""moto server (S3) in its own process, on a real HTTP port.

A separate process rather than moto's in-process ThreadedMotoServer: the emulator then
does not compete with the test's client for this interpreter's GIL. Its requests are
applied one at a time (``moto_serial.py``), so conditional writes are atomic as on S3.
"""

from __future__ import annotations

import functools
import os
import sys
import uuid
from pathlib import Path
from typing import Any

from tests.emulators import Emulator, free_port, launch

REGION = "us-east-1"


def start(log_dir: Path) -> Emulator:
    for name, value in (
        ("AWS_ACCESS_KEY_ID", "testing"),
        ("AWS_SECRET_ACCESS_KEY", "testing"),
        ("AWS_DEFAULT_REGION", REGION),
    ):
        os.environ.setdefault(name, value)
    log_path = log_dir / "moto.log"
    port = free_port()
    endpoint = f"http://127.0.0.1:{port}"
    # moto.server, but applying one request at a time (moto_serial.py says why)
    cmd = [sys.executable, str(Path(__file__).with_name("moto_serial.py")), "127.0.0.1", str(port)]
    return launch("moto", cmd, endpoint=endpoint, probe=endpoint + "/moto-api/", log_path=log_path)


@functools.cache
def _client(endpoint: str) -> Any:
    """One boto3 client per emulator: making one costs ~0.1 s of CPU, a bucket ~1 ms."""
    import boto3

    return boto3.client("s3", endpoint_url=endpoint, region_name=REGION)


def new_bucket_url(emulator: Emulator, *, object_lock: bool = False) -> str:
    name = f"t-{uuid.uuid4().hex[:20]}"
    _client(emulator.endpoint).create_bucket(Bucket=name, ObjectLockEnabledForBucket=object_lock)
    return f"s3://{name}/pre?endpoint_url={emulator.endpoint}&region={REGION}"
