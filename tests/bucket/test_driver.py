"""The Bucket over the Driver protocol, without an emulator: open-once, translation in
one place, exactly-once under a hidden re-send, engine selection."""

from __future__ import annotations

import asyncio
import importlib.util
import uuid
from collections.abc import Mapping

import pytest

import cloudstores
from cloudstores import IfMatch, errors
from cloudstores.bucket import Bucket, Driver, open_bucket
from cloudstores.bucket.errors import Request
from cloudstores.bucket.memory import MemoryDriver
from cloudstores.bucket.types import PutMode, Version
from cloudstores.testing import FaultyBucket, FaultyDriver


class CountingOpens(FaultyDriver):
    """No faults; counts opens, and each open takes a moment (so first calls race)."""

    opens = 0

    async def open(self) -> None:
        self.opens += 1
        await asyncio.sleep(0.01)
        await super().open()


def memory() -> MemoryDriver:
    return MemoryDriver(uuid.uuid4().hex)


async def test_racing_first_calls_open_the_driver_once() -> None:
    driver = CountingOpens(memory())
    bucket = Bucket(driver, prefix="p")
    await asyncio.gather(*(bucket.put(f"k{i}", b"x") for i in range(10)))
    assert driver.opens == 1
    assert bucket.requests["put"] == 10
    await bucket.close()
    await bucket.get("k1")  # a request after close opens again
    assert driver.opens == 2
    await bucket.close()


class ResendingDriver(FaultyDriver):
    """A put lands, then the caller sees the conflict its hidden re-send would meet."""

    async def put(
        self,
        key: str,
        data: bytes,
        *,
        mode: PutMode,
        content_type: str,
        metadata: Mapping[str, str],
    ) -> Version:
        await self.inner.put(key, data, mode=mode, content_type=content_type, metadata=metadata)
        if mode == "create":
            raise errors.AlreadyExistsError("412 to the re-send", key=key)
        raise errors.PreconditionFailedError("412 to the re-send", key=key)


async def test_hidden_resend_is_reconciled_not_reported_as_conflict() -> None:
    inner = memory()
    bucket = Bucket(ResendingDriver(inner))
    version = await bucket.put("once", b"1")
    assert (await inner.get("once")).version == version
    assert dict(bucket.requests) == {"put": 1, "head": 1}
    v2 = await bucket.put("once", b"2", mode=IfMatch(version))
    assert (await inner.get("once")).data == b"2" and (await inner.get("once")).version == v2
    plain = Bucket(inner)
    with pytest.raises(errors.AlreadyExistsError):  # a real conflict stays a conflict
        await plain.put("once", b"3")
    with pytest.raises(errors.PreconditionFailedError):
        await plain.put("once", b"3", mode=IfMatch(version))


async def test_if_match_412_on_a_gone_object_is_not_found() -> None:
    class Gone412(FaultyDriver):
        async def put(
            self,
            key: str,
            data: bytes,
            *,
            mode: PutMode,
            content_type: str,
            metadata: Mapping[str, str],
        ) -> Version:
            raise errors.PreconditionFailedError("412", key=key)  # as Azure and GCS answer

    bucket = Bucket(Gone412(memory()))
    with pytest.raises(errors.NotFoundError):
        await bucket.put("never", b"x", mode=IfMatch(Version(etag="e")))
    assert dict(bucket.requests) == {"put": 1, "head": 1}


async def test_raw_sdk_errors_go_through_the_drivers_hook_once() -> None:
    seen: list[Request] = []

    class Raw(FaultyDriver):
        async def get(self, key: str) -> cloudstores.StoredObject:
            raise ConnectionResetError("peer")

        def translate(self, exc: Exception, request: Request) -> errors.StoreError:
            seen.append(request)
            return errors.BackendUnavailableError("reset")

    bucket = Bucket(
        Raw(memory()),
        prefix="p",
        retry=cloudstores.RetryConfig(max_attempts=2, initial_backoff=0.001, max_backoff=0.001),
    )
    with pytest.raises(errors.BackendUnavailableError) as caught:
        await bucket.get("k")
    assert [r.op for r in seen] == ["get", "get"] and seen[0].key == "p/k"
    assert caught.value.key == "p/k" and caught.value.bucket == bucket.name


def test_every_sdk_driver_is_a_driver() -> None:
    from cloudstores.bucket.azure import AzureDriver
    from cloudstores.bucket.file import FileDriver
    from cloudstores.bucket.gcs import GCSDriver
    from cloudstores.bucket.s3 import S3Driver

    drivers = [
        memory(),
        FileDriver(root="/tmp"),
        S3Driver("bkt"),
        GCSDriver("bkt"),
        AzureDriver("ctr", connection_string="UseDevelopmentStorage=true"),
    ]
    assert all(isinstance(d, Driver) for d in drivers)


def test_bucket_needs_a_driver_and_sane_limits() -> None:
    with pytest.raises(errors.InvalidInputError):
        Bucket(object())  # type: ignore[arg-type]
    for bad in (0, -1, 2.5, "4", True):
        with pytest.raises(errors.InvalidInputError):
            Bucket(memory(), max_in_flight=bad)  # type: ignore[arg-type]
    with pytest.raises(errors.InvalidInputError):
        Bucket(memory(), retry={"max_attempts": 3})  # type: ignore[arg-type]


def test_faulty_bucket_wraps_the_inner_driver() -> None:
    inner = open_bucket("memory://faulty-wrap/pre")
    flaky = FaultyBucket(inner, before=0.5)
    assert isinstance(flaky.driver, FaultyDriver) and flaky.driver.inner is inner.driver
    assert flaky.prefix == "pre" and flaky.url == inner.url


def test_engine_option() -> None:
    assert open_bucket("memory://e", engine="sdk").scheme == "memory"
    with pytest.raises(errors.ConfigurationError, match="unknown engine"):
        open_bucket("memory://e", engine="turbo")
    with pytest.raises(errors.ConfigurationError, match="unknown engine"):
        open_bucket("memory://e?engine=turbo")
    with pytest.raises(errors.ConfigurationError, match="s3://, az:// and gs://"):
        open_bucket("memory://e", engine="obstore")
    url = "s3://bkt/p?engine=obstore&endpoint_url=http://127.0.0.1:1&region=us-east-1"
    if importlib.util.find_spec("cloudstores.bucket.obstore") is None:
        with pytest.raises(errors.ConfigurationError, match=r"cloudstores\[fast\]"):
            open_bucket(url)
    else:  # the obstore engine is installed: the URL option picks it
        assert type(open_bucket(url).driver).__name__ == "ObstoreDriver"


def test_repr_names_the_backend_without_secrets() -> None:
    bucket = open_bucket("s3://bkt/pre", region="us-east-1")
    assert repr(bucket) == "<S3Bucket s3://bkt/pre>"
