"""``verify``: check a whole stream against its own chain and its signed checkpoints.

One LIST of the checkpoint keys and one of the entry keys (paginated), then GETs with
``read_concurrency`` in flight, consumed in key order. Checked:

* contiguity from 0: each object starts where the one before ended (``missing``,
  ``unexpected``), and each entry's ``seq`` is the one its place says (``seq_mismatch``);
* every entry's stream and workspace, its hash recomputed from its content (``bad_hash``)
  and its ``prev`` link (``broken_link``);
* every checkpoint: placed under its own size, signed by a trusted key (when the store
  has a verifier), ``prev`` naming an existing, smaller, unchanged checkpoint with an
  earlier or equal time (checkpoints only grow), its size not beyond the stream
  (truncation), its head and listed leaves equal to the recomputed chain
  (``sealed_entry_changed``, which catches an entry edited and re-hashed consistently);
* the newest checkpoint this store wrote or verified before verify started, and
  ``trusted``, are still there unchanged (``rollback``; one this store writes while
  verify runs may be missing from its LIST, and is not a rollback);
* format-2 checkpoints: Merkle root, signed note and stored tiles against the entries
  (``root_mismatch``, ``bad_tile``; see ``treecheck``).

Each problem names the first sequence number concerned; after a problem on an entry the
next link is not checked, so one change gives one problem, not a cascade.
"""

from __future__ import annotations

import base64
import binascii
import bisect
import time
from collections.abc import AsyncGenerator, AsyncIterator, Sequence
from typing import NamedTuple

from cloudstores.errors import IntegrityError, NotFoundError, StoreError
from cloudstores.keys import key_number
from cloudstores.stores.audit import chain, cosigs
from cloudstores.stores.audit.layout import StreamKeys
from cloudstores.stores.audit.models import (
    Checkpoint,
    ProblemKind,
    VerifyProblem,
    VerifyReport,
)
from cloudstores.stores.audit.reader import fetch_ordered
from cloudstores.stores.audit.records import StoredEntry
from cloudstores.stores.audit.signing import Verifier
from cloudstores.stores.audit.state import StoreContext, StreamState
from cloudstores.stores.audit.treecheck import check_trees
from cloudstores.stores.objects import Progress
from cloudstores.tlog import merkle
from cloudstores.tlog.cosignature import CosignatureVerifier

__all__ = ["verify_stream"]

_ZERO = bytes(32)
MAX_OBJECT_BYTES = 160 * 1024 * 1024
"""Larger objects are reported ``unreadable`` without a GET: no writer makes one (an
event is at most 64 MiB, a batch at most ``max_batch_bytes`` <= 64 MiB, plus framing)."""

_Listed = tuple[int | None, str, int]
"""``(number in the key or None, key, size)`` of a listed object."""
_Checkpoints = dict[int, tuple[Checkpoint, bytes] | None]
"""Checkpoints by the size in their key, with the message their signature covers (None:
one that could not be read)."""


class _Hashes:
    """The stored hash of each entry read, by seq, in runs of consecutive seqs.

    Memory follows the entries actually read (32 bytes each), never the numbers in the
    keys: a planted key at seq 50,000,000 starts a new run instead of a 1.6 GB gap.
    """

    def __init__(self) -> None:
        self._starts: list[int] = []
        self._runs: list[bytearray] = []
        self._next = -1

    def add(self, seq: int, digest: str | None) -> None:
        """Record entry ``seq``'s hash (None: unknown, the entry is bad)."""
        if seq != self._next:
            self._starts.append(seq)
            self._runs.append(bytearray())
        self._runs[-1] += _ZERO if digest is None else bytes.fromhex(digest)
        self._next = seq + 1

    def get(self, seq: int) -> str | None:
        i = bisect.bisect_right(self._starts, seq) - 1
        if i < 0:
            return None
        offset = (seq - self._starts[i]) * 32
        value = bytes(self._runs[i][offset : offset + 32])
        return None if len(value) < 32 or value == _ZERO else value.hex()


class _Problems:
    def __init__(self, limit: int) -> None:
        self.items: list[VerifyProblem] = []
        self.limit = limit
        self.truncated = False

    def add(
        self,
        kind: ProblemKind,
        seq: int,
        detail: str,
        *,
        key: str | None = None,
        checkpoint: int | None = None,
    ) -> None:
        if len(self.items) >= self.limit:
            self.truncated = True
            return
        self.items.append(
            VerifyProblem(kind=kind, seq=max(seq, 0), key=key, checkpoint=checkpoint, detail=detail)
        )


async def _keys(ctx: StoreContext, prefix: str) -> AsyncIterator[_Listed]:
    async for info in ctx.bucket.list(prefix):
        try:
            yield key_number(info.key, prefix), info.key, info.size
        except IntegrityError:
            yield None, info.key, info.size


def _fetch(
    ctx: StoreContext, prefix: str
) -> AsyncGenerator[tuple[_Listed, bytes | StoreError], None]:
    """GET each listed object in key order (``read_concurrency`` in flight); one over
    ``MAX_OBJECT_BYTES`` or not a numbered key is not fetched."""

    async def get(item: _Listed) -> bytes:
        number, key, size = item
        if number is None:
            return b""
        if size > MAX_OBJECT_BYTES:
            raise IntegrityError(f"object is {size} bytes, over {MAX_OBJECT_BYTES}", key=key)
        return (await ctx.bucket.get(key)).data

    return fetch_ordered(_keys(ctx, prefix), get, ctx.options.read_concurrency)


async def _load_checkpoints(
    ctx: StoreContext, keys: StreamKeys, problems: _Problems
) -> _Checkpoints:
    """Every checkpoint by the size in its key; None for one that cannot be used."""
    found: _Checkpoints = {}
    async for (size, key, _), data in _fetch(ctx, keys.cp_prefix):
        if size is None:
            problems.add("unexpected", 0, f"stray key {key!r} among checkpoints", key=key)
            continue
        if isinstance(data, NotFoundError):
            continue
        if isinstance(data, StoreError) and not isinstance(data, IntegrityError):
            raise data
        try:
            if isinstance(data, IntegrityError):
                raise data
            found[size] = chain.parse_checkpoint(data, key=key)
        except IntegrityError as exc:
            found[size] = None
            problems.add(
                "bad_checkpoint",
                size - 1,
                f"checkpoint {size}: {exc.message}",
                key=key,
                checkpoint=size,
            )
    return found


class _Walk:
    """The entries read so far, in order: where the next object must start, the hash
    the next entry must link to (None: unknown after a problem), the hash of each."""

    def __init__(self) -> None:
        self.hashes = _Hashes()
        self.expected = 0
        self.prev: str | None = chain.GENESIS
        self.objects = 0
        self.quiet_gap = False
        """After an unreadable object its range is unknown: no ``missing`` after it."""


class _Finding(NamedTuple):
    """A problem with one checkpoint; ``seq`` None: the checkpoint's last entry."""

    kind: ProblemKind
    detail: str
    seq: int | None = None


async def verify_stream(
    ctx: StoreContext,
    state: StreamState,
    verifier: Verifier | None,
    *,
    trusted: Checkpoint | None = None,
    max_problems: int = 100,
    on_progress: Progress | None = None,
    witnesses: Sequence[CosignatureVerifier] = (),
    required_witnesses: int = 0,
) -> VerifyReport:
    started = time.monotonic()
    keys = state.keys
    problems = _Problems(max_problems)
    # What this store trusted *before* the LIST: a checkpoint it writes while verify
    # runs (a background ``checkpoint_every`` one) may be missing from the LIST, and is
    # no rollback. One trusted before was written before, so the LIST must show it.
    seen_before = state.highest_trusted
    checkpoints = await _load_checkpoints(ctx, keys, problems)
    walk = await _walk_entries(ctx, keys, problems, on_progress)
    valid = _check_checkpoints(ctx, keys, checkpoints, walk, verifier, problems)
    loaded = [item[0] for item in checkpoints.values() if item is not None]
    await check_trees(ctx, keys, loaded, walk.hashes.get, verifier, problems.add)
    _check_rollback(keys, checkpoints, (trusted, seen_before), problems)
    witnessed = None
    if witnesses:
        witnessed = await cosigs.check(
            ctx.bucket,
            keys,
            ctx.workspace,
            loaded,
            lambda size: _root_of(walk, size),
            witnesses,
            required_witnesses,
            problems.add,
        )
    report = _report(
        state,
        checkpoints,
        walk,
        valid,
        problems,
        signatures_checked=verifier is not None,
        started=started,
    )
    if witnessed is None:
        return report
    return report.model_copy(
        update={"witnessed_size": witnessed.witnessed_size, "witnesses": witnessed.witnesses}
    )


def _root_of(walk: _Walk, size: int) -> bytes | None:
    """The root of entries ``[0, size)`` as read (None if one is missing or bad): for a
    cosignature whose checkpoint is gone. O(size) hashing, once per such size."""
    if size > walk.expected:
        return None
    leaves = []
    for seq in range(size):
        digest = walk.hashes.get(seq)
        if digest is None:
            return None
        leaves.append(bytes.fromhex(digest))
    return merkle.tree_root(leaves)


# ---------------------------------------------------------------------- the entries
async def _walk_entries(
    ctx: StoreContext, keys: StreamKeys, problems: _Problems, on_progress: Progress | None
) -> _Walk:
    """Read every entry object in key order; check its place, then each entry in it."""
    walk = _Walk()
    async for (first, key, _), data in _fetch(ctx, keys.e_prefix):
        if first is None:
            problems.add("unexpected", walk.expected, f"stray key {key!r} among entries", key=key)
            continue
        if isinstance(data, NotFoundError):
            continue
        if isinstance(data, StoreError) and not isinstance(data, IntegrityError):
            raise data
        walk.objects += 1
        if not _place_object(walk, first, key, problems):
            continue
        entries = _parse_object(walk, first, key, data, problems)
        if entries is None:
            continue
        _check_entries(ctx, keys, walk, entries, key, problems)
        if on_progress is not None:
            on_progress(walk.expected)
    return walk


def _place_object(walk: _Walk, first: int, key: str, problems: _Problems) -> bool:
    """Contiguity: False (reported) if the object starts inside the one before; a gap
    before it is reported as ``missing`` and the chain restarts there."""
    if first < walk.expected:
        problems.add(
            "unexpected",
            first,
            f"object at {first} starts inside the range of the object before "
            f"(which ends at {walk.expected - 1})",
            key=key,
        )
        return False
    if first > walk.expected:
        if not walk.quiet_gap:
            problems.add(
                "missing",
                walk.expected,
                f"entries {walk.expected}..{first - 1} are missing",
                key=key,
            )
        walk.expected, walk.prev = first, None
    walk.quiet_gap = False
    return True


def _parse_object(
    walk: _Walk, first: int, key: str, data: bytes | StoreError, problems: _Problems
) -> list[StoredEntry] | None:
    """The object's entries, or None (reported ``unreadable``) if it cannot be read."""
    try:
        if isinstance(data, StoreError):
            raise data
        return chain.parse_object(data, key=key)
    except IntegrityError as exc:
        problems.add("unreadable", first, f"entry object at {first}: {exc.message}", key=key)
        walk.hashes.add(first, None)
        walk.expected, walk.prev, walk.quiet_gap = first + 1, None, True
        return None


def _check_entries(
    ctx: StoreContext,
    keys: StreamKeys,
    walk: _Walk,
    entries: list[StoredEntry],
    key: str,
    problems: _Problems,
) -> None:
    """Check each entry in turn; a bad one breaks the link so the next is not blamed."""
    for entry in entries:
        seq = walk.expected
        found = _entry_problem(ctx, keys, entry, seq, walk.prev)
        if found is not None:
            kind, detail = found
            problems.add(kind, seq, f"entry {seq}: {detail}", key=key)
            walk.prev = None
            walk.hashes.add(seq, None)
        else:
            walk.prev = entry["hash"]
            walk.hashes.add(seq, entry["hash"])
        walk.expected += 1


def _entry_problem(
    ctx: StoreContext, keys: StreamKeys, entry: StoredEntry, seq: int, prev: str | None
) -> tuple[ProblemKind, str] | None:
    if entry["seq"] != seq:
        return "seq_mismatch", f"position {seq} holds entry {entry['seq']}"
    if entry["stream"] != keys.stream or entry["ws"] != ctx.workspace:
        return "wrong_stream", f"entry names {entry['ws']}/{entry['stream']}"
    if chain.recompute_hash(entry) != entry["hash"]:
        return "bad_hash", "content does not match its hash"
    if prev is not None and entry["prev"] != prev:
        return "broken_link", "prev is not the hash of the entry before"
    return None


# ---------------------------------------------------------------------- the checkpoints
def _check_checkpoints(
    ctx: StoreContext,
    keys: StreamKeys,
    checkpoints: _Checkpoints,
    walk: _Walk,
    verifier: Verifier | None,
    problems: _Problems,
) -> list[int]:
    """Check each loaded checkpoint against itself, its ``prev`` and the recomputed
    chain; the sizes of the ones that pass."""
    valid: list[int] = []
    for cp_size in sorted(checkpoints):
        loaded = checkpoints[cp_size]
        if loaded is None:
            continue
        cp, message = loaded
        found = (
            _checkpoint_header_problem(ctx, keys, cp, cp_size, message, verifier)
            or _checkpoint_link_problem(cp, checkpoints)
            or _checkpoint_seal_problem(cp, walk)
        )
        if found is not None:
            problems.add(
                found.kind,
                cp_size - 1 if found.seq is None else found.seq,
                f"checkpoint {cp_size}: {found.detail}",
                key=keys.checkpoint(cp_size),
                checkpoint=cp_size,
            )
            continue
        valid.append(cp_size)
    return valid


def _checkpoint_header_problem(
    ctx: StoreContext,
    keys: StreamKeys,
    cp: Checkpoint,
    cp_size: int,
    message: bytes,
    verifier: Verifier | None,
) -> _Finding | None:
    """Its key, its stream, its algorithm and signature."""
    if cp.size != cp_size:
        return _Finding("bad_checkpoint", f"the object under key {cp_size} is checkpoint {cp.size}")
    if cp.stream != keys.stream or cp.workspace != ctx.workspace:
        return _Finding("wrong_stream", f"names {cp.workspace}/{cp.stream}")
    unsigned = cp.algorithm == "none"
    if unsigned != (cp.signature is None) or unsigned != (cp.key_id is None):
        return _Finding(
            "bad_checkpoint", f"algorithm {cp.algorithm!r} does not fit its signature and key_id"
        )
    if verifier is not None:
        reason = _signature_problem(cp, message, verifier)
        if reason:
            return _Finding("bad_signature", reason)
    return None


def _checkpoint_link_problem(cp: Checkpoint, checkpoints: _Checkpoints) -> _Finding | None:
    """``prev`` names an existing, smaller, unchanged checkpoint no later than this one."""
    if cp.prev is None:
        return None
    ref = checkpoints.get(cp.prev.size)
    if cp.prev.size >= cp.size:
        return _Finding("checkpoint_link", f"prev {cp.prev.size} is not smaller")
    if ref is None or ref[0].hash != cp.prev.hash or ref[0].size != cp.prev.size:
        return _Finding("checkpoint_link", f"prev checkpoint {cp.prev.size} is missing or changed")
    if ref[0].time > cp.time:
        return _Finding("checkpoint_link", f"time goes backwards from checkpoint {cp.prev.size}")
    return None


def _checkpoint_seal_problem(cp: Checkpoint, walk: _Walk) -> _Finding | None:
    """What it seals is still there: not beyond the stream, its leaves and head equal
    to the stored hashes."""
    size = walk.expected
    if cp.size > size:
        return _Finding("missing", f"seals {cp.size} entries but the stream has {size}", seq=size)
    if cp.leaves and cp.leaves_start + len(cp.leaves) != cp.size:
        return _Finding("bad_checkpoint", "its leaves do not end at its size")
    stored = walk.hashes.get
    changed = next(
        (
            cp.leaves_start + i
            for i, leaf in enumerate(cp.leaves)
            if stored(cp.leaves_start + i) != leaf
        ),
        None,
    )
    if changed is None and stored(cp.size - 1) != cp.head:
        changed = cp.size - 1
    if changed is not None:
        return _Finding(
            "sealed_entry_changed", f"entry {changed} is not the one it sealed", seq=changed
        )
    return None


def _check_rollback(
    keys: StreamKeys,
    checkpoints: _Checkpoints,
    memos: tuple[Checkpoint | None, ...],
    problems: _Problems,
) -> None:
    """Every checkpoint seen before (``trusted``, the newest trusted) is still there."""
    for memo in memos:
        if memo is None:
            continue
        now = checkpoints.get(memo.size)
        if now is None or now[0].hash != memo.hash:
            problems.add(
                "rollback",
                memo.size - 1,
                f"checkpoint {memo.size} seen before is gone or changed",
                key=keys.checkpoint(memo.size),
                checkpoint=memo.size,
            )


# ---------------------------------------------------------------------- the report
def _report(
    state: StreamState,
    checkpoints: _Checkpoints,
    walk: _Walk,
    valid: list[int],
    problems: _Problems,
    *,
    signatures_checked: bool,
    started: float,
) -> VerifyReport:
    """The report; a clean stream's newest valid checkpoint becomes trusted."""
    items = sorted(problems.items, key=lambda p: p.seq)
    size = walk.expected
    last = max(valid) if valid else None
    ok = not items
    if ok and last is not None:
        newest = checkpoints[last]
        if newest is not None:
            state.trust(newest[0])
    return VerifyReport(
        stream=state.keys.stream,
        ok=ok,
        size=size,
        objects=walk.objects,
        checkpoints=len(checkpoints),
        last_checkpoint=last,
        unsealed=size - (last or 0),
        signatures_checked=signatures_checked,
        first_bad_seq=items[0].seq if items else None,
        problems=tuple(items),
        truncated_problems=problems.truncated,
        seconds=round(time.monotonic() - started, 6),
    )


def _signature_problem(cp: Checkpoint, message: bytes, verifier: Verifier) -> str | None:
    if cp.signature is None or cp.key_id is None or cp.algorithm == "none":
        return "is not signed"
    try:
        signature = base64.b64decode(cp.signature, validate=True)
    except (binascii.Error, ValueError):
        return "signature is not base64"
    if not verifier.verify(message, signature, algorithm=cp.algorithm, key_id=cp.key_id):
        return f"signature by key {cp.key_id} ({cp.algorithm}) does not verify"
    return None
