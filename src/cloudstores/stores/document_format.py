"""What a document version object holds, how it is checked, and what the index gets.

A version object (create-only, sealed with ``$sha256``, see ``objects.seal``)::

    {"format": 1, "collection": "scores", "id": "user:42", "version": 3,
     "value": {...any JSON...}, "created_at": "2026-11-25T19:00:00.000000Z",
     "updated_at": "2026-11-25T19:05:00.000000Z", "expires_at": null,
     "ops": ["<update id>", ...]}

A ``bytes`` value (format 2) lives raw in the workspace's content-addressed blob
``blobs/{sha256}.json`` (shared with artifacts and identical documents); its version
object has no ``"value"`` but, at body level, ``"$blob": "<sha256 hex>", "$kind":
"bytes"`` and ``"format": 2`` (``stores/content.py``). The pointer is never inside
``"value"``, so no JSON value can pose as one. JSON values are still written as format 1,
so versions written before format 2 existed read as before (and a reader that knows
only format 1 refuses a bytes version instead of misreading it).

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
from cloudstores.stores.content import BLOB_FIELD, KIND_FIELD, take_pointer
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
    "load_value",
    "time_text",
]

FORMAT = 1
BYTES_FORMAT = 2
"""The format of a version whose value is ``bytes`` (held in a blob)."""
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

    ``value`` is a fresh copy (mutating it changes nothing stored); ``bytes`` for a
    document stored as bytes. ``deleted`` is True
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
    for a tombstone), or the value itself when ``binary`` (a bytes document);
    :meth:`document` decodes a fresh copy. ``blob`` is the sha256 hex of a bytes value
    as the version object names it (set by :func:`decode`, before the blob is read)."""

    id: str
    version: int
    value: bytes | None
    created_at: datetime | None
    updated_at: datetime
    expires_at: datetime | None
    ops: tuple[str, ...] = ()
    binary: bool = False
    blob: str | None = None

    @property
    def deleted(self) -> bool:
        return self.value is None

    def live(self, now: datetime) -> bool:
        """Not a tombstone and not expired at ``now``."""
        return self.value is not None and (self.expires_at is None or self.expires_at > now)

    def document(self) -> Document:
        return Document(
            self.id,
            self.version,
            load_value(self.value, self.binary),
            self.created_at,
            self.updated_at,
            self.expires_at,
            self.value is None,
        )


def load_value(data: bytes | None, binary: bool) -> Any:
    """A fresh copy of a stored value: the bytes themselves, or the decoded JSON."""
    if data is None:
        return None
    return data if binary else codec.loads(data)


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
    of an object value; null otherwise, e.g. for a bytes value), plus the built-in times."""
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
    """The sealed bytes of a version object (value bytes spliced in as parsed JSON; a
    bytes value as its blob pointer: put the blob first)."""
    body: dict[str, Any] = {
        "format": BYTES_FORMAT if stored.binary and stored.value is not None else FORMAT,
        "collection": collection,
        "id": stored.id,
        "version": stored.version,
        "updated_at": time_text(stored.updated_at),
        "ops": list(stored.ops),
    }
    if stored.value is None:
        body["deleted"] = True
    else:
        if stored.binary:
            body[BLOB_FIELD] = codec.sha256_hex(stored.value)
            body[KIND_FIELD] = "bytes"
        else:
            body["value"] = codec.loads(stored.value)
        body["created_at"] = time_text(stored.created_at or stored.updated_at)
        body["expires_at"] = None if stored.expires_at is None else time_text(stored.expires_at)
    return seal(body)


def decode(data: bytes, *, key: str, collection: str, id: str | None, version: int) -> Stored:
    """A version object read from ``key``, checked (IntegrityError naming ``key``).

    ``id`` None (a hashed key segment) takes the id from the body; the caller then
    checks that it encodes to the key's segment. A bytes version comes back with
    ``binary`` True, ``value`` None and ``blob`` its digest: the caller reads the blob.
    """
    body = expect_dict(codec.loads(data, key=key), key=key)
    unseal(body, key=key)
    form = body.get("format")
    if form not in (FORMAT, BYTES_FORMAT) or isinstance(form, bool):
        raise IntegrityError(
            f"stored document {key!r} is not of format {FORMAT} or {BYTES_FORMAT}", key=key
        )
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
    if deleted is True and form == FORMAT:
        return Stored(stored_id, version, None, None, updated, None, tuple(ops))
    value: bytes | None = None
    digest: str | None = None
    if form == BYTES_FORMAT:
        found = take_pointer(body, key=key)
        if deleted is not False or "value" in body or found is None or found.kind != "bytes":
            raise IntegrityError(f"stored document {key!r} has no valid blob pointer", key=key)
        digest = found.digest
    else:
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
        binary=digest is not None,
        blob=digest,
    )
