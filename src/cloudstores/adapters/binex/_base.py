"""What both Binex adapter classes share: the stores base, and ids."""

from __future__ import annotations

import base64

from cloudstores.adapters._stores import StoresAdapter
from cloudstores.errors import InvalidIdError
from cloudstores.keys import MAX_ID_LENGTH, validate_id

__all__ = ["StoresAdapter", "from_store_id", "to_store_id"]

_ESCAPE = "_x-"
"""Prefix of a Binex id that is not a valid cloudstores id (or starts with this prefix),
stored as base32 of its UTF-8 bytes: valid ids other than these pass through unchanged."""


def to_store_id(value: object, *, what: str) -> str:
    """A Binex run or record id as an id the execution store takes (reversible, injective).

    Ids of ``[A-Za-z0-9._-]`` (Binex's own ``run_...``/``rec_...``) stay as they are; any
    other text is escaped. InvalidIdError (before any request) for a non-str, an empty
    id, or one whose escaped form is over 256 characters (about 155 UTF-8 bytes).
    """
    if not isinstance(value, str) or not value:
        raise InvalidIdError(f"{what} must be a non-empty str, not {value!r:.100}")
    if not value.startswith(_ESCAPE):
        try:
            return validate_id(value, what=what)
        except InvalidIdError:
            pass
    try:
        raw = value.encode("utf-8")
    except UnicodeEncodeError:
        raise InvalidIdError(f"{what} {value[:40]!r} is not valid UTF-8 text") from None
    escaped = _ESCAPE + base64.b32encode(raw).decode().rstrip("=").lower()
    if len(escaped) > MAX_ID_LENGTH:
        raise InvalidIdError(f"{what} {value[:40]!r}... is too long for the execution store")
    return escaped


def from_store_id(value: str) -> str:
    """The Binex id that :func:`to_store_id` turned into ``value``."""
    if not value.startswith(_ESCAPE):
        return value
    body = value[len(_ESCAPE) :].upper()
    return base64.b32decode(body + "=" * (-len(body) % 8)).decode("utf-8")
