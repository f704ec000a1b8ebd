"""cloudstores: immutable, workspace-scoped stores for AI-agent data in cloud buckets.

The public face::

    import cloudstores

    async with cloudstores.open_bucket("file:///tmp/demo") as bucket:
        version = await bucket.put("a/b.json", b"{}")                    # create-only
        await bucket.put("a/b.json", b"[]", mode=cloudstores.IfMatch(version))

Importing this package loads no cloud SDK: each driver imports its SDK when a bucket
of its scheme is opened.
"""

from __future__ import annotations

from cloudstores import errors
from cloudstores.bucket import (
    Bucket,
    IfMatch,
    ObjectInfo,
    PutMode,
    StoredObject,
    Version,
    open_bucket,
)
from cloudstores.retry import RetryConfig

__all__ = [
    "Bucket",
    "IfMatch",
    "ObjectInfo",
    "PutMode",
    "RetryConfig",
    "StoredObject",
    "Version",
    "errors",
    "open_bucket",
]

__version__ = "0.1.0"
