"""The stored audit records as ``TypedDict``s: what ``chain`` writes and, once it has
validated them, hands out.

These are types only. Bytes read from a bucket are untrusted: ``chain.parse_object`` and
``chain.parse_checkpoint`` check every field and only then treat the dict as one of
these. See ``chain`` for the canonical encoding and the hashes.
"""

# no ``from __future__ import annotations``: TypedDict must see NotRequired at runtime
from typing import Any, NotRequired, TypedDict

__all__ = ["CheckpointBody", "CheckpointLink", "EntryObject", "StoredCheckpoint", "StoredEntry"]


class _EntryFields(TypedDict):
    event: dict[str, Any]
    hash: str
    prev: str
    seq: int
    stream: str
    ts: str
    v: int
    ws: str


class _EntryKey(TypedDict, total=False):
    key: str


class StoredEntry(_EntryFields, _EntryKey):
    """One entry as stored: ``hash`` is the leaf hash of every other field. ``key`` is
    only in format 2 (``v`` = 2): the unique key the entry was appended with."""


class EntryObject(TypedDict):
    """One object of a stream: consecutive entries of one commit."""

    entries: list[StoredEntry]
    v: int


class CheckpointLink(TypedDict):
    """``prev`` of a checkpoint: the size and hash of the checkpoint before it."""

    hash: str
    size: int


class CheckpointBody(TypedDict):
    """Every signed field of a checkpoint (``root``: format 2 only)."""

    algorithm: str
    head: str
    key_id: str | None
    leaves: list[str]
    leaves_start: int
    prev: CheckpointLink | None
    size: int
    stream: str
    time: str
    v: int
    ws: str
    root: NotRequired[str]


class StoredCheckpoint(CheckpointBody):
    """A checkpoint as stored: its body and the base64 signature (None: unsigned); a
    format-2 one adds its signed note and its edge (both unsigned by the JSON signature:
    the note carries its own, the edge is checked against ``root``)."""

    signature: str | None
    note: NotRequired[str | None]
    edge: NotRequired[list[str]]
