"""SynthOrg persistence on a bucket: ``AuditRepository`` and ``ArtifactRepository``.

::

    from cloudstores.adapters.synthorg import BucketArtifactRepository, BucketAuditRepository

    audit = BucketAuditRepository.from_url("s3://bucket/synthorg?region=..", workspace="acme")
    await audit.save(entry)                      # DuplicateRecordError on a repeated id
    newest = await audit.query(agent_id="a-7", limit=20)

    async with cloudstores.open_stores(url, workspace="acme") as stores:   # or borrow stores
        artifacts = BucketArtifactRepository(stores)

SynthOrg is not on PyPI: nothing here imports it unless it is installed (its models
and error classes are then used by default). See docs/frameworks.md for every place
where these differ from SynthOrg's SQLite backend.
"""

from .artifacts import ARTIFACT_FIELDS, BucketArtifactRepository
from .audit import AUDIT_FIELDS, BucketAuditRepository
from .errors import (
    DuplicateRecordError,
    ErrorMap,
    PersistenceConnectionError,
    PersistenceError,
    QueryError,
    RecordNotFoundError,
)

__all__ = [
    "ARTIFACT_FIELDS",
    "AUDIT_FIELDS",
    "BucketArtifactRepository",
    "BucketAuditRepository",
    "DuplicateRecordError",
    "ErrorMap",
    "PersistenceConnectionError",
    "PersistenceError",
    "QueryError",
    "RecordNotFoundError",
]
