"""The public face: cold imports, URLs, errors, open_stores and workspaces."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

import cloudstores
from cloudstores import errors
from cloudstores.errors import (
    ConfigurationError,
    InvalidIdError,
    NotFoundError,
    StoreError,
    StoreTimeoutError,
)
from cloudstores.testing import FaultyBucket

SDKS = ("boto3", "botocore", "aioboto3", "aiobotocore", "azure", "google", "aiohttp")


def test_import_loads_no_cloud_sdk() -> None:
    code = (
        "import sys, cloudstores\n"
        "b = cloudstores.open_bucket('memory://x')\n"
        "loaded = sorted({m.split('.')[0] for m in sys.modules} & set(sys.argv[1:]))\n"
        "print(','.join(loaded))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, *SDKS], capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == ""


def test_opening_s3_loads_only_aws() -> None:
    code = (
        "import sys, asyncio, cloudstores\n"
        "b = cloudstores.open_bucket('s3://bkt/p?region=us-east-1')\n"
        "asyncio.run(b.open()); asyncio.run(b.close())\n"
        "print(','.join(sorted({m.split('.')[0] for m in sys.modules} & set(sys.argv[1:]))))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, "azure", "google"],
        capture_output=True,
        text=True,
        check=True,
        env={"AWS_ACCESS_KEY_ID": "x", "AWS_SECRET_ACCESS_KEY": "y", "PATH": ""},
    )
    assert out.stdout.strip() == ""


def test_every_error_is_a_store_error() -> None:
    for name in errors.__all__:
        assert issubclass(getattr(errors, name), StoreError)
    assert issubclass(NotFoundError, LookupError)
    assert issubclass(StoreTimeoutError, TimeoutError)
    assert issubclass(InvalidIdError, ValueError)


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("nope://x", "unknown bucket scheme"),
        ("not a url", "not a bucket URL"),
        ("memory://x?color=blue", "unknown option"),
        ("file://relative/dir", "absolute path"),
        ("s3://bkt?aws_secret_access_key=abc", "do not take credentials"),
        ("s3://?region=x", "bucket name"),
    ],
)
def test_bad_urls(url: str, message: str) -> None:
    with pytest.raises(ConfigurationError, match=message) as caught:
        cloudstores.open_bucket(url)
    assert "abc" not in str(caught.value)


def test_bucket_url_hides_nothing_secret() -> None:
    bucket = cloudstores.open_bucket("s3://bkt/pre?region=eu-west-1&endpoint_url=http://h:1")
    assert bucket.url == "s3://bkt/pre"
    assert repr(bucket) == "<S3Bucket s3://bkt/pre>"


def test_retry_config_validates() -> None:
    with pytest.raises(ValueError):
        cloudstores.RetryConfig(max_attempts=0)
    with pytest.raises(ValueError):
        cloudstores.RetryConfig(initial_backoff=2, max_backoff=1)
    cfg = cloudstores.RetryConfig(seed=1)
    sleeps = [cfg.next_backoff(None)]
    for _ in range(30):
        sleeps.append(cfg.next_backoff(sleeps[-1]))
    assert all(0.1 <= s <= 15.0 for s in sleeps)
    assert max(sleeps) > 1.0  # it grows


async def test_retries_give_up_after_max_attempts() -> None:
    inner = cloudstores.open_bucket("memory://give-up")
    flaky = FaultyBucket(
        inner,
        before=1.0,
        retry=cloudstores.RetryConfig(max_attempts=3, initial_backoff=0.001, max_backoff=0.001),
    )
    with pytest.raises(errors.BackendUnavailableError) as caught:
        await flaky.put("k", b"v")
    assert flaky.requests["put"] == 3
    assert caught.value.key == "k" and caught.value.bucket == "give-up"


async def test_open_stores_scopes_everything_to_the_workspace(tmp_path: Path) -> None:
    url = f"file://{tmp_path}?fsync=false"
    async with cloudstores.open_stores(url, workspace="client-a") as stores:
        assert stores.workspace == "client-a"
        await stores.artifacts.store(cloudstores.Artifact(id="a1", run_id="r1", content=1))
        await stores.executions.create_run(cloudstores.RunSummary(run_id="r1"))
        await stores.audit.append("ops", {"event": "start"})
    async with cloudstores.open_stores(url) as default:
        assert default.workspace == cloudstores.DEFAULT_WORKSPACE == "default"
        with pytest.raises(NotFoundError):
            await default.artifacts.get("a1")
    files = sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*.json"))
    assert files and all(f.startswith("ws/client-a/") for f in files)
    with pytest.raises(InvalidIdError):
        cloudstores.open_stores(url, workspace="../client-a")
    with pytest.raises(InvalidIdError):
        cloudstores.open_stores(url, workspace="")


async def test_open_stores_on_an_open_bucket_leaves_it_open() -> None:
    async with cloudstores.open_bucket("memory://shared") as bucket:
        async with cloudstores.open_stores(bucket, workspace="w") as stores:
            await stores.artifacts.store(cloudstores.Artifact(id="x", run_id="r"))
        assert (await bucket.head("ws/w/artifacts/x.json")).size > 0
