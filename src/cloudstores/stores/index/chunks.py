"""Chunks (sorted, size-bounded runs of entries) and the manifest that lists them.

A chunk body is ``{"format": 2, "entries": [entry, ...]}`` with every entry stamped
(``s``, ``i``) and sorted by identity ``(partition, key)``, each identity once. Its key is
``c/{sha256 of the body}.json``, so a reader checks it against the key it came from.

A manifest body is::

    {"format": 2, "n": n, "since": seq, "upto": seq, "schema": {...},
     "chunks": [{"id": sha256, "level": L, "count": c, "bytes": b,
                 "lo": [partition, key], "hi": [partition, key],
                 "min": {field: value}, "max": {field: value}}, ...],
     "cursors": {"L": [partition, key]}}

``upto``: every segment numbered up to it is merged into the chunks or carried in the
manifest's ``tail``; ``since``: the ``upto`` of manifest ``n - 1`` (-1 for the first),
also in the manifest's key. A manifest with a non-empty ``tail`` (stamped entries, as
in a chunk: a folded tail) has ``"format": 3``, so that a format-2 reader skips it
(and reads the segments instead) rather than miss those entries. Within a level,
chunk ranges ``[lo, hi]`` do not overlap. ``min``/``max`` cover non-null values of the
fields other than the partition (``lo``/``hi`` bound it).
"""

from __future__ import annotations

import bisect
import itertools
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import orjson

from cloudstores import codec
from cloudstores.stores.index.entries import Identity, IndexEntry, decode_entry, encode_entry
from cloudstores.stores.index.fields import Schema, Value

__all__ = [
    "ChunkData",
    "ChunkInfo",
    "Manifest",
    "build_chunks",
    "decode_chunk",
    "decode_manifest",
    "encode_manifest",
]

FORMAT = 2
FOLDED_FORMAT = 3
"""A manifest that carries tail entries (``tail``)."""
MAX_LEVELS = 12


@dataclass(frozen=True, slots=True)
class ChunkInfo:
    """One chunk as the manifest describes it."""

    id: str
    level: int
    count: int
    bytes: int
    lo: Identity
    hi: Identity
    min: Mapping[str, Value] = field(default_factory=dict)
    max: Mapping[str, Value] = field(default_factory=dict)

    def overlaps(self, lo: Identity, hi: Identity) -> bool:
        return not (self.hi < lo or hi < self.lo)

    def holds(self, identity: Identity) -> bool:
        return self.lo <= identity <= self.hi

    def at_level(self, level: int) -> ChunkInfo:
        return ChunkInfo(
            self.id, level, self.count, self.bytes, self.lo, self.hi, self.min, self.max
        )

    def encode(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "level": self.level,
            "count": self.count,
            "bytes": self.bytes,
            "lo": list(self.lo),
            "hi": list(self.hi),
            "min": dict(self.min),
            "max": dict(self.max),
        }


class Stats(Mapping[str, Value]):
    """A chunk's ``min`` or ``max`` as read from a manifest, checked as it is used.

    A manifest lists every chunk, a query consults the bounds of the few chunks in its
    range: each value is checked (declared field, right kind, within its bound) on
    first access; an undeclared or invalid one reads as absent ("unknown").
    """

    __slots__ = ("_checked", "_raw", "_schema")

    def __init__(self, schema: Schema, raw: dict[str, Any]) -> None:
        self._schema, self._raw = schema, raw
        self._checked: dict[str, Value] | None = None

    def _all(self) -> dict[str, Value]:
        if self._checked is None:
            self._checked = {n: v for n in self._raw if (v := self._one(n)) is not None}
        return self._checked

    def _one(self, name: str) -> Value:
        value = self._raw.get(name)
        declared = self._schema.by_name.get(name)
        if declared is None or value is None or declared.problem(value) is not None:
            return None
        return value  # type: ignore[no-any-return]

    def __getitem__(self, name: str) -> Value:
        if self._checked is None:
            value = self._one(name)
            if value is None:
                raise KeyError(name)
            return value
        return self._checked[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._all())

    def __len__(self) -> int:
        return len(self._all())


@dataclass(frozen=True, slots=True)
class Manifest:
    n: int
    upto: int
    chunks: tuple[ChunkInfo, ...]
    cursors: dict[int, Identity] = field(default_factory=dict)
    since: int = -1
    """``upto`` of manifest ``n - 1``, the base it was compacted from (-1 for n = 0)."""
    tail: tuple[IndexEntry, ...] = ()
    """Entries of segments ``<= upto`` not merged into chunks (a folded tail)."""

    def level(self, level: int) -> list[ChunkInfo]:
        return [c for c in self.chunks if c.level == level]

    @property
    def levels(self) -> int:
        return max((c.level for c in self.chunks), default=0)


def build_chunks(
    entries: Sequence[IndexEntry], level: int, target_bytes: int, schema: Schema
) -> list[tuple[ChunkInfo, bytes]]:
    """Split identity-sorted ``entries`` into chunks of about ``target_bytes`` each."""
    out: list[tuple[ChunkInfo, bytes]] = []
    group: list[dict[str, Any]] = []
    members: list[IndexEntry] = []
    size = 0

    def flush() -> None:
        body = _dumps({"format": FORMAT, "entries": group})
        lo_v: dict[str, Value] = {}
        hi_v: dict[str, Value] = {}
        for entry in members:
            for name, value in entry.fields.items():
                if value is None or name == schema.partition:  # lo/hi bound the partition
                    continue
                if name not in lo_v or value < lo_v[name]:  # type: ignore[operator]
                    lo_v[name] = value
                if name not in hi_v or value > hi_v[name]:  # type: ignore[operator]
                    hi_v[name] = value
        info = ChunkInfo(
            codec.sha256_hex(body),
            level,
            len(group),
            len(body),
            members[0].identity,
            members[-1].identity,
            lo_v,
            hi_v,
        )
        out.append((info, body))

    for entry in entries:
        encoded = encode_entry(entry, stamp=True)
        cost = len(_dumps(encoded)) + 1
        if group and size + cost > target_bytes:
            flush()
            group, members, size = [], [], 0
        group.append(encoded)
        members.append(entry)
        size += cost
    if group:
        flush()
    return out


def entry_bytes(entry: IndexEntry) -> int:
    """Size of an entry's stamped JSON form (as in a chunk or a folded manifest)."""
    return len(_dumps(encode_entry(entry, stamp=True)))


def canonical_json(value: Any) -> bytes:
    """Canonical JSON of values already checked (finite numbers, text): what
    ``codec.dumps`` writes, without its walk for NaN."""
    return orjson.dumps(value, option=orjson.OPT_SORT_KEYS)


_dumps = canonical_json


class ChunkData:
    """The entries of one chunk read from the bucket, decoded as they are needed.

    When every raw entry has a well-formed identity, in strictly increasing order and
    inside the manifest's ``[lo, hi]`` (checked for all entries at once, cheaply), the
    entries of one partition are found by bisection and only those are validated and
    decoded. Otherwise every entry is decoded at once and the bad ones reported.
    """

    def __init__(
        self, schema: Schema, info: ChunkInfo, key: str, raw: list[Any], report: Any
    ) -> None:
        self.schema, self.info, self.key, self.report = schema, info, key, report
        self._raw = raw
        self._ids: list[Identity] = []
        self._decoded: list[IndexEntry | str | None] = []
        self._all: list[IndexEntry] | None = None
        part = schema.partition
        try:
            for item in raw:
                value = item["f"].get(part, "") if part is not None else ""
                ident = ("" if value is None else value, item["k"])
                if not (isinstance(ident[0], str) and isinstance(ident[1], str)):
                    raise TypeError("identity")
                self._ids.append(ident)
        except (KeyError, TypeError, AttributeError):
            self._ids = []
        ordered = (
            len(self._ids) == len(raw)
            and all(a < b for a, b in itertools.pairwise(self._ids))
            and (not self._ids or (info.lo <= self._ids[0] and self._ids[-1] <= info.hi))
        )
        if ordered:
            self._decoded = [None] * len(raw)
        else:
            self._all = self._decode_all()

    @classmethod
    def built(cls, schema: Schema, info: ChunkInfo, entries: list[IndexEntry]) -> ChunkData:
        """A chunk this process built (or could not read: no entries)."""
        data = cls(schema, info, "", [], None)
        data._all = entries
        return data

    def _decode_all(self) -> list[IndexEntry]:
        kept: list[IndexEntry] = []
        for item in self._raw:
            entry = decode_entry(self.schema, item)
            if isinstance(entry, str):
                self.report(self.key, entry)
            elif kept and entry.identity <= kept[-1].identity:
                self.report(self.key, f"entry {entry.key[:100]!r} is out of order")
            elif not self.info.holds(entry.identity):
                self.report(self.key, f"entry {entry.key[:100]!r} is outside the chunk's range")
            else:
                kept.append(entry)
        return kept

    def entries(self, bounds: tuple[Identity, Identity] | None = None) -> list[IndexEntry]:
        """The valid entries, or only those with an identity within ``bounds``."""
        if self._all is not None:
            if bounds is None:
                return self._all
            return [e for e in self._all if bounds[0] <= e.identity <= bounds[1]]
        if bounds is None:
            start, stop = 0, len(self._raw)
        else:
            start = bisect.bisect_left(self._ids, bounds[0])
            stop = bisect.bisect_right(self._ids, bounds[1])
        out: list[IndexEntry] = []
        for at in range(start, stop):
            entry = self._decoded[at]
            if entry is None:
                entry = decode_entry(self.schema, self._raw[at])
                if isinstance(entry, str):
                    self.report(self.key, entry)
                self._decoded[at] = entry
            if not isinstance(entry, str):
                out.append(entry)
        if bounds is None:
            self._all, self._raw, self._decoded = out, [], []
        return out


def decode_chunk(
    schema: Schema, info: ChunkInfo, data: bytes, key: str, report: Any
) -> ChunkData | None:
    """A chunk body read from ``key`` (None, reported, if it is not the chunk at all).

    A body whose hash is not its key's is skipped whole; an entry that is invalid,
    out of order or outside the manifest's range for the chunk is skipped alone.
    """
    if codec.sha256_hex(data) != info.id:
        report(key, "chunk bytes do not match the SHA-256 in its key")
        return None
    try:
        body = codec.loads(data, key=key)
    except Exception:  # IntegrityError: not JSON (cannot happen with a matching hash)
        report(key, "chunk is not JSON")
        return None
    raw = body.get("entries") if isinstance(body, dict) else None
    if not isinstance(raw, list) or body.get("format") != FORMAT:
        report(key, "chunk is not a format-2 object with an 'entries' list")
        return None
    return ChunkData(schema, info, key, raw, report)


def encode_manifest(manifest: Manifest, schema: Schema) -> bytes:
    body: dict[str, Any] = {
        "format": FOLDED_FORMAT if manifest.tail else FORMAT,
        "n": manifest.n,
        "since": manifest.since,
        "upto": manifest.upto,
        "schema": schema.describe(),
        "chunks": [c.encode() for c in manifest.chunks],
        "cursors": {str(level): list(at) for level, at in manifest.cursors.items()},
    }
    if manifest.tail:
        body["tail"] = [encode_entry(e, stamp=True) for e in manifest.tail]
    return codec.dumps(body)


def decode_manifest(schema: Schema, body: Any, n: int, since_in_key: int) -> Manifest | str:
    """The manifest numbered ``n`` (from its key), or why it cannot be used.

    A folded manifest (format 3) with any invalid tail entry, or one stamped after
    ``upto``, is unusable as a whole: the reader then takes the next older manifest
    and reads those entries from their segments.
    """
    if not isinstance(body, dict) or body.get("format") not in (FORMAT, FOLDED_FORMAT):
        return "manifest is not a format-2 or format-3 object"
    if body.get("n") != n or isinstance(body.get("n"), bool):
        return f"manifest holds n={body.get('n')!r}, its key says {n}"
    upto = body.get("upto")
    if not isinstance(upto, int) or isinstance(upto, bool) or upto < -1:
        return "manifest has no valid 'upto'"
    since = body.get("since")
    if since != since_in_key or isinstance(since, bool) or upto < since_in_key:
        return f"manifest holds since={since!r} upto={upto}, its key says since={since_in_key}"
    raw = body.get("chunks")
    if not isinstance(raw, list):
        return "manifest has no 'chunks' list"
    chunks: list[ChunkInfo] = []
    for item in raw:
        info = _chunk_info(schema, item)
        if isinstance(info, str):
            return info
        chunks.append(info)
    by_level: dict[int, list[ChunkInfo]] = {}
    for info in chunks:
        by_level.setdefault(info.level, []).append(info)
    for level, members in by_level.items():
        members.sort(key=lambda c: c.lo)
        for before, after in itertools.pairwise(members):
            if not before.hi < after.lo:
                return f"chunks of level {level} overlap"
    cursors: dict[int, Identity] = {}
    raw_cursors = body.get("cursors", {})
    if isinstance(raw_cursors, dict):
        for level_text, at in raw_cursors.items():
            identity = _identity(at)
            if isinstance(level_text, str) and level_text.isdigit() and identity is not None:
                cursors[int(level_text)] = identity
    tail: list[IndexEntry] = []
    if body.get("format") == FOLDED_FORMAT:
        raw_tail = body.get("tail")
        if not isinstance(raw_tail, list):
            return "format-3 manifest has no 'tail' list"
        for item in raw_tail:
            entry = decode_entry(schema, item)
            if isinstance(entry, str):
                return f"manifest tail: {entry}"
            if entry.seq > upto:
                return f"manifest tail: entry {entry.key[:100]!r} is stamped after 'upto'"
            tail.append(entry)
    return Manifest(n, upto, tuple(chunks), cursors, since_in_key, tuple(tail))


def _identity(value: object) -> Identity | None:
    if isinstance(value, list) and len(value) == 2 and all(isinstance(v, str) for v in value):
        return (value[0], value[1])
    return None


def _chunk_info(schema: Schema, item: object) -> ChunkInfo | str:
    if not isinstance(item, dict) or not codec.is_digest(item.get("id")):
        return "manifest lists a chunk without a SHA-256 'id'"
    level, count, size = item.get("level"), item.get("count"), item.get("bytes")
    if not all(isinstance(v, int) and not isinstance(v, bool) for v in (level, count, size)):
        return "manifest lists a chunk without integer level/count/bytes"
    assert isinstance(level, int) and isinstance(count, int) and isinstance(size, int)
    if not 1 <= level <= MAX_LEVELS or count < 1 or size < 1:
        return "manifest lists a chunk with an impossible level, count or size"
    lo, hi = _identity(item.get("lo")), _identity(item.get("hi"))
    if lo is None or hi is None or hi < lo:
        return "manifest lists a chunk without a valid [lo, hi] range"
    stats: list[Stats] = []
    for name in ("min", "max"):
        raw = item.get(name, {})
        if not isinstance(raw, dict):
            return f"manifest lists a chunk with a non-object {name!r}"
        stats.append(Stats(schema, raw))  # values checked when a query uses them
    return ChunkInfo(str(item["id"]), level, count, size, lo, hi, stats[0], stats[1])


def identities(entries: Iterable[IndexEntry]) -> list[Identity]:
    return [e.identity for e in entries]
