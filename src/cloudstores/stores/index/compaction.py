"""Leveled compaction: tail segments into level 1, and each full level into the next.

One compaction reads the newest manifest ``n`` and the tail segments after it, then:

1. merges every tail entry (and a format-1 snapshot, on the first compaction of an old
   workspace) with the level-1 chunks whose ranges overlap them, and re-splits the
   result into chunks of about ``chunk_bytes``;
2. while level L holds more than ``level1_bytes * fanout ** (L - 1)`` bytes, moves one
   chunk of L (the next after the level's cursor, round robin) into level L + 1, merged
   with the chunks of L + 1 it overlaps (or moved as it is when it overlaps none);
3. writes the new chunks (create-only, named by their hash: a retry or a rival that
   built the same chunk finds it there) and then manifest ``n + 1`` (create-only).

Merging keeps only the winner of each identity (a loser can never win again). Winning
tombstones are kept: a late add of an older version (a retried write) must stay hidden,
and a tombstone is small (key, version, partition). A compactor
that loses the race for ``n + 1`` leaves unreferenced chunks and changes nothing else; a
crash at any point leaves the newest manifest valid, and the next compaction redoes the
work. Each entry is rewritten about once per level it passes: bytes written grow like
``n log n``.

**Coalescing.** Entries whose identities fall after (or between) the chunks of a level
overlap nothing there, so a merge makes a new chunk of just them: with increasing keys
(time-ordered ids, runs that sort by time) every compaction would add one small chunk,
never merged, and a cold reader would GET hundreds. So every level is coalesced before
it spills. A chunk is *done* at ``3/4 chunk_bytes`` and *small* up to ``1/2``. Windows
of adjacent chunks, none of them done, are merged, smallest first:

* two that fit in one chunk, when they are of comparable size (the larger at most
  twice the smaller) or make a done chunk;
* else three worth one to two chunks: they become a full chunk and a remainder;
* else, in a run of more than ``MAX_SMALL_RUN`` adjacent small chunks, its two
  smallest neighbours.

Comparable pairs merge like a binary counter: the small chunks at the end of the key
space number about ``log2(chunk_bytes / tail bytes)`` and each entry is rewritten
about that many times there (not once per compaction, as growing the last chunk would
do); a merge that makes a done chunk happens once per done chunk, since coalescing
never rewrites one. So coalescing adds a bounded number of writes per entry and the
total stays ``n log n``. The chunks of a window bound a key range
that holds no other chunk of their level, so the level's ranges stay disjoint; merged
chunks are new create-only chunks like any other.
"""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING

from cloudstores.errors import AlreadyExistsError
from cloudstores.stores.index.chunks import (
    ChunkInfo,
    Manifest,
    build_chunks,
    encode_manifest,
    entry_bytes,
)
from cloudstores.stores.index.entries import Identity, IndexEntry, latest
from cloudstores.stores.objects import gather_limited

if TYPE_CHECKING:
    from cloudstores.stores.index.core import Index

__all__ = ["MAX_SMALL_RUN", "compact", "fold"]

MAX_SMALL_RUN = 8
"""Most adjacent small chunks (``<= chunk_bytes / 2``) a level keeps side by side."""
MAX_MERGES = 64
"""Most coalescing merges per level in one compaction (a layout written before
coalescing existed, with thousands of small chunks, is repaired over several)."""


class _Plan:
    def __init__(self, index: Index, manifest: Manifest | None) -> None:
        self.index = index
        self.options = index.options
        self.levels: dict[int, list[ChunkInfo]] = {}
        for info in manifest.chunks if manifest else ():
            self.levels.setdefault(info.level, []).append(info)
        for members in self.levels.values():
            members.sort(key=lambda c: c.lo)
        self.cursors: dict[int, Identity] = dict(manifest.cursors) if manifest else {}
        self.built: dict[str, tuple[ChunkInfo, bytes, list[IndexEntry]]] = {}

    async def entries_of(self, info: ChunkInfo) -> list[IndexEntry]:
        if info.id in self.built:
            return self.built[info.id][2]
        return await self.index.read_chunk(info)

    def cap(self, level: int) -> int:
        return int(self.options.level1_bytes * self.options.fanout ** (level - 1))

    async def merge(self, level: int, incoming: list[IndexEntry]) -> None:
        if not incoming:
            return
        lo = min(e.identity for e in incoming)
        hi = max(e.identity for e in incoming)
        members = self.levels.get(level, [])
        overlapping = [c for c in members if c.overlaps(lo, hi)]
        old: list[IndexEntry] = []
        for entries in await gather_limited(
            overlapping, self.entries_of, self.options.fetch_concurrency
        ):
            old.extend(entries)
        winners = list(latest(incoming + old).values())
        winners.sort(key=lambda e: e.identity)
        kept = [c for c in members if c not in overlapping]
        at = 0
        for info, body in build_chunks(winners, level, self.options.chunk_bytes, self.index.schema):
            self.built[info.id] = (info, body, winners[at : at + info.count])
            at += info.count
            kept.append(info)
        kept.sort(key=lambda c: c.lo)
        self.levels[level] = kept

    async def spill(self) -> None:
        """Coalesce each level, then move its overflow into the next (every level)."""
        level = 1
        while level <= max(self.levels, default=0):
            if level not in self.levels:
                level += 1
                continue
            await self.coalesce(level)
            while sum(c.bytes for c in self.levels[level]) > self.cap(level):
                members = self.levels[level]
                cursor = self.cursors.get(level)
                pick = next((c for c in members if cursor is None or c.lo > cursor), members[0])
                members.remove(pick)
                self.cursors[level] = pick.hi
                below = self.levels.setdefault(level + 1, [])
                if not any(c.overlaps(pick.lo, pick.hi) for c in below):
                    moved = pick.at_level(level + 1)
                    if pick.id in self.built:
                        _, body, entries = self.built[pick.id]
                        self.built[pick.id] = (moved, body, entries)
                    below.append(moved)
                    below.sort(key=lambda c: c.lo)
                else:
                    await self.merge(level + 1, await self.entries_of(pick))
            if not self.levels[level]:
                del self.levels[level]
            level += 1

    def _windows(
        self, members: list[ChunkInfo], stuck: set[tuple[str, ...]]
    ) -> list[tuple[int, int]]:
        """The windows ``(at, width)`` of adjacent chunks worth merging now, best first
        class only (see the module docstring): pairs that fit in one chunk, of comparable
        size or making a done chunk; else triples of 1 to 2 chunks' worth that give a
        done chunk and a remainder; else pairs of small chunks in a crowded run."""
        size = self.options.chunk_bytes
        done = size * 3 // 4
        sizes = [c.bytes for c in members]
        fresh = [at for at in range(len(members) - 1) if sizes[at] < done and sizes[at + 1] < done]

        def free(at: int, width: int) -> bool:
            return tuple(c.id for c in members[at : at + width]) not in stuck

        pairs = [
            (at, 2)
            for at in fresh
            if sizes[at] + sizes[at + 1] <= size
            and (
                max(sizes[at], sizes[at + 1]) <= 2 * min(sizes[at], sizes[at + 1])
                or sizes[at] + sizes[at + 1] >= done
            )
            and free(at, 2)
        ]
        if pairs:
            return pairs
        triples = [
            (at, 3)
            for at in fresh
            if at + 2 < len(members)
            and sizes[at + 2] < done
            and size <= sum(sizes[at : at + 3]) <= 2 * size
            and free(at, 3)
        ]
        if triples:
            return triples
        crowded = self._crowded(members)
        return [(at, 2) for at in fresh if at in crowded and at + 1 in crowded and free(at, 2)]

    def _crowded(self, members: list[ChunkInfo]) -> set[int]:
        """Positions of the small chunks in runs of more than ``MAX_SMALL_RUN``."""
        half = self.options.chunk_bytes // 2
        crowded: set[int] = set()
        run: list[int] = []
        for at, info in enumerate([*members, None]):
            if info is not None and info.bytes <= half:
                run.append(at)
                continue
            if len(run) > MAX_SMALL_RUN:
                crowded.update(run)
            run = []
        return crowded

    async def coalesce(self, level: int) -> None:
        """Merge adjacent undersized chunks of ``level`` (see the module docstring).

        Reads (in parallel, cached) the chunks of the windows that can merge now; a
        merge that would not give fewer chunks (a manifest's sizes are untrusted) is
        left alone. At most ``MAX_MERGES`` rounds, each ``O(chunks of the level)``.
        """
        members = self.levels.get(level, [])
        if len(members) < 2:
            return

        def total(window: tuple[int, int]) -> int:
            return sum(c.bytes for c in members[window[0] : window[0] + window[1]])

        first = {
            c.id: c
            for at, width in sorted(self._windows(members, set()), key=total)[:MAX_MERGES]
            for c in members[at : at + width]
        }
        await gather_limited(list(first.values()), self.entries_of, self.options.fetch_concurrency)
        stuck: set[tuple[str, ...]] = set()
        for _ in range(MAX_MERGES):
            windows = self._windows(members, stuck)
            if not windows:
                return
            at, width = min(windows, key=total)
            window = members[at : at + width]
            entries: list[IndexEntry] = []
            for info in window:
                entries.extend(await self.entries_of(info))
            merged = sorted(latest(entries).values(), key=lambda e: e.identity)
            built = build_chunks(merged, level, self.options.chunk_bytes, self.index.schema)
            if not built or len(built) >= width:
                stuck.add(tuple(c.id for c in window))
                continue
            made: list[ChunkInfo] = []
            start = 0
            for info, body in built:
                self.built[info.id] = (info, body, merged[start : start + info.count])
                start += info.count
                made.append(info)
            members[at : at + width] = made

    def chunks(self) -> list[ChunkInfo]:
        return [c for level in sorted(self.levels) for c in self.levels[level]]


async def compact(index: Index) -> bool:
    await index.refresh(newest_manifest=True)
    manifest, legacy_base, legacy_upto, tail = index.snapshot_state()
    if not tail and not legacy_base and manifest is None and legacy_upto < 0:
        return False
    if not tail and manifest is not None and not manifest.tail:
        return False
    upto = max(tail) if tail else legacy_upto
    if manifest is not None:
        upto = max(upto, manifest.upto)
    incoming = list(legacy_base)
    if manifest is not None:
        incoming.extend(manifest.tail)
    for seq in sorted(tail):
        incoming.extend(tail[seq])
    plan = _Plan(index, manifest)
    await plan.merge(1, incoming)
    await plan.spill()
    chunks = plan.chunks()
    live = {c.id for c in chunks}
    previous = {c.id for c in manifest.chunks} if manifest else set()
    new = [
        (info, body)
        for chunk_id, (info, body, _) in plan.built.items()
        if chunk_id in live and chunk_id not in previous
    ]

    async def put_chunk(item: tuple[ChunkInfo, bytes]) -> None:
        # AlreadyExists: same bytes (the key is their hash), a retry or a rival built it
        with contextlib.suppress(AlreadyExistsError):
            await index.bucket.put(
                index.layout.chunk(item[0].id), item[1], content_type="application/json"
            )

    await gather_limited(new, put_chunk, index.options.fetch_concurrency)
    n = 0 if manifest is None else manifest.n + 1
    since = -1 if manifest is None else manifest.upto
    result = Manifest(n, upto, tuple(chunks), dict(plan.cursors), since)
    try:
        await index.bucket.put(
            index.layout.manifest(n, since),
            encode_manifest(result, index.schema),
            content_type="application/json",
        )
    except AlreadyExistsError:
        return False  # another compactor published n first; its manifest is as good
    index.adopt(
        result,
        {cid: (info, entries) for cid, (info, _, entries) in plan.built.items() if cid in live},
    )
    return True


async def fold(index: Index) -> bool:
    """Publish manifest ``n + 1`` = the chunks of ``n`` + its folded tail + the tail
    segments this index holds (one PUT). A full compaction instead when there is no
    manifest yet over a format-1 snapshot, or when the folded entries would pass
    ``chunk_bytes``. On a lost race, catch up (LIST ``m/``) and try again (3 times)."""
    for _ in range(3):
        manifest, legacy_base, legacy_upto, tail = index.snapshot_state()
        if not tail:
            return False
        if legacy_base or legacy_upto >= 0:
            return await compact(index)
        entries = list(manifest.tail) if manifest is not None else []
        for seq in sorted(tail):
            entries.extend(tail[seq])
        if sum(entry_bytes(e) for e in entries) > index.options.chunk_bytes:
            return await compact(index)
        n = 0 if manifest is None else manifest.n + 1
        since = -1 if manifest is None else manifest.upto
        result = Manifest(
            n,
            max(tail),
            manifest.chunks if manifest is not None else (),
            dict(manifest.cursors) if manifest is not None else {},
            since,
            tuple(entries),
        )
        try:
            await index.bucket.put(
                index.layout.manifest(n, since),
                encode_manifest(result, index.schema),
                content_type="application/json",
            )
        except AlreadyExistsError:
            await index.refresh(newest_manifest=True)
            continue
        index.adopt(result, {})
        return True
    return False
