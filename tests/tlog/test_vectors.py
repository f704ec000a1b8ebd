"""Committed test vectors: regenerated identically, judged by the Python library, and by the
stdlib-only Node verifier (verifiers/js), which must agree on every case."""

from __future__ import annotations

import base64
import json
import shutil
import subprocess
import uuid
from pathlib import Path
from typing import Any

import orjson
import pytest

import cloudstores
from cloudstores.errors import IntegrityError, InvalidInputError, SerializationError
from cloudstores.stores.audit import AuditStore, Ed25519Verifier, chain
from cloudstores.stores.audit.notes import check_note
from cloudstores.stores.audit.records import StoredEntry
from cloudstores.tlog import jcs, merkle, tiles
from cloudstores.tlog.checkpoint import open_checkpoint
from cloudstores.tlog.cosignature import CosignatureVerifier, check_witnesses
from cloudstores.tlog.note import Ed25519NoteVerifier, open_note
from cloudstores.tlog.proof import verify_tlog_proof
from tests.tlog.vectors_gen import VECTORS, generate, leaf_data

REPO = Path(__file__).resolve().parents[2]
NODE = shutil.which("node")


def test_vectors_are_reproducible() -> None:
    generated = generate()
    assert sorted(p.name for p in VECTORS.glob("*.json")) == sorted(generated)
    for name, text in generated.items():
        assert (VECTORS / name).read_text(encoding="utf-8") == text, (
            f"{name} differs: run PYTHONPATH=src python -m tests.tlog.vectors_gen"
        )


def _ok(fn: Any) -> bool:
    try:
        return fn() is not False
    except (IntegrityError, InvalidInputError, SerializationError, ValueError):
        return False


def _h(s: str) -> bytes:
    return bytes.fromhex(s)


async def _tree_ok(doc: dict[str, Any], case: dict[str, Any]) -> bool:
    bodies = {p: base64.b64decode(b) for p, b in doc["tiles"].items()}
    tamper = case.get("tamper")
    if tamper:
        body = bytearray(bodies[tamper["path"]])
        if "byte" in tamper:
            body[tamper["byte"]] ^= 1
        if "truncate" in tamper:
            body = body[: tamper["truncate"]]
        bodies[tamper["path"]] = bytes(body)

    async def read(path: str) -> bytes:
        return bodies[path]

    size = case["size"]
    if sorted(bodies) != sorted(t.path for t in tiles.tiles_for_size(size)):
        return False
    level0 = b"".join(bodies[t.path] for t in tiles.tiles_for_size(size) if t.level == 0)
    if level0 != b"".join(merkle.leaf_hash(leaf_data(i)) for i in range(size)):
        return False
    try:
        return await tiles.root_from_tiles(size, read) == _h(case["root"])
    except IntegrityError:
        return False


def _checkpoint_ok(doc: dict[str, Any], case: dict[str, Any]) -> bool:
    policy = doc["policy"]
    logs = [Ed25519NoteVerifier.from_vkey(v) for v in policy["log_vkeys"]]
    witnesses = [CosignatureVerifier.from_vkey(v) for v in policy["witness_vkeys"]]
    data = case["note"].encode()
    cp, _ = open_checkpoint(data, logs, origin=policy["origin"])
    check_witnesses(data, witnesses, case["min_witnesses"])
    want = case.get("checkpoint")
    return want is None or (cp.origin, cp.size, cp.root.hex()) == (
        want["origin"],
        want["size"],
        want["root"],
    )


def _tlog_proof_ok(doc: dict[str, Any], case: dict[str, Any]) -> bool:
    policy = doc["policy"]
    verify_tlog_proof(
        case["proof"].encode(),
        _h(case["leaf_hash"]),
        [Ed25519NoteVerifier.from_vkey(v) for v in policy["log_vkeys"]],
        origin=policy["origin"],
        witnesses=[CosignatureVerifier.from_vkey(v) for v in policy["witness_vkeys"]],
        required_witnesses=case["min_witnesses"],
    )
    return True


async def python_verdicts() -> dict[str, tuple[bool, bool]]:
    """id -> (verdict, expect), with the same ids as verify.mjs prints."""
    out: dict[str, tuple[bool, bool]] = {}
    docs = {p.name: json.loads(p.read_text(encoding="utf-8")) for p in VECTORS.glob("*.json")}
    for i, c in enumerate(docs["jcs.json"]["cases"]):
        canonical = c["canonical"].encode()
        out[f"jcs.json/cases/{i}"] = (
            _ok(
                lambda c=c, b=canonical: (
                    jcs.dumps(c["value"]) == b and merkle.leaf_hash(b).hex() == c["leaf_hash"]
                )
            ),
            c["expect"],
        )
    m = docs["merkle.json"]
    leaves = [merkle.leaf_hash(d.encode()) for d in m["leaf_data"]]
    out["merkle.json/leaf_hashes"] = ([h.hex() for h in leaves] == m["leaf_hashes"], True)
    out["merkle.json/leaf_data_is_jcs"] = (
        all(jcs.dumps(json.loads(d)) == d.encode() for d in m["leaf_data"]),
        True,
    )
    out["merkle.json/roots"] = (
        [merkle.tree_root(leaves[:n]).hex() for n in range(len(m["roots"]))] == m["roots"],
        True,
    )
    for i, c in enumerate(m["inclusion"]):
        out[f"merkle.json/inclusion/{i}"] = (
            _ok(
                lambda c=c: merkle.verify_inclusion(
                    c["index"],
                    c["size"],
                    _h(c["leaf_hash"]),
                    [_h(p) for p in c["proof"]],
                    _h(c["root"]),
                )
            ),
            c["expect"],
        )
    for i, c in enumerate(m["consistency"]):
        out[f"merkle.json/consistency/{i}"] = (
            _ok(
                lambda c=c: merkle.verify_consistency(
                    c["old_size"],
                    c["new_size"],
                    _h(c["old_root"]),
                    _h(c["new_root"]),
                    [_h(p) for p in c["proof"]],
                )
            ),
            c["expect"],
        )
    t = docs["tiles.json"]
    for i, c in enumerate(t["paths"]):
        out[f"tiles.json/paths/{i}"] = (
            tiles.tile_path(c["level"], c["index"], c["width"]) == c["path"],
            True,
        )
    for i, c in enumerate(t["tile_sets"]):
        paths = [x.path for x in tiles.tiles_for_size(c["size"])]
        if "partial" in c:
            got = [x.path for x in tiles.tiles_for_size(c["size"]) if not x.full or x.level > 0]
            out[f"tiles.json/tile_sets/{i}"] = (got == c["partial"], True)
        else:
            out[f"tiles.json/tile_sets/{i}"] = (paths == c["tiles"], True)
    for i, c in enumerate(t["trees"]):
        out[f"tiles.json/trees/{i}"] = (await _tree_ok(t, c), c["expect"])
    n = docs["notes.json"]
    for i, c in enumerate(n["checkpoints"]):
        out[f"notes.json/checkpoints/{i}"] = (_ok(lambda c=c: _checkpoint_ok(n, c)), c["expect"])
    for i, c in enumerate(n["tlog_proofs"]):
        out[f"notes.json/tlog_proofs/{i}"] = (_ok(lambda c=c: _tlog_proof_ok(n, c)), c["expect"])
    for i, c in enumerate(n["plain_notes"]):
        out[f"notes.json/plain_notes/{i}"] = (
            _ok(
                lambda c=c: open_note(
                    c["note"].encode(), [Ed25519NoteVerifier.from_vkey(c["vkey"])]
                )
            ),
            c["expect"],
        )
    out.update(await _audit_verdicts(docs["audit.json"]))
    return out


def _audit_objects(doc: dict[str, Any], changes: dict[str, str | None]) -> dict[str, bytes]:
    def decode(key: str, text: str) -> bytes:
        return base64.b64decode(text) if "/tile/" in key else text.encode()

    objects = {k: decode(k, v) for k, v in doc["objects"].items()}
    for k, v in changes.items():
        if v is None:
            objects.pop(k, None)
        else:
            objects[k] = decode(k, v)
    return objects


async def audit_stream_report(doc: dict[str, Any], changes: dict[str, str | None]) -> Any:
    """``AuditStore.verify`` of the vector stream (with ``changes``) in a memory bucket."""
    async with cloudstores.open_bucket(f"memory://vectors-{uuid.uuid4().hex}") as bucket:
        for key, data in _audit_objects(doc, changes).items():
            await bucket.put(key, data, mode="create")
        verifier = Ed25519Verifier.from_bytes(bytes.fromhex(doc["public_key"]))
        async with AuditStore(bucket, workspace=doc["workspace"], verifier=verifier) as audit:
            return await audit.verify(doc["stream"])


async def _audit_verdicts(doc: dict[str, Any]) -> dict[str, tuple[bool, bool]]:
    out: dict[str, tuple[bool, bool]] = {}
    objects = _audit_objects(doc, {})
    prefix = f"ws/{doc['workspace']}/audit/{doc['stream']}/e/"
    stored: dict[int, StoredEntry] = {}
    for key in sorted(k for k in objects if k.startswith(prefix)):
        for entry in chain.parse_object(objects[key], key=key):
            stored[entry["seq"]] = entry

    def entry_ok(c: dict[str, Any]) -> bool:
        # rebuilt from the inputs, in the entry's format: same hashed bytes, same hash
        fmt = chain.JCS_VERSION if c["v"] == chain.JCS_VERSION else chain.FORMAT_VERSION
        data, digest = chain.build_entry(
            workspace=doc["workspace"],
            stream=doc["stream"],
            seq=c["seq"],
            ts=c["ts"],
            event=chain.encode_event(c["event"], 1 << 20, fmt),
            prev=c["prev"],
            key=c["key"],
            entry_format=fmt,
        )
        entry = stored[c["seq"]]
        return (
            digest == c["leaf_hash"] == entry["hash"] == chain.recompute_hash(entry)
            and chain.hashed_bytes(entry).decode() == c["hashed"]
            and merkle.leaf_hash(c["hashed"].encode()).hex() == c["leaf_hash"]
            and entry["v"] == c["v"]
            and orjson.loads(data) == entry
        )

    for i, c in enumerate(doc["entries"]):
        out[f"audit.json/entries/{i}"] = (_ok(lambda c=c: entry_ok(c)), True)
    hashes = [_h(c["leaf_hash"]) for c in doc["entries"]]
    for i, c in enumerate(doc["node_hashes"]):
        # node = SHA-256(0x01 || left || right), and it is the tree's node there
        span = 2 ** c["level"]
        below = hashes[c["index"] * span : (c["index"] + 1) * span]
        out[f"audit.json/node_hashes/{i}"] = (
            merkle.node_hash(_h(c["left"]), _h(c["right"])).hex() == c["hash"]
            and merkle.tree_root(below).hex() == c["hash"],
            True,
        )
    out["audit.json/roots"] = (
        all(merkle.tree_root(hashes[: int(n)]).hex() == r for n, r in doc["roots"].items()),
        True,
    )
    for i, c in enumerate(doc["inclusion"]):
        out[f"audit.json/inclusion/{i}"] = (
            _ok(
                lambda c=c: merkle.verify_inclusion(
                    c["seq"],
                    c["size"],
                    _h(c["leaf_hash"]),
                    [_h(p) for p in c["proof"]],
                    _h(c["root"]),
                )
            ),
            True,
        )
    for i, c in enumerate(doc["consistency"]):
        out[f"audit.json/consistency/{i}"] = (
            _ok(
                lambda c=c: merkle.verify_consistency(
                    c["old_size"],
                    c["new_size"],
                    _h(c["old_root"]),
                    _h(c["new_root"]),
                    [_h(p) for p in c["proof"]],
                )
            ),
            True,
        )
    verifier = Ed25519Verifier.from_bytes(bytes.fromhex(doc["public_key"]))

    def checkpoint_ok(c: dict[str, Any]) -> bool:
        cp, message = chain.parse_checkpoint(c["stored"].encode())
        check_note(
            c["note"],
            workspace=doc["workspace"],
            stream=doc["stream"],
            size=c["size"],
            root=_h(c["root"]),
            verifier=verifier,
        )
        return (
            message.decode() == c["signed_message"]
            and cp.signature == c["signature"]
            and cp.root == c["root"]
            and cp.hash == c["hash"]
            and verifier.verify(
                message,
                base64.b64decode(c["signature"]),
                algorithm="ed25519",
                key_id=doc["key_id"],
            )
        )

    for i, c in enumerate(doc["checkpoints"]):
        out[f"audit.json/checkpoints/{i}"] = (_ok(lambda c=c: checkpoint_ok(c)), True)
    for i, c in enumerate(doc["streams"]):
        report = await audit_stream_report(doc, c["changes"])
        out[f"audit.json/streams/{i}"] = (report.ok, c["expect"])
        out[f"audit.json/streams/{i}/first_bad_seq"] = (
            report.first_bad_seq == c["first_bad_seq"],
            True,
        )
    return out


async def test_python_verdicts_match_expectations() -> None:
    verdicts = await python_verdicts()
    wrong = {k: v for k, v in verdicts.items() if v[0] != v[1]}
    assert wrong == {}
    assert sum(1 for _, expect in verdicts.values() if not expect) >= 40  # tampered cases


@pytest.mark.skipif(NODE is None, reason="node is not installed")
async def test_node_verifier_agrees_on_every_case() -> None:
    assert NODE is not None
    run = subprocess.run(  # noqa: ASYNC221 (a test: blocking here is fine)
        [NODE, "verifiers/js/verify.mjs", "tests/tlog/vectors"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )
    node = {r["id"]: (r["verdict"], r["expect"]) for r in map(json.loads, run.stdout.splitlines())}
    python = await python_verdicts()
    assert set(node) == set(python)
    assert {k for k in node if node[k][0] != python[k][0]} == set()
    assert run.returncode == 0, run.stderr


@pytest.mark.skipif(NODE is None, reason="node is not installed")
def test_node_unit_runner() -> None:
    assert NODE is not None
    run = subprocess.run(
        [NODE, "verifiers/js/test.mjs"], cwd=REPO, capture_output=True, text=True, timeout=120
    )
    assert run.returncode == 0, run.stdout + run.stderr
