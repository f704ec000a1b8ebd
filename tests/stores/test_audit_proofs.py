"""Merkle tree of the audit store: tiles, format-2 checkpoints, proofs (on five backends).

* 4 concurrent writers; an inclusion proof for every entry (3,000 on memory/file, 600 on
  the emulators, to keep the suite fast), checked offline against the signed checkpoint;
  consistency between every pair of the checkpoints (about a dozen).
* tiles written through 20% injected faults are complete and consistent (verify reads
  and compares every full tile; proofs verify).
* a changed tile is reported (``bad_tile``) and no proof is built from it; an entry
  changed under a checkpoint is also a ``root_mismatch``; a format-1 checkpoint still
  verifies and the next checkpoint builds the tree from 0.
"""

from __future__ import annotations

import asyncio
import itertools
from dataclasses import replace

import orjson
import pytest

import cloudstores
from cloudstores.stores.audit import (
    AuditOptions,
    AuditStore,
    Checkpoint,
    Ed25519Signer,
    chain,
    note_vkey,
    verify_consistency,
    verify_inclusion,
)
from cloudstores.stores.audit.layout import StreamKeys
from cloudstores.testing import FaultyBucket
from cloudstores.tlog import Ed25519NoteVerifier, open_checkpoint
from cloudstores.tlog.errors import ConsistencyProofError, InclusionProofError

SIGNER = Ed25519Signer.from_bytes(bytes(range(9, 41)))
FAST = cloudstores.RetryConfig(initial_backoff=0.001, max_backoff=0.01, seed=1)


async def _checkpoints(
    audit: AuditStore, bucket: cloudstores.Bucket, stream: str
) -> list[Checkpoint]:
    keys = StreamKeys(audit.workspace, stream)
    sizes = [int(i.key[len(keys.cp_prefix) : -5]) async for i in bucket.list(keys.cp_prefix)]
    return list(await asyncio.gather(*(audit.load_checkpoint(stream, s) for s in sizes)))


async def test_proofs_of_four_writers(bucket: cloudstores.Bucket, backend: str) -> None:
    total = 3000 if backend in ("memory", "file") else 600
    every = total // 12
    options = AuditOptions(checkpoint_every=every, checkpoint_interval=None, max_batch=16)
    stores = [AuditStore(bucket, signer=SIGNER, options=options) for _ in range(4)]

    async def task(w: int, t: int) -> None:
        for i in range(total // 12):
            await stores[w].append("shared", {"w": w, "t": t, "i": i})

    await asyncio.gather(*(task(w, t) for w in range(4) for t in range(3)))
    await asyncio.gather(*(s.close() for s in stores))

    async with AuditStore(bucket, verifier=SIGNER.verifier()) as auditor:
        report = await auditor.verify("shared")
        assert report.ok, report.summary()
        assert report.size == total
        checkpoints = sorted(await _checkpoints(auditor, bucket, "shared"), key=lambda c: c.size)
        assert len(checkpoints) >= 10 and checkpoints[-1].size == total
        assert all(c.root is not None and c.note is not None for c in checkpoints)
        newest = checkpoints[-1]
        entries = {e.seq: e async for e in auditor.read("shared")}
        before = bucket.requests["get"]
        gate = asyncio.Semaphore(64)

        async def prove(seq: int) -> None:
            async with gate:
                proof = await auditor.inclusion_proof("shared", seq, total)
            verify_inclusion(proof, newest, entry=entries[seq], verifier=SIGNER.verifier())

        await asyncio.gather(*(prove(seq) for seq in range(total)))
        # one checkpoint GET + one full tile below 65,536 entries (level-0 tile or none)
        assert bucket.requests["get"] - before <= 2 * total

        for old, new in itertools.combinations(checkpoints, 2):
            proof = await auditor.consistency_proof("shared", old.size, new.size)
            verify_consistency(proof, old, new, verifier=SIGNER.verifier())

    # the signed note opens with standard tooling and the signer's vkey
    note_verifier = Ed25519NoteVerifier.from_vkey(note_vkey(SIGNER) or "")
    assert newest.note is not None
    head, _ = open_checkpoint(newest.note.encode(), [note_verifier])
    assert (head.size, head.root.hex()) == (total, newest.root)


async def test_offline_checks_refuse(bucket: cloudstores.Bucket) -> None:
    options = AuditOptions(checkpoint_every=None, checkpoint_interval=None)
    async with AuditStore(bucket, signer=SIGNER, options=options) as audit:
        entries = await audit.append_many("s", [{"i": i} for i in range(300)])
        small = await audit.checkpoint("s")
        await audit.append_many("s", [{"i": i} for i in range(300, 520)])
        big = await audit.checkpoint("s")
        assert small is not None and big is not None
        proof = await audit.inclusion_proof("s", 7, big.size)
        verify_inclusion(proof, big, entry=entries[7], verifier=SIGNER.verifier())
        with pytest.raises(InclusionProofError):
            verify_inclusion(proof, big, entry=entries[8])
        with pytest.raises(InclusionProofError):
            verify_inclusion(replace(proof, seq=8), big)
        with pytest.raises(InclusionProofError):
            verify_inclusion(proof, small)  # another size
        forged = big.model_copy(update={"root": "00" * 32})
        with pytest.raises(cloudstores.errors.IntegrityError):  # the note no longer fits
            verify_inclusion(proof, forged, verifier=SIGNER.verifier())
        with pytest.raises(InclusionProofError):
            verify_inclusion(proof, forged)  # unchecked checkpoint: the root is wrong
        cons = await audit.consistency_proof("s", small.size, big.size)
        verify_consistency(cons, small, big, verifier=SIGNER.verifier())
        fork = small.model_copy(update={"root": "11" * 32, "note": None})
        with pytest.raises(ConsistencyProofError):  # a fork: another root at that size
            verify_consistency(cons, fork, big)
        text = proof.tlog_proof(big)
        assert text.startswith(b"c2sp.org/tlog-proof@v1\nindex 7\n")
        with pytest.raises(cloudstores.errors.InvalidInputError):
            await audit.inclusion_proof("s", 600, 520)


async def test_tampered_tile_and_entry(bucket: cloudstores.Bucket) -> None:
    options = AuditOptions(checkpoint_every=100, checkpoint_interval=None)
    async with AuditStore(bucket, signer=SIGNER, options=options) as audit:
        for stream in ("tile", "entry"):
            await audit.append_many(stream, [{"i": i} for i in range(300)])
            await audit.checkpoint(stream)
    tile = StreamKeys("default", "tile").tile("tile/0/000")
    body = bytearray((await bucket.get(tile)).data)
    body[40] ^= 1
    await bucket.put(tile, bytes(body), mode="overwrite")
    entry_key = StreamKeys("default", "entry").entry(0)  # the one batch of 256 at 0
    doc = orjson.loads((await bucket.get(entry_key)).data)
    doc["entries"][5]["event"]["i"] = -5
    await bucket.put(entry_key, orjson.dumps(doc), mode="overwrite")

    async with AuditStore(bucket, verifier=SIGNER.verifier()) as auditor:
        report = await auditor.verify("tile")
        assert [p.kind for p in report.problems] == ["bad_tile"], report.summary()
        assert report.first_bad_seq == 0
        with pytest.raises(cloudstores.errors.IntegrityError):
            await auditor.inclusion_proof("tile", 3, 300)
        report = await auditor.verify("entry")
        kinds = {p.kind for p in report.problems}
        assert report.first_bad_seq == 5 and {"bad_hash", "root_mismatch"} <= kinds


async def test_format1_checkpoint_then_tree(bucket: cloudstores.Bucket) -> None:
    """A stream sealed by a format-1 checkpoint verifies; the next checkpoint builds the
    tree from entry 0 and writes its tiles."""
    options = AuditOptions(checkpoint_every=None, checkpoint_interval=None)
    keys = StreamKeys("default", "old")
    async with AuditStore(bucket, signer=SIGNER, options=options) as audit:
        first = await audit.append_many("old", [{"i": i} for i in range(260)])
        body = chain.checkpoint_body(
            workspace="default",
            stream="old",
            size=260,
            head=first[-1].hash,
            time="2026-01-01T00:00:00.000000Z",
            prev=None,
            leaves_start=260,
            leaves=[],
            algorithm="ed25519",
            key_id=SIGNER.key_id,
        )
        data, _ = chain.encode_checkpoint(body, await SIGNER.sign(chain.checkpoint_message(body)))
        await bucket.put(keys.checkpoint(260), data, mode="create")
    async with AuditStore(bucket, verifier=SIGNER.verifier()) as auditor:
        report = await auditor.verify("old")
        assert report.ok and report.last_checkpoint == 260, report.summary()
        with pytest.raises(cloudstores.errors.NotFoundError):
            await auditor.inclusion_proof("old", 0, 260)
    async with AuditStore(bucket, signer=SIGNER, options=options) as audit:
        await audit.append_many("old", [{"i": i} for i in range(260, 300)])
        new = await audit.checkpoint("old")
        assert new is not None and new.root is not None and new.prev is not None
        proof = await audit.inclusion_proof("old", 3, 300)
        verify_inclusion(proof, new, entry=first[3], verifier=SIGNER.verifier())
        assert (await audit.verify("old")).ok


async def test_tiles_through_faults(bucket_url: str) -> None:
    inner = cloudstores.open_bucket(bucket_url)
    flaky = FaultyBucket(inner, before=0.1, after=0.1, seed=14, retry=FAST)
    options = AuditOptions(checkpoint_every=64, checkpoint_interval=None, max_batch=8)
    async with flaky:
        writers = [AuditStore(flaky, signer=SIGNER, options=options) for _ in range(2)]

        async def task(t: int) -> None:
            for i in range(40):
                await writers[t % 2].append("faulty", {"t": t, "i": i})

        await asyncio.gather(*(task(t) for t in range(16)))
        await asyncio.gather(*(w.close() for w in writers))
        assert flaky.injected["after"] + flaky.injected["before"] >= 20
        async with AuditStore(inner, verifier=SIGNER.verifier()) as auditor:
            report = await auditor.verify("faulty")  # every full tile read and compared
            assert report.ok, report.summary()
            newest = await auditor.load_checkpoint("faulty", report.last_checkpoint or 0)
            assert newest.size == 640
            for seq in (0, 255, 256, 511, 600, 639):
                proof = await auditor.inclusion_proof("faulty", seq, newest.size)
                verify_inclusion(proof, newest, verifier=SIGNER.verifier())
            keys = StreamKeys("default", "faulty")
            tiles = [i.key async for i in inner.list(keys.tile_prefix + "tile/")]
            assert len(tiles) == 2  # tile/0/000 and tile/0/001: partial ones are inline


async def test_tile_races_and_growth_steps() -> None:
    """An identical existing tile is success, a different one tampering; the tree grown
    in steps (each from the previous edge) equals the tree grown at once."""
    from cloudstores.stores.audit import tree
    from cloudstores.tlog import merkle

    leaves = [merkle.leaf_hash(i.to_bytes(4, "big")) for i in range(700)]
    at_once, full = await tree.advance(tree.EMPTY, 700, leaves)
    step, tiles = tree.EMPTY, {}
    for end in (1, 255, 256, 300, 511, 700):
        step, new = await tree.advance(step, end, leaves[step.size : end])
        tiles.update(new)
        assert tree.decode_edge(end, tree.encode_edge(step), step.root, key=None) == step
    assert (step.root, step.edge, tiles) == (at_once.root, at_once.edge, full)
    assert at_once.root == merkle.tree_root(leaves) and set(full) == {"tile/0/000", "tile/0/001"}
    async with cloudstores.open_bucket("memory://tile-races") as bucket:
        keys = StreamKeys("default", "t")
        body = full["tile/0/000"]
        await asyncio.gather(*(tree.put_tile(bucket, keys, "tile/0/000", body) for _ in range(4)))
        with pytest.raises(cloudstores.errors.IntegrityError):
            await tree.put_tile(bucket, keys, "tile/0/000", bytes(len(body)))
