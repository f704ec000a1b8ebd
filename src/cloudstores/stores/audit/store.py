"""``AuditStore``: immutable, hash-chained, multi-writer audit streams in a bucket.

::

    async with cloudstores.open_bucket(url) as bucket:
        async with AuditStore(bucket, workspace="acme", signer=Ed25519Signer.from_file(p)) as audit:
            entry = await audit.append("payments", {"action": "refund", "amount": 12})
            report = await audit.verify("payments")

The store never opens or closes the bucket; ``close`` flushes queued appends, stops
the checkpoint timers and seals what this store appended (``checkpoint_on_close``).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterable, Mapping, Sequence
from contextlib import aclosing
from datetime import UTC, datetime
from typing import Any

from cloudstores._resource import AsyncResource
from cloudstores.bucket.base import Bucket
from cloudstores.errors import IntegrityError, InvalidInputError, NotFoundError
from cloudstores.keys import DEFAULT_WORKSPACE, validate_workspace
from cloudstores.stores.audit import chain, cosigs, proofs
from cloudstores.stores.audit.backwards import read_backwards
from cloudstores.stores.audit.keyed import KeyedLane, check_key
from cloudstores.stores.audit.layout import StreamKeys, registry_prefix, validate_stream
from cloudstores.stores.audit.models import (
    MAX_BATCH_LIMIT,
    AuditEntry,
    AuditOptions,
    AuditPage,
    Checkpoint,
    StreamHead,
    VerifyReport,
)
from cloudstores.stores.audit.query import Order, StreamIndex, declare
from cloudstores.stores.audit.reader import (
    check_seq,
    fetch_objects,
    list_objects,
    numbered,
    read_object,
)
from cloudstores.stores.audit.records import StoredEntry
from cloudstores.stores.audit.signing import Signer, Verifier
from cloudstores.stores.audit.state import StoreContext, StreamState
from cloudstores.stores.audit.tree import Tree
from cloudstores.stores.audit.verify import verify_stream
from cloudstores.stores.audit.writer import StreamWriter
from cloudstores.stores.objects import Progress
from cloudstores.tlog.cosignature import CosignatureVerifier

__all__ = ["AuditStore"]


class AuditStore(AsyncResource):
    """Audit streams of one workspace in one bucket.

    Args:
        bucket: an opened bucket (its owner opens and closes it).
        workspace: the namespace of every key (``[A-Za-z0-9._-]``, 1..63).
        signer: signs checkpoints (e.g. :class:`Ed25519Signer`); None: keyless mode,
            checkpoints are hash-chained but unsigned.
        verifier: checks checkpoint signatures in ``verify``; defaults to the signer's.
        options: see :class:`AuditOptions`.

    Every method validates its arguments before the first request. Safe for many
    tasks at once; several stores (processes, machines) may append to one stream.
    """

    def __init__(
        self,
        bucket: Bucket,
        *,
        workspace: str = DEFAULT_WORKSPACE,
        signer: Signer | None = None,
        verifier: Verifier | None = None,
        options: AuditOptions | None = None,
    ) -> None:
        if not isinstance(bucket, Bucket):
            raise InvalidInputError(f"bucket must be a Bucket, not {type(bucket).__name__}")
        if options is not None and not isinstance(options, AuditOptions):
            raise InvalidInputError("options must be an AuditOptions")
        self.workspace = validate_workspace(workspace)
        self.bucket = bucket
        self.options = options or AuditOptions()
        self.signer = signer
        self.verifier = (
            verifier
            if verifier is not None
            else (signer.verifier() if signer is not None else None)
        )
        self._ctx = StoreContext(bucket, self.workspace, self.options, signer)
        self._states: dict[str, StreamState] = {}
        self._writers: dict[str, StreamWriter] = {}
        self._lanes: dict[str, KeyedLane] = {}
        self._indexes: dict[str, StreamIndex] = {}
        self._trees: dict[tuple[str, int], tuple[Checkpoint, Tree]] = {}
        """Checkpoints (immutable) loaded for proofs, with their trees."""
        self._closed = False

    # ------------------------------------------------------------------ lifecycle
    async def close(self) -> None:
        """Flush queued appends, stop timers, seal this store's entries (if configured)."""
        self._closed = True
        lanes = list(self._lanes.values())
        await asyncio.gather(*(lane.flush() for lane in lanes))
        if self.options.checkpoint_on_close:
            for lane in lanes:
                if lane.appended:
                    await lane.writer.checkpoint()
        writers = list(self._writers.values())
        await asyncio.gather(*(w.close(seal=True) for w in writers))
        await asyncio.gather(*(ix.index.close() for ix in self._indexes.values()))

    async def flush(self) -> None:
        """Wait for queued appends and for checkpoints being written."""
        for lane in list(self._lanes.values()):
            await lane.flush()
        for writer in list(self._writers.values()):
            await writer.flush()
            await writer.wait_checkpoints()

    def _check_open(self) -> None:
        if self._closed:
            raise InvalidInputError("this AuditStore is closed: appends are refused")

    def _state(self, stream: str) -> StreamState:
        state = self._states.get(stream)
        if state is None:
            state = self._states[stream] = StreamState(StreamKeys(self.workspace, stream))
        return state

    def _writer(self, stream: str) -> StreamWriter:
        writer = self._writers.get(stream)
        if writer is None:
            writer = self._writers[stream] = StreamWriter(self._ctx, self._state(stream))
        return writer

    def _lane(self, stream: str) -> KeyedLane:
        lane = self._lanes.get(stream)
        if lane is None:
            lane = self._lanes[stream] = KeyedLane(
                self._ctx, self._state(stream), self._writer(stream)
            )
        return lane

    # ------------------------------------------------------------------ writing
    def _encode(self, event: Any) -> tuple[bytes, str]:
        data = chain.encode_event(event, self.options.max_event_bytes, self.options.entry_format)
        return data, chain.format_ts(datetime.now(UTC))

    async def append(
        self, stream: str, event: Mapping[str, Any], *, key: str | None = None
    ) -> AuditEntry:
        """Append one event (a JSON object); return its entry once it is durable.

        Without ``key``: one create-only PUT on a warm writer (group-committed with
        concurrent appends). With ``key`` (any text up to 1,024 UTF-8 bytes): at most one
        entry of the stream carries it, whatever the processes, retries or crashes
        (:mod:`cloudstores.stores.audit.keyed`). A second append of the key returns the
        original entry if the event is identical (same canonical JSON), and raises
        AlreadyExistsError otherwise. A new key costs 3 PUTs (marker, entry, binding);
        a repeated key 1 PUT (refused) and 3 GETs. The entry carries ``key`` (format 2).

        Raises InvalidIdError (bad stream name), InvalidInputError (bad key),
        SerializationError (not a JSON object, NaN/Infinity, bytes, unserializable
        values) or PayloadTooLargeError (over ``max_event_bytes``) before any request.
        """
        validate_stream(stream)
        if key is not None:
            check_key(key)
        encoded = self._encode(event)
        self._check_open()
        if key is not None:
            return await self._lane(stream).append(key, *encoded)
        return (await self._writer(stream).append([encoded]))[0]

    async def get_key(self, stream: str, key: str) -> AuditEntry | None:
        """The entry appended with ``key``, or None if the key was never claimed.

        Three GETs (marker, binding, entry object). A key whose append crashed after its
        claim is completed here (appended from the claim), so a claim never stays
        half-done once someone reads it.
        """
        validate_stream(stream)
        check_key(key)
        return await self._lane(stream).lookup(key)

    async def append_many(
        self, stream: str, events: Iterable[Mapping[str, Any]]
    ) -> list[AuditEntry]:
        """Append several events with consecutive sequence numbers, in order.

        Every event is checked before anything is written. Up to ``max_batch`` events
        and ``max_batch_bytes`` they land in one object, atomically; a larger call is
        split into several objects (each atomic; another writer may slip in between).
        """
        validate_stream(stream)
        if isinstance(events, Mapping):
            raise InvalidInputError("append_many takes an iterable of events, not one event")
        encoded = [self._encode(event) for event in events]
        self._check_open()
        if not encoded:
            return []
        return await self._writer(stream).append(encoded)

    async def checkpoint(self, stream: str) -> Checkpoint | None:
        """Seal the stream at its current tail now; the newest checkpoint (None if empty)."""
        validate_stream(stream)
        return await self._writer(stream).checkpoint()

    # ------------------------------------------------------------------ reading
    async def get(self, stream: str, seq: int) -> AuditEntry:
        """The entry ``seq``: one GET when ``seq`` starts an object or its object is known
        to this store; else one bounded LIST page first. NotFoundError if absent."""
        validate_stream(stream)
        check_seq(seq)
        state = self._state(stream)
        keys = state.keys
        start = state.spans.find(seq)
        if start is None:
            start = seq
        try:
            entries = await self._get_object(state, start)
        except NotFoundError:
            if start != seq:
                raise
            start = await self._find_start(state, seq)
            entries = await self._get_object(state, start)
        index = seq - start
        if index >= len(entries):
            raise NotFoundError(f"stream {stream!r} has no entry {seq}", key=keys.entry(seq))
        key = keys.entry(start)
        entry = entries[index]
        self._check_entry(entry, stream, key)
        return chain.entry_from_dict(entry, key=key)

    def _check_entry(self, entry: StoredEntry, stream: str, key: str) -> None:
        """IntegrityError unless the entry belongs here and its hash is its content's."""
        if entry["stream"] != stream or entry["ws"] != self.workspace:
            raise IntegrityError(
                f"entry {entry['seq']} under stream {stream!r} names "
                f"{entry['ws']}/{entry['stream']}",
                key=key,
            )
        if chain.recompute_hash(entry) != entry["hash"]:
            raise IntegrityError(
                f"entry {entry['seq']} of stream {stream!r} does not match its hash (run verify)",
                key=key,
            )

    async def _get_object(self, state: StreamState, start: int) -> list[StoredEntry]:
        return await read_object(self.bucket, state.keys, state.spans, start)

    async def _find_start(self, state: StreamState, seq: int) -> int:
        start: int | None = None
        async for first, _ in list_objects(self.bucket, state.keys, seq, seq + 1):
            if first <= seq:
                start = first
        if start is None or seq - start >= MAX_BATCH_LIMIT:
            raise NotFoundError(
                f"stream {state.keys.stream!r} has no entry {seq}", key=state.keys.entry(seq)
            )
        return start

    async def read(
        self,
        stream: str,
        start: int = 0,
        end: int | None = None,
        *,
        descending: bool = False,
        limit: int | None = None,
    ) -> AsyncIterator[AuditEntry]:
        """Yield entries ``start <= seq < end`` (``end`` None: to the tail), oldest first,
        or newest first with ``descending=True``; at most ``limit`` of them.

        Objects are fetched ``read_concurrency`` at a time. Each entry's hash, its link
        to its neighbour and contiguity are checked as it goes: a damaged stream raises
        IntegrityError at the first bad entry (``verify`` reports every problem).

        Forwards: one LIST page per 1,000 objects and one GET per object. Backwards
        (:mod:`~cloudstores.stores.audit.backwards`): ``head`` first (warm: one GET
        probe; cold: LIST checkpoints, LIST entries, GET the last object, GET a probe),
        then per window of up to ``min(limit, 1000)`` entries one LIST page and one GET
        per object, from the top down; the newest ``k`` entries of a stream of lone
        appends cost the head, one LIST and ``k`` GETs. Checked against the head's hash.
        """
        validate_stream(stream)
        check_seq(start, what="start")
        if not isinstance(descending, bool):
            raise InvalidInputError("descending must be a bool")
        if limit is not None:
            check_seq(limit, what="limit")
        if end is not None:
            check_seq(end, what="end")
            if end <= start:
                return
        if limit == 0:
            return
        if descending:
            head = await self.head(stream)
            state = self._state(stream)
            backwards = read_backwards(
                self.bucket,
                state.keys,
                state.spans,
                head,
                start=start,
                end=end,
                limit=limit,
                concurrency=self.options.read_concurrency,
                check=lambda entry, key: self._check_entry(entry, stream, key),
            )
            async with aclosing(backwards):
                async for found in backwards:
                    yield found
            return
        given = 0
        state = self._state(stream)
        keys = state.keys

        expected: int | None = None
        prev: str | None = None
        items = list_objects(self.bucket, keys, start, end)
        fetched = fetch_objects(self.bucket, items, self.options.read_concurrency)
        async with aclosing(fetched):
            async for (first, key), data in fetched:
                if isinstance(data, BaseException):
                    raise data
                entries = chain.parse_object(data, key=key)
                state.spans.add(first, len(entries))
                for offset, entry in enumerate(entries):
                    seq = first + offset
                    if expected is not None and seq != expected:
                        raise IntegrityError(
                            f"stream {stream!r} has no entry {expected}", key=keys.entry(expected)
                        )
                    expected = seq + 1
                    if entry["seq"] != seq or (prev is not None and entry["prev"] != prev):
                        raise IntegrityError(
                            f"entry {seq} of stream {stream!r} fails its chain check (run verify)",
                            key=key,
                        )
                    self._check_entry(entry, stream, key)
                    prev = entry["hash"]
                    if seq < start:
                        continue
                    if end is not None and seq >= end:
                        return
                    yield chain.entry_from_dict(entry, key=key)
                    given += 1
                    if limit is not None and given >= limit:
                        return

    # ------------------------------------------------------------------ querying
    def stream_fields(self, stream: str, fields: Mapping[str, Any] | Iterable[Any]) -> None:
        """Declare the event fields ``query`` filters ``stream`` on (no request).

        ``fields``: name -> kind (``"string" | "number" | "datetime" | "bool"``, or an
        index :class:`~cloudstores.stores.index.Field`), read from each event's top level;
        ``ts`` and ``obj`` are reserved (the entry time and its object). Each distinct
        declaration has its own index in the bucket, shared by every store that declares
        the same fields, and built from the stream by the first query
        (:mod:`cloudstores.stores.audit.query`). Declaring again replaces the declaration.
        """
        validate_stream(stream)
        schema, schema_id = declare(fields)
        current = self._indexes.get(stream)
        if current is not None and current.prefix == self._state(stream).keys.index_prefix(
            schema_id
        ):
            return
        self._indexes[stream] = StreamIndex(
            self._ctx,
            self._state(stream),
            schema,
            schema_id,
            lambda start: self.read(stream, start),
        )

    def _index(self, stream: str) -> StreamIndex:
        index = self._indexes.get(stream)
        if index is None:
            raise InvalidInputError(
                f"stream {stream!r} has no declared fields: call stream_fields first"
            )
        return index

    async def refresh_index(self, stream: str) -> int:
        """Bring the stream's query index up to its tail now; entries added.

        Up to date: one HEAD (plus one LIST the first time). Otherwise the reads of
        ``read(stream, start=mark)``, one index PUT per 1,000 entries and one mark PUT.
        """
        validate_stream(stream)
        return await self._index(stream).catch_up()

    async def query(
        self,
        stream: str,
        *,
        where: Mapping[str, Any] | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        descending: bool = True,
        limit: int | None = None,
        start_after: str | None = None,
        order: Order = "seq",
    ) -> AuditPage:
        """Entries of ``stream`` matching ``where`` and ``since <= ts <= until``, newest
        first by default, from the index of the fields declared with ``stream_fields``.

        ``where`` maps declared fields to a value (equality; None matches null) or to
        operators ``eq, gt, gte, lt, lte`` (ranges on number and datetime fields).
        ``order``: ``"seq"`` (stream order, default), ``"ts"`` (entry time, then seq) or
        a declared field (its value, nulls first, then seq; e.g. a time the event carries).
        ``limit`` entries per page; pass the page's ``cursor`` as ``start_after``.

        Cost, warm and nothing new: one HEAD (coverage), one GET (index tail probe), and
        one GET per distinct entry object among the results (none for the 256 objects
        this store read last: entry objects never change). Cold: add one LIST of the
        coverage marks and the index's cold load (LIST its manifests, GET the newest and
        LIST the tail segments, GET the chunks that can match and the tail segments).
        Entries appended since the last query are read and indexed first (see
        ``refresh_index``). Never reads the whole stream once its index is built.

        Each result is checked against its chain object (IntegrityError if the index
        and the chain disagree). InvalidInputError for bad arguments, before any request.
        """
        validate_stream(stream)
        index = self._index(stream)
        if limit is not None and (
            not isinstance(limit, int) or isinstance(limit, bool) or limit < 1
        ):
            raise InvalidInputError("limit must be an int >= 1 or None")
        combined, compiled = index.compile(where, since, until, order, descending, start_after)
        return await index.query(
            combined,
            compiled,
            order=order,
            descending=descending,
            limit=limit,
            start_after=start_after,
        )

    async def head(self, stream: str) -> StreamHead:
        """The stream's size and the hash of its last entry (probed, not just cached)."""
        validate_stream(stream)
        return await self._writer(stream).head()

    async def streams(self) -> AsyncIterator[str]:
        """Names of the streams of this workspace, sorted (one LIST page per 1,000)."""
        prefix = registry_prefix(self.workspace)
        async for info in self.bucket.list(prefix):
            name = info.key[len(prefix) :]
            try:
                yield validate_stream(name)
            except InvalidInputError:
                continue

    # ------------------------------------------------------------------ proofs
    async def inclusion_proof(self, stream: str, seq: int, size: int) -> proofs.InclusionProof:
        """Proof that entry ``seq`` is in the Merkle tree of the checkpoint of ``size``.

        ``size`` must be the size of a format-2 checkpoint (NotFoundError otherwise).
        Cost: 1 GET (the checkpoint, the first time this store uses it) + 1 GET per
        full tile on the leaf's path: 2 GETs up to 65,536 entries, 3 up to 16.7M.
        Check it offline with
        :func:`~cloudstores.stores.audit.proofs.verify_inclusion`.
        """
        validate_stream(stream)
        check_seq(seq)
        check_seq(size, what="size")
        if seq >= size:
            raise InvalidInputError(f"seq {seq} is not below size {size}")
        await self._flush_stream(stream)
        _, grown = await self._tree(stream, size)
        return await proofs.build_inclusion(
            self.bucket, self._state(stream).keys, self.workspace, seq, grown
        )

    async def consistency_proof(
        self, stream: str, old_size: int, new_size: int
    ) -> proofs.ConsistencyProof:
        """Proof that the tree of ``old_size`` entries is a prefix of the tree of the
        checkpoint of ``new_size``. Cost: 1 GET + at most 2 GETs per tile level below
        the top. Check it with :func:`~cloudstores.stores.audit.proofs.verify_consistency`.
        """
        validate_stream(stream)
        check_seq(old_size, what="old_size")
        check_seq(new_size, what="new_size")
        if old_size > new_size:
            raise InvalidInputError(f"old_size {old_size} is larger than new_size {new_size}")
        await self._flush_stream(stream)
        _, grown = await self._tree(stream, new_size)
        return await proofs.build_consistency(
            self.bucket, self._state(stream).keys, self.workspace, old_size, grown
        )

    async def load_checkpoint(self, stream: str, size: int) -> Checkpoint:
        """The checkpoint of ``size`` as stored (one GET; NotFoundError if none)."""
        validate_stream(stream)
        check_seq(size, what="size")
        checkpoint, _ = await self._tree(stream, size)
        return checkpoint

    async def latest_checkpoint(self, stream: str) -> Checkpoint | None:
        """The stored checkpoint of the largest size (None if the stream has none).

        Cost: a LIST of the stream's checkpoint keys (one page per 1,000) and one GET.
        IntegrityError if that object is not a valid checkpoint of its size.
        """
        validate_stream(stream)
        keys = self._state(stream).keys
        newest = 0
        async for number, _ in numbered(self.bucket.list(keys.cp_prefix), keys.cp_prefix):
            newest = max(newest, number)
        if not newest:
            return None
        key = keys.checkpoint(newest)
        checkpoint, _ = chain.parse_checkpoint((await self.bucket.get(key)).data, key=key)
        if checkpoint.size != newest or checkpoint.stream != stream:
            raise IntegrityError(f"the checkpoint at {newest} is not this stream's", key=key)
        return checkpoint

    async def _tree(self, stream: str, size: int) -> tuple[Checkpoint, Tree]:
        found = self._trees.get((stream, size))
        if found is None:
            found = await proofs.load_tree(self.bucket, self._state(stream).keys, size)
            if len(self._trees) >= 256:
                self._trees.pop(next(iter(self._trees)))
            self._trees[(stream, size)] = found
        return found

    async def _flush_stream(self, stream: str) -> None:
        writer = self._writers.get(stream)
        if writer is not None:
            await writer.flush()
            await writer.wait_checkpoints()

    # ------------------------------------------------------------------ verifying
    async def verify(
        self,
        stream: str,
        *,
        trusted: Checkpoint | None = None,
        max_problems: int = 100,
        on_progress: Progress | None = None,
        witnesses: Sequence[CosignatureVerifier] = (),
        required_witnesses: int = 0,
    ) -> VerifyReport:
        """Check the whole stream; see :mod:`cloudstores.stores.audit.verify`.

        First waits for this store's queued appends and its checkpoints in flight on
        the stream, so they are part of what is checked.

        Args:
            trusted: a checkpoint obtained earlier (e.g. kept outside the bucket); the
                stream must still hold it unchanged, else a ``rollback`` problem.
            max_problems: stop recording problems after this many.
            on_progress: called with the number of entries checked so far, after each
                object (for a progress display on a long stream).
            witnesses: trusted witness keys (C2SP tlog-cosignature v1,
                ``CosignatureVerifier.from_vkey``); their cosignatures stored beside the
                checkpoints are checked (:mod:`~cloudstores.stores.audit.cosigs`: one
                LIST and one GET per cosignature more), and a witness that cosigned
                another tree head than the log's is a ``witness_fork`` problem.
            required_witnesses: at least this many of ``witnesses`` must have cosigned
                one same checkpoint (``unwitnessed`` otherwise); the report's
                ``witnessed_size`` is the largest such checkpoint.
        """
        validate_stream(stream)
        if trusted is not None and not isinstance(trusted, Checkpoint):
            raise InvalidInputError("trusted must be a Checkpoint")
        if on_progress is not None and not callable(on_progress):
            raise InvalidInputError("on_progress must be callable or None")
        if not isinstance(max_problems, int) or isinstance(max_problems, bool) or max_problems < 1:
            raise InvalidInputError("max_problems must be an int >= 1")
        witnesses = tuple(witnesses)
        cosigs.check_policy(witnesses, required_witnesses)
        # this store's queued appends and checkpoints in flight are in before the LIST
        await self._flush_stream(stream)
        return await verify_stream(
            self._ctx,
            self._state(stream),
            self.verifier,
            trusted=trusted,
            max_problems=max_problems,
            on_progress=on_progress,
            witnesses=witnesses,
            required_witnesses=required_witnesses,
        )

    def __repr__(self) -> str:
        return f"<AuditStore {self.bucket.url} workspace={self.workspace}>"
