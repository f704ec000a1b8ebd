"""The bucket layer under network faults below the SDK, on every cloud (issue 8).

A response lost after the server stored the write is the case that matters: the HTTP
client may re-send the request by itself (aiohttp does, for an idempotent PUT), the
re-send meets our own object, and a bucket layer that takes that conflict at face value
reports a false AlreadyExists / PreconditionFailed (or, above it, writes twice).

200 concurrent creates with every 10th answer lost: the conformance suite's 200-creates
case, run through the proxy in test_conformance_proxied.py.
"""

from __future__ import annotations

import pytest

import cloudstores
from cloudstores import IfMatch
from cloudstores.errors import BackendUnavailableError
from tests.faults.conftest import Proxied


async def _warm(bucket: cloudstores.Bucket) -> None:
    """One request first, so the faulty one goes over a pooled (reused) connection."""
    await bucket.put("warm", b"w")


async def test_lost_response_to_create_is_success_not_conflict(
    pbucket: cloudstores.Bucket, direct: cloudstores.Bucket, proxied: Proxied
) -> None:
    await _warm(pbucket)
    proxied.proxy.plan("drop_response", **proxied.writes("lost/a"))
    version = await pbucket.put("lost/a", b"body-a")  # not AlreadyExistsError
    assert proxied.proxy.fired("drop_response") == 1
    stored = await direct.get("lost/a")
    assert stored.data == b"body-a"
    assert stored.version == version
    assert [i.key async for i in direct.list("lost/")] == ["lost/a"]


async def test_lost_response_to_if_match_is_success_not_conflict(
    pbucket: cloudstores.Bucket, direct: cloudstores.Bucket, proxied: Proxied
) -> None:
    v1 = await pbucket.put("cas", b"1")
    proxied.proxy.plan("drop_response", **proxied.writes("cas"))
    v2 = await pbucket.put("cas", b"2", mode=IfMatch(v1))  # not PreconditionFailedError
    assert proxied.proxy.fired("drop_response") == 1
    stored = await direct.get("cas")
    assert stored.data == b"2"
    assert stored.version == v2


async def test_response_lost_twice_is_retried_not_a_plain_error(
    pbucket: cloudstores.Bucket, direct: cloudstores.Bucket, proxied: Proxied
) -> None:
    await _warm(pbucket)
    proxied.proxy.plan("drop_response", times=2, **proxied.writes("twice"))
    version = await pbucket.put("twice", b"body")  # S3 today: ConnectionClosedError
    assert proxied.proxy.fired("drop_response") == 2
    stored = await direct.get("twice")
    assert (stored.data, stored.version) == (b"body", version)


async def test_lost_response_without_retries_is_a_transient_error(
    direct: cloudstores.Bucket, proxied: Proxied
) -> None:
    once = cloudstores.RetryConfig(max_attempts=1)
    async with cloudstores.open_bucket(proxied.url, retry=once) as bucket:
        await _warm(bucket)
        # twice: an HTTP client that re-sends by itself loses that answer too
        proxied.proxy.plan("drop_response", times=2, **proxied.writes("gone"))
        with pytest.raises(BackendUnavailableError):  # transient and ambiguous
            await bucket.put("gone", b"landed")
    assert (await direct.get("gone")).data == b"landed"


async def test_status_bursts_on_get_and_list_are_retried(
    pbucket: cloudstores.Bucket, direct: cloudstores.Bucket, proxied: Proxied
) -> None:
    for i in range(3):
        await direct.put(f"burst/{i}", f"b{i}".encode())
    proxy = proxied.proxy
    proxy.plan("status", status=503, times=2, **proxied.reads("burst/1"))
    proxy.plan("status", status=429, times=2, **proxied.lists())
    assert (await pbucket.get("burst/1")).data == b"b1"
    assert pbucket.requests["get"] == 3
    assert [i.key async for i in pbucket.list("burst/")] == ["burst/0", "burst/1", "burst/2"]
    assert pbucket.requests["list"] == 3
    assert proxy.fired("status") == 4


async def test_reset_mid_body_on_get_and_list_is_retried(
    pbucket: cloudstores.Bucket, direct: cloudstores.Bucket, proxied: Proxied
) -> None:
    body = bytes(range(256)) * 64
    await direct.put("reset/obj", body)
    for i in range(5):
        await direct.put(f"reset/k{i}", b"x")
    proxy = proxied.proxy
    proxy.plan("reset_mid_body", **proxied.reads("reset/obj"))
    proxy.plan("reset_mid_body", **proxied.lists())
    assert (await pbucket.get("reset/obj")).data == body
    listed = [i.key async for i in pbucket.list("reset/")]
    assert listed == ["reset/k0", "reset/k1", "reset/k2", "reset/k3", "reset/k4", "reset/obj"]
    assert proxy.fired("reset_mid_body") == 2


async def test_answer_slower_than_the_timeout_is_reconciled(
    direct: cloudstores.Bucket, proxied: Proxied
) -> None:
    retry = cloudstores.RetryConfig(initial_backoff=0.001, max_backoff=0.01, request_timeout=1.0)
    async with cloudstores.open_bucket(proxied.url, retry=retry) as slow:
        await _warm(slow)
        proxied.proxy.plan("delay", seconds=2.0, **proxied.writes("slow"))
        version = await slow.put("slow", b"late")  # timed out, landed, retried: ours
        assert slow.requests["put"] >= 2
    assert proxied.proxy.fired("delay") == 1
    stored = await direct.get("slow")
    assert (stored.data, stored.version) == (b"late", version)
