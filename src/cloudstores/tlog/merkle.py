"""RFC 6962 / RFC 9162 Merkle tree hashing, proofs and their verification.

Hashes (RFC 6962 section 2.1, SHA-256):

- leaf hash  = SHA-256(0x00 || leaf bytes)
- node hash  = SHA-256(0x01 || left || right)
- the hash of an empty tree is SHA-256 of the empty string.

A tree is addressed by *perfect subtrees*: ``(level, index)`` is the subtree of the
``2**level`` leaves ``[index * 2**level, (index + 1) * 2**level)``; level 0 holds the
leaf hashes. Proofs are computed from an accessor ``hash_at(level, index) -> bytes``
that returns such a hash (from memory, or from hash tiles). The proof hashes follow
RFC 6962 section 2.1.1 (PATH) and 2.1.2 (SUBPROOF); the verifiers are the
algorithms of RFC 9162 sections 2.1.3.2 and 2.1.4.2, which need nothing but the proof.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence

from cloudstores.errors import InvalidInputError
from cloudstores.tlog.errors import ConsistencyProofError, InclusionProofError

__all__ = [
    "EMPTY_ROOT",
    "HASH_SIZE",
    "MAX_PROOF_LENGTH",
    "MAX_TREE_SIZE",
    "Coord",
    "HashAt",
    "consistency_coords",
    "consistency_proof",
    "inclusion_coords",
    "inclusion_proof",
    "leaf_hash",
    "node_hash",
    "perfect_subtrees",
    "range_hash",
    "root_coords",
    "root_from_hashes",
    "tree_root",
    "verify_consistency",
    "verify_inclusion",
]

HASH_SIZE = 32
MAX_TREE_SIZE = 2**63 - 1
MAX_PROOF_LENGTH = 2 * 64  # a consistency proof of 2**63 leaves has at most ~126 hashes
EMPTY_ROOT = hashlib.sha256(b"").digest()

Coord = tuple[int, int]  # (level, index) of a perfect subtree
HashAt = Callable[[int, int], bytes]


def leaf_hash(data: bytes) -> bytes:
    """SHA-256(0x00 || data)."""
    return hashlib.sha256(b"\x00" + bytes(data)).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """SHA-256(0x01 || left || right)."""
    return hashlib.sha256(b"\x01" + left + right).digest()


def _check_size(name: str, value: int, low: int = 0) -> None:
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidInputError(f"{name} must be an int, not {type(value).__name__}")
    if not low <= value <= MAX_TREE_SIZE:
        raise InvalidInputError(f"{name} {value} is outside [{low}, 2**63-1]")


def _check_hash(name: str, value: bytes) -> None:
    if not isinstance(value, bytes | bytearray) or len(value) != HASH_SIZE:
        raise InvalidInputError(f"{name} must be {HASH_SIZE} bytes")


def _split(n: int) -> int:
    """The largest power of two strictly smaller than n (n >= 2)."""
    return 1 << ((n - 1).bit_length() - 1)


def perfect_subtrees(begin: int, end: int) -> list[Coord]:
    """Split ``[begin, end)`` into maximal aligned perfect subtrees, left to right.

    For the ranges RFC 6962 hashes (``begin`` a multiple of a power of two at least
    ``end - begin``), folding these hashes right to left gives MTH(D[begin:end]).
    """
    coords: list[Coord] = []
    while begin < end:
        level = (end - begin).bit_length() - 1
        if begin:
            level = min(level, (begin & -begin).bit_length() - 1)
        coords.append((level, begin >> level))
        begin += 1 << level
    return coords


def root_from_hashes(hashes: Sequence[bytes]) -> bytes:
    """Fold the hashes of :func:`perfect_subtrees` right to left into one hash."""
    if not hashes:
        return EMPTY_ROOT
    result = hashes[-1]
    for h in reversed(hashes[:-1]):
        result = node_hash(h, result)
    return result


def range_hash(begin: int, end: int, hash_at: HashAt) -> bytes:
    """MTH(D[begin:end]) for a range RFC 6962 produces, from perfect subtree hashes."""
    return root_from_hashes([hash_at(lv, ix) for lv, ix in perfect_subtrees(begin, end)])


def tree_root(leaf_hashes: Sequence[bytes]) -> bytes:
    """MTH of a whole list of leaf hashes (in memory; for tests and small trees)."""
    level = list(leaf_hashes)
    if not level:
        return EMPTY_ROOT
    # Pairwise reduction: an odd last node is carried up unchanged, which is
    # exactly RFC 6962's split at the largest power of two.
    while len(level) > 1:
        nxt = [node_hash(level[i], level[i + 1]) for i in range(0, len(level) - 1, 2)]
        if len(level) % 2:
            nxt.append(level[-1])
        level = nxt
    return level[0]


def root_coords(size: int) -> list[Coord]:
    """The perfect subtrees whose fold is the root of a tree of ``size`` leaves."""
    _check_size("size", size)
    return perfect_subtrees(0, size)


def _inclusion_ranges(index: int, size: int) -> list[tuple[int, int]]:
    # RFC 6962 PATH(m, D[n]), iteratively, collected leaf to root.
    ranges: list[tuple[int, int]] = []
    begin, end = 0, size
    while end - begin > 1:
        k = _split(end - begin)
        if index < begin + k:
            ranges.append((begin + k, end))
            end = begin + k
        else:
            ranges.append((begin, begin + k))
            begin = begin + k
    ranges.reverse()
    return ranges


def _consistency_ranges(old: int, new: int) -> list[tuple[int, int]]:
    # RFC 6962 SUBPROOF(m, D[n], true), iteratively, collected leaf side first.
    ranges: list[tuple[int, int]] = []
    begin, end, m, complete = 0, new, old, True
    while True:
        n = end - begin
        if m == n:
            if not complete:
                ranges.append((begin, end))
            break
        k = _split(n)
        if m <= k:
            ranges.append((begin + k, end))
            end = begin + k
        else:
            ranges.append((begin, begin + k))
            begin, m, complete = begin + k, m - k, False
    ranges.reverse()
    return ranges


def _check_inclusion_args(index: int, size: int) -> None:
    _check_size("size", size, 1)
    _check_size("index", index)
    if index >= size:
        raise InvalidInputError(f"index {index} is not below tree size {size}")


def _check_consistency_args(old: int, new: int) -> None:
    _check_size("old size", old)
    _check_size("new size", new)
    if old > new:
        raise InvalidInputError(f"old size {old} is larger than new size {new}")


def inclusion_coords(index: int, size: int) -> list[Coord]:
    """Every perfect subtree an inclusion proof of ``index`` in ``size`` reads."""
    _check_inclusion_args(index, size)
    return [c for b, e in _inclusion_ranges(index, size) for c in perfect_subtrees(b, e)]


def consistency_coords(old: int, new: int) -> list[Coord]:
    """Every perfect subtree a consistency proof from ``old`` to ``new`` reads."""
    _check_consistency_args(old, new)
    if old in (0, new):
        return []
    return [c for b, e in _consistency_ranges(old, new) for c in perfect_subtrees(b, e)]


def inclusion_proof(index: int, size: int, hash_at: HashAt) -> list[bytes]:
    """RFC 6962 audit path of leaf ``index`` in the tree of ``size`` leaves."""
    _check_inclusion_args(index, size)
    return [range_hash(b, e, hash_at) for b, e in _inclusion_ranges(index, size)]


def consistency_proof(old: int, new: int, hash_at: HashAt) -> list[bytes]:
    """RFC 6962 consistency proof from tree size ``old`` to ``new`` (empty if equal or 0)."""
    _check_consistency_args(old, new)
    if old in (0, new):
        return []
    return [range_hash(b, e, hash_at) for b, e in _consistency_ranges(old, new)]


def _check_proof(proof: Sequence[bytes], error: type[Exception]) -> None:
    if len(proof) > MAX_PROOF_LENGTH:
        raise error(f"proof has {len(proof)} hashes; at most {MAX_PROOF_LENGTH} can be valid")
    for h in proof:
        if not isinstance(h, bytes | bytearray) or len(h) != HASH_SIZE:
            raise error(f"proof hash is not {HASH_SIZE} bytes")


def verify_inclusion(
    index: int, size: int, leaf: bytes, proof: Sequence[bytes], root: bytes
) -> None:
    """RFC 9162 section 2.1.3.2; raises InclusionProofError unless the proof holds."""
    _check_inclusion_args(index, size)
    _check_hash("leaf hash", leaf)
    _check_hash("root", root)
    _check_proof(proof, InclusionProofError)
    fn, sn, r = index, size - 1, bytes(leaf)
    for p in proof:
        if sn == 0:
            raise InclusionProofError("inclusion proof is longer than the tree is deep")
        if fn & 1 or fn == sn:
            r = node_hash(bytes(p), r)
            if not fn & 1:
                while not (fn & 1) and fn:
                    fn >>= 1
                    sn >>= 1
        else:
            r = node_hash(r, bytes(p))
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise InclusionProofError("inclusion proof is too short for the tree size")
    if r != root:
        raise InclusionProofError(f"inclusion proof of leaf {index} does not lead to the root")


def verify_consistency(
    old: int, new: int, old_root: bytes, new_root: bytes, proof: Sequence[bytes]
) -> None:
    """RFC 9162 section 2.1.4.2; raises ConsistencyProofError unless the proof holds.

    ``old == new`` needs an empty proof and equal roots; ``old == 0`` an empty proof
    (every tree extends the empty tree).
    """
    _check_consistency_args(old, new)
    _check_hash("old root", old_root)
    _check_hash("new root", new_root)
    _check_proof(proof, ConsistencyProofError)
    if old == new:
        if proof:
            raise ConsistencyProofError("trees of equal size need an empty proof")
        if old_root != new_root:
            raise ConsistencyProofError(f"two different roots for tree size {old}")
        return
    if old == 0:
        if proof:
            raise ConsistencyProofError("consistency with the empty tree needs an empty proof")
        return
    if not proof:
        raise ConsistencyProofError("empty consistency proof between different sizes")
    path = [bytes(p) for p in proof]
    if old & (old - 1) == 0:
        path.insert(0, bytes(old_root))
    fn, sn = old - 1, new - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            raise ConsistencyProofError("consistency proof is longer than needed")
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            if not fn & 1:
                while not (fn & 1) and fn:
                    fn >>= 1
                    sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise ConsistencyProofError("consistency proof is too short")
    if fr != old_root:
        raise ConsistencyProofError(f"consistency proof does not match the root of size {old}")
    if sr != new_root:
        raise ConsistencyProofError(f"consistency proof does not match the root of size {new}")
