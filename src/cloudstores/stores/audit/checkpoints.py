"""Writing checkpoints: find the newest one, gather the leaves, sign, create-only PUT.

Policy (see ``AuditOptions``): the writer whose object crosses a multiple of
``checkpoint_every`` entries seals the stream at that object's end (exactly one writer's
object crosses each boundary, so writers do not race for it); a writer with entries
still unsealed ``checkpoint_interval`` seconds after its append seals them; ``close``
seals what the writer appended. Before writing, the newest checkpoint is looked up
(one LIST from the last one known): if it already covers the size, nothing is written.
Each checkpoint names the newest one its writer knew as ``prev``. Before the checkpoint,
the full hash tiles it completes are written (``tree.py``): the tree advances from the
newest checkpoint's edge over the new leaves (from 0 when that one has no tree).
Two writers can still checkpoint at once from the same ``prev`` (a fork); ``verify``
accepts that, since each checkpoint is checked on its own against the recomputed chain,
and each ``prev`` must name an existing, smaller, unchanged checkpoint.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from cloudstores.errors import AlreadyExistsError, IntegrityError, NotFoundError
from cloudstores.stores.audit import chain, notes, tree
from cloudstores.stores.audit.models import Checkpoint, CheckpointRef
from cloudstores.stores.audit.reader import fetch_objects, list_objects, numbered
from cloudstores.stores.audit.state import StoreContext, StreamState

__all__ = ["Checkpointer"]

TREE_CHUNK = 65_536
"""Leaves read and hashed into the tree at a time when catching up a long range."""

log = logging.getLogger("cloudstores.audit")


class Checkpointer:
    """Checkpoints of one stream, for one store instance."""

    def __init__(self, ctx: StoreContext, state: StreamState) -> None:
        self.ctx = ctx
        self.state = state

    async def newest_size(self) -> int:
        """Size of the newest checkpoint key (0 if none): one LIST from the last known."""
        keys = self.state.keys
        known = self.state.listed_checkpoint
        after = keys.checkpoint(known) if known else None
        newest = known or 0
        listed = self.ctx.bucket.list(keys.cp_prefix, start_after=after)
        async for number, _ in numbered(listed, keys.cp_prefix):
            newest = max(newest, number)
        self.state.listed_checkpoint = newest
        return newest

    async def load(self, size: int) -> Checkpoint:
        """GET and parse the checkpoint at ``size``."""
        key = self.state.keys.checkpoint(size)
        obj = await self.ctx.bucket.get(key)
        checkpoint, _ = chain.parse_checkpoint(obj.data, key=key)
        if checkpoint.size != size:
            raise IntegrityError(f"checkpoint at {size} says size {checkpoint.size}", key=key)
        return checkpoint

    async def newest(self) -> Checkpoint | None:
        """The newest checkpoint, refreshed with one LIST (and a GET if it is new to us)."""
        size = await self.newest_size()
        current = self.state.checkpoint
        if size and (current is None or current.size < size):
            self.state.note_checkpoint(await self.load(size))
        return self.state.checkpoint

    async def _leaves(self, lo: int, hi: int) -> list[str]:
        """Hashes of entries ``[lo, hi)``: from memory, the rest read and checked."""
        known = self.state.hashes
        if any(seq not in known for seq in range(lo, hi)):
            bucket = self.ctx.bucket
            items = list_objects(bucket, self.state.keys, lo, hi)
            async for (first, key), data in fetch_objects(
                bucket, items, self.ctx.options.read_concurrency
            ):
                if isinstance(data, BaseException):
                    raise data
                entries = chain.parse_object(data, key=key)
                for entry in entries:
                    before = known.get(entry["seq"] - 1)
                    if chain.recompute_hash(entry) != entry["hash"] or (
                        before is not None and before != entry["prev"]
                    ):
                        raise IntegrityError(f"entry {entry['seq']} does not chain", key=key)
                    known[entry["seq"]] = entry["hash"]
                self.state.spans.add(first, len(entries))
        leaves = []
        for seq in range(lo, hi):
            digest = known.get(seq)
            if digest is None:
                raise IntegrityError(
                    f"entry {seq} is missing below checkpoint {hi}", key=self.state.keys.entry(seq)
                )
            leaves.append(digest)
        return leaves

    async def _grow(self, prev: Checkpoint | None, size: int, head: str) -> tree.Tree:
        """The tree at ``size``, from ``prev``'s edge (or from 0), writing the full
        tiles completed on the way: one PUT per 256 new entries (the leaves not in
        memory are read from the entry objects)."""
        base = tree.EMPTY
        if prev is not None and prev.root is not None:
            base = tree.from_checkpoint(prev, key=self.state.keys.checkpoint(prev.size))
        state = self.state
        while base.size < size:
            end = min(size, base.size + TREE_CHUNK)
            leaves = [bytes.fromhex(h) for h in await self._leaves(base.size, end)]
            if end == size and leaves[-1].hex() != head:
                raise IntegrityError(
                    f"entry {size - 1} changed under the writer", key=state.keys.entry(size - 1)
                )
            base, full = await tree.advance(base, end, leaves)
            await tree.put_tiles(
                self.ctx.bucket, state.keys, full, self.ctx.options.read_concurrency
            )
            if end < size:
                state.prune(below=end, keep=self.ctx.options.max_checkpoint_leaves)
        return base

    async def write(self, size: int, head: str) -> Checkpoint | None:
        """Seal the stream at ``size`` (``head``: hash of entry ``size - 1``).

        Returns the checkpoint written, or None when a newer one already covers ``size``.
        """
        prev = await self.newest()
        if prev is not None and prev.size >= size:
            return None
        options = self.ctx.options
        start = prev.size if prev is not None else 0
        if size - start <= options.max_checkpoint_leaves:
            leaves = await self._leaves(start, size)
            if leaves and leaves[-1] != head:
                raise IntegrityError(
                    f"entry {size - 1} changed under the writer",
                    key=self.state.keys.entry(size - 1),
                )
        else:
            start, leaves = size, []
        grown = await self._grow(prev, size, head)
        signer = self.ctx.signer
        body = chain.checkpoint_body(
            workspace=self.ctx.workspace,
            stream=self.state.keys.stream,
            size=size,
            head=head,
            time=chain.format_ts(datetime.now(UTC)),
            prev=None if prev is None else CheckpointRef(size=prev.size, hash=prev.hash),
            leaves_start=start,
            leaves=leaves,
            algorithm=signer.algorithm if signer is not None else "none",
            key_id=signer.key_id if signer is not None else None,
            root=grown.root.hex(),
        )
        signature = None
        if signer is not None:
            signature = await signer.sign(chain.checkpoint_message(body))
        note = await notes.make_note(
            signer, self.ctx.workspace, self.state.keys.stream, size, grown.root
        )
        data, _ = chain.encode_checkpoint(body, signature, note=note, edge=tree.encode_edge(grown))
        key = self.state.keys.checkpoint(size)
        try:
            await self.ctx.bucket.put(key, data, mode="create", content_type="application/json")
        except AlreadyExistsError:
            # Another writer sealed the same size first: theirs stands.
            try:
                self.state.note_checkpoint(await self.load(size))
            except (NotFoundError, IntegrityError) as exc:
                log.warning("checkpoint %s exists but cannot be read: %s", key, exc)
            return None
        checkpoint, _ = chain.parse_checkpoint(data, key=key)
        self.state.trust(checkpoint)
        self.state.prune(below=size, keep=options.max_checkpoint_leaves)
        return checkpoint
