"""Queries of a stream by declared fields, through an Index v2 that readers keep up to date.

**Declaring.** ``AuditStore.stream_fields(stream, {"agent_id": "string", "risk": "number"})``
names the top-level event fields to index (kinds of :mod:`cloudstores.stores.index.fields`).
Two more are always there: ``ts`` (the entry's timestamp, datetime) and ``obj`` (the first
seq of the object holding the entry, so a result is one GET). The declaration lives in
the store instance (no request): each distinct set of fields gets its own index, under
``audit/{stream}/ix/{schema id}/`` where the schema id is a hash of the declaration, so
two processes that declare the same fields share one index and a changed declaration
builds a new one instead of mixing two.

**Who indexes.** Writers do not: an append costs what it did (group commit unchanged),
and a writer that never heard of the declaration cannot leave entries out. The index is
brought up to the stream's tail by whoever queries (or calls ``refresh_index``): it reads
the entries after the index's coverage mark, adds their fields as one index segment,
then writes a new coverage mark ``ix/{id}/w/{10**20 - 1 - upto:020d}.json`` (create-only; the
first key listed is the newest mark). A crash between the two re-indexes the same
entries next time: entries are keyed by seq, so a repeat changes nothing.

**Values.** A declared field's value is the event's top-level value of that name; a value
that does not fit the declared kind (or is absent) is indexed as null, so it matches only
``where={"f": None}``.

**Checks.** Every entry a query returns is read from its chain object (the last 256
objects read are kept: they are create-only) and checked: it is
the seq the index names, it belongs to this stream and workspace, its hash is its
content's, and it really matches the query. Any mismatch raises IntegrityError (never a
wrong answer). What the index cannot show cheaply is an entry it lacks (a deleted index
object or a forged coverage mark); ``verify`` and ``Index.problems`` are the tools there.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
from collections import OrderedDict
from collections.abc import AsyncIterator, Callable, Iterable, Mapping
from datetime import datetime

from cloudstores import codec
from cloudstores.errors import AlreadyExistsError, IntegrityError, InvalidInputError, NotFoundError
from cloudstores.keys import key_number, numbered_key
from cloudstores.stores.audit import chain
from cloudstores.stores.audit.models import MAX_BATCH_LIMIT, AuditEntry, AuditPage
from cloudstores.stores.audit.reader import read_object
from cloudstores.stores.audit.records import StoredEntry
from cloudstores.stores.audit.state import StoreContext, StreamState
from cloudstores.stores.index import Field, Index, IndexEntry, IndexOptions, Schema
from cloudstores.stores.index.fields import Value
from cloudstores.stores.index.query import Where, compile_where, parse_cursor
from cloudstores.stores.objects import gather_limited

__all__ = ["RESERVED", "Order", "StreamIndex", "declare"]

RESERVED = ("ts", "obj")
"""Field names the audit index sets itself."""
Order = str
"""``"seq"`` (stream order), ``"ts"`` (entry time, then seq) or a declared field's name
(its value, nulls first, then seq)."""
_MARK_TOP = 10**20 - 1
_INDEX_BATCH = 1000
_CACHED_OBJECTS = 256
"""Entry objects a query index keeps after returning their entries."""
Reader = Callable[[int], AsyncIterator[AuditEntry]]


def declare(fields: object) -> tuple[Schema, str]:
    """The index schema of declared ``fields`` and its id; InvalidInputError if bad.

    ``fields``: a mapping of name to kind (``"string" | "number" | "datetime" | "bool"``)
    or :class:`Field`, or an iterable of :class:`Field`.
    """
    declared: list[Field] = []
    if isinstance(fields, Mapping):
        for name, spec in fields.items():
            if isinstance(spec, Field):
                if spec.name != name:
                    raise InvalidInputError(f"field {name!r} is declared as {spec.name!r}")
                declared.append(spec)
            else:
                declared.append(Field(name, spec))
    elif isinstance(fields, Iterable) and not isinstance(fields, str | bytes):
        declared = list(fields)
        if not all(isinstance(f, Field) for f in declared):
            raise InvalidInputError("fields: a mapping of name to kind, or Field objects")
    else:
        raise InvalidInputError("fields: a mapping of name to kind, or Field objects")
    if not declared:
        raise InvalidInputError("declare at least one field")
    for f in declared:
        if f.name in RESERVED:
            raise InvalidInputError(f"field name {f.name!r} is reserved by the audit index")
    schema = Schema((*declared, Field("ts", "datetime"), Field("obj", "number")))
    schema_id = hashlib.sha256(codec.dumps(schema.describe())).hexdigest()[:16]
    return schema, schema_id


def _fit(field: Field, value: object) -> Value:
    """``value`` as the index stores it, or None when it does not fit the field."""
    if value is None or field.problem(value, stored=False) is not None:
        return None
    return field.normalize(value)


class StreamIndex:
    """The query index of one stream and one declaration, in one store instance."""

    def __init__(
        self,
        ctx: StoreContext,
        state: StreamState,
        schema: Schema,
        schema_id: str,
        read: Reader,
        options: IndexOptions | None = None,
    ) -> None:
        self.ctx = ctx
        self.state = state
        self.keys = state.keys
        self.schema = schema
        self.user_fields = [f for f in schema.fields if f.name not in RESERVED]
        self.prefix = self.keys.index_prefix(schema_id)
        self.marks = self.prefix + "w/"
        self.index = Index(ctx.bucket, self.prefix, schema, options=options)
        self._read = read
        self._upto: int | None = None
        self._lock = asyncio.Lock()
        self._objects: OrderedDict[int, list[StoredEntry]] = OrderedDict()
        """Entry objects read for results, by first seq (create-only, so never stale)."""

    # ------------------------------------------------------------------ building
    def fields_of(self, event: Mapping[str, object]) -> dict[str, Value]:
        return {f.name: _fit(f, event.get(f.name)) for f in self.user_fields}

    def _entry(self, entry: AuditEntry) -> IndexEntry:
        start = self.state.spans.find(entry.seq)
        fields: dict[str, object] = dict(self.fields_of(entry.event))
        fields["ts"] = entry.ts
        fields["obj"] = entry.seq if start is None else start
        return self.index.entry(f"{entry.seq:020d}", fields)

    async def _read_mark(self) -> int:
        """The newest coverage mark (0 if none): the first key listed (one LIST page)."""
        async for info in self.ctx.bucket.list(self.marks):
            try:
                return _MARK_TOP - key_number(info.key, self.marks)
            except IntegrityError:
                self.index.problems.report(info.key, "not a coverage mark key")
        return 0

    async def catch_up(self) -> int:
        """Index the entries after the coverage mark; how many were added.

        Cost: the first time, one LIST of the marks; then one HEAD at the mark (nothing
        new: done), else the reads of ``AuditStore.read`` from the mark, one index
        segment PUT per 1,000 entries and one mark PUT.
        """
        async with self._lock:
            if self._upto is None:
                self._upto = await self._read_mark()
            upto = self._upto
            try:
                await self.ctx.bucket.head(self.keys.entry(upto))
            except NotFoundError:
                return 0
            new = [self._entry(e) async for e in self._read(upto)]
            if not new:
                return 0
            for at in range(0, len(new), _INDEX_BATCH):
                await self.index.add(new[at : at + _INDEX_BATCH])
            end = int(new[-1].key) + 1
            with contextlib.suppress(AlreadyExistsError):
                await self.ctx.bucket.put(
                    numbered_key(self.marks, _MARK_TOP - end), b"", mode="create"
                )
            self._upto = end
            return len(new)

    # ------------------------------------------------------------------ querying
    def compile(
        self,
        where: Mapping[str, object] | None,
        since: datetime | None,
        until: datetime | None,
        order: object,
        descending: object,
        start_after: object,
    ) -> tuple[dict[str, object], Where]:
        """The index's ``where`` for a query, checked before any request."""
        if where is not None and not isinstance(where, Mapping):
            raise InvalidInputError("where must be a mapping of declared field to condition")
        combined: dict[str, object] = dict(where or {})
        for name in (*RESERVED, "_key"):
            if name in combined:
                raise InvalidInputError(
                    f"where: {name!r} is not a declared field (use since/until)"
                )
        span: dict[str, object] = {}
        for name, op, value in (("since", "gte", since), ("until", "lte", until)):
            if value is None:
                continue
            if not isinstance(value, datetime) or value.tzinfo is None:
                raise InvalidInputError(f"{name} must be a timezone-aware datetime")
            span[op] = value
        if since is not None and until is not None and until < since:
            raise InvalidInputError("until is earlier than since")
        if span:
            combined["ts"] = span
        if not isinstance(order, str) or (
            order not in ("seq", "ts") and order not in {f.name for f in self.user_fields}
        ):
            raise InvalidInputError("order must be 'seq', 'ts' or a declared field")
        if not isinstance(descending, bool):
            raise InvalidInputError("descending must be a bool")
        if start_after is not None:
            if not isinstance(start_after, str):
                raise InvalidInputError("start_after must be a cursor string")
            parse_cursor(start_after, _order_field(order), descending)
        return combined, compile_where(self.schema, combined)

    async def query(
        self,
        where: dict[str, object],
        compiled: Where,
        *,
        order: Order,
        descending: bool,
        limit: int | None,
        start_after: str | None,
    ) -> AuditPage:
        await self.catch_up()
        page = await self.index.query(
            where=where,
            order_by=_order_field(order),
            descending=descending,
            limit=limit,
            start_after=start_after,
        )
        entries = await self.fetch(page.entries, compiled)
        return AuditPage(entries=tuple(entries), cursor=page.cursor)

    async def fetch(self, rows: list[IndexEntry], compiled: Where) -> list[AuditEntry]:
        """The chain entries the index rows name, each checked (IntegrityError if not)."""
        wanted: list[tuple[int, int]] = []
        for row in rows:
            seq = _seq_of(row.key)
            obj = row.fields.get("obj")
            if (
                seq is None
                or not isinstance(obj, int)
                or isinstance(obj, bool)
                or not 0 <= seq - obj < MAX_BATCH_LIMIT
            ):
                raise IntegrityError(
                    f"index row {row.key!r} of stream {self.keys.stream!r} is not valid",
                    key=self.prefix,
                )
            wanted.append((seq, obj))
        starts = sorted({obj for _, obj in wanted} - set(self._objects))

        async def get(start: int) -> list[StoredEntry]:
            return await read_object(self.ctx.bucket, self.keys, self.state.spans, start)

        fetched = await gather_limited(starts, get, self.ctx.options.read_concurrency)
        objects = {obj: self._objects[obj] for _, obj in wanted if obj in self._objects}
        objects.update(zip(starts, fetched, strict=True))
        found = [self._checked(seq, obj, objects[obj], compiled) for seq, obj in wanted]
        for start, entries in objects.items():  # checked: keep them (objects never change)
            self._objects[start] = entries
            self._objects.move_to_end(start)
        while len(self._objects) > _CACHED_OBJECTS:
            self._objects.popitem(last=False)
        return found

    def _checked(
        self, seq: int, obj: int, entries: list[StoredEntry], compiled: Where
    ) -> AuditEntry:
        key = self.keys.entry(obj)
        entry = entries[seq - obj] if seq - obj < len(entries) else None
        if (
            entry is None
            or entry["stream"] != self.keys.stream
            or entry["ws"] != self.ctx.workspace
            or chain.recompute_hash(entry) != entry["hash"]
        ):
            raise IntegrityError(
                f"index names entry {seq} of stream {self.keys.stream!r}, "
                "which its object does not hold intact (run verify)",
                key=key,
            )
        found = chain.entry_from_dict(entry, key=key)
        fields: dict[str, object] = dict(self.fields_of(found.event))
        fields["ts"] = found.ts
        fields["obj"] = obj
        if not compiled.test(self.index.entry(f"{seq:020d}", fields)):
            raise IntegrityError(
                f"index says entry {seq} of stream {self.keys.stream!r} matches; "
                "the entry does not (the index was altered)",
                key=key,
            )
        return found


def _order_field(order: str) -> str:
    """The index field an ``order`` sorts by (seq is the entry's key)."""
    return "_key" if order == "seq" else order


def _seq_of(key: str) -> int | None:
    if len(key) != 20 or not key.isascii() or not key.isdigit():
        return None
    return int(key)
