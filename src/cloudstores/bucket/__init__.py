"""The bucket layer: one async interface, a driver per backend, opened by URL.

Drivers are imported lazily, so opening a ``file://`` bucket never imports a cloud
SDK, and an ``s3://`` bucket imports only aioboto3.
"""

from __future__ import annotations

import importlib
from typing import Any

from cloudstores.bucket.base import PUT_ID_KEY, Bucket, ListPage
from cloudstores.bucket.types import IfMatch, ObjectInfo, PutMode, StoredObject, Version
from cloudstores.bucket.url import BucketURL
from cloudstores.errors import ConfigurationError
from cloudstores.retry import RetryConfig

__all__ = [
    "PUT_ID_KEY",
    "Bucket",
    "BucketURL",
    "IfMatch",
    "ListPage",
    "ObjectInfo",
    "PutMode",
    "StoredObject",
    "Version",
    "open_bucket",
]

_DRIVERS = {
    "memory": "cloudstores.bucket.memory:MemoryBucket",
    "file": "cloudstores.bucket.file:FileBucket",
    "s3": "cloudstores.bucket.s3:S3Bucket",
    "az": "cloudstores.bucket.azure:AzureBucket",
    "azure": "cloudstores.bucket.azure:AzureBucket",
    "gs": "cloudstores.bucket.gcs:GCSBucket",
    "gcs": "cloudstores.bucket.gcs:GCSBucket",
}


def open_bucket(
    url: str,
    *,
    retry: RetryConfig | None = None,
    max_in_flight: int | None = None,
    **options: Any,
) -> Bucket:
    """Open a bucket by URL. Use the result as an async context manager.

    URLs::

        memory://name[/prefix]                      in-process, for tests
        file:///absolute/dir                         local directory
        s3://bucket[/prefix]?region=..&endpoint_url=..&profile=..
        az://container[/prefix]?connection_string=.. | account_url=..[&sas_token=..]
        gs://bucket[/prefix]?endpoint_url=..&project=..

    Args:
        retry: backoff policy for transient failures (defaults: 100 ms .. 15 s,
            10 attempts, 180 s).
        max_in_flight: at most this many requests at once through this bucket.
        **options: driver options, the same names as the URL's query options; these
            win over the URL (use them for secrets you do not want in a URL).
    """
    if not isinstance(url, str) or "://" not in url:
        raise ConfigurationError(f"not a bucket URL: {url!r}")
    parsed = BucketURL(url)
    target = _DRIVERS.get(parsed.scheme)
    if target is None:
        known = ", ".join(sorted(_DRIVERS))
        raise ConfigurationError(f"unknown bucket scheme {parsed.scheme!r}; known: {known}")
    module_name, class_name = target.split(":")
    module = importlib.import_module(module_name)
    driver: type[Bucket] = getattr(module, class_name)
    parsed.options.update({k: v for k, v in options.items() if v is not None})
    return driver.from_url(parsed, retry=retry, max_in_flight=max_in_flight)
