"""Reading the format-1 index (before declared fields), so old workspaces keep working.

Format 1, under the same prefix::

    {seq:020d}.json        {"seq": n, "entries": [{"k": key, ...flat fields}]}
    snap/{seq:020d}.json   {"upto": n, "entries": [...]}: every entry of segments 0..n

Format-1 segments are the first tail segments of a format-2 index (same keys, no
``"format"`` member); the newest snapshot stands in for a manifest until the first
compaction merges it and the segments after it into chunks. Each store supplies a
converter from a flat format-1 entry to ``(key, version, fields)``; an entry it cannot
convert is reported and skipped. A snapshot's entries are stamped ``(upto, position)``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from cloudstores.errors import InvalidInputError
from cloudstores.stores.index.entries import IndexEntry, make_entry

if TYPE_CHECKING:
    from cloudstores.stores.index.core import Index

__all__ = ["LegacyConverter", "decode_legacy_entries"]

LegacyConverter = Callable[[dict[str, Any]], tuple[str, int, dict[str, object]]]
"""Format-1 entry -> ``(key, version, fields)``; may raise KeyError/TypeError/ValueError."""


def decode_legacy_entries(index: Index, key: str, raw: object, *, seq: int) -> list[IndexEntry]:
    if not isinstance(raw, list):
        index.problems.report(key, "format-1 object has no 'entries' list")
        return []
    if index.legacy is None:
        if raw:
            index.problems.report(key, "format-1 entries, but this index reads no format 1")
        return []
    kept: list[IndexEntry] = []
    for pos, item in enumerate(raw):
        try:
            if not isinstance(item, dict) or not isinstance(item.get("k"), str):
                raise ValueError("entry has no string 'k'")
            entry_key, version, fields = index.legacy(item)
            entry = make_entry(index.schema, entry_key, fields, version=version)
        except (KeyError, TypeError, ValueError, InvalidInputError) as exc:
            index.problems.report(key, f"format-1 entry {pos} skipped: {exc}"[:300])
            continue
        kept.append(entry.stamped(seq, pos))
    return kept
