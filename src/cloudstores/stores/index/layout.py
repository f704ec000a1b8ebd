"""Object keys of one index, under ``{prefix}`` = ``ws/{workspace}/_index/{store}/``::

{seq:020d}.json            tail segment n (create-only; contiguous from 0)
m/{99999999999999999999 - n:020d}-{since + 1:020d}.json
                           manifest n (create-only), compacted from manifest n - 1
                           whose ``upto`` was ``since`` (-1 for n = 0); the first
                           number counts down, so the first key a LIST of ``m/``
                           returns is the newest manifest. Every compactor racing for
                           n builds on n - 1, so the key depends on n alone
c/{sha256 hex}.json        chunk: its key is the SHA-256 of its bytes
snap/{seq:020d}.json       legacy (format 1) snapshot, read only
"""

from __future__ import annotations

from cloudstores.keys import key_number, numbered_key

__all__ = ["MANIFEST_TOP", "IndexLayout"]

MANIFEST_TOP = 10**20 - 1


class IndexLayout:
    """Builds and parses the keys of one index."""

    def __init__(self, prefix: str) -> None:
        self.prefix = prefix.rstrip("/") + "/"
        self.segments = self.prefix + "0"  # every segment key starts with a zero digit
        self.manifests = self.prefix + "m/"
        self.chunks = self.prefix + "c/"
        self.snapshots = self.prefix + "snap/"

    def segment(self, seq: int) -> str:
        return numbered_key(self.prefix, seq)

    def segment_number(self, key: str) -> int:
        return key_number(key, self.prefix)

    def manifest(self, n: int, since: int) -> str:
        return f"{self.manifests}{MANIFEST_TOP - n:020d}-{since + 1:020d}.json"

    def manifest_numbers(self, key: str) -> tuple[int, int] | None:
        """``(n, since)`` of a manifest key, or None for any other key."""
        tail = key[len(self.manifests) :] if key.startswith(self.manifests) else ""
        first, dash, second = tail.removesuffix(".json").partition("-")
        if (
            not tail.endswith(".json")
            or not dash
            or len(first) != 20
            or len(second) != 20
            or not (first + second).isdigit()
            or not (first + second).isascii()
        ):
            return None
        return MANIFEST_TOP - int(first), int(second) - 1

    def chunk(self, digest: str) -> str:
        return f"{self.chunks}{digest}.json"

    def snapshot_number(self, key: str) -> int:
        return key_number(key, self.snapshots)
