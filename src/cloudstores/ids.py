"""Any id as one key segment: a reversible, injective encoding.

Documents, records and adapters take ids from users (``user:42``, ``a/b``, ``café``,
1,000-character cache keys). :func:`encode_id` turns any such id into one object-key
segment that every backend accepts, and :func:`decode_id` turns it back. Three forms:

``plain``
    an id of ``[A-Za-z0-9_-]`` and ``.`` (not first, not last), at most 200 bytes, is
    its own segment: ``run-42`` -> ``run-42``. Keys stay readable.
``escaped``
    anything else: ``!`` followed by the id, where every character outside
    ``[A-Za-z0-9._-]`` (and a final ``.``) is written as ``!xx`` per UTF-8 byte
    (lower-case hex): ``user:42`` -> ``!user!3a42``, ``..`` -> ``!.!2e``.
``hashed``
    an escaped form over 200 bytes: ``!`` + the first bytes of the escaped form + ``!h``
    + the SHA-256 of the id's UTF-8 bytes in 52 lower-case base32 characters. The id
    cannot be read back from the key: stores keep the full id in the object body and
    check it on every read (so even a SHA-256 collision would be an IntegrityError,
    never a wrong answer). :func:`decode_id` returns None for this form.

Why it is safe:

* a segment never holds ``/``, ``\\``, a control character, a space, ``%`` or any
  non-ASCII character, is never empty, ``.`` or ``..``, never ends with ``.`` (Azure and
  Windows drop a trailing dot), and is at most 200 bytes (file systems allow 255 per
  name; stores may add a suffix such as ``.json``): joined under a prefix, it stays there;
* plain segments never start with ``!``; escaped bodies never contain ``!h`` (``!`` is
  always followed by two hex digits there): the three forms are disjoint, and each is
  decoded one way, so two different ids never share a segment (hashed ones up to
  SHA-256, checked against the body as said);
* non-ASCII is escaped rather than kept, so a file system that normalises Unicode names
  (macOS) cannot merge two ids; ids are compared code point by code point, never
  normalised. (Case-insensitive file systems still see ``A`` and ``a`` as one name.)

Refused with InvalidIdError: non-str, empty, lone surrogates (not encodable as UTF-8),
and ids over 16 KiB of UTF-8. The strict rules of :func:`cloudstores.keys.validate_id`
still apply to the existing stores.
"""

from __future__ import annotations

import base64
import hashlib
import re

from cloudstores.errors import InvalidIdError

__all__ = [
    "MARKER",
    "MAX_ANY_ID_BYTES",
    "MAX_SEGMENT_BYTES",
    "decode_id",
    "encode_id",
    "is_hashed",
    "validate_any_id",
]

MAX_SEGMENT_BYTES = 200
"""The longest segment :func:`encode_id` returns (bytes; all ASCII)."""
MAX_ANY_ID_BYTES = 16 * 1024
"""The longest id :func:`encode_id` takes, in UTF-8 bytes."""
MARKER = "!"
_HASH_MARK = "!h"
_HASH_CHARS = 52  # 256 bits in base32, unpadded
_HEAD_BYTES = MAX_SEGMENT_BYTES - len(MARKER) - len(_HASH_MARK) - _HASH_CHARS

_PLAIN = re.compile(r"[A-Za-z0-9_-](?:[A-Za-z0-9._-]*[A-Za-z0-9_-])?")
_KEEP = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-")
_ESCAPED_BODY = re.compile(r"(?:[A-Za-z0-9._-]|![0-9a-f]{2})+")
_HASHED = re.compile(r"!((?:[A-Za-z0-9._-]|![0-9a-f]{2})*)!h([a-z2-7]{52})")


def validate_any_id(value: object, *, what: str = "id") -> str:
    """Return ``value`` if :func:`encode_id` can encode it, else raise InvalidIdError."""
    if not isinstance(value, str):
        raise InvalidIdError(f"{what} must be str, not {type(value).__name__}")
    if not value:
        raise InvalidIdError(f"{what} is empty")
    try:
        size = len(value.encode("utf-8"))
    except UnicodeEncodeError:
        raise InvalidIdError(
            f"{what} holds a lone surrogate (not valid Unicode text): {value[:40]!r}"
        ) from None
    if size > MAX_ANY_ID_BYTES:
        raise InvalidIdError(f"{what} is over {MAX_ANY_ID_BYTES} bytes of UTF-8: {value[:40]!r}...")
    return value


def encode_id(value: str, *, what: str = "id") -> str:
    """The one key segment of ``value`` (see the module doc for the three forms)."""
    validate_any_id(value, what=what)
    if len(value) <= MAX_SEGMENT_BYTES and _PLAIN.fullmatch(value):
        return value
    body = _escape(value)
    if len(MARKER) + len(body) <= MAX_SEGMENT_BYTES:
        return MARKER + body
    return MARKER + _head(body) + _HASH_MARK + _digest(value)


def decode_id(segment: str) -> str | None:
    """The id that :func:`encode_id` turned into ``segment``; None for the hashed form
    (read the id from the object body). InvalidIdError if ``segment`` is not a segment
    ``encode_id`` returns (keys from a bucket are untrusted: only canonical forms pass).
    """
    if not isinstance(segment, str) or not segment:
        raise InvalidIdError(f"not an encoded id segment: {segment!r}")
    if len(segment) > MAX_SEGMENT_BYTES or not segment.isascii():
        raise InvalidIdError(f"not an encoded id segment: {segment[:40]!r}")
    if not segment.startswith(MARKER):
        if _PLAIN.fullmatch(segment):
            return segment
        raise InvalidIdError(f"not an encoded id segment: {segment!r}")
    hashed = _HASHED.fullmatch(segment)
    if hashed is not None:
        if len(hashed.group(1)) > _HEAD_BYTES or hashed.group(1).endswith("."):
            raise InvalidIdError(f"not an encoded id segment: {segment!r}")
        return None
    body = segment[len(MARKER) :]
    if not _ESCAPED_BODY.fullmatch(body):
        raise InvalidIdError(f"not an encoded id segment: {segment!r}")
    try:
        value = _unescape(body)
    except UnicodeDecodeError:
        raise InvalidIdError(f"not an encoded id segment (bad UTF-8): {segment!r}") from None
    if encode_id_or_none(value) != segment:
        raise InvalidIdError(f"not the canonical encoding of an id: {segment!r}")
    return value


def is_hashed(segment: str) -> bool:
    """True if ``segment`` is the hashed form (its id is only in the object body)."""
    return _HASHED.fullmatch(segment) is not None


def encode_id_or_none(value: str) -> str | None:
    """:func:`encode_id`, or None where it would raise."""
    try:
        return encode_id(value)
    except InvalidIdError:
        return None


# ---------------------------------------------------------------------- helpers
def _escape(value: str) -> str:
    out: list[str] = []
    last = len(value) - 1
    for index, char in enumerate(value):
        if char in _KEEP and not (char == "." and index == last):
            out.append(char)
        else:
            out.extend(f"!{byte:02x}" for byte in char.encode("utf-8"))
    return "".join(out)


def _unescape(body: str) -> str:
    raw = bytearray()
    index = 0
    while index < len(body):
        char = body[index]
        if char == "!":
            raw.append(int(body[index + 1 : index + 3], 16))
            index += 3
        else:
            raw.append(ord(char))
            index += 1
    return raw.decode("utf-8")


def _head(body: str) -> str:
    """The longest prefix of an escaped body within the head budget, cut between
    escapes (never inside ``!xx``) and never ending with ``.``."""
    cut = min(_HEAD_BYTES, len(body))
    # An escape is 3 characters starting with "!": step back if the cut splits one.
    if cut >= 1 and body[cut - 1] == "!":
        cut -= 1
    elif cut >= 2 and body[cut - 2] == "!":
        cut -= 2
    head = body[:cut]
    return head.rstrip(".")


def _digest(value: str) -> str:
    digest = hashlib.sha256(value.encode("utf-8")).digest()
    return base64.b32encode(digest).decode("ascii").rstrip("=").lower()
