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
* the newest checkpoint this store wrote or verified before, and ``trusted``, are
  still there unchanged (``rollback``).

Each problem names the first sequence number concerned; after a problem on an entry the
next link is not checked, so one change gives one problem, not a cascade.
"""

from __future__ import annotations

import base64
import binascii
import bisect
import time
from collections.abc import AsyncGenerator, AsyncIterator

from cloudstores.errors import IntegrityError, NotFoundError, StoreError
from cloudstores.keys import key_number
from cloudstores.stores.audit import chain
from cloudstores.stores.audit.layout import StreamKeys
from cloudstores.stores.audit.models import (
    Checkpoint,
    ProblemKind,
    VerifyProblem,
    VerifyReport,
)
from cloudstores.stores.audit.reader import fetch_ordered
from cloudstores.stores.audit.signing import Verifier
from cloudstores.stores.audit.state import StoreContext, StreamState
from cloudstores.stores.objects import Progress

__all__ = ["verify_stream"]

_ZERO = bytes(32)
MAX_OBJECT_BYTES = 160 * 1024 * 1024
"""Larger objects are reported ``unreadable`` without a GET: no writer makes one (an
event is at most 64 MiB, a batch at most ``max_batch_bytes`` <= 64 MiB, plus framing)."""

_Listed = tuple[int | None, str, int]
"""``(number in the key or None, key, size)`` of a listed object."""


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
        value = bytes(self._runs[i][offset:offset + 32])
        return None if len(value) < 32 or value == _ZERO else value.hex()


class _Problems:
    def __init__(self, limit: int) -> None:
        self.items: list[VerifyProblem] = []
        self.limit = limit
        self.truncated = False

    def add(self, kind: ProblemKind, seq: int, detail: str, *, key: str | None = None,
            checkpoint: int | None = None) -> None:
        if len(self.items) >= self.limit:
            self.truncated = True
            return
        self.items.append(VerifyProblem(kind=kind, seq=max(seq, 0), key=key,
                                        checkpoint=checkpoint, detail=detail))


async def _keys(ctx: StoreContext, prefix: str) -> AsyncIterator[_Listed]:
    async for info in ctx.bucket.list(prefix):
        try:
            yield key_number(info.key, prefix), info.key, info.size
        except IntegrityError:
            yield None, info.key, info.size


def _fetch(ctx: StoreContext, prefix: str
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
) -> dict[int, tuple[Checkpoint, bytes] | None]:
    """Every checkpoint by the size in its key; None for one that cannot be used."""
    found: dict[int, tuple[Checkpoint, bytes] | None] = {}
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
            problems.add("bad_checkpoint", size - 1, f"checkpoint {size}: {exc.message}",
                         key=key, checkpoint=size)
    return found


async def verify_stream(
    ctx: StoreContext,
    state: StreamState,
    verifier: Verifier | None,
    *,
    trusted: Checkpoint | None = None,
    max_problems: int = 100,
    on_progress: Progress | None = None,
) -> VerifyReport:
    started = time.monotonic()
    keys = state.keys
    problems = _Problems(max_problems)
    checkpoints = await _load_checkpoints(ctx, keys, problems)

    # ---- the entries, in order
    hashes = _Hashes()
    expected = 0
    prev: str | None = chain.GENESIS
    objects = 0
    quiet_gap = False  # after an unreadable object its range is unknown: no "missing"
    async for (first, key, _), data in _fetch(ctx, keys.e_prefix):
        if first is None:
            problems.add("unexpected", expected, f"stray key {key!r} among entries", key=key)
            continue
        if isinstance(data, NotFoundError):
            continue
        if isinstance(data, StoreError) and not isinstance(data, IntegrityError):
            raise data
        objects += 1
        if first < expected:
            problems.add("unexpected", first,
                         f"object at {first} starts inside the range of the object before "
                         f"(which ends at {expected - 1})", key=key)
            continue
        if first > expected:
            if not quiet_gap:
                problems.add("missing", expected,
                             f"entries {expected}..{first - 1} are missing", key=key)
            expected, prev = first, None
        quiet_gap = False
        try:
            if isinstance(data, IntegrityError):
                raise data
            entries = chain.parse_object(data, key=key)
        except IntegrityError as exc:
            problems.add("unreadable", first, f"entry object at {first}: {exc.message}", key=key)
            hashes.add(first, None)
            expected, prev, quiet_gap = first + 1, None, True
            continue
        for entry in entries:
            seq = expected
            kind: ProblemKind | None = None
            detail = ""
            if entry["seq"] != seq:
                kind, detail = "seq_mismatch", f"position {seq} holds entry {entry['seq']}"
            elif entry["stream"] != keys.stream or entry["ws"] != ctx.workspace:
                kind = "wrong_stream"
                detail = f"entry names {entry['ws']}/{entry['stream']}"
            elif chain.recompute_hash(entry) != entry["hash"]:
                kind, detail = "bad_hash", "content does not match its hash"
            elif prev is not None and entry["prev"] != prev:
                kind, detail = "broken_link", "prev is not the hash of the entry before"
            if kind is not None:
                problems.add(kind, seq, f"entry {seq}: {detail}", key=key)
                prev = None
                hashes.add(seq, None)
            else:
                prev = entry["hash"]
                hashes.add(seq, entry["hash"])
            expected += 1
        if on_progress is not None:
            on_progress(expected)
    size = expected

    def stored(seq: int) -> str | None:
        return hashes.get(seq)

    # ---- the checkpoints, against the chain
    valid_sizes: list[int] = []
    for cp_size in sorted(checkpoints):
        loaded = checkpoints[cp_size]
        if loaded is None:
            continue
        cp, message = loaded
        at, ckey = cp_size - 1, keys.checkpoint(cp_size)

        def bad(kind: ProblemKind, detail: str, seq: int = at, size: int = cp_size,
                key: str = ckey) -> None:
            problems.add(kind, seq, f"checkpoint {size}: {detail}", key=key, checkpoint=size)

        if cp.size != cp_size:
            bad("bad_checkpoint", f"the object under key {cp_size} is checkpoint {cp.size}")
            continue
        if cp.stream != keys.stream or cp.workspace != ctx.workspace:
            bad("wrong_stream", f"names {cp.workspace}/{cp.stream}")
            continue
        unsigned = cp.algorithm == "none"
        if unsigned != (cp.signature is None) or unsigned != (cp.key_id is None):
            bad("bad_checkpoint", f"algorithm {cp.algorithm!r} does not fit its signature "
                "and key_id")
            continue
        if verifier is not None:
            reason = _signature_problem(cp, message, verifier)
            if reason:
                bad("bad_signature", reason)
                continue
        if cp.prev is not None:
            ref = checkpoints.get(cp.prev.size)
            if cp.prev.size >= cp.size:
                bad("checkpoint_link", f"prev {cp.prev.size} is not smaller")
                continue
            if ref is None or ref[0].hash != cp.prev.hash or ref[0].size != cp.prev.size:
                bad("checkpoint_link", f"prev checkpoint {cp.prev.size} is missing or changed")
                continue
            if ref[0].time > cp.time:
                bad("checkpoint_link", f"time goes backwards from checkpoint {cp.prev.size}")
                continue
        if cp.size > size:
            bad("missing", f"seals {cp.size} entries but the stream has {size}", seq=size)
            continue
        if cp.leaves and cp.leaves_start + len(cp.leaves) != cp.size:
            bad("bad_checkpoint", "its leaves do not end at its size")
            continue
        changed = next((cp.leaves_start + i for i, leaf in enumerate(cp.leaves)
                        if stored(cp.leaves_start + i) != leaf), None)
        if changed is None and stored(cp.size - 1) != cp.head:
            changed = cp.size - 1
        if changed is not None:
            bad("sealed_entry_changed", f"entry {changed} is not the one it sealed",
                seq=changed)
            continue
        valid_sizes.append(cp_size)

    for memo in (trusted, state.highest_trusted):
        if memo is None:
            continue
        now = checkpoints.get(memo.size)
        if now is None or now[0].hash != memo.hash:
            problems.add("rollback", memo.size - 1,
                         f"checkpoint {memo.size} seen before is gone or changed",
                         key=keys.checkpoint(memo.size), checkpoint=memo.size)

    items = sorted(problems.items, key=lambda p: p.seq)
    last = max(valid_sizes) if valid_sizes else None
    ok = not items
    if ok and last is not None:
        newest = checkpoints[last]
        if newest is not None:
            state.trust(newest[0])
    return VerifyReport(
        stream=keys.stream,
        ok=ok,
        size=size,
        objects=objects,
        checkpoints=len(checkpoints),
        last_checkpoint=last,
        unsealed=size - (last or 0),
        signatures_checked=verifier is not None,
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
