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

import orjson

from cloudstores import codec
from cloudstores.errors import InvalidInputError
from cloudstores.stores.index.fields import MAX_KEY_BYTES, Schema, Value

__all__ = [
    "MAX_PAYLOAD_BYTES",
    "Identity",
    "IndexEntry",
    "decode_entry",
    "encode_entry",
    "latest",
    "make_entry",
]

Identity = tuple[str, str]
MAX_VERSION = 2**63 - 1
MAX_PAYLOAD_BYTES = 4096
"""Largest payload ``d`` of an entry (its JSON, as the writer encodes it): a small copy
of the record the entry points at, so a query needs no GET of the record itself."""


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
    payload: dict[str, Any] | None = None
    """An optional JSON object carried with the entry (member ``d``): untrusted when
    read back, like any bucket content; the store that wrote it checks it."""

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
            self.key,
            self.version,
            self.fields,
            self.tombstone,
            self.partition,
            seq,
            pos,
            self.payload,
        )


def make_entry(
    schema: Schema,
    key: object,
    fields: Mapping[str, object],
    *,
    version: object = 0,
    tombstone: bool = False,
    payload: object = None,
) -> IndexEntry:
    """Validate a caller's entry (before any request); InvalidInputError if it does not fit.

    ``payload`` (a JSON object of at most :data:`MAX_PAYLOAD_BYTES`) rides along with it.
    """
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
    if payload is not None and (
        not isinstance(payload, dict) or len(codec.dumps(payload)) > MAX_PAYLOAD_BYTES
    ):  # codec.dumps: SerializationError (an InvalidInputError) for NaN, bytes, ...
        raise InvalidInputError(
            f"an entry payload must be a JSON object of at most {MAX_PAYLOAD_BYTES} bytes"
        )
    return IndexEntry(
        key,
        version,
        normalized,
        tombstone,
        schema.partition_of(normalized),
        payload=payload,
    )


def _payload_problem(payload: object) -> str | None:
    """Why a payload read back is unusable (it came from a JSON parse: no NaN)."""
    if not isinstance(payload, dict):
        return "payload 'd' is not a JSON object"
    try:
        size = len(orjson.dumps(payload, option=orjson.OPT_SORT_KEYS))
    except (TypeError, orjson.JSONEncodeError):
        return "payload 'd' is not JSON"
    if size > MAX_PAYLOAD_BYTES:
        return f"payload 'd' is over {MAX_PAYLOAD_BYTES} bytes"
    return None


def encode_entry(entry: IndexEntry, *, stamp: bool) -> dict[str, Any]:
    """The JSON form: ``{"k", "v", "f"[, "t"][, "d"][, "s", "i"]}`` (stamps in chunks and
    manifests only)."""
    body: dict[str, Any] = {"k": entry.key, "v": entry.version, "f": dict(entry.fields)}
    if entry.tombstone:
        body["t"] = True
    if entry.payload is not None:
        body["d"] = entry.payload
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
    payload = raw.get("d")
    if payload is not None:
        problem = _payload_problem(payload)
        if problem is not None:
            return f"entry {key[:100]!r}: {problem}"
    return IndexEntry(key, version, kept, tombstone, schema.partition_of(kept), seq, pos, payload)


def latest(entries: Iterable[IndexEntry]) -> dict[Identity, IndexEntry]:
    """The winner of each identity (tombstones included: callers hide them)."""
    best: dict[Identity, IndexEntry] = {}
    for entry in entries:
        seen = best.get(entry.identity)
        if seen is None or entry.rank > seen.rank:
            best[entry.identity] = entry
    return best
