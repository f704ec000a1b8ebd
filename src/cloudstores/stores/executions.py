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

Options the reference backends of agent frameworks differ on are keyword-only, checked
before the first request, and default to this store's own behaviour: ``record(...,
require_run=)``, ``get_step(..., which=)``, ``list_records(..., order=)``,
``list_runs(..., order=)`` and ``store_workflow_snapshot(..., normalize=)``. The
free-form fields (``RunSummary.data``, ``ExecutionRecord.details`` and ``tool_calls``)
hold JSON types only: a ``datetime`` or ``tuple`` there is refused, naming its path,
rather than given back as text or a list (see ``stores/content.py``).

Each stored record carries a checksum (``$sha256``, see ``objects.seal``) that catches
corruption; records written before it existed are read without one.

Untrusted bucket: every record read is checked against its key (run id and version of
a run version, run id and record id of a step, the hash of a workflow snapshot), and a
mismatch is an IntegrityError naming the key. Version numbers are contiguous by
construction (a writer takes the next free number), so a missing number means a
deleted object: ``get_run`` LISTs the versions from the newest one it knows (one LIST
and one GET when warm) and ``run_history`` LISTs them all, and a gap, or a version
known to exist that is gone, raises IntegrityError naming the missing version. Index
entries are hints: ``list_runs``, ``get_step`` and ``list_records`` check every record
they return against the filter; one the index placed wrongly is skipped and reported
(``index_mismatches`` and the ``cloudstores.stores`` log).
"""

from __future__ import annotations

import builtins
import contextlib
from collections import deque
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, Literal

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
from cloudstores.keys import DEFAULT_WORKSPACE, validate_id
from cloudstores.models import (
    ExecutionRecord,
    ReindexReport,
    RunSummary,
    SkippedObject,
    WorkflowSnapshot,
    as_utc,
)
from cloudstores.stores.content import check_json
from cloudstores.stores.index import Field, Index, IndexEntry, Schema
from cloudstores.stores.layout import WorkspaceLayout
from cloudstores.stores.objects import (
    MAX_CONCURRENCY,
    Progress,
    agree,
    check_bool,
    check_callable,
    check_datetime,
    check_int,
    check_text,
    gather_limited,
    log,
    put_json,
    read_record,
    seal,
)
from cloudstores.stores.versions import VersionChain, version_number

Entry = dict[str, Any]
"""A run or step hint from the index (see ``_hints``)."""
RunOrder = Literal["started_at", "stored"]
RecordOrder = Literal["timestamp", "stored"]
StepChoice = Literal["newest", "first"]

_FREE_FORM: dict[type[BaseModel], tuple[str, ...]] = {
    RunSummary: ("data",),
    ExecutionRecord: ("details", "tool_calls"),
}
"""The free-form fields of each record: JSON only, checked before any request."""

__all__ = ["ExecutionStore", "RecordOrder", "RunOrder", "StepChoice"]

MAX_RECORD_BYTES = 4 * 1024 * 1024
_VERSION_DIGITS = 10
MAX_MISMATCHES = 1000


class ExecutionStore(AsyncResource):
    """Runs, step records and workflow snapshots of one workspace.

    It does not own (open or close) the bucket. ``index_mismatches`` holds the last
    index entries (up to 1,000) that a record contradicted and a list therefore skipped.
    """

    def __init__(
        self,
        bucket: Bucket,
        *,
        workspace: str = DEFAULT_WORKSPACE,
        max_record_bytes: int = MAX_RECORD_BYTES,
        fetch_concurrency: int = 32,
    ) -> None:
        if not isinstance(bucket, Bucket):
            raise InvalidInputError(f"bucket must be a Bucket, not {type(bucket).__name__}")
        self._layout = WorkspaceLayout(workspace)
        self.bucket = bucket
        self.workspace = workspace
        self.max_record_bytes = check_int(
            max_record_bytes, what="max_record_bytes", lo=1, hi=1 << 40
        )
        self.fetch_concurrency = check_int(
            fetch_concurrency, what="fetch_concurrency", lo=1, hi=MAX_CONCURRENCY
        )
        self.index = Index(bucket, self._layout.index("runs"), RUN_FIELDS, legacy=_legacy_entry)
        self._chain = VersionChain(bucket, what="run", digits=_VERSION_DIGITS)
        self.index_mismatches: deque[SkippedObject] = deque(maxlen=MAX_MISMATCHES)

    # ------------------------------------------------------------------ keys
    def _versions_prefix(self, run_id: str) -> str:
        return self._layout.run_versions(run_id)

    def _run_key(self, run_id: str, version: int) -> str:
        return self._chain.key(self._versions_prefix(run_id), version)

    def _step_key(self, run_id: str, record_id: str) -> str:
        return self._layout.run_step(run_id, record_id)

    def _workflow_key(self, digest: str) -> str:
        return self._layout.workflow(digest)

    def _encode(self, model: BaseModel, what: str) -> bytes:
        """The sealed record; SerializationError first if a free-form field holds a
        value JSON would give back as another type (see ``stores/content.py``)."""
        for name in _FREE_FORM.get(type(model), ()):
            check_json(getattr(model, name), what=name)
        return codec.check_size(seal(model.model_dump()), self.max_record_bytes, what=what)

    def _mismatch(self, key: str, reason: str) -> None:
        log.warning("run index of workspace %s: skipped %s: %s", self.workspace, key, reason)
        self.index_mismatches.append(SkippedObject(key=key, reason=reason))

    # ------------------------------------------------------------------ runs
    async def create_run(self, summary: RunSummary) -> RunSummary:
        """Store version 0 of a new run. AlreadyExistsError if the run exists."""
        _expect(summary, RunSummary)
        first = summary.model_copy(update={"version": 0})
        body = self._encode(first, f"run {summary.run_id!r}")
        entry = _run_entry(self.index, first)  # checks the indexed fields' sizes first
        key = self._run_key(summary.run_id, 0)
        try:
            await put_json(self.bucket, key, body)
        except AlreadyExistsError:
            raise AlreadyExistsError(
                f"run {summary.run_id!r} already exists in workspace {self.workspace!r}",
                bucket=self.bucket.name,
                key=key,
            ) from None
        self._chain.note(self._versions_prefix(summary.run_id), 0)
        await self.index.add([entry, _created_entry(self.index, summary.run_id)])
        return first

    async def update_run(
        self, summary: RunSummary, *, expected_version: int | None = None
    ) -> RunSummary:
        """Store ``summary`` as the run's next version and return it with that number.

        NotFoundError if the run does not exist (nothing is written). With
        ``expected_version``, PreconditionFailedError if the latest version is another.
        """
        _expect(summary, RunSummary)
        if expected_version is not None:
            check_int(expected_version, what="expected_version")
        self._encode(summary, f"run {summary.run_id!r}")  # validate before any request
        _run_entry(self.index, summary)
        latest = await self._latest_version(summary.run_id)
        stored = summary

        async def build(version: int) -> bytes:
            nonlocal stored
            if expected_version is not None and version - 1 != expected_version:
                raise PreconditionFailedError(
                    f"run {summary.run_id!r} is at version {version - 1}, not {expected_version}",
                    bucket=self.bucket.name,
                    key=self._run_key(summary.run_id, version - 1),
                )
            stored = summary.model_copy(
                update={"version": version, "updated_at": datetime.now(UTC)}
            )
            return self._encode(stored, f"run {summary.run_id!r}")

        await self._chain.put_next(
            self._versions_prefix(summary.run_id), latest + 1, build, name=summary.run_id
        )
        await self.index.add([_run_entry(self.index, stored)])
        return stored

    async def get_run(self, run_id: str) -> RunSummary:
        """The latest version of the run. NotFoundError if it does not exist.

        Warm (this store has seen the run): one LIST of the versions from the newest
        one known, and one GET. IntegrityError if a version known to exist is gone or
        the versions after it have a gap.
        """
        validate_id(run_id, what="run_id")
        latest = await self._latest_version(run_id)
        return await self._read_version(run_id, latest)

    async def get_run_or_none(self, run_id: str) -> RunSummary | None:
        try:
            return await self.get_run(run_id)
        except NotFoundError:
            return None

    async def run_history(self, run_id: str) -> builtins.list[RunSummary]:
        """Every version of the run, oldest first. NotFoundError if it does not exist.

        One LIST and one GET per version; IntegrityError (naming the missing version)
        if the versions are not contiguous from 0 or end before one known to exist.
        """
        validate_id(run_id, what="run_id")
        hint = await self._start_version(run_id)
        versions = await self._list_versions(run_id, 0, hint)
        return await gather_limited(
            versions, lambda v: self._read_version(run_id, v), self.fetch_concurrency
        )

    async def list_runs(
        self,
        *,
        status: str | None = None,
        user_id: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        limit: int | None = None,
        offset: int = 0,
        order: RunOrder = "started_at",
    ) -> builtins.list[RunSummary]:
        """Runs whose latest indexed version matches, in ``order``, then paged.

        ``order="started_at"``: newest ``started_at`` first (ties: run id, descending).
        ``order="stored"``: the order the runs were created, oldest first; an update
        does not move a run (runs created before this order existed, which the index
        holds no creation entry for, take the place of their latest version).

        Cost: the index (warm: 1 GET; ``"stored"``: 2) and 1 GET per run returned.
        Order and paging follow the index; every run returned was read and matches
        the filter (one the index placed wrongly is skipped and reported).
        """
        _check_choice(order, ("started_at", "stored"), what="order")
        check_text(status, what="status")
        check_text(user_id, what="user_id")
        check_datetime(since, what="since")
        check_datetime(until, what="until")
        check_int(offset, what="offset")
        if limit is not None:
            check_int(limit, what="limit")
        latest: dict[str, Entry] = {}
        for entry in await self._hints("run"):
            seen = latest.get(entry["run_id"])
            if seen is None or entry["version"] > seen["version"]:
                latest[entry["run_id"]] = entry
        lo, hi = as_utc(since), as_utc(until)

        def matches(user: object, state: object, started: datetime) -> bool:
            return (
                (status is None or state == status)
                and (user_id is None or user == user_id)
                and (lo is None or started >= lo)
                and (hi is None or started < hi)
            )

        chosen = [
            e for e in latest.values() if matches(e.get("user_id"), e.get("status"), e["when"])
        ]
        if order == "stored":
            created = {e["run_id"]: e["commit"] for e in await self._hints("created")}
            chosen.sort(key=lambda e: (created.get(e["run_id"], e["commit"]), e["run_id"]))
        else:
            chosen.sort(key=lambda e: (e["when"], e["run_id"]), reverse=True)
        chosen = chosen[offset:] if limit is None else chosen[offset : offset + limit]

        async def read(e: Entry) -> RunSummary | None:
            try:
                run = await self._read_version(e["run_id"], e["version"])
            except NotFoundError:
                self._mismatch(
                    self._run_key(e["run_id"], e["version"]),
                    "the index lists it but the object is missing",
                )
                return None
            if not matches(run.user_id, run.status, run.started_at):
                self._mismatch(
                    self._run_key(e["run_id"], e["version"]),
                    "the index entry does not match the object",
                )
                return None
            return run

        found = await gather_limited(chosen, read, self.fetch_concurrency)
        return [run for run in found if run is not None]

    async def _hints(self, kind: str, run_id: str | None = None) -> builtins.list[Entry]:
        """Index entries of ``kind`` (of ``run_id``, if given) as plain hints: the index
        has validated them; the data objects read after them are the authority."""
        where: dict[str, object] = {"kind": kind}
        if run_id is not None:
            where["run_id"] = run_id
        page = await self.index.query(where=where, order_by="_commit")
        if kind == "created":
            return [{"run_id": e.partition, "commit": (e.seq, e.pos)} for e in page.entries]
        if kind == "run":
            return [
                {
                    "run_id": e.partition,
                    "version": e.version,
                    "status": e.get("status"),
                    "user_id": e.get("user_id"),
                    "when": _when(e.get("started_at")),
                    "commit": (e.seq, e.pos),
                }
                for e in page.entries
            ]
        return [
            {
                "run_id": e.partition,
                "id": e.get("id"),
                "task_id": e.get("task_id"),
                "when": _when(e.get("timestamp")),
            }
            for e in page.entries
        ]

    async def _start_version(self, run_id: str) -> int | None:
        """The newest version of the run this store has seen, else the index's (a hint);
        None if neither knows the run."""
        known = self._chain.known.get(self._versions_prefix(run_id))
        if known is None:
            versions = [e["version"] for e in await self._hints("run", run_id)]
            known = max(versions, default=None)
        return known

    async def _list_versions(
        self, run_id: str, start: int, known: int | None
    ) -> builtins.list[int]:
        """The version numbers from ``start`` on (one LIST), checked to be contiguous
        and to reach ``known`` (a version seen to exist); NotFoundError if the run has
        none and nothing says it had."""
        try:
            return await self._chain.list(
                self._versions_prefix(run_id), start=start, known=known, name=run_id
            )
        except NotFoundError:
            raise self._no_run(run_id) from None

    async def _latest_version(self, run_id: str) -> int:
        """The newest version number of the run (one LIST from the newest known)."""
        known = await self._start_version(run_id)
        versions = await self._list_versions(run_id, known or 0, known)
        return versions[-1]

    async def _read_version(self, run_id: str, version: int) -> RunSummary:
        key = self._run_key(run_id, version)
        run = await read_record(self.bucket, key, RunSummary, max_bytes=self.max_record_bytes)
        agree(key, "run_id", run.run_id, run_id)
        agree(key, "version", run.version, version)
        return run

    def _no_run(self, run_id: str) -> NotFoundError:
        return NotFoundError(
            f"no run {run_id!r} in workspace {self.workspace!r}",
            bucket=self.bucket.name,
            key=self._run_key(run_id, 0),
        )

    # ------------------------------------------------------------------ steps
    async def record(self, step: ExecutionRecord, *, require_run: bool = True) -> ExecutionRecord:
        """Store a step record; the same record again is idempotent, another with the
        same id raises AlreadyExistsError.

        ``require_run=True``: NotFoundError (nothing written) if the run does not exist.
        ``require_run=False``: the record is stored whether or not the run exists (and
        ``list_records``/``get_step`` find it by its run id all the same).

        Cost: 1 PUT and a share of an index PUT; with ``require_run`` and a run this
        store has not seen yet, 1 LIST first.
        """
        _expect(step, ExecutionRecord)
        check_bool(require_run, what="require_run")
        body = self._encode(step, f"record {step.id!r}")
        entry = _step_entry(self.index, step)  # checks the indexed fields' sizes first
        key = self._step_key(step.run_id, step.id)
        if require_run and self._versions_prefix(step.run_id) not in self._chain.known:
            await self._latest_version(step.run_id)
        try:
            await put_json(self.bucket, key, body)
        except AlreadyExistsError:
            existing = await self._read_step(step.run_id, step.id)
            if existing.model_dump(mode="json") != step.model_dump(mode="json"):
                raise AlreadyExistsError(
                    f"record {step.id!r} of run {step.run_id!r} already "
                    "exists with different content",
                    bucket=self.bucket.name,
                    key=key,
                ) from None
        await self.index.add([entry])
        return step

    async def _read_step(self, run_id: str, record_id: str) -> ExecutionRecord:
        key = self._step_key(run_id, record_id)
        step = await read_record(self.bucket, key, ExecutionRecord, max_bytes=self.max_record_bytes)
        agree(key, "run_id", step.run_id, run_id)
        agree(key, "record id", step.id, record_id)
        return step

    async def _steps(self, run_id: str, task_id: str | None) -> builtins.list[ExecutionRecord]:
        """The run's records (of ``task_id``, if given), read and checked, in index order."""
        validate_id(run_id, what="run_id")
        ids = builtins.list(
            dict.fromkeys(
                e["id"]
                for e in await self._hints("step", run_id)
                if task_id is None or e["task_id"] == task_id
            )
        )

        async def read(record_id: str) -> ExecutionRecord | None:
            key = self._step_key(run_id, record_id)
            try:
                step = await self._read_step(run_id, record_id)
            except NotFoundError:
                self._mismatch(key, "the index lists it but the object is missing")
                return None
            if task_id is not None and step.task_id != task_id:
                self._mismatch(key, "the index entry does not match the object")
                return None
            return step

        found = await gather_limited(ids, read, self.fetch_concurrency)
        return [step for step in found if step is not None]

    async def get_step(
        self, run_id: str, task_id: str, *, which: StepChoice = "newest"
    ) -> ExecutionRecord:
        """One record of ``task_id`` in the run. NotFoundError if there is none.

        ``which="newest"``: the latest ``timestamp`` (ties: the first stored).
        ``which="first"``: the first stored (index commit order).

        Cost: the index (warm: 1 GET) and 1 GET per record of the task.
        """
        check_text(task_id, what="task_id", optional=False)
        _check_choice(which, ("newest", "first"), what="which")
        steps = await self._steps(run_id, task_id)
        if not steps:
            raise NotFoundError(
                f"no record of task {task_id!r} in run {run_id!r}", bucket=self.bucket.name
            )
        if which == "first":
            return steps[0]
        return max(steps, key=lambda s: s.timestamp)

    async def list_records(
        self, run_id: str, *, order: RecordOrder = "timestamp"
    ) -> builtins.list[ExecutionRecord]:
        """The run's records (none for a run without any: no NotFoundError).

        ``order="timestamp"``: by ``timestamp``, ties in storing order.
        ``order="stored"``: in storing order (index commit order; a record stored again
        keeps its first place).

        Cost: the index (warm: 1 GET) and 1 GET per record.
        """
        _check_choice(order, ("timestamp", "stored"), what="order")
        steps = await self._steps(run_id, None)
        return steps if order == "stored" else sorted(steps, key=lambda s: s.timestamp)

    # ------------------------------------------------------------------ workflow snapshots
    async def store_workflow_snapshot(
        self, content: str | Mapping[str, Any], version: int, *, normalize: bool = True
    ) -> str:
        """Store a workflow definition once per distinct content; return its SHA-256.

        ``normalize=True``: a mapping is stored as canonical JSON; text has its line
        endings (CRLF to LF) and trailing whitespace normalized and ends with one
        newline. ``normalize=False``: text is hashed and stored exactly as given (the
        SHA-256 of its UTF-8 bytes) and comes back byte-identical; a mapping is refused
        (it has no raw text). Bad arguments raise InvalidInputError before any request.

        Cost: 1 PUT (create-only: an existing snapshot of the same content is kept, with
        its first ``version`` and ``created_at``).
        """
        check_bool(normalize, what="normalize")
        if isinstance(version, bool) or not isinstance(version, int):
            raise InvalidInputError("workflow version must be an int")
        if isinstance(content, Mapping) and normalize:
            check_json(dict(content), what="workflow content")
            text = codec.dumps(dict(content)).decode()
        elif isinstance(content, str):
            text = _normalized(content) if normalize else content
        elif isinstance(content, Mapping):
            raise InvalidInputError(
                "normalize=False takes the workflow as text; a mapping has no raw text"
            )
        else:
            raise InvalidInputError("workflow content must be str or a mapping")
        try:
            raw = text.encode()
        except UnicodeEncodeError:
            raise InvalidInputError("workflow content is not valid UTF-8 text") from None
        digest = codec.sha256_hex(raw)
        snapshot = WorkflowSnapshot(hash=digest, content=text, version=version)
        body = self._encode(snapshot, "workflow snapshot")
        with contextlib.suppress(AlreadyExistsError):  # same content: same object
            await put_json(self.bucket, self._workflow_key(digest), body)
        return digest

    async def get_workflow_snapshot(self, digest: str) -> WorkflowSnapshot:
        """The snapshot stored under ``digest`` (1 GET). NotFoundError if none;
        IntegrityError if the stored content does not hash to ``digest``."""
        if not codec.is_digest(digest):
            raise InvalidInputError(f"not a SHA-256 hex digest: {digest!r}")
        key = self._workflow_key(digest)
        snapshot = await read_record(
            self.bucket, key, WorkflowSnapshot, max_bytes=self.max_record_bytes
        )
        agree(key, "hash", snapshot.hash, digest)
        agree(key, "content hash", codec.sha256_hex(snapshot.content.encode()), digest)
        return snapshot

    async def get_workflow_snapshot_or_none(self, digest: str) -> WorkflowSnapshot | None:
        """Like :meth:`get_workflow_snapshot` (1 GET), but None if there is none."""
        try:
            return await self.get_workflow_snapshot(digest)
        except NotFoundError:
            return None

    # ------------------------------------------------------------------ repair
    async def reindex(self, *, on_progress: Progress | None = None) -> ReindexReport:
        """Add index entries for run versions and records the index misses.

        ``on_progress`` is called with the number of objects scanned so far. A key that
        is not a run version or step record, and an object that cannot be read or
        disagrees with its key, are skipped and listed in ``skipped``.
        """
        check_callable(on_progress, what="on_progress")
        indexed = (await self.index.query()).entries
        known = {e.key for e in indexed if e.get("kind") in ("step", "created")}
        known.update(
            f"r:{e.partition}:{v}"
            for e in indexed
            if e.get("kind") == "run"
            for v in range(e.version + 1)
        )
        prefix = self._layout.area("runs")
        scanned = 0
        missing: builtins.list[tuple[str, str, str | int]] = []
        skipped: builtins.list[SkippedObject] = []
        async for info in self.bucket.list(prefix):
            scanned += 1
            if on_progress is not None:
                on_progress(scanned)
            parsed = _parse_run_key(info.key[len(prefix) :])
            if parsed is None:
                skipped.append(
                    SkippedObject(key=info.key, reason="not a run version or step record key")
                )
                continue
            run_id, kind, name = parsed
            k = f"r:{run_id}:{name}" if kind == "v" else f"s:{run_id}:{name}"
            if k not in known:
                missing.append(parsed)

        async def entry(item: tuple[str, str, str | int]) -> IndexEntry | SkippedObject:
            run_id, kind, name = item
            try:
                if kind == "v":
                    return _run_entry(self.index, await self._read_version(run_id, int(name)))
                return _step_entry(self.index, await self._read_step(run_id, str(name)))
            except (IntegrityError, NotFoundError) as exc:
                key = exc.key or prefix
                return SkippedObject(key=key, reason=exc.message)

        entries: builtins.list[IndexEntry] = []
        for result in await gather_limited(missing, entry, self.fetch_concurrency):
            if isinstance(result, SkippedObject):
                skipped.append(result)
            else:
                entries.append(result)
                created = f"c:{result.partition}"
                if result.get("kind") == "run" and result.version == 0 and created not in known:
                    entries.append(_created_entry(self.index, str(result.partition)))
        if entries:
            await self.index.add(entries)
        await self.index.compact()  # also upgrades an index of the format-1 layout
        for item in skipped:
            log.warning(
                "run reindex of workspace %s: skipped %s: %s", self.workspace, item.key, item.reason
            )
        return ReindexReport(
            store="runs",
            scanned=scanned,
            added=tuple(_added_key(e) for e in entries),
            skipped=tuple(skipped),
        )

    async def close(self) -> None:
        await self.index.close()


RUN_FIELDS = Schema(
    (
        Field("run_id"),
        Field("kind"),
        Field("status"),
        Field("user_id"),
        Field("workflow_name"),
        Field("started_at", "datetime"),
        Field("id"),
        Field("task_id"),
        Field("timestamp", "datetime"),
    ),
    partition="run_id",
)
"""The run index: per run, key ``r:{run_id}`` (its latest version wins), ``c:{run_id}``
(its creation, see ``_created_entry``) and one ``s:{run_id}:{record_id}`` entry per
step record."""


def _run_entry(index: Index, summary: RunSummary) -> IndexEntry:
    return index.entry(
        f"r:{summary.run_id}",
        {
            "run_id": summary.run_id,
            "kind": "run",
            "status": summary.status,
            "user_id": summary.user_id,
            "workflow_name": summary.workflow_name,
            "started_at": summary.started_at,
        },
        version=summary.version,
    )


def _created_entry(index: Index, run_id: str) -> IndexEntry:
    """``c:{run_id}``: written once with version 0 and never again, so its commit
    stamp is the run's place in creation order (``list_runs(order="stored")``)."""
    return index.entry(f"c:{run_id}", {"run_id": run_id, "kind": "created"})


def _step_entry(index: Index, step: ExecutionRecord) -> IndexEntry:
    return index.entry(
        f"s:{step.run_id}:{step.id}",
        {
            "run_id": step.run_id,
            "kind": "step",
            "id": step.id,
            "task_id": step.task_id,
            "timestamp": step.timestamp,
        },
    )


def _legacy_entry(old: dict[str, Any]) -> tuple[str, int, dict[str, object]]:
    """A format-1 run index entry: ``r:{run}:{version}`` or ``s:{run}:{record}``."""
    if old["kind"] == "run":
        return (
            f"r:{old['run_id']}",
            old["version"],
            {
                name: old.get(name)
                for name in ("run_id", "status", "user_id", "workflow_name", "started_at")
            }
            | {"kind": "run"},
        )
    if old["kind"] == "step":
        return (
            old["k"],
            0,
            {name: old.get(name) for name in ("run_id", "id", "task_id", "timestamp")}
            | {"kind": "step"},
        )
    raise ValueError(f"unknown kind {old['kind']!r}")


def _when(value: object) -> datetime:
    """A datetime field of a validated index entry (fixed-width UTC text) as a datetime."""
    return as_utc(datetime.fromisoformat(str(value))) or datetime.min.replace(tzinfo=UTC)


def _added_key(entry: IndexEntry) -> str:
    """How a reindex report names an entry: ``r:{run}:{version}`` or ``s:{run}:{id}``."""
    return f"{entry.key}:{entry.version}" if entry.get("kind") == "run" else entry.key


def _normalized(text: str) -> str:
    """Workflow text with LF line endings, no trailing blanks, one final newline."""
    lines = text.replace("\r\n", "\n").split("\n")
    return "\n".join(line.rstrip() for line in lines).strip("\n") + "\n"


def _check_choice(value: object, choices: tuple[str, ...], what: str) -> None:
    if not isinstance(value, str) or value not in choices:
        raise InvalidInputError(
            f"{what} must be one of {', '.join(map(repr, choices))}, not {value!r}"
        )


def _expect(value: object, model: type[BaseModel]) -> None:
    if not isinstance(value, model):
        raise InvalidInputError(f"expected a {model.__name__}, not {type(value).__name__}")


def _version_of(name: str) -> int | None:
    return version_number(name, _VERSION_DIGITS)


def _parse_run_key(tail: str) -> tuple[str, str, str | int] | None:
    """``(run_id, "v", version)`` or ``(run_id, "steps", record_id)`` of a key below
    ``runs/``; None for anything else."""
    parts = tail.split("/")
    if len(parts) != 3 or parts[1] not in ("v", "steps"):
        return None
    try:
        run_id = validate_id(parts[0])
    except InvalidInputError:
        return None
    if parts[1] == "v":
        version = _version_of(parts[2])
        return None if version is None else (run_id, "v", version)
    if not parts[2].endswith(".json"):
        return None
    try:
        return run_id, "steps", validate_id(parts[2][:-5])
    except InvalidInputError:
        return None
