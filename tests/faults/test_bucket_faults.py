"""The bucket layer under network faults below the SDK, on every cloud (issue 8).

A response lost after the server stored the write is the case that matters: the HTTP
client may re-send the request by itself (aiohttp does, for an idempotent PUT), the
re-send meets our own object, and a bucket layer that takes that conflict at face value
reports a false AlreadyExists / PreconditionFailed (or, above it, writes twice).
"""

from __future__ import annotations

import asyncio

import cloudstores
from cloudstores import IfMatch
from tests.faults.conftest import Proxied


async def _warm(bucket: cloudstores.Bucket) -> None:
    """One request first, so the faulty one goes over a pooled (reused) connection."""
    await bucket.put("warm", b"w")


async def test_lost_response_to_create_is_success_not_conflict(
    pbucket: cloudstores.Bucket, direct: cloudstores.Bucket, proxied: Proxied
) -> None:
    await _warm(pbucket)
    proxied.proxy.plan("drop_response", **proxied.target.writes("lost/a"))
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
    proxied.proxy.plan("drop_response", **proxied.target.writes("cas"))
    v2 = await pbucket.put("cas", b"2", mode=IfMatch(v1))  # not PreconditionFailedError
    assert proxied.proxy.fired("drop_response") == 1
    stored = await direct.get("cas")
    assert stored.data == b"2"
    assert stored.version == v2


async def test_response_lost_twice_is_retried_not_a_plain_error(
    pbucket: cloudstores.Bucket, direct: cloudstores.Bucket, proxied: Proxied
) -> None:
    await _warm(pbucket)
    proxied.proxy.plan("drop_response", times=2, **proxied.target.writes("twice"))
    version = await pbucket.put("twice", b"body")  # S3 today: ConnectionClosedError
    assert proxied.proxy.fired("drop_response") == 2
    stored = await direct.get("twice")
    assert (stored.data, stored.version) == (b"body", version)


async def test_200_creates_with_every_tenth_response_lost(
    pbucket: cloudstores.Bucket, direct: cloudstores.Bucket, proxied: Proxied
) -> None:
    proxied.proxy.plan("drop_response", nth=3, every=10, **proxied.target.writes("many/"))
    sem = asyncio.Semaphore(16)

    async def put(i: int) -> None:
        async with sem:
            await pbucket.put(f"many/{i:03d}", f"body-{i}".encode())

    results = await asyncio.gather(*(put(i) for i in range(200)), return_exceptions=True)
    failures = [r for r in results if isinstance(r, BaseException)]
    assert failures == []  # every create acknowledged, none a false conflict
    assert proxied.proxy.fired("drop_response") >= 18
    listed = [i.key async for i in direct.list("many/")]
    assert listed == [f"many/{i:03d}" for i in range(200)]
    for i in (0, 2, 12, 99, 199):
        assert (await direct.get(f"many/{i:03d}")).data == f"body-{i}".encode()


async def test_status_bursts_on_get_and_list_are_retried(
    pbucket: cloudstores.Bucket, direct: cloudstores.Bucket, proxied: Proxied
) -> None:
    for i in range(3):
        await direct.put(f"burst/{i}", f"b{i}".encode())
    proxy, target = proxied.proxy, proxied.target
    proxy.plan("status", status=503, times=2, **target.reads("burst/1"))
    proxy.plan("status", status=429, times=2, **target.lists())
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
    proxy, target = proxied.proxy, proxied.target
    proxy.plan("reset_mid_body", **target.reads("reset/obj"))
    proxy.plan("reset_mid_body", **target.lists())
    assert (await pbucket.get("reset/obj")).data == body
    listed = [i.key async for i in pbucket.list("reset/")]
    assert listed == ["reset/k0", "reset/k1", "reset/k2", "reset/k3", "reset/k4", "reset/obj"]
    assert proxy.fired("reset_mid_body") == 2
