"""User content: what a store accepts, and how large or binary content goes to a blob.

The rule: a value is stored only if it comes back as the same type. JSON holds
``None``, ``bool``, ``int`` (64-bit), finite ``float``, ``str``, ``list`` and ``dict``
with ``str`` keys, so those exact types are accepted, nested up to :data:`MAX_DEPTH`.
Anything else would come back as something else (a ``datetime``, ``date``, ``UUID``,
``Enum`` or dataclass as text or a dict, a ``tuple`` as a list, a ``str`` or ``dict``
subclass as the base type, ``bytes`` not at all), so :func:`check_json` refuses it
with a SerializationError (an InvalidInputError) naming the path of the bad value,
before any request. Store a datetime as ``value.isoformat()`` and parse it back.

``bytes`` are accepted as a whole content (:func:`check_content`), never nested inside
JSON (base64-encode those yourself): whole bytes go to a content-addressed blob, stored
raw and given back as ``bytes``. A record points at its blob with two top-level fields
that no user field can take (the models forbid extra fields)::

    "$blob": "<sha256 hex of the blob>"     always, when the content is in a blob
    "$kind": "bytes"                       only for bytes content (absent: JSON)

Use: ``blob = encode(value)`` (after :func:`check_content`), ``await put_blob(bucket,
key, blob)`` then write the record with ``pointer(blob)`` in place of the content; on
read, ``found = take_pointer(record, key=...)`` and ``await get_blob(bucket, blob_key,
found, max_bytes=...)``. A blob is checked against its hash: missing, oversize or
changed is an IntegrityError, never a wrong answer.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from typing import Any, Final, Literal

from cloudstores import codec
from cloudstores.bucket.base import Bucket
from cloudstores.errors import AlreadyExistsError, IntegrityError, NotFoundError, SerializationError
from cloudstores.stores.objects import JSON

__all__ = [
    "BLOB_FIELD",
    "KIND_FIELD",
    "MAX_DEPTH",
    "Blob",
    "Kind",
    "Pointer",
    "check_content",
    "check_json",
    "decode",
    "encode",
    "get_blob",
    "pointer",
    "put_blob",
    "take_pointer",
]

BLOB_FIELD: Final = "$blob"
KIND_FIELD: Final = "$kind"
MAX_DEPTH: Final = 200
"""Deepest nesting of lists and dicts accepted (the JSON encoder stops near 254)."""
_INT_MIN, _INT_MAX = -(1 << 63), (1 << 64) - 1

Kind = Literal["json", "bytes"]

_HINTS: dict[type, str] = {
    bytes: "bytes are stored only as a whole content; base64-encode nested bytes",
    bytearray: "pass bytes(value)",
    memoryview: "pass bytes(value)",
    tuple: "a tuple would come back as a list: pass a list",
    set: "pass a sorted list",
    frozenset: "pass a sorted list",
}


def _hint(value: object) -> str:
    hint = _HINTS.get(type(value))
    if hint is not None:
        return hint
    name = type(value).__name__
    if name in ("datetime", "date", "time", "timedelta"):
        return f"it would come back as text: store value.isoformat() and parse it back ({name})"
    for base in (str, int, float, dict, list):
        if isinstance(value, base):
            return f"it would come back as a plain {base.__name__}: pass {base.__name__}(value)"
    return "it would not come back as itself: convert it to JSON types first"


def _bad(path: str, value: object) -> SerializationError:
    return SerializationError(
        f"{path} is a {type(value).__name__}, which JSON cannot hold: {_hint(value)}"
    )


def check_json(value: object, *, what: str = "content") -> None:
    """Refuse (SerializationError naming the path, e.g. ``content['a'][2]``) any value
    that would not come back from JSON as the same type and value; see the module
    docstring. Cost: a walk of the value, no request. Cycles and nesting deeper than
    :data:`MAX_DEPTH` are refused too."""
    stack: list[tuple[object, str, bool]] = [(value, what, False)]
    on_path: set[int] = set()
    done: set[int] = set()
    while stack:
        item, path, leaving = stack.pop()
        if leaving:
            on_path.discard(id(item))
            done.add(id(item))
            continue
        kind = type(item)
        if item is None or kind is bool:
            continue
        if kind is str:
            _check_text(item, path)  # type: ignore[arg-type]
        elif kind is int:
            if not _INT_MIN <= item <= _INT_MAX:  # type: ignore[operator]
                raise SerializationError(f"{path} is an int beyond 64 bits, which JSON loses")
        elif kind is float:
            if item != item or item in (float("inf"), float("-inf")):
                raise SerializationError(f"{path} is {item!r}, which is not valid JSON")
        elif kind is dict or kind is list:
            ident = id(item)
            if ident in on_path:
                raise SerializationError(f"{path} contains itself (a cycle)")
            if ident in done:
                continue
            if len(on_path) >= MAX_DEPTH:
                raise SerializationError(f"{path} is nested deeper than {MAX_DEPTH} levels")
            on_path.add(ident)
            stack.append((item, path, True))
            if kind is dict:
                for key, child in item.items():  # type: ignore[attr-defined]
                    if type(key) is not str:
                        raise SerializationError(
                            f"{path} has a key {key!r} of type {type(key).__name__}: "
                            "JSON object keys are str"
                        )
                    _check_text(key, f"{path} key {key[:40]!r}")
                    stack.append((child, f"{path}[{key[:40]!r}]", False))
            else:
                for index, child in enumerate(item):  # type: ignore[arg-type]
                    stack.append((child, f"{path}[{index}]", False))
        else:
            raise _bad(path, item)


def _check_text(text: str, path: str) -> None:
    if not text.isascii():
        try:
            text.encode()
        except UnicodeEncodeError:
            raise SerializationError(f"{path} is a str that is not valid UTF-8") from None


def check_content(value: object, *, what: str = "content") -> None:
    """Like :func:`check_json`, but ``bytes`` are accepted as the whole value."""
    if type(value) is bytes:
        return
    check_json(value, what=what)


@dataclass(frozen=True, slots=True)
class Blob:
    """Content encoded for a blob: the bytes to store, their sha256 hex, their kind."""

    data: bytes
    digest: str
    kind: Kind


@dataclass(frozen=True, slots=True)
class Pointer:
    """What a stored record says about its blob."""

    digest: str
    kind: Kind


def encode(value: object) -> Blob:
    """``bytes`` as themselves, anything else as canonical JSON (check it first with
    :func:`check_content`). No request."""
    if type(value) is bytes:
        return Blob(value, codec.sha256_hex(value), "bytes")
    data = codec.dumps(value)
    return Blob(data, codec.sha256_hex(data), "json")


def pointer(blob: Blob) -> dict[str, str]:
    """The record fields that point at ``blob``."""
    fields = {BLOB_FIELD: blob.digest}
    if blob.kind == "bytes":
        fields[KIND_FIELD] = "bytes"
    return fields


def take_pointer(record: dict[str, Any], *, key: str) -> Pointer | None:
    """Remove the pointer fields of a stored ``record`` (in place) and return them;
    None if it has none. IntegrityError naming ``key`` if they are malformed."""
    if BLOB_FIELD not in record:
        if KIND_FIELD in record:
            raise IntegrityError(f"stored object {key!r} has a kind but no blob", key=key)
        return None
    digest = record.pop(BLOB_FIELD)
    kind = record.pop(KIND_FIELD, None)
    if not codec.is_digest(digest) or kind not in (None, "bytes"):
        raise IntegrityError(f"stored object {key!r} has a malformed blob pointer", key=key)
    return Pointer(str(digest), "bytes" if kind == "bytes" else "json")


def decode(data: bytes, found: Pointer, *, key: str) -> Any:
    """The content held by blob bytes ``data`` (read from ``key``), checked against its
    hash: IntegrityError if it does not match or is not JSON."""
    if codec.sha256_hex(data) != found.digest:
        raise IntegrityError(f"blob {key!r} does not match its hash", key=key)
    if found.kind == "bytes":
        return bytes(data)
    return codec.loads(data, key=key)


async def put_blob(bucket: Bucket, key: str, blob: Blob) -> None:
    """Create the blob at ``key`` (1 PUT, create-only). An existing blob is the same
    content (the key is its hash), so it is kept as is."""
    content_type = JSON if blob.kind == "json" else "application/octet-stream"
    with contextlib.suppress(AlreadyExistsError):
        await bucket.put(key, blob.data, content_type=content_type)


async def get_blob(bucket: Bucket, key: str, found: Pointer, *, max_bytes: int) -> Any:
    """The content of the blob at ``key`` (1 GET). IntegrityError if it is missing,
    over ``max_bytes`` or does not match its hash."""
    try:
        obj = await bucket.get(key)
    except NotFoundError:
        raise IntegrityError(
            f"blob {found.digest} is missing", bucket=bucket.name, key=key
        ) from None
    if len(obj.data) > max_bytes:
        raise IntegrityError(f"blob {key!r} is over the size limit", bucket=bucket.name, key=key)
    return decode(obj.data, found, key=key)
