"""The index of one store in one workspace: reading state, group-committed writes, queries.

See ``docs/index-format.md`` for the objects on the bucket. In memory an index holds the
manifest it uses, the tail segments written after it (``seq > manifest.upto``), and a
bounded cache of the chunks it has read. A cold reader makes three rounds of requests:
a LIST of one key of ``m/`` (the newest manifest); GET that manifest; GET the chunks
that can match and the first tail segment number at once (a 404 when a writer folded
its tail on close; else a LIST and GETs of the tail). A warm reader probes the next
segment number (one GET when nothing is new) and reads only chunks it does not hold yet.
"""

from __future__ import annotations

import asyncio
import bisect
import builtins
import contextlib
from collections import OrderedDict
from collections.abc import AsyncIterator, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from cloudstores import codec
from cloudstores.bucket.base import Bucket
from cloudstores.bucket.types import ObjectInfo
from cloudstores.errors import AlreadyExistsError, IntegrityError, InvalidInputError, NotFoundError
from cloudstores.stores.group_commit import Bound, GroupCommit
from cloudstores.stores.index.chunks import (
    ChunkData,
    ChunkInfo,
    Manifest,
    canonical_json,
    decode_chunk,
    decode_manifest,
)
from cloudstores.stores.index.entries import (
    Identity,
    IndexEntry,
    decode_entry,
    encode_entry,
    latest,
    make_entry,
)
from cloudstores.stores.index.fields import Schema, Value
from cloudstores.stores.index.layout import IndexLayout
from cloudstores.stores.index.legacy import LegacyConverter, decode_legacy_entries
from cloudstores.stores.index.problems import Problems
from cloudstores.stores.index.query import (
    Where,
    compile_where,
    cursor_of,
    order_key,
    parse_cursor,
)
from cloudstores.stores.objects import gather_limited, probe_forward

__all__ = ["AggregateRow", "Index", "IndexOptions", "Page"]

FORMAT = 2


@dataclass(frozen=True, slots=True, kw_only=True)
class IndexOptions:
    """Sizes of an index. The defaults suit stores of up to millions of entries.

    Attributes:
        max_batch: most entries in one tail segment (group commit).
        compact_every: tail segments that make a writer start a compaction.
        chunk_bytes: target size of a chunk.
        level1_bytes: size of level 1 before it spills into level 2; level L holds
            ``level1_bytes * fanout ** (L - 1)``.
        fanout: growth factor between levels.
        auto_compact: whether writers compact in the background.
        fold_on_close: whether ``close()`` of an index that wrote segments folds its
            tail into a new manifest (one PUT), so that cold readers find no tail.
        cache_bytes: chunk bytes a reader keeps in memory.
        fetch_concurrency: GETs in flight when loading chunks and segments.
    """

    max_batch: int = 1000
    compact_every: int = 6
    chunk_bytes: int = 128 * 1024
    level1_bytes: int = 2 * 1024 * 1024
    fanout: int = 8
    auto_compact: bool = True
    fold_on_close: bool = True
    cache_bytes: int = 256 * 1024 * 1024
    fetch_concurrency: int = 32

    def __post_init__(self) -> None:
        for name in (
            "max_batch",
            "compact_every",
            "chunk_bytes",
            "level1_bytes",
            "fanout",
            "cache_bytes",
            "fetch_concurrency",
        ):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise InvalidInputError(f"IndexOptions.{name} must be an int >= 1")
        if self.fanout < 2 or self.chunk_bytes < 256:
            raise InvalidInputError("IndexOptions: fanout >= 2 and chunk_bytes >= 256")
        if not isinstance(self.auto_compact, bool) or not isinstance(self.fold_on_close, bool):
            raise InvalidInputError("IndexOptions.auto_compact and fold_on_close must be bools")


@dataclass(frozen=True, slots=True)
class Page:
    """One page of a query: the rows, and the cursor of the next page (None: no more)."""

    entries: list[IndexEntry]
    cursor: str | None


@dataclass(slots=True)
class AggregateRow:
    count: int = 0
    sums: dict[str, float] = field(default_factory=dict)


class Index:
    """An index of declared fields, latest version of each key wins.

    ``legacy`` converts an entry of the format-1 index (a flat dict with ``"k"``) into
    ``(key, version, fields)``, so a workspace written by the old format is read as is.
    """

    def __init__(
        self,
        bucket: Bucket,
        prefix: str,
        schema: Schema,
        *,
        options: IndexOptions | None = None,
        legacy: LegacyConverter | None = None,
    ) -> None:
        if not isinstance(schema, Schema):
            raise InvalidInputError("an index needs a Schema")
        self.bucket = bucket
        self.schema = schema
        self.options = options or IndexOptions()
        self.layout = IndexLayout(prefix)
        self.legacy = legacy
        self.problems = Problems()
        """Objects and entries that were skipped, and gaps (also logged)."""
        self.manifest: Manifest | None = None
        self._legacy_base: list[IndexEntry] = []
        self._legacy_upto = -1
        self._tail: dict[int, list[IndexEntry]] = {}
        self._next_seq = 0
        self._cold = True
        self._cache: OrderedDict[str, ChunkData] = OrderedDict()
        self._cache_sizes: dict[str, int] = {}
        self._cache_total = 0
        self._lock = asyncio.Lock()
        self._commit: GroupCommit[list[IndexEntry], None] = GroupCommit(
            self._write_batch, (Bound(len, self.options.max_batch),)
        )
        """Group commit: entries added while a segment is in flight go out together in
        the next one (a lone writer never waits for a timer)."""
        self._compacting: asyncio.Task[bool] | None = None
        self._wrote = False

    # ------------------------------------------------------------------ entries
    def entry(
        self,
        key: str,
        fields: Mapping[str, object],
        *,
        version: int = 0,
        tombstone: bool = False,
        payload: Mapping[str, Any] | None = None,
    ) -> IndexEntry:
        """Build and validate an entry; InvalidInputError (before any request) if it does
        not fit the schema: an undeclared field, a wrong kind, an oversize value, a
        payload that is not a JSON object of at most ``MAX_PAYLOAD_BYTES``."""
        return make_entry(
            self.schema, key, fields, version=version, tombstone=tombstone, payload=payload
        )

    @property
    def base_upto(self) -> int:
        if self.manifest is not None:
            return self.manifest.upto
        return self._legacy_upto

    # ------------------------------------------------------------------ loading
    async def refresh(self, *, newest_manifest: bool = False) -> None:
        """Load what is new (cold: manifest and tail; warm: new segments)."""
        await self._prepare(None, newest_manifest=newest_manifest)

    async def _prepare(
        self, where: Where | None, *, newest_manifest: bool = False
    ) -> list[ChunkInfo]:
        """Bring the state up to date and load the chunks ``where`` needs first."""
        async with self._lock:
            if self._cold:
                await self._load_manifest()
                chunks = self._select(where) if where is not None else []
                await asyncio.gather(self._load_tail(), self._load_chunks(chunks))
                self._cold = False
                return chunks
            start = self._next_seq
            found = await probe_forward(start, self._fetch_segment)
            for offset, entries in enumerate(found):
                self._tail[start + offset] = entries
            self._next_seq = start + len(found)
            if newest_manifest or len(self._tail) > 2 * self.options.compact_every:
                await self._adopt_newest()
        chunks = self._select(where) if where is not None else []
        await self._load_chunks(chunks)
        return chunks

    async def _manifest_keys(self) -> AsyncIterator[ObjectInfo]:
        """The keys under ``m/``, newest first: the first one by a LIST of one key (what a
        reader needs when the newest manifest is valid, whatever the history's length),
        the rest, only if the caller asks for more, by plain LISTs after it."""
        last: str | None = None
        async for info in self.bucket.list(self.layout.manifests, limit=1):
            last = info.key
            yield info
        if last is not None:
            async for info in self.bucket.list(self.layout.manifests, start_after=last):
                yield info

    async def _newest_manifest(self) -> Manifest | None:
        """The newest valid manifest (skipping and reporting bad ones)."""
        async for info in self._manifest_keys():
            numbers = self.layout.manifest_numbers(info.key)
            if numbers is None:
                self.problems.report(info.key, "not a manifest key")
                continue
            n, since = numbers
            if self.manifest is not None and n <= self.manifest.n:
                return self.manifest
            manifest = await self._fetch_manifest(info.key, n, since)
            if manifest is not None:
                return manifest
        return None

    async def _fetch_manifest(self, key: str, n: int, since: int) -> Manifest | None:
        try:
            body = codec.loads((await self.bucket.get(key)).data, key=key)
        except (NotFoundError, IntegrityError) as exc:
            self.problems.report(key, f"manifest unreadable: {exc}")
            return None
        manifest = decode_manifest(self.schema, body, n, since)
        if isinstance(manifest, str):
            self.problems.report(key, manifest)
            return None
        return manifest

    async def _load_manifest(self) -> None:
        """Cold: pick the manifest (one LIST of one key under ``m/``, one GET), or the
        legacy snapshot."""
        first: tuple[str, int, int] | None = None
        async for info in self._manifest_keys():
            numbers = self.layout.manifest_numbers(info.key)
            if numbers is None:
                self.problems.report(info.key, "not a manifest key")
                continue
            first = (info.key, *numbers)
            break
        if first is not None:
            key, n, since = first
            manifest = await self._fetch_manifest(key, n, since)
            if manifest is None:
                manifest = await self._newest_manifest_after_bad(key)
            if manifest is not None:
                self._install(manifest)
                return
        snapshot: str | None = None
        async for info in self.bucket.list(self.layout.snapshots):
            snapshot = info.key
        upto = -1
        if snapshot is not None:
            try:
                upto = self.layout.snapshot_number(snapshot)
            except IntegrityError:
                self.problems.report(snapshot, "not a snapshot key")
                snapshot = None
        if snapshot is not None:
            self._legacy_base = await self._fetch_snapshot(snapshot, upto)
            self._legacy_upto = upto

    async def _load_tail(self) -> None:
        """Cold: the tail segments after the base. One GET of the first number; only when
        it exists, a LIST of the numbers after it, and GETs of those.

        A writer that closed folded its tail into the manifest, so the common answer is
        one 404. A first tail segment that was deleted hides the ones after it from a
        cold reader until a writer takes its number again (the next write does) or a
        compaction, which reads what a warm reader sees, moves past it.
        """
        start = self.base_upto + 1
        first = await self._fetch_segment(start)
        if first is None:
            self._next_seq = max(self._next_seq, start)
            return
        self._tail[start] = first
        keys = self._check_tail(start, await self._list_tail(start))
        await self._load_listed(keys)

    async def _newest_manifest_after_bad(self, bad: str) -> Manifest | None:
        async for info in self.bucket.list(self.layout.manifests, start_after=bad):
            numbers = self.layout.manifest_numbers(info.key)
            if numbers is None:
                continue
            manifest = await self._fetch_manifest(info.key, *numbers)
            if manifest is not None:
                return manifest
        return None

    async def _fetch_snapshot(self, key: str, upto: int) -> list[IndexEntry]:
        try:
            body = codec.loads((await self.bucket.get(key)).data, key=key)
        except (NotFoundError, IntegrityError) as exc:
            self.problems.report(key, f"snapshot unreadable: {exc}")
            return []
        if not isinstance(body, dict) or body.get("upto") != upto:
            self.problems.report(key, f"snapshot does not hold 'upto': {upto}")
            return []
        return decode_legacy_entries(self, key, body.get("entries"), seq=upto)

    async def _list_tail(self, upto: int) -> list[str]:
        after = self.layout.segment(upto) if upto >= 0 else None
        return [
            info.key async for info in self.bucket.list(self.layout.segments, start_after=after)
        ]

    def _check_tail(self, upto: int, keys: list[str]) -> list[str]:
        """Keep the numbered segment keys; report strays and gaps; set the next number."""
        numbered: dict[int, str] = {}
        for key in keys:
            try:
                seq = self.layout.segment_number(key)
            except IntegrityError:
                self.problems.report(key, "not a segment key")
                continue
            if seq > upto:
                numbered[seq] = key
        if numbered:
            last = max(numbered)
            for seq in range(upto + 1, last):
                if seq not in numbered:
                    self.problems.report(
                        self.layout.segment(seq), "segment is missing (deleted?) before later ones"
                    )
            self._next_seq = max(self._next_seq, last + 1)
        else:
            self._next_seq = max(self._next_seq, upto + 1)
        return [numbered[seq] for seq in sorted(numbered)]

    async def _load_listed(self, keys: list[str]) -> None:
        async def one(key: str) -> None:
            seq = self.layout.segment_number(key)
            entries = await self._fetch_segment(seq)
            if entries is None:
                self.problems.report(key, "segment was listed but is gone")
                entries = []
            self._tail[seq] = entries

        await gather_limited(keys, one, self.options.fetch_concurrency)

    async def _fetch_segment(self, seq: int) -> list[IndexEntry] | None:
        """A segment's valid entries; [] for an invalid one (reported); None if absent."""
        key = self.layout.segment(seq)
        try:
            data = (await self.bucket.get(key)).data
        except NotFoundError:
            return None
        try:
            body = codec.loads(data, key=key)
        except IntegrityError:
            self.problems.report(key, "segment is not JSON")
            return []
        if not isinstance(body, dict) or not isinstance(body.get("entries"), list):
            self.problems.report(key, "segment is not an object with an 'entries' list")
            return []
        if body.get("seq") != seq or isinstance(body.get("seq"), bool):
            self.problems.report(key, f"segment holds seq {body.get('seq')!r}, its key says {seq}")
            return []
        if "format" not in body:
            return decode_legacy_entries(self, key, body["entries"], seq=seq)
        if body.get("format") != FORMAT:
            self.problems.report(key, f"segment has unknown format {body.get('format')!r}")
            return []
        kept: list[IndexEntry] = []
        for pos, raw in enumerate(body["entries"]):
            entry = decode_entry(self.schema, raw, seq=seq, pos=pos)
            if isinstance(entry, str):
                self.problems.report(key, entry)
            else:
                kept.append(entry)
        return kept

    def _install(self, manifest: Manifest) -> None:
        """Use ``manifest``: segments it merged leave the tail; legacy state goes."""
        self.manifest = manifest
        self._legacy_base = []
        self._legacy_upto = -1
        for seq in [s for s in self._tail if s <= manifest.upto]:
            del self._tail[seq]
        self._next_seq = max(self._next_seq, manifest.upto + 1)

    async def _adopt_newest(self) -> None:
        manifest = await self._newest_manifest()
        if manifest is not None and (self.manifest is None or manifest.n > self.manifest.n):
            self._install(manifest)
            start = self._next_seq
            found = await probe_forward(start, self._fetch_segment)
            for offset, entries in enumerate(found):
                self._tail[start + offset] = entries
            self._next_seq = start + len(found)

    # ------------------------------------------------------------------ chunks
    def _select(self, where: Where, manifest: Manifest | None = None) -> list[ChunkInfo]:
        manifest = manifest or self.manifest
        if manifest is None:
            return []
        bounds = where.identity_range()
        return [
            c
            for c in manifest.chunks
            if (bounds is None or c.overlaps(*bounds)) and where.may_match(c)
        ]

    async def _load_chunks(self, chunks: Iterable[ChunkInfo]) -> None:
        wanted = [c for c in chunks if c.id not in self._cache]
        if wanted:
            await gather_limited(wanted, self._chunk, self.options.fetch_concurrency)

    async def read_chunk(
        self, info: ChunkInfo, bounds: tuple[Identity, Identity] | None = None
    ) -> list[IndexEntry]:
        """The valid entries of one chunk (within ``bounds``, if given): from the cache,
        else one GET (then cached)."""
        return (await self._chunk(info)).entries(bounds)

    async def _chunk(self, info: ChunkInfo) -> ChunkData:
        cached = self._cache.get(info.id)
        if cached is not None:
            self._cache.move_to_end(info.id)
            return cached
        key = self.layout.chunk(info.id)
        try:
            data = (await self.bucket.get(key)).data
        except NotFoundError:
            self.problems.report(key, "chunk listed by the manifest is missing")
            chunk = None
        else:
            chunk = decode_chunk(self.schema, info, data, key, self.problems.report)
        if chunk is None:
            chunk = ChunkData.built(self.schema, info, [])
        self._remember(info, chunk)
        return chunk

    def _remember(self, info: ChunkInfo, chunk: ChunkData) -> None:
        if info.id in self._cache:
            self._cache.move_to_end(info.id)
            return
        self._cache[info.id] = chunk
        self._cache_sizes[info.id] = info.bytes
        self._cache_total += info.bytes
        while self._cache_total > self.options.cache_bytes and len(self._cache) > 1:
            old, _ = self._cache.popitem(last=False)
            self._cache_total -= self._cache_sizes.pop(old)

    # ------------------------------------------------------------------ queries
    async def _winners(self, where: Where) -> list[IndexEntry]:
        """The live winning entries that match ``where``."""
        await self._prepare(where)
        # One consistent view, taken without awaiting: a compaction that finishes while
        # chunks load swaps the manifest and trims the tail together, after this copy.
        manifest, sources = self.manifest, list(self._legacy_base)
        if manifest is not None:
            sources.extend(manifest.tail)
        for seq in sorted(self._tail):
            sources.extend(self._tail[seq])
        chunks = self._select(where, manifest)
        bounds = where.identity_range()
        for entries in await gather_limited(
            chunks, lambda c: self.read_chunk(c, bounds), self.options.fetch_concurrency
        ):
            sources.extend(entries)
        if manifest is not None and where.conditions:
            # A chunk pruned by its min/max may still hold a newer version of a key that
            # matches elsewhere: read the pruned chunks whose range holds a candidate.
            held = {c.id for c in chunks}
            pruned = [
                c
                for c in manifest.chunks
                if c.id not in held and (bounds is None or c.overlaps(*bounds))
            ]
            if pruned:
                candidates = sorted({e.identity for e in sources if where.test(e)})
                extra = [c for c in pruned if _holds_any(c, candidates)]
                for entries in await gather_limited(
                    extra, lambda c: self.read_chunk(c, bounds), self.options.fetch_concurrency
                ):
                    sources.extend(entries)
        bounds = where.identity_range()
        if bounds is not None:
            sources = [e for e in sources if bounds[0] <= e.identity <= bounds[1]]
        return [e for e in latest(sources).values() if not e.tombstone and where.test(e)]

    async def query(
        self,
        *,
        where: Mapping[str, object] | None = None,
        order_by: str | None = None,
        descending: bool = False,
        limit: int | None = None,
        start_after: str | None = None,
    ) -> Page:
        """Live entries matching ``where``, in a stable order (see ``query.py``), paged.

        Returns a :class:`Page`; pass its ``cursor`` as ``start_after`` for the next.
        """
        compiled = compile_where(self.schema, where)
        sort = order_key(self.schema, order_by)
        if not isinstance(descending, bool):
            raise InvalidInputError("descending must be a bool")
        if limit is not None and (
            not isinstance(limit, int) or isinstance(limit, bool) or limit < 0
        ):
            raise InvalidInputError("limit must be an int >= 0")
        after = None if start_after is None else parse_cursor(start_after, order_by, descending)
        rows = sorted(await self._winners(compiled), key=sort, reverse=descending)
        if after is not None:
            try:
                rows = [r for r in rows if (sort(r) < after if descending else sort(r) > after)]
            except TypeError as exc:
                raise InvalidInputError("start_after does not fit this order") from exc
        more = limit is not None and len(rows) > limit
        rows = rows[:limit] if limit is not None else rows
        cursor = cursor_of(order_by, descending, sort(rows[-1])) if more and rows else None
        return Page(rows, cursor)

    async def count(self, *, where: Mapping[str, object] | None = None) -> int:
        """How many live entries match ``where``."""
        return len(await self._winners(compile_where(self.schema, where)))

    async def aggregate(
        self,
        *,
        where: Mapping[str, object] | None = None,
        group_by: str | None = None,
        sum: Sequence[str] = (),
    ) -> dict[Value, AggregateRow]:
        """Count and sum number fields of matching live entries, per ``group_by`` value
        (one group, keyed None, without ``group_by``). Nulls add nothing to a sum."""
        compiled = compile_where(self.schema, where)
        if group_by is not None and group_by not in self.schema.by_name:
            raise InvalidInputError(f"group_by: {group_by!r} is not a declared field")
        if isinstance(sum, str) or not all(
            isinstance(n, str)
            and n in self.schema.by_name
            and self.schema.by_name[n].kind == "number"
            for n in sum
        ):
            raise InvalidInputError("sum: a list of declared number fields")
        groups: dict[Value, AggregateRow] = {}
        for entry in await self._winners(compiled):
            group = entry.fields.get(group_by) if group_by is not None else None
            row = groups.setdefault(group, AggregateRow(0, {n: 0 for n in sum}))
            row.count += 1
            for name in sum:
                value = entry.fields.get(name)
                if isinstance(value, int | float) and not isinstance(value, bool):
                    row.sums[name] += value
        return groups

    # ------------------------------------------------------------------ writing
    async def add(self, entries: Sequence[IndexEntry]) -> None:
        """Append ``entries`` (built by :meth:`entry`); returns once they are durable."""
        batch = builtins.list(entries)
        if not all(isinstance(e, IndexEntry) for e in batch):
            raise InvalidInputError("add takes entries built by Index.entry")
        if not batch:
            return
        await self._commit.submit(batch)

    async def _write_batch(self, batch: list[list[IndexEntry]]) -> list[None]:
        await self._write_segment([e for entries in batch for e in entries])
        return [None] * len(batch)

    async def _write_segment(self, entries: list[IndexEntry]) -> None:
        if self._cold:
            await self.refresh()
        body_entries = [encode_entry(e, stamp=False) for e in entries]
        while True:
            seq = self._next_seq
            # entries were checked when built (finite numbers, JSON payloads): no re-walk
            body = canonical_json({"format": FORMAT, "seq": seq, "entries": body_entries})
            try:
                await self.bucket.put(
                    self.layout.segment(seq), body, content_type="application/json"
                )
            except AlreadyExistsError:
                await self.refresh()  # another writer took seq: catch up, take the next
                continue
            async with self._lock:
                self._tail[seq] = [e.stamped(seq, pos) for pos, e in enumerate(entries)]
                self._next_seq = max(self._next_seq, seq + 1)
                self._wrote = True
                tail = len(self._tail)
            if self.options.auto_compact and tail >= self.options.compact_every:
                self._compact_later()
            return

    # ------------------------------------------------------------------ compaction
    def _compact_later(self) -> None:
        if self._compacting is None or self._compacting.done():
            self._compacting = asyncio.create_task(self._compact_quietly())

    async def _compact_quietly(self) -> bool:
        """Compact until the tail is shorter than ``compact_every`` (or a round fails)."""
        done = False
        try:
            while len(self._tail) >= self.options.compact_every:
                if not await self.compact():
                    return done
                done = True
        except Exception as exc:  # a failed compaction loses nothing; the next one redoes it
            self.problems.report(self.layout.manifests, f"compaction failed: {exc!r}"[:500])
        return done

    async def compact(self) -> bool:
        """Merge the tail (and a legacy snapshot) into chunks under a new manifest.

        Returns False when there was nothing to do or another compactor won the race.
        """
        from cloudstores.stores.index.compaction import compact

        return await compact(self)

    async def fold(self) -> bool:
        """Fold the tail into a new manifest that carries its entries (one PUT; a full
        compaction instead when the tail is large). False if nothing changed."""
        from cloudstores.stores.index.compaction import fold

        return await fold(self)

    def adopt(
        self, manifest: Manifest, chunks: dict[str, tuple[ChunkInfo, list[IndexEntry]]]
    ) -> None:
        """Use a manifest this process just wrote, with the chunks it built."""
        if self.manifest is not None and manifest.n <= self.manifest.n:
            return
        self._install(manifest)
        for info, entries in chunks.values():
            self._remember(info, ChunkData.built(self.schema, info, entries))

    def snapshot_state(
        self,
    ) -> tuple[Manifest | None, list[IndexEntry], int, dict[int, list[IndexEntry]]]:
        """What a compaction starts from: manifest, legacy base, its upto, tail segments."""
        return self.manifest, list(self._legacy_base), self._legacy_upto, dict(self._tail)

    async def close(self) -> None:
        """Wait for pending writes and a running compaction; then, if this index wrote
        segments that are still in its tail (and ``fold_on_close``), fold them into a new
        manifest: one PUT (more when the tail is large enough for a compaction), so that
        a cold reader finds no tail segments to GET. A failed fold loses nothing."""
        await self._commit.flush()
        if self._compacting is not None:
            with contextlib.suppress(Exception):
                await self._compacting
        if self.options.fold_on_close and self._wrote and self._tail:
            self._wrote = False
            try:
                await self.fold()
            except Exception as exc:  # the tail stays readable as segments
                self.problems.report(self.layout.manifests, f"fold failed: {exc!r}"[:500])


def _holds_any(chunk: ChunkInfo, sorted_ids: list[Any]) -> bool:
    at = bisect.bisect_left(sorted_ids, chunk.lo)
    return at < len(sorted_ids) and sorted_ids[at] <= chunk.hi
