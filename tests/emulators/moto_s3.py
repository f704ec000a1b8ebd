"""moto server (S3) in this process, on a real HTTP port."""

from __future__ import annotations

import logging
import os
import uuid
from pathlib import Path

from tests.emulators import Emulator, free_port, wait_until_answers

REGION = "us-east-1"


def start(log_dir: Path) -> Emulator:
    from moto.server import ThreadedMotoServer

    os.environ.setdefault("AWS_ACCESS_KEY_ID", "testing")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "testing")
    os.environ.setdefault("AWS_DEFAULT_REGION", REGION)
    log_path = log_dir / "moto.log"
    handler = logging.FileHandler(log_path)
    for name in ("werkzeug", "moto"):
        logger = logging.getLogger(name)
        logger.addHandler(handler)
        logger.propagate = False
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    endpoint = f"http://127.0.0.1:{port}"
    wait_until_answers(endpoint + "/moto-api/")
    return Emulator(name="moto", endpoint=endpoint, log_path=log_path, stop=server.stop)


def new_bucket_url(emulator: Emulator, *, object_lock: bool = False) -> str:
    import boto3

    name = f"t-{uuid.uuid4().hex[:20]}"
    client = boto3.client("s3", endpoint_url=emulator.endpoint, region_name=REGION)
    client.create_bucket(Bucket=name, ObjectLockEnabledForBucket=object_lock)
    return f"s3://{name}/pre?endpoint_url={emulator.endpoint}&region={REGION}"
