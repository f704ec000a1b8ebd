"""Stores and open_stores: the stores of one workspace over one bucket."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable, Hashable
from typing import Any, TypeVar, cast

from cloudstores._resource import AsyncResource
from cloudstores.bucket import Bucket, open_bucket
from cloudstores.errors import ConfigurationError, InvalidInputError
from cloudstores.keys import DEFAULT_WORKSPACE, validate_workspace
from cloudstores.retry import RetryConfig
from cloudstores.stores.artifacts import ArtifactOptions, ArtifactStore
from cloudstores.stores.audit import AuditOptions, AuditStore, Signer, Verifier
from cloudstores.stores.document_format import FieldSpec, declare_fields
from cloudstores.stores.documents import DocumentStore, validate_collection
from cloudstores.stores.executions import ExecutionStore
from cloudstores.stores.index import Field
from cloudstores.stores.records import RecordCollection, RecordOptions

__all__ = ["Stores", "open_stores"]

R = TypeVar("R", bound=AsyncResource)


class Stores(AsyncResource):
    """The three stores of one workspace, sharing one bucket. An async context manager.

    Works across event loops: opened once at module level, it may serve one
    ``asyncio.run(handler())`` after another. Store objects hold loop-bound state
    (group-commit futures, writer tasks, locks), so ``stores.artifacts``,
    ``stores.executions`` and ``stores.audit`` are rebuilt the first time they are
    reached from a new loop (only caches are lost; anything awaited has landed). Reach
    them through ``stores`` inside each handler rather than keeping them across loops.
    """

    def __init__(
        self,
        bucket: Bucket,
        *,
        workspace: str = DEFAULT_WORKSPACE,
        owns_bucket: bool = False,
        artifact_options: ArtifactOptions | None = None,
        audit_signer: Signer | None = None,
        audit_verifier: Verifier | None = None,
        audit_options: AuditOptions | None = None,
    ) -> None:
        self.workspace = validate_workspace(workspace)
        self.bucket = bucket
        self._owns_bucket = owns_bucket
        self._artifact_options = artifact_options
        self._audit_signer = audit_signer
        self._audit_verifier = audit_verifier
        self._audit_options = audit_options
        self._children: dict[Hashable, AsyncResource] = {}
        self._document_fields: dict[str, tuple[Field, ...]] = {}
        # Built now, so bad options fail here rather than on first use.
        self._child("artifacts", self._new_artifacts)
        self._child("executions", self._new_executions)
        self._child("audit", self._new_audit)

    # ------------------------------------------------------------------ the stores
    @property
    def artifacts(self) -> ArtifactStore:
        return self._child("artifacts", self._new_artifacts)

    @property
    def executions(self) -> ExecutionStore:
        return self._child("executions", self._new_executions)

    @property
    def audit(self) -> AuditStore:
        return self._child("audit", self._new_audit)

    def documents(self, collection: str, *, fields: FieldSpec = None) -> DocumentStore:
        """The documents of ``collection`` (see :class:`DocumentStore`), built on first use.

        ``fields`` declares the indexed fields the first time; later calls may leave it
        out, and passing other fields for the same collection is InvalidInputError (an
        index has one schema). No request is made here.
        """
        validate_collection(collection)
        declared = declare_fields(fields)
        known = self._document_fields.get(collection)
        if known is not None and fields is not None and declared != known:
            raise InvalidInputError(
                f"documents({collection!r}) was opened with fields "
                f"{[f.name for f in known]}, not {[f.name for f in declared]}: "
                "a collection's index has one set of fields"
            )
        if known is None:
            known = self._document_fields[collection] = declared
        return self._child(
            ("documents", collection),
            lambda: DocumentStore(self.bucket, collection, fields=known, workspace=self.workspace),
        )

    def _new_artifacts(self) -> ArtifactStore:
        return ArtifactStore(self.bucket, workspace=self.workspace, options=self._artifact_options)

    def _new_executions(self) -> ExecutionStore:
        return ExecutionStore(self.bucket, workspace=self.workspace)

    def _new_audit(self) -> AuditStore:
        return AuditStore(
            self.bucket,
            workspace=self.workspace,
            signer=self._audit_signer,
            verifier=self._audit_verifier,
            options=self._audit_options,
        )

    def _child(self, key: Hashable, build: Callable[[], R]) -> R:
        """The store named ``key`` for the running event loop, built on first use.

        New stores (``documents(collection)``...) get their objects here too, so they
        follow the loop like the three above.
        """
        self._follow_loop()
        child = self._children.get(key)
        if child is None:
            child = self._children[key] = build()
        return cast(R, child)

    def _follow_loop(self) -> None:
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            return  # reached outside any loop: keep what there is
        self._enter_loop()

    def _rebind_loop(self) -> None:
        """A new event loop: the old loop's store objects are dropped (rebuilt on use)."""
        self._children = {}

    # ------------------------------------------------------------------ record collections
    def records(
        self,
        collection: str,
        *,
        fields: object = (),
        partition: str | None = None,
        options: RecordOptions | None = None,
    ) -> RecordCollection:
        """The append-only record collection ``collection`` (see ``stores/records.py``).

        Built on first use (no request); asking again returns the same object, and
        asking with other ``fields``, ``partition`` or ``options`` raises
        InvalidInputError (one collection, one declaration).
        """
        collection = RecordCollection.check_name(collection)
        built = self._child(
            ("records", collection),
            lambda: RecordCollection(
                self.bucket,
                collection,
                workspace=self.workspace,
                fields=fields,
                partition=partition,
                options=options,
            ),
        )
        built.require_declaration(fields, partition, options)
        return built

    # ------------------------------------------------------------------ lifecycle
    async def open(self) -> None:
        """Open the bucket (``async with`` does it)."""
        self._enter_loop()
        await self.bucket.open()

    async def close(self) -> None:
        """Finish pending index and audit writes; close the bucket if ``open_stores`` opened it."""
        self._enter_loop()
        children = list(self._children.values())
        audit = [c for c in children if isinstance(c, AuditStore)]
        try:
            # Audit first (its seals may index nothing, but must land before the bucket
            # closes), then everything else.
            for child in audit + [c for c in children if not isinstance(c, AuditStore)]:
                await child.close()
        finally:
            if self._owns_bucket:
                await self.bucket.close()

    def __repr__(self) -> str:
        return f"<Stores workspace={self.workspace!r} bucket={self.bucket.url}>"


def open_stores(
    url: str | Bucket | None = None,
    *,
    workspace: str | None = None,
    retry: RetryConfig | None = None,
    max_in_flight: int | None = None,
    artifact_options: ArtifactOptions | None = None,
    audit_signer: Signer | None = None,
    audit_verifier: Verifier | None = None,
    audit_options: AuditOptions | None = None,
    **bucket_options: Any,
) -> Stores:
    """Open the stores of ``workspace`` in the bucket at ``url`` (or an open ``Bucket``).

    Without ``url``, the ``CLOUDSTORES_URL`` environment variable gives it; without
    ``workspace``, ``CLOUDSTORES_WORKSPACE``, else ``"default"``: one ordinary namespace,
    not a view of all. The workspace name is checked here, before any request. ``retry``,
    ``max_in_flight`` and ``bucket_options`` go to :func:`cloudstores.open_bucket` when
    ``url`` is a URL. Use the result with ``async with``.
    """
    url = url if url is not None else os.environ.get("CLOUDSTORES_URL") or None
    if url is None:
        raise ConfigurationError("open_stores() needs a URL, or CLOUDSTORES_URL set")
    if workspace is None:
        workspace = os.environ.get("CLOUDSTORES_WORKSPACE") or DEFAULT_WORKSPACE
    validate_workspace(workspace)
    if isinstance(url, Bucket):
        bucket, owns = url, False
    else:
        bucket, owns = (
            open_bucket(url, retry=retry, max_in_flight=max_in_flight, **bucket_options),
            True,
        )
    return Stores(
        bucket,
        workspace=workspace,
        owns_bucket=owns,
        artifact_options=artifact_options,
        audit_signer=audit_signer,
        audit_verifier=audit_verifier,
        audit_options=audit_options,
    )
