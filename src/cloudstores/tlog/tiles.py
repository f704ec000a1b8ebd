"""C2SP tlog-tiles layout: where each Merkle hash lives, and what to read or write.

A tile at tile level ``L`` and index ``N`` holds up to 256 consecutive hashes of tree
level ``8 * L`` (level 0: leaf hashes): hash ``i`` is MTH(D[(N*256+i) * 256**L :
(N*256+i+1) * 256**L]). A full tile is 256 hashes (8,192 bytes); the rightmost tile of a
level in a tree of size ``s`` is partial, of width ``(s // 256**L) % 256``, and is
stored at its own path with ``.p/<W>``. Paths follow c2sp.org/tlog-tiles exactly::

    tile/<L>/<N>[.p/<W>]        N as 3-digit groups, all but the last prefixed "x":
    tile/0/x001/x234/067        (index 1234067)
    tile/entries/<N>[.p/<W>]    entry bundles (same N and W encoding)

Any Merkle hash of tree level ``h`` needed by a proof is computed from the one tile at
level ``h // 8`` that holds its ``2**(h % 8)`` children; so a proof reads at most two
tiles per tile level (the leaf's own and the tree's right edge), and none for hashes
the caller already knows (``known``: e.g. the right-edge hashes stored with a
checkpoint, see :func:`edge_coords`).
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass

from cloudstores.errors import InvalidInputError
from cloudstores.tlog import merkle
from cloudstores.tlog.errors import TileError
from cloudstores.tlog.merkle import HASH_SIZE, Coord

__all__ = [
    "TILE_HEIGHT",
    "TILE_WIDTH",
    "ReadTile",
    "TileCoord",
    "build_tiles",
    "consistency_proof_from_tiles",
    "edge_coords",
    "encode_index",
    "entries_path",
    "inclusion_proof_from_tiles",
    "parse_tile_path",
    "read_hashes",
    "root_from_tiles",
    "tile_for_hash",
    "tile_path",
    "tiles_for_size",
    "tiles_needed",
]

TILE_HEIGHT = 8
TILE_WIDTH = 1 << TILE_HEIGHT  # 256 hashes
MAX_TILE_LEVEL = 63

ReadTile = Callable[[str], Awaitable[bytes]]


@dataclass(frozen=True, order=True)
class TileCoord:
    """One tile of a tree of a given size: level, index and width (256 = full)."""

    level: int
    index: int
    width: int

    @property
    def path(self) -> str:
        return tile_path(self.level, self.index, self.width)

    @property
    def full(self) -> bool:
        return self.width == TILE_WIDTH


def _check_int(name: str, value: int, low: int, high: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise InvalidInputError(f"{name} must be an int in [{low}, {high}], got {value!r}")


def encode_index(index: int) -> str:
    """``1234067 -> 'x001/x234/067'``: 3-digit groups, all but the last prefixed ``x``."""
    _check_int("tile index", index, 0, merkle.MAX_TREE_SIZE)
    groups = [f"{index % 1000:03d}"]
    index //= 1000
    while index:
        groups.append(f"x{index % 1000:03d}")
        index //= 1000
    return "/".join(reversed(groups))


def _suffix(width: int) -> str:
    _check_int("tile width", width, 1, TILE_WIDTH)
    return "" if width == TILE_WIDTH else f".p/{width}"


def tile_path(level: int, index: int, width: int = TILE_WIDTH) -> str:
    """``tile/<L>/<N>[.p/<W>]`` as c2sp.org/tlog-tiles writes it."""
    _check_int("tile level", level, 0, MAX_TILE_LEVEL)
    return f"tile/{level}/{encode_index(index)}{_suffix(width)}"


def entries_path(index: int, width: int = TILE_WIDTH) -> str:
    """``tile/entries/<N>[.p/<W>]``, the entry bundle path of the same spec."""
    return f"tile/entries/{encode_index(index)}{_suffix(width)}"


_PATH = re.compile(r"tile/(0|[1-9][0-9]?)/((?:x[0-9]{3}/)*[0-9]{3})(?:\.p/([1-9][0-9]{0,2}))?")


def parse_tile_path(path: str) -> TileCoord:
    """Inverse of :func:`tile_path`; InvalidInputError for anything not canonical."""
    match = _PATH.fullmatch(path) if isinstance(path, str) else None
    if match is None:
        raise InvalidInputError(f"not a tile path: {path!r}")
    level = int(match.group(1))
    index = int(match.group(2).replace("x", "").replace("/", ""))
    width = int(match.group(3)) if match.group(3) else TILE_WIDTH
    coord = TileCoord(level, index, width)
    if level > MAX_TILE_LEVEL or (width >= TILE_WIDTH and match.group(3)) or coord.path != path:
        raise InvalidInputError(f"not a canonical tile path: {path!r}")
    return coord


def _check_size(size: int, low: int = 0) -> None:
    _check_int("tree size", size, low, merkle.MAX_TREE_SIZE)


def _tile_at(level: int, index: int, size: int) -> TileCoord:
    """The tile (level, index) as it exists in a tree of ``size`` leaves."""
    count = size >> (TILE_HEIGHT * level)  # hashes stored at this level
    width = min(TILE_WIDTH, count - index * TILE_WIDTH)
    if width <= 0:
        raise InvalidInputError(f"tile {level}/{index} does not exist at tree size {size}")
    return TileCoord(level, index, width)


def tiles_for_size(size: int) -> list[TileCoord]:
    """Every tile of a tree of ``size`` leaves: full tiles and one partial per level."""
    _check_size(size)
    tiles: list[TileCoord] = []
    level = 0
    while (count := size >> (TILE_HEIGHT * level)) > 0:
        tiles.extend(_tile_at(level, n, size) for n in range(-(-count // TILE_WIDTH)))
        level += 1
    return tiles


def tile_for_hash(level: int, index: int, size: int) -> tuple[TileCoord, int, int]:
    """Where the hash of perfect subtree (level, index) comes from in a tree of ``size``.

    Returns the tile and the ``[start, end)`` range of its hashes whose MTH it is.
    """
    _check_size(size, 1)
    _check_int("level", level, 0, 63)
    _check_int("index", index, 0, merkle.MAX_TREE_SIZE)
    if (index + 1) << level > size:
        raise InvalidInputError(f"subtree {level}/{index} is not complete at tree size {size}")
    tile_level, rest = divmod(level, TILE_HEIGHT)
    first = index << rest  # index of its first hash at tree level 8 * tile_level
    tile_index, start = divmod(first, TILE_WIDTH)
    return _tile_at(tile_level, tile_index, size), start, start + (1 << rest)


def tiles_needed(
    size: int, coords: Iterable[Coord], known: Mapping[Coord, bytes] | None = None
) -> set[TileCoord]:
    """The tiles to read for these perfect-subtree hashes (none for ``known`` ones)."""
    known = known or {}
    return {tile_for_hash(lv, ix, size)[0] for lv, ix in coords if (lv, ix) not in known}


async def _fetch(tiles: Iterable[TileCoord], read_tile: ReadTile) -> dict[TileCoord, bytes]:
    order = sorted(tiles)
    bodies = await asyncio.gather(*(read_tile(t.path) for t in order))
    out: dict[TileCoord, bytes] = {}
    for tile, body in zip(order, bodies, strict=True):
        if not isinstance(body, bytes | bytearray) or len(body) != tile.width * HASH_SIZE:
            got = len(body) if isinstance(body, bytes | bytearray) else type(body).__name__
            raise TileError(
                f"tile {tile.path} has {got} bytes, expected {tile.width * HASH_SIZE}",
                key=tile.path,
            )
        out[tile] = bytes(body)
    return out


def _hash_range(body: bytes, start: int, end: int) -> bytes:
    hashes = [body[i * HASH_SIZE : (i + 1) * HASH_SIZE] for i in range(start, end)]
    while len(hashes) > 1:
        hashes = [merkle.node_hash(hashes[i], hashes[i + 1]) for i in range(0, len(hashes), 2)]
    return hashes[0]


async def read_hashes(
    size: int,
    coords: Iterable[Coord],
    read_tile: ReadTile,
    known: Mapping[Coord, bytes] | None = None,
) -> dict[Coord, bytes]:
    """Hashes of these perfect subtrees of the tree of ``size``, reading each tile once.

    All needed tiles are read concurrently; a tile of the wrong length is a TileError.
    Wrong contents are not detected here: the proof or root built from them then fails
    to verify against the signed checkpoint.
    """
    wanted = list(dict.fromkeys(coords))
    known = dict(known or {})
    bodies = await _fetch(tiles_needed(size, wanted, known), read_tile)
    out: dict[Coord, bytes] = {}
    for coord in wanted:
        if coord in known:
            out[coord] = known[coord]
            continue
        tile, start, end = tile_for_hash(coord[0], coord[1], size)
        out[coord] = _hash_range(bodies[tile], start, end)
    return out


def edge_coords(size: int) -> list[Coord]:
    """The right-edge perfect subtrees of ``size`` (at most 64 hashes; fold = root).

    A writer may store these hashes with a checkpoint: a reader checks them against the
    signed root (see :func:`cloudstores.tlog.merkle.root_from_hashes`) and passes them
    as ``known``, which saves the right-edge tile reads of every proof at that size.
    """
    return merkle.root_coords(size)


async def root_from_tiles(size: int, read_tile: ReadTile) -> bytes:
    """MTH of the tree of ``size`` leaves, from its tiles."""
    _check_size(size)
    if size == 0:
        return merkle.EMPTY_ROOT
    coords = merkle.root_coords(size)
    hashes = await read_hashes(size, coords, read_tile)
    return merkle.root_from_hashes([hashes[c] for c in coords])


async def inclusion_proof_from_tiles(
    index: int, size: int, read_tile: ReadTile, known: Mapping[Coord, bytes] | None = None
) -> list[bytes]:
    """RFC 6962 inclusion proof of leaf ``index`` in tree ``size``, from tiles."""
    hashes = await read_hashes(size, merkle.inclusion_coords(index, size), read_tile, known)
    return merkle.inclusion_proof(index, size, lambda lv, ix: hashes[(lv, ix)])


async def consistency_proof_from_tiles(
    old: int, new: int, read_tile: ReadTile, known: Mapping[Coord, bytes] | None = None
) -> list[bytes]:
    """RFC 6962 consistency proof from ``old`` to ``new`` leaves, from the tiles of ``new``."""
    coords = merkle.consistency_coords(old, new)
    if not coords:
        return []
    hashes = await read_hashes(new, coords, read_tile, known)
    return merkle.consistency_proof(old, new, lambda lv, ix: hashes[(lv, ix)])


async def build_tiles(
    old_size: int, new_size: int, new_leaf_hashes: Sequence[bytes], read_tile: ReadTile
) -> dict[str, bytes]:
    """The tile bodies to PUT (create-only) when a tree grows from ``old_size`` to ``new_size``.

    ``new_leaf_hashes`` are the leaf hashes of entries ``[old_size, new_size)``;
    ``read_tile`` is asked only for the partial tiles of ``old_size`` (at most one per
    level) whose hashes the new tiles repeat. The result maps path -> body, lower levels
    first; it holds every tile that is new at ``new_size``, full and partial, so that
    size has everything c2sp tlog-tiles asks a log to serve for a checkpoint.
    """
    _check_size(old_size)
    _check_size(new_size)
    if new_size < old_size:
        raise InvalidInputError(f"new size {new_size} is smaller than old size {old_size}")
    if len(new_leaf_hashes) != new_size - old_size:
        raise InvalidInputError(
            f"{len(new_leaf_hashes)} leaf hashes given for {new_size - old_size} new entries"
        )
    for h in new_leaf_hashes:
        if not isinstance(h, bytes | bytearray) or len(h) != HASH_SIZE:
            raise InvalidInputError(f"leaf hashes must be {HASH_SIZE} bytes each")
    # Partial tiles of the old size that the first new tile of each level extends.
    old_partials = [
        TileCoord(lv, (old_size >> (TILE_HEIGHT * lv)) // TILE_WIDTH, w)
        for lv in range(MAX_TILE_LEVEL + 1)
        if (new_size >> (TILE_HEIGHT * lv)) > (old_size >> (TILE_HEIGHT * lv))
        and (w := (old_size >> (TILE_HEIGHT * lv)) % TILE_WIDTH)
    ]
    existing = await _fetch(old_partials, read_tile)
    prefix = {t.level: body for t, body in existing.items()}

    out: dict[str, bytes] = {}
    level, fresh = 0, [bytes(h) for h in new_leaf_hashes]  # new hashes at this level
    while fresh:
        old_count = old_size >> (TILE_HEIGHT * level)
        first_tile = old_count // TILE_WIDTH
        body = prefix.get(level, b"") + b"".join(fresh)
        completed: list[bytes] = []  # roots of tiles that became full: next level's hashes
        for offset in range(0, len(body), TILE_WIDTH * HASH_SIZE):
            chunk = body[offset : offset + TILE_WIDTH * HASH_SIZE]
            width = len(chunk) // HASH_SIZE
            out[tile_path(level, first_tile + offset // (TILE_WIDTH * HASH_SIZE), width)] = chunk
            if width == TILE_WIDTH:
                completed.append(_hash_range(chunk, 0, TILE_WIDTH))
        level, fresh = level + 1, completed
    return out
