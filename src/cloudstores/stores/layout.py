"""The key layout: where every store keeps its objects, in one place.

Every key the stores write lies under ``ws/{workspace}/{area}/``, where ``area`` is one
of :data:`AREAS`. Every store builds its keys through :class:`WorkspaceLayout`, and
what provisions buckets (the Terraform modules' create-only bucket policy, the
checkov policies, the docs' layout table) is checked against :data:`AREAS` by
``tests/stores/test_layout.py``, so the lists cannot drift apart.

Each area is named as a whole: what a store keeps inside it (the index's segments,
manifests and chunks; an audit stream's entries, checkpoints, tiles and markers) is
that store's business (``stores/index/layout.py``, ``stores/audit/layout.py``). A new
key kind inside an area changes nothing here; a new area must be added here, and the
tests then ask for it in Terraform and the docs.

Every area is **create-only**: an object is never overwritten or deleted by the stores
(an update is a new numbered version, a delete a tombstone version). No area holds
mutable pointers (the index finds its newest manifest by listing, not through a
pointer object), so :data:`MUTABLE_AREAS` is empty; a bucket policy may demand
``If-None-Match`` on every area.
"""

from __future__ import annotations

from dataclasses import dataclass

from cloudstores.errors import InvalidInputError
from cloudstores.keys import validate_id, workspace_prefix

__all__ = [
    "AREAS",
    "CREATE_ONLY_AREAS",
    "MUTABLE_AREAS",
    "WORKSPACES",
    "Area",
    "WorkspaceLayout",
    "area_of",
    "layout_table",
]

WORKSPACES = "ws/"
"""The prefix all workspaces lie under: ``ws/{workspace}/``."""


@dataclass(frozen=True, slots=True)
class Area:
    """One top-level prefix of a workspace."""

    name: str
    """The key segment after ``ws/{workspace}/``."""
    keys: tuple[str, ...]
    """The key patterns inside it, relative to ``ws/{workspace}/`` (for the docs)."""
    writer: str
    """The store that writes it."""
    create_only: bool = True
    """Written only with create-only puts, never overwritten or deleted by the stores."""


AREAS: tuple[Area, ...] = (
    Area("artifacts", ("artifacts/{artifact_id}.json",), "ArtifactStore"),
    Area(
        "blobs",
        ("blobs/{sha256}.json",),
        "ArtifactStore, DocumentStore (large contents, stored once by hash)",
    ),
    Area(
        "runs",
        ("runs/{run_id}/v/{version:010d}.json", "runs/{run_id}/steps/{record_id}.json"),
        "ExecutionStore",
    ),
    Area(
        "workflows",
        ("workflows/{sha256}.json",),
        "ExecutionStore (workflow snapshots, stored once by hash)",
    ),
    Area(
        "audit",
        ("audit/{stream}/...", "audit/~streams/{stream}"),
        "AuditStore (entries, checkpoints, tiles, key markers, query index)",
    ),
    Area(
        "records",
        ("records/{collection}/{encode_id(id)}.json",),
        "RecordCollection (`Stores.records`)",
    ),
    Area(
        "documents",
        ("documents/{collection}/{encode_id(id)}/{version:020d}.json",),
        "DocumentStore (`Stores.documents`)",
    ),
    Area(
        "_index",
        ("_index/{store}/...", "_index/{store}/{collection}/..."),
        "every indexed store (segments, manifests, chunks: docs/index-format.md)",
    ),
)
CREATE_ONLY_AREAS: tuple[str, ...] = tuple(a.name for a in AREAS if a.create_only)
MUTABLE_AREAS: tuple[str, ...] = tuple(a.name for a in AREAS if not a.create_only)
_NAMES = frozenset(a.name for a in AREAS)


class WorkspaceLayout:
    """The keys and prefixes of one workspace (validated on construction; no I/O)."""

    __slots__ = ("root", "workspace")

    def __init__(self, workspace: str) -> None:
        self.root = workspace_prefix(workspace)
        self.workspace = workspace

    def area(self, name: str) -> str:
        """``ws/{workspace}/{name}/``; InvalidInputError for a name not in :data:`AREAS`."""
        if name not in _NAMES:
            raise InvalidInputError(f"{name!r} is not an area of the key layout ({__name__})")
        return f"{self.root}{name}/"

    # ------------------------------------------------------------------ artifacts, blobs
    def artifact(self, artifact_id: str) -> str:
        return f"{self.area('artifacts')}{validate_id(artifact_id, what='artifact id')}.json"

    def blob(self, digest: str) -> str:
        return f"{self.area('blobs')}{digest}.json"

    # ------------------------------------------------------------------ runs, workflows
    def run_versions(self, run_id: str) -> str:
        return f"{self.area('runs')}{validate_id(run_id, what='run_id')}/v/"

    def run_step(self, run_id: str, record_id: str) -> str:
        return (
            f"{self.area('runs')}{validate_id(run_id, what='run_id')}/steps/"
            f"{validate_id(record_id, what='record id')}.json"
        )

    def workflow(self, digest: str) -> str:
        return f"{self.area('workflows')}{digest}.json"

    # ------------------------------------------------------------------ collections
    def records(self, collection: str) -> str:
        return f"{self.area('records')}{collection}/"

    def documents(self, collection: str) -> str:
        return f"{self.area('documents')}{collection}/"

    # ------------------------------------------------------------------ indexes
    def index(self, store: str, collection: str | None = None) -> str:
        """The prefix of one store's index (without its trailing '/', as Index takes it)."""
        tail = store if collection is None else f"{store}/{collection}"
        return f"{self.area('_index')}{tail}"


def area_of(key: str) -> tuple[str, Area] | None:
    """``(workspace, area)`` of a key the stores may write, or None for any other key."""
    if not key.startswith(WORKSPACES):
        return None
    parts = key[len(WORKSPACES) :].split("/", 2)
    if len(parts) < 3 or not parts[0]:
        return None
    for area in AREAS:
        if area.name == parts[1]:
            return parts[0], area
    return None


def layout_table() -> str:
    """The Markdown table of :data:`AREAS` that docs/concepts.md carries verbatim."""
    lines = [
        "| prefix under `ws/{workspace}/` | keys | written by | writes |",
        "|---|---|---|---|",
    ]
    for a in AREAS:
        keys = "<br>".join(f"`{k}`" for k in a.keys)
        mode = "create-only" if a.create_only else "mutable"
        lines.append(f"| `{a.name}/` | {keys} | {a.writer} | {mode} |")
    return "\n".join(lines) + "\n"
