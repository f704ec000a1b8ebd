"""An in-memory reference of SynthOrg's SQLite repositories (the seed's
``SQLiteAuditRepository`` and ``SQLiteArtifactRepository``), for the differential test.

Faithful to the SQL: ``INSERT`` with the id as primary key (DuplicateRecordError),
``WHERE col = ? AND ...``, ``timestamp >= ? / <= ?`` on UTC-normalised times, ``ORDER BY
timestamp DESC LIMIT ?``; artifacts ``INSERT ... ON CONFLICT(id)`` then ``UPDATE``,
``ORDER BY id``, ``DELETE`` returning whether a row went. SQLite leaves the order of
equal timestamps unspecified; this reference puts the later save first (what ours does).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from tests.adapters.synthorg.stubs import (
    ApprovalRiskLevel,
    Artifact,
    ArtifactType,
    AuditEntry,
    DuplicateRecordError,
    QueryError,
)


class ReferenceAuditRepository:
    def __init__(self) -> None:
        self.rows: list[AuditEntry] = []  # insertion order (rowid)

    async def save(self, entry: AuditEntry) -> None:
        if any(row.id == entry.id for row in self.rows):
            raise DuplicateRecordError(f"audit entry {entry.id!r} exists")
        # the SQLite backend stores format_iso_utc(normalize_utc(timestamp)): read back in UTC
        self.rows.append(entry.model_copy(update={"timestamp": entry.timestamp.astimezone(UTC)}))

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
    ) -> tuple[AuditEntry, ...]:
        if limit < 1:
            raise QueryError(f"limit must be >= 1, got {limit}")
        for bound in (since, until):
            if bound is not None and bound.tzinfo is None:
                raise QueryError("naive datetime")
        if since is not None and until is not None and until < since:
            raise QueryError("until must not be earlier than since")

        def keep(row: AuditEntry) -> bool:
            utc = row.timestamp.astimezone(UTC)
            return (
                (agent_id is None or row.agent_id == agent_id)
                and (action_type is None or row.action_type == action_type)
                and (verdict is None or row.verdict == verdict)
                and (risk_level is None or row.risk_level == risk_level)
                and (since is None or utc >= since.astimezone(UTC))
                and (until is None or utc <= until.astimezone(UTC))
            )

        chosen = [row for row in reversed(self.rows) if keep(row)]  # later save first on ties
        chosen.sort(key=lambda row: row.timestamp.astimezone(UTC), reverse=True)  # stable
        return tuple(chosen[:limit])


class ReferenceArtifactRepository:
    def __init__(self) -> None:
        self.rows: dict[str, Artifact] = {}

    async def save(self, artifact: Artifact) -> None:
        when = artifact.created_at  # stored as created_at.astimezone(UTC).isoformat()
        utc = None if when is None else when.astimezone(UTC)
        self.rows[artifact.id] = artifact.model_copy(update={"created_at": utc})

    async def get(self, artifact_id: str) -> Artifact | None:
        return self.rows.get(artifact_id)

    async def list_artifacts(
        self,
        *,
        task_id: str | None = None,
        created_by: str | None = None,
        artifact_type: ArtifactType | None = None,
    ) -> tuple[Artifact, ...]:
        return tuple(
            row
            for _, row in sorted(self.rows.items())
            if (task_id is None or row.task_id == task_id)
            and (created_by is None or row.created_by == created_by)
            and (artifact_type is None or row.type == artifact_type)
        )

    async def delete(self, artifact_id: str) -> bool:
        return self.rows.pop(artifact_id, None) is not None


def normalize(value: Any) -> Any:
    """Results as JSON, for comparison."""
    if isinstance(value, tuple):
        return [normalize(v) for v in value]
    if hasattr(value, "model_dump"):
        return value.model_dump(mode="json")
    return value
