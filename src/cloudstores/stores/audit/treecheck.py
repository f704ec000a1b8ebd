"""The Merkle part of ``verify``: roots, notes and tiles against the entries read.

After the entries are walked (their hashes recomputed and chained), the tree is rebuilt
from them, checkpoint by checkpoint in size order (``tree.advance``: no request):

* each format-2 checkpoint's ``root`` must be the root of entries ``[0, size)``
  (``root_mismatch``; an entry that is missing or bad below it also makes its root
  unverifiable, which is reported the same way), and its signed note, when present,
  must state that tree head under a trusted key;
* the stored full tiles (one LIST of ``{stream}/tile/``, one GET per tile: about one
  per 256 entries) must equal the tiles rebuilt up to the newest format-2 checkpoint
  (``bad_tile``: changed, or missing, which would make proofs fail).
"""

from __future__ import annotations

from collections.abc import Callable

from cloudstores.errors import IntegrityError, InvalidInputError, NotFoundError
from cloudstores.stores.audit import notes, tree
from cloudstores.stores.audit.layout import StreamKeys
from cloudstores.stores.audit.models import Checkpoint, ProblemKind
from cloudstores.stores.audit.signing import Verifier
from cloudstores.stores.audit.state import StoreContext
from cloudstores.tlog import tiles

__all__ = ["check_trees"]

AddProblem = Callable[..., None]
"""``problems.add(kind, seq, detail, key=, checkpoint=)`` of ``verify``."""


async def check_trees(
    ctx: StoreContext,
    keys: StreamKeys,
    checkpoints: list[Checkpoint],
    leaf_at: Callable[[int], str | None],
    verifier: Verifier | None,
    add: AddProblem,
) -> None:
    """Check every format-2 checkpoint of ``checkpoints`` and the stored tiles."""
    current = tree.EMPTY
    expected: dict[str, bytes] = {}
    broken: int | None = None  # first leaf that is unknown (bad or missing entry)
    for cp in sorted((c for c in checkpoints if c.root is not None), key=lambda c: c.size):
        assert cp.root is not None
        key = keys.checkpoint(cp.size)

        def report(kind: ProblemKind, detail: str, *, size: int = cp.size, at: str = key) -> None:
            add(kind, size - 1, f"checkpoint {size}: {detail}", key=at, checkpoint=size)

        if broken is None and cp.size > current.size:
            leaves: list[bytes] = []
            for seq in range(current.size, cp.size):
                digest = leaf_at(seq)
                if digest is None:
                    broken = seq
                    break
                leaves.append(bytes.fromhex(digest))
            else:
                current, full = await tree.advance(current, cp.size, leaves)
                expected.update(full)
        if broken is not None and broken < cp.size:
            report("root_mismatch", f"entry {broken} is missing or bad: the root cannot hold")
        elif current.size == cp.size and current.root.hex() != cp.root:
            report("root_mismatch", "its Merkle root is not the root of the entries")
        if cp.note is not None:
            try:
                notes.check_note(
                    cp.note,
                    workspace=ctx.workspace,
                    stream=keys.stream,
                    size=cp.size,
                    root=bytes.fromhex(cp.root),
                    verifier=verifier,
                )
            except IntegrityError as exc:
                report("root_mismatch", exc.message)
    await _check_tiles(ctx, keys, expected, add)


async def _check_tiles(
    ctx: StoreContext, keys: StreamKeys, expected: dict[str, bytes], add: AddProblem
) -> None:
    """The stored full tiles against the rebuilt ones (LIST, then a GET per tile)."""
    prefix = keys.tile_prefix + "tile/"
    seen: set[str] = set()
    async for info in ctx.bucket.list(prefix):
        path = info.key[len(keys.tile_prefix) :]
        want = expected.get(path)
        if want is None:
            try:
                tiles.parse_tile_path(path)
            except InvalidInputError:
                add("bad_tile", 0, f"stray key {info.key!r} among tiles", key=info.key)
            continue  # beyond the newest checkpoint: not yet sealed, not checked
        seen.add(path)
        try:
            data = (await ctx.bucket.get(info.key)).data
        except NotFoundError:
            seen.discard(path)
            continue
        if data != want:
            add(
                "bad_tile", _first_leaf(path), f"tile {path} is not the entries' tile", key=info.key
            )
    for path in sorted(set(expected) - seen, key=_first_leaf):
        add("bad_tile", _first_leaf(path), f"tile {path} is missing", key=keys.tile(path))


def _first_leaf(path: str) -> int:
    coord = tiles.parse_tile_path(path)
    return coord.index * tiles.TILE_WIDTH << (tiles.TILE_HEIGHT * coord.level)
