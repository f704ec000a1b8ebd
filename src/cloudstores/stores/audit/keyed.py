"""Appends with a unique key: at most one entry per key and stream, across processes.

**Protocol.** ``append(stream, event, key=k)``:

1. **Claim.** PUT the key's marker ``k/{sha256(k)}/m`` create-only. It holds the key,
   the event (canonical), the entry's ``ts`` and ``start``: a sequence number at or
   below the stream's size when the marker was written (the end of an object this
   process has seen). Every entry carrying ``k`` is written after the marker exists,
   so it lies at ``start`` or later. Once the marker landed the append is decided:
   whoever finishes the next steps appends *the marker's* event and ``ts``.
2. **Append, exactly once.** A keyed commit PUTs an entry object (format 2: the entry
   carries ``"key"``) create-only at the tail, after reading **every** object from the
   smallest ``start`` of its keys up to that tail and finding none of its keys there.
   Objects are never rewritten and every keyed writer checks the whole range below the
   number it writes, so of two writers of one key only the first can land: the second
   either sees the first's object on its walk, or loses the race for the number and
   reads it then. A key found on the walk is not appended again; its entry is returned.
3. **Bind.** PUT ``k/{sha256(k)}/s`` create-only: the seq, its object's first seq and the
   entry hash, so a later append or lookup of ``k`` finds the entry in three GETs.

A second append of ``k`` (same or another process, a retried request, the next call
after a crash) loses step 1, GETs the marker, and completes steps 2-3 from the marker
(a crash after the marker never burns the key): the original entry is returned if the
event is identical (canonical bytes), AlreadyExistsError otherwise.

**Costs (requests).** A new key on a warm writer: 3 PUTs (marker, entry, binding); a
cold store first finds the tail (LIST checkpoints, LIST entries, GET the last object,
GET a probe). A repeated key: PUT (refused) + GET marker + GET binding + GET object. A
key whose marker was left by a crash: the walk from its ``start`` (one LIST page and one
GET per object written since) + PUT entry + PUT binding. Keyed appends are
group-committed like plain ones (one entry object for many keys); plain appends do not
go through this path and keep their cost.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from typing import Any

import orjson

from cloudstores import codec
from cloudstores.errors import (
    AlreadyExistsError,
    ConflictError,
    IntegrityError,
    InvalidInputError,
    NotFoundError,
)
from cloudstores.stores.audit import chain
from cloudstores.stores.audit.models import MAX_BATCH_LIMIT, AuditEntry
from cloudstores.stores.audit.reader import fetch_objects, list_objects, numbered, read_object
from cloudstores.stores.audit.records import StoredEntry
from cloudstores.stores.audit.state import StoreContext, StreamState
from cloudstores.stores.audit.writer import StreamWriter
from cloudstores.stores.group_commit import Bound, GroupCommit

__all__ = ["MAX_KEY_BYTES", "KeyedLane", "check_key"]

MAX_KEY_BYTES = 1024
"""Largest unique key, UTF-8 bytes."""
MAX_MARKER_BYTES = 80 * 1024 * 1024
_MARKER_FIELDS = frozenset({"event", "key", "start", "stream", "ts", "v", "ws"})
_BINDING_FIELDS = frozenset({"hash", "key", "obj", "seq", "v"})
_SEEN_LIMIT = 20_000
"""Keys of recent keyed entries a lane remembers (older ones are re-read on demand)."""
_MAX_RACES = 10_000


def check_key(key: object) -> str:
    """A unique key: a non-empty ``str`` of at most ``MAX_KEY_BYTES`` UTF-8 bytes (any
    characters; the bucket key is its SHA-256). InvalidInputError before any request."""
    if not isinstance(key, str) or not key:
        raise InvalidInputError(f"key must be a non-empty str, not {key!r}")
    try:
        size = len(key.encode("utf-8"))
    except UnicodeEncodeError as exc:
        raise InvalidInputError("key must be valid unicode (no lone surrogates)") from exc
    if size > MAX_KEY_BYTES:
        raise InvalidInputError(f"key is over {MAX_KEY_BYTES} bytes")
    return key


@dataclass(frozen=True, slots=True)
class Claim:
    """What a key's marker says: append this event, at this ts, somewhere >= start."""

    key: str
    event: bytes
    ts: str
    start: int


def _claim_size(claim: Claim) -> int:
    return len(claim.event) + 400 + len(claim.key)


def _one(_: Claim) -> int:
    return 1


class KeyedLane:
    """Keyed appends of one store instance to one stream (beside its ``StreamWriter``).

    Keeps its own view of the tail, plus the keys of the keyed entries in the objects
    it has read from ``_scanned_from`` up to that tail (``_seen``).
    """

    def __init__(self, ctx: StoreContext, state: StreamState, writer: StreamWriter) -> None:
        self.ctx = ctx
        self.state = state
        self.keys = state.keys
        self.writer = writer
        options = ctx.options
        self._group: GroupCommit[Claim, AuditEntry] = GroupCommit(
            self._commit_batch,
            (Bound(_one, options.max_batch), Bound(_claim_size, options.max_batch_bytes)),
            max_wait=options.max_wait,
            stopped=lambda: ConflictError("keyed audit writer stopped"),
        )
        self._next: int | None = None
        self._head = chain.GENESIS
        self._scanned_from = 0
        self._seen: dict[str, AuditEntry] = {}
        self.appended = False
        """Whether this lane wrote an entry (``close`` then seals the stream)."""

    # ------------------------------------------------------------------ appending
    async def append(self, key: str, event: bytes, ts: str) -> AuditEntry:
        """Append ``event`` under ``key`` (see the module docstring)."""
        start = self._next
        if start is None:
            start = await self._find_tail()
        claim = Claim(key, event, ts, start)
        try:
            await self.ctx.bucket.put(
                self.keys.key_marker(key),
                self._encode_marker(claim),
                mode="create",
                content_type="application/json",
            )
        except AlreadyExistsError:
            stored = await self.read_marker(key)
            entry = await self.resolve(stored, bound_first=True)
            if stored.event != event:
                raise AlreadyExistsError(
                    f"stream {self.keys.stream!r} already has key {key!r} (entry {entry.seq}) "
                    "with another event",
                    key=self.keys.key_marker(key),
                ) from None
            return entry
        return await self.resolve(claim, bound_first=False)

    async def lookup(self, key: str) -> AuditEntry | None:
        """The entry of ``key``, completing a claim left by a crash; None if unclaimed."""
        try:
            claim = await self.read_marker(key)
        except NotFoundError:
            return None
        return await self.resolve(claim, bound_first=True)

    async def resolve(self, claim: Claim, *, bound_first: bool) -> AuditEntry:
        """The entry of a claimed key: from its binding, else appended (or found) now."""
        if bound_first:
            found = await self._bound(claim.key)
            if found is not None:
                return found
        entry = await self._group.submit(claim)
        obj = self.state.spans.find(entry.seq)
        with contextlib.suppress(AlreadyExistsError):
            await self.ctx.bucket.put(
                self.keys.key_binding(claim.key),
                codec.dumps(
                    {
                        "hash": entry.hash,
                        "key": claim.key,
                        "obj": entry.seq if obj is None else obj,
                        "seq": entry.seq,
                        "v": 1,
                    }
                ),
                mode="create",
                content_type="application/json",
            )
        return entry

    # ------------------------------------------------------------------ markers
    def _encode_marker(self, claim: Claim) -> bytes:
        body = {
            "event": orjson.Fragment(claim.event),
            "key": claim.key,
            "start": claim.start,
            "stream": self.keys.stream,
            "ts": claim.ts,
            "v": 1,
            "ws": self.ctx.workspace,
        }
        return orjson.dumps(body, option=orjson.OPT_SORT_KEYS)

    async def read_marker(self, key: str) -> Claim:
        """GET and check a key's marker (IntegrityError if it is not this key's)."""
        where = self.keys.key_marker(key)
        obj = await self.ctx.bucket.get(where)
        if len(obj.data) > MAX_MARKER_BYTES:
            raise IntegrityError("key marker is too large", key=where)
        doc = codec.loads(obj.data, key=where)
        if (
            not isinstance(doc, dict)
            or set(doc) != _MARKER_FIELDS
            or doc["v"] != 1
            or doc["key"] != key
            or doc["stream"] != self.keys.stream
            or doc["ws"] != self.ctx.workspace
            or not isinstance(doc["event"], dict)
            or not isinstance(doc["ts"], str)
            or not _is_seq(doc["start"])
        ):
            raise IntegrityError(f"key marker of {key!r} is not a valid claim", key=where)
        chain.parse_ts(doc["ts"], key=where)
        # in this lane's entry format, so it compares with (and is appended like) a new
        # event; SerializationError: a format-3 lane cannot carry the stored event exactly
        event = chain.reencode_event(doc["event"], self.ctx.options.entry_format)
        return Claim(key, event, doc["ts"], doc["start"])

    async def _bound(self, key: str) -> AuditEntry | None:
        """The entry a key's binding names (checked against its object), None if unbound."""
        where = self.keys.key_binding(key)
        try:
            doc = codec.loads((await self.ctx.bucket.get(where)).data, key=where)
        except NotFoundError:
            return None
        if (
            not isinstance(doc, dict)
            or set(doc) != _BINDING_FIELDS
            or doc["v"] != 1
            or doc["key"] != key
            or not _is_seq(doc["seq"])
            or not _is_seq(doc["obj"])
            or not doc["obj"] <= doc["seq"] < doc["obj"] + MAX_BATCH_LIMIT
        ):
            raise IntegrityError(f"key binding of {key!r} is not valid", key=where)
        entries = await read_object(self.ctx.bucket, self.keys, self.state.spans, doc["obj"])
        index = doc["seq"] - doc["obj"]
        entry = entries[index] if index < len(entries) else None
        if (
            entry is None
            or entry.get("key") != key
            or entry["hash"] != doc["hash"]
            or entry["stream"] != self.keys.stream
            or entry["ws"] != self.ctx.workspace
            or chain.recompute_hash(entry) != entry["hash"]
        ):
            raise IntegrityError(
                f"key binding of {key!r} names entry {doc['seq']}, which does not carry it",
                key=where,
            )
        return chain.entry_from_dict(entry, key=self.keys.entry(doc["obj"]))

    # ------------------------------------------------------------------ the tail
    async def _find_tail(self) -> int:
        """The stream's size (a claim's ``start``); adopted as this lane's tail unless a
        commit is running (which keeps its own view, and walks if it lost it)."""
        head = await self.writer.head()
        if self._next is None and not self._group.busy:
            self._set_tail(head.size, head.hash)
            self._scanned_from = head.size
            self._seen.clear()
        return head.size

    def _set_tail(self, next_seq: int, head: str) -> None:
        self._next, self._head = next_seq, head

    def _note(self, first: int, entries: list[StoredEntry]) -> None:
        """An object read or written at ``first``: its keys are seen, the tail moves on."""
        key = self.keys.entry(first)
        for entry in entries:
            if "key" in entry:
                self._seen[entry["key"]] = chain.entry_from_dict(entry, key=key)
        self._set_tail(first + len(entries), entries[-1]["hash"])

    def _prune(self) -> None:
        """Forget the older half of the keys seen once there are too many (between
        commits only: a commit needs every key of its range)."""
        if len(self._seen) > _SEEN_LIMIT:
            ordered = sorted(self._seen.items(), key=lambda kv: kv[1].seq)
            drop = ordered[: len(ordered) // 2]
            for k, _ in drop:
                del self._seen[k]
            self._scanned_from = drop[-1][1].seq + 1

    async def _walk(self, start: int) -> None:
        """Read every object from the one holding ``start`` to the tail, noting keys."""
        self._seen.clear()
        self._scanned_from = start
        expected: int | None = None
        self._set_tail(0, chain.GENESIS)
        items = list_objects(self.ctx.bucket, self.keys, start)
        fetched = fetch_objects(self.ctx.bucket, items, self.ctx.options.read_concurrency)
        async with contextlib.aclosing(fetched):
            async for (first, key), data in fetched:
                if isinstance(data, BaseException):
                    raise data
                entries = chain.parse_object(data, key=key)
                if expected is not None and first != expected:
                    raise IntegrityError(
                        f"stream {self.keys.stream!r} has a gap at {expected} (run verify)", key=key
                    )
                if [e["seq"] for e in entries] != list(range(first, first + len(entries))):
                    raise IntegrityError(f"object at {first} holds other seqs", key=key)
                expected = first + len(entries)
                self.state.spans.add(first, len(entries))
                self._note(first, entries)
        if expected is None and start > 0:
            raise IntegrityError(
                f"stream {self.keys.stream!r} has no entry at {start - 1} (run verify)",
                key=self.keys.entry(start),
            )

    async def _adopt(self, first: int) -> None:
        entries = await read_object(self.ctx.bucket, self.keys, self.state.spans, first)
        self._note(first, entries)

    async def _list_forward(self, start: int) -> None:
        """After several lost races: LIST from ``start`` and read every object there."""
        after = self.keys.entry(start)
        firsts = [start]
        listed = self.ctx.bucket.list(self.keys.e_prefix, start_after=after)
        async for number, _ in numbered(listed, self.keys.e_prefix):
            firsts.append(number)
        for first in firsts:
            if first != self._next:
                raise IntegrityError(
                    f"stream {self.keys.stream!r} has a gap at {self._next} (run verify)",
                    key=self.keys.entry(first),
                )
            await self._adopt(first)

    # ------------------------------------------------------------------ committing
    async def _commit_batch(self, claims: list[Claim]) -> list[AuditEntry]:
        unique: dict[str, Claim] = {}
        for claim in claims:
            unique.setdefault(claim.key, claim)
        lowest = min(c.start for c in unique.values())
        if self._next is None or lowest < self._scanned_from:
            await self._walk(lowest)
        done: dict[str, AuditEntry] = {}
        losses = 0
        for _ in range(_MAX_RACES):
            todo = [c for c in unique.values() if c.key not in self._seen]
            if not todo:
                break
            assert self._next is not None
            seq0 = self._next
            try:
                await self._put(seq0, todo)
            except AlreadyExistsError:
                losses += 1
                try:
                    if losses >= 3:
                        await self._list_forward(seq0)
                    else:
                        await self._adopt(seq0)
                except NotFoundError:
                    await self._walk(lowest)
                continue
            except BaseException:
                self._next = None  # it may have landed: walk again next time
                raise
            self.appended = True
            break
        else:
            raise ConflictError(
                f"gave up appending keys to stream {self.keys.stream!r} after {_MAX_RACES} races",
                key=self.keys.e_prefix,
            )
        for key in unique:
            done[key] = self._seen[key]
        self._prune()
        return [done[c.key] for c in claims]

    async def _put(self, seq0: int, todo: list[Claim]) -> None:
        if seq0 == 0:
            with contextlib.suppress(AlreadyExistsError):
                await self.ctx.bucket.put(self.keys.registry, b"", mode="create")
        prev = self._head
        stored: list[bytes] = []
        parsed: list[StoredEntry] = []
        for i, claim in enumerate(todo):
            data, prev = chain.build_entry(
                workspace=self.ctx.workspace,
                stream=self.keys.stream,
                seq=seq0 + i,
                ts=claim.ts,
                event=claim.event,
                prev=prev,
                key=claim.key,
                entry_format=self.ctx.options.entry_format,
            )
            stored.append(data)
            parsed.append(orjson.loads(data))
        await self.ctx.bucket.put(
            self.keys.entry(seq0),
            chain.encode_object(stored),
            mode="create",
            content_type="application/json",
        )
        self.state.spans.add(seq0, len(todo))
        self._note(seq0, parsed)

    async def flush(self) -> None:
        await self._group.flush()


def _is_seq(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0
