"""What a document version object holds, how it is checked, and what the index gets.

A version object (create-only, sealed with ``$sha256``, see ``objects.seal``)::

    {"format": 1, "collection": "scores", "id": "user:42", "version": 3,
     "value": {...any JSON...}, "created_at": "2026-11-25T19:00:00.000000Z",
     "updated_at": "2026-11-25T19:05:00.000000Z", "expires_at": null,
     "ops": ["<update id>", ...]}

A tombstone (a delete) is ``{"format", "collection", "id", "version", "deleted": true,
"updated_at", "ops"}``. Times are fixed-width UTC text (the index's datetime form).
``ops`` names the ``update`` calls the version carries, so a writer can tell its own
landed version from another's.

Every object read is untrusted: :func:`decode` bounds its size, checks the checksum,
the shape and every member's type, and that collection, id and version are what the
key says; anything else is an IntegrityError naming the key.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from cloudstores import codec
from cloudstores.errors import IntegrityError, InvalidInputError
from cloudstores.stores.index import Field, Schema
from cloudstores.stores.index.fields import KINDS, MAX_FIELDS
from cloudstores.stores.objects import agree, expect_dict, seal, unseal

__all__ = [
    "BUILTIN_FIELDS",
    "NO_EXPIRY",
    "Document",
    "Stored",
    "build_schema",
    "declare_fields",
    "decode",
    "encode",
    "index_fields",
    "time_text",
]

FORMAT = 1
BUILTIN_FIELDS = ("created_at", "updated_at", "expires_at")
"""Datetime fields every document index has; a caller may not declare them."""
NO_EXPIRY = "9999-12-31T23:59:59.999999Z"
"""The index value of ``expires_at`` for a document that never expires, so that "not
expired" is one range condition (``expires_at > now``) the index can prune by."""
MAX_OPS = 10_000
_TIME = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z")


@dataclass(frozen=True, slots=True)
class Document:
    """One version of a document, as read.

    ``value`` is a fresh copy (mutating it changes nothing stored). ``deleted`` is True
    only for the tombstone versions that :meth:`DocumentStore.history` returns; they
    have ``value`` None. ``expires_at`` None means the document never expires.
    """

    id: str
    version: int
    value: Any
    created_at: datetime | None
    updated_at: datetime
    expires_at: datetime | None
    deleted: bool = False


@dataclass(frozen=True, slots=True)
class Stored:
    """A version object, checked. ``value`` is the canonical JSON of the value (None
    for a tombstone); :meth:`document` decodes a fresh copy."""

    id: str
    version: int
    value: bytes | None
    created_at: datetime | None
    updated_at: datetime
    expires_at: datetime | None
    ops: tuple[str, ...] = ()

    @property
    def deleted(self) -> bool:
        return self.value is None

    def live(self, now: datetime) -> bool:
        """Not a tombstone and not expired at ``now``."""
        return self.value is not None and (self.expires_at is None or self.expires_at > now)

    def document(self) -> Document:
        value = None if self.value is None else codec.loads(self.value)
        return Document(
            self.id,
            self.version,
            value,
            self.created_at,
            self.updated_at,
            self.expires_at,
            self.value is None,
        )


# ---------------------------------------------------------------------- fields
FieldSpec = Sequence[Field | str] | Mapping[str, str] | None


def declare_fields(fields: object) -> tuple[Field, ...]:
    """The caller's declared fields: Field objects or names (string fields), or a
    mapping of name to kind. InvalidInputError for anything else or a reserved name."""
    if fields is None:
        return ()
    if isinstance(fields, str | bytes):
        raise InvalidInputError("fields: a list of Field objects or names, or {name: kind}")
    declared: list[Field] = []
    if isinstance(fields, Mapping):
        for name, kind in fields.items():
            if kind not in KINDS:
                raise InvalidInputError(f"fields: kind of {name!r} must be one of {KINDS}")
            declared.append(Field(name, kind))
    elif isinstance(fields, Sequence):
        for item in fields:
            if isinstance(item, Field):
                declared.append(item)
            elif isinstance(item, str):
                declared.append(Field(item))
            else:
                raise InvalidInputError("fields: each item is a Field or a field name")
    else:
        raise InvalidInputError("fields: a list of Field objects or names, or {name: kind}")
    for item in declared:
        if item.name in BUILTIN_FIELDS:
            raise InvalidInputError(
                f"fields: {item.name!r} is built in (every document index has "
                f"{', '.join(BUILTIN_FIELDS)})"
            )
    if len(declared) > MAX_FIELDS - len(BUILTIN_FIELDS):
        raise InvalidInputError(f"fields: at most {MAX_FIELDS - len(BUILTIN_FIELDS)} fields")
    if len({f.name for f in declared}) != len(declared):
        raise InvalidInputError("fields: names must be unique")
    return tuple(declared)


def build_schema(declared: tuple[Field, ...]) -> Schema:
    return Schema((*declared, *(Field(name, "datetime") for name in BUILTIN_FIELDS)))


def index_fields(declared: tuple[Field, ...], value: Any, stored: Stored) -> dict[str, object]:
    """The index fields of a live version: each declared field's value (top-level member
    of an object value; null otherwise), plus the built-in times."""
    fields: dict[str, object] = {}
    if isinstance(value, dict):
        for item in declared:
            if item.name in value:
                fields[item.name] = value[item.name]
    fields["created_at"] = stored.created_at
    fields["updated_at"] = stored.updated_at
    fields["expires_at"] = NO_EXPIRY if stored.expires_at is None else stored.expires_at
    return fields


# ---------------------------------------------------------------------- times
def time_text(when: datetime) -> str:
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _time(body: dict[str, Any], name: str, key: str, *, optional: bool) -> datetime | None:
    raw = body.get(name)
    if raw is None and optional:
        return None
    if not isinstance(raw, str) or not _TIME.fullmatch(raw):
        raise IntegrityError(f"stored document {key!r} has no valid {name!r}", key=key)
    try:
        return datetime.strptime(raw, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)
    except ValueError:
        raise IntegrityError(f"stored document {key!r} has no valid {name!r}", key=key) from None


# ---------------------------------------------------------------------- bodies
def encode(collection: str, stored: Stored) -> bytes:
    """The sealed bytes of a version object (value bytes spliced in as parsed JSON)."""
    body: dict[str, Any] = {
        "format": FORMAT,
        "collection": collection,
        "id": stored.id,
        "version": stored.version,
        "updated_at": time_text(stored.updated_at),
        "ops": list(stored.ops),
    }
    if stored.value is None:
        body["deleted"] = True
    else:
        body["value"] = codec.loads(stored.value)
        body["created_at"] = time_text(stored.created_at or stored.updated_at)
        body["expires_at"] = None if stored.expires_at is None else time_text(stored.expires_at)
    return seal(body)


def decode(data: bytes, *, key: str, collection: str, id: str | None, version: int) -> Stored:
    """A version object read from ``key``, checked (IntegrityError naming ``key``).

    ``id`` None (a hashed key segment) takes the id from the body; the caller then
    checks that it encodes to the key's segment.
    """
    body = expect_dict(codec.loads(data, key=key), key=key)
    unseal(body, key=key)
    if body.get("format") != FORMAT:
        raise IntegrityError(f"stored document {key!r} is not of format {FORMAT}", key=key)
    agree(key, "collection", body.get("collection"), collection)
    stored_id = body.get("id")
    if not isinstance(stored_id, str) or not stored_id:
        raise IntegrityError(f"stored document {key!r} has no valid 'id'", key=key)
    if id is not None:
        agree(key, "id", stored_id, id)
    stored_version = body.get("version")
    if not isinstance(stored_version, int) or isinstance(stored_version, bool):
        raise IntegrityError(f"stored document {key!r} has no valid 'version'", key=key)
    agree(key, "version", stored_version, version)
    ops = body.get("ops", [])
    if (
        not isinstance(ops, list)
        or len(ops) > MAX_OPS
        or not all(isinstance(op, str) and len(op) <= 64 for op in ops)
    ):
        raise IntegrityError(f"stored document {key!r} has no valid 'ops'", key=key)
    updated = _time(body, "updated_at", key, optional=False)
    assert updated is not None
    deleted = body.get("deleted", False)
    if deleted is True:
        return Stored(stored_id, version, None, None, updated, None, tuple(ops))
    if deleted is not False or "value" not in body:
        raise IntegrityError(f"stored document {key!r} has no 'value'", key=key)
    try:
        value = codec.dumps(body["value"])
    except InvalidInputError as exc:
        raise IntegrityError(
            f"stored document {key!r}: value cannot be re-encoded", key=key
        ) from exc
    return Stored(
        stored_id,
        version,
        value,
        _time(body, "created_at", key, optional=False),
        updated,
        _time(body, "expires_at", key, optional=True),
        tuple(ops),
    )
