"""DocumentStore: named JSON documents with numbered, create-only versions.

Keys under ``ws/{workspace}/``::

    documents/{collection}/{encode_id(id)}/{version:020d}.json   one version, create-only
    blobs/{sha256}.json                                          a bytes value, raw, shared
    _index/documents/{collection}/...                            the index (index-format.md)

A put, an update and a delete each write the document's next version number with a
create-only PUT (a delete writes a tombstone version); a writer that loses the race for
a number reads what landed and decides again on top of it. Nothing is ever overwritten,
so the store works on WORM buckets. The newest version wins; a document whose newest
version is a tombstone, or whose ``expires_at`` is at or before the reader's clock, reads
as missing everywhere (``get``, ``query``, ``count``, ``aggregate``).

A value is any JSON that comes back as itself (``stores/content.py``: a ``datetime``,
``tuple``, nested ``bytes``... is refused before any request), or ``bytes`` as the whole
value: those go to a content-addressed blob (one create-only PUT more per write, one GET
more per read of an uncached version) and come back as ``bytes``.

Any id (``user:42``, ``a/b``, unicode, 16 KiB) is one key segment by
:func:`cloudstores.ids.encode_id`; the full id is in every version object and checked on
read (a long id's segment is a hash and cannot be decoded). Everything read is
untrusted: sizes are bounded, the checksum, shape, collection, id and version are
checked against the key (IntegrityError naming it). Index entries are hints: a query
reads each document it returns and skips, and reports in ``index_mismatches``, one whose
object contradicts its entry. See ``docs/documents.md`` for the costs.
"""

from __future__ import annotations

import builtins
import uuid
from collections import OrderedDict, deque
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any, Final

from cloudstores import codec
from cloudstores._resource import AsyncResource
from cloudstores.bucket.base import Bucket
from cloudstores.errors import (
    AlreadyExistsError,
    IntegrityError,
    InvalidIdError,
    InvalidInputError,
    NotFoundError,
    PreconditionFailedError,
)
from cloudstores.ids import decode_id, encode_id, validate_any_id
from cloudstores.keys import DEFAULT_WORKSPACE, validate_id
from cloudstores.models import SkippedObject
from cloudstores.stores.content import Pointer, check_content, get_blob, put_blob
from cloudstores.stores.content import encode as encode_content
from cloudstores.stores.document_format import (
    NO_EXPIRY,
    Document,
    FieldSpec,
    Stored,
    build_schema,
    declare_fields,
    decode,
    encode,
    index_fields,
    load_value,
    time_text,
)
from cloudstores.stores.group_commit import Bound, GroupCommit
from cloudstores.stores.index import AggregateRow, Field, Index, IndexEntry, IndexOptions
from cloudstores.stores.index.fields import Value
from cloudstores.stores.layout import WorkspaceLayout
from cloudstores.stores.objects import (
    MAX_CONCURRENCY,
    check_callable,
    check_int,
    gather_limited,
    log,
    put_json,
)
from cloudstores.stores.versions import VersionChain

__all__ = ["CREATE_ONLY", "Document", "DocumentPage", "DocumentStore"]

MAX_DOCUMENT_BYTES = 4 * 1024 * 1024
MAX_MISMATCHES = 1000
MAX_UPDATES_PER_VERSION = 1000
_DIGITS = 20


class _CreateOnly:
    def __repr__(self) -> str:
        return "CREATE_ONLY"


CREATE_ONLY: Final = _CreateOnly()
"""``put(..., expected_version=CREATE_ONLY)``: write only if no live document has the id."""
_MISSING: Final = object()
_KEEP: Final = object()

Clock = Callable[[], datetime]
Expiry = datetime | timedelta | None


@dataclass(frozen=True, slots=True)
class DocumentPage:
    """One page of a query: the documents, and the cursor of the next page (None: no more)."""

    documents: list[Document]
    cursor: str | None


@dataclass(slots=True)
class _Update:
    op: str
    fn: Callable[[Any], Any]
    default: tuple[bytes, bool] | None
    expires_at: object


@dataclass(slots=True)
class _Outcome:
    document: Document | None = None
    error: Exception | None = None


class _Stale(Exception):
    """A decision taken on a cached version would fail: read the newest and decide again."""


Decide = Callable[[Stored | None, int, bool], Awaitable[Stored | None]]


class DocumentStore(AsyncResource):
    """The documents of one collection of one workspace. It does not own the bucket.

    Args:
        fields: the fields the index holds, besides the built-in datetime fields
            ``created_at``, ``updated_at`` and ``expires_at``: Field objects or names
            (string fields), or ``{name: kind}``. A declared field's value is the
            same-named top-level member of an object value (null otherwise).
        clock: the clock of writes (``created_at``/``updated_at``) and of the reader's
            expiry check; defaults to the system clock (UTC).
        cache_bytes: bytes of newest versions kept in memory (a warm ``get`` of an
            unchanged document then needs no GET).
    """

    def __init__(
        self,
        bucket: Bucket,
        collection: str,
        *,
        fields: FieldSpec | tuple[Field, ...] = None,
        workspace: str = DEFAULT_WORKSPACE,
        index_options: IndexOptions | None = None,
        clock: Clock | None = None,
        max_document_bytes: int = MAX_DOCUMENT_BYTES,
        cache_bytes: int = 32 * 1024 * 1024,
        fetch_concurrency: int = 32,
    ) -> None:
        if not isinstance(bucket, Bucket):
            raise InvalidInputError(f"bucket must be a Bucket, not {type(bucket).__name__}")
        layout = WorkspaceLayout(workspace)
        self.collection = validate_collection(collection)
        self.declared = declare_fields(fields)
        check_callable(clock, what="clock")
        self.bucket = bucket
        self.workspace = workspace
        self.max_document_bytes = check_int(
            max_document_bytes, what="max_document_bytes", lo=256, hi=1 << 40
        )
        self.cache_bytes = check_int(cache_bytes, what="cache_bytes", lo=0)
        self.fetch_concurrency = check_int(
            fetch_concurrency, what="fetch_concurrency", lo=1, hi=MAX_CONCURRENCY
        )
        self._clock = clock
        self._prefix = layout.documents(self.collection)
        self.index = Index(
            bucket,
            layout.index("documents", self.collection),
            build_schema(self.declared),
            options=index_options,
        )
        self._chain = VersionChain(bucket, what="document", digits=_DIGITS)
        self._cache: OrderedDict[str, Stored] = OrderedDict()
        self._cache_total = 0
        self._lanes: dict[str, GroupCommit[_Update, _Outcome]] = {}
        self.index_mismatches: deque[SkippedObject] = deque(maxlen=MAX_MISMATCHES)

    # ------------------------------------------------------------------ basics
    def _now(self) -> datetime:
        now = self._clock() if self._clock is not None else datetime.now(UTC)
        if not isinstance(now, datetime) or now.tzinfo is None:
            raise InvalidInputError("clock must return a timezone-aware datetime")
        return now.astimezone(UTC)

    def _doc_prefix(self, seg: str) -> str:
        return f"{self._prefix}{seg}/"

    def _where(self, id: object) -> tuple[str, str]:
        """(key segment, version prefix) of a document id; InvalidIdError if unusable."""
        seg = encode_id(validate_any_id(id, what="document id"), what="document id")
        return seg, self._doc_prefix(seg)

    def _expiry(self, expires_at: object, now: datetime) -> datetime | None:
        if expires_at is None:
            return None
        if isinstance(expires_at, timedelta):
            return now + expires_at
        if isinstance(expires_at, datetime):
            when = expires_at if expires_at.tzinfo else expires_at.replace(tzinfo=UTC)
            return when.astimezone(UTC)
        raise InvalidInputError(
            f"expires_at must be a datetime, a timedelta or None, not {type(expires_at).__name__}"
        )

    def _entry(self, seg: str, stored: Stored) -> IndexEntry:
        if stored.value is None:
            return self.index.entry(seg, {}, version=stored.version, tombstone=True)
        value = None if stored.binary else codec.loads(stored.value)
        fields = index_fields(self.declared, value, stored)
        return self.index.entry(seg, fields, version=stored.version)

    def _encode(self, stored: Stored) -> bytes:
        return codec.check_size(
            encode(self.collection, stored),
            self.max_document_bytes,
            what=f"document {stored.id[:100]!r}",
        )

    def _check_value(
        self, id: str, seg: str, value: tuple[bytes, bool], expires: datetime | None
    ) -> None:
        """Validate an encoded value (size, declared fields) before any request."""
        data, binary = value
        if binary:
            codec.check_size(data, self.max_document_bytes, what=f"document {id[:100]!r}")
        now = self._now()
        probe = Stored(id, 0, data, now, now, expires, (), binary=binary)
        self._encode(probe)
        self._entry(seg, probe)

    def _blob_key(self, digest: str) -> str:
        return WorkspaceLayout(self.workspace).blob(digest)

    def _mismatch(self, key: str, reason: str) -> None:
        log.warning(
            "document index %s of workspace %s: skipped %s: %s",
            self.collection,
            self.workspace,
            key,
            reason,
        )
        self.index_mismatches.append(SkippedObject(key=key, reason=reason))

    # ------------------------------------------------------------------ cache
    def _cached(self, prefix: str) -> Stored | None:
        stored = self._cache.get(prefix)
        if stored is not None:
            self._cache.move_to_end(prefix)
        return stored

    def _remember(self, prefix: str, stored: Stored) -> None:
        old = self._cache.get(prefix)
        if old is not None and old.version >= stored.version:
            return
        size = len(stored.value or b"") + len(stored.id) + 200
        if old is not None:
            self._cache_total -= len(old.value or b"") + len(old.id) + 200
            del self._cache[prefix]
        if size > self.cache_bytes:
            return
        self._cache[prefix] = stored
        self._cache_total += size
        while self._cache_total > self.cache_bytes and self._cache:
            _, dropped = self._cache.popitem(last=False)
            self._cache_total -= len(dropped.value or b"") + len(dropped.id) + 200

    # ------------------------------------------------------------------ reading versions
    async def _read(self, id: str | None, seg: str, version: int) -> Stored:
        """Version ``version`` of the document at ``seg`` (from the cache if it holds
        it), checked against its key. ``id`` None: take it from the body and check it
        encodes to ``seg``."""
        prefix = self._doc_prefix(seg)
        cached = self._cache.get(prefix)
        if cached is not None and cached.version == version:
            return cached
        key = self._chain.key(prefix, version)
        obj = await self.bucket.get(key)
        if len(obj.data) > self.max_document_bytes:
            raise IntegrityError(
                f"stored document {key!r} is {len(obj.data)} bytes, over the limit of "
                f"{self.max_document_bytes}",
                bucket=self.bucket.name,
                key=key,
            )
        stored = decode(obj.data, key=key, collection=self.collection, id=id, version=version)
        if id is None and encode_id(stored.id) != seg:
            raise IntegrityError(
                f"stored document {key!r} holds id {stored.id[:100]!r}, which is not "
                "the id its key names",
                bucket=self.bucket.name,
                key=key,
            )
        if stored.blob is not None:  # a bytes value: 1 GET of its blob, hash-checked
            data = await get_blob(
                self.bucket,
                self._blob_key(stored.blob),
                Pointer(stored.blob, "bytes"),
                max_bytes=self.max_document_bytes,
            )
            stored = replace(stored, value=data)
        return stored

    async def _newest(self, id: str, seg: str) -> Stored | None:
        """The newest version (None if there is none): one LIST from the newest known
        version, and one GET unless the cache holds that version."""
        prefix = self._doc_prefix(seg)
        try:
            version = await self._chain.latest(prefix, name=id)
        except NotFoundError:
            return None
        stored = await self._read(id, seg, version)
        self._remember(prefix, stored)
        return stored

    # ------------------------------------------------------------------ reads
    async def get(self, id: str) -> Document:
        """The document's newest live version. NotFoundError if it has none (never
        written, deleted, or expired by this store's clock).

        Cost: one LIST of its versions from the newest this store knows (one LIST per
        1,000 versions when cold), and one GET unless that version is cached.
        """
        seg, prefix = self._where(id)
        stored = await self._newest(id, seg)
        if stored is None or not stored.live(self._now()):
            raise NotFoundError(
                f"no document {id[:100]!r} in collection {self.collection!r}",
                bucket=self.bucket.name,
                key=self._chain.key(prefix, 0 if stored is None else stored.version),
            )
        return stored.document()

    async def get_or_none(self, id: str) -> Document | None:
        """Like :meth:`get`, but None for a missing document."""
        try:
            return await self.get(id)
        except NotFoundError:
            return None

    async def history(self, id: str) -> builtins.list[Document]:
        """Every version, oldest first, tombstones included (``deleted`` True).
        NotFoundError if there is none. Cost: one LIST per 1,000 versions, one GET each.
        """
        seg, prefix = self._where(id)
        versions = await self._chain.list(
            prefix, start=0, known=self._chain.known.get(prefix), name=id
        )
        found = await gather_limited(
            versions, lambda v: self._read(id, seg, v), self.fetch_concurrency
        )
        return [stored.document() for stored in found]

    # ------------------------------------------------------------------ writes
    async def _write(self, id: str, seg: str, decide: Decide) -> Stored | None:
        """Write the version ``decide(prev, number, fresh)`` returns on top of the newest
        one ``prev`` (None: write nothing), at the next number, by a create-only PUT.

        ``prev`` starts from the cache (``fresh`` False: one PUT when nothing changed);
        ``decide`` raises :class:`_Stale` where a stale ``prev`` could make it refuse.
        A lost race reads the newest version and decides again. Only AlreadyExistsError
        (a version another writer holds: the Bucket has already told its own landed
        earlier attempt apart) leads to another attempt, so a write is never applied
        twice. Then the index entry is added (group-committed).
        """
        prefix = self._doc_prefix(seg)
        prev = self._cached(prefix)
        fresh = prev is None
        blobs: set[str] = set()  # blobs this call has put (a retry needs no second PUT)
        if prev is None:
            prev = await self._newest(id, seg)
        while True:
            version = 0 if prev is None else prev.version + 1
            try:
                new = await decide(prev, version, fresh)
            except _Stale:
                prev, fresh = await self._newest(id, seg), True
                continue
            if new is None:
                return None
            if new.binary and new.value is not None:
                blob = encode_content(new.value)
                if blob.digest not in blobs:
                    await put_blob(self.bucket, self._blob_key(blob.digest), blob)
                    blobs.add(blob.digest)
            try:
                await put_json(self.bucket, self._chain.key(prefix, version), self._encode(new))
            except AlreadyExistsError:
                newest = await self._chain.latest(prefix, name=id, at_least=version)
                prev, fresh = await self._read(id, seg, newest), True
                self._remember(prefix, prev)
                if newest == version and new.ops and set(new.ops) & set(prev.ops):
                    new = prev  # ours after all (an earlier attempt that landed)
                else:
                    continue
            self._chain.note(prefix, version)
            self._remember(prefix, new)
            await self.index.add([self._entry(seg, new)])
            return new

    async def put(
        self,
        id: str,
        value: Any,
        *,
        expected_version: int | _CreateOnly | None = None,
        expires_at: Expiry = None,
    ) -> Document:
        """Store ``value`` (JSON that comes back as itself, or ``bytes``) as the
        document's next version; return it. A ``datetime``, ``tuple``, nested ``bytes``
        and the like are refused (SerializationError naming the path) before any request.

        ``expected_version``: None writes whatever is there; CREATE_ONLY only if no live
        document has the id (AlreadyExistsError otherwise); a number only if the newest
        version is that number (PreconditionFailedError otherwise). ``expires_at`` (a
        datetime, or a timedelta from now) makes it read as missing from then on.

        Cost: one PUT when this store knows the newest version and nothing changed,
        else one LIST and one GET more (each lost race costs those again); plus the
        index entry (one PUT, group-committed with concurrent writes); a ``bytes`` value
        one create-only PUT of its blob more.
        """
        seg, _ = self._where(id)
        if not (expected_version is None or expected_version is CREATE_ONLY):
            check_int(expected_version, what="expected_version")
        check_content(value, what="value")
        encoded = _encoded(value)
        self._check_value(id, seg, encoded, self._expiry(expires_at, self._now()))
        value_bytes, binary = encoded

        async def decide(prev: Stored | None, version: int, fresh: bool) -> Stored:
            now = self._now()
            live = prev is not None and prev.live(now)
            if expected_version is CREATE_ONLY and live:
                if not fresh:
                    raise _Stale
                raise AlreadyExistsError(
                    f"document {id[:100]!r} already exists in collection {self.collection!r}",
                    bucket=self.bucket.name,
                    key=self._chain.key(self._doc_prefix(seg), version - 1),
                )
            if isinstance(expected_version, int) and version - 1 != expected_version:
                if not fresh:
                    raise _Stale
                raise PreconditionFailedError(
                    f"document {id[:100]!r} is at version {version - 1}, not {expected_version}",
                    bucket=self.bucket.name,
                    key=self._chain.key(self._doc_prefix(seg), max(version - 1, 0)),
                )
            created = prev.created_at if live and prev is not None else now
            expiry = self._expiry(expires_at, now)
            return Stored(id, version, value_bytes, created, now, expiry, binary=binary)

        stored = await self._write(id, seg, decide)
        assert stored is not None
        return stored.document()

    async def update(
        self,
        id: str,
        fn: Callable[[Any], Any],
        *,
        default: Any = _MISSING,
        expires_at: Any = _KEEP,
    ) -> Document:
        """Read-modify-write: store ``fn(value)`` as the next version; return the version
        that carries it.

        ``fn`` gets a fresh copy of the newest live value (``default`` if there is none;
        NotFoundError without ``default``) and returns the new value; it may be a
        coroutine function. It runs again on the newer value whenever another writer
        got in first (so it must not have side effects), but its result lands exactly
        once: only a lost create-only race retries, and each version names the update
        calls it carries. Updates of one document made in this process at the same time
        are applied in order into one version (one PUT for all of them); an ``fn`` that
        raises fails only its own call. ``expires_at``: leave out to keep the current
        expiry, None to clear it, a datetime or timedelta to set it. ``fn`` gets and may
        return ``bytes`` too; ``default`` and what ``fn`` returns are checked like
        :meth:`put`'s value (``default`` before any request; a refused result fails the
        call, writing nothing for it).

        Cost: one PUT when this store knows the newest version and nothing changed,
        else one LIST and one GET more per lost race; plus the index entry; a ``bytes``
        result one create-only PUT of its blob more.
        """
        seg, prefix = self._where(id)
        check_callable(fn, what="fn")
        if fn is None:
            raise InvalidInputError("fn must be callable")
        default_value: tuple[bytes, bool] | None = None
        if default is not _MISSING:
            check_content(default, what="default")
            default_value = _encoded(default)
        if expires_at is not _KEEP:
            self._expiry(expires_at, self._now())
        lane = self._lanes.get(prefix)
        if lane is None:
            lane = self._lanes[prefix] = GroupCommit(
                lambda batch: self._apply(id, seg, batch),
                (Bound(lambda _: 1, MAX_UPDATES_PER_VERSION),),
            )
        try:
            outcome = await lane.submit(_Update(uuid.uuid4().hex, fn, default_value, expires_at))
        finally:
            if not lane.busy and self._lanes.get(prefix) is lane:
                del self._lanes[prefix]
        if outcome.error is not None:
            raise outcome.error
        assert outcome.document is not None
        return outcome.document

    async def _apply(self, id: str, seg: str, batch: list[_Update]) -> list[_Outcome]:
        """Apply a batch of updates of one document in order, into one version."""
        outcomes: list[_Outcome] = []

        async def decide(prev: Stored | None, version: int, fresh: bool) -> Stored | None:
            nonlocal outcomes
            now = self._now()
            live = prev is not None and prev.live(now)
            current: tuple[bytes, bool] | None = None
            if live and prev is not None and prev.value is not None:
                current = (prev.value, prev.binary)
            expires = prev.expires_at if live and prev is not None else None
            outcomes = []
            applied: list[str] = []
            for update in batch:
                outcome = _Outcome()
                outcomes.append(outcome)
                base = current if current is not None else update.default
                if base is None:
                    outcome.error = NotFoundError(
                        f"no document {id[:100]!r} in collection {self.collection!r} "
                        "(pass default= to create it)",
                        bucket=self.bucket.name,
                        key=self._chain.key(self._doc_prefix(seg), max(version - 1, 0)),
                    )
                    continue
                try:
                    result = update.fn(load_value(*base))
                    if isinstance(result, Awaitable):
                        result = await result
                    check_content(result, what="fn's result")
                    new_value = _encoded(result)
                    new_expiry = (
                        expires
                        if update.expires_at is _KEEP
                        else self._expiry(update.expires_at, now)
                    )
                    self._check_value(id, seg, new_value, new_expiry)
                except Exception as exc:
                    outcome.error = exc
                    continue
                current, expires = new_value, new_expiry
                applied.append(update.op)
            if len(applied) < len(batch) and not fresh:
                raise _Stale  # a refusal may rest on a stale cached version
            if not applied:
                return None
            created = prev.created_at if live and prev is not None else now
            assert current is not None
            data, binary = current
            return Stored(id, version, data, created, now, expires, tuple(applied), binary)

        stored = await self._write(id, seg, decide)
        for outcome in outcomes:
            if outcome.error is None and stored is not None:
                outcome.document = stored.document()  # a copy each: values are mutable
        return outcomes

    async def delete(self, id: str) -> bool:
        """Hide the document with a tombstone version. True if a live version was
        hidden; False (writing nothing) if it was missing, deleted or expired.

        Cost: like :meth:`put`.
        """
        seg, _ = self._where(id)

        async def decide(prev: Stored | None, version: int, fresh: bool) -> Stored | None:
            now = self._now()
            if prev is None or not prev.live(now):
                if not fresh:
                    raise _Stale
                return None
            return Stored(id, version, None, None, now, None)

        return await self._write(id, seg, decide) is not None

    # ------------------------------------------------------------------ queries
    def _live_where(self, where: Mapping[str, object] | None) -> Mapping[str, object] | None:
        """``where`` and "not expired at the reader's clock" (``expires_at > now``)."""
        if where is not None and not isinstance(where, Mapping):
            return where  # the index refuses it
        now = time_text(self._now())
        merged: dict[str, object] = dict(where or {})
        if "expires_at" not in merged:
            merged["expires_at"] = {"gt": now}
            return merged
        spec = merged["expires_at"]
        ops = dict(spec) if isinstance(spec, Mapping) else {"eq": spec}
        if "eq" in ops and ops["eq"] is None:
            ops["eq"] = NO_EXPIRY
        if "gt" in ops:
            given = self.index.schema.by_name["expires_at"].normalize(ops["gt"])
            ops["gt"] = max(str(given), now)
        else:
            ops["gt"] = now
        merged["expires_at"] = ops
        return merged

    async def query(
        self,
        *,
        where: Mapping[str, object] | None = None,
        order_by: str | None = None,
        descending: bool = False,
        limit: int | None = None,
        start_after: str | None = None,
    ) -> DocumentPage:
        """Live documents matching ``where`` (over declared and built-in fields: values
        for equality, ``{"gt"|"gte"|"lt"|"lte"|"eq": v}`` for ranges), in ``order_by``
        order (a field, ``"_key"``, ``"_commit"``; default: key order), paged by
        ``limit`` and ``start_after`` (the previous page's ``cursor``).

        Cost: the index query (see index-format.md: warm, one GET when nothing is new)
        and one GET per document returned (``fetch_concurrency`` at once). A document
        whose object contradicts its index entry is skipped and reported.
        """
        page = await self.index.query(
            where=self._live_where(where),
            order_by=order_by,
            descending=descending,
            limit=limit,
            start_after=start_after,
        )
        found = await gather_limited(page.entries, self._checked, self.fetch_concurrency)
        return DocumentPage([d for d in found if d is not None], page.cursor)

    async def query_all(
        self,
        *,
        where: Mapping[str, object] | None = None,
        order_by: str | None = None,
        descending: bool = False,
    ) -> builtins.list[Document]:
        """Every live document matching ``where``, in ``order_by`` order: :meth:`query`
        page after page until its cursor runs out (same cost per page)."""
        found: builtins.list[Document] = []
        cursor: str | None = None
        while True:
            page = await self.query(
                where=where, order_by=order_by, descending=descending, start_after=cursor
            )
            found.extend(page.documents)
            if (cursor := page.cursor) is None:
                return found

    async def _checked(self, entry: IndexEntry) -> Document | None:
        """The version an index entry names, if its object agrees with the entry."""
        seg = entry.key
        try:
            id = decode_id(seg)
        except InvalidIdError:
            self._mismatch(self._prefix + seg[:200], "the index key is not a document id")
            return None
        key = self._chain.key(self._doc_prefix(seg), entry.version)
        try:
            stored = await self._read(id, seg, entry.version)
        except NotFoundError:
            self._mismatch(key, "the index lists it but the object is missing")
            return None
        except IntegrityError as exc:
            self._mismatch(key, exc.message)
            return None
        if stored.value is None or dict(self._entry(seg, stored).fields) != dict(entry.fields):
            self._mismatch(key, "the index entry does not match the object")
            return None
        return stored.document()

    async def count(self, *, where: Mapping[str, object] | None = None) -> int:
        """How many live documents match ``where``. Cost: the index query only."""
        return await self.index.count(where=self._live_where(where))

    async def aggregate(
        self,
        *,
        where: Mapping[str, object] | None = None,
        group_by: str | None = None,
        sum: Sequence[str] = (),
    ) -> dict[Value, AggregateRow]:
        """Count, and sum declared number fields, of the live documents matching
        ``where``, per value of ``group_by`` (one group keyed None without it).
        Cost: the index query only."""
        return await self.index.aggregate(where=self._live_where(where), group_by=group_by, sum=sum)

    # ------------------------------------------------------------------ lifecycle
    async def close(self) -> None:
        """Wait for updates in flight and pending index writes."""
        for lane in builtins.list(self._lanes.values()):
            await lane.flush()
        await self.index.close()

    def __repr__(self) -> str:
        return f"<DocumentStore {self.collection!r} workspace={self.workspace!r}>"


def _encoded(value: object) -> tuple[bytes, bool]:
    """A checked value as stored: (canonical JSON, False) or (the bytes, True)."""
    if type(value) is bytes:
        return value, True
    return codec.dumps(value), False


def validate_collection(value: object) -> str:
    """A collection name: 1..100 of ``[A-Za-z0-9._-]``, no ``..`` (InvalidIdError)."""
    return validate_id(value, what="collection", max_length=100)
