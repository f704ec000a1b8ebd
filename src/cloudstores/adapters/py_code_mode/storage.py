"""``BucketStorage``: py-code-mode's storage backend (workflows and artifacts) on a bucket.

::

    from cloudstores.adapters.py_code_mode import BucketStorage

    storage = BucketStorage("s3://agents/pcm?region=eu-west-1", prefix="production",
                            workspace_id="client-a")
    session = Session(storage=storage, executor=executor)      # py-code-mode

``prefix`` isolates environments (it is the cloudstores workspace: ``[A-Za-z0-9._-]``,
default ``py_code_mode``); ``workspace_id`` scopes workflows and artifacts inside it.
Without ``workspace_id`` the storage uses the unscoped namespace: one namespace of its
own, not a view of every workspace (as py-code-mode's FileStorage and RedisStorage).
"""

from __future__ import annotations

from dataclasses import dataclass
from types import TracebackType
from typing import Any, Self

from cloudstores.errors import ConfigurationError, InvalidInputError
from cloudstores.keys import validate_workspace
from cloudstores.sync import SyncStores
from cloudstores.sync import open_stores as open_sync_stores

from ._common import Blocking, check_workspace_id, framework
from .artifacts import ARTIFACT_DATA, ArtifactFactory, BucketArtifactStore
from .workflows import BucketWorkflowStore, WorkflowFactory

__all__ = ["DEFAULT_PREFIX", "BucketStorage", "BucketStorageAccess"]

DEFAULT_PREFIX = "py_code_mode"


@dataclass(frozen=True)
class BucketStorageAccess:
    """What another process needs to open the same storage (picklable, JSON-able):
    ``BucketStorage.from_access(access)``. The URL is carried as given: keep secrets in
    the environment (e.g. ``AZURE_STORAGE_CONNECTION_STRING``), not in the URL."""

    url: str
    prefix: str
    workspace_id: str | None = None


class BucketStorage:
    """py-code-mode's ``FileStorage`` / ``RedisStorage`` counterpart on S3, Azure, GCS.

    ``BucketStorage(url, prefix=, workspace_id=)`` opens (and owns) blocking stores;
    ``BucketStorage(stores, workspace_id=)`` borrows a :class:`cloudstores.sync.SyncStores`
    (its workspace is the prefix). ``close()`` (or ``with``) closes owned stores.
    Other keyword arguments go to :func:`cloudstores.sync.open_stores`.
    """

    def __init__(
        self,
        url: str | SyncStores,
        *,
        prefix: str | None = None,
        workspace_id: str | None = None,
        workflow_factory: WorkflowFactory | None = None,
        artifact_factory: ArtifactFactory | None = None,
        **options: Any,
    ) -> None:
        self.workspace_id = check_workspace_id(workspace_id)
        if isinstance(url, str):
            self.prefix = validate_workspace(DEFAULT_PREFIX if prefix is None else prefix)
            self._url: str | None = url
            stores = open_sync_stores(url, workspace=self.prefix, **options)
            self._owns = True
        else:
            if options:
                raise InvalidInputError(f"options {sorted(options)} need a URL, not stores")
            Blocking(url)  # InvalidInputError unless a SyncStores
            if prefix is not None and prefix != url.workspace:
                raise InvalidInputError(
                    f"prefix {prefix!r} differs from the stores' workspace {url.workspace!r}"
                )
            self.prefix, self._url, stores, self._owns = url.workspace, None, url, False
        self.stores = stores
        self._blocking = Blocking(stores)
        self._workflows = BucketWorkflowStore(
            self._blocking, workspace_id=self.workspace_id, workflow_factory=workflow_factory
        )
        path = f"{stores.bucket.url}/ws/{self.prefix}/documents/{ARTIFACT_DATA}"
        self._artifacts = BucketArtifactStore(
            self._blocking,
            path=path,
            workspace_id=self.workspace_id,
            artifact_factory=artifact_factory,
        )
        self._library: Any = None

    @classmethod
    def from_url(cls, url: str, *, workspace: str | None = None, **options: Any) -> Self:
        """``BucketStorage(url, prefix=workspace, **options)``: the common adapter form."""
        return cls(url, prefix=workspace, **options)

    @classmethod
    def from_access(cls, access: BucketStorageAccess, **options: Any) -> Self:
        """Open the storage another process described with ``get_serializable_access``."""
        return cls(access.url, prefix=access.prefix, workspace_id=access.workspace_id, **options)

    # ------------------------------------------------------------------ py-code-mode surface
    @property
    def root(self) -> str:
        """Where everything lives: the bucket (without credentials) and the workspace."""
        return f"{self.stores.bucket.url}/ws/{self.prefix}"

    def get_workflow_store(self) -> BucketWorkflowStore:
        return self._workflows

    def get_artifact_store(self) -> BucketArtifactStore:
        return self._artifacts

    def get_vector_store(self) -> None:
        """No embedding cache in the bucket: py-code-mode computes embeddings itself."""
        return None

    def get_workflow_library(self) -> Any:
        """py-code-mode's ``WorkflowLibrary`` over this storage's workflows (needs
        py-code-mode installed: ConfigurationError otherwise)."""
        if self._library is None:
            create = framework("py_code_mode.workflows", "create_workflow_library")
            if create is None:
                raise ConfigurationError(
                    "get_workflow_library needs py-code-mode installed (its search and "
                    "embeddings live there); get_workflow_store() works without it"
                )
            self._library = create(store=self._workflows)
        return self._library

    def get_serializable_access(self) -> BucketStorageAccess:
        """How a subprocess or remote executor opens the same namespace."""
        if self._url is None:
            raise ConfigurationError(
                "this storage borrows stores opened elsewhere: its URL is unknown here; "
                "open it with BucketStorage(url, ...) to hand it to another process"
            )
        return BucketStorageAccess(self._url, self.prefix, self.workspace_id)

    def to_bootstrap_config(self) -> dict[str, str]:
        """The same as a plain dict (``type`` ``cloudstores``)."""
        access = self.get_serializable_access()
        config = {"type": "cloudstores", "url": access.url, "prefix": access.prefix}
        if access.workspace_id is not None:
            config["workspace_id"] = access.workspace_id
        return config

    # ------------------------------------------------------------------ lifecycle
    def close(self) -> None:
        """Flush pending index writes; close the stores if this storage opened them."""
        if self._owns:
            self.stores.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        scope = "unscoped" if self.workspace_id is None else repr(self.workspace_id)
        return f"<BucketStorage {self.root} {scope}>"
