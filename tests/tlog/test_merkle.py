"""Merkle hashing, proofs and RFC 9162 verification against the brute-force RFC reading."""

from __future__ import annotations

import hashlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cloudstores.errors import IntegrityError, InvalidInputError
from cloudstores.tlog import merkle
from cloudstores.tlog.errors import ConsistencyProofError, InclusionProofError
from tests.tlog.brute import MemoryTree, leaves_for, mth, path, proof

MAX_EXHAUSTIVE = 70
LEAVES = leaves_for(300)
TREES = {n: MemoryTree(LEAVES[:n]) for n in range(1, 300)}


def test_hash_functions_follow_rfc6962() -> None:
    assert merkle.leaf_hash(b"abc") == hashlib.sha256(b"\x00abc").digest()
    a, b = LEAVES[0], LEAVES[1]
    assert merkle.node_hash(a, b) == hashlib.sha256(b"\x01" + a + b).digest()
    assert merkle.tree_root([]) == hashlib.sha256(b"").digest() == merkle.EMPTY_ROOT
    # Known value: the RFC 6962 test tree of transparency-dev/merkle, leaf "" hashed.
    assert merkle.leaf_hash(b"").hex() == (
        "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d"
    )


def test_roots_match_brute_force_for_every_size() -> None:
    for n in range(0, 300):
        assert merkle.tree_root(LEAVES[:n]) == mth(LEAVES[:n])
        if n:
            tree = TREES[n]
            coords = merkle.root_coords(n)
            assert merkle.root_from_hashes([tree.hash_at(*c) for c in coords]) == mth(LEAVES[:n])


def test_every_inclusion_proof_up_to_70() -> None:
    for n in range(1, MAX_EXHAUSTIVE + 1):
        tree, root = TREES[n], mth(LEAVES[:n])
        for i in range(n):
            got = merkle.inclusion_proof(i, n, tree.hash_at)
            assert got == path(i, LEAVES[:n])
            merkle.verify_inclusion(i, n, LEAVES[i], got, root)


def test_every_consistency_proof_up_to_70() -> None:
    for n in range(1, MAX_EXHAUSTIVE + 1):
        tree, root = TREES[n], mth(LEAVES[:n])
        for m in range(0, n + 1):
            got = merkle.consistency_proof(m, n, tree.hash_at)
            assert got == proof(m, LEAVES[:n])
            merkle.verify_consistency(m, n, mth(LEAVES[:m]), root, got)


@settings(max_examples=60, deadline=None)
@given(st.data())
def test_random_larger_trees(data: st.DataObject) -> None:
    n = data.draw(st.integers(71, 299))
    i = data.draw(st.integers(0, n - 1))
    m = data.draw(st.integers(1, n))
    tree, leaves = TREES[n], LEAVES[:n]
    incl = merkle.inclusion_proof(i, n, tree.hash_at)
    assert incl == path(i, leaves)
    merkle.verify_inclusion(i, n, leaves[i], incl, mth(leaves))
    cons = merkle.consistency_proof(m, n, tree.hash_at)
    assert cons == proof(m, leaves)
    merkle.verify_consistency(m, n, mth(leaves[:m]), mth(leaves), cons)


def test_proofs_read_log_many_hashes() -> None:
    # A proof reads O(log n) perfect subtrees, not O(n) leaves.
    n = 299
    for i in range(0, n, 7):
        assert len(merkle.inclusion_coords(i, n)) <= 2 * 9
    for m in range(1, n, 7):
        assert len(merkle.consistency_coords(m, n)) <= 3 * 9


def _flip(h: bytes, bit: int = 0) -> bytes:
    return bytes([h[0] ^ (1 << bit)]) + h[1:]


def _inclusion_probes(i: int, n: int, leaf: bytes, prf: list[bytes], root: bytes):  # type: ignore[no-untyped-def]
    """(index, size, leaf, proof, root) variants that must all be rejected."""
    yield i, n, _flip(leaf), prf, root
    yield i, n, leaf, prf, _flip(root, 3)
    for j in range(len(prf)):
        yield i, n, leaf, [*prf[:j], _flip(prf[j], 5), *prf[j + 1 :]], root
    if i + 1 < n:
        yield i + 1, n, leaf, prf, root
    if i > 0:
        yield i - 1, n, leaf, prf, root
    # A wrong size is caught when it changes the proof's shape (its length); sizes
    # with the same shape for this index are bound by the signed checkpoint instead.
    for wrong in (n - 1, n + 1):
        if i < wrong and len(path(i, LEAVES[:wrong])) != len(prf):
            yield i, wrong, leaf, prf, root
    yield i, n * 2, leaf, prf, root
    if prf:
        yield i, n, leaf, prf[:-1], root
        yield i, n, leaf, prf[1:], root
        yield i, n, leaf, list(reversed(prf)) if len(prf) > 1 and prf[0] != prf[-1] else [], root
    yield i, n, leaf, [*prf, LEAVES[0]], root
    yield i, n, leaf, [LEAVES[0], *prf], root
    yield i, n, leaf, [*prf, merkle.EMPTY_ROOT], root


def test_inclusion_corruption_probes_rejected() -> None:
    checked = 0
    for n in range(1, 40):
        root = mth(LEAVES[:n])
        for i in range(n):
            prf = path(i, LEAVES[:n])
            for probe in _inclusion_probes(i, n, LEAVES[i], prf, root):
                pi, pn, pleaf, pprf, proot = probe
                if pi >= pn:
                    continue
                if (pi, pn, pleaf, pprf, proot) == (i, n, LEAVES[i], prf, root):
                    continue
                with pytest.raises(InclusionProofError):
                    merkle.verify_inclusion(pi, pn, pleaf, pprf, proot)
                checked += 1
    assert checked > 5000


def test_consistency_corruption_probes_rejected() -> None:
    checked = 0
    for n in range(2, 40):
        for m in range(1, n):
            r1, r2 = mth(LEAVES[:m]), mth(LEAVES[:n])
            prf = proof(m, LEAVES[:n])
            probes = [
                (m, n, _flip(r1), r2, prf),
                (m, n, r1, _flip(r2), prf),
                (m, n, r1, r2, prf[:-1]),
                (m, n, r1, r2, prf[1:]),
                (m, n, r1, r2, [*prf, LEAVES[0]]),
                (m, n, r1, r2, [LEAVES[0], *prf]),
                (m, n, r1, r2, []),
                (m, n, r2, r1, prf),
                (m, n * 2, r1, r2, prf),
            ]
            # Wrong sizes, where they change the proof's shape (see the inclusion test).
            for wm, wn in ((m + 1, n), (m - 1, n), (m, n + 1), (m, n - 1)):
                if 0 < wm < wn and len(proof(wm, LEAVES[:wn])) != len(prf):
                    probes.append((wm, wn, r1, r2, prf))
            probes += [
                (m, n, r1, r2, [*prf[:j], _flip(prf[j], 2), *prf[j + 1 :]]) for j in range(len(prf))
            ]
            for pm, pn, a, b, p in probes:
                if (pm, pn, a, b, p) == (m, n, r1, r2, prf) or pm > pn:
                    continue
                with pytest.raises(ConsistencyProofError):
                    merkle.verify_consistency(pm, pn, a, b, p)
                checked += 1
    assert checked > 5000


def test_consistency_edge_cases() -> None:
    r = mth(LEAVES[:5])
    merkle.verify_consistency(5, 5, r, r, [])
    with pytest.raises(ConsistencyProofError):
        merkle.verify_consistency(5, 5, r, _flip(r), [])
    with pytest.raises(ConsistencyProofError):
        merkle.verify_consistency(5, 5, r, r, [r])
    merkle.verify_consistency(0, 5, merkle.EMPTY_ROOT, r, [])
    with pytest.raises(ConsistencyProofError):
        merkle.verify_consistency(0, 5, merkle.EMPTY_ROOT, r, [r])


def test_errors_are_in_the_one_tree() -> None:
    assert issubclass(InclusionProofError, IntegrityError)
    assert issubclass(ConsistencyProofError, IntegrityError)


@pytest.mark.parametrize(
    "call",
    [
        lambda: merkle.inclusion_proof(3, 3, TREES[3].hash_at),
        lambda: merkle.inclusion_proof(-1, 3, TREES[3].hash_at),
        lambda: merkle.inclusion_proof(0, 0, TREES[3].hash_at),
        lambda: merkle.inclusion_proof(True, 3, TREES[3].hash_at),  # type: ignore[arg-type]
        lambda: merkle.consistency_proof(4, 3, TREES[3].hash_at),
        lambda: merkle.consistency_proof(1, 2**63, TREES[3].hash_at),
        lambda: merkle.verify_inclusion(0, 1, b"short", [], LEAVES[0]),
        lambda: merkle.verify_inclusion(1, 1, LEAVES[0], [], LEAVES[0]),
        lambda: merkle.verify_consistency(1, 2, b"x" * 31, LEAVES[0], []),
        lambda: merkle.verify_consistency(2, 1, LEAVES[0], LEAVES[0], []),
    ],
)
def test_bad_arguments_are_invalid_input(call) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(InvalidInputError):
        call()


def test_oversized_or_malformed_proofs_are_integrity_errors() -> None:
    with pytest.raises(InclusionProofError):
        merkle.verify_inclusion(0, 2, LEAVES[0], [LEAVES[1]] * 500, LEAVES[0])
    with pytest.raises(InclusionProofError):
        merkle.verify_inclusion(0, 2, LEAVES[0], [b"\x00" * 31], LEAVES[0])
    with pytest.raises(ConsistencyProofError):
        merkle.verify_consistency(1, 2, LEAVES[0], LEAVES[0], [b"\x00" * 33])


def test_max_size_proof_shapes() -> None:
    # Coordinates alone (no hashes) work at the largest sizes.
    n = 2**63 - 1
    assert len(merkle.inclusion_coords(n - 1, n)) > 60
    assert len(merkle.consistency_coords(2**40 + 3, n)) > 60
