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
(time-ordered ids) every compaction would add one small chunk, never merged, and a cold
reader would GET hundreds. So each level the compaction visits is coalesced: two
adjacent chunks that fit in one chunk (``a + b <= chunk_bytes``), neither of them
"done" (``>= 3/4 chunk_bytes``), are merged into one when they are of comparable size
(the larger at most twice the smaller) or when the result is done. Merging comparable
pairs works like a binary counter: a run of small chunks at the end of the key space
holds about ``log2(chunk_bytes / tail bytes)`` chunks and each entry is rewritten about
that many times (not once per compaction), and a done chunk is never rewritten by
coalescing. A run of more than ``MAX_SMALL_RUN`` adjacent small chunks
(``<= chunk_bytes / 2``) merges its smallest pair as well. Adjacent chunks of one
level bound a key range that holds no other chunk of that level, so the merged chunk
keeps the level's ranges disjoint; it is a new create-only chunk like any other.

A **fold** (``close()`` of a writer) is the cheap form: manifest ``n + 1`` keeps the
chunks of ``n`` as they are and carries the entries of ``n``'s folded tail and of the
tail segments in its ``tail`` member (format 3), so that a cold reader needs no
segment GETs. It is one PUT. When the folded entries would pass ``chunk_bytes`` a full
compaction runs instead, which merges them into level 1 like any tail.
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

    def _mergeable(self, a: ChunkInfo, b: ChunkInfo) -> bool:
        """Whether adjacent ``a`` and ``b`` are worth one chunk: they fit in one, neither
        is done, and they are of comparable size or make a done chunk."""
        size = self.options.chunk_bytes
        done = size * 3 // 4
        if a.bytes >= done or b.bytes >= done or a.bytes + b.bytes > size:
            return False
        return max(a.bytes, b.bytes) <= 2 * min(a.bytes, b.bytes) or a.bytes + b.bytes >= done

    def _pick(self, members: list[ChunkInfo], stuck: set[tuple[str, str]]) -> int | None:
        """The pair ``(at, at + 1)`` to merge next: the smallest mergeable one, else the
        smallest in a run of more than ``MAX_SMALL_RUN`` small chunks (None: no more)."""
        pairs = [
            at
            for at in range(len(members) - 1)
            if (members[at].id, members[at + 1].id) not in stuck
        ]
        mergeable = [at for at in pairs if self._mergeable(members[at], members[at + 1])]
        if not mergeable:
            crowded = self._crowded(members)
            mergeable = [at for at in pairs if at in crowded and at + 1 in crowded]
        if not mergeable:
            return None
        return min(mergeable, key=lambda at: members[at].bytes + members[at + 1].bytes)

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

        Reads (in parallel, cached) the chunks of the pairs that can merge now; a merge
        that would not give one chunk (a manifest's sizes are untrusted) is left alone.
        Each round merges two chunks or marks a pair stuck, so it ends.
        """
        members = self.levels.get(level, [])
        if len(members) < 2:
            return
        crowded = self._crowded(members)
        first = {
            c.id: c
            for at in range(len(members) - 1)
            if self._mergeable(members[at], members[at + 1])
            or (at in crowded and at + 1 in crowded)
            for c in (members[at], members[at + 1])
        }
        await gather_limited(list(first.values()), self.entries_of, self.options.fetch_concurrency)
        stuck: set[tuple[str, str]] = set()
        while (at := self._pick(members, stuck)) is not None:
            a, b = members[at], members[at + 1]
            merged = list(latest(await self.entries_of(a) + await self.entries_of(b)).values())
            merged.sort(key=lambda e: e.identity)
            built = build_chunks(merged, level, self.options.chunk_bytes, self.index.schema)
            if len(built) != 1:
                stuck.add((a.id, b.id))
                continue
            info, body = built[0]
            self.built[info.id] = (info, body, merged)
            members[at : at + 2] = [info]

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
