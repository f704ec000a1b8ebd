"""What a record collection is made of: its declared fields, its options, fresh ids,
and the stored form of one record (written, then read back as untrusted input).

Stored record (``records/{collection}/{encode_id(id)}.json``)::

    {"$format": 1, "id": "<the full id>", "record": {...}, "$sha256": "<checksum>"}

The full id is in the body because a long id's key segment is a hash
(:func:`cloudstores.ids.encode_id`); a reader checks that the body's id encodes to the
key it came from, so a record can never be read under another id.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from cloudstores import codec
from cloudstores.errors import IntegrityError, InvalidInputError
from cloudstores.ids import encode_id, validate_any_id
from cloudstores.stores.index import Field, IndexOptions, Schema
from cloudstores.stores.index.fields import KINDS
from cloudstores.stores.objects import MAX_CONCURRENCY, check_int, expect_dict, seal, unseal

__all__ = [
    "Record",
    "RecordOptions",
    "RecordPage",
    "decode_body",
    "encode_body",
    "new_record_id",
    "record_schema",
]

FORMAT = 1
_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # ascending in ASCII: text order = time order


@dataclass(frozen=True, slots=True)
class Record:
    """One stored record: its id and its JSON value (a dict)."""

    id: str
    value: dict[str, Any]


@dataclass(frozen=True, slots=True)
class RecordPage:
    """One page of a query: the records, and the cursor of the next page (None: no more)."""

    records: list[Record]
    cursor: str | None


@dataclass(frozen=True, slots=True, kw_only=True)
class RecordOptions:
    """Limits and tuning of a record collection (checked when built: InvalidInputError).

    Attributes:
        max_bytes: largest stored record (canonical JSON); PayloadTooLargeError above,
            and a stored object over it is refused on read (IntegrityError).
        fetch_concurrency: GETs in flight when a query returns many records.
        index: sizes of the collection's index (see :class:`IndexOptions`).
    """

    max_bytes: int = 1024 * 1024
    fetch_concurrency: int = 32
    index: IndexOptions = field(default_factory=IndexOptions)

    def __post_init__(self) -> None:
        check_int(self.max_bytes, what="RecordOptions.max_bytes", lo=64, hi=1 << 30)
        check_int(
            self.fetch_concurrency, what="RecordOptions.fetch_concurrency", lo=1, hi=MAX_CONCURRENCY
        )
        if not isinstance(self.index, IndexOptions):
            raise InvalidInputError("RecordOptions.index must be an IndexOptions")


def record_schema(fields: object, partition: object = None) -> Schema:
    """The index schema of a collection; InvalidInputError if ``fields`` is not one of:
    a mapping ``{name: kind}``, or a list of names (strings) and :class:`Field` objects.
    ``partition`` names one declared string field (queries pinning it prune chunks)."""
    declared: list[Field] = []
    if isinstance(fields, Mapping):
        for name, kind in fields.items():
            if kind not in KINDS:
                raise InvalidInputError(f"fields: kind of {name!r} must be one of {KINDS}")
            declared.append(Field(name, kind))
    elif isinstance(fields, Iterable) and not isinstance(fields, str | bytes):
        for item in fields:
            if isinstance(item, str):
                declared.append(Field(item))
            elif isinstance(item, Field):
                declared.append(item)
            else:
                raise InvalidInputError("fields: a list of names or Field objects")
    else:
        raise InvalidInputError("fields: a mapping {name: kind} or a list of names/Fields")
    if partition is not None and not isinstance(partition, str):
        raise InvalidInputError("partition must be a field name or None")
    return Schema(tuple(declared), partition=partition)


def encode_body(record_id: str, value: Mapping[str, Any]) -> bytes:
    return seal({"$format": FORMAT, "id": record_id, "record": dict(value)})


def decode_body(data: bytes, *, key: str, segment: str, max_bytes: int) -> Record:
    """A stored record, checked against the key it came from; IntegrityError otherwise."""
    if len(data) > max_bytes:
        raise IntegrityError(f"stored record {key!r} is over {max_bytes} bytes", key=key)
    body = expect_dict(codec.loads(data, key=key), key=key)
    if not unseal(body, key=key):
        raise IntegrityError(f"stored record {key!r} has no checksum", key=key)
    record_id, value = body.get("id"), body.get("record")
    if body.get("$format") != FORMAT or set(body) != {"$format", "id", "record"}:
        raise IntegrityError(f"stored record {key!r} is not a format-{FORMAT} record", key=key)
    if not isinstance(value, dict):
        raise IntegrityError(f"stored record {key!r} holds no record object", key=key)
    try:
        encoded = encode_id(validate_any_id(record_id))
    except InvalidInputError:
        encoded = None
    if encoded != segment:
        raise IntegrityError(
            f"stored record {key!r} holds id {str(record_id)[:100]!r}, not the one its key names",
            key=key,
        )
    return Record(str(record_id), value)


class _IdClock:
    """ULID-style ids: 48 bits of milliseconds then 80 random bits, 26 characters of
    Crockford base32, strictly increasing within a process (same millisecond: +1)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._last = 0

    def next(self) -> str:
        with self._lock:
            value = (time.time_ns() // 1_000_000) << 80 | int.from_bytes(os.urandom(10), "big")
            value = max(value, self._last + 1)
            self._last = value
        out = []
        for _ in range(26):
            out.append(_CROCKFORD[value & 31])
            value >>= 5
        return "".join(reversed(out))


_CLOCK = _IdClock()


def new_record_id() -> str:
    """A fresh unique id that sorts by creation time (26 characters, a plain key segment)."""
    return _CLOCK.next()
