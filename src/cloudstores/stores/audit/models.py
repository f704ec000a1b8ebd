"""The audit store's values: entries, checkpoints, verification reports, options.

All models are pydantic v2 and frozen. ``AuditOptions`` is a frozen dataclass; it is
checked when built, so a bad option fails before any request.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from cloudstores.errors import InvalidInputError

__all__ = [
    "MAX_BATCH_LIMIT",
    "AuditEntry",
    "AuditOptions",
    "AuditPage",
    "Checkpoint",
    "CheckpointRef",
    "ProblemKind",
    "StreamHead",
    "VerifyProblem",
    "VerifyReport",
]

MAX_BATCH_LIMIT = 1000
"""Hard cap on entries per object, whatever the options say. Readers rely on it: the
object holding sequence number ``n`` starts at most ``MAX_BATCH_LIMIT - 1`` before it,
so one bounded LIST page finds it."""

_FROZEN = ConfigDict(frozen=True, extra="forbid")


class AuditEntry(BaseModel):
    """One audit event as stored: its place in the stream, its time, its chain links.

    ``hash`` is ``sha256(0x00 || canonical JSON of every other field)`` in hex, and
    ``prev`` is the ``hash`` of entry ``seq - 1`` (64 zeros for entry 0).
    """

    model_config = _FROZEN

    workspace: str
    stream: str
    seq: int
    ts: datetime
    """When ``append`` was called, UTC, by the writer's clock. Entries from several
    writers are ordered by ``seq``; their ``ts`` need not be monotonic."""
    event: dict[str, Any]
    prev: str
    hash: str
    key: str | None = None
    """The unique key given to ``append(..., key=)`` (stored and hashed, format 2), or None."""


class AuditPage(BaseModel):
    """One page of ``AuditStore.query``: the entries, and the cursor of the next page
    (pass it as ``start_after``; None: no more)."""

    model_config = _FROZEN

    entries: tuple[AuditEntry, ...]
    cursor: str | None


class CheckpointRef(BaseModel):
    """A pointer to a checkpoint: its size and the hash of its stored object."""

    model_config = _FROZEN

    size: int
    hash: str


class Checkpoint(BaseModel):
    """A signed statement: "stream S had ``size`` entries, the last one hashing to ``head``".

    ``leaves`` lists the entry hashes of ``[leaves_start, size)`` (when that range is at
    most ``MAX_CHECKPOINT_LEAVES``), so ``verify`` can name the exact entry that changed
    under a checkpoint even when the attacker re-hashed the chain after it.
    ``algorithm`` is ``"ed25519"`` or ``"none"`` (keyless mode: no signature).
    """

    model_config = _FROZEN

    workspace: str
    stream: str
    size: int
    head: str
    time: datetime
    prev: CheckpointRef | None
    leaves_start: int
    leaves: tuple[str, ...]
    algorithm: str
    key_id: str | None
    signature: str | None
    hash: str
    """Hash of the stored checkpoint object (what the next checkpoint's ``prev`` names)."""
    root: str | None = None
    """RFC 6962 Merkle root (hex) of entries ``[0, size)``; None in a format-1 checkpoint."""
    note: str | None = None
    """The same tree head as a C2SP tlog-checkpoint signed note (None: keyless, format 1)."""
    edge: tuple[str, ...] = ()
    """Partial tile of each tile level at ``size`` (base64, "" where none), checked
    against ``root``: what a proof needs beside the full tiles."""


class StreamHead(BaseModel):
    """The tail of a stream: how many entries it has and the hash of the last one."""

    model_config = _FROZEN

    stream: str
    size: int
    hash: str
    """Hash of entry ``size - 1``; 64 zeros for an empty stream."""


ProblemKind = Literal[
    "unreadable",  # an object is not valid JSON or not an audit object
    "missing",  # a sequence number has no entry (deleted, or truncated below a checkpoint)
    "unexpected",  # an object at a key inside another object's range, or a stray key
    "seq_mismatch",  # an entry's seq is not the one its key says
    "wrong_stream",  # an entry or checkpoint names another stream or workspace
    "broken_link",  # an entry's prev is not the hash of the entry before
    "bad_hash",  # an entry's stored hash is not the hash of its content
    "root_mismatch",  # a checkpoint's Merkle root (or its note) is not the entries' root
    "bad_tile",  # a stored hash tile is not the tile of the entries
    "sealed_entry_changed",  # an entry differs from what a checkpoint sealed
    "bad_checkpoint",  # a checkpoint is unreadable, misplaced or inconsistent
    "bad_signature",  # a checkpoint's signature does not verify (or is missing)
    "checkpoint_link",  # a checkpoint's prev does not name an existing earlier checkpoint
    "rollback",  # a checkpoint seen before (trusted) is gone or changed
    "witness_fork",  # a trusted witness cosigned another tree head for a checkpoint's size
    "bad_cosignature",  # a trusted witness's cosignature object does not verify
    "unwitnessed",  # fewer than the required witnesses cosigned any checkpoint
]


class VerifyProblem(BaseModel):
    """One thing wrong with a stream.

    ``seq`` is the first sequence number concerned. For a problem with a checkpoint
    itself (bad signature, misplaced, replaced) it is ``size - 1``: the last entry the
    checkpoint seals, and ``checkpoint`` is that checkpoint's size.
    """

    model_config = _FROZEN

    kind: ProblemKind
    seq: int
    key: str | None = None
    checkpoint: int | None = None
    detail: str


class VerifyReport(BaseModel):
    """What ``AuditStore.verify`` found.

    ``ok`` is True when there is no problem. ``first_bad_seq`` is the smallest ``seq``
    among the problems. ``unsealed`` counts the entries after the last valid checkpoint.
    ``signatures_checked`` is False when the store has no verifier (keyless mode): the
    chain and the checkpoints' hashes are still checked, their signatures are not.
    """

    model_config = _FROZEN

    stream: str
    ok: bool
    size: int
    objects: int
    checkpoints: int
    last_checkpoint: int | None
    unsealed: int
    signatures_checked: bool
    first_bad_seq: int | None
    problems: tuple[VerifyProblem, ...]
    truncated_problems: bool = False
    seconds: float = 0.0
    witnessed_size: int | None = None
    """With witnesses asked for: the largest checkpoint size cosigned by at least the
    required number of them (None: not asked, or none)."""
    witnesses: tuple[str, ...] = ()
    """The trusted witnesses (key names) that cosigned the ``witnessed_size`` checkpoint."""

    def summary(self) -> str:
        if self.ok:
            return (
                f"{self.stream}: ok, {self.size} entries, {self.checkpoints} checkpoints, "
                f"{self.unsealed} unsealed"
            )
        first = self.problems[0]
        return (
            f"{self.stream}: {len(self.problems)} problem(s), first at seq "
            f"{self.first_bad_seq}: {first.kind}: {first.detail}"
        )

    def as_dict(self) -> dict[str, Any]:
        return self.model_dump(mode="json")


@dataclass(frozen=True, slots=True, kw_only=True)
class AuditOptions:
    """Tuning of an :class:`~cloudstores.stores.audit.AuditStore`.

    Attributes:
        max_event_bytes: largest event, as canonical JSON (PayloadTooLargeError above).
        max_batch: most entries one object may hold (group commit); 1 disables batching.
        max_batch_bytes: an object stops growing at this many bytes of events (a single
            event larger than this still gets an object of its own). The default stays
            under 1 MiB, where every emulator's create-only check is exact.
        max_wait: seconds a commit may linger to gather more events when nothing is
            in flight. 0 (default): a quiet writer's append is one PUT with no delay;
            batches form on their own while a PUT is in flight.
        checkpoint_every: write a checkpoint when an object ends at or past a multiple
            of this many entries (None: never by count).
        checkpoint_interval: seconds after which this writer seals its unsealed entries
            with a checkpoint (None: never by time).
        checkpoint_on_close: ``close()`` seals what this writer appended.
        read_concurrency: GETs in flight while reading or verifying a stream.
        max_checkpoint_leaves: a checkpoint lists the entry hashes it seals when they
            are at most this many (so ``verify`` can pinpoint a re-hashed entry).
        entry_format: the format of the entries this store writes: 3 (default, hashed
            over RFC 8785 canonical JSON) or 1 (the legacy orjson bytes; keyed entries
            are then format 2). Reading and verifying accept every format, mixed.
    """

    max_event_bytes: int = 256 * 1024
    max_batch: int = 256
    max_batch_bytes: int = 960 * 1024
    max_wait: float = 0.0
    checkpoint_every: int | None = 100
    checkpoint_interval: float | None = 60.0
    checkpoint_on_close: bool = True
    read_concurrency: int = 16
    max_checkpoint_leaves: int = 1024
    entry_format: int = 3

    def __post_init__(self) -> None:
        def need(ok: bool, what: str) -> None:
            if not ok:
                raise InvalidInputError(f"AuditOptions: {what}")

        for name in (
            "max_event_bytes",
            "max_batch",
            "max_batch_bytes",
            "read_concurrency",
            "max_checkpoint_leaves",
        ):
            value = getattr(self, name)
            need(isinstance(value, int) and not isinstance(value, bool), f"{name} must be an int")
        for name in ("checkpoint_every",):
            value = getattr(self, name)
            need(
                value is None or (isinstance(value, int) and not isinstance(value, bool)),
                f"{name} must be an int or None",
            )
        need(
            isinstance(self.max_wait, int | float) and not isinstance(self.max_wait, bool),
            "max_wait must be a number",
        )
        need(
            self.checkpoint_interval is None
            or (
                isinstance(self.checkpoint_interval, int | float)
                and not isinstance(self.checkpoint_interval, bool)
            ),
            "checkpoint_interval must be a number or None",
        )
        need(isinstance(self.checkpoint_on_close, bool), "checkpoint_on_close must be a bool")
        need(1 <= self.max_event_bytes <= 64 * 1024 * 1024, "max_event_bytes must be 1..64 MiB")
        need(1 <= self.max_batch <= MAX_BATCH_LIMIT, f"max_batch must be 1..{MAX_BATCH_LIMIT}")
        need(1 <= self.max_batch_bytes <= 64 * 1024 * 1024, "max_batch_bytes must be 1..64 MiB")
        need(0 <= self.max_wait <= 10, "max_wait must be 0..10 seconds")
        need(
            self.checkpoint_every is None or self.checkpoint_every >= 1,
            "checkpoint_every must be None or >= 1",
        )
        need(
            self.checkpoint_interval is None or self.checkpoint_interval > 0,
            "checkpoint_interval must be None or > 0",
        )
        need(1 <= self.read_concurrency <= 1024, "read_concurrency must be 1..1024")
        need(0 <= self.max_checkpoint_leaves <= 100_000, "max_checkpoint_leaves must be 0..100000")
        need(
            type(self.entry_format) is int and self.entry_format in (1, 3),
            "entry_format must be 1 or 3",
        )
