"""Index entries: ``(key, version, fields, tombstone)``, their JSON forms and who wins.

Identity is ``(partition value, key)``. Of all entries with one identity, the winner has
the highest ``version``; among equal versions the one committed first (lowest segment
number, then lowest position in it) wins, the way a create-only write keeps the first
writer. A winning tombstone hides the identity. Every entry carries its commit stamp
``(seq, pos)``, so the winner is the same whatever object it is read from.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from cloudstores.errors import InvalidInputError
from cloudstores.stores.index.fields import MAX_KEY_BYTES, Schema, Value

__all__ = ["Identity", "IndexEntry", "decode_entry", "encode_entry", "latest", "make_entry"]

Identity = tuple[str, str]
MAX_VERSION = 2**63 - 1


@dataclass(frozen=True, slots=True)
class IndexEntry:
    """One entry. ``fields`` holds declared fields only (absent means null)."""

    key: str
    version: int
    fields: Mapping[str, Value]
    tombstone: bool = False
    partition: str = ""
    seq: int = -1
    """Segment that committed it (-1: not committed yet)."""
    pos: int = 0
    """Position in that segment."""

    @property
    def identity(self) -> Identity:
        return (self.partition, self.key)

    @property
    def rank(self) -> tuple[int, int, int]:
        """Larger wins: version first, then the earlier commit."""
        return (self.version, -self.seq, -self.pos)

    def get(self, name: str) -> Value:
        return self.fields.get(name)

    def stamped(self, seq: int, pos: int) -> IndexEntry:
        return IndexEntry(
            self.key, self.version, self.fields, self.tombstone, self.partition, seq, pos
        )


def make_entry(
    schema: Schema,
    key: object,
    fields: Mapping[str, object],
    *,
    version: object = 0,
    tombstone: bool = False,
) -> IndexEntry:
    """Validate a caller's entry (before any request); InvalidInputError if it does not fit."""
    if not isinstance(key, str) or not key:
        raise InvalidInputError("an index key must be a non-empty string")
    if len(key.encode("utf-8", "surrogatepass")) > MAX_KEY_BYTES:
        raise InvalidInputError(f"an index key is at most {MAX_KEY_BYTES} bytes")
    if not isinstance(version, int) or isinstance(version, bool) or not 0 <= version <= MAX_VERSION:
        raise InvalidInputError("an index version must be an int >= 0")
    if not isinstance(tombstone, bool):
        raise InvalidInputError("tombstone must be a bool")
    if not isinstance(fields, Mapping):
        raise InvalidInputError("index fields must be a mapping")
    normalized: dict[str, Value] = {}
    for name, value in fields.items():
        declared = schema.by_name.get(name) if isinstance(name, str) else None
        if declared is None:
            raise InvalidInputError(f"{name!r} is not a declared field of this index")
        stored = declared.normalize(value)
        if stored is not None:
            normalized[name] = stored
    return IndexEntry(key, version, normalized, tombstone, schema.partition_of(normalized))


def encode_entry(entry: IndexEntry, *, stamp: bool) -> dict[str, Any]:
    """The JSON form: ``{"k", "v", "f"[, "t"][, "s", "i"]}`` (stamps in chunks only)."""
    body: dict[str, Any] = {"k": entry.key, "v": entry.version, "f": dict(entry.fields)}
    if entry.tombstone:
        body["t"] = True
    if stamp:
        body["s"] = entry.seq
        body["i"] = entry.pos
    return body


def decode_entry(
    schema: Schema, raw: object, *, seq: int | None = None, pos: int = 0
) -> IndexEntry | str:
    """An entry read from the bucket, or why it is invalid (it is then skipped).

    ``seq`` is the segment number for segment entries; chunk entries carry ``s``/``i``.
    Undeclared fields are dropped (a newer writer may declare more).
    """
    if not isinstance(raw, dict):
        return "entry is not a JSON object"
    key, version, fields = raw.get("k"), raw.get("v"), raw.get("f", {})
    if (
        not isinstance(key, str)
        or not key
        or len(key.encode("utf-8", "surrogatepass")) > MAX_KEY_BYTES
    ):
        return "entry has no valid key 'k'"
    if not isinstance(version, int) or isinstance(version, bool) or not 0 <= version <= MAX_VERSION:
        return f"entry {key[:100]!r} has no valid version 'v'"
    tombstone = raw.get("t", False)
    if not isinstance(tombstone, bool):
        return f"entry {key[:100]!r} has a non-bool 't'"
    if not isinstance(fields, dict):
        return f"entry {key[:100]!r} has no field object 'f'"
    if seq is None:
        seq, pos = raw.get("s"), raw.get("i")  # type: ignore[assignment]
        if (
            not isinstance(seq, int)
            or isinstance(seq, bool)
            or seq < 0
            or not isinstance(pos, int)
            or isinstance(pos, bool)
            or pos < 0
        ):
            return f"entry {key[:100]!r} has no valid commit stamp 's'/'i'"
    kept: dict[str, Value] = {}
    for name, value in fields.items():
        declared = schema.by_name.get(name)
        if declared is None or value is None:
            continue
        problem = declared.problem(value)
        if problem is not None:
            return f"entry {key[:100]!r} field {name!r}: {problem}"
        kept[name] = value
    return IndexEntry(key, version, kept, tombstone, schema.partition_of(kept), seq, pos)


def latest(entries: Iterable[IndexEntry]) -> dict[Identity, IndexEntry]:
    """The winner of each identity (tombstones included: callers hide them)."""
    best: dict[Identity, IndexEntry] = {}
    for entry in entries:
        seen = best.get(entry.identity)
        if seen is None or entry.rank > seen.rank:
            best[entry.identity] = entry
    return best
