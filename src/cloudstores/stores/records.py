"""RecordCollection: append-only JSON records with an optional unique id, queried through
the manifest index (declared fields, counts and sums without reading the records).

Keys under ``ws/{workspace}/``::

    records/{collection}/{encode_id(id)}.json   one record (see record_format.py)
    _index/records/{collection}/...             its index (docs/index-format.md)

The index key of a record is its id's key segment (``encode_id``); its fields are the
record's top-level members of the declared names. A record is written first, then its
index entry (group-committed with other appends), so a crash between the two leaves a
record the index misses, never an entry that points at nothing; appending the same
record again repairs it.

Untrusted bucket: every record read is checked against its key (size, JSON shape,
checksum, the id in the body) and, when it came through a query, against the index
entry that led to it: a record whose fields disagree with its entry, or that is gone,
is skipped and reported (``index_mismatches`` and the ``cloudstores.stores`` log),
never returned.
"""

from __future__ import annotations

import builtins
from collections import deque
from collections.abc import Mapping, Sequence
from typing import Any

from cloudstores import codec
from cloudstores._resource import AsyncResource
from cloudstores.bucket.base import Bucket
from cloudstores.errors import AlreadyExistsError, InvalidInputError, NotFoundError
from cloudstores.ids import decode_id, encode_id, validate_any_id
from cloudstores.keys import DEFAULT_WORKSPACE, validate_id
from cloudstores.models import SkippedObject
from cloudstores.stores.content import check_json
from cloudstores.stores.index import AggregateRow, Index, IndexEntry, Schema
from cloudstores.stores.index.fields import Value
from cloudstores.stores.layout import WorkspaceLayout
from cloudstores.stores.objects import MAX_CONCURRENCY, check_int, gather_limited, log, put_json
from cloudstores.stores.record_format import (
    Record,
    RecordOptions,
    RecordPage,
    decode_body,
    encode_body,
    new_record_id,
    record_schema,
)

__all__ = ["Record", "RecordCollection", "RecordOptions", "RecordPage"]

STORED = "stored"
"""``order_by`` value for insertion order (the index's commit order)."""
MAX_MISMATCHES = 1000
MAX_NAME = 128


class RecordCollection(AsyncResource):
    """Append-only records of one collection of one workspace (does not own the bucket).

    ``fields`` declares what the index holds for each record: a mapping
    ``{name: "string" | "number" | "datetime" | "bool"}`` or a list of names (strings)
    and :class:`~cloudstores.stores.index.Field` objects; ``partition`` (a declared
    string field, e.g. ``"run_id"``) lets queries pinning it read only its chunks.
    Declare the same fields every time a collection is opened: an entry written under
    other fields disagrees with its record and is skipped by queries.
    """

    def __init__(
        self,
        bucket: Bucket,
        collection: str,
        *,
        workspace: str = DEFAULT_WORKSPACE,
        fields: object = (),
        partition: str | None = None,
        options: RecordOptions | None = None,
    ) -> None:
        if not isinstance(bucket, Bucket):
            raise InvalidInputError(f"bucket must be a Bucket, not {type(bucket).__name__}")
        if options is not None and not isinstance(options, RecordOptions):
            raise InvalidInputError("options must be a RecordOptions")
        self.collection = self.check_name(collection)
        self.schema: Schema = record_schema(fields, partition)
        self.bucket = bucket
        self.workspace = workspace
        self.options = options or RecordOptions()
        layout = WorkspaceLayout(workspace)
        self._prefix = layout.records(self.collection)
        self.index = Index(
            bucket,
            layout.index("records", self.collection),
            self.schema,
            options=self.options.index,
        )
        self.index_mismatches: deque[SkippedObject] = deque(maxlen=MAX_MISMATCHES)
        """The last index entries (up to 1,000) a record contradicted; queries skipped them."""

    @staticmethod
    def check_name(collection: object) -> str:
        """``collection`` if it is a valid collection name (1..128 of ``[A-Za-z0-9._-]``,
        no ``..``), else InvalidIdError."""
        return validate_id(collection, what="collection", max_length=MAX_NAME)

    def require_declaration(
        self, fields: object, partition: str | None, options: RecordOptions | None
    ) -> None:
        """InvalidInputError unless opening the collection with these fields, partition
        and options (None: any) is opening it the same way (no request)."""
        if record_schema(fields, partition) != self.schema or (
            options is not None and options != self.options
        ):
            raise InvalidInputError(
                f"record collection {self.collection!r} is already open with other fields "
                "or options: declare a collection the same way every time"
            )

    def _key(self, segment: str) -> str:
        return f"{self._prefix}{segment}.json"

    # ------------------------------------------------------------------ writing
    def _prepare(self, record: object, record_id: object) -> tuple[str, bytes, IndexEntry]:
        """Check one append before any request: id, JSON types, size, index fields."""
        if not isinstance(record, Mapping):
            raise InvalidInputError(f"a record is a mapping, not {type(record).__name__}")
        value = dict(record)
        check_json(value, what="record")
        rid = new_record_id() if record_id is None else validate_any_id(record_id, what="record id")
        segment = encode_id(rid)
        body = codec.check_size(
            encode_body(rid, value), self.options.max_bytes, what=f"record {str(rid)[:100]!r}"
        )
        return rid, body, self._entry(segment, value)

    def _entry(self, segment: str, value: Mapping[str, Any]) -> IndexEntry:
        return self.index.entry(segment, {f.name: value.get(f.name) for f in self.schema.fields})

    async def _put(self, rid: str, body: bytes) -> Record:
        """Create the record (1 PUT); on "already exists", the stored one if identical
        (1 GET more), else AlreadyExistsError."""
        key = self._key(encode_id(rid))
        try:
            await put_json(self.bucket, key, body)
        except AlreadyExistsError:
            stored = await self.get(rid)
            if encode_body(stored.id, stored.value) != body:
                raise AlreadyExistsError(
                    f"record {rid[:100]!r} already exists with other content in collection "
                    f"{self.collection!r} of workspace {self.workspace!r}",
                    bucket=self.bucket.name,
                    key=key,
                ) from None
            return stored
        return Record(rid, codec.loads(body)["record"])

    async def append(self, record: Mapping[str, Any], *, id: str | None = None) -> Record:
        """Store ``record`` (a JSON object) as a new record; returns it with its id.

        Without ``id`` a fresh unique id is made (26 characters, sorting by creation
        time). With ``id`` (any text, see :mod:`cloudstores.ids`) the id is unique: a
        second append of an identical record returns the stored one, a different one
        raises AlreadyExistsError (across processes too, and after a retried request).
        Cost: 1 PUT + the index entry (1 PUT shared with concurrent appends; the first
        write of a cold collection reads the index first); a repeated id: 1 HEAD (the Bucket
        checks the refused PUT was not its own retry) and 1 GET more.
        Checks types, size and declared fields before any request.
        """
        rid, body, entry = self._prepare(record, id)
        stored = await self._put(rid, body)
        await self.index.add([entry])
        return stored

    async def append_many(
        self,
        records: Sequence[Mapping[str, Any]],
        *,
        ids: Sequence[str | None] | None = None,
        concurrency: int = 32,
    ) -> builtins.list[Record]:
        """Append several records: their PUTs ``concurrency`` at a time, then one index
        write for all of them. Each record follows :meth:`append`'s rules; every record
        that landed is indexed before the first error (if any) is raised."""
        if isinstance(records, Mapping | str) or not isinstance(records, Sequence):
            raise InvalidInputError("records must be a sequence of mappings")
        if ids is None:
            ids = [None] * len(records)
        if isinstance(ids, str) or not isinstance(ids, Sequence) or len(ids) != len(records):
            raise InvalidInputError("ids must be a sequence as long as records")
        check_int(concurrency, what="concurrency", lo=1, hi=MAX_CONCURRENCY)
        prepared = [self._prepare(r, i) for r, i in zip(records, ids, strict=True)]

        async def one(item: tuple[str, bytes, IndexEntry]) -> Record | Exception:
            try:
                return await self._put(item[0], item[1])
            except Exception as exc:  # reported after the others are indexed
                return exc

        results = await gather_limited(prepared, one, concurrency)
        await self.index.add(
            [p[2] for p, r in zip(prepared, results, strict=True) if isinstance(r, Record)]
        )
        for result in results:
            if isinstance(result, Exception):
                raise result
        return [r for r in results if isinstance(r, Record)]

    # ------------------------------------------------------------------ reading
    async def get(self, id: str) -> Record:
        """The record with this id (1 GET). NotFoundError if there is none; IntegrityError
        (naming the key) if the stored object is not a valid record of this id."""
        segment = encode_id(id, what="record id")
        key = self._key(segment)
        try:
            data = (await self.bucket.get(key)).data
        except NotFoundError:
            raise NotFoundError(
                f"no record {id[:100]!r} in collection {self.collection!r}",
                bucket=self.bucket.name,
                key=key,
            ) from None
        return decode_body(data, key=key, segment=segment, max_bytes=self.options.max_bytes)

    async def get_or_none(self, id: str) -> Record | None:
        """Like :meth:`get`, None when there is no such record."""
        try:
            return await self.get(id)
        except NotFoundError:
            return None

    async def _checked(self, entries: builtins.list[IndexEntry]) -> builtins.list[Record]:
        """GET the records of ``entries`` and keep those that agree with their entry."""

        async def one(entry: IndexEntry) -> Record | None:
            try:
                decode_id(entry.key)  # keys read from the bucket are untrusted
            except InvalidInputError:
                self._mismatch(entry.key[:200], "the index key is not an id segment")
                return None
            key = self._key(entry.key)
            try:
                data = (await self.bucket.get(key)).data
            except NotFoundError:
                self._mismatch(key, "the index lists it but the record is missing")
                return None
            record = decode_body(data, key=key, segment=entry.key, max_bytes=self.options.max_bytes)
            try:
                derived = self._entry(entry.key, record.value)
            except InvalidInputError as exc:
                self._mismatch(key, f"the record does not fit the fields: {exc}")
                return None
            if dict(derived.fields) != dict(entry.fields) or entry.tombstone:
                self._mismatch(key, "the index entry does not match the record")
                return None
            return record

        found = await gather_limited(entries, one, self.options.fetch_concurrency)
        return [r for r in found if r is not None]

    def _mismatch(self, key: str, reason: str) -> None:
        log.warning(
            "record index %s of workspace %s: skipped %s: %s",
            self.collection,
            self.workspace,
            key,
            reason,
        )
        self.index_mismatches.append(SkippedObject(key=key, reason=reason))

    def _where(self, where: Mapping[str, object] | None) -> Mapping[str, object] | None:
        if where is not None and isinstance(where, Mapping):
            for name in where:
                if not isinstance(name, str) or name not in self.schema.by_name:
                    raise InvalidInputError(f"where: {name!r} is not a declared field")
        return where

    async def query(
        self,
        *,
        where: Mapping[str, object] | None = None,
        order_by: str = STORED,
        descending: bool = False,
        limit: int | None = None,
        start_after: str | None = None,
    ) -> RecordPage:
        """Records matching ``where``, in ``order_by`` order, ``limit`` at a time.

        ``where`` maps declared fields to a value (equality, None for null) or to
        ``{"eq"|"gt"|"gte"|"lt"|"lte": value}`` (ranges on number and datetime fields).
        ``order_by``: ``"stored"`` (insertion order: the order the index committed the
        records) or a declared field (nulls first; ties by partition, then id segment).
        Pass the page's ``cursor`` as ``start_after`` for the next page.
        Cost: the index read (warm: 1 GET; cold: 2 LISTs + the manifest, the chunks that
        can match and the tail segments) + 1 GET per record returned.
        """
        if not isinstance(order_by, str):
            raise InvalidInputError("order_by must be 'stored' or a declared field")
        if order_by != STORED and order_by not in self.schema.by_name:
            raise InvalidInputError(f"order_by: {order_by!r} is not 'stored' or a declared field")
        index_order = "_commit" if order_by == STORED else order_by
        if limit is not None:
            check_int(limit, what="limit")
        where = self._where(where)
        out: builtins.list[Record] = []
        cursor = start_after
        while True:
            want = None if limit is None else limit - len(out)
            page = await self.index.query(
                where=where,
                order_by=index_order,
                descending=descending,
                limit=want,
                start_after=cursor,
            )
            out.extend(await self._checked(page.entries))
            cursor = page.cursor
            if cursor is None or (limit is not None and len(out) >= limit):
                return RecordPage(out, cursor)

    async def count(self, *, where: Mapping[str, object] | None = None) -> int:
        """How many records match ``where`` (from the index alone: reads no record)."""
        return await self.index.count(where=self._where(where))

    async def aggregate(
        self,
        *,
        where: Mapping[str, object] | None = None,
        group_by: str | None = None,
        sum: Sequence[str] = (),
    ) -> dict[Value, AggregateRow]:
        """Count, and sum declared number fields, of records matching ``where``, per
        value of ``group_by`` (one group keyed None without it); from the index alone.
        E.g. ``aggregate(where={"run_id": r}, group_by="node_id", sum=["cost"])``."""
        return await self.index.aggregate(where=self._where(where), group_by=group_by, sum=sum)

    async def close(self) -> None:
        """Wait for pending index writes."""
        await self.index.close()

    def __repr__(self) -> str:
        return f"<RecordCollection {self.collection!r} workspace={self.workspace!r}>"
