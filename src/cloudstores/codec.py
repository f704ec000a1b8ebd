"""JSON encoding: canonical bytes (orjson, sorted keys), strict decoding, hashing."""

from __future__ import annotations

import hashlib
import math
from typing import Any

import orjson

from cloudstores.errors import IntegrityError, PayloadTooLargeError, SerializationError

__all__ = ["check_size", "dumps", "is_digest", "leaf_hash", "loads", "node_hash", "sha256_hex"]

_OPTIONS = orjson.OPT_SORT_KEYS | orjson.OPT_UTC_Z
_HEX = frozenset("0123456789abcdef")


def _reject(value: Any) -> Any:
    raise TypeError(f"type {type(value).__name__} is not JSON serializable")


def _check_floats(value: Any) -> None:
    # orjson writes NaN and Infinity as null; we refuse them rather than lose them.
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, float):
            if not math.isfinite(item):
                raise SerializationError(f"{item!r} is not valid JSON")
        elif isinstance(item, dict):
            stack.extend(item.values())
        elif isinstance(item, list | tuple):
            stack.extend(item)


def dumps(value: Any) -> bytes:
    """Canonical JSON bytes: sorted keys, no whitespace, UTF-8.

    Raises SerializationError for NaN/Infinity, bytes and anything JSON cannot hold.
    """
    if isinstance(value, bytes | bytearray | memoryview):
        raise SerializationError("bytes are not JSON; encode them (e.g. base64) first")
    _check_floats(value)
    try:
        return orjson.dumps(value, option=_OPTIONS, default=_reject)
    except (TypeError, orjson.JSONEncodeError) as exc:
        raise SerializationError(f"value is not JSON-serializable: {exc}") from exc


def loads(data: bytes | str, *, key: str | None = None) -> Any:
    """Decode JSON; a malformed object raises IntegrityError naming ``key``."""
    try:
        return orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        raise IntegrityError(f"stored object is not valid JSON: {exc}", key=key) from exc


def check_size(data: bytes, limit: int, *, what: str = "payload") -> bytes:
    """Return ``data`` if it is at most ``limit`` bytes, else raise PayloadTooLargeError."""
    if len(data) > limit:
        raise PayloadTooLargeError(f"{what} is {len(data)} bytes, over the limit of {limit}")
    return data


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def is_digest(value: object) -> bool:
    """True for a string :func:`sha256_hex` could return (64 lowercase hex digits)."""
    return isinstance(value, str) and len(value) == 64 and set(value) <= _HEX


def leaf_hash(data: bytes) -> str:
    """Domain-separated leaf hash (RFC 6962): sha256(0x00 || data), hex."""
    return hashlib.sha256(b"\x00" + data).hexdigest()


def node_hash(left: str, right: str) -> str:
    """Domain-separated interior hash (RFC 6962): sha256(0x01 || left || right), hex."""
    return hashlib.sha256(b"\x01" + bytes.fromhex(left) + bytes.fromhex(right)).hexdigest()
