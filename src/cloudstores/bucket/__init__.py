"""The bucket layer: one concrete ``Bucket`` over a ``Driver`` per backend, opened by URL.

Drivers are imported lazily, so opening a ``file://`` bucket never imports a cloud
SDK, and an ``s3://`` bucket imports only aioboto3 (or only obstore, with
``engine=obstore``).
"""

from __future__ import annotations

import importlib
from typing import Any

from cloudstores.bucket.base import PUT_ID_KEY, Bucket
from cloudstores.bucket.driver import Driver, ListPage
from cloudstores.bucket.errors import Request, error_for_status
from cloudstores.bucket.types import IfMatch, ObjectInfo, PutMode, StoredObject, Version
from cloudstores.bucket.url import BucketURL
from cloudstores.errors import ConfigurationError
from cloudstores.retry import RetryConfig

__all__ = [
    "ENGINES",
    "PUT_ID_KEY",
    "Bucket",
    "BucketURL",
    "Driver",
    "IfMatch",
    "ListPage",
    "ObjectInfo",
    "PutMode",
    "Request",
    "StoredObject",
    "Version",
    "error_for_status",
    "open_bucket",
]

_SDK_DRIVERS = {
    "memory": "cloudstores.bucket.memory:MemoryDriver",
    "file": "cloudstores.bucket.file:FileDriver",
    "s3": "cloudstores.bucket.s3:S3Driver",
    "az": "cloudstores.bucket.azure:AzureDriver",
    "azure": "cloudstores.bucket.azure:AzureDriver",
    "abfs": "cloudstores.bucket.azure:AzureDriver",  # aliases of az:// (the container is
    "abfss": "cloudstores.bucket.azure:AzureDriver",  # the name; no container@account form)
    "gs": "cloudstores.bucket.gcs:GCSDriver",
    "gcs": "cloudstores.bucket.gcs:GCSDriver",
}
_OBSTORE = "cloudstores.bucket.obstore:ObstoreDriver"
ENGINES = ("sdk", "obstore")
"""``sdk`` (default): the clouds' own Python SDKs. ``obstore``: one driver over obstore
(Apache Arrow's Rust ``object_store``) for s3://, az:// and gs:// (``cloudstores[fast]``)."""


def open_bucket(
    url: str,
    *,
    retry: RetryConfig | None = None,
    max_in_flight: int | None = None,
    engine: str | None = None,
    **options: Any,
) -> Bucket:
    """Open a bucket by URL. Use the result as an async context manager.

    URLs::

        memory://name[/prefix]                      in-process, for tests
        file:///absolute/dir                         local directory
        s3://bucket[/prefix]?region=..&endpoint_url=..&profile=..
        az://container[/prefix]?connection_string=.. | account_url=..[&sas_token=..]
                                                     (also azure://, abfs://, abfss://)
        gs://bucket[/prefix]?endpoint_url=..&project=..

    Args:
        retry: backoff policy for transient failures (defaults: 100 ms .. 15 s,
            10 attempts, 180 s).
        max_in_flight: at most this many requests at once through this bucket.
        engine: ``"sdk"`` (default) or ``"obstore"`` (s3, az and gs only; needs
            ``cloudstores[fast]``). Also a URL option, ``?engine=obstore``.
        **options: driver options, the same names as the URL's query options; these
            win over the URL (use them for secrets you do not want in a URL).
    """
    parsed = BucketURL(url)
    url_engine = parsed.options.pop("engine", None)
    chosen = engine if engine is not None else (url_engine or "sdk")
    if chosen not in ENGINES:
        raise ConfigurationError(
            f"unknown engine {chosen!r} for {parsed.redacted}; known: {', '.join(ENGINES)}"
        )
    target = _SDK_DRIVERS.get(parsed.scheme)
    if not parsed.scheme:
        raise ConfigurationError(f"not a bucket URL (no scheme): {parsed.redacted}")
    if target is None:
        known = ", ".join(sorted(_SDK_DRIVERS))
        raise ConfigurationError(f"unknown bucket scheme {parsed.scheme!r}; known: {known}")
    if chosen == "obstore":
        if parsed.scheme in ("memory", "file"):
            raise ConfigurationError(
                f"engine=obstore serves s3://, az:// and gs://, not {parsed.scheme}://"
            )
        target = _OBSTORE
    factory = _driver_class(target)
    driver = factory.from_url(parsed, **options)
    prefix = "" if parsed.scheme == "file" else parsed.prefix  # file: the path is the root
    return Bucket(driver, prefix=prefix, retry=retry, max_in_flight=max_in_flight)


def _driver_class(target: str) -> Any:
    module_name, class_name = target.split(":")
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if module_name.endswith(".obstore") or exc.name == "obstore":
            raise ConfigurationError(
                "engine=obstore needs the obstore engine: pip install 'cloudstores[fast]'"
            ) from None
        raise
    driver_class = getattr(module, class_name, None)
    if driver_class is None:
        raise ConfigurationError(f"{module_name} has no driver {class_name}")
    return driver_class
