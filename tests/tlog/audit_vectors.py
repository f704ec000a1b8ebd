"""The audit store's test vectors (``tests/tlog/vectors/audit.json``): one stream, every
byte the store hashes or signs, deterministic (fixed key, fixed timestamps).

The stream mixes entry formats: entries 0..9 in the legacy formats 1 and 2 (orjson
bytes), then format 3 (RFC 8785), plain and keyed. Events carry the values where the
two encodings differ (``1.0``, ``-0.0``, ``1e21``, UTF-16 key order). Checkpoints
(format 2) seal sizes 100, 256 and 300; the full tile ``tile/0/000`` exists. Given as
data (event, ts, key, format), hashed bytes, leaf hashes, stored objects (bucket keys
-> bytes), roots, proofs, checkpoint messages, signatures and notes, and tampered
variants of the stored objects with the first bad sequence number both verifiers must
report. Written by ``tests/tlog/vectors_gen.py``.
"""

from __future__ import annotations

import base64
import hashlib
from typing import Any

import orjson

from cloudstores.stores.audit import Ed25519Signer, chain, notes, tree
from cloudstores.stores.audit.layout import StreamKeys
from cloudstores.stores.audit.models import CheckpointRef
from cloudstores.tlog import jcs, merkle

WORKSPACE = "vectors"
STREAM = "payments"
SIZE = 300
CHECKPOINTS = (100, 256, 300)
LEGACY = 10
"""Entries below this are formats 1/2; the rest format 3."""


def signer() -> Ed25519Signer:
    seed = hashlib.sha256(b"cloudstores test vector key audit").digest()
    return Ed25519Signer.from_bytes(seed)


def _event(i: int) -> dict[str, Any]:
    event: dict[str, Any] = {"action": "refund", "amount": i / 4, "n": i}
    if i % 7 == 0:
        event.update({"one": 1.0, "neg_zero": -0.0, "big": 1e21, "tiny": 1e-7})
    if i % 11 == 0:
        event.update({"\ufb33": "dalet", "\U0001f600": "grin", "\u00e9": "e"})
    if i % 13 == 0:
        event["exact"] = 9007199254740991
        event["nested"] = {"list": [1.5, None, True, "\u2028"], "z": {}}
    return event


def _ts(i: int) -> str:
    return f"2026-01-02T03:04:{i // 100:02d}.{i % 100:06d}Z"


def _key(i: int) -> str | None:
    return f"order-{i}/\u00e9" if i % 5 == 2 else None


async def build() -> dict[str, Any]:
    sig = signer()
    keys = StreamKeys(WORKSPACE, STREAM)
    objects: dict[str, bytes] = {}
    entries: list[dict[str, Any]] = []
    hashes: list[bytes] = []
    prev = chain.GENESIS
    pending: list[bytes] = []
    first = 0
    for i in range(SIZE):
        fmt = chain.FORMAT_VERSION if i < LEGACY else chain.JCS_VERSION
        event = chain.encode_event(_event(i), 1 << 20, fmt)
        data, digest = chain.build_entry(
            workspace=WORKSPACE,
            stream=STREAM,
            seq=i,
            ts=_ts(i),
            event=event,
            prev=prev,
            key=_key(i),
            entry_format=fmt,
        )
        stored = orjson.loads(data)
        entries.append(
            {
                "seq": i,
                "v": stored["v"],
                "event": _event(i),
                "key": _key(i),
                "ts": _ts(i),
                "prev": prev,
                "hashed": chain.hashed_bytes(stored).decode(),
                "leaf_hash": digest,
            }
        )
        hashes.append(bytes.fromhex(digest))
        prev = digest
        # objects of 1, 2 or 3 entries (group commits), never across a checkpoint size
        pending.append(data)
        if len(pending) == 1 + len(objects) % 3 or i + 1 in CHECKPOINTS or i + 1 == SIZE:
            objects[keys.entry(first)] = chain.encode_object(pending)
            first, pending = i + 1, []
    objects[keys.registry] = b""

    levels = [hashes]
    while len(levels[-1]) > 1:
        row = levels[-1]
        levels.append([merkle.node_hash(row[j], row[j + 1]) for j in range(0, len(row) - 1, 2)])

    def hash_at(level: int, index: int) -> bytes:
        return levels[level][index]

    checkpoints: list[dict[str, Any]] = []
    grown = tree.EMPTY
    link: CheckpointRef | None = None
    start = 0
    for n, size in enumerate(CHECKPOINTS):
        grown, full = await tree.advance(grown, size, hashes[grown.size : size])
        for path, body in full.items():
            objects[keys.tile(path)] = body
        body = chain.checkpoint_body(
            workspace=WORKSPACE,
            stream=STREAM,
            size=size,
            head=hashes[size - 1].hex(),
            time=f"2026-01-02T04:00:0{n}.000000Z",
            prev=link,
            leaves_start=start,
            leaves=[h.hex() for h in hashes[start:size]],
            algorithm=sig.algorithm,
            key_id=sig.key_id,
            root=grown.root.hex(),
        )
        message = chain.checkpoint_message(body)
        signature = await sig.sign(message)
        note = await notes.make_note(sig, WORKSPACE, STREAM, size, grown.root)
        data, cp_hash = chain.encode_checkpoint(
            body, signature, note=note, edge=tree.encode_edge(grown)
        )
        objects[keys.checkpoint(size)] = data
        checkpoints.append(
            {
                "size": size,
                "root": grown.root.hex(),
                "signed_message": message.decode(),
                "signature": base64.b64encode(signature).decode(),
                "note": note,
                "stored": data.decode(),
                "hash": cp_hash,
            }
        )
        link, start = CheckpointRef(size=size, hash=cp_hash), size
    assert grown.root == merkle.tree_root(hashes)

    inclusion = [
        {
            "seq": i,
            "size": size,
            "leaf_hash": hashes[i].hex(),
            "proof": [p.hex() for p in merkle.inclusion_proof(i, size, hash_at)],
            "root": merkle.tree_root(hashes[:size]).hex(),
        }
        for size in CHECKPOINTS
        for i in (0, 7, LEGACY, size // 2, size - 1)
    ]
    consistency = [
        {
            "old_size": a,
            "new_size": b,
            "old_root": merkle.tree_root(hashes[:a]).hex(),
            "new_root": merkle.tree_root(hashes[:b]).hex(),
            "proof": [p.hex() for p in merkle.consistency_proof(a, b, hash_at)],
        }
        for a in CHECKPOINTS
        for b in CHECKPOINTS
        if a < b
    ]
    vkey = notes.vkey(sig)
    return {
        "description": "one audit stream as the store writes it (docs/audit-format.md "
        "section 9): entries 0..9 in formats 1/2, the rest in format 3 (RFC 8785); "
        "objects are bucket keys -> bytes (utf-8 text, or base64 for tiles); "
        "tampered cases replace (or, with null, delete) objects",
        "workspace": WORKSPACE,
        "stream": STREAM,
        "public_key": sig.public_key.hex(),
        "key_id": sig.key_id,
        "vkey": vkey,
        "entries": entries,
        "node_hashes": [
            {
                "left": levels[lv][2 * i].hex(),
                "right": levels[lv][2 * i + 1].hex(),
                "hash": levels[lv + 1][i].hex(),
                "level": lv + 1,
                "index": i,
            }
            for lv, i in ((0, 0), (0, 1), (0, 5), (1, 0), (2, 0), (7, 0))
        ],
        "roots": {str(size): merkle.tree_root(hashes[:size]).hex() for size in CHECKPOINTS},
        "checkpoints": checkpoints,
        "inclusion": inclusion,
        "consistency": consistency,
        "objects": {k: _text(k, v) for k, v in sorted(objects.items())},
        "streams": _tampered(keys, objects, entries),
    }


def _text(key: str, data: bytes) -> str:
    return base64.b64encode(data).decode() if "/tile/" in key else data.decode()


def _object_of(objects: dict[str, bytes], keys: StreamKeys, seq: int) -> tuple[str, int]:
    """The key of the object holding entry ``seq`` and the entry's index in it."""
    for start in range(seq, -1, -1):
        key = keys.entry(start)
        if key in objects:
            return key, seq - start
    raise AssertionError(seq)


def _tampered(
    keys: StreamKeys, objects: dict[str, bytes], entries: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    def replace(seq: int, new: Any) -> dict[str, str | None]:
        """The object holding ``seq`` with that entry's stored bytes ``new(entry)``."""
        key, index = _object_of(objects, keys, seq)
        stored = []
        for i, e in enumerate(orjson.loads(objects[key])["entries"]):
            if i == index:
                stored.append(new(e))
            elif e["v"] == chain.JCS_VERSION:
                stored.append(jcs.dumps(e))
            else:
                stored.append(orjson.dumps(e, option=orjson.OPT_SORT_KEYS))
        return {key: chain.encode_object(stored).decode()}

    def edit(seq: int, change: Any) -> dict[str, str | None]:
        def new(e: dict[str, Any]) -> bytes:
            change(e)
            if e["v"] == chain.JCS_VERSION:
                return jcs.dumps(e)
            return orjson.dumps(e, option=orjson.OPT_SORT_KEYS)

        return replace(seq, new)

    def set_event(value: dict[str, Any]) -> Any:
        return lambda e: e.__setitem__("event", value)

    def orjson_hashed(seq: int) -> dict[str, str | None]:
        """Entry ``seq`` (format 3) re-hashed over orjson bytes: a writer without JCS."""
        e = entries[seq]
        data, _ = chain.build_entry(
            workspace=WORKSPACE,
            stream=STREAM,
            seq=seq,
            ts=e["ts"],
            event=orjson.dumps(e["event"], option=orjson.OPT_SORT_KEYS),
            prev=e["prev"],
            key=e["key"],
        )
        return replace(seq, lambda _: data)

    tile = bytearray(objects[keys.tile("tile/0/000")])
    tile[100] ^= 1
    cp = orjson.loads(objects[keys.checkpoint(256)])
    cp["root"] = "00" * 32
    return [
        {"name": "clean", "changes": {}, "expect": True, "first_bad_seq": None},
        {
            "name": "legacy entry event edited",
            "changes": edit(3, set_event({"action": "none"})),
            "expect": False,
            "first_bad_seq": 3,
        },
        {
            "name": "format-3 entry: float 1.0 replaced by 1.5",
            "changes": edit(77, lambda e: e["event"].__setitem__("one", 1.5)),
            "expect": False,
            "first_bad_seq": 77,
        },
        {
            "name": "format-3 entry hashed over orjson bytes (1.0, -0.0, code point order)",
            "changes": orjson_hashed(154),
            "expect": False,
            "first_bad_seq": 154,
        },
        {
            "name": "format-3 entry relabelled format 1",
            "changes": edit(120, lambda e: e.__setitem__("v", 1)),
            "expect": False,
            "first_bad_seq": 120,
        },
        {
            "name": "entry object deleted",
            "changes": {_object_of(objects, keys, 200)[0]: None},
            "expect": False,
            "first_bad_seq": int(_object_of(objects, keys, 200)[0].rsplit("/", 1)[1][:20]),
        },
        {
            "name": "tile byte flipped",
            "changes": {keys.tile("tile/0/000"): base64.b64encode(bytes(tile)).decode()},
            "expect": False,
            "first_bad_seq": 0,
        },
        {
            "name": "checkpoint root replaced",
            "changes": {keys.checkpoint(256): orjson.dumps(cp).decode()},
            "expect": False,
            "first_bad_seq": 255,
        },
    ]
