"""The Merkle tree of a stream: its edge (partial tiles) and the full tiles it writes.

The tree is RFC 6962 over the entry hashes (each already ``SHA-256(0x00 || entry)``,
the leaf hash). It is stored in the C2SP tlog-tiles layout under the stream's prefix:

* **full tiles** (256 hashes, 8,192 bytes) as objects ``{stream}/tile/<L>/<N>``, written
  create-only when a checkpoint covers them: about one PUT per 256 entries (plus one
  per 65,536 at level 1, ...). They are a deterministic function of the entries, so
  racing writers write identical bytes: an existing identical tile is success, a
  different one is tampering (IntegrityError).
* **partial tiles** (the right edge: at most one per tile level) are not objects: they
  travel inside each checkpoint as its ``edge`` (see :func:`encode_edge`), checked
  against the checkpoint's signed root on parse. So a checkpoint is never followed by
  a PUT per tile level, and a proof at a checkpoint's size reads only full tiles.

A writer advances the tree from the newest checkpoint that has an edge (the edge is
exactly the state needed: the partial tile of each level) over the new leaf hashes.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
from collections.abc import Sequence
from dataclasses import dataclass

from cloudstores.bucket.base import Bucket
from cloudstores.errors import AlreadyExistsError, IntegrityError
from cloudstores.stores.audit.layout import StreamKeys
from cloudstores.stores.audit.models import Checkpoint
from cloudstores.tlog import merkle, tiles
from cloudstores.tlog.merkle import HASH_SIZE
from cloudstores.tlog.tiles import TILE_HEIGHT, TILE_WIDTH

__all__ = [
    "EMPTY",
    "Tree",
    "advance",
    "decode_edge",
    "edge_root",
    "encode_edge",
    "from_checkpoint",
    "put_tile",
    "put_tiles",
    "read_tile_fn",
]

_FULL_BYTES = TILE_WIDTH * HASH_SIZE


def _levels(size: int) -> int:
    """How many tile levels a tree of ``size`` leaves has (0 for the empty tree)."""
    count = 0
    while size >> (TILE_HEIGHT * count):
        count += 1
    return count


def _width(size: int, level: int) -> int:
    return (size >> (TILE_HEIGHT * level)) % TILE_WIDTH


@dataclass(frozen=True, slots=True)
class Tree:
    """The tree at ``size``: its root and the partial tile body of each level."""

    size: int
    root: bytes
    edge: dict[int, bytes]

    def partial(self, level: int) -> bytes:
        return self.edge.get(level, b"")


EMPTY = Tree(0, merkle.EMPTY_ROOT, {})


def _fold(body: bytes, start: int, end: int) -> bytes:
    hashes = [body[i * HASH_SIZE : (i + 1) * HASH_SIZE] for i in range(start, end)]
    while len(hashes) > 1:
        hashes = [merkle.node_hash(hashes[i], hashes[i + 1]) for i in range(0, len(hashes), 2)]
    return hashes[0]


def edge_root(size: int, edge: dict[int, bytes]) -> bytes:
    """The root of the tree of ``size`` from its partial tiles alone.

    Every right-edge perfect subtree of ``size`` lies in the partial tile of its tile
    level, so the edge determines the root, and a checked root binds every edge hash.
    """
    coords = merkle.root_coords(size)
    hashes = []
    for level, index in coords:
        tile, start, end = tiles.tile_for_hash(level, index, size)
        hashes.append(_fold(edge[tile.level], start, end))
    return merkle.root_from_hashes(hashes)


def encode_edge(tree: Tree) -> list[str]:
    """One base64 string per tile level of the tree ("" where that level has no partial)."""
    return [base64.b64encode(tree.partial(level)).decode() for level in range(_levels(tree.size))]


def decode_edge(size: int, encoded: Sequence[object], root: bytes, *, key: str | None) -> Tree:
    """The tree a stored edge describes; IntegrityError unless widths and root fit."""
    if len(encoded) != _levels(size):
        raise IntegrityError(
            f"checkpoint edge has {len(encoded)} levels, not {_levels(size)}", key=key
        )
    edge: dict[int, bytes] = {}
    for level, item in enumerate(encoded):
        try:
            body = base64.b64decode(item, validate=True) if isinstance(item, str) else None
        except (binascii.Error, ValueError):
            body = None
        if body is None or len(body) != _width(size, level) * HASH_SIZE:
            raise IntegrityError(f"checkpoint edge level {level} is malformed", key=key)
        if body:
            edge[level] = body
    if edge_root(size, edge) != root:
        raise IntegrityError("checkpoint edge does not fold to its root", key=key)
    return Tree(size, root, edge)


def from_checkpoint(checkpoint: Checkpoint, *, key: str | None) -> Tree:
    """The tree of a parsed format-2 checkpoint (whose edge ``parse_checkpoint`` has
    already checked against its root: the root is not recomputed)."""
    if checkpoint.root is None:
        raise IntegrityError(f"checkpoint {checkpoint.size} has no Merkle tree", key=key)
    edge: dict[int, bytes] = {}
    for level, item in enumerate(checkpoint.edge):
        if item:
            edge[level] = base64.b64decode(item)
    return Tree(checkpoint.size, bytes.fromhex(checkpoint.root), edge)


async def advance(
    old: Tree, new_size: int, leaves: Sequence[bytes]
) -> tuple[Tree, dict[str, bytes]]:
    """The tree at ``new_size`` from ``old`` and the leaf hashes ``[old.size, new_size)``,
    and the full tiles that became complete on the way (path -> body). No request."""

    async def read_old(path: str) -> bytes:
        coord = tiles.parse_tile_path(path)
        return old.partial(coord.level)

    out = await tiles.build_tiles(old.size, new_size, leaves, read_old)
    full = {path: body for path, body in out.items() if len(body) == _FULL_BYTES}
    edge: dict[int, bytes] = {}
    for level in range(_levels(new_size)):
        width = _width(new_size, level)
        if not width:
            continue
        index = (new_size >> (TILE_HEIGHT * level)) // TILE_WIDTH
        body = out.get(tiles.tile_path(level, index, width))
        edge[level] = body if body is not None else old.partial(level)
    if new_size == 0:
        return EMPTY, full
    return Tree(new_size, edge_root(new_size, edge), edge), full


async def put_tile(bucket: Bucket, keys: StreamKeys, path: str, body: bytes) -> None:
    """Create-only PUT of one full tile; an identical existing tile is success (a
    racing writer wrote it), a different one is IntegrityError (tampering).
    One PUT, plus one GET when the key is taken."""
    key = keys.tile(path)
    try:
        await bucket.put(key, body, mode="create", content_type="application/octet-stream")
    except AlreadyExistsError:
        existing = (await bucket.get(key)).data
        if existing != body:
            raise IntegrityError(
                f"tile {path} exists with other hashes than the entries give", key=key
            ) from None


async def put_tiles(bucket: Bucket, keys: StreamKeys, full: dict[str, bytes], limit: int) -> None:
    """Every tile of ``full``, ``limit`` PUTs in flight."""
    gate = asyncio.Semaphore(max(1, limit))

    async def one(path: str, body: bytes) -> None:
        async with gate:
            await put_tile(bucket, keys, path, body)

    await asyncio.gather(*(one(p, b) for p, b in full.items()))


def read_tile_fn(bucket: Bucket, keys: StreamKeys, tree: Tree) -> tiles.ReadTile:
    """A tile reader for proofs at ``tree.size``: partial tiles from the edge (no
    request), full tiles by one GET each."""

    async def read(path: str) -> bytes:
        coord = tiles.parse_tile_path(path)
        if coord.width < TILE_WIDTH:
            if coord.width != _width(tree.size, coord.level):
                raise IntegrityError(f"tile {path} is not on the edge of size {tree.size}")
            return tree.partial(coord.level)
        return (await bucket.get(keys.tile(path))).data

    return read
