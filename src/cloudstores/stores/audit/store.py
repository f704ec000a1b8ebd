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
from collections.abc import AsyncIterator, Iterable, Mapping
from contextlib import aclosing
from datetime import UTC, datetime
from typing import Any

from cloudstores._resource import AsyncResource
from cloudstores.bucket.base import Bucket
from cloudstores.errors import IntegrityError, InvalidInputError, NotFoundError
from cloudstores.keys import DEFAULT_WORKSPACE, validate_workspace
from cloudstores.stores.audit import chain, proofs
from cloudstores.stores.audit.layout import StreamKeys, registry_prefix, validate_stream
from cloudstores.stores.audit.models import (
    MAX_BATCH_LIMIT,
    AuditEntry,
    AuditOptions,
    Checkpoint,
    StreamHead,
    VerifyReport,
)
from cloudstores.stores.audit.reader import (
    check_seq,
    fetch_objects,
    list_objects,
    read_object,
)
from cloudstores.stores.audit.records import StoredEntry
from cloudstores.stores.audit.signing import Signer, Verifier
from cloudstores.stores.audit.state import StoreContext, StreamState
from cloudstores.stores.audit.tree import Tree
from cloudstores.stores.audit.verify import verify_stream
from cloudstores.stores.audit.writer import StreamWriter
from cloudstores.stores.objects import Progress

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
        self._trees: dict[tuple[str, int], tuple[Checkpoint, Tree]] = {}
        """Checkpoints (immutable) loaded for proofs, with their trees."""
        self._closed = False

    # ------------------------------------------------------------------ lifecycle
    async def close(self) -> None:
        """Flush queued appends, stop timers, seal this store's entries (if configured)."""
        self._closed = True
        writers = list(self._writers.values())
        await asyncio.gather(*(w.close(seal=True) for w in writers))

    async def flush(self) -> None:
        """Wait for queued appends and for checkpoints being written."""
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

    # ------------------------------------------------------------------ writing
    def _encode(self, event: Any) -> tuple[bytes, str]:
        data = chain.encode_event(event, self.options.max_event_bytes)
        return data, chain.format_ts(datetime.now(UTC))

    async def append(self, stream: str, event: Mapping[str, Any]) -> AuditEntry:
        """Append one event (a JSON object); return its entry once it is durable.

        Raises InvalidIdError (bad stream name), SerializationError (not a JSON object,
        NaN/Infinity, bytes, unserializable values) or PayloadTooLargeError (over
        ``max_event_bytes``) before any request.
        """
        validate_stream(stream)
        encoded = self._encode(event)
        self._check_open()
        return (await self._writer(stream).append([encoded]))[0]

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
        self, stream: str, start: int = 0, end: int | None = None
    ) -> AsyncIterator[AuditEntry]:
        """Yield entries ``start <= seq < end`` (``end`` None: to the tail) in order.

        Objects are fetched ``read_concurrency`` at a time. Each entry's hash, its link
        to the one before and contiguity are checked as it goes: a damaged stream raises
        IntegrityError at the first bad entry (``verify`` reports every problem).
        """
        validate_stream(stream)
        check_seq(start, what="start")
        if end is not None:
            check_seq(end, what="end")
            if end <= start:
                return
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
    ) -> VerifyReport:
        """Check the whole stream; see :mod:`cloudstores.stores.audit.verify`.

        Args:
            trusted: a checkpoint obtained earlier (e.g. kept outside the bucket); the
                stream must still hold it unchanged, else a ``rollback`` problem.
            max_problems: stop recording problems after this many.
            on_progress: called with the number of entries checked so far, after each
                object (for a progress display on a long stream).
        """
        validate_stream(stream)
        if trusted is not None and not isinstance(trusted, Checkpoint):
            raise InvalidInputError("trusted must be a Checkpoint")
        if on_progress is not None and not callable(on_progress):
            raise InvalidInputError("on_progress must be callable or None")
        if not isinstance(max_problems, int) or isinstance(max_problems, bool) or max_problems < 1:
            raise InvalidInputError("max_problems must be an int >= 1")
        writer = self._writers.get(stream)
        if writer is not None:
            await writer.flush()
        return await verify_stream(
            self._ctx,
            self._state(stream),
            self.verifier,
            trusted=trusted,
            max_problems=max_problems,
            on_progress=on_progress,
        )

    def __repr__(self) -> str:
        return f"<AuditStore {self.bucket.url} workspace={self.workspace}>"
