"""Brute-force RFC 6962 reference: the recursive definitions, straight from the RFC text.

Deliberately naive and independent of cloudstores.tlog.merkle (no shared helpers but
SHA-256), so that property tests compare two separate readings of the RFC.
"""

from __future__ import annotations

import hashlib


def h_leaf(data: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + data).digest()


def h_node(a: bytes, b: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + a + b).digest()


def k_of(n: int) -> int:
    k = 1
    while k * 2 < n:
        k *= 2
    return k


def mth(leaves: list[bytes]) -> bytes:
    """MTH over already-hashed leaves."""
    n = len(leaves)
    if n == 0:
        return hashlib.sha256(b"").digest()
    if n == 1:
        return leaves[0]
    k = k_of(n)
    return h_node(mth(leaves[:k]), mth(leaves[k:]))


def path(m: int, leaves: list[bytes]) -> list[bytes]:
    n = len(leaves)
    if n == 1:
        return []
    k = k_of(n)
    if m < k:
        return [*path(m, leaves[:k]), mth(leaves[k:])]
    return [*path(m - k, leaves[k:]), mth(leaves[:k])]


def subproof(m: int, leaves: list[bytes], b: bool) -> list[bytes]:
    n = len(leaves)
    if m == n:
        return [] if b else [mth(leaves)]
    k = k_of(n)
    if m <= k:
        return [*subproof(m, leaves[:k], b), mth(leaves[k:])]
    return [*subproof(m - k, leaves[k:], False), mth(leaves[:k])]


def proof(m: int, leaves: list[bytes]) -> list[bytes]:
    if m == 0 or m == len(leaves):
        return []
    return subproof(m, leaves, True)


class MemoryTree:
    """hash_at(level, index) over a list of leaf hashes, every level precomputed."""

    def __init__(self, leaves: list[bytes]) -> None:
        self.levels = [list(leaves)]
        while len(self.levels[-1]) > 1:
            prev = self.levels[-1]
            self.levels.append([h_node(prev[i], prev[i + 1]) for i in range(0, len(prev) - 1, 2)])
        self.reads = 0

    def hash_at(self, level: int, index: int) -> bytes:
        self.reads += 1
        return self.levels[level][index]


def leaves_for(n: int, salt: str = "") -> list[bytes]:
    return [h_leaf(f"{salt}leaf-{i}".encode()) for i in range(n)]
