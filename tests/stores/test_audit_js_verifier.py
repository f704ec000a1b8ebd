"""The Node verifier (verifiers/js/log.mjs) reads logs the Python audit store wrote to a
file:// bucket and agrees with ``AuditStore.verify`` on clean and tampered streams:
same verdict, same first bad sequence number. Events carry floats (``1.0``, ``-0.0``)
and non-ASCII keys whose RFC 8785 order differs from code point order; the ``mixed``
stream starts in the legacy formats 1 and 2 and goes on in format 3."""

from __future__ import annotations

import asyncio
import json
import shutil
import subprocess
from pathlib import Path

import orjson
import pytest

import cloudstores
from cloudstores.stores.audit import AuditOptions, AuditStore, Ed25519Signer, chain, note_vkey
from cloudstores.stores.audit.layout import StreamKeys
from cloudstores.tlog import jcs

NODE = shutil.which("node")
LOG_MJS = Path(__file__).resolve().parents[2] / "verifiers" / "js" / "log.mjs"
SIGNER = Ed25519Signer.from_bytes(bytes(range(5, 37)))
OTHER = Ed25519Signer.from_bytes(bytes(range(6, 38)))
SIZE = 300
pytestmark = pytest.mark.skipif(NODE is None, reason="node is not installed")


async def _data(bucket: cloudstores.Bucket, key: str) -> bytes:
    return (await bucket.get(key)).data


async def _edit_entry(bucket: cloudstores.Bucket, k: StreamKeys, seq: int, rehash: bool) -> None:
    doc = orjson.loads(await _data(bucket, k.entry(seq)))
    [entry] = doc["entries"]
    entry["event"]["msg"] = "edited"
    if rehash:
        data, _ = chain.build_entry(
            workspace=entry["ws"],
            stream=entry["stream"],
            seq=seq,
            ts=entry["ts"],
            event=jcs.dumps(entry["event"]),
            prev=entry["prev"],
        )
        await bucket.put(k.entry(seq), chain.encode_object([data]), mode="overwrite")
    else:
        await bucket.put(k.entry(seq), orjson.dumps(doc), mode="overwrite")


async def flip(bucket: cloudstores.Bucket, k: StreamKeys) -> None:
    await _edit_entry(bucket, k, 42, rehash=False)


async def rehash_last(bucket: cloudstores.Bucket, k: StreamKeys) -> None:
    """Entry 299 edited and re-hashed: no link breaks; the checkpoint and root do."""
    await _edit_entry(bucket, k, SIZE - 1, rehash=True)


async def orjson_v3(bucket: cloudstores.Bucket, k: StreamKeys) -> None:
    """Entry 77 re-written as format 3 but hashed over orjson bytes (``1.0``, ``-0.0``,
    code point key order), as a writer without RFC 8785 would: both must refuse it."""
    doc = orjson.loads(await _data(bucket, k.entry(77)))
    [entry] = doc["entries"]
    data, _ = chain.build_entry(
        workspace=entry["ws"],
        stream=entry["stream"],
        seq=77,
        ts=entry["ts"],
        event=orjson.dumps({**entry["event"], "f": 1.0, "z": -0.0}, option=orjson.OPT_SORT_KEYS),
        prev=entry["prev"],
    )
    await bucket.put(k.entry(77), chain.encode_object([data]), mode="overwrite")


async def delete(bucket: cloudstores.Bucket, k: StreamKeys) -> None:
    await bucket.delete(k.entry(42))


async def tile(bucket: cloudstores.Bucket, k: StreamKeys) -> None:
    body = bytearray(await _data(bucket, k.tile("tile/0/000")))
    body[100] ^= 1
    await bucket.put(k.tile("tile/0/000"), bytes(body), mode="overwrite")


async def resign(bucket: cloudstores.Bucket, k: StreamKeys) -> None:
    doc = orjson.loads(await _data(bucket, k.checkpoint(SIZE)))
    for name in ("signature", "note", "edge"):
        doc.pop(name)
    doc["key_id"] = OTHER.key_id
    signature = await OTHER.sign(chain.checkpoint_message(doc))
    data, _ = chain.encode_checkpoint(doc, signature, note=None, edge=[])
    await bucket.put(k.checkpoint(SIZE), data, mode="overwrite")


async def forged_root(bucket: cloudstores.Bucket, k: StreamKeys) -> None:
    """The root (and edge) replaced, the note kept: the JSON signature fails."""
    doc = orjson.loads(await _data(bucket, k.checkpoint(SIZE)))
    doc["root"] = "00" * 32
    await bucket.put(k.checkpoint(SIZE), orjson.dumps(doc), mode="overwrite")


CASES = {
    "clean": None,
    "keyed": None,  # clean too, every other entry appended with a unique key
    "mixed": None,  # clean too: formats 1 and 2, then 3 (see LEGACY)
    "orjson_v3": orjson_v3,
    "flip": flip,
    "rehash_last": rehash_last,
    "delete": delete,
    "tile": tile,
    "resign": resign,
    "forged_root": forged_root,
}


LEGACY = 150
"""The ``mixed`` stream's first entries, written in the legacy formats."""


def _event(i: int) -> dict[str, object]:
    return {
        "i": i,
        "msg": f"event {i}",
        "x": 0.5,
        "f": 1.0,
        "z": -0.0,
        "\ufb33": i,
        "\U0001f600": 1,
    }


def _key(name: str, i: int) -> str | None:
    return f"key-{i}" if name in ("keyed", "mixed") and i % 2 else None


async def test_node_agrees_with_python(tmp_path: Path) -> None:
    options = AuditOptions(checkpoint_every=100, checkpoint_interval=None, max_batch=1)
    legacy = AuditOptions(
        checkpoint_every=100, checkpoint_interval=None, max_batch=1, entry_format=1
    )
    async with cloudstores.open_bucket(f"file://{tmp_path}?fsync=false") as bucket:
        async with AuditStore(bucket, signer=SIGNER, options=legacy) as old:
            for i in range(LEGACY):
                await old.append("mixed", _event(i), key=_key("mixed", i))
        async with AuditStore(bucket, signer=SIGNER, options=options) as audit:
            for name in CASES:
                for i in range(LEGACY if name == "mixed" else 0, SIZE):
                    await audit.append(name, _event(i), key=_key(name, i))
        await asyncio.gather(
            *(fn(bucket, StreamKeys("default", n)) for n, fn in CASES.items() if fn is not None)
        )
        python = {}
        async with AuditStore(bucket, verifier=SIGNER.verifier()) as auditor:
            for name in CASES:
                report = await auditor.verify(name)
                python[name] = (report.ok, report.first_bad_seq)
    vkey = note_vkey(SIGNER)
    assert vkey is not None
    node = {}
    for name in CASES:
        run = await asyncio.to_thread(
            subprocess.run,
            [str(NODE), str(LOG_MJS), f"file://{tmp_path}", "default", name, vkey],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert run.returncode in (0, 1), run.stderr
        report = json.loads(run.stdout)
        node[name] = (report["ok"], report["first_bad_seq"])
    clean = ("clean", "keyed", "mixed")
    assert all(python[name] == (True, None) for name in clean)
    assert all(not ok for name, (ok, _) in python.items() if name not in clean)
    assert python["orjson_v3"] == (False, 77)
    assert node == python
