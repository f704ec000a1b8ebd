"""DIR (``dir-core`` 0.4.0, Python >= 3.12): all ten storage protocols over cloudstores.

::

    from cloudstores.adapters.dir_core import bucket_storage
    bundle = bucket_storage("s3://bkt/dir?region=eu-west-1", workspace="prod")

Install with ``pip install 'cloudstores[dir]'``. See ``docs/frameworks.md`` (DIR) for
where the semantics differ from DIR's memory and SQLite backends, and why.
"""

from cloudstores.adapters.dir_core.audit import (
    BucketDecisionAuditStorage,
    BucketDecisionLedgerStorage,
    BucketLifecycleStorage,
)
from cloudstores.adapters.dir_core.bundle import bucket_storage, storage_from_stores
from cloudstores.adapters.dir_core.documents import (
    BucketAgentRegistryStorage,
    BucketContextStorage,
    BucketIdempotencyStorage,
    BucketIntentRetryStorage,
    BucketSagaStorage,
)
from cloudstores.adapters.dir_core.escalation import BucketEscalationStorage
from cloudstores.adapters.dir_core.locks import BucketResourceLockStorage

__all__ = [
    "BucketAgentRegistryStorage",
    "BucketContextStorage",
    "BucketDecisionAuditStorage",
    "BucketDecisionLedgerStorage",
    "BucketEscalationStorage",
    "BucketIdempotencyStorage",
    "BucketIntentRetryStorage",
    "BucketLifecycleStorage",
    "BucketResourceLockStorage",
    "BucketSagaStorage",
    "bucket_storage",
    "storage_from_stores",
]
