"""Merkle proofs of a stream, built from its tiles, and their offline verification.

Building (a store with a bucket):

* :func:`build_inclusion` -- entry ``seq`` is in the tree of a checkpoint of ``size``.
  Cost: one GET of that checkpoint, then one GET per full tile on the leaf's path
  (at most one per tile level; the partial tiles come from the checkpoint's edge):
  2 GETs up to 65,536 entries, 3 up to 16.7M. The proof is checked against the
  checkpoint's root before it is returned.
* :func:`build_consistency` -- the tree of ``old_size`` is a prefix of the tree of a
  checkpoint of ``new_size`` (``old_size`` need not be a checkpoint). One GET of the
  ``new_size`` checkpoint, then at most two full tiles per tile level.

Verifying (:func:`verify_inclusion`, :func:`verify_consistency`) needs nothing but the
proof and the checkpoint(s) (e.g. kept outside the bucket); with a ``verifier`` the
checkpoint's signature is checked too (its signed note when it has one, else its JSON
signature). No request.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass

from cloudstores.bucket.base import Bucket
from cloudstores.errors import IntegrityError, InvalidInputError, NotFoundError
from cloudstores.stores.audit import chain, notes, tree
from cloudstores.stores.audit.layout import StreamKeys
from cloudstores.stores.audit.models import AuditEntry, Checkpoint, CheckpointRef
from cloudstores.stores.audit.signing import Verifier
from cloudstores.tlog import merkle, tiles
from cloudstores.tlog.errors import ConsistencyProofError, InclusionProofError
from cloudstores.tlog.proof import format_tlog_proof

__all__ = [
    "ConsistencyProof",
    "InclusionProof",
    "build_consistency",
    "build_inclusion",
    "load_tree",
    "verify_consistency",
    "verify_inclusion",
]


@dataclass(frozen=True, slots=True)
class InclusionProof:
    """Entry ``seq`` (leaf hash ``leaf``) is in the tree of ``size`` entries."""

    workspace: str
    stream: str
    seq: int
    size: int
    leaf: str
    """The entry's hash (hex), as the level-0 tile holds it."""
    hashes: tuple[str, ...]
    """RFC 6962 audit path, leaf sibling first (hex)."""

    def tlog_proof(self, checkpoint: Checkpoint) -> bytes:
        """The proof as C2SP tlog-proof@v1 (with the checkpoint's signed note)."""
        if checkpoint.note is None or checkpoint.size != self.size:
            raise InvalidInputError("a tlog-proof needs the signed checkpoint of the proof's size")
        path = [bytes.fromhex(h) for h in self.hashes]
        return format_tlog_proof(self.seq, path, checkpoint.note.encode())


@dataclass(frozen=True, slots=True)
class ConsistencyProof:
    """The tree of ``old_size`` entries is a prefix of the tree of ``new_size``."""

    workspace: str
    stream: str
    old_size: int
    new_size: int
    hashes: tuple[str, ...]
    """RFC 6962 consistency proof (hex)."""


async def load_tree(bucket: Bucket, keys: StreamKeys, size: int) -> tuple[Checkpoint, tree.Tree]:
    """The checkpoint of ``size`` (one GET) and its tree; NotFoundError if there is none,
    IntegrityError if it is format 1 (no tree) or malformed."""
    key = keys.checkpoint(size)
    obj = await bucket.get(key)
    checkpoint, _ = chain.parse_checkpoint(obj.data, key=key)
    if checkpoint.size != size:
        raise IntegrityError(f"checkpoint at {size} says size {checkpoint.size}", key=key)
    if checkpoint.root is None:
        raise NotFoundError(f"checkpoint {size} is format 1: it has no Merkle tree", key=key)
    return checkpoint, tree.from_checkpoint(checkpoint, key=key)


async def build_inclusion(
    bucket: Bucket, keys: StreamKeys, workspace: str, seq: int, grown: tree.Tree
) -> InclusionProof:
    """See the module docstring (up to one GET per tile level; ``grown`` from
    :func:`load_tree`)."""
    size = grown.size
    if seq >= size:
        raise InvalidInputError(f"seq {seq} is not below size {size}")
    coords = [(0, seq), *merkle.inclusion_coords(seq, size)]
    found = await tiles.read_hashes(size, coords, tree.read_tile_fn(bucket, keys, grown))
    path = merkle.inclusion_proof(seq, size, lambda lv, ix: found[(lv, ix)])
    leaf = found[(0, seq)]
    try:
        merkle.verify_inclusion(seq, size, leaf, path, grown.root)
    except InclusionProofError as exc:
        raise IntegrityError(
            f"the tiles of stream {keys.stream!r} do not match checkpoint {size}: {exc.message}",
            key=keys.checkpoint(size),
        ) from exc
    return InclusionProof(
        workspace, keys.stream, seq, size, leaf.hex(), tuple(h.hex() for h in path)
    )


async def build_consistency(
    bucket: Bucket, keys: StreamKeys, workspace: str, old_size: int, grown: tree.Tree
) -> ConsistencyProof:
    """See the module docstring (up to two GETs per tile level; ``grown``: the tree of
    the new size, from :func:`load_tree`)."""
    new_size = grown.size
    if old_size > new_size:
        raise InvalidInputError(f"old size {old_size} is larger than new size {new_size}")
    coords = merkle.consistency_coords(old_size, new_size)
    found = await tiles.read_hashes(new_size, coords, tree.read_tile_fn(bucket, keys, grown))
    path = merkle.consistency_proof(old_size, new_size, lambda lv, ix: found[(lv, ix)])
    return ConsistencyProof(
        workspace, keys.stream, old_size, new_size, tuple(h.hex() for h in path)
    )


# ---------------------------------------------------------------------- offline
def _hex32(value: object, what: str, error: type[IntegrityError]) -> bytes:
    try:
        raw = bytes.fromhex(value) if isinstance(value, str) else b""
    except ValueError:
        raw = b""
    if len(raw) != merkle.HASH_SIZE:
        raise error(f"{what} is not a 32-byte hex hash")
    return raw


def _checked_root(
    checkpoint: Checkpoint, verifier: Verifier | None, error: type[IntegrityError]
) -> bytes:
    """The checkpoint's root, after its signature (when ``verifier``) is checked."""
    if not isinstance(checkpoint, Checkpoint):
        raise InvalidInputError("checkpoint must be an audit Checkpoint")
    if checkpoint.root is None:
        raise error(f"checkpoint {checkpoint.size} is format 1: it has no Merkle root")
    root = _hex32(checkpoint.root, "checkpoint root", error)
    if verifier is None:
        return root
    if checkpoint.note is not None and notes.note_verifiers(verifier):
        notes.check_note(
            checkpoint.note,
            workspace=checkpoint.workspace,
            stream=checkpoint.stream,
            size=checkpoint.size,
            root=root,
            verifier=verifier,
        )
        return root
    if checkpoint.signature is None or checkpoint.key_id is None:
        raise error(f"checkpoint {checkpoint.size} is not signed")
    body = chain.checkpoint_body(
        workspace=checkpoint.workspace,
        stream=checkpoint.stream,
        size=checkpoint.size,
        head=checkpoint.head,
        time=chain.format_ts(checkpoint.time),
        prev=None
        if checkpoint.prev is None
        else CheckpointRef(size=checkpoint.prev.size, hash=checkpoint.prev.hash),
        leaves_start=checkpoint.leaves_start,
        leaves=list(checkpoint.leaves),
        algorithm=checkpoint.algorithm,
        key_id=checkpoint.key_id,
        root=checkpoint.root,
    )
    signature = base64.b64decode(checkpoint.signature)
    if not verifier.verify(
        chain.checkpoint_message(body),
        signature,
        algorithm=checkpoint.algorithm,
        key_id=checkpoint.key_id,
    ):
        raise error(f"checkpoint {checkpoint.size}: signature does not verify")
    return root


def _same_log(proof_ws: str, proof_stream: str, checkpoint: Checkpoint, error: type) -> None:
    if (proof_ws, proof_stream) != (checkpoint.workspace, checkpoint.stream):
        raise error(
            f"proof is for {proof_ws}/{proof_stream}, checkpoint for "
            f"{checkpoint.workspace}/{checkpoint.stream}"
        )


def verify_inclusion(
    proof: InclusionProof,
    checkpoint: Checkpoint,
    *,
    entry: AuditEntry | None = None,
    verifier: Verifier | None = None,
) -> None:
    """Raise InclusionProofError (an IntegrityError) unless ``proof`` shows its entry
    (``entry``, when given, must be that entry) in the tree ``checkpoint`` signs."""
    if not isinstance(proof, InclusionProof):
        raise InvalidInputError("proof must be an InclusionProof")
    root = _checked_root(checkpoint, verifier, InclusionProofError)
    _same_log(proof.workspace, proof.stream, checkpoint, InclusionProofError)
    if proof.size != checkpoint.size:
        raise InclusionProofError(
            f"proof is for size {proof.size}, the checkpoint is {checkpoint.size}"
        )
    leaf = _hex32(proof.leaf, "leaf", InclusionProofError)
    if entry is not None and (
        entry.seq != proof.seq
        or entry.hash != proof.leaf
        or (entry.workspace, entry.stream) != (proof.workspace, proof.stream)
    ):
        raise InclusionProofError(f"the proof is not for entry {entry.seq} as given")
    path = [_hex32(h, "proof hash", InclusionProofError) for h in proof.hashes]
    merkle.verify_inclusion(proof.seq, proof.size, leaf, path, root)


def verify_consistency(
    proof: ConsistencyProof,
    old: Checkpoint,
    new: Checkpoint,
    *,
    verifier: Verifier | None = None,
) -> None:
    """Raise ConsistencyProofError (an IntegrityError) unless ``new``'s tree extends
    ``old``'s (same stream; two different roots at one size are a fork)."""
    if not isinstance(proof, ConsistencyProof):
        raise InvalidInputError("proof must be a ConsistencyProof")
    old_root = _checked_root(old, verifier, ConsistencyProofError)
    new_root = _checked_root(new, verifier, ConsistencyProofError)
    _same_log(proof.workspace, proof.stream, old, ConsistencyProofError)
    _same_log(proof.workspace, proof.stream, new, ConsistencyProofError)
    if (proof.old_size, proof.new_size) != (old.size, new.size):
        raise ConsistencyProofError(
            f"proof is for sizes {proof.old_size}->{proof.new_size}, "
            f"the checkpoints are {old.size}->{new.size}"
        )
    path = [_hex32(h, "proof hash", ConsistencyProofError) for h in proof.hashes]
    merkle.verify_consistency(old.size, new.size, old_root, new_root, path)
