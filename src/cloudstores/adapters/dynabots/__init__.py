"""DynaBots backends: the four protocols of ``dynabots_core.protocols.storage`` on the stores.

::

    from cloudstores.adapters.dynabots import BucketReputationStore
    arena = Arena(agents, judge, reputation_store=BucketReputationStore.from_url(url))

Each class takes a borrowed :class:`~cloudstores.stores.workspace.Stores`, or opens and
owns its own with ``from_url(url, *, workspace=None, **options)``. Every method is async
and validates its arguments before the first request; errors come from
:mod:`cloudstores.errors`. The classes satisfy the runtime-checkable protocols
structurally, so this package imports nothing from DynaBots (``cloudstores[dynabots]``
installs it for the framework's own use).
"""

from __future__ import annotations

from cloudstores.adapters.dynabots.audit import BucketAuditStore
from cloudstores.adapters.dynabots.cache import BucketCacheStore
from cloudstores.adapters.dynabots.execution import BucketExecutionStore
from cloudstores.adapters.dynabots.reputation import BucketReputationStore

__all__ = [
    "BucketAuditStore",
    "BucketCacheStore",
    "BucketExecutionStore",
    "BucketReputationStore",
]
