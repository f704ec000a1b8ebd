"""One Bucket / Stores opened at module level, then ``asyncio.run(handler())`` per
invocation (the serverless pattern): every invocation works, on every backend."""

from __future__ import annotations

import asyncio
import gc
import threading
import warnings
from collections.abc import Iterator
from typing import Any

import pytest

import cloudstores
from cloudstores._resource import LoopInUseError
from cloudstores.errors import AlreadyExistsError

CLOUDS_AND_MEMORY = ["memory", "s3"]


async def bucket_handler(bucket: cloudstores.Bucket, n: int) -> list[str]:
    version = await bucket.put(f"inv/{n}.json", b"{}")
    with pytest.raises(AlreadyExistsError):
        await bucket.put(f"inv/{n}.json", b"[]")
    await bucket.put(f"inv/{n}.json", b"[1]", mode=cloudstores.IfMatch(version))
    assert (await bucket.get(f"inv/{n}.json")).data == b"[1]"
    assert (await bucket.head(f"inv/{n}.json")).size == 3
    keys = [info.key async for info in bucket.list("inv/")]
    await bucket.delete(f"inv/{n}.json")
    return keys


@pytest.fixture
def no_resource_warnings() -> Iterator[list[warnings.WarningMessage]]:
    """No client of an ended invocation is left to the garbage collector."""
    gc.collect()  # what earlier tests left behind is not this test's
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ResourceWarning)
        yield caught
        gc.collect()
    leaks = [w for w in caught if issubclass(w.category, ResourceWarning)]
    assert not leaks, [str(w.message) for w in leaks]


def test_bucket_across_successive_asyncio_runs(
    bucket_url: str, no_resource_warnings: list[Any]
) -> None:
    bucket = cloudstores.open_bucket(bucket_url)  # module level: no loop yet
    assert asyncio.run(bucket_handler(bucket, 1)) == ["inv/1.json"]
    assert asyncio.run(bucket_handler(bucket, 2)) == ["inv/2.json"]
    assert asyncio.run(bucket_handler(bucket, 3)) == ["inv/3.json"]
    # Per invocation: 3 puts + 1 reconciling head, get, head, list, delete (+1 head on s3).
    assert bucket.requests["put"] == 9
    assert bucket.requests["list"] == 3
    asyncio.run(bucket.close())


def test_bucket_clients_are_closed_when_asyncio_run_ends(make_bucket_url: Any) -> None:
    bucket = cloudstores.open_bucket(make_bucket_url("s3"))
    asyncio.run(bucket_handler(bucket, 1))
    assert bucket.driver._client is None  # type: ignore[attr-defined]
    assert not bucket._opened
    asyncio.run(bucket_handler(bucket, 2))


def test_bucket_after_a_loop_closed_without_shutdown(make_bucket_url: Any) -> None:
    """A loop closed without ``shutdown_asyncgens``: the next loop drops its clients
    (left to the garbage collector, which may warn: ResourceWarning, silent by default)."""
    bucket = cloudstores.open_bucket(make_bucket_url("azure"))
    loop = asyncio.new_event_loop()
    loop.run_until_complete(bucket_handler(bucket, 1))
    loop.close()
    assert asyncio.run(bucket_handler(bucket, 2)) == ["inv/2.json"]
    other = asyncio.new_event_loop()  # another loop while the first one is only stopped
    other.run_until_complete(bucket_handler(bucket, 3))
    assert asyncio.run(bucket_handler(bucket, 4)) == ["inv/4.json"]
    other.close()
    asyncio.run(bucket.close())


def test_bucket_in_use_by_a_loop_of_another_thread_is_a_clear_error() -> None:
    bucket = cloudstores.open_bucket("memory://loops-in-use")
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    try:
        asyncio.run_coroutine_threadsafe(bucket.put("a", b"1"), loop).result(10)
        with pytest.raises(LoopInUseError, match="another thread"):
            asyncio.run(bucket.get("a"))
    finally:
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)
        loop.close()
    assert asyncio.run(bucket.get("a")).data == b"1"  # that loop is gone: fine again


async def stores_handler(stores: cloudstores.Stores, n: int) -> None:
    from cloudstores import Artifact, RunSummary

    await stores.artifacts.store(Artifact(id=f"a{n}", run_id="r", content={"n": n}))
    assert (await stores.artifacts.get(f"a{n}")).content == {"n": n}
    assert [a.id async for a in stores.artifacts.list(run_id="r")] == [
        f"a{i}" for i in range(1, n + 1)
    ]
    await stores.executions.create_run(
        RunSummary(run_id=f"run{n}", workflow_name="w", status="running", total_nodes=1)
    )
    assert (await stores.executions.get_run(f"run{n}")).status == "running"
    entry = await stores.audit.append("events", {"n": n})
    assert entry.seq == n - 1
    assert [e.event["n"] async for e in stores.audit.read("events")] == list(range(1, n + 1))


@pytest.mark.parametrize("backend", CLOUDS_AND_MEMORY)
def test_stores_across_successive_asyncio_runs(
    backend: str, make_bucket_url: Any, no_resource_warnings: list[Any]
) -> None:
    stores = cloudstores.open_stores(make_bucket_url(backend), workspace="inv")
    for n in (1, 2, 3):
        asyncio.run(stores_handler(stores, n))
    asyncio.run(stores.close())


def test_stores_inside_async_with_per_invocation(make_bucket_url: Any) -> None:
    stores = cloudstores.open_stores(make_bucket_url("gcs"), workspace="inv")

    async def handler(n: int) -> None:
        async with stores:  # closing flushes, the next invocation opens again
            await stores_handler(stores, n)

    asyncio.run(handler(1))
    asyncio.run(handler(2))


def test_s3_session_is_kept_and_its_credentials_lock_follows_the_loop(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from cloudstores.bucket.s3 import S3Driver

    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "x")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "y")
    driver = S3Driver("bkt", region="us-east-1", endpoint_url="http://127.0.0.1:9")

    async def cycle() -> asyncio.AbstractEventLoop:
        await driver.open()
        await driver.close()
        return asyncio.get_running_loop()

    first = asyncio.run(cycle())
    session = driver._session
    credentials = session._session._credentials  # what the first client resolved
    assert credentials is not None
    credentials._refresh_lock = asyncio.Lock()  # as refreshable credentials hold one
    credentials._refresh_lock._loop = first  # as if a task of that loop had waited on it
    asyncio.run(cycle())
    assert driver._session is session  # kept: no service-model reload per invocation
    other = S3Driver("bkt2", region="us-east-1", endpoint_url="http://127.0.0.1:9")
    asyncio.run(other.open())  # another bucket: its own session, the same data loader
    assert other._session is not session
    loader = session._session.get_component("data_loader")
    assert other._session._session.get_component("data_loader") is loader
    asyncio.run(other.close())
    assert getattr(credentials._refresh_lock, "_loop", None) is None  # a fresh lock
