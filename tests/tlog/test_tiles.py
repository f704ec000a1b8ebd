"""tlog-tiles layout math, tile building by growth steps, and proofs read from tiles."""

from __future__ import annotations

import random

import pytest

from cloudstores.errors import InvalidInputError
from cloudstores.tlog import merkle, tiles
from cloudstores.tlog.errors import InclusionProofError, TileError
from cloudstores.tlog.tiles import TileCoord
from tests.tlog.brute import MemoryTree, leaves_for, mth


class TileStore:
    """Create-only tile objects in memory, counting reads."""

    def __init__(self) -> None:
        self.objects: dict[str, bytes] = {}
        self.reads: list[str] = []

    async def read(self, path: str) -> bytes:
        self.reads.append(path)
        return self.objects[path]

    def put_all(self, bodies: dict[str, bytes]) -> None:
        for path, body in bodies.items():
            if path in self.objects:
                # create-only: a tile rewritten by another writer must be identical
                assert self.objects[path] == body, path
            self.objects[path] = body

    async def grow(self, old: int, new: int, leaves: list[bytes]) -> dict[str, bytes]:
        bodies = await tiles.build_tiles(old, new, leaves[old:new], self.read)
        self.put_all(bodies)
        return bodies


@pytest.mark.parametrize(
    ("index", "text"),
    [
        (0, "000"),
        (7, "007"),
        (999, "999"),
        (1000, "x001/000"),
        (1234067, "x001/x234/067"),
        (10**9, "x001/x000/x000/000"),
    ],
)
def test_index_encoding_as_the_spec_writes_it(index: int, text: str) -> None:
    assert tiles.encode_index(index) == text


def test_paths() -> None:
    assert tiles.tile_path(0, 1234067) == "tile/0/x001/x234/067"
    assert tiles.tile_path(2, 5, 17) == "tile/2/005.p/17"
    assert tiles.entries_path(1234067, 3) == "tile/entries/x001/x234/067.p/3"
    for coord in [TileCoord(0, 0, 256), TileCoord(3, 1234067, 1), TileCoord(63, 10**6, 255)]:
        assert tiles.parse_tile_path(coord.path) == coord
    for bad in [
        "tile/0/1",
        "tile/00/000",
        "tile/0/000.p/0",
        "tile/0/000.p/256",
        "tile/0/x000/001",
        "tile/0/001/002",
        "tile/64/000",
        "tile/0/000.p/07",
        "/tile/0/000",
        "tile/0/x001",
    ]:
        with pytest.raises(InvalidInputError):
            tiles.parse_tile_path(bad)
    for call in [
        lambda: tiles.tile_path(64, 0),
        lambda: tiles.tile_path(0, -1),
        lambda: tiles.tile_path(0, 0, 0),
        lambda: tiles.tile_path(0, 0, 257),
    ]:
        with pytest.raises(InvalidInputError):
            call()


def test_spec_examples_of_tile_sets() -> None:
    t = tiles.tiles_for_size(70_000)
    level0 = [c for c in t if c.level == 0]
    assert sum(c.full for c in level0) == 273 and [c.width for c in level0 if not c.full] == [112]
    assert [(c.level, c.index, c.width) for c in t if c.level > 0] == [
        (1, 0, 256),
        (1, 1, 17),
        (2, 0, 1),
    ]
    assert tiles.tiles_for_size(256) == [TileCoord(0, 0, 256), TileCoord(1, 0, 1)]
    assert tiles.tiles_for_size(0) == []


async def test_tiles_grown_in_steps_give_the_brute_force_roots_and_proofs() -> None:
    rng = random.Random(14)
    leaves = leaves_for(3000)
    store = TileStore()
    size = 0
    steps = [1, 1, 254, 1, 255, 256, 300, 1, 700]
    while size < 3000:
        step = steps.pop(0) if steps else rng.randint(1, 400)
        new = min(3000, size + step)
        bodies = await store.grow(size, new, leaves)
        # every new tile is one of the size's tiles, and the size's tiles all exist
        assert {tiles.parse_tile_path(p) for p in bodies} <= set(tiles.tiles_for_size(new))
        assert all(c.path in store.objects for c in tiles.tiles_for_size(new))
        size = new
        store.reads.clear()
        assert await tiles.root_from_tiles(size, store.read) == mth(leaves[:size])
        tree = MemoryTree(leaves[:size])
        for index in rng.sample(range(size), min(size, 5)):
            got = await tiles.inclusion_proof_from_tiles(index, size, store.read)
            assert got == merkle.inclusion_proof(index, size, tree.hash_at)
            merkle.verify_inclusion(index, size, leaves[index], got, mth(leaves[:size]))
        for old in rng.sample(range(size + 1), min(size + 1, 5)):
            got = await tiles.consistency_proof_from_tiles(old, size, store.read)
            assert got == merkle.consistency_proof(old, size, tree.hash_at)
            merkle.verify_consistency(old, size, mth(leaves[:old]), mth(leaves[:size]), got)


async def test_one_growth_equals_many() -> None:
    leaves = leaves_for(1500)
    one, many = TileStore(), TileStore()
    await one.grow(0, 1500, leaves)
    size = 0
    for new in [3, 256, 257, 511, 512, 513, 1024, 1499, 1500]:
        await many.grow(size, new, leaves)
        size = new
    assert set(one.objects) <= set(many.objects)
    for path, body in one.objects.items():
        assert many.objects[path] == body


async def test_reads_per_proof_are_bounded_by_levels() -> None:
    # 70,000 leaves: three tile levels; at most two tiles per level (leaf side, right edge).
    n = 70_000
    store = TileStore()
    leaves = leaves_for(n)
    await store.grow(0, n, leaves)
    rng = random.Random(3)
    for index in [0, 1, 255, 256, 65535, 65536, n - 1, *rng.sample(range(n), 20)]:
        store.reads.clear()
        await tiles.inclusion_proof_from_tiles(index, n, store.read)
        assert len(store.reads) == len(set(store.reads)) <= 5
        coords = merkle.inclusion_coords(index, n)
        assert len(tiles.tiles_needed(n, coords)) == len(store.reads)
        # with the right-edge hashes of the checkpoint known: one tile per level
        edge = {c: b"\x00" * 32 for c in tiles.edge_coords(n)}
        assert len(tiles.tiles_needed(n, coords, edge)) <= 3


async def test_bad_tiles_are_integrity_errors() -> None:
    leaves = leaves_for(600)
    store = TileStore()
    await store.grow(0, 600, leaves)
    store.objects["tile/0/002.p/88"] = store.objects["tile/0/002.p/88"][:-1]
    with pytest.raises(TileError):
        await tiles.root_from_tiles(600, store.read)
    # A tile with the right length but wrong bytes gives a proof that does not verify.
    store2 = TileStore()
    await store2.grow(0, 600, leaves)
    body = bytearray(store2.objects["tile/0/000"])
    body[40] ^= 1
    store2.objects["tile/0/000"] = bytes(body)
    proof = await tiles.inclusion_proof_from_tiles(0, 600, store2.read)
    with pytest.raises(InclusionProofError):
        merkle.verify_inclusion(0, 600, leaves[0], proof, mth(leaves))


async def test_build_tiles_validates_before_reading() -> None:
    store = TileStore()
    leaves = leaves_for(4)
    for args in [(3, 2, []), (0, 2, leaves[:1]), (0, 1, [b"x"]), (-1, 1, leaves[:2])]:
        with pytest.raises(InvalidInputError):
            await tiles.build_tiles(*args, store.read)  # type: ignore[arg-type]
    assert store.reads == []
    with pytest.raises(InvalidInputError):
        tiles.tile_for_hash(3, 1, 15)  # subtree 8..16 is not complete at size 15
