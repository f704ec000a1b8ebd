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

``--store``: the audit store's own proof code (``AuditStore.inclusion_proof`` /
``consistency_proof`` via ``stores/audit/proofs.py``) over a memory bucket holding the
full tiles and a format-2 checkpoint (partial tiles inline) of each size, built from
synthetic leaf hashes; prints objects GET and bytes read per proof (checkpoint included).

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


class _Counting:
    """A bucket stand-in that counts GETs and the bytes they return."""

    def __init__(self, inner: object) -> None:
        self.inner = inner
        self.gets = 0
        self.bytes = 0

    async def get(self, key: str) -> object:
        obj = await self.inner.get(key)  # type: ignore[attr-defined]
        self.gets += 1
        self.bytes += len(obj.data)
        return obj


async def _store_layout(size: int, checkpoints: list[int]) -> tuple[object, object]:
    """A memory bucket with the tiles of ``size`` leaves and a checkpoint at each size."""
    import cloudstores
    from cloudstores.stores.audit import Ed25519Signer, chain, notes, tree
    from cloudstores.stores.audit.layout import StreamKeys

    signer = Ed25519Signer.from_bytes(bytes(32))
    bucket = cloudstores.open_bucket(f"memory://tlog-bench-{size}")
    await bucket.open()
    keys = StreamKeys("default", "bench")
    current = tree.EMPTY
    for cp in sorted(set(checkpoints)):
        while current.size < cp:
            end = min(cp, current.size + 65_536)
            leaves = [merkle.leaf_hash(i.to_bytes(8, "big")) for i in range(current.size, end)]
            current, full = await tree.advance(current, end, leaves)
            for path, body in full.items():
                await bucket.put(keys.tile(path), body, mode="create")
        body = chain.checkpoint_body(
            workspace="default",
            stream="bench",
            size=cp,
            head="0" * 64,
            time="2026-01-01T00:00:00.000000Z",
            prev=None,
            leaves_start=cp,
            leaves=[],
            algorithm="ed25519",
            key_id=signer.key_id,
            root=current.root.hex(),
        )
        note = await notes.make_note(signer, "default", "bench", cp, current.root)
        data, _ = chain.encode_checkpoint(
            body,
            await signer.sign(chain.checkpoint_message(body)),
            note=note,
            edge=tree.encode_edge(current),
        )
        await bucket.put(keys.checkpoint(cp), data, mode="create")
    return bucket, keys


async def measure_store(
    size: int, samples: int, rng: random.Random
) -> dict[str, tuple[int, float, int]]:
    from cloudstores.stores.audit import proofs

    olds = sorted(
        {1, 255, 256, 65_536 % size or 1, size // 2} | set(rng.sample(range(1, size), 40))
    )
    bucket, keys = await _store_layout(size, [*olds, size])
    counting = _Counting(bucket)
    out: dict[str, tuple[int, float, int]] = {}
    gets, sizes = [], []
    for index in sorted(set(rng.sample(range(size), samples)) | {0, size - 1, size // 2}):
        counting.gets = counting.bytes = 0
        _, grown = await proofs.load_tree(counting, keys, size)  # type: ignore[arg-type]
        await proofs.build_inclusion(counting, keys, "default", index, grown)  # type: ignore[arg-type]
        gets.append(counting.gets)
        sizes.append(counting.bytes)
    out["inclusion (store)"] = (max(gets), statistics.mean(gets), max(sizes))
    gets, sizes = [], []
    for old in olds:
        counting.gets = counting.bytes = 0
        _, grown = await proofs.load_tree(counting, keys, size)  # type: ignore[arg-type]
        await proofs.build_consistency(counting, keys, "default", old, grown)  # type: ignore[arg-type]
        gets.append(counting.gets)
        sizes.append(counting.bytes)
    out["consistency (store)"] = (max(gets), statistics.mean(gets), max(sizes))
    gets, sizes = [], []
    cps = sorted(olds)
    for _ in range(40):
        old, new = sorted(rng.sample(cps, 2))
        counting.gets = counting.bytes = 0
        _, grown = await proofs.load_tree(counting, keys, new)  # type: ignore[arg-type]
        await proofs.build_consistency(counting, keys, "default", old, grown)  # type: ignore[arg-type]
        gets.append(counting.gets)
        sizes.append(counting.bytes)
    out["cons. pairs (store)"] = (max(gets), statistics.mean(gets), max(sizes))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    parser.add_argument("--samples", type=int, default=3000)
    parser.add_argument("--build", type=int, default=100_000)
    parser.add_argument("--store", action="store_true", help="measure the audit store's proofs")
    args = parser.parse_args()
    rng = random.Random(14)
    if args.store:
        print(f"{'size':>10}  {'proof':<21} {'max GETs':>8} {'mean':>6} {'max bytes':>10}")
        for size in args.sizes:
            started = time.perf_counter()
            result = asyncio.run(measure_store(size, min(args.samples, size - 1), rng))
            for name, (mx, mean, mb) in result.items():
                print(f"{size:>10,}  {name:<21} {mx:>8} {mean:>6.2f} {mb:>10,}")
            print(f"{'':>10}  (built and measured in {time.perf_counter() - started:.1f} s)")
        return
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
