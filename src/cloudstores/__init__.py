"""cloudstores: immutable, workspace-scoped stores for AI-agent data in cloud buckets.

The public face::

    import cloudstores

    async with cloudstores.open_stores("s3://bucket/prefix?region=eu-west-1",
                                       workspace="client-a") as stores:
        await stores.artifacts.store(cloudstores.Artifact(id="a1", run_id="r1", content={}))
        await stores.audit.append("security", {"event": "login", "user": "u1"})

    async with cloudstores.open_bucket("file:///tmp/demo") as bucket:
        version = await bucket.put("a/b.json", b"{}")                    # create-only
        await bucket.put("a/b.json", b"[]", mode=cloudstores.IfMatch(version))

    with cloudstores.sync.open_stores("file:///tmp/demo") as stores:   # blocking twin
        stores.audit.append("security", {"event": "login", "user": "u1"})

Importing this package loads no cloud SDK: each driver imports its SDK when a bucket
of its scheme is opened. The store layer (pydantic models, signing) loads on first use
of one of its names.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

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
from cloudstores.keys import DEFAULT_WORKSPACE
from cloudstores.retry import RetryConfig

if TYPE_CHECKING:
    from cloudstores import ids, sync
    from cloudstores.models import (
        Artifact,
        ExecutionRecord,
        Lineage,
        ReindexReport,
        RunSummary,
        WorkflowSnapshot,
    )
    from cloudstores.stores.artifacts import ArtifactOptions, ArtifactStore
    from cloudstores.stores.audit import (
        AuditEntry,
        AuditOptions,
        AuditStore,
        Checkpoint,
        Ed25519Signer,
        Ed25519Verifier,
        Signer,
        Verifier,
        VerifyReport,
    )
    from cloudstores.stores.documents import CREATE_ONLY, Document, DocumentPage, DocumentStore
    from cloudstores.stores.executions import ExecutionStore
    from cloudstores.stores.records import Record, RecordCollection, RecordOptions, RecordPage
    from cloudstores.stores.workspace import Stores, open_stores

_LAZY = {
    "cloudstores.models": [
        "Artifact",
        "ExecutionRecord",
        "Lineage",
        "ReindexReport",
        "RunSummary",
        "WorkflowSnapshot",
    ],
    "cloudstores.stores.artifacts": ["ArtifactOptions", "ArtifactStore"],
    "cloudstores.stores.executions": ["ExecutionStore"],
    "cloudstores.stores.records": ["Record", "RecordCollection", "RecordOptions", "RecordPage"],
    "cloudstores.stores.documents": ["CREATE_ONLY", "Document", "DocumentPage", "DocumentStore"],
    "cloudstores.stores.audit": [
        "AuditEntry",
        "AuditOptions",
        "AuditStore",
        "Checkpoint",
        "Ed25519Signer",
        "Ed25519Verifier",
        "Signer",
        "Verifier",
        "VerifyReport",
    ],
    "cloudstores.stores.workspace": ["Stores", "open_stores"],
}
_WHERE = {name: module for module, names in _LAZY.items() for name in names}
_SUBMODULES = {"sync": "cloudstores.sync", "ids": "cloudstores.ids"}

__all__ = [
    "CREATE_ONLY",
    "DEFAULT_WORKSPACE",
    "Artifact",
    "ArtifactOptions",
    "ArtifactStore",
    "AuditEntry",
    "AuditOptions",
    "AuditStore",
    "Bucket",
    "Checkpoint",
    "Document",
    "DocumentPage",
    "DocumentStore",
    "Ed25519Signer",
    "Ed25519Verifier",
    "ExecutionRecord",
    "ExecutionStore",
    "IfMatch",
    "Lineage",
    "ObjectInfo",
    "PutMode",
    "Record",
    "RecordCollection",
    "RecordOptions",
    "RecordPage",
    "ReindexReport",
    "RetryConfig",
    "RunSummary",
    "Signer",
    "StoredObject",
    "Stores",
    "Verifier",
    "VerifyReport",
    "Version",
    "WorkflowSnapshot",
    "errors",
    "ids",
    "open_bucket",
    "open_stores",
    "sync",
]

__version__ = "0.1.0"


def __getattr__(name: str) -> Any:
    if name in _SUBMODULES:  # cloudstores.sync / cloudstores.ids without importing them
        return importlib.import_module(_SUBMODULES[name])
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module 'cloudstores' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value
