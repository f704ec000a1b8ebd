"""Fixtures of the network fault tests: each cloud emulator behind a fault proxy.

``TARGETS`` is the one list the tests are parametrized over: a target names the
emulator it runs against, the shape of its requests on the wire (so a test can say
"the write of this key" without knowing the cloud's wire format) and the extra URL
options that pick the client. Adding an engine is one line, e.g.
``Target("s3-obstore", "s3", "s3", {"engine": "obstore"})``.

One bucket per emulator serves the whole session; each test gets a fresh key prefix
in it (creating a bucket per test costs a boto3 client each time on moto).
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import pytest

import cloudstores
from tests.conftest import EmulatorPool
from tests.emulators.proxy import FaultProxy


@dataclass(frozen=True)
class Target:
    """One client stack against one emulator, reached through a fault proxy."""

    id: str  # test id, e.g. "s3" or "s3-obstore"
    cloud: str  # emulator: "s3", "azure", "gcs"
    api: str  # request shapes on the wire: "s3", "azure", "gcs-json"
    options: dict[str, str] = field(default_factory=dict)  # extra URL options


TARGETS = [
    Target("s3", "s3", "s3"),
    Target("azure", "azure", "azure"),
    Target("gcs", "gcs", "gcs-json"),
    Target("s3-obstore", "s3", "s3", {"engine": "obstore"}),
    Target("azure-obstore", "azure", "azure", {"engine": "obstore"}),
    # No gcs-obstore: obstore uploads through the XML API, which fake-gcs-server refuses
    # (see docs/bucket.md, "Engines"); tests/bucket/test_obstore_engine.py pins that gap.
]

FAST_RETRY = cloudstores.RetryConfig(initial_backoff=0.001, max_backoff=0.01, seed=7)
BASE_PREFIX = "pre"  # the key prefix of every emulator bucket URL (tests/emulators/*.py)


@dataclass
class Proxied:
    """A fresh key prefix reached through a proxy: ``url`` goes through it, ``direct_url``
    straight to the emulator. ``writes``/``reads``/``lists`` give ``proxy.plan`` filters."""

    target: Target
    proxy: FaultProxy
    url: str
    direct_url: str
    prefix: str  # the full key prefix of this test's keys, e.g. "pre/t-1a2b3c4d"

    def writes(self, key_part: str = "") -> dict[str, Any]:
        """Filters matching the write of keys starting ``key_part`` (relative keys)."""
        full = f"{self.prefix}/{key_part}"
        if self.target.api == "gcs-json":  # one multipart upload: the name is in its JSON
            return {
                "method": "POST",
                "path_contains": "uploadType=multipart",
                "body_contains": f'"{full}'.encode(),
            }
        return {"method": "PUT", "path_contains": f"/{full}"}

    def reads(self, key_part: str = "") -> dict[str, Any]:
        """Filters matching the GET of the body of keys starting ``key_part``."""
        full = f"/{self.prefix}/{key_part}"
        if self.target.api == "gcs-json":
            return {"method": "GET", "path_contains": (full, "alt=media")}
        return {"method": "GET", "path_contains": full}

    def lists(self) -> dict[str, Any]:
        """Filters matching a LIST page request under this test's prefix."""
        marker = {"s3": "list-type=2", "azure": "comp=list", "gcs-json": "/o?"}[self.target.api]
        return {"method": "GET", "path_contains": (marker, f"prefix={self.prefix}/")}


class ProxyPool:
    """Per emulator: one fault proxy and one bucket, made on first use; stopped at the end."""

    def __init__(self, emulators: EmulatorPool) -> None:
        self.emulators = emulators
        self.proxies: dict[str, FaultProxy] = {}
        self.buckets: dict[str, str] = {}

    def proxy(self, cloud: str) -> FaultProxy:
        if cloud not in self.proxies:
            endpoint = self.emulators.get(cloud).endpoint
            self.proxies[cloud] = FaultProxy(endpoint, name=cloud).start()
        return self.proxies[cloud]

    def bucket_url(self, cloud: str) -> str:
        if cloud not in self.buckets:
            self.buckets[cloud] = self.emulators.new_bucket_url(cloud)
        return self.buckets[cloud]

    def stop(self) -> None:
        for proxy in self.proxies.values():
            proxy.stop()
        self.proxies.clear()
        self.buckets.clear()


def proxied_url(url: str, emulator_endpoint: str, proxy_endpoint: str) -> str:
    """``url`` with the emulator's endpoint (plain or URL-quoted) replaced by the proxy's."""
    out = url.replace(quote(emulator_endpoint, safe=""), quote(proxy_endpoint, safe=""))
    out = out.replace(emulator_endpoint, proxy_endpoint)
    if out == url:
        raise AssertionError(f"emulator endpoint {emulator_endpoint} not found in {url}")
    return out


def with_sub_prefix(url: str, sub: str) -> str:
    """``scheme://bucket/pre?query`` -> ``scheme://bucket/pre/<sub>?query``."""
    base, sep, query = url.partition("?")
    if not base.endswith(f"/{BASE_PREFIX}"):
        raise AssertionError(f"expected a URL with prefix {BASE_PREFIX!r}: {base}")
    return f"{base}/{sub}{sep}{query}"


@pytest.fixture(scope="session")
def proxies(emulators: EmulatorPool) -> Iterator[ProxyPool]:
    pool = ProxyPool(emulators)
    yield pool
    pool.stop()


@pytest.fixture(params=TARGETS, ids=[t.id for t in TARGETS])
def target(request: pytest.FixtureRequest) -> Target:
    value: Target = request.param
    return value


@pytest.fixture
def proxied(target: Target, proxies: ProxyPool, emulators: EmulatorPool) -> Iterator[Proxied]:
    """A fresh prefix on ``target``'s emulator behind its proxy; faults reset around it."""
    proxy = proxies.proxy(target.cloud)
    proxy.reset()
    sub = f"t-{uuid.uuid4().hex[:8]}"
    direct = with_sub_prefix(proxies.bucket_url(target.cloud), sub)
    direct += "".join(f"&{k}={quote(v, safe='')}" for k, v in target.options.items())
    url = proxied_url(direct, emulators.get(target.cloud).endpoint, proxy.endpoint)
    yield Proxied(
        target=target, proxy=proxy, url=url, direct_url=direct, prefix=f"{BASE_PREFIX}/{sub}"
    )
    proxy.reset()


@pytest.fixture
async def pbucket(proxied: Proxied) -> AsyncIterator[cloudstores.Bucket]:
    """A bucket through the proxy, with fast retries."""
    async with cloudstores.open_bucket(proxied.url, retry=FAST_RETRY) as opened:
        yield opened


@pytest.fixture
async def direct(proxied: Proxied) -> AsyncIterator[cloudstores.Bucket]:
    """The same prefix, straight to the emulator (to check what was really stored)."""
    async with cloudstores.open_bucket(proxied.direct_url) as opened:
        yield opened
