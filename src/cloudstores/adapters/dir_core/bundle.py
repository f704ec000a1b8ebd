"""``bucket_storage(url)``: DIR's ``StorageBundle`` with all ten storages on one bucket."""

from __future__ import annotations

import functools
from types import TracebackType
from typing import Any

from cloudstores import sync
from cloudstores.adapters.dir_core.audit import (
    BucketDecisionAuditStorage,
    BucketDecisionLedgerStorage,
    BucketLifecycleStorage,
)
from cloudstores.adapters.dir_core.documents import (
    BucketAgentRegistryStorage,
    BucketContextStorage,
    BucketIdempotencyStorage,
    BucketIntentRetryStorage,
    BucketSagaStorage,
)
from cloudstores.adapters.dir_core.escalation import BucketEscalationStorage
from cloudstores.adapters.dir_core.locks import BucketResourceLockStorage

__all__ = ["bucket_storage", "storage_from_stores"]


@functools.cache
def _bundle_class() -> type[Any]:
    """A ``StorageBundle`` that also closes the stores it opened (dir-core imported here,
    on first use: it is an extra, for Python >= 3.12)."""
    from dir_core.storage import StorageBundle

    class BucketStorageBundle(StorageBundle):  # type: ignore[misc]
        """DIR's ``StorageBundle`` over cloudstores; ``close()`` (or ``with``) flushes
        the audit streams and indexes and closes the stores if the bundle opened them."""

        stores: sync.SyncStores
        owns_stores: bool = False

        def close(self) -> None:
            if self.owns_stores:
                self.stores.close()

        def __enter__(self) -> BucketStorageBundle:
            return self

        def __exit__(
            self,
            exc_type: type[BaseException] | None,
            exc: BaseException | None,
            tb: TracebackType | None,
        ) -> None:
            self.close()

    return BucketStorageBundle


def storage_from_stores(stores: sync.SyncStores) -> Any:
    """A ``StorageBundle`` over borrowed stores (``cloudstores.sync.open_stores(...)``):
    closing the bundle leaves them open. No request is made here."""
    bundle = _bundle_class()(
        agent_registry=BucketAgentRegistryStorage(stores),
        context=BucketContextStorage(stores),
        idempotency=BucketIdempotencyStorage(stores),
        decision_audit=BucketDecisionAuditStorage(stores),
        decision_ledger=BucketDecisionLedgerStorage(stores),
        saga=BucketSagaStorage(stores),
        resource_lock=BucketResourceLockStorage(stores),
        intent_retry=BucketIntentRetryStorage(stores),
        escalation=BucketEscalationStorage(stores),
        lifecycle=BucketLifecycleStorage(stores),
    )
    bundle.stores = stores
    return bundle


def bucket_storage(url: str, *, workspace: str | None = None, **options: Any) -> Any:
    """DIR's ``StorageBundle`` with every storage in the bucket at ``url``, the way
    ``sqlite_storage(path)`` puts them in one file::

        from cloudstores.adapters.dir_core import bucket_storage
        runtime = DecisionRuntime(bucket_storage("s3://bkt/dir?region=eu-west-1", workspace="prod"))

    ``options`` go to :func:`cloudstores.sync.open_stores` (``retry``, ``audit_signer``...).
    The bundle owns the stores: ``bundle.close()`` (or ``with``) flushes and closes them
    (they are also closed at interpreter exit). The URL and workspace are checked here;
    no request is made until the first storage call.
    """
    stores = sync.open_stores(url, workspace=workspace, **options)
    try:
        bundle = storage_from_stores(stores)
    except BaseException:
        stores.close()
        raise
    bundle.owns_stores = True
    return bundle
