"""Records the artifact and execution stores keep (pydantic v2, frozen).

The fields cover what agent frameworks commonly store: artifacts with lineage, run
summaries and step records; creator, task and type filters; workflow dicts with a user,
a status, a start time and free-form ``data``. Anything else goes into ``metadata`` /
``data``. (Which framework field maps to which is the adapters' business.)
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from cloudstores.errors import InvalidIdError, InvalidInputError
from cloudstores.keys import validate_id

__all__ = [
    "Artifact",
    "ExecutionRecord",
    "Lineage",
    "ReindexReport",
    "MAX_FIELD_CHARS",
    "RunSummary",
    "SkippedObject",
    "WorkflowSnapshot",
    "as_utc",
]

MAX_FIELD_CHARS = 512
"""Longest text of a field the manifest index copies (``type``, ``status``, ``task_id``,
``created_by``, ``user_id``, ``workflow_name``): an index entry stays small whatever a
caller passes. A longer value is refused with InvalidInputError before any request;
free-form text belongs in ``content``, ``metadata`` or ``data``."""

Text = Annotated[str, Field(max_length=MAX_FIELD_CHARS)]
"""A short (indexed) text field."""


def utcnow() -> datetime:
    return datetime.now(UTC)


def _as_utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def as_utc(value: datetime | None) -> datetime | None:
    """``value`` as an aware UTC datetime (a naive one is taken to be UTC); None stays."""
    return None if value is None else _as_utc(value)


class _Record(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    def __init__(self, **data: Any) -> None:
        # Bad fields raise our typed errors, not pydantic's: InvalidIdError for an id,
        # InvalidInputError for anything else. Nothing has been sent at this point.
        try:
            super().__init__(**data)
        except ValidationError as exc:
            raise _typed(exc, type(self).__name__) from exc


def _typed(exc: ValidationError, model: str) -> InvalidInputError:
    for error in exc.errors():
        cause = (error.get("ctx") or {}).get("error")
        if isinstance(cause, InvalidIdError):
            return InvalidIdError(f"{model}.{'.'.join(map(str, error['loc']))}: {cause}")
    return InvalidInputError(f"invalid {model}: {exc}")


class Lineage(_Record):
    """Where an artifact came from: the step that produced it and its parent artifacts."""

    produced_by: Text | None = None
    derived_from: tuple[str, ...] = ()

    @field_validator("derived_from")
    @classmethod
    def _ids(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for parent in value:
            validate_id(parent, what="derived_from artifact id")
        return value


class Artifact(_Record):
    """One immutable artifact: an input or output of a step, with its lineage.

    ``content`` is a JSON value or ``bytes`` (the store refuses, before any request,
    a value JSON would give back as another type, such as a ``datetime``: see
    ``stores/content.py``). Storing the same ``id`` again with identical fields
    (``created_at`` aside) is an idempotent success; with anything else different it
    raises AlreadyExistsError.
    """

    id: str
    run_id: str
    type: Text = "json"
    content: Any = None
    status: Text = "complete"
    lineage: Lineage = Field(default_factory=Lineage)
    metadata: dict[str, Any] = Field(default_factory=dict)
    created_at: datetime = Field(default_factory=utcnow)
    created_by: Text | None = None
    task_id: Text | None = None

    @field_validator("id", "run_id")
    @classmethod
    def _valid_id(cls, value: str) -> str:
        return validate_id(value)

    @field_validator("created_at")
    @classmethod
    def _utc(cls, value: datetime) -> datetime:
        return _as_utc(value)

    @property
    def parents(self) -> tuple[str, ...]:
        return self.lineage.derived_from


class RunSummary(_Record):
    """One version of a run's summary. ``update_run`` stores a new version; none is lost.

    ``version`` is assigned by the store (0 for the first); ``data`` holds a framework's
    free-form workflow dict.
    """

    run_id: str
    workflow_name: Text = ""
    status: Text = "running"
    started_at: datetime = Field(default_factory=utcnow)
    completed_at: datetime | None = None
    total_nodes: int = 0
    completed_nodes: int = 0
    failed_nodes: int = 0
    skipped_nodes: int = 0
    forked_from: str | None = None
    forked_at_step: str | None = None
    workflow_hash: str | None = None
    total_cost: float = 0.0
    user_id: Text | None = None
    data: dict[str, Any] = Field(default_factory=dict)
    version: int = Field(default=0, ge=0)
    updated_at: datetime = Field(default_factory=utcnow)

    @field_validator("run_id")
    @classmethod
    def _valid_id(cls, value: str) -> str:
        return validate_id(value, what="run_id")

    @field_validator("started_at", "updated_at")
    @classmethod
    def _utc(cls, value: datetime) -> datetime:
        return _as_utc(value)


class ExecutionRecord(_Record):
    """What one step (task) of a run did."""

    id: str
    run_id: str
    task_id: Text
    agent_id: Text | None = None
    status: Text = "completed"
    input_artifact_refs: tuple[str, ...] = ()
    output_artifact_refs: tuple[str, ...] = ()
    prompt: str | None = None
    model: str | None = None
    tool_calls: list[Any] = Field(default_factory=list)
    latency_ms: float | None = None
    cost: float = 0.0
    error: str | None = None
    trace_id: str | None = None
    details: dict[str, Any] = Field(default_factory=dict)
    timestamp: datetime = Field(default_factory=utcnow)

    @field_validator("id", "run_id")
    @classmethod
    def _valid_id(cls, value: str) -> str:
        return validate_id(value)

    @field_validator("timestamp")
    @classmethod
    def _utc(cls, value: datetime) -> datetime:
        return _as_utc(value)


class WorkflowSnapshot(_Record):
    """A workflow definition stored once per distinct normalized content."""

    hash: str
    content: str
    version: int
    created_at: datetime = Field(default_factory=utcnow)


class SkippedObject(_Record):
    """An object ``reindex`` (or a list) left out, and why: a stray key that is not a
    record of the store, or a data object that is unreadable or disagrees with its key."""

    key: str
    reason: str


class ReindexReport(_Record):
    """What ``reindex`` found: objects scanned, the index keys it added, and the objects
    it skipped (stray or damaged; each is reported, none stops the scan)."""

    store: str
    scanned: int
    added: tuple[str, ...] = ()
    skipped: tuple[SkippedObject, ...] = ()
