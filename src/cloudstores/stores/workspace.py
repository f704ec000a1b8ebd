"""Stores and open_stores: the three stores of one workspace over one bucket."""


from __future__ import annotations

from typing import Any

from cloudstores._resource import AsyncResource
from cloudstores.bucket import Bucket, open_bucket
from cloudstores.keys import DEFAULT_WORKSPACE, validate_workspace
from cloudstores.retry import RetryConfig
from cloudstores.stores.artifacts import ArtifactOptions, ArtifactStore
from cloudstores.stores.audit import AuditOptions, AuditStore, Signer, Verifier
from cloudstores.stores.executions import ExecutionStore

__all__ = ["Stores", "open_stores"]


class Stores(AsyncResource):
    """The three stores of one workspace, sharing one bucket. An async context manager."""

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
        self.artifacts = ArtifactStore(bucket, workspace=workspace, options=artifact_options)
        self.executions = ExecutionStore(bucket, workspace=workspace)
        self.audit = AuditStore(bucket, workspace=workspace, signer=audit_signer,
                                verifier=audit_verifier, options=audit_options)

    async def open(self) -> None:
        """Open the bucket (``async with`` does it)."""
        await self.bucket.open()

    async def close(self) -> None:
        """Finish pending index and audit writes; close the bucket if ``open_stores`` opened it."""
        try:
            await self.audit.close()
            await self.artifacts.close()
            await self.executions.close()
        finally:
            if self._owns_bucket:
                await self.bucket.close()

    def __repr__(self) -> str:
        return f"<Stores workspace={self.workspace!r} bucket={self.bucket.url}>"


def open_stores(
    url: str | Bucket,
    *,
    workspace: str = DEFAULT_WORKSPACE,
    retry: RetryConfig | None = None,
    max_in_flight: int | None = None,
    artifact_options: ArtifactOptions | None = None,
    audit_signer: Signer | None = None,
    audit_verifier: Verifier | None = None,
    audit_options: AuditOptions | None = None,
    **bucket_options: Any,
) -> Stores:
    """Open the stores of ``workspace`` in the bucket at ``url`` (or an open ``Bucket``).

    ``workspace`` defaults to ``"default"``: one ordinary namespace, not a view of all.
    The workspace name is checked here, before any request. ``retry``,
    ``max_in_flight`` and ``bucket_options`` go to :func:`cloudstores.open_bucket` when
    ``url`` is a URL. Use the result with ``async with``.
    """
    validate_workspace(workspace)
    if isinstance(url, Bucket):
        bucket, owns = url, False
    else:
        bucket, owns = open_bucket(url, retry=retry, max_in_flight=max_in_flight,
                                   **bucket_options), True
    return Stores(bucket, workspace=workspace, owns_bucket=owns,
                  artifact_options=artifact_options, audit_signer=audit_signer,
                  audit_verifier=audit_verifier, audit_options=audit_options)
