"""ArtifactStore: immutable artifacts by id, listed through the manifest index.

Keys under ``ws/{workspace}/``::

    artifacts/{artifact_id}.json      the artifact (content inline when small)
    blobs/{sha256}.json               large or bytes content, shared by identical artifacts
    _index/artifacts/...              the manifest index (see stores/index.py)

``get`` is one GET (two when the content lives in a blob). ``list_by_run`` and ``list``
read the index, never LIST ``artifacts/``. The data object is written before its index
entry; ``reindex`` repairs an index that missed one (a crash between the two writes).
A small artifact (stored record of at most ``index_inline_bytes``, no blob) also rides
in its index entry as payload ``d``: the same sealed record, so a list returns it
without a GET of the data object.

Stored record (format 2): the artifact's fields plus ``"$format": 2`` and a checksum
``"$sha256"`` (see ``objects.seal``); when the content lives in a blob,
``"content": null`` and ``"$blob": "<sha256 hex>"``, plus ``"$kind": "bytes"`` when
the content is ``bytes`` (always kept in a blob, raw; see ``stores/content.py``). These
are top-level fields the model never lets a caller set (``extra="forbid"``), so no user
content can pose as a blob pointer. A record without ``$format`` was written by format 1, which put
``{"$cloudstores_blob": "<sha256 hex>"}`` in place of the content; such a record is
still read, and its content is taken as a pointer only in exactly that shape (one key,
a 64-digit lowercase hex value).

Untrusted bucket: ``get`` checks the stored id against the key, the size, the shape,
and the blob's hash. Index entries are hints: every artifact a list returns was read
(from the data object, or from the entry's inline copy) and checked against the filter.
An inline copy is checked like a data object (format 2, its ``$sha256``, the id equal
to the entry's key, no blob pointer) and against the filter; one that fails is
reported and the data object is read instead. An entry the data object contradicts (a
rewritten or stale entry) is skipped and reported (``index_mismatches`` and the
``cloudstores.stores`` log), never returned. A data object that cannot be read raises
IntegrityError. The checksum catches corruption, not forgery: whoever can create index
segments can make a list return a well-formed record that ``get`` would not (as whoever
can write data objects can make ``get`` return one); ``get`` reads the data object.
"""

from __future__ import annotations

import builtins
from collections import deque
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from cloudstores import codec
from cloudstores._resource import AsyncResource
from cloudstores.bucket.base import Bucket
from cloudstores.errors import (
    AlreadyExistsError,
    IntegrityError,
    InvalidInputError,
    NotFoundError,
)
from cloudstores.keys import DEFAULT_WORKSPACE, validate_id
from cloudstores.models import Artifact, ReindexReport, SkippedObject, as_utc
from cloudstores.stores.content import (
    Blob,
    Pointer,
    check_content,
    check_json,
    encode,
    get_blob,
    pointer,
    put_blob,
    take_pointer,
)
from cloudstores.stores.index import Field, Index, IndexEntry, Schema
from cloudstores.stores.index.entries import MAX_PAYLOAD_BYTES
from cloudstores.stores.layout import WorkspaceLayout
from cloudstores.stores.objects import (
    CHECKSUM,
    MAX_CONCURRENCY,
    Progress,
    agree,
    check_callable,
    check_datetime,
    check_int,
    check_text,
    expect_dict,
    gather_limited,
    get_json,
    log,
    put_json,
    seal,
    unseal,
    validate_record,
)

__all__ = ["ArtifactOptions", "ArtifactStore"]

FORMAT = 2
_FORMAT_FIELD = "$format"
_OLD_BLOB_REF = "$cloudstores_blob"
"""Format 1's pointer, inside ``content``; read (never written) for old records."""
MAX_MISMATCHES = 1000


@dataclass(frozen=True, slots=True, kw_only=True)
class ArtifactOptions:
    """Limits and tuning of the artifact store (checked when built: InvalidInputError).

    Attributes:
        max_bytes: largest artifact (canonical JSON) accepted; PayloadTooLargeError above.
            Stored objects larger than this are refused on read (IntegrityError).
        inline_bytes: content larger than this goes to a shared content-addressed blob.
        index_inline_bytes: a stored record of at most this many bytes (and no blob) is
            also carried in its index entry, so lists need no GET for it (0: never; at
            most the index's payload bound, 4,096).
        fetch_concurrency: GETs in flight when a list returns many artifacts (1..1024).
    """

    max_bytes: int = 16 * 1024 * 1024
    inline_bytes: int = 256 * 1024
    index_inline_bytes: int = 2048
    fetch_concurrency: int = 32

    def __post_init__(self) -> None:
        check_int(self.max_bytes, what="ArtifactOptions.max_bytes", lo=1, hi=1 << 40)
        check_int(self.inline_bytes, what="ArtifactOptions.inline_bytes", lo=0, hi=1 << 40)
        check_int(
            self.index_inline_bytes,
            what="ArtifactOptions.index_inline_bytes",
            lo=0,
            hi=MAX_PAYLOAD_BYTES,
        )
        check_int(
            self.fetch_concurrency,
            what="ArtifactOptions.fetch_concurrency",
            lo=1,
            hi=MAX_CONCURRENCY,
        )


class ArtifactStore(AsyncResource):
    """Immutable artifacts of one workspace. It does not own (open or close) the bucket.

    ``index_mismatches`` holds the last index entries (up to 1,000) that a data object
    contradicted and that a list therefore skipped; ``inline_mismatches`` the last
    entries whose inline copy was unsound or disagreed with the entry, for which the
    data object was read instead.
    """

    def __init__(
        self,
        bucket: Bucket,
        *,
        workspace: str = DEFAULT_WORKSPACE,
        options: ArtifactOptions | None = None,
    ) -> None:
        if not isinstance(bucket, Bucket):
            raise InvalidInputError(f"bucket must be a Bucket, not {type(bucket).__name__}")
        if options is not None and not isinstance(options, ArtifactOptions):
            raise InvalidInputError("options must be an ArtifactOptions")
        self.bucket = bucket
        self._layout = WorkspaceLayout(workspace)
        self.workspace = workspace
        self.options = options or ArtifactOptions()
        self.index = Index(
            bucket, self._layout.index("artifacts"), ARTIFACT_FIELDS, legacy=_legacy_entry
        )
        self.index_mismatches: deque[SkippedObject] = deque(maxlen=MAX_MISMATCHES)
        self.inline_mismatches: deque[SkippedObject] = deque(maxlen=MAX_MISMATCHES)

    def _key(self, artifact_id: str) -> str:
        return self._layout.artifact(artifact_id)

    def _blob_key(self, digest: str) -> str:
        return self._layout.blob(digest)

    # ------------------------------------------------------------------ writing
    async def store(self, artifact: Artifact) -> Artifact:
        """Store ``artifact``; idempotent for identical fields, AlreadyExistsError otherwise.

        ``content`` is a JSON value or ``bytes``; ``metadata`` is JSON. A value JSON
        would give back as another type (a ``datetime``, a ``tuple``, nested bytes...)
        is refused with SerializationError naming its path, as is anything over
        ``max_bytes``, before the first request (see ``stores/content.py``).

        Cost: 1 PUT and a share of an index PUT; content over ``inline_bytes``, and
        ``bytes`` content of any size (empty too), adds 1 PUT of a content-addressed
        blob (identical content shares it). Returns the stored artifact (the existing
        one, with its original ``created_at``, on a repeat: then 1-2 GETs more).
        """
        if not isinstance(artifact, Artifact):
            raise InvalidInputError(f"expected an Artifact, not {type(artifact).__name__}")
        check_content(artifact.content, what="content")
        check_json(artifact.metadata, what="metadata")
        key = self._key(artifact.id)
        body, blob = self._encode(artifact)
        entry = self._entry_of(artifact, body, blob)  # checks the indexed fields first
        if blob is not None:
            await put_blob(self.bucket, self._blob_key(blob.digest), blob)
        try:
            await put_json(self.bucket, key, body)
            stored = artifact
        except AlreadyExistsError:
            stored = await self.get(artifact.id)
            if _identity(stored) != _identity(artifact):
                raise AlreadyExistsError(
                    f"artifact {artifact.id!r} already exists with different content "
                    f"in workspace {self.workspace!r}",
                    bucket=self.bucket.name,
                    key=key,
                ) from None
        # Index entry second; on a repeat it is written again (readers keep one).
        if stored is not artifact:
            entry = self._entry_of(stored)
        await self.index.add([entry])
        return stored

    # ------------------------------------------------------------------ reading
    async def get(self, artifact_id: str) -> Artifact:
        """The artifact with this id (one GET; two with a blob). NotFoundError if absent.

        IntegrityError (naming the key) if the stored object is not this artifact: too
        large, not JSON, malformed, another id, or a blob that is missing or changed.
        """
        key = self._key(artifact_id)
        try:
            body = await get_json(self.bucket, key, max_bytes=self.options.max_bytes)
        except NotFoundError:
            raise NotFoundError(
                f"no artifact {artifact_id!r} in workspace {self.workspace!r}",
                bucket=self.bucket.name,
                key=key,
            ) from None
        record = expect_dict(body, key=key)
        found = _blob_pointer(record, key)
        if found is not None:
            record["content"] = await get_blob(
                self.bucket,
                self._blob_key(found.digest),
                found,
                max_bytes=self.options.max_bytes,
            )
        artifact = validate_record(record, Artifact, key)
        agree(key, "artifact id", artifact.id, artifact_id)
        return artifact

    async def get_or_none(self, artifact_id: str) -> Artifact | None:
        try:
            return await self.get(artifact_id)
        except NotFoundError:
            return None

    def _encode(self, artifact: Artifact) -> tuple[bytes, Blob | None]:
        """The sealed record to store and the blob its content goes to (None: inline).

        PayloadTooLargeError over ``max_bytes``; no request."""
        record = artifact.model_dump()
        record[_FORMAT_FIELD] = FORMAT
        what = f"artifact {artifact.id!r}"
        blob: Blob | None = None
        if isinstance(artifact.content, bytes):
            codec.check_size(artifact.content, self.options.max_bytes, what=what)
            blob = encode(artifact.content)
        else:
            codec.check_size(seal(record), self.options.max_bytes, what=what)
            encoded = encode(record["content"])
            if len(encoded.data) > self.options.inline_bytes:
                blob = encoded
        if blob is not None:
            record["content"] = None
            record.update(pointer(blob))
        return seal(record), blob

    def _entry_of(
        self, artifact: Artifact, body: bytes | None = None, blob: Blob | None = None
    ) -> IndexEntry:
        """The index entry of an artifact. A small stored record without a blob rides in
        it (payload ``d``), so that lists need no GET of the data object."""
        if body is None:
            body, blob = self._encode(artifact)
        small = blob is None and len(body) <= self.options.index_inline_bytes
        return _entry(self.index, artifact, payload=codec.loads(body) if small else None)

    async def _checked(
        self, entries: builtins.list[IndexEntry], keep: Callable[[Artifact], bool]
    ) -> builtins.list[Artifact]:
        """The artifacts of ``entries`` (index hints) whose data really matches ``keep``,
        in their order: from an entry's inline copy when it is sound and matches, else
        one GET of the data object (reads at most ``fetch_concurrency`` at once).

        An id whose object is gone or does not match is skipped and reported; an object
        that cannot be read raises IntegrityError.
        """
        inline = [self._inline(e, keep) for e in entries]
        ids = [e.key for e, a in zip(entries, inline, strict=True) if a is None]
        found = iter(await gather_limited(ids, self.get_or_none, self.options.fetch_concurrency))
        out: builtins.list[Artifact] = []
        for entry, artifact in zip(entries, inline, strict=True):
            if artifact is not None:
                out.append(artifact)
                continue
            artifact = next(found)
            if artifact is None:
                self._mismatch(entry.key, "the index lists it but the object is missing")
            elif not keep(artifact):
                self._mismatch(entry.key, "the index entry does not match the object")
            else:
                out.append(artifact)
        return out

    def _inline(self, entry: IndexEntry, keep: Callable[[Artifact], bool]) -> Artifact | None:
        """The artifact carried in ``entry``, checked like a data object and against
        ``keep``; None (reported, unless there is no copy) when the data object must be
        read instead."""
        if entry.payload is None:
            return None
        try:
            key = self._key(entry.key)
        except InvalidInputError:
            return None  # the GET path reports a bad id as it always did
        record = dict(entry.payload)
        try:
            if record.get(_FORMAT_FIELD) != FORMAT or CHECKSUM not in record:
                raise IntegrityError("it is not a sealed format-2 record", key=key)
            if _blob_pointer(record, key) is not None:
                raise IntegrityError("it points at a blob", key=key)
            artifact = validate_record(record, Artifact, key)
            agree(key, "artifact id", artifact.id, entry.key)
        except IntegrityError as exc:
            self._inline_mismatch(key, f"inline copy is invalid ({exc.message})")
            return None
        if not keep(artifact):
            self._inline_mismatch(key, "inline copy does not match its index entry")
            return None
        return artifact

    def _inline_mismatch(self, key: str, reason: str) -> None:
        log.warning(
            "artifact index of workspace %s: %s: %s; reading the object",
            self.workspace,
            key,
            reason,
        )
        self.inline_mismatches.append(SkippedObject(key=key, reason=reason))

    def _mismatch(self, artifact_id: str, reason: str) -> None:
        key = self._key(artifact_id)
        log.warning("artifact index of workspace %s: skipped %s: %s", self.workspace, key, reason)
        self.index_mismatches.append(SkippedObject(key=key, reason=reason))

    async def list_by_run(self, run_id: str) -> builtins.list[Artifact]:
        """Every artifact of ``run_id``, in the order they were stored (from the index)."""
        validate_id(run_id, what="run_id")
        page = await self.index.query(where={"run_id": run_id}, order_by="_commit")
        return await self._checked(page.entries, lambda a: a.run_id == run_id)

    async def list(
        self,
        *,
        run_id: str | None = None,
        type: str | None = None,
        created_by: str | None = None,
        task_id: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        start_after: str | None = None,
        limit: int | None = None,
    ) -> AsyncIterator[Artifact]:
        """Artifacts matching every given filter, ordered by id (stable pages).

        ``since`` is inclusive and ``until`` exclusive on ``created_at``; ``start_after``
        (an id, exclusive) and ``limit`` page through the results. Arguments are
        checked when iteration starts, before the first request.
        """
        if run_id is not None:
            validate_id(run_id, what="run_id")
        for name, value in (("type", type), ("created_by", created_by), ("task_id", task_id)):
            check_text(value, what=name)
        check_datetime(since, what="since")
        check_datetime(until, what="until")
        if limit is not None:
            check_int(limit, what="limit")
        if start_after is not None:
            validate_id(start_after, what="start_after")
        lo, hi = as_utc(since), as_utc(until)

        def keep(a: Artifact) -> bool:
            return (
                (run_id is None or a.run_id == run_id)
                and (type is None or a.type == type)
                and (created_by is None or a.created_by == created_by)
                and (task_id is None or a.task_id == task_id)
                and (lo is None or a.created_at >= lo)
                and (hi is None or a.created_at < hi)
                and (start_after is None or a.id > start_after)
            )

        where: dict[str, object] = {
            name: value
            for name, value in (
                ("run_id", run_id),
                ("type", type),
                ("created_by", created_by),
                ("task_id", task_id),
            )
            if value is not None
        }
        when = {op: at for op, at in (("gte", lo), ("lt", hi)) if at is not None}
        if when:
            where["created_at"] = when
        if start_after is not None:
            where["_key"] = {"gt": start_after}
        # No limit on the index query: an entry the data contradicts is skipped below,
        # and the limit counts only what is returned.
        page = await self.index.query(where=where, order_by="_key")
        entries = page.entries
        remaining = limit
        step = self.options.fetch_concurrency
        for start in range(0, len(entries), step):
            if remaining is not None and remaining <= 0:
                return
            chunk = entries[start : start + step]
            if remaining is not None:
                chunk = chunk[:remaining]
            for artifact in await self._checked(chunk, keep):
                if remaining is not None:
                    remaining -= 1
                yield artifact

    async def get_lineage(self, artifact_id: str) -> builtins.list[Artifact]:
        """The artifact and every ancestor through ``derived_from``, nearest first.

        Each artifact appears once, even where parents are shared or the stored data
        holds a cycle; a parent that does not exist is skipped.
        """
        root = await self.get(artifact_id)
        seen = {artifact_id}
        order = [root]
        frontier = [p for p in root.parents if p not in seen]
        while frontier:
            fresh = builtins.list(dict.fromkeys(p for p in frontier if p not in seen))
            seen.update(fresh)
            found = await gather_limited(fresh, self.get_or_none, self.options.fetch_concurrency)
            frontier = []
            for artifact in found:
                if artifact is not None:
                    order.append(artifact)
                    frontier.extend(artifact.parents)
        return order

    # ------------------------------------------------------------------ repair
    async def reindex(self, *, on_progress: Progress | None = None) -> ReindexReport:
        """Add index entries for artifacts the index misses (LISTs ``artifacts/``).

        ``on_progress`` is called with the number of objects scanned so far. A key that
        is not ``{valid id}.json`` and an object that cannot be read or disagrees with
        its key are skipped and listed in the report's ``skipped``; neither stops it.
        """
        check_callable(on_progress, what="on_progress")
        known = {e.key for e in (await self.index.query()).entries}
        prefix = self._layout.area("artifacts")
        scanned = 0
        missing: builtins.list[str] = []
        skipped: builtins.list[SkippedObject] = []
        async for info in self.bucket.list(prefix):
            scanned += 1
            if on_progress is not None:
                on_progress(scanned)
            artifact_id = _id_of(info.key[len(prefix) :])
            if artifact_id is None:
                skipped.append(SkippedObject(key=info.key, reason="not an artifact key"))
            elif artifact_id not in known:
                missing.append(artifact_id)

        async def read(artifact_id: str) -> Artifact | SkippedObject:
            try:
                return await self.get(artifact_id)
            except (IntegrityError, NotFoundError) as exc:
                return SkippedObject(key=self._key(artifact_id), reason=exc.message)

        found: builtins.list[Artifact] = []
        for result in await gather_limited(missing, read, self.options.fetch_concurrency):
            if isinstance(result, SkippedObject):
                skipped.append(result)
            else:
                found.append(result)
        if found:
            await self.index.add([self._entry_of(a) for a in found])
        await self.index.compact()  # also upgrades an index of the format-1 layout
        for item in skipped:
            log.warning(
                "artifact reindex of workspace %s: skipped %s: %s",
                self.workspace,
                item.key,
                item.reason,
            )
        return ReindexReport(
            store="artifacts",
            scanned=scanned,
            added=tuple(a.id for a in found),
            skipped=tuple(skipped),
        )

    async def close(self) -> None:
        await self.index.close()


def _identity(artifact: Artifact) -> dict[str, Any]:
    # Python mode: bytes content compares as bytes (JSON mode would decode it as text).
    return artifact.model_dump(exclude={"created_at"})


ARTIFACT_FIELDS = Schema(
    (
        Field("run_id"),
        Field("type"),
        Field("created_by"),
        Field("task_id"),
        Field("created_at", "datetime"),
    ),
    partition="run_id",
)
"""What the artifact index holds for each artifact id (partitioned by run)."""


def _entry(index: Index, artifact: Artifact, payload: Any = None) -> IndexEntry:
    """The index entry of ``artifact``; InvalidInputError if a field is over its bound."""
    return index.entry(
        artifact.id,
        {
            "run_id": artifact.run_id,
            "type": artifact.type,
            "created_by": artifact.created_by,
            "task_id": artifact.task_id,
            "created_at": artifact.created_at,
        },
        payload=payload,
    )


def _legacy_entry(old: dict[str, Any]) -> tuple[str, int, dict[str, object]]:
    """A format-1 artifact index entry (flat fields, key ``k`` = id)."""
    return (
        old["id"],
        0,
        {name: old.get(name) for name in ("run_id", "type", "created_by", "task_id", "created_at")},
    )


def _blob_pointer(record: dict[str, Any], key: str) -> Pointer | None:
    """Remove the format fields of a stored record; the blob it points at, if any."""
    if _FORMAT_FIELD in record:
        if not unseal(record, key=key):
            raise IntegrityError(f"stored artifact {key!r} has no checksum", key=key)
        if record.pop(_FORMAT_FIELD) != FORMAT:
            raise IntegrityError(f"stored artifact {key!r} has an unknown format", key=key)
        found = take_pointer(record, key=key)
        if found is not None and record.get("content") is not None:
            raise IntegrityError(f"stored artifact {key!r} has a malformed blob pointer", key=key)
        return found
    content = record.get("content")  # format 1
    if (
        isinstance(content, dict)
        and len(content) == 1
        and codec.is_digest(content.get(_OLD_BLOB_REF))
    ):
        return Pointer(str(content[_OLD_BLOB_REF]), "json")
    return None


def _id_of(name: str) -> str | None:
    if not name.endswith(".json"):
        return None
    try:
        return validate_id(name[:-5])
    except InvalidInputError:
        return None
