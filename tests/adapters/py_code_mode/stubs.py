"""py-code-mode's storage surface, written from ../shared/seeds/py-code-mode-storage.txt
and its FileStorage / RedisStorage (py-code-mode is not on PyPI): the two store
protocols, a workflow and an artifact with the fields those stores read and write."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol, runtime_checkable


@dataclass
class WorkflowParameter:
    name: str
    type: str
    description: str
    required: bool = True
    default: Any = None


@dataclass
class WorkflowMetadata:
    created_at: datetime
    created_by: str
    source: str


@dataclass
class PythonWorkflow:
    """The fields of py-code-mode's PythonWorkflow (its code runner is not needed here)."""

    name: str
    description: str
    parameters: list[WorkflowParameter]
    source: str
    metadata: WorkflowMetadata | None = None

    @classmethod
    def from_data(cls, data: dict[str, Any]) -> PythonWorkflow:
        """What a ``workflow_factory`` gets: the stored JSON."""
        if not data["name"].isidentifier():
            raise ValueError(f"Invalid workflow name: {data['name']!r}")
        return cls(
            name=data["name"],
            description=data["description"],
            parameters=[WorkflowParameter(**p) for p in data.get("parameters") or []],
            source=data["source"],
            metadata=WorkflowMetadata(
                created_at=datetime.now(UTC),
                created_by=data.get("created_by") or "unknown",
                source="bucket",
            ),
        )


@dataclass
class Artifact:
    name: str
    path: str
    description: str
    metadata: dict[str, Any] = field(default_factory=dict)
    created_at: datetime = field(default_factory=lambda: datetime.now(UTC))


@runtime_checkable
class WorkflowStore(Protocol):
    def save(self, workflow: PythonWorkflow) -> None: ...

    def load(self, name: str) -> PythonWorkflow | None: ...

    def delete(self, name: str) -> bool: ...

    def list_all(self) -> list[PythonWorkflow]: ...

    def exists(self, name: str) -> bool: ...


@runtime_checkable
class ArtifactStoreProtocol(Protocol):
    @property
    def path(self) -> str: ...

    def save(
        self,
        name: str,
        data: str | bytes | dict[str, Any] | list[Any],
        description: str = "",
        metadata: dict[str, Any] | None = None,
    ) -> Artifact: ...

    def load(self, name: str) -> Any: ...

    def get(self, name: str) -> Artifact | None: ...

    def list(self) -> list[Artifact]: ...

    def exists(self, name: str) -> bool: ...

    def delete(self, name: str) -> None: ...


def workflow(name: str, body: str = "return 1", description: str = "") -> PythonWorkflow:
    return PythonWorkflow(
        name=name,
        description=description,
        parameters=[WorkflowParameter("text", "string", "", True, None)],
        source=f"async def run(text: str) -> object:\n    {body}\n",
        metadata=WorkflowMetadata(datetime(2026, 1, 1, tzinfo=UTC), "agent", "runtime"),
    )
