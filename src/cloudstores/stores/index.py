"""The manifest index: per workspace and store, what exists and the fields lists filter on.

Layout under ``ws/{workspace}/_index/{store}/``::

    {seq:020d}.json        segment: {"seq": n, "entries": [...]}, written create-only
    snap/{seq:020d}.json   snapshot: {"upto": n, "entries": [...]}, every entry of
                           segments 0..n, written create-only now and then

Writers race for the next segment number with create-only puts; the loser reloads
and takes the next number, so segments are contiguous from 0. Concurrent ``add`` calls
in one process are group-committed: while one segment is in flight, new entries wait
and go out together in the next one (a lone writer never waits for a timer).

Readers load incrementally: a cold reader LISTs ``snap/`` (a handful of objects), then
GETs the newest snapshot and the segments after it at once, probing forward in
windows that grow while segments keep coming; a warm reader only probes for new
segments (one GET when nothing is new). Nothing ever LISTs the data prefix except ``reindex``.

Every entry has a unique key ``"k"``; an entry seen twice (a retried store after a
crash between data and index writes) is kept once.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Sequence
from typing import Any

from cloudstores import codec
from cloudstores.bucket.base import Bucket
from cloudstores.errors import AlreadyExistsError, IntegrityError
from cloudstores.keys import key_number, numbered_key
from cloudstores.stores.objects import expect_dict, get_json_or_none, probe_forward, put_json

__all__ = ["ManifestIndex"]

Entry = dict[str, Any]
COLD_WINDOW = 8
"""Segments a cold reader asks for at once, beside the snapshot GET (then 8, 16, 32...).

A trade-off measured both ways: on a real cloud a request costs tens of milliseconds of
latency, so asking for the segments after a snapshot in two or three parallel rounds
beats one round trip per segment; on a local emulator, where the server's CPU is the
limit, the extra GETs past the end cost about as much as they save."""


class ManifestIndex:
    """An append-only, group-committed index of one store in one workspace."""

    def __init__(self, bucket: Bucket, prefix: str, *, max_batch: int = 1000,
                 compact_every: int = 32) -> None:
        self.bucket = bucket
        self.prefix = prefix.rstrip("/") + "/"
        self.max_batch = max_batch
        self.compact_every = compact_every
        self._entries: dict[str, Entry] = {}
        self._next_seq = 0
        self._cold = True
        self._lock = asyncio.Lock()
        self._pending: list[tuple[list[Entry], asyncio.Future[None]]] = []
        self._flusher: asyncio.Task[None] | None = None
        self._background: set[asyncio.Task[None]] = set()

    # ------------------------------------------------------------------ keys
    def _segment_key(self, seq: int) -> str:
        return numbered_key(self.prefix, seq)

    def _snapshot_key(self, seq: int) -> str:
        return numbered_key(self.prefix + "snap/", seq)

    # ------------------------------------------------------------------ reading
    async def entries(self) -> list[Entry]:
        """Every entry, in the order they were committed (after loading what is new)."""
        await self.refresh()
        return list(self._entries.values())

    async def refresh(self) -> None:
        """Load the snapshot (first time) and every segment not yet seen."""
        async with self._lock:
            if self._cold:
                await self._load_cold()
                self._cold = False
                return
            start = self._next_seq
            for offset, entries in enumerate(await probe_forward(start, self._segment)):
                self._apply(start + offset, entries)

    async def _segment(self, seq: int) -> list[Entry] | None:
        key = self._segment_key(seq)
        body = await get_json_or_none(self.bucket, key)
        return None if body is None else _entries_of(body, key)

    async def _load_cold(self) -> None:
        """LIST ``snap/``; then GET the newest snapshot and probe the segments after it
        at the same time, ``COLD_WINDOW`` segments at once (a snapshot is followed by up
        to ``compact_every - 1`` segments), so a cold load is a few round trips, not
        one per segment."""
        latest: str | None = None
        async for info in self.bucket.list(self.prefix + "snap/"):
            latest = info.key
        upto = -1 if latest is None else key_number(latest, self.prefix + "snap/")
        snapshot, segments = await asyncio.gather(
            self._snapshot(latest, upto),
            probe_forward(upto + 1, self._segment, window=COLD_WINDOW),
        )
        self._apply(upto, snapshot)
        for offset, entries in enumerate(segments):
            self._apply(upto + 1 + offset, entries)

    async def _snapshot(self, key: str | None, upto: int) -> list[Entry]:
        if key is None:
            return []
        body = expect_dict(await get_json_or_none(self.bucket, key) or {}, key=key)
        if body.get("upto") != upto:
            raise IntegrityError(f"index snapshot {key!r} does not hold 'upto': {upto}",
                                 key=key)
        return _entries_of(body, key)

    def _apply(self, seq: int, entries: Sequence[Entry]) -> None:
        for entry in entries:
            self._entries.setdefault(entry["k"], entry)
        self._next_seq = seq + 1

    # ------------------------------------------------------------------ writing
    async def add(self, entries: list[Entry]) -> None:
        """Append ``entries``; returns once the segment holding them is durable."""
        for entry in entries:
            if not isinstance(entry.get("k"), str):
                raise ValueError("index entries need a unique string 'k'")
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._pending.append((entries, future))
        if self._flusher is None or self._flusher.done():
            self._flusher = asyncio.create_task(self._flush_all())
        await future

    async def _flush_all(self) -> None:
        while self._pending:
            batch: list[tuple[list[Entry], asyncio.Future[None]]] = []
            size = 0
            while self._pending and (
                not batch or size + len(self._pending[0][0]) <= self.max_batch
            ):
                item = self._pending.pop(0)
                batch.append(item)
                size += len(item[0])
            try:
                await self._write_segment([e for entries, _ in batch for e in entries])
            except BaseException as exc:
                for _, future in batch:
                    if not future.done():
                        future.set_exception(exc)
                if not isinstance(exc, Exception):
                    raise
            else:
                for _, future in batch:
                    if not future.done():
                        future.set_result(None)

    async def _write_segment(self, entries: list[Entry]) -> None:
        if self._cold:
            await self.refresh()
        while True:
            seq = self._next_seq
            body = codec.dumps({"seq": seq, "entries": entries})
            try:
                await put_json(self.bucket, self._segment_key(seq), body)
            except AlreadyExistsError:
                await self.refresh()  # another writer took seq: catch up, take the next
                continue
            async with self._lock:
                if self._next_seq == seq:
                    self._apply(seq, entries)
                    if (seq + 1) % self.compact_every == 0:
                        self._compact_later(seq, list(self._entries.values()))
            return

    def _compact_later(self, upto: int, entries: list[Entry]) -> None:
        async def compact() -> None:
            body = codec.dumps({"upto": upto, "entries": entries})
            with contextlib.suppress(AlreadyExistsError):
                await put_json(self.bucket, self._snapshot_key(upto), body)

        task = asyncio.create_task(compact())
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    async def close(self) -> None:
        """Wait for pending writes and snapshots to finish."""
        if self._flusher is not None:
            with contextlib.suppress(Exception):
                await self._flusher
        if self._background:
            await asyncio.gather(*self._background, return_exceptions=True)


def _entries_of(body: Any, key: str) -> list[Entry]:
    entries = expect_dict(body, key=key).get("entries")
    if not isinstance(entries, list) or not all(
            isinstance(e, dict) and isinstance(e.get("k"), str) for e in entries):
        raise IntegrityError(f"index object {key!r} has malformed entries", key=key)
    return entries
