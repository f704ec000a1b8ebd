"""ExecutionStore: runs as immutable numbered versions, step records, workflow snapshots.

Keys under ``ws/{workspace}/``::

    runs/{run_id}/v/{version:010d}.json     one RunSummary version, create-only
    runs/{run_id}/steps/{record_id}.json    one ExecutionRecord, create-only
    workflows/{sha256}.json                 a workflow snapshot, shared by hash
    _index/runs/...                         the manifest index (see stores/index.py)

Concurrent updates of one run never lose a write: each ``update_run`` takes the next
free version number with a create-only put, and a writer that loses the race for a
number moves on to the next one. So every acknowledged update is in ``run_history`` and
the latest version is the last to land. Pass ``expected_version=`` to get optimistic
concurrency instead: the update then raises PreconditionFailedError if another version
landed after the one you read.
"""

from __future__ import annotations

import builtins
import contextlib
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, TypeVar

from pydantic import BaseModel

from cloudstores import codec
from cloudstores._resource import AsyncResource
from cloudstores.bucket.base import Bucket
from cloudstores.errors import (
    AlreadyExistsError,
    IntegrityError,
    InvalidInputError,
    NotFoundError,
    PreconditionFailedError,
)
from cloudstores.keys import DEFAULT_WORKSPACE, validate_id, workspace_prefix
from cloudstores.models import (
    ExecutionRecord,
    ReindexReport,
    RunSummary,
    WorkflowSnapshot,
    as_utc,
)
from cloudstores.stores.index import Field, Index, IndexEntry, Schema
from cloudstores.stores.objects import (
    Progress,
    expect_dict,
    gather_limited,
    get_json,
    get_json_or_none,
    probe_forward,
    put_json,
)

__all__ = ["ExecutionStore"]

M = TypeVar("M", bound=BaseModel)
MAX_RECORD_BYTES = 4 * 1024 * 1024


class ExecutionStore(AsyncResource):
    """Runs, step records and workflow snapshots of one workspace.

    It does not own (open or close) the bucket.
    """

    def __init__(self, bucket: Bucket, *, workspace: str = DEFAULT_WORKSPACE,
                 max_record_bytes: int = MAX_RECORD_BYTES, fetch_concurrency: int = 32) -> None:
        self.bucket = bucket
        self.workspace = workspace
        self.max_record_bytes = max_record_bytes
        self.fetch_concurrency = fetch_concurrency
        self._root = workspace_prefix(workspace)
        self.index = Index(bucket, f"{self._root}_index/runs", RUN_FIELDS, legacy=_legacy_entry)
        self._known_version: dict[str, int] = {}

    # ------------------------------------------------------------------ keys
    def _run_key(self, run_id: str, version: int) -> str:
        return f"{self._root}runs/{validate_id(run_id, what='run_id')}/v/{version:010d}.json"

    def _step_key(self, run_id: str, record_id: str) -> str:
        return (f"{self._root}runs/{validate_id(run_id, what='run_id')}/steps/"
                f"{validate_id(record_id, what='record id')}.json")

    def _workflow_key(self, digest: str) -> str:
        return f"{self._root}workflows/{digest}.json"

    def _encode(self, model: BaseModel, what: str) -> bytes:
        return codec.check_size(codec.dumps(model.model_dump()),
                                self.max_record_bytes, what=what)

    # ------------------------------------------------------------------ runs
    async def create_run(self, summary: RunSummary) -> RunSummary:
        """Store version 0 of a new run. AlreadyExistsError if the run exists."""
        _expect(summary, RunSummary)
        first = summary.model_copy(update={"version": 0})
        body = self._encode(first, f"run {summary.run_id!r}")
        key = self._run_key(summary.run_id, 0)
        try:
            await put_json(self.bucket, key, body)
        except AlreadyExistsError:
            raise AlreadyExistsError(
                f"run {summary.run_id!r} already exists in workspace {self.workspace!r}",
                bucket=self.bucket.name, key=key) from None
        self._known_version[summary.run_id] = 0
        await self.index.add([_run_entry(self.index, first)])
        return first

    async def update_run(self, summary: RunSummary, *,
                         expected_version: int | None = None) -> RunSummary:
        """Store ``summary`` as the run's next version and return it with that number.

        NotFoundError if the run does not exist (nothing is written). With
        ``expected_version``, PreconditionFailedError if the latest version is another.
        """
        _expect(summary, RunSummary)
        self._encode(summary, f"run {summary.run_id!r}")  # validate before any request
        latest = await self._latest_version(summary.run_id)
        while True:
            if expected_version is not None and latest != expected_version:
                raise PreconditionFailedError(
                    f"run {summary.run_id!r} is at version {latest}, not {expected_version}",
                    bucket=self.bucket.name, key=self._run_key(summary.run_id, latest))
            version = latest + 1
            stored = summary.model_copy(update={"version": version,
                                                "updated_at": datetime.now(UTC)})
            try:
                await put_json(self.bucket, self._run_key(summary.run_id, version),
                               self._encode(stored, f"run {summary.run_id!r}"))
            except AlreadyExistsError:
                latest = await self._latest_version(summary.run_id, at_least=version)
                continue
            self._known_version[summary.run_id] = max(
                version, self._known_version.get(summary.run_id, 0))
            await self.index.add([_run_entry(self.index, stored)])
            return stored

    async def get_run(self, run_id: str) -> RunSummary:
        """The latest version of the run. NotFoundError if it does not exist."""
        versions = await self._probe_versions(run_id, await self._start_version(run_id))
        if not versions:
            raise self._no_run(run_id)
        return versions[-1]

    async def get_run_or_none(self, run_id: str) -> RunSummary | None:
        try:
            return await self.get_run(run_id)
        except NotFoundError:
            return None

    async def run_history(self, run_id: str) -> builtins.list[RunSummary]:
        """Every version of the run, oldest first. NotFoundError if it does not exist."""
        versions = await self._probe_versions(run_id, 0)
        if not versions:
            raise self._no_run(run_id)
        return versions

    async def list_runs(
        self,
        *,
        status: str | None = None,
        user_id: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        limit: int | None = None,
        offset: int = 0,
    ) -> builtins.list[RunSummary]:
        """Runs whose latest indexed version matches, newest ``started_at`` first."""
        if offset < 0 or (limit is not None and limit < 0):
            raise InvalidInputError("limit and offset must be >= 0")
        lo, hi = as_utc(since), as_utc(until)
        where: dict[str, object] = {"kind": "run"}
        where.update({name: value for name, value in (("status", status), ("user_id", user_id))
                      if value is not None})
        started = {op: at for op, at in (("gte", lo), ("lt", hi)) if at is not None}
        if started:
            where["started_at"] = started
        page = await self.index.query(where=where, order_by="started_at", descending=True,
                                      limit=None if limit is None else offset + limit)
        chosen = page.entries[offset:]
        return await gather_limited(
            chosen, lambda e: self._read(self._run_key(e.partition, e.version), RunSummary),
            self.fetch_concurrency)

    async def _start_version(self, run_id: str) -> int:
        known = self._known_version.get(run_id)
        if known is None:
            page = await self.index.query(where={"run_id": run_id, "kind": "run"})
            known = max((e.version for e in page.entries), default=0)
        return known

    async def _probe_versions(self, run_id: str, start: int) -> builtins.list[RunSummary]:
        validate_id(run_id, what="run_id")

        async def fetch(version: int) -> RunSummary | None:
            key = self._run_key(run_id, version)
            body = await get_json_or_none(self.bucket, key)
            return None if body is None else _model(body, RunSummary, key)

        found = await probe_forward(start, fetch)
        if found:
            self._known_version[run_id] = max(found[-1].version,
                                              self._known_version.get(run_id, 0))
        return found

    async def _latest_version(self, run_id: str, *, at_least: int = 0) -> int:
        """The newest version number of the run, probing with HEADs (NotFoundError if none)."""
        start = max(await self._start_version(run_id), at_least)

        async def exists(version: int) -> bool | None:
            try:
                await self.bucket.head(self._run_key(run_id, version))
            except NotFoundError:
                return None
            return True

        found = await probe_forward(start, exists)
        if not found:
            if start == 0:
                raise self._no_run(run_id)
            raise IntegrityError(f"run {run_id!r} version {start} was seen but is gone",
                                 key=self._run_key(run_id, start))
        latest = start + len(found) - 1
        self._known_version[run_id] = max(latest, self._known_version.get(run_id, 0))
        return latest

    def _no_run(self, run_id: str) -> NotFoundError:
        return NotFoundError(f"no run {run_id!r} in workspace {self.workspace!r}",
                             bucket=self.bucket.name, key=self._run_key(run_id, 0))

    # ------------------------------------------------------------------ steps
    async def record(self, step: ExecutionRecord) -> ExecutionRecord:
        """Store a step record of an existing run (NotFoundError for an unknown run)."""
        _expect(step, ExecutionRecord)
        body = self._encode(step, f"record {step.id!r}")
        key = self._step_key(step.run_id, step.id)
        entry = _step_entry(self.index, step)
        if step.run_id not in self._known_version:
            await self._latest_version(step.run_id)
        try:
            await put_json(self.bucket, key, body)
        except AlreadyExistsError:
            existing = await self._read(key, ExecutionRecord)
            if existing.model_dump(mode="json") != step.model_dump(mode="json"):
                raise AlreadyExistsError(f"record {step.id!r} of run {step.run_id!r} already "
                                         "exists with different content",
                                         bucket=self.bucket.name, key=key) from None
        await self.index.add([entry])
        return step

    async def _step_entries(self, run_id: str) -> builtins.list[IndexEntry]:
        validate_id(run_id, what="run_id")
        page = await self.index.query(where={"run_id": run_id, "kind": "step"},
                                      order_by="_commit")
        return page.entries

    async def get_step(self, run_id: str, task_id: str) -> ExecutionRecord:
        """The newest record of ``task_id`` in the run. NotFoundError if there is none."""
        entries = [e for e in await self._step_entries(run_id) if e.get("task_id") == task_id]
        if not entries:
            raise NotFoundError(f"no record of task {task_id!r} in run {run_id!r}",
                                bucket=self.bucket.name)
        newest = max(entries, key=lambda e: str(e.get("timestamp")))
        return await self._read(self._step_key(run_id, str(newest.get("id"))), ExecutionRecord)

    async def list_records(self, run_id: str) -> builtins.list[ExecutionRecord]:
        """The run's records in order of ``timestamp`` (then of storing)."""
        entries = sorted(await self._step_entries(run_id), key=lambda e: str(e.get("timestamp")))
        return await gather_limited(
            entries, lambda e: self._read(self._step_key(run_id, str(e.get("id"))),
                                          ExecutionRecord),
            self.fetch_concurrency)

    # ------------------------------------------------------------------ workflow snapshots
    async def store_workflow_snapshot(self, content: str | Mapping[str, Any],
                                      version: int) -> str:
        """Store a workflow definition once per distinct content; return its SHA-256.

        A mapping is normalized to canonical JSON; text has its line endings and
        trailing whitespace normalized.
        """
        if isinstance(content, Mapping):
            text = codec.dumps(dict(content)).decode()
        elif isinstance(content, str):
            text = "\n".join(line.rstrip() for line in content.replace("\r\n", "\n")
                             .split("\n")).strip("\n") + "\n"
        else:
            raise InvalidInputError("workflow content must be str or a mapping")
        if not isinstance(version, int) or isinstance(version, bool):
            raise InvalidInputError("workflow version must be an int")
        digest = codec.sha256_hex(text.encode())
        snapshot = WorkflowSnapshot(hash=digest, content=text, version=version)
        body = self._encode(snapshot, "workflow snapshot")
        with contextlib.suppress(AlreadyExistsError):  # same content: same object
            await put_json(self.bucket, self._workflow_key(digest), body)
        return digest

    async def get_workflow_snapshot(self, digest: str) -> WorkflowSnapshot:
        """The snapshot stored under ``digest``. NotFoundError if none."""
        if not isinstance(digest, str) or len(digest) != 64 or not all(
                c in "0123456789abcdef" for c in digest):
            raise InvalidInputError(f"not a SHA-256 hex digest: {digest!r}")
        return await self._read(self._workflow_key(digest), WorkflowSnapshot)

    # ------------------------------------------------------------------ shared
    async def _read(self, key: str, model: type[M]) -> M:
        return _model(await get_json(self.bucket, key), model, key)

    async def reindex(self, *, on_progress: Progress | None = None) -> ReindexReport:
        """Add index entries for run versions and records the index misses.

        ``on_progress`` is called with the number of objects scanned so far.
        """
        indexed = (await self.index.query()).entries
        known = {e.key for e in indexed if e.get("kind") == "step"}
        known.update(f"r:{e.partition}:{v}" for e in indexed if e.get("kind") == "run"
                     for v in range(e.version + 1))
        prefix = f"{self._root}runs/"
        scanned = 0
        missing: builtins.list[str] = []
        async for info in self.bucket.list(prefix):
            scanned += 1
            if on_progress is not None:
                on_progress(scanned)
            parts = info.key[len(prefix):].removesuffix(".json").split("/")
            if len(parts) == 3 and parts[1] == "v":
                k = f"r:{parts[0]}:{int(parts[2])}"
            elif len(parts) == 3 and parts[1] == "steps":
                k = f"s:{parts[0]}:{parts[2]}"
            else:
                continue
            if k not in known:
                missing.append(info.key)

        async def entry(key: str) -> tuple[str, IndexEntry]:
            if "/steps/" in key:
                step = await self._read(key, ExecutionRecord)
                made = _step_entry(self.index, step)
                return made.key, made
            summary = await self._read(key, RunSummary)
            return f"r:{summary.run_id}:{summary.version}", _run_entry(self.index, summary)

        found = await gather_limited(missing, entry, self.fetch_concurrency)
        if found:
            await self.index.add([made for _, made in found])
        await self.index.compact()  # also upgrades an index of the format-1 layout
        return ReindexReport(store="runs", scanned=scanned, added=tuple(k for k, _ in found))

    async def close(self) -> None:
        await self.index.close()


RUN_FIELDS = Schema((
    Field("run_id"), Field("kind"), Field("status"), Field("user_id"),
    Field("workflow_name"), Field("started_at", "datetime"), Field("id"), Field("task_id"),
    Field("timestamp", "datetime")), partition="run_id")
"""The run index: per run, key ``r:{run_id}`` (its latest version wins) and one
``s:{run_id}:{record_id}`` entry per step record."""


def _run_entry(index: Index, summary: RunSummary) -> IndexEntry:
    return index.entry(f"r:{summary.run_id}", {
        "run_id": summary.run_id, "kind": "run", "status": summary.status,
        "user_id": summary.user_id, "workflow_name": summary.workflow_name,
        "started_at": summary.started_at}, version=summary.version)


def _step_entry(index: Index, step: ExecutionRecord) -> IndexEntry:
    return index.entry(f"s:{step.run_id}:{step.id}", {
        "run_id": step.run_id, "kind": "step", "id": step.id, "task_id": step.task_id,
        "timestamp": step.timestamp})


def _legacy_entry(old: dict[str, Any]) -> tuple[str, int, dict[str, object]]:
    """A format-1 run index entry: ``r:{run}:{version}`` or ``s:{run}:{record}``."""
    if old["kind"] == "run":
        return (f"r:{old['run_id']}", old["version"], {name: old.get(name) for name in (
            "run_id", "status", "user_id", "workflow_name", "started_at")} | {"kind": "run"})
    if old["kind"] == "step":
        return (old["k"], 0, {name: old.get(name) for name in (
            "run_id", "id", "task_id", "timestamp")} | {"kind": "step"})
    raise ValueError(f"unknown kind {old['kind']!r}")


def _expect(value: object, model: type[BaseModel]) -> None:
    if not isinstance(value, model):
        raise InvalidInputError(f"expected a {model.__name__}, not {type(value).__name__}")


def _model(body: Any, model: type[M], key: str) -> M:
    try:
        return model.model_validate(expect_dict(body, key=key))
    except ValueError as exc:
        raise IntegrityError(f"stored record {key!r} is malformed: {exc}", key=key) from exc
