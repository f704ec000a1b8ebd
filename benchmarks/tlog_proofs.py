"""Tiles read per Merkle proof at 10k, 100k and 1M entries (c2sp tlog-tiles layout).

    PYTHONPATH=src .venv/bin/python benchmarks/tlog_proofs.py [--sizes 10000 100000 1000000]
                                                              [--samples 3000] [--build 100000]

Counts come from the tile coordinates each proof needs (cloudstores.tlog.tiles.tiles_needed),
which is exactly what inclusion_proof_from_tiles / consistency_proof_from_tiles read
(one GET per distinct tile, checked against a real in-memory tile build of ``--build``
leaves). Two reader modes:

- ``tiles``: nothing but the tiles (a reader that has only the signed checkpoint);
- ``+edge``: the right-edge hashes of the checkpoint's tree size (<= 64 x 32 bytes, stored
  beside the checkpoint and checked against its signed root) are known, so the right-edge
  partial tiles need not be read. For consistency, both checkpoints' edges are known.

Inclusion: every leaf index in a sample (plus the first, last, and tile borders).
Consistency: new size = the size, old size over a sample of [1, size); "cons. pairs":
random pairs old < new <= size (the tiles of the new size).
Bytes are the tile bodies read (32 bytes per hash).
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
if str(REPO / "src") not in sys.path:
    sys.path.insert(0, str(REPO / "src"))

from cloudstores.tlog import merkle, tiles  # noqa: E402


def _cost(
    size: int, coords: list[merkle.Coord], known: dict[merkle.Coord, bytes]
) -> tuple[int, int]:
    needed = tiles.tiles_needed(size, coords, known)
    return len(needed), sum(t.width * merkle.HASH_SIZE for t in needed)


def _edge(size: int) -> dict[merkle.Coord, bytes]:
    return dict.fromkeys(tiles.edge_coords(size), b"")


def measure(size: int, samples: int, rng: random.Random) -> dict[str, tuple[int, float, int]]:
    borders = [0, 1, 255, 256, 65535, 65536, size // 2, size - 257, size - 256, size - 1]
    indices = sorted({i for i in borders if 0 <= i < size} | set(rng.sample(range(size), samples)))
    olds = sorted(
        {o for o in [1, 2, 255, 256, 257, 65536, size // 2, size - 1] if 0 < o < size}
        | set(rng.sample(range(1, size), samples))
    )
    out: dict[str, tuple[int, float, int]] = {}
    edge_new = _edge(size)
    for mode in ("tiles", "+edge"):
        counts, sizes = [], []
        for index in indices:
            known = edge_new if mode == "+edge" else {}
            c, b = _cost(size, merkle.inclusion_coords(index, size), known)
            counts.append(c)
            sizes.append(b)
        out[f"inclusion {mode}"] = (max(counts), statistics.mean(counts), max(sizes))
        counts, sizes = [], []
        for old in olds:
            known = {**_edge(old), **edge_new} if mode == "+edge" else {}
            c, b = _cost(size, merkle.consistency_coords(old, size), known)
            counts.append(c)
            sizes.append(b)
        out[f"consistency {mode}"] = (max(counts), statistics.mean(counts), max(sizes))
        counts, sizes = [], []
        for _ in range(len(olds)):
            new = rng.randint(2, size)
            old = rng.randint(1, new - 1)
            known = {**_edge(old), **_edge(new)} if mode == "+edge" else {}
            c, b = _cost(new, merkle.consistency_coords(old, new), known)
            counts.append(c)
            sizes.append(b)
        out[f"cons. pairs {mode}"] = (max(counts), statistics.mean(counts), max(sizes))
    return out


async def check_against_real_reads(size: int, rng: random.Random) -> None:
    """Build ``size`` leaves of real tiles and check counted reads equal real GETs."""
    store: dict[str, bytes] = {}
    reads: list[str] = []

    async def read(path: str) -> bytes:
        reads.append(path)
        return store[path]

    leaves = [merkle.leaf_hash(i.to_bytes(8, "big")) for i in range(size)]
    store.update(await tiles.build_tiles(0, size, leaves, read))
    root = await tiles.root_from_tiles(size, read)
    for index in rng.sample(range(size), 50):
        reads.clear()
        proof = await tiles.inclusion_proof_from_tiles(index, size, read)
        merkle.verify_inclusion(index, size, leaves[index], proof, root)
        assert len(reads) == _cost(size, merkle.inclusion_coords(index, size), {})[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    parser.add_argument("--samples", type=int, default=3000)
    parser.add_argument("--build", type=int, default=100_000)
    args = parser.parse_args()
    rng = random.Random(14)
    if args.build:
        started = time.perf_counter()
        asyncio.run(check_against_real_reads(args.build, rng))
        print(
            f"real tile build of {args.build:,} leaves: counted reads == GETs "
            f"({time.perf_counter() - started:.1f} s)"
        )
    print(f"{'size':>10}  {'proof':<19} {'max tiles':>9} {'mean':>6} {'max bytes':>10}")
    for size in args.sizes:
        for name, (mx, mean, mb) in measure(size, min(args.samples, size - 1), rng).items():
            print(f"{size:>10,}  {name:<19} {mx:>9} {mean:>6.2f} {mb:>10,}")


if __name__ == "__main__":
    main()
