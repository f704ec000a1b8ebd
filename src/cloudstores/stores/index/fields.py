"""Declared fields: what an index holds for each key, and how values are checked.

An index is opened with a :class:`Schema`: the fields it indexes, each with a kind
(``string``, ``number``, ``datetime``, ``bool``) and, for strings, a byte bound, plus
optionally one string field that partitions the physical layout (e.g. ``run_id``).
Every value is checked twice: when a caller builds an entry (InvalidInputError before
any request) and when an entry is read back from the bucket (a problem, entry skipped).

Stored values are JSON: strings and bools as themselves, numbers as JSON numbers,
datetimes as fixed-width UTC text ``YYYY-MM-DDTHH:MM:SS.ffffffZ`` so that text order is
time order. Any field may be null (absent means null).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

from cloudstores.errors import InvalidInputError, PayloadTooLargeError

__all__ = [
    "KINDS",
    "MAX_KEY_BYTES",
    "MAX_STRING_BYTES",
    "Field",
    "Kind",
    "Schema",
    "Value",
]

Kind = Literal["string", "number", "datetime", "bool"]
KINDS: tuple[str, ...] = ("string", "number", "datetime", "bool")
Value = str | int | float | bool | None
MAX_STRING_BYTES = 1024
"""Default bound of a string field's UTF-8 size; larger values are refused."""
MAX_KEY_BYTES = 1024
MAX_FIELDS = 32
_NAME = re.compile(r"[a-z][a-z0-9_]{0,62}")
_DATETIME = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z")
_MAX_NUMBER = 2**63


@dataclass(frozen=True, slots=True)
class Field:
    """One declared field: a name (``[a-z][a-z0-9_]*``), a kind and, for strings, a bound."""

    name: str
    kind: Kind = "string"
    max_bytes: int = MAX_STRING_BYTES

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not _NAME.fullmatch(self.name):
            raise InvalidInputError(f"field name {self.name!r} must match [a-z][a-z0-9_]*")
        if self.kind not in KINDS:
            raise InvalidInputError(f"field {self.name!r}: kind must be one of {KINDS}")
        if (
            not isinstance(self.max_bytes, int)
            or isinstance(self.max_bytes, bool)
            or not 1 <= self.max_bytes <= 64 * 1024
        ):
            raise InvalidInputError(f"field {self.name!r}: max_bytes must be 1..65536")

    def normalize(self, value: object) -> Value:
        """The stored form of a caller's ``value``; InvalidInputError if it does not fit."""
        if value is None:
            return None
        problem = self.problem(value, stored=False)
        if problem is not None:
            error = PayloadTooLargeError if "bytes" in problem else InvalidInputError
            raise error(f"index field {self.name!r}: {problem}")
        if self.kind == "datetime":
            return _datetime_text(value)  # type: ignore[arg-type]
        return value  # type: ignore[return-value]

    def problem(self, value: object, *, stored: bool = True) -> str | None:
        """Why ``value`` is not a valid value of this field (None if it is).

        ``stored`` values come from the bucket (datetimes as text); caller values may
        also be ``datetime`` objects or ISO text with any offset.
        """
        if value is None:
            return None
        if self.kind == "string":
            if not isinstance(value, str):
                return f"expected a string, not {type(value).__name__}"
            if len(value.encode("utf-8", "surrogatepass")) > self.max_bytes:
                return f"value is over {self.max_bytes} bytes"
            return None
        if self.kind == "bool":
            return None if isinstance(value, bool) else f"expected a bool, not {_t(value)}"
        if self.kind == "number":
            if isinstance(value, bool) or not isinstance(value, int | float):
                return f"expected a number, not {_t(value)}"
            if isinstance(value, float) and not math.isfinite(value):
                return "number is not finite"
            if abs(value) > _MAX_NUMBER:
                return "number is out of range"
            return None
        if stored:
            if isinstance(value, str) and _DATETIME.fullmatch(value):
                return None
            return "expected datetime text YYYY-MM-DDTHH:MM:SS.ffffffZ"
        if isinstance(value, datetime):
            return None
        if isinstance(value, str):
            try:
                datetime.fromisoformat(value)
            except ValueError:
                return "expected an ISO 8601 datetime"
            return None
        return f"expected a datetime, not {_t(value)}"


def _t(value: object) -> str:
    return type(value).__name__


def _datetime_text(value: datetime | str) -> str:
    when = datetime.fromisoformat(value) if isinstance(value, str) else value
    when = when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)
    return when.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@dataclass(frozen=True, slots=True)
class Schema:
    """The declared fields of one index and its optional partition field.

    The partition field must be a declared ``string`` field; entries are identified by
    (partition value, key), and the physical layout sorts by that pair.
    """

    fields: tuple[Field, ...]
    partition: str | None = None
    by_name: dict[str, Field] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        fields = tuple(self.fields)
        if not all(isinstance(f, Field) for f in fields):
            raise InvalidInputError("schema fields must be Field objects")
        if len(fields) > MAX_FIELDS:
            raise InvalidInputError(f"an index declares at most {MAX_FIELDS} fields")
        names = [f.name for f in fields]
        if len(set(names)) != len(names):
            raise InvalidInputError("field names must be unique")
        by_name = dict(zip(names, fields, strict=True))
        if self.partition is not None and (
            self.partition not in by_name or by_name[self.partition].kind != "string"
        ):
            raise InvalidInputError("the partition must name a declared string field")
        object.__setattr__(self, "fields", fields)
        object.__setattr__(self, "by_name", by_name)

    def describe(self) -> dict[str, Any]:
        """The JSON form written into manifests (informative, for other readers)."""
        return {
            "fields": [
                {"name": f.name, "kind": f.kind, "max_bytes": f.max_bytes} for f in self.fields
            ],
            "partition": self.partition,
        }

    def partition_of(self, fields: dict[str, Value]) -> str:
        if self.partition is None:
            return ""
        value = fields.get(self.partition)
        return value if isinstance(value, str) else ""
