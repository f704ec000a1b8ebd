"""SynthOrg's persistence surface, written from ../shared/seeds/synthorg-persistence.txt
(SynthOrg is not on PyPI): the two repository protocols, the error hierarchy, and the
two models with the fields the seed's repositories read and write."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any, Literal, Protocol, runtime_checkable

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field


# ---------------------------------------------------------------- errors (persistence/errors.py)
class PersistenceError(Exception):
    """Base exception for all persistence operations."""


class PersistenceConnectionError(PersistenceError):
    """Raised when a backend connection cannot be established or is lost."""


class MigrationError(PersistenceError):
    """Raised when a database migration fails."""


class RecordNotFoundError(PersistenceError):
    """Raised when a requested record does not exist."""


class DuplicateRecordError(PersistenceError):
    """Raised when inserting a record that already exists."""


class QueryError(PersistenceError):
    """Raised when a query fails due to invalid parameters or backend issues."""


class VersionConflictError(QueryError):
    """Raised when an optimistic concurrency version check fails."""


# ---------------------------------------------------------------- models
class ApprovalRiskLevel(StrEnum):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    CRITICAL = "critical"


class ArtifactType(StrEnum):
    CODE = "code"
    TESTS = "tests"
    DOCUMENTATION = "documentation"


AuditVerdictStr = Literal["allow", "deny", "escalate", "output_scan"]


class AuditEntry(BaseModel):
    """Immutable record of a security evaluation for the audit log."""

    model_config = ConfigDict(frozen=True, allow_inf_nan=False, extra="forbid")

    id: str = Field(min_length=1)
    timestamp: AwareDatetime
    agent_id: str | None = None
    task_id: str | None = None
    tool_name: str
    tool_category: str
    action_type: str
    arguments_hash: str = Field(pattern=r"^[0-9a-f]{64}$")
    verdict: AuditVerdictStr
    risk_level: ApprovalRiskLevel
    reason: str
    matched_rules: tuple[str, ...] = ()
    evaluation_duration_ms: float = Field(ge=0.0)
    approval_id: str | None = None


class Artifact(BaseModel):
    """A concrete artifact produced by an agent during task execution."""

    model_config = ConfigDict(frozen=True, allow_inf_nan=False, extra="forbid")

    id: str = Field(min_length=1)
    type: ArtifactType
    path: str
    task_id: str
    created_by: str
    description: str = ""
    project_id: str | None = None
    content_type: str = ""
    size_bytes: int = Field(default=0, ge=0)
    created_at: AwareDatetime | None = None


# ---------------------------------------------------------------- protocols (repositories.py)
@runtime_checkable
class AuditRepository(Protocol):
    """Append-only persistence + query interface for AuditEntry."""

    async def save(self, entry: AuditEntry) -> None: ...

    async def query(
        self,
        *,
        agent_id: str | None = None,
        action_type: str | None = None,
        verdict: str | None = None,
        risk_level: ApprovalRiskLevel | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        limit: int = 100,
    ) -> tuple[AuditEntry, ...]: ...


@runtime_checkable
class ArtifactRepository(Protocol):
    """CRUD + query interface for Artifact persistence."""

    async def save(self, artifact: Artifact) -> None: ...

    async def get(self, artifact_id: str) -> Artifact | None: ...

    async def list_artifacts(
        self,
        *,
        task_id: str | None = None,
        created_by: str | None = None,
        artifact_type: ArtifactType | None = None,
    ) -> tuple[Artifact, ...]: ...

    async def delete(self, artifact_id: str) -> bool: ...


class Errors:
    """What ``errors=`` takes: SynthOrg's classes by name (a module works the same)."""

    PersistenceError = PersistenceError
    PersistenceConnectionError = PersistenceConnectionError
    DuplicateRecordError = DuplicateRecordError
    QueryError = QueryError
    RecordNotFoundError = RecordNotFoundError


def entry_json(entry: AuditEntry) -> dict[str, Any]:
    return entry.model_dump(mode="json")
