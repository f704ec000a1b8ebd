"""A witness of audit streams: cosigns a log's newest checkpoint only if it extends the
last one it cosigned (C2SP tlog-witness checks, tlog-cosignature v1 signatures).

::

    witness = Witness(state_bucket, CosignatureSigner(...), log_keys=[note_vkey(log_signer)])
    result = await witness.witness(log_bucket, "payments", workspace="acme")
    # result.status: "cosigned" | "up_to_date" | "refused" | "conflict"

The witness holds its own key and its own state, in **its own bucket** (another account
than the log's), and needs only read access to the log's bucket plus create-only access
to its ``cosig/`` prefix. One ``witness`` call:

1. reads its latest cosigned tree head for the stream's origin
   (``cloudstores/audit/{ws}/{stream}``) from its state: a LIST of
   ``witness/{origin id}/`` and a GET;
2. reads the log's newest checkpoint (``AuditStore.latest_checkpoint``: a LIST and a
   GET) and, when it is larger, a consistency proof from its cosigned size
   (``AuditStore.consistency_proof``: up to 2 GETs per tile level); proofs and
   checkpoints are untrusted: the proof is checked against the witness's *own* stored
   root and the root the log's key signed;
3. runs every check of C2SP tlog-witness ``add-checkpoint``
   (:func:`cloudstores.tlog.witness.check_add_checkpoint`): a trusted log signature, no
   rollback (an older checkpoint presented as newest), no fork (another root at the same
   size, or a tree that does not extend the cosigned one);
4. only then cosigns, records the new tree head in its state with a **create-only** PUT
   of the next numbered state object (two racing runs cannot both advance from the same
   head, so the witness never cosigns two heads that do not extend each other), and
   publishes the cosignature beside the checkpoint in the log's bucket
   (:mod:`~cloudstores.stores.audit.cosigs`).

A refusal is a result (``status="refused"``, ``reason``, ``http_status`` as the spec's
HTTP status: 400 rollback, 403 bad log signature, 409 old size, 422 fork), not an
exception: it is what a witness exists to report. Errors reading the buckets raise.

State objects (witness bucket, create-only, never rewritten)::

    witness/{first 32 hex of SHA-256(origin)}/{n:020d}.json
      {"cosignature": "<checkpoint text + this witness's cosignature line>",
       "note": "<the log's signed note>", "origin": "...", "root": "<hex>",
       "size": n, "v": 1}

Witness keys are Ed25519 cosignature keys (type 0x04); a key file holds
``PRIVATE+KEY+<name>+<key ID hex>+base64(0x04 || 32-byte seed)``, the signer-key
format of Go's ``golang.org/x/mod/sumdb/note``.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import orjson

from cloudstores import codec
from cloudstores.bucket.base import Bucket
from cloudstores.errors import (
    AlreadyExistsError,
    ConfigurationError,
    IntegrityError,
    InvalidInputError,
    NotFoundError,
)
from cloudstores.keys import DEFAULT_WORKSPACE, numbered_key, validate_workspace
from cloudstores.stores.audit import cosigs, notes
from cloudstores.stores.audit.layout import StreamKeys, validate_stream
from cloudstores.stores.audit.store import AuditStore
from cloudstores.tlog.checkpoint import Checkpoint as TreeHead
from cloudstores.tlog.checkpoint import parse_checkpoint
from cloudstores.tlog.cosignature import CosignatureSigner
from cloudstores.tlog.errors import MalformedNoteError, WitnessRefusedError
from cloudstores.tlog.note import (
    SIG_COSIGNATURE_V1,
    Note,
    NoteVerifier,
    compute_key_id,
    parse_note,
)
from cloudstores.tlog.witness import add_checkpoint, format_add_checkpoint

__all__ = [
    "Witness",
    "WitnessResult",
    "format_witness_key",
    "generate_witness_key",
    "load_witness_key",
    "parse_witness_key",
]

Status = Literal["cosigned", "up_to_date", "refused", "conflict"]
_STATE_FIELDS = frozenset({"cosignature", "note", "origin", "root", "size", "v"})
_MAX_STATE_BYTES = 512 * 1024


@dataclass(frozen=True, slots=True)
class WitnessResult:
    """What one ``Witness.witness`` call did.

    ``status``: ``cosigned`` (a new head), ``up_to_date`` (the newest checkpoint is the
    one already cosigned; its cosignature is published again if missing), ``refused``
    (``reason`` says why; nothing signed, state unchanged) or ``conflict`` (another run
    of this witness advanced the state meanwhile; run again).
    """

    status: Status
    origin: str
    size: int | None
    """Size of the log's newest checkpoint (None: it has none, or it is unreadable)."""
    cosigned_size: int
    """The witness's latest cosigned size after this call (0: none yet)."""
    reason: str = ""
    http_status: int | None = None
    cosignature: str | None = None
    """The cosigned note (checkpoint text and this witness's line) when cosigned."""

    @property
    def ok(self) -> bool:
        return self.status in ("cosigned", "up_to_date")

    def as_dict(self) -> dict[str, object]:
        return {
            "status": self.status,
            "origin": self.origin,
            "size": self.size,
            "cosigned_size": self.cosigned_size,
            "reason": self.reason,
            "http_status": self.http_status,
            "cosignature": self.cosignature,
        }


@dataclass(frozen=True, slots=True)
class _State:
    number: int
    head: TreeHead
    cosignature: bytes


# ---------------------------------------------------------------------- key files
def format_witness_key(signer_name: str, seed: bytes) -> str:
    """The key-file text of a witness key (see the module docstring)."""
    signer = CosignatureSigner.from_seed(signer_name, seed)
    payload = base64.b64encode(bytes([SIG_COSIGNATURE_V1]) + seed).decode()
    return f"PRIVATE+KEY+{signer.name}+{signer.key_id:08x}+{payload}\n"


def parse_witness_key(text: str) -> CosignatureSigner:
    """The witness signer a key file holds; InvalidInputError if it is not one."""
    parts = text.strip().split("+", 4)  # (base64 may hold "+"; a name may not)
    if len(parts) != 5 or parts[:2] != ["PRIVATE", "KEY"]:
        raise InvalidInputError("not a witness key: expected PRIVATE+KEY+name+hash+key")
    _, _, name, key_hash, payload = parts
    try:
        raw = base64.b64decode(payload, validate=True)
        expected = int(key_hash, 16)
    except (binascii.Error, ValueError) as exc:
        raise InvalidInputError("witness key is not valid base64/hex") from exc
    if len(raw) != 33 or raw[0] != SIG_COSIGNATURE_V1 or len(key_hash) != 8:
        raise InvalidInputError("witness key is not an Ed25519 cosignature key (type 0x04)")
    signer = CosignatureSigner.from_seed(name, raw[1:])
    if compute_key_id(name, SIG_COSIGNATURE_V1, signer.public_key) != expected:
        raise InvalidInputError("witness key hash does not match its key")
    return signer


def load_witness_key(path: str | Path) -> CosignatureSigner:
    try:
        text = Path(path).read_text(encoding="ascii")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigurationError(f"cannot read witness key {path}: {exc}") from exc
    return parse_witness_key(text)


def generate_witness_key(name: str, path: str | Path) -> CosignatureSigner:
    """Write a new witness key file (mode 0600, never overwriting); its signer."""
    seed = os.urandom(32)
    text = format_witness_key(name, seed)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raise ConfigurationError(f"{path} exists; never overwriting a key") from None
    with os.fdopen(fd, "w", encoding="ascii") as f:
        f.write(text)
    return parse_witness_key(text)


# ---------------------------------------------------------------------- the witness
class Witness:
    """A witness: its key, its state bucket, and the log keys it trusts.

    Args:
        bucket: the witness's own bucket (its state); never the log's.
        signer: its cosignature key (``load_witness_key`` or ``CosignatureSigner``).
        log_keys: signed-note verifier keys of the logs it follows (vkey strings, e.g.
            ``note_vkey(log_signer)``, or ``NoteVerifier``s). A checkpoint must carry a
            valid signature by one of them.
    """

    def __init__(
        self,
        bucket: Bucket,
        signer: CosignatureSigner,
        log_keys: Sequence[str | NoteVerifier],
    ) -> None:
        if not isinstance(bucket, Bucket):
            raise InvalidInputError("bucket must be a cloudstores Bucket")
        if not isinstance(signer, CosignatureSigner):
            raise InvalidInputError("signer must be a CosignatureSigner (a witness key)")
        if isinstance(log_keys, str) or not log_keys:
            raise InvalidInputError("log_keys must be a non-empty list of log verifier keys")
        self.bucket = bucket
        self.signer = signer
        self.vkey = signer.verifier().vkey
        self.log_keys: list[NoteVerifier] = [
            notes.note_verifier(k) if isinstance(k, str) else k for k in log_keys
        ]

    def _prefix(self, origin: str) -> str:
        return f"witness/{hashlib.sha256(origin.encode()).hexdigest()[:32]}/"

    async def latest(self, origin: str) -> TreeHead | None:
        """The latest tree head this witness cosigned for ``origin`` (a LIST and a GET)."""
        state = await self._state(origin)
        return None if state is None else state.head

    async def _state(self, origin: str) -> _State | None:
        prefix = self._prefix(origin)
        newest: str | None = None
        async for info in self.bucket.list(prefix):
            newest = info.key
        if newest is None:
            return None
        try:
            number = int(newest[len(prefix) :].removesuffix(".json"))
        except ValueError:
            raise IntegrityError("stray object in the witness state", key=newest) from None
        data = (await self.bucket.get(newest)).data
        if len(data) > _MAX_STATE_BYTES:
            raise IntegrityError("witness state object is too large", key=newest)
        doc = codec.loads(data, key=newest)
        try:
            ok = (
                isinstance(doc, dict)
                and set(doc) == _STATE_FIELDS
                and doc["v"] == 1
                and doc["origin"] == origin
            )
            head = parse_checkpoint(parse_note(doc["cosignature"].encode()).text) if ok else None
        except (MalformedNoteError, AttributeError, UnicodeEncodeError):
            head = None
        if head is None or head.origin != origin or head.size != doc["size"]:
            raise IntegrityError("witness state object is not valid", key=newest)
        if head.root.hex() != doc["root"]:
            raise IntegrityError("witness state root does not match its note", key=newest)
        return _State(number, head, doc["cosignature"].encode())

    async def witness(
        self, log: Bucket, stream: str, *, workspace: str = DEFAULT_WORKSPACE
    ) -> WitnessResult:
        """Check the log's newest checkpoint of ``stream`` and cosign it if it extends
        what this witness cosigned before (see the module docstring for the steps and
        their cost: about 3 LISTs, 3 GETs, the proof's tile GETs and 2 PUTs)."""
        if not isinstance(log, Bucket):
            raise InvalidInputError("log must be a cloudstores Bucket")
        validate_stream(stream)
        validate_workspace(workspace)
        origin = notes.origin(workspace, stream)
        state = await self._state(origin)
        old_size = 0 if state is None else state.head.size

        def refused(reason: str, status: int | None, size: int | None) -> WitnessResult:
            return WitnessResult("refused", origin, size, old_size, reason, status)

        async with AuditStore(log, workspace=workspace) as audit:
            try:
                newest = await audit.latest_checkpoint(stream)
            except IntegrityError as exc:
                return refused(f"the newest checkpoint is unreadable: {exc.message}", 400, None)
            if newest is None:
                reason = "the log has no checkpoint"
                if state is not None:
                    reason += f" (rolled back: this witness cosigned size {old_size})"
                return refused(reason, 400 if state is not None else None, None)
            size = newest.size
            if newest.note is None:
                return refused(f"checkpoint {size} has no signed note", 403, size)
            note = newest.note.encode()
            if state is not None and size == old_size:
                try:
                    same = parse_checkpoint(parse_note(note).text) == state.head
                except MalformedNoteError:
                    same = False
                if same:
                    await cosigs.publish(
                        log, audit_keys(workspace, stream), size, self.vkey, state.cosignature
                    )
                    return WitnessResult(
                        "up_to_date", origin, size, old_size, cosignature=state.cosignature.decode()
                    )
            proof: list[bytes] = []
            if 0 < old_size < size:
                try:
                    found = await audit.consistency_proof(stream, old_size, size)
                except (IntegrityError, NotFoundError) as exc:
                    return refused(
                        f"no consistency proof from size {old_size} to {size}: {exc.message}",
                        422,
                        size,
                    )
                proof = [bytes.fromhex(h) for h in found.hashes]
        body = format_add_checkpoint(old_size, proof, note)
        try:
            head, lines = await add_checkpoint(
                body,
                {origin: self.log_keys},
                None if state is None else state.head,
                self.signer,
            )
        except WitnessRefusedError as exc:
            return refused(_explain(exc, old_size, size), exc.status, size)
        except MalformedNoteError as exc:
            return refused(f"checkpoint {size}: {exc.message}", 400, size)
        cosignature = Note(head.text(), ()).to_bytes() + lines
        record = {
            "cosignature": cosignature.decode(),
            "note": newest.note,
            "origin": origin,
            "root": head.root.hex(),
            "size": head.size,
            "v": 1,
        }
        number = 1 if state is None else state.number + 1
        try:
            await self.bucket.put(
                numbered_key(self._prefix(origin), number),
                orjson.dumps(record, option=orjson.OPT_SORT_KEYS),
                mode="create",
                content_type="application/json",
            )
        except AlreadyExistsError:
            return WitnessResult(
                "conflict",
                origin,
                size,
                old_size,
                "another run of this witness advanced its state meanwhile; run again",
            )
        await cosigs.publish(log, audit_keys(workspace, stream), size, self.vkey, cosignature)
        return WitnessResult("cosigned", origin, size, size, cosignature=cosignature.decode())


def audit_keys(workspace: str, stream: str) -> StreamKeys:
    return StreamKeys(workspace, stream)


def _explain(exc: WitnessRefusedError, old_size: int, size: int) -> str:
    """The spec's refusal, with what it means for an audit log."""
    if exc.status == 400 and old_size > size:
        return (
            f"rollback: the newest checkpoint has size {size}, but this witness already "
            f"cosigned size {old_size} ({exc.message})"
        )
    if exc.status == 422 and old_size == size:
        return (
            f"fork: the log's checkpoint {size} has another root than the one this witness "
            f"cosigned at that size ({exc.message})"
        )
    if exc.status == 422:
        return (
            f"fork: checkpoint {size} does not extend the tree of size {old_size} this "
            f"witness cosigned ({exc.message})"
        )
    if exc.status == 403:
        return f"checkpoint {size} is not signed by a trusted log key ({exc.message})"
    return exc.message
