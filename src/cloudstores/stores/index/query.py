"""Query forms: ``where`` filters, orders, cursors, and chunk pruning.

``where`` maps a declared field (or ``"_key"``) to either a value (equality; ``None``
matches a null field) or a dict of operators ``eq, gt, gte, lt, lte``. Ranges apply to
number and datetime fields and to ``_key``. Orders:

* ``None`` (stored order): ``(partition, key)``.
* ``"_key"``: ``(key, partition)``.
* ``"_commit"``: commit order ``(segment, position)`` of each winning entry.
* a declared field: ``(value, partition, key)``, nulls first.

``descending`` reverses the whole tuple. A cursor is the opaque text of the last row's
order tuple; the next page holds rows strictly after it, so writes that land between
pages never repeat or skip a row that did not change.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from cloudstores import codec
from cloudstores.errors import InvalidInputError
from cloudstores.stores.index.chunks import ChunkInfo
from cloudstores.stores.index.entries import Identity, IndexEntry
from cloudstores.stores.index.fields import Schema, Value

__all__ = ["Condition", "Where", "compile_where", "cursor_of", "order_key", "parse_cursor"]

KEY = "_key"
COMMIT = "_commit"
OPS = ("eq", "gt", "gte", "lt", "lte")
_RANGED = ("number", "datetime")
_MAX_KEY = "\U0010ffff"


@dataclass(frozen=True, slots=True)
class Condition:
    name: str
    op: str
    value: Value

    def test(self, have: Value) -> bool:
        if self.op == "eq":
            return have == self.value and isinstance(have, bool) == isinstance(self.value, bool)
        if have is None or self.value is None:
            return False
        if self.op == "gt":
            return have > self.value  # type: ignore[operator]
        if self.op == "gte":
            return have >= self.value  # type: ignore[operator]
        if self.op == "lt":
            return have < self.value  # type: ignore[operator]
        return have <= self.value  # type: ignore[operator]

    def may_hold(self, lo: Value, hi: Value) -> bool:
        """Whether some value in ``[lo, hi]`` could pass (for pruning by min/max)."""
        if lo is None or hi is None or self.value is None:
            return True
        try:
            if self.op == "eq":
                return bool(lo <= self.value <= hi)  # type: ignore[operator]
            if self.op in ("gt", "gte"):
                return bool(hi > self.value if self.op == "gt" else hi >= self.value)  # type: ignore[operator]
            return bool(lo < self.value if self.op == "lt" else lo <= self.value)  # type: ignore[operator]
        except TypeError:
            return True


@dataclass(frozen=True, slots=True)
class Where:
    conditions: tuple[Condition, ...]
    partition: str | None
    """The partition value an equality pins, if any (prunes by identity range)."""

    def test(self, entry: IndexEntry) -> bool:
        for cond in self.conditions:
            have = entry.key if cond.name == KEY else entry.fields.get(cond.name)
            if not cond.test(have):
                return False
        return True

    def identity_range(self) -> tuple[Identity, Identity] | None:
        if self.partition is None:
            return None
        return ((self.partition, ""), (self.partition, _MAX_KEY))

    def may_match(self, chunk: ChunkInfo) -> bool:
        """False only if the chunk's min/max prove no entry in it matches."""
        for cond in self.conditions:
            if cond.name == KEY:
                continue
            if not cond.may_hold(chunk.min.get(cond.name), chunk.max.get(cond.name)):
                return False
        return True


def compile_where(schema: Schema, where: Mapping[str, object] | None) -> Where:
    """Check ``where`` against the schema (InvalidInputError, before any request)."""
    if where is None:
        return Where((), None)
    if not isinstance(where, Mapping):
        raise InvalidInputError("where must be a mapping of field names to conditions")
    conditions: list[Condition] = []
    partition: str | None = None
    for name, spec in where.items():
        if name == KEY:
            kind = "key"
        elif isinstance(name, str) and name in schema.by_name:
            kind = schema.by_name[name].kind
        else:
            raise InvalidInputError(f"where: {name!r} is not a declared field")
        ops = spec if isinstance(spec, Mapping) else {"eq": spec}
        if not ops:
            raise InvalidInputError(f"where: no condition for {name!r}")
        for op, raw in ops.items():
            if op not in OPS:
                raise InvalidInputError(f"where: unknown operator {op!r} (use {OPS})")
            if op != "eq" and kind not in (*_RANGED, "key"):
                raise InvalidInputError(
                    f"where: ranges apply to number and datetime fields, "
                    f"not to {kind} field {name!r}"
                )
            if kind == "key":
                if not isinstance(raw, str):
                    raise InvalidInputError("where: '_key' conditions take strings")
                value: Value = raw
            else:
                value = schema.by_name[name].normalize(raw)
                if op != "eq" and value is None:
                    raise InvalidInputError(f"where: a range on {name!r} needs a value")
            conditions.append(Condition(name, op, value))
            if op == "eq" and name == schema.partition and isinstance(value, str):
                partition = value
    return Where(tuple(conditions), partition)


OrderKey = tuple[Any, ...]


def order_key(schema: Schema, order_by: str | None) -> Callable[[IndexEntry], OrderKey]:
    """The sort tuple of each row under ``order_by`` (validated here)."""
    if order_by is None:
        return lambda e: (e.partition, e.key)
    if order_by == KEY:
        return lambda e: (e.key, e.partition)
    if order_by == COMMIT:
        return lambda e: (e.seq, e.pos)
    if not isinstance(order_by, str) or order_by not in schema.by_name:
        raise InvalidInputError(
            f"order_by: {order_by!r} is not a declared field, '_key' or '_commit'"
        )
    kind = schema.by_name[order_by].kind

    def by_field(e: IndexEntry) -> OrderKey:
        value = e.fields.get(order_by)
        if value is None:
            return (0, 0, e.partition, e.key)
        if kind == "bool":
            value = int(bool(value))
        return (1, value, e.partition, e.key)

    return by_field


def cursor_of(order_by: str | None, descending: bool, row: OrderKey) -> str:
    raw = codec.dumps([order_by, descending, list(row)])
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def parse_cursor(cursor: object, order_by: str | None, descending: bool) -> OrderKey:
    """The order tuple inside ``cursor``; InvalidInputError if it is not one of ours."""
    if not isinstance(cursor, str) or len(cursor) > 16_384:
        raise InvalidInputError("start_after must be a cursor string from a previous page")
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        decoded = codec.loads(raw)
    except (binascii.Error, ValueError, Exception) as exc:
        raise InvalidInputError("start_after is not a valid cursor") from exc
    if (
        not isinstance(decoded, list)
        or len(decoded) != 3
        or decoded[0] != order_by
        or decoded[1] != descending
        or not isinstance(decoded[2], list)
    ):
        raise InvalidInputError("start_after is a cursor of another order")
    return tuple(decoded[2])
