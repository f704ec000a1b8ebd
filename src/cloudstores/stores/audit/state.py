"""What one AuditStore remembers about one stream (shared by its writer, readers and
checkpointer): the keys, the object spans seen, recent entry hashes, the latest
checkpoint known. Nothing here makes a request."""

from __future__ import annotations

from dataclasses import dataclass, field

from cloudstores.bucket.base import Bucket
from cloudstores.stores.audit.layout import StreamKeys
from cloudstores.stores.audit.models import MAX_BATCH_LIMIT, AuditOptions, Checkpoint
from cloudstores.stores.audit.reader import SpanCache
from cloudstores.stores.audit.records import StoredEntry
from cloudstores.stores.audit.signing import Signer

__all__ = ["StoreContext", "StreamState"]


@dataclass(frozen=True, slots=True)
class StoreContext:
    """The store-wide settings every per-stream component needs."""

    bucket: Bucket
    workspace: str
    options: AuditOptions
    signer: Signer | None


@dataclass(slots=True)
class StreamState:
    """Per-stream memory of one store instance."""

    keys: StreamKeys
    spans: SpanCache = field(default_factory=SpanCache)
    hashes: dict[int, str] = field(default_factory=dict)
    """Entry hashes this process knows (written or read), kept for checkpoint leaves."""
    checkpoint: Checkpoint | None = None
    """The newest checkpoint this store has written or read."""
    listed_checkpoint: int | None = None
    """The size of the newest checkpoint key seen in a LIST (None: never listed)."""
    highest_trusted: Checkpoint | None = None
    """The largest checkpoint this store wrote or verified: a later verify that finds it
    gone or changed reports a rollback."""

    def remember(self, entries: list[StoredEntry] | list[tuple[int, str]]) -> None:
        """Record entry hashes: from parsed entry dicts or ``(seq, hash)`` pairs."""
        for item in entries:
            if isinstance(item, dict):
                self.hashes[item["seq"]] = item["hash"]
            else:
                self.hashes[item[0]] = item[1]

    def prune(self, below: int, keep: int) -> None:
        """Forget hashes below ``below`` (sealed), and keep at most about ``keep``."""
        if not self.hashes:
            return
        if len(self.hashes) > keep + MAX_BATCH_LIMIT:
            below = max(below, max(self.hashes) - keep)
        if min(self.hashes) < below:
            for seq in [s for s in self.hashes if s < below]:
                del self.hashes[seq]

    def note_checkpoint(self, checkpoint: Checkpoint) -> None:
        if self.checkpoint is None or checkpoint.size > self.checkpoint.size:
            self.checkpoint = checkpoint
        if self.listed_checkpoint is None or checkpoint.size > self.listed_checkpoint:
            self.listed_checkpoint = checkpoint.size

    def trust(self, checkpoint: Checkpoint) -> None:
        """Remember a checkpoint this store wrote or verified (see ``highest_trusted``)."""
        self.note_checkpoint(checkpoint)
        if self.highest_trusted is None or checkpoint.size > self.highest_trusted.size:
            self.highest_trusted = checkpoint
