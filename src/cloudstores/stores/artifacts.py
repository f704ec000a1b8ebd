"""ArtifactStore: immutable artifacts by id, listed through the manifest index.

Keys under ``ws/{workspace}/``::

    artifacts/{artifact_id}.json      the artifact (content inline when small)
    blobs/{sha256}.json               large content, shared by identical artifacts
    _index/artifacts/...              the manifest index (see stores/index.py)

``get`` is one GET (two when the content lives in a blob). ``list_by_run`` and ``list``
read the index, never LIST ``artifacts/``. The data object is written before its index
entry; ``reindex`` repairs an index that missed one (a crash between the two writes).
"""

from __future__ import annotations

import builtins
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from cloudstores import codec
from cloudstores._resource import AsyncResource
from cloudstores.bucket.base import Bucket
from cloudstores.errors import AlreadyExistsError, IntegrityError, InvalidInputError, NotFoundError
from cloudstores.keys import DEFAULT_WORKSPACE, validate_id, workspace_prefix
from cloudstores.models import Artifact, ReindexReport, as_utc
from cloudstores.stores.index import Field, Index, IndexEntry, Schema
from cloudstores.stores.objects import (
    Progress,
    expect_dict,
    gather_limited,
    get_json,
    put_json,
)

__all__ = ["ArtifactOptions", "ArtifactStore"]

_BLOB_REF = "$cloudstores_blob"


@dataclass(frozen=True, slots=True, kw_only=True)
class ArtifactOptions:
    """Limits and tuning of the artifact store.

    Attributes:
        max_bytes: largest artifact (canonical JSON) accepted; PayloadTooLargeError above.
        inline_bytes: content larger than this goes to a shared content-addressed blob.
        fetch_concurrency: GETs in flight when a list returns many artifacts.
    """

    max_bytes: int = 16 * 1024 * 1024
    inline_bytes: int = 256 * 1024
    fetch_concurrency: int = 32


class ArtifactStore(AsyncResource):
    """Immutable artifacts of one workspace. It does not own (open or close) the bucket."""

    def __init__(self, bucket: Bucket, *, workspace: str = DEFAULT_WORKSPACE,
                 options: ArtifactOptions | None = None) -> None:
        self.bucket = bucket
        self.workspace = workspace
        self.options = options or ArtifactOptions()
        self._root = workspace_prefix(workspace)
        self.index = Index(bucket, f"{self._root}_index/artifacts", ARTIFACT_FIELDS,
                           legacy=_legacy_entry)

    def _key(self, artifact_id: str) -> str:
        return f"{self._root}artifacts/{validate_id(artifact_id, what='artifact id')}.json"

    def _blob_key(self, digest: str) -> str:
        return f"{self._root}blobs/{digest}.json"

    # ------------------------------------------------------------------ writing
    async def store(self, artifact: Artifact) -> Artifact:
        """Store ``artifact``; idempotent for identical fields, AlreadyExistsError otherwise.

        Validates size and JSON-ability before the first request. Returns the stored
        artifact (the existing one, with its original ``created_at``, on a repeat).
        """
        if not isinstance(artifact, Artifact):
            raise InvalidInputError(f"expected an Artifact, not {type(artifact).__name__}")
        entry = _entry(self.index, artifact)  # checks the indexed fields' sizes first
        record = artifact.model_dump()
        body = codec.check_size(codec.dumps(record), self.options.max_bytes,
                                what=f"artifact {artifact.id!r}")
        key = self._key(artifact.id)
        content = codec.dumps(record["content"])
        if len(content) > self.options.inline_bytes:
            digest = codec.sha256_hex(content)
            record["content"] = {_BLOB_REF: digest}
            body = codec.dumps(record)
            with contextlib.suppress(AlreadyExistsError):  # identical content already stored
                await put_json(self.bucket, self._blob_key(digest), content)
        try:
            await put_json(self.bucket, key, body)
            stored = artifact
        except AlreadyExistsError:
            stored = await self.get(artifact.id)
            if _identity(stored) != _identity(artifact):
                raise AlreadyExistsError(
                    f"artifact {artifact.id!r} already exists with different content "
                    f"in workspace {self.workspace!r}", bucket=self.bucket.name, key=key) from None
        # Index entry second; on a repeat it is written again (readers keep one).
        if stored is not artifact:
            entry = _entry(self.index, stored)
        await self.index.add([entry])
        return stored

    # ------------------------------------------------------------------ reading
    async def get(self, artifact_id: str) -> Artifact:
        """The artifact with this id (one GET). NotFoundError if absent."""
        key = self._key(artifact_id)
        try:
            record = expect_dict(await get_json(self.bucket, key), key=key)
        except NotFoundError:
            raise NotFoundError(f"no artifact {artifact_id!r} in workspace {self.workspace!r}",
                                bucket=self.bucket.name, key=key) from None
        content = record.get("content")
        if isinstance(content, dict) and set(content) == {_BLOB_REF}:
            blob_key = self._blob_key(str(content[_BLOB_REF]))
            blob = await self.bucket.get(blob_key)
            if codec.sha256_hex(blob.data) != content[_BLOB_REF]:
                raise IntegrityError(f"blob of artifact {artifact_id!r} does not match its hash",
                                     key=blob_key)
            record["content"] = codec.loads(blob.data, key=blob_key)
        try:
            return Artifact.model_validate(record)
        except ValueError as exc:
            raise IntegrityError(f"stored artifact {key!r} is malformed: {exc}", key=key) from exc

    async def get_or_none(self, artifact_id: str) -> Artifact | None:
        try:
            return await self.get(artifact_id)
        except NotFoundError:
            return None

    async def _get_many(self, ids: builtins.list[str]) -> builtins.list[Artifact]:
        return await gather_limited(ids, self.get, self.options.fetch_concurrency)

    async def list_by_run(self, run_id: str) -> builtins.list[Artifact]:
        """Every artifact of ``run_id``, in the order they were stored (from the index)."""
        validate_id(run_id, what="run_id")
        page = await self.index.query(where={"run_id": run_id}, order_by="_commit")
        ids = [e.key for e in page.entries]
        return await self._get_many(ids)

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
        """Artifacts matching every given filter, ordered by id (as SynthOrg pages them).

        ``since`` is inclusive and ``until`` exclusive on ``created_at``; ``start_after``
        (an id, exclusive) and ``limit`` page through the results.
        """
        if limit is not None and limit < 0:
            raise InvalidInputError("limit must be >= 0")
        if start_after is not None:
            validate_id(start_after, what="start_after")
        lo, hi = as_utc(since), as_utc(until)
        where: dict[str, object] = {name: value for name, value in (
            ("run_id", run_id), ("type", type), ("created_by", created_by),
            ("task_id", task_id)) if value is not None}
        when = {op: at for op, at in (("gte", lo), ("lt", hi)) if at is not None}
        if when:
            where["created_at"] = when
        if start_after is not None:
            where["_key"] = {"gt": start_after}
        page = await self.index.query(where=where, order_by="_key", limit=limit)
        ids = [e.key for e in page.entries]
        step = self.options.fetch_concurrency
        for start in range(0, len(ids), step):
            for artifact in await self._get_many(ids[start:start + step]):
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
            fresh = list(dict.fromkeys(p for p in frontier if p not in seen))
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

        ``on_progress`` is called with the number of objects scanned so far.
        """
        known = {e.key for e in (await self.index.query()).entries}
        prefix = f"{self._root}artifacts/"
        scanned = 0
        missing: builtins.list[str] = []
        async for info in self.bucket.list(prefix):
            scanned += 1
            if on_progress is not None:
                on_progress(scanned)
            artifact_id = info.key[len(prefix):].removesuffix(".json")
            if artifact_id not in known:
                missing.append(artifact_id)
        found = await self._get_many(missing)
        if found:
            await self.index.add([_entry(self.index, a) for a in found])
        await self.index.compact()  # also upgrades an index of the format-1 layout
        return ReindexReport(store="artifacts", scanned=scanned, added=tuple(missing))

    async def close(self) -> None:
        await self.index.close()


def _identity(artifact: Artifact) -> dict[str, Any]:
    return artifact.model_dump(mode="json", exclude={"created_at"})


ARTIFACT_FIELDS = Schema((Field("run_id"), Field("type"), Field("created_by"),
                          Field("task_id"), Field("created_at", "datetime")),
                         partition="run_id")
"""What the artifact index holds for each artifact id (partitioned by run)."""


def _entry(index: Index, artifact: Artifact) -> IndexEntry:
    """The index entry of ``artifact``; InvalidInputError if a field is over its bound."""
    return index.entry(artifact.id, {
        "run_id": artifact.run_id, "type": artifact.type, "created_by": artifact.created_by,
        "task_id": artifact.task_id, "created_at": artifact.created_at})


def _legacy_entry(old: dict[str, Any]) -> tuple[str, int, dict[str, object]]:
    """A format-1 artifact index entry (flat fields, key ``k`` = id)."""
    return (old["id"], 0, {name: old.get(name) for name in
                           ("run_id", "type", "created_by", "task_id", "created_at")})
