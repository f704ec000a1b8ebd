"""``BucketWorkflowStore``: py-code-mode's ``WorkflowStore`` on a document collection.

One document per workflow in the collection ``pcm-workflows`` of the storage's
workspace (its ``prefix``): ``{"name", "description", "source", "parameters",
"created_by", "created_at", "scope"}``, where ``scope`` is the ``workspace_id`` (null in
the unscoped namespace) and is in the collection's index, so ``list_all`` of one
namespace reads that namespace's entries, never the others'. ``save`` overwrites (a new
version), ``delete`` writes a tombstone version. Every process and machine that opens the
same URL, prefix and workspace_id sees the same workflows: one agent learns, all benefit.
"""

from __future__ import annotations

import dataclasses
import logging
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from cloudstores.errors import InvalidInputError
from cloudstores.stores.workspace import Stores

from ._common import Blocking, framework, read_error, scoped_id

__all__ = ["WORKFLOWS", "BucketWorkflowStore", "StoredWorkflow"]

WORKFLOWS = "pcm-workflows"
_NAME = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_]*$")
_log = logging.getLogger(__name__)


@dataclass
class StoredWorkflow:
    """A workflow as stored, when py-code-mode is not installed (its ``PythonWorkflow``
    is built instead when it is, or by the ``workflow_factory`` given)."""

    name: str
    description: str
    source: str
    parameters: list[dict[str, Any]] = field(default_factory=list)
    metadata: dict[str, Any] = field(default_factory=dict)


WorkflowFactory = Callable[[dict[str, Any]], Any]


def default_factory() -> WorkflowFactory:
    """py-code-mode's ``PythonWorkflow.from_source`` if installed, else StoredWorkflow."""
    workflow = framework("py_code_mode.workflows", "PythonWorkflow")
    meta = framework("py_code_mode.workflows", "WorkflowMetadata")
    if workflow is None or meta is None:
        return lambda data: StoredWorkflow(
            name=data["name"],
            description=data["description"],
            source=data["source"],
            parameters=list(data.get("parameters") or []),
            metadata={"created_at": data.get("created_at"), "created_by": data.get("created_by")},
        )

    def build(data: dict[str, Any]) -> Any:
        created = data.get("created_at")
        return workflow.from_source(
            name=data["name"],
            source=data["source"],
            description=data["description"],
            metadata=meta(
                created_at=datetime.fromisoformat(created) if created else datetime.now(UTC),
                created_by=data.get("created_by") or "unknown",
                source="bucket",
            ),
        )

    return build


def check_name(name: object) -> str:
    """A workflow name is a Python identifier (as py-code-mode's FileWorkflowStore
    requires); InvalidInputError (a ValueError) otherwise, before any request."""
    if not isinstance(name, str) or not _NAME.match(name):
        raise InvalidInputError(
            f"Invalid workflow name: {name!r}. Workflow names must be valid Python "
            "identifiers (letters, digits, underscores, cannot start with digit)."
        )
    return name


def _parameter(p: Any) -> Any:
    if dataclasses.is_dataclass(p) and not isinstance(p, type):
        return dataclasses.asdict(p)
    return dict(p) if isinstance(p, Mapping) else p


def _when(value: object) -> str | None:
    """A creation time as ISO text (a datetime, or text that parses as one), else None."""
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, str):
        try:
            return datetime.fromisoformat(value).isoformat()
        except ValueError:
            return None
    return None


def serialize(workflow: Any, scope: str | None) -> dict[str, Any]:
    """A workflow (py-code-mode's ``PythonWorkflow`` or alike) as the stored JSON."""
    name = check_name(getattr(workflow, "name", None))
    source = getattr(workflow, "source", None)
    if not isinstance(source, str):
        raise InvalidInputError("workflow.source must be a str")
    description = getattr(workflow, "description", "") or ""
    meta = getattr(workflow, "metadata", None)
    if isinstance(meta, Mapping):
        created_at, created_by = meta.get("created_at"), meta.get("created_by")
    else:
        created_at = getattr(meta, "created_at", None)
        created_by = getattr(meta, "created_by", None)
    return {
        "name": name,
        "description": str(description),
        "source": source,
        "parameters": [_parameter(p) for p in getattr(workflow, "parameters", None) or []],
        "created_by": created_by if isinstance(created_by, str) else None,
        "created_at": _when(created_at),
        "scope": scope,
    }


class BucketWorkflowStore:
    """py-code-mode's ``WorkflowStore`` (save, load, delete, list_all, exists) on a bucket.

    Blocking, like py-code-mode's file and Redis stores. Costs: ``save`` and ``delete``
    1 PUT (+1 LIST and 1 GET when this process has not seen the workflow) plus the index
    entry; ``load``/``exists`` 1 LIST (+1 GET unless cached); ``list_all`` the index
    query (warm: 1 GET) and one GET per workflow of the namespace.
    """

    def __init__(
        self,
        blocking: Blocking,
        *,
        workspace_id: str | None = None,
        workflow_factory: WorkflowFactory | None = None,
    ) -> None:
        self._blocking = blocking
        self.workspace_id = workspace_id
        self._build = workflow_factory or default_factory()

    def _id(self, name: str) -> str:
        return scoped_id(self.workspace_id, name)

    def _docs(self, stores: Stores) -> Any:
        return self._blocking.docs(stores, WORKFLOWS)

    def _workflow(self, data: Any, name: str) -> Any:
        try:
            return self._build(data)
        except (KeyError, TypeError, ValueError, SyntaxError) as exc:
            raise read_error(f"Failed to load workflow {name!r}: {exc}") from exc

    def save(self, workflow: Any) -> None:
        """Store the workflow under its name (replacing one of that name)."""
        data = serialize(workflow, self.workspace_id)
        self._blocking.run(lambda s: self._docs(s).put(self._id(data["name"]), data))

    def save_batch(self, workflows: list[Any]) -> None:
        """Store several workflows (concurrently; each its own write)."""
        batch = [serialize(w, self.workspace_id) for w in workflows]

        async def work(stores: Stores) -> None:
            import asyncio

            docs = self._docs(stores)
            await asyncio.gather(*(docs.put(self._id(d["name"]), d) for d in batch))

        if batch:
            self._blocking.run(work)

    def load(self, name: str) -> Any | None:
        """The workflow, or None. StorageReadError if it is stored but unusable."""
        check_name(name)
        found = self._blocking.run(lambda s: self._docs(s).get_or_none(self._id(name)))
        return None if found is None else self._workflow(found.value, name)

    def delete(self, name: str) -> bool:
        """True if it existed (it is hidden by a tombstone version)."""
        check_name(name)
        return bool(self._blocking.run(lambda s: self._docs(s).delete(self._id(name))))

    def exists(self, name: str) -> bool:
        check_name(name)
        return self._blocking.run(lambda s: self._docs(s).get_or_none(self._id(name))) is not None

    def _values(self) -> list[Any]:
        async def work(stores: Stores) -> list[Any]:
            found = await self._docs(stores).query_all(where={"scope": self.workspace_id})
            return [d.value for d in found]

        values = self._blocking.run(work)
        return sorted(values, key=lambda v: str(v.get("name")) if isinstance(v, dict) else "")

    def list_all(self) -> list[Any]:
        """Every workflow of this namespace, by name; unusable ones are logged and skipped
        (as py-code-mode's stores do)."""
        workflows = []
        for value in self._values():
            try:
                workflows.append(self._workflow(value, str(value.get("name"))))
            except Exception as exc:  # py-code-mode's stores skip what they cannot load
                _log.warning("skipping stored workflow %r: %s", value.get("name"), exc)
        return workflows

    def __len__(self) -> int:
        """How many workflows this namespace holds (the index alone)."""
        return int(
            self._blocking.run(lambda s: self._docs(s).count(where={"scope": self.workspace_id}))
        )
