"""Validation of object keys, record ids and workspace names.

Everything here runs before the first request: a bad name is a clear error and
nothing is written.
"""

from __future__ import annotations

import re

from cloudstores.errors import IntegrityError, InvalidIdError, InvalidKeyError

__all__ = [
    "DEFAULT_WORKSPACE",
    "MAX_ID_LENGTH",
    "MAX_KEY_BYTES",
    "MAX_WORKSPACE_LENGTH",
    "is_control",
    "join_key",
    "key_number",
    "numbered_key",
    "validate_id",
    "validate_key",
    "validate_prefix",
    "validate_workspace",
    "workspace_prefix",
]

MAX_KEY_BYTES = 1024
MAX_ID_LENGTH = 256
MAX_WORKSPACE_LENGTH = 63
DEFAULT_WORKSPACE = "default"
"""The workspace used when none is named: one ordinary, documented namespace (as an
unscoped store of a framework is), never a view of all workspaces."""

_NAME = re.compile(r"[A-Za-z0-9._-]+")


def is_control(char: str) -> bool:
    """C0 and C1 control characters, DEL, and lone surrogates (U+D800..U+DFFF)."""
    code = ord(char)
    return code < 0x20 or 0x7F <= code <= 0x9F or 0xD800 <= code <= 0xDFFF


def validate_key(key: object) -> str:
    """Return ``key`` if it is a usable relative object key, else raise InvalidKeyError.

    A key is non-empty text of at most 1,024 UTF-8 bytes, relative (no leading
    ``/``), with no empty, ``.`` or ``..`` segments and no control characters (C0, DEL
    and C1: U+0000..U+001F, U+007F..U+009F) or lone surrogates.
    """
    if not isinstance(key, str):
        raise InvalidKeyError(f"object key must be str, not {type(key).__name__}")
    if not key:
        raise InvalidKeyError("object key is empty")
    _check_key_text(key, what="object key")
    if key.endswith("/"):
        raise InvalidKeyError(f"object key {key!r} ends with '/'", key=key)
    return key


def validate_prefix(prefix: object) -> str:
    """Return a list prefix: '' or key text, which may end with '/'."""
    if not isinstance(prefix, str):
        raise InvalidKeyError(f"prefix must be str, not {type(prefix).__name__}")
    if prefix:
        _check_key_text(prefix.rstrip("/") or "/", what="prefix")
    return prefix


def _check_key_text(key: str, *, what: str) -> None:
    if len(key.encode("utf-8", "surrogatepass")) > MAX_KEY_BYTES:
        raise InvalidKeyError(f"{what} is longer than {MAX_KEY_BYTES} bytes", key=key[:64] + "...")
    if key.startswith("/"):
        raise InvalidKeyError(f"{what} {key!r} must be relative (no leading '/')", key=key)
    if any(is_control(c) for c in key):
        raise InvalidKeyError(f"{what} {key!r} contains a control character", key=key)
    if "\\" in key:
        raise InvalidKeyError(f"{what} {key!r} contains a backslash", key=key)
    for segment in key.split("/"):
        if segment in ("", ".", ".."):
            raise InvalidKeyError(f"{what} {key!r} has an empty, '.' or '..' segment", key=key)


def validate_id(value: object, *, what: str = "id", max_length: int = MAX_ID_LENGTH) -> str:
    """Return ``value`` if it is a usable record id: ``[A-Za-z0-9._-]``, 1..max_length, no ``..``.

    Ids become one key segment each, so a valid id can never reach another
    workspace's or record's keys.
    """
    if not isinstance(value, str):
        raise InvalidIdError(f"{what} must be str, not {type(value).__name__}")
    if not value:
        raise InvalidIdError(f"{what} is empty")
    if len(value) > max_length:
        raise InvalidIdError(f"{what} is longer than {max_length} characters: {value[:40]!r}...")
    if not _NAME.fullmatch(value):
        raise InvalidIdError(f"{what} {value!r} may only hold letters, digits, '.', '_' and '-'")
    if ".." in value or value == ".":
        raise InvalidIdError(f"{what} {value!r} must not contain '..' or be '.'")
    return value


def validate_workspace(value: object) -> str:
    """Return ``value`` if it is a usable workspace name (1..63 of ``[A-Za-z0-9._-]``)."""
    return validate_id(value, what="workspace", max_length=MAX_WORKSPACE_LENGTH)


def join_key(*parts: str) -> str:
    """Join key parts with '/', ignoring empty parts."""
    return "/".join(p.strip("/") for p in parts if p.strip("/"))


def workspace_prefix(workspace: str) -> str:
    """``ws/{workspace}/``: the prefix every key of that workspace lies under."""
    return f"ws/{validate_workspace(workspace)}/"


_NUMBER_DIGITS = 20


def numbered_key(prefix: str, n: int) -> str:
    """``{prefix}{n:020d}.json``: numbered objects whose keys list in numeric order."""
    return f"{prefix}{n:0{_NUMBER_DIGITS}d}.json"


def key_number(key: str, prefix: str) -> int:
    """The ``n`` of ``numbered_key(prefix, n)``; IntegrityError for any other key."""
    tail = key[len(prefix) :] if key.startswith(prefix) else ""
    digits = tail[:-5] if tail.endswith(".json") else ""
    if len(digits) != _NUMBER_DIGITS or not digits.isdigit() or not digits.isascii():
        raise IntegrityError(f"unexpected key among numbered objects: {key!r}", key=key)
    return int(digits)
