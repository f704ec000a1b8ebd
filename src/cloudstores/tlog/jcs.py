"""RFC 8785 JSON Canonicalization Scheme (JCS): the bytes we hash and sign.

``dumps(value)`` returns the canonical UTF-8 bytes of a JSON value made of dict (str
keys), list/tuple, str, int, float, bool and None:

- no whitespace; object members sorted by their keys' UTF-16 code units (RFC 8785
  section 3.2.3), which differs from code point order for keys above U+FFFF;
- strings as ECMAScript ``JSON.stringify`` writes them: only ``"``, ``\\`` and
  U+0000..U+001F escaped (``\\b \\t \\n \\f \\r`` short, others ``\\u00xx`` lowercase);
- numbers as ECMAScript ``Number.prototype.toString`` writes an IEEE 754 double
  (RFC 8785 section 3.2.2.3): ``1.0 -> 1``, ``-0.0 -> 0``, ``1e21 -> 1e+21``,
  ``1e-7 -> 1e-7``, ``0.000001 -> 0.000001``.

Integers are numbers too: beyond +-(2**53 - 1) an integer that is exactly a double, or
whose digits are already the JCS text of a double, is written as that double
(``10**21 -> 1e+21``, what a JavaScript verifier reads back); any other (``2**53 + 1``)
is refused, since another verifier would parse and hash a different number. Also
refused with SerializationError: NaN and infinities, non-str keys, lone surrogates,
other types, nesting over 256 levels.
"""

from __future__ import annotations

import math
from typing import Any

from cloudstores.errors import SerializationError

__all__ = ["MAX_DEPTH", "MAX_SAFE_INTEGER", "dumps", "format_number"]

MAX_SAFE_INTEGER = 2**53 - 1
MAX_DEPTH = 256

_SHORT = {0x08: "\\b", 0x09: "\\t", 0x0A: "\\n", 0x0C: "\\f", 0x0D: "\\r"}
_ESCAPES: dict[int, str] = {c: _SHORT.get(c, f"\\u{c:04x}") for c in range(0x20)}
_ESCAPES[ord('"')] = '\\"'
_ESCAPES[ord("\\")] = "\\\\"


def _string(text: str) -> str:
    return '"' + text.translate(_ESCAPES) + '"'


def _digits(value: float) -> tuple[str, int]:
    """Shortest round-trip digits ``d`` and exponent ``n`` with value = 0.d * 10**n.

    Python's ``repr`` gives the shortest digit string that reads back as the same
    double, choosing the closest one when several qualify: the same ``s`` and ``k``
    that ECMAScript's Number::toString specifies.
    """
    text = repr(value)
    mantissa, _, exp = text.partition("e")
    whole, _, frac = mantissa.partition(".")
    digits = (whole + frac).lstrip("0")
    # value = int(whole + frac) * 10**(exp - len(frac))
    point = len(whole) + (int(exp) if exp else 0)  # position of the point in whole+frac
    leading = len(whole + frac) - len((whole + frac).lstrip("0"))
    digits = digits.rstrip("0")
    return digits, point - leading


def format_number(value: float) -> str:
    """ECMAScript Number.prototype.toString(10) of a finite double."""
    if not math.isfinite(value):
        raise SerializationError(f"{value!r} is not valid JSON")
    if value == 0:
        return "0"  # also -0.0
    if value < 0:
        return "-" + format_number(-value)
    d, n = _digits(value)
    k = len(d)
    if k <= n <= 21:
        return d + "0" * (n - k)
    if 0 < n <= 21:
        return d[:n] + "." + d[n:]
    if -6 < n <= 0:
        return "0." + "0" * (-n) + d
    e = n - 1
    sign = "+" if e >= 0 else "-"
    head = d if k == 1 else d[0] + "." + d[1:]
    return f"{head}e{sign}{abs(e)}"


def _encode(value: Any, out: list[str], depth: int) -> None:
    if depth > MAX_DEPTH:
        raise SerializationError(f"JSON nesting deeper than {MAX_DEPTH} levels")
    if value is None:
        out.append("null")
    elif value is True:
        out.append("true")
    elif value is False:
        out.append("false")
    elif isinstance(value, str):
        out.append(_string(value))
    elif isinstance(value, int):
        if -MAX_SAFE_INTEGER <= value <= MAX_SAFE_INTEGER:
            out.append(str(int(value)))
        else:
            # Beyond 2**53 an integer keeps its meaning for another verifier only if it
            # is exactly a double, or its digits are already that double's JCS text
            # (what parsing JCS output such as 25737372292823290 gives back).
            try:
                double = float(value)
            except OverflowError as exc:
                raise SerializationError(f"integer {value} is beyond any double") from exc
            text = format_number(double)
            if double != value and text != str(value):
                raise SerializationError(
                    f"integer {value} is not an IEEE double; JCS cannot carry it exactly"
                )
            out.append(text)
    elif isinstance(value, float):
        out.append(format_number(value))
    elif isinstance(value, dict):
        for key in value:
            if not isinstance(key, str):
                raise SerializationError(f"object key {key!r} is not a string")
        try:
            keys = sorted(value, key=lambda k: k.encode("utf-16-be"))
        except UnicodeEncodeError as exc:
            raise SerializationError("object key has a lone surrogate") from exc
        out.append("{")
        for i, key in enumerate(keys):
            if i:
                out.append(",")
            out.append(_string(key))
            out.append(":")
            _encode(value[key], out, depth + 1)
        out.append("}")
    elif isinstance(value, list | tuple):
        out.append("[")
        for i, item in enumerate(value):
            if i:
                out.append(",")
            _encode(item, out, depth + 1)
        out.append("]")
    else:
        raise SerializationError(f"type {type(value).__name__} is not JSON")


def dumps(value: Any) -> bytes:
    """RFC 8785 canonical UTF-8 bytes of ``value``; SerializationError if it has none."""
    out: list[str] = []
    _encode(value, out, 0)
    try:
        return "".join(out).encode("utf-8")
    except UnicodeEncodeError as exc:
        raise SerializationError("string has a lone surrogate; not valid Unicode") from exc
