"""Canonical bytes and hashes of audit entries, entry objects and checkpoints.

An entry is hashed as ``sha256(0x00 || canonical JSON)`` (the RFC 6962 leaf hash) of::

    {"event": {...}, "prev": "<hex>", "seq": n, "stream": "s", "ts": "...Z", "v": 3, "ws": "w"}

The entry format is per entry, named by ``v``:

- **3** (what new entries are): canonical JSON is RFC 8785 (``cloudstores.tlog.jcs``),
  and an entry appended with a unique key (``append(..., key=)``) carries ``"key"`` too;
- **1** (legacy, unkeyed) and **2** (legacy, keyed: format 1 plus ``"key"``): canonical
  JSON is orjson with sorted keys and no whitespace (``cloudstores.codec``), which differs
  from RFC 8785 on floats such as ``1.0`` and ``-0.0`` and on some non-ASCII key orders.

The stored entry is the hashed object plus ``"hash"``, written with the same encoder.
An entry object (one key of the stream) is ``{"entries": [entry, ...], "v": 1}`` with
consecutive sequence numbers; one object may hold entries of several formats.

A checkpoint's signed message is ``b"cloudstores-audit-checkpoint/v1\\n"`` followed by
the canonical JSON of every field but ``signature`` (and, in format 2, but ``note`` and
``edge``: format 2 adds the Merkle ``root`` to the signed fields, and stores the tree
head again as a C2SP signed note and the partial tiles as ``edge``, see
``stores/audit/tree.py`` and ``notes.py``); its own hash (what the next
checkpoint's ``prev`` names) is ``sha256(0x02 || canonical JSON of the stored object)``,
0x02 keeping it apart from leaf (0x00) and node (0x01) hashes.
"""

from __future__ import annotations

import base64
import hashlib
from datetime import UTC, datetime
from typing import Any, cast

import orjson

from cloudstores import codec
from cloudstores.errors import IntegrityError, InvalidInputError, SerializationError
from cloudstores.stores.audit import tree
from cloudstores.stores.audit.models import AuditEntry, Checkpoint, CheckpointRef
from cloudstores.stores.audit.records import CheckpointBody, StoredCheckpoint, StoredEntry
from cloudstores.tlog import jcs

__all__ = [
    "CHECKPOINT_CONTEXT",
    "CHECKPOINT_V2",
    "ENTRY_FORMATS",
    "FORMAT_VERSION",
    "GENESIS",
    "JCS_VERSION",
    "build_entry",
    "checkpoint_body",
    "checkpoint_message",
    "encode_checkpoint",
    "encode_event",
    "encode_object",
    "entry_from_dict",
    "format_ts",
    "hashed_bytes",
    "parse_ts",
    "parse_checkpoint",
    "parse_object",
    "recompute_hash",
    "reencode_event",
]

FORMAT_VERSION = 1
KEYED_VERSION = 2
"""Format of an entry that carries a unique ``key`` (format 1 plus ``"key"``)."""
JCS_VERSION = 3
"""Entry format hashed over RFC 8785 bytes (``"key"`` optional): what new entries are."""
ENTRY_FORMATS = (FORMAT_VERSION, JCS_VERSION)
"""What ``AuditOptions.entry_format`` may name (1 writes 2 for keyed entries)."""
CHECKPOINT_V2 = 2
"""Checkpoint format with a Merkle root, a signed note and the tree's edge."""
GENESIS = "0" * 64
"""``prev`` of entry 0."""
CHECKPOINT_CONTEXT = b"cloudstores-audit-checkpoint/v1\n"
_SORTED = orjson.OPT_SORT_KEYS
_ENTRY_FIELDS = frozenset({"event", "hash", "prev", "seq", "stream", "ts", "v", "ws"})
_KEYED_FIELDS = _ENTRY_FIELDS | {"key"}
_TS_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"


def format_ts(moment: datetime) -> str:
    """UTC, microseconds, ``Z``: ``2024-05-01T12:00:00.000000Z`` (fixed width, sorts)."""
    return moment.astimezone(UTC).strftime(_TS_FORMAT)


def parse_ts(text: str, *, key: str | None = None) -> datetime:
    """The UTC datetime of a ``format_ts`` string; IntegrityError if it is not one."""
    try:
        return datetime.strptime(text, _TS_FORMAT).replace(tzinfo=UTC)
    except ValueError as exc:
        raise IntegrityError(f"bad timestamp {text!r}", key=key) from exc


def encode_event(event: Any, max_bytes: int, entry_format: int = JCS_VERSION) -> bytes:
    """Canonical bytes of an event in ``entry_format``'s encoding (RFC 8785 for 3, orjson
    for 1); raises before any request if it cannot be stored.

    SerializationError: not a JSON object (dict with str keys), NaN/Infinity, bytes,
    a value JSON cannot hold, or (format 3) an integer beyond +-(2**53 - 1), which would
    not read back as the same integer.
    PayloadTooLargeError: over ``max_bytes``.
    """
    if not isinstance(event, dict):
        raise SerializationError(
            f"an audit event must be a JSON object (dict), not {type(event).__name__}"
        )
    data = codec.dumps(event)
    if entry_format == JCS_VERSION:
        # orjson first: it turns what it knows (datetimes, ...) into JSON, then RFC 8785
        value = orjson.loads(data)
        _check_safe_integers(value)
        data = jcs.dumps(value)
    codec.check_size(data, max_bytes, what="audit event")
    return data


def _check_safe_integers(value: Any) -> None:
    """SerializationError for an integer beyond +-(2**53 - 1): RFC 8785 writes numbers
    as IEEE doubles, so it would read back as another integer (2**62 as
    4611686018427388000); such numbers belong in strings."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, int) and not isinstance(item, bool):
            if not -jcs.MAX_SAFE_INTEGER <= item <= jcs.MAX_SAFE_INTEGER:
                raise SerializationError(
                    f"integer {item} is beyond +-(2**53 - 1): RFC 8785 would store it as a "
                    "double and it would read back changed; store it as a string (or use "
                    "AuditOptions(entry_format=1))"
                )
        elif isinstance(item, dict):
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)


def reencode_event(event: dict[str, Any], entry_format: int) -> bytes:
    """The canonical bytes of an event read back from JSON, in ``entry_format``."""
    if entry_format == JCS_VERSION:
        return jcs.dumps(event)
    return codec.dumps(event)


def _jcs_entry(fields: dict[str, object], event: bytes, digest: str | None) -> bytes:
    """RFC 8785 bytes of an entry from its JCS event bytes and its other members: the
    member names are ASCII and ``event`` < ``hash`` < every other, so the event (and the
    hash) go first."""
    rest = jcs.dumps(fields)  # b'{"key":...,"prev":...,...}'
    head = b'{"event":' + event
    if digest is not None:
        head += b',"hash":"' + digest.encode() + b'"'
    return head + b"," + rest[1:]


def build_entry(
    *,
    workspace: str,
    stream: str,
    seq: int,
    ts: str,
    event: bytes,
    prev: str,
    key: str | None = None,
    entry_format: int = JCS_VERSION,
) -> tuple[bytes, str]:
    """The stored bytes of one entry and its hash. ``event`` is canonical bytes in
    ``entry_format``'s encoding (``encode_event``). Format 3 (RFC 8785) carries ``key``
    when given; format 1 with a ``key`` gives a format-2 entry (``"key"``, ``"v": 2``)."""
    if entry_format == JCS_VERSION:
        fields: dict[str, object] = {
            "prev": prev,
            "seq": seq,
            "stream": stream,
            "ts": ts,
            "v": JCS_VERSION,
            "ws": workspace,
        }
        if key is not None:
            fields["key"] = key
        digest = codec.leaf_hash(_jcs_entry(fields, event, None))
        return _jcs_entry(fields, event, digest), digest
    if entry_format != FORMAT_VERSION:
        raise InvalidInputError(f"entry format must be one of {ENTRY_FORMATS}")
    body: dict[str, object] = {
        "event": orjson.Fragment(event),
        "prev": prev,
        "seq": seq,
        "stream": stream,
        "ts": ts,
        "v": FORMAT_VERSION,
        "ws": workspace,
    }
    if key is not None:
        body["key"] = key
        body["v"] = KEYED_VERSION
    digest = codec.leaf_hash(orjson.dumps(body, option=_SORTED))
    body["hash"] = digest
    return orjson.dumps(body, option=_SORTED), digest


def encode_object(entries: list[bytes]) -> bytes:
    """One entry object from stored entry bytes (already canonical, in seq order)."""
    return b'{"entries":[' + b",".join(entries) + b'],"v":1}'


def hashed_bytes(entry: StoredEntry) -> bytes:
    """The bytes an entry's leaf hash covers: every member but ``hash``, canonical in the
    entry's own format (RFC 8785 for ``v`` 3, orjson sorted for 1 and 2).
    SerializationError if a format-3 entry holds a value RFC 8785 cannot write."""
    body = {k: v for k, v in entry.items() if k != "hash"}
    if entry["v"] == JCS_VERSION:
        return jcs.dumps(body)
    return orjson.dumps(body, option=_SORTED)


def recompute_hash(entry: StoredEntry) -> str:
    """The hash an entry should carry, from its content (its ``hash`` field ignored);
    ``""`` (which no hash equals) when its content has no canonical bytes."""
    try:
        return codec.leaf_hash(hashed_bytes(entry))
    except SerializationError:
        return ""


def _fields_ok(entry: dict[str, Any]) -> bool:
    """Format 1: exactly the v1 fields; format 2: those plus a string ``key``; format 3:
    the v1 fields, with or without a string ``key``."""
    fields = set(entry)
    version = entry.get("v")
    if isinstance(version, bool):
        return False
    if type(version) is int and version == JCS_VERSION:
        return fields == _ENTRY_FIELDS or (
            fields == _KEYED_FIELDS and isinstance(entry["key"], str)
        )
    if fields == _ENTRY_FIELDS:
        return entry["v"] == FORMAT_VERSION and not isinstance(entry["v"], bool)
    return (
        fields == _KEYED_FIELDS
        and entry["v"] == KEYED_VERSION
        and not isinstance(entry["v"], bool)
        and isinstance(entry["key"], str)
    )


def parse_object(data: bytes, *, key: str | None = None) -> list[StoredEntry]:
    """The entries of a stored entry object, checked field by field (only then are they
    ``StoredEntry``s); IntegrityError if it is not one."""
    doc = codec.loads(data, key=key)
    if not isinstance(doc, dict) or doc.get("v") != FORMAT_VERSION:
        raise IntegrityError("not an audit entry object (v1)", key=key)
    entries = doc.get("entries")
    if not isinstance(entries, list) or not entries or set(doc) != {"entries", "v"}:
        raise IntegrityError("audit object has no entries", key=key)
    for entry in entries:
        if not isinstance(entry, dict) or not _fields_ok(entry):
            raise IntegrityError("audit entry has missing or extra fields", key=key)
        seq = entry["seq"]
        if (
            not isinstance(seq, int)
            or isinstance(seq, bool)
            or seq < 0
            or not isinstance(entry["event"], dict)
            or not isinstance(entry["stream"], str)
            or not isinstance(entry["ws"], str)
            or not isinstance(entry["ts"], str)
            or not codec.is_digest(entry["prev"])
            or not codec.is_digest(entry["hash"])
        ):
            raise IntegrityError("audit entry has a field of the wrong type", key=key)
    return cast(list[StoredEntry], entries)


def entry_from_dict(entry: StoredEntry, *, key: str | None = None) -> AuditEntry:
    return AuditEntry(
        workspace=entry["ws"],
        stream=entry["stream"],
        seq=entry["seq"],
        ts=parse_ts(entry["ts"], key=key),
        event=entry["event"],
        prev=entry["prev"],
        hash=entry["hash"],
        key=entry.get("key"),
    )


# ---------------------------------------------------------------------- checkpoints
def checkpoint_body(
    *,
    workspace: str,
    stream: str,
    size: int,
    head: str,
    time: str,
    prev: CheckpointRef | None,
    leaves_start: int,
    leaves: list[str],
    algorithm: str,
    key_id: str | None,
    root: str | None = None,
) -> CheckpointBody:
    """Every signed field of a checkpoint (format 2 when ``root`` is given)."""
    body: CheckpointBody = {
        "algorithm": algorithm,
        "head": head,
        "key_id": key_id,
        "leaves": leaves,
        "leaves_start": leaves_start,
        "prev": None if prev is None else {"hash": prev.hash, "size": prev.size},
        "size": size,
        "stream": stream,
        "time": time,
        "v": FORMAT_VERSION,
        "ws": workspace,
    }
    if root is not None:
        body["root"] = root
        body["v"] = CHECKPOINT_V2
    return body


def checkpoint_message(body: CheckpointBody) -> bytes:
    """The bytes a signer signs: a context line, then the canonical body."""
    return CHECKPOINT_CONTEXT + orjson.dumps(body, option=_SORTED)


def _checkpoint_hash(stored: StoredCheckpoint) -> str:
    return hashlib.sha256(b"\x02" + orjson.dumps(stored, option=_SORTED)).hexdigest()


def encode_checkpoint(
    body: CheckpointBody,
    signature: bytes | None,
    *,
    note: str | None = None,
    edge: list[str] | None = None,
) -> tuple[bytes, str]:
    """Stored bytes of a checkpoint and its hash (format 2 adds ``note`` and ``edge``)."""
    stored = cast(StoredCheckpoint, dict(body))
    stored["signature"] = None if signature is None else base64.b64encode(signature).decode()
    if body["v"] == CHECKPOINT_V2:
        stored.setdefault("note", note)  # (a body passed with them keeps its own)
        stored.setdefault("edge", edge or [])
    return orjson.dumps(stored, option=_SORTED), _checkpoint_hash(stored)


_CHECKPOINT_FIELDS = frozenset(
    {
        "algorithm",
        "head",
        "key_id",
        "leaves",
        "leaves_start",
        "prev",
        "signature",
        "size",
        "stream",
        "time",
        "v",
        "ws",
    }
)


_CHECKPOINT_V2_FIELDS = _CHECKPOINT_FIELDS | {"edge", "note", "root"}


def _checkpoint_v2_ok(doc: dict[str, Any]) -> bool:
    """The format-2 fields' types (format 1: nothing to check)."""
    if doc["v"] == FORMAT_VERSION:
        return True
    edge = doc["edge"]
    return (
        codec.is_digest(doc["root"])
        and (doc["note"] is None or isinstance(doc["note"], str))
        and isinstance(edge, list)
        and len(edge) <= 64
        and all(isinstance(item, str) for item in edge)
    )


def _checkpoint_fields_ok(doc: dict[str, Any]) -> bool:
    """Whether every field of an untrusted checkpoint dict has its stored type."""
    prev = doc["prev"]
    leaves = doc["leaves"]
    return (
        isinstance(doc["size"], int)
        and not isinstance(doc["size"], bool)
        and doc["size"] >= 1
        and codec.is_digest(doc["head"])
        and isinstance(doc["time"], str)
        and isinstance(doc["stream"], str)
        and isinstance(doc["ws"], str)
        and isinstance(doc["algorithm"], str)
        and (doc["key_id"] is None or isinstance(doc["key_id"], str))
        and (doc["signature"] is None or isinstance(doc["signature"], str))
        and isinstance(doc["leaves_start"], int)
        and isinstance(leaves, list)
        and all(codec.is_digest(leaf) for leaf in leaves)
        and (
            prev is None
            or (
                isinstance(prev, dict)
                and set(prev) == {"hash", "size"}
                and isinstance(prev["size"], int)
                and codec.is_digest(prev["hash"])
            )
        )
    )


def parse_checkpoint(data: bytes, *, key: str | None = None) -> tuple[Checkpoint, bytes]:
    """A stored checkpoint and the message its signature covers; IntegrityError if bad."""
    doc = codec.loads(data, key=key)
    if not isinstance(doc, dict) or (
        (set(doc) != _CHECKPOINT_FIELDS or doc["v"] != FORMAT_VERSION)
        and (set(doc) != _CHECKPOINT_V2_FIELDS or doc["v"] != CHECKPOINT_V2)
    ):
        raise IntegrityError("not an audit checkpoint (format 1 or 2)", key=key)
    ok = _checkpoint_fields_ok(doc) and _checkpoint_v2_ok(doc)
    if not ok:
        raise IntegrityError("audit checkpoint has a field of the wrong type", key=key)
    stored = cast(StoredCheckpoint, doc)  # every field checked above
    try:
        signature_ok = stored["signature"] is None or bool(
            base64.b64decode(stored["signature"], validate=True)
        )
    except ValueError:
        signature_ok = False
    if not signature_ok:
        raise IntegrityError("audit checkpoint signature is not base64", key=key)
    link = stored["prev"]
    body = cast(
        CheckpointBody,
        {k: v for k, v in stored.items() if k not in ("signature", "note", "edge")},
    )
    root = stored.get("root")
    edge: tuple[str, ...] = ()
    if root is not None:
        # the edge must fold to the signed root: a checked root then binds the edge
        tree.decode_edge(stored["size"], stored.get("edge", []), bytes.fromhex(root), key=key)
        edge = tuple(stored.get("edge", []))
    checkpoint = Checkpoint(
        workspace=stored["ws"],
        stream=stored["stream"],
        size=stored["size"],
        head=stored["head"],
        time=parse_ts(stored["time"], key=key),
        prev=None if link is None else CheckpointRef(size=link["size"], hash=link["hash"]),
        leaves_start=stored["leaves_start"],
        leaves=tuple(stored["leaves"]),
        algorithm=stored["algorithm"],
        key_id=stored["key_id"],
        signature=stored["signature"],
        hash=_checkpoint_hash(stored),
        root=root,
        note=stored.get("note"),
        edge=edge,
    )
    return checkpoint, checkpoint_message(body)
