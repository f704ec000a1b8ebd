"""moto server (S3) in its own process, on a real HTTP port.

A separate process rather than moto's in-process ThreadedMotoServer: the emulator then
does not compete with the test's client for this interpreter's GIL.
"""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from pathlib import Path

from tests.emulators import Emulator, free_port, stop_process, wait_until_answers

REGION = "us-east-1"


def start(log_dir: Path) -> Emulator:
    for name, value in (("AWS_ACCESS_KEY_ID", "testing"), ("AWS_SECRET_ACCESS_KEY", "testing"),
                        ("AWS_DEFAULT_REGION", REGION)):
        os.environ.setdefault(name, value)
    log_path = log_dir / "moto.log"
    port = free_port()
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
            stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
        )
    endpoint = f"http://127.0.0.1:{port}"
    try:
        wait_until_answers(endpoint + "/moto-api/", proc=proc)
    except Exception:
        stop_process(proc)
        raise
    return Emulator(name="moto", endpoint=endpoint, log_path=log_path,
                    stop=lambda: stop_process(proc))


def new_bucket_url(emulator: Emulator, *, object_lock: bool = False) -> str:
    import boto3

    name = f"t-{uuid.uuid4().hex[:20]}"
    client = boto3.client("s3", endpoint_url=emulator.endpoint, region_name=REGION)
    client.create_bucket(Bucket=name, ObjectLockEnabledForBucket=object_lock)
    return f"s3://{name}/pre?endpoint_url={emulator.endpoint}&region={REGION}"
