"""Appending to one stream: tail cache, probe-forward, race handling, group commit.

**Tail.** Each writer caches the next free sequence number and the hash of the entry
before it. A warm append is one create-only PUT at that number. The PUT is also the
probe: if the key is taken, another writer won the race, so this one GETs that object
(it needs its last hash to chain on), moves past it and tries again. After two lost
races in a row it stops walking and LISTs the keys from there instead, then GETs the
last object. A cold writer LISTs the checkpoint keys, then the entry keys from the
newest checkpoint on (never the whole stream when checkpoints exist), and GETs the last.
This is correct because entry objects tile the sequence space: an object is only ever
written right after a known one ends, so a free key past a known object is the tail.

**Batches.** One object holds the consecutive entries of one commit and is keyed by its
first sequence number; the numbers it holds are reserved by it (no other object may
start inside its range, which ``verify`` checks). The trade-off against one object per
entry: a batch is one PUT for many events (the throughput of group commit), but
``get(n)`` for an ``n`` inside a batch cannot be derived from the key alone. It is one
GET whenever ``n`` starts an object (every lone append, which is what a quiet writer
produces) or this process has seen the object; otherwise one LIST page finds the start,
since a batch holds at most ``MAX_BATCH_LIMIT`` entries. The alternative that keeps
"one GET for any n" (a stub object per reserved number) would cost one PUT per event
again and defeat group commit.

**Group commit** (``cloudstores.stores.group_commit``). Appends queue per stream; one
commit is in flight per stream and writer (a batch must chain on the previous one, and a
batch written on top of one that then lost its race would break the chain). When the
queue is idle an append is sent at once (``max_wait`` = 0 by default: a lone append is
one PUT, no added latency); while a PUT is in flight, arrivals pile up and go together
in the next object, up to ``max_batch`` entries and ``max_batch_bytes``. Each event
keeps its own sequence number.

**Failure.** When a PUT fails with anything but AlreadyExists (after the bucket's own
retries and put-id reconciliation), the appends of that batch get the error and the
tail becomes unknown (the write may have landed); the next commit finds it again.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Coroutine
from dataclasses import dataclass
from typing import Any

import orjson

from cloudstores.errors import (
    AlreadyExistsError,
    ConflictError,
    NotFoundError,
    StoreError,
)
from cloudstores.stores.audit import chain
from cloudstores.stores.audit.checkpoints import Checkpointer
from cloudstores.stores.audit.models import AuditEntry, Checkpoint, StreamHead
from cloudstores.stores.audit.reader import list_objects, numbered, read_object
from cloudstores.stores.audit.state import StoreContext, StreamState
from cloudstores.stores.group_commit import Bound, GroupCommit

__all__ = ["StreamWriter"]

log = logging.getLogger("cloudstores.audit")

MAX_RACES = 10_000
"""Lost races one commit may take before giving up with ConflictError."""
_ENTRY_OVERHEAD = 400
"""Bytes an entry adds around its event (seq, ts, hashes, names), for batch sizing."""


@dataclass(slots=True)
class _Pending:
    """One append call (or one chunk of an ``append_many``) waiting in the queue."""

    events: list[tuple[bytes, str]]
    size: int


def _count(pending: _Pending) -> int:
    return len(pending.events)


def _size(pending: _Pending) -> int:
    return pending.size


class StreamWriter:
    """Appends of one store instance to one stream."""

    def __init__(self, ctx: StoreContext, state: StreamState) -> None:
        self.ctx = ctx
        self.state = state
        self.keys = state.keys
        self.checkpointer = Checkpointer(ctx, state)
        options = ctx.options
        self._group: GroupCommit[_Pending, list[AuditEntry]] = GroupCommit(
            self._commit_batch,
            (Bound(_count, options.max_batch), Bound(_size, options.max_batch_bytes)),
            max_wait=options.max_wait,
            stopped=lambda: ConflictError("audit writer stopped"),
        )
        self._next: int | None = None
        self._head = chain.GENESIS
        self._registered = False
        self._own_end = 0
        """End of the last object this writer wrote (what ``close`` must seal)."""
        self._cp_lock = asyncio.Lock()
        self._cp_tasks: set[asyncio.Task[None]] = set()
        self._timer: asyncio.Task[None] | None = None
        self.last_checkpoint_error: BaseException | None = None

    @property
    def _tracks_hashes(self) -> bool:
        """Whether checkpoints can be written, so entry hashes are kept for their leaves."""
        options = self.ctx.options
        return options.checkpoint_every is not None or bool(options.checkpoint_interval)

    # ------------------------------------------------------------------ appending
    async def append(self, events: list[tuple[bytes, str]]) -> list[AuditEntry]:
        """Queue encoded events ``(canonical bytes, ts)``; return once they are durable."""
        options = self.ctx.options
        chunks: list[_Pending] = []
        current: list[tuple[bytes, str]] = []
        size = 0
        for event in events:
            cost = len(event[0]) + _ENTRY_OVERHEAD
            if current and (
                len(current) >= options.max_batch or size + cost > options.max_batch_bytes
            ):
                chunks.append(_Pending(current, size))
                current, size = [], 0
            current.append(event)
            size += cost
        if current:
            chunks.append(_Pending(current, size))
        futures = [self._group.submit_nowait(chunk) for chunk in chunks]
        results: list[AuditEntry] = []
        for future in futures:
            results.extend(await asyncio.shield(future))
        return results

    async def _commit_batch(self, batch: list[_Pending]) -> list[list[AuditEntry]]:
        """One group commit: the chunks of ``batch`` as one object, entries per chunk."""
        entries = await self._commit([e for p in batch for e in p.events])
        out: list[list[AuditEntry]] = []
        at = 0
        for pending in batch:
            out.append(entries[at : at + len(pending.events)])
            at += len(pending.events)
        return out

    async def _commit(self, events: list[tuple[bytes, str]]) -> list[AuditEntry]:
        """Write ``events`` as one object at the tail, winning the race eventually."""
        ctx = self.ctx
        losses = 0
        for _ in range(MAX_RACES):
            if self._next is None:
                await self._find_tail()
            seq0 = self._next
            assert seq0 is not None
            if seq0 == 0 and not self._registered:
                await self._register()
            prev0 = self._head
            stored, hashes = self._build(seq0, prev0, events)
            try:
                await ctx.bucket.put(
                    self.keys.entry(seq0),
                    chain.encode_object(stored),
                    mode="create",
                    content_type="application/json",
                )
            except AlreadyExistsError:
                losses += 1
                await self._lost_race(seq0, losses)
                continue
            except BaseException:
                self._next = None  # it may have landed: find the tail afresh
                raise
            prev = hashes[-1]
            count = len(events)
            self._next, self._head = seq0 + count, prev
            self._own_end = seq0 + count
            self.state.spans.add(seq0, count)
            if self._tracks_hashes:
                self.state.remember(list(zip(range(seq0, seq0 + count), hashes, strict=True)))
                self._prune()
            self._after_commit(seq0, count)
            return self._entries(seq0, events, prev0, hashes)
        raise ConflictError(
            f"gave up appending to stream {self.keys.stream!r} after {MAX_RACES} lost races",
            key=self.keys.e_prefix,
        )

    def _build(
        self, seq0: int, prev: str, events: list[tuple[bytes, str]]
    ) -> tuple[list[bytes], list[str]]:
        """The stored bytes and the hash of each entry, chained on ``prev`` from ``seq0``."""
        stored: list[bytes] = []
        hashes: list[str] = []
        for i, (event, ts) in enumerate(events):
            data, prev = chain.build_entry(
                workspace=self.ctx.workspace,
                stream=self.keys.stream,
                seq=seq0 + i,
                ts=ts,
                event=event,
                prev=prev,
                entry_format=self.ctx.options.entry_format,
            )
            stored.append(data)
            hashes.append(prev)
        return stored, hashes

    async def _lost_race(self, seq0: int, losses: int) -> None:
        """Another writer took ``seq0``: move the tail past it (walk, or LIST after 2)."""
        try:
            if losses >= 3:
                await self._skip_to_last(seq0)
            else:
                await self._adopt(seq0)
        except NotFoundError:
            self._next = None  # the object vanished: find the tail afresh

    def _entries(
        self, seq0: int, events: list[tuple[bytes, str]], prev: str, hashes: list[str]
    ) -> list[AuditEntry]:
        out: list[AuditEntry] = []
        for i, (event, ts) in enumerate(events):
            out.append(
                AuditEntry(
                    workspace=self.ctx.workspace,
                    stream=self.keys.stream,
                    seq=seq0 + i,
                    ts=chain.parse_ts(ts),
                    event=orjson.loads(event),
                    prev=prev,
                    hash=hashes[i],
                )
            )
            prev = hashes[i]
        return out

    def _prune(self) -> None:
        sealed = self.state.checkpoint.size if self.state.checkpoint is not None else 0
        self.state.prune(below=sealed, keep=self.ctx.options.max_checkpoint_leaves)

    async def _register(self) -> None:
        """Create the stream's registry marker (before entry 0; losing is fine)."""
        with contextlib.suppress(AlreadyExistsError):
            await self.ctx.bucket.put(self.keys.registry, b"", mode="create")
        self._registered = True

    # ------------------------------------------------------------------ the tail
    async def _adopt(self, first: int) -> None:
        """GET the object at ``first`` and move the tail past it."""
        entries = await read_object(self.ctx.bucket, self.keys, self.state.spans, first)
        if self._tracks_hashes:
            self.state.remember(entries)
            self._prune()
        self._next = first + len(entries)
        self._head = entries[-1]["hash"]

    async def _skip_to_last(self, start: int) -> None:
        """One LIST from ``start`` (whose key exists) to the last object; adopt that."""
        last = start
        after = self.keys.entry(start)
        listed = self.ctx.bucket.list(self.keys.e_prefix, start_after=after)
        async for number, _ in numbered(listed, self.keys.e_prefix):
            last = number
        await self._adopt(last)

    async def _find_tail(self) -> None:
        """Cold start: LIST checkpoints, LIST entries from the newest one, GET the last."""
        newest = await self.checkpointer.newest_size()
        last: int | None = None
        async for first, _ in list_objects(self.ctx.bucket, self.keys, max(newest - 1, 0)):
            last = first
        if last is None and newest:
            log.warning(
                "stream %s has checkpoint %d but no entry near it", self.keys.stream, newest
            )
            async for first, _ in list_objects(self.ctx.bucket, self.keys, 0):
                last = first
        if last is None:
            self._next, self._head = 0, chain.GENESIS
            return
        await self._adopt(last)

    async def head(self) -> StreamHead:
        """The current tail: from the cache, probed forward (one GET when up to date)."""
        if self._next is None:
            await self._find_tail()
        while True:
            assert self._next is not None
            try:
                await self._adopt(self._next)
            except NotFoundError:
                break
        return StreamHead(stream=self.keys.stream, size=self._next, hash=self._head)

    # ------------------------------------------------------------------ checkpoints
    def _after_commit(self, seq0: int, count: int) -> None:
        options = self.ctx.options
        every = options.checkpoint_every
        end = seq0 + count
        if every is not None and end // every > seq0 // every:
            self._spawn(self._checkpoint_at(end, self._head))
        elif options.checkpoint_interval and self._timer is None:
            self._timer = asyncio.ensure_future(self._timer_run(options.checkpoint_interval))

    def _spawn(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.ensure_future(work)
        self._cp_tasks.add(task)
        task.add_done_callback(self._cp_tasks.discard)

    async def _timer_run(self, delay: float) -> None:
        try:
            await asyncio.sleep(delay)
        finally:
            self._timer = None
        await self.seal()

    def _unsealed(self) -> bool:
        sealed = self.state.checkpoint.size if self.state.checkpoint is not None else 0
        return self._own_end > sealed

    async def seal(self) -> None:
        """Checkpoint what this writer appended, if no checkpoint covers it yet."""
        if self._own_end and self._unsealed() and self._next is not None:
            await self._checkpoint_at(self._next, self._head)

    async def _checkpoint_at(self, size: int, head: str) -> None:
        async with self._cp_lock:
            try:
                await self.checkpointer.write(size, head)
            except StoreError as exc:
                self.last_checkpoint_error = exc
                log.warning("checkpoint of stream %s at %d failed: %s", self.keys.stream, size, exc)

    async def checkpoint(self) -> Checkpoint | None:
        """Seal the stream at its current tail now; the newest checkpoint after that."""
        await self.flush()
        head = await self.head()
        if head.size == 0:
            return None
        async with self._cp_lock:
            written = await self.checkpointer.write(head.size, head.hash)
        return written or self.state.checkpoint

    # ------------------------------------------------------------------ lifecycle
    async def flush(self) -> None:
        """Wait until every queued append is committed (or failed)."""
        await self._group.flush()

    async def close(self, *, seal: bool) -> None:
        await self.flush()
        if self._timer is not None:
            self._timer.cancel()
            await asyncio.gather(self._timer, return_exceptions=True)
            self._timer = None
        if seal and self.ctx.options.checkpoint_on_close:
            await self.wait_checkpoints()
            await self.seal()
        await self.wait_checkpoints()

    async def wait_checkpoints(self) -> None:
        while self._cp_tasks:
            await asyncio.gather(*list(self._cp_tasks), return_exceptions=True)
