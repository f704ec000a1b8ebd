"""C2SP tlog-witness ``add-checkpoint`` as pure functions: what a witness checks before it
cosigns, with no storage and no network (the witness command supplies both).

Request body (c2sp.org/tlog-witness)::

    old <size of the last checkpoint the witness cosigned>\\n
    <base64 consistency proof hash>\\n          (0 to 63 lines)
    \\n
    <signed checkpoint note>

A witness cosigns only if: the origin is one it follows (else 404), a trusted log key
signed it and no trusted signature fails (403), ``old <= size`` (400), ``old`` equals its
latest cosigned size (409, answering that size), the empty tree has the empty root, an
old size of 0 comes with no proof, equal sizes have equal roots, and the proof shows the
new tree extends the one it cosigned last (422). So a log owner who forks history (two
roots for one size) or rolls it back (an older checkpoint as newest) is refused.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from cloudstores.errors import InvalidInputError
from cloudstores.tlog import merkle
from cloudstores.tlog.checkpoint import Checkpoint, parse_checkpoint
from cloudstores.tlog.cosignature import CosignatureSigner
from cloudstores.tlog.errors import (
    ConsistencyProofError,
    MalformedNoteError,
    OldSizeMismatchError,
    SignatureError,
    WitnessRefusedError,
)
from cloudstores.tlog.note import (
    DEFAULT_MAX_NOTE_SIZE,
    Note,
    NoteSignature,
    NoteVerifier,
    b64decode_strict,
    open_note,
    parse_note,
    sign_note,
)

__all__ = [
    "MAX_PROOF_LINES",
    "AddCheckpoint",
    "add_checkpoint",
    "check_add_checkpoint",
    "format_add_checkpoint",
    "parse_add_checkpoint",
]

MAX_PROOF_LINES = 63
_OLD = re.compile("old (0|[1-9][0-9]{0,18})")


@dataclass(frozen=True)
class AddCheckpoint:
    """A parsed add-checkpoint request."""

    old_size: int
    proof: tuple[bytes, ...]
    note: Note


def format_add_checkpoint(old_size: int, proof: Sequence[bytes], note: bytes) -> bytes:
    """The request body a log sends to a witness."""
    if (
        isinstance(old_size, bool)
        or not isinstance(old_size, int)
        or not (0 <= old_size <= merkle.MAX_TREE_SIZE)
    ):
        raise InvalidInputError(f"old size {old_size!r} is outside [0, 2**63-1]")
    if len(proof) > MAX_PROOF_LINES or any(len(h) != merkle.HASH_SIZE for h in proof):
        raise InvalidInputError(f"a proof is at most {MAX_PROOF_LINES} hashes of 32 bytes")
    lines = [f"old {old_size}\n"] + [base64.b64encode(h).decode() + "\n" for h in proof]
    return ("".join(lines) + "\n").encode() + note


def parse_add_checkpoint(body: bytes) -> AddCheckpoint:
    """Parse a request (untrusted); MalformedNoteError, status 400, if malformed."""
    if not isinstance(body, bytes | bytearray) or len(body) > DEFAULT_MAX_NOTE_SIZE + 8192:
        raise MalformedNoteError("add-checkpoint body is missing or too large")
    head, sep, rest = bytes(body).partition(b"\n\n")
    if not sep:
        raise MalformedNoteError("add-checkpoint body has no empty line before the checkpoint")
    try:
        lines = head.decode("ascii").split("\n")
    except UnicodeDecodeError as exc:
        raise MalformedNoteError("add-checkpoint header is not ASCII") from exc
    match = _OLD.fullmatch(lines[0])
    if match is None or int(match.group(1)) > merkle.MAX_TREE_SIZE:
        raise MalformedNoteError("add-checkpoint does not start with 'old <size>'")
    if len(lines) - 1 > MAX_PROOF_LINES:
        raise MalformedNoteError(f"add-checkpoint has more than {MAX_PROOF_LINES} proof lines")
    proof = []
    for line in lines[1:]:
        h = b64decode_strict(line, "consistency proof hash")
        if len(h) != merkle.HASH_SIZE:
            raise MalformedNoteError("consistency proof hash is not 32 bytes")
        proof.append(h)
    return AddCheckpoint(int(match.group(1)), tuple(proof), parse_note(rest))


def check_add_checkpoint(
    request: AddCheckpoint,
    trusted_logs: Mapping[str, Sequence[NoteVerifier]],
    latest: Checkpoint | None,
) -> Checkpoint:
    """Every check of the spec, in its order; returns the checkpoint to cosign and store.

    ``trusted_logs`` maps origin -> that log's keys; ``latest`` is the witness's latest
    cosigned checkpoint for the origin (None if it never cosigned one). The caller must
    run this and persist the result atomically (compare-and-swap on its state), or two
    racing requests can roll the stored size back.
    """
    text_checkpoint = _peek(request.note)
    keys = trusted_logs.get(text_checkpoint.origin)
    if not keys:
        raise WitnessRefusedError(f"unknown log origin {text_checkpoint.origin!r}", status=404)
    try:
        open_note(request.note, keys)
    except SignatureError as exc:
        raise WitnessRefusedError(exc.message, status=403) from exc
    checkpoint = text_checkpoint
    if latest is not None and latest.origin != checkpoint.origin:
        raise InvalidInputError("latest checkpoint is for another origin")
    if request.old_size > checkpoint.size:
        raise WitnessRefusedError(
            f"old size {request.old_size} is above the checkpoint size {checkpoint.size}",
            status=400,
        )
    latest_size = latest.size if latest is not None else 0
    if request.old_size != latest_size:
        raise OldSizeMismatchError(
            f"old size {request.old_size} is not the latest cosigned size {latest_size}",
            latest_size=latest_size,
        )
    if checkpoint.size == 0 and checkpoint.root != merkle.EMPTY_ROOT:
        raise WitnessRefusedError("a checkpoint of size 0 must have the empty tree's root")
    if latest is None or latest.size == 0:
        if request.proof:
            raise WitnessRefusedError("old size 0 needs an empty consistency proof")
        return checkpoint
    try:
        merkle.verify_consistency(
            latest.size, checkpoint.size, latest.root, checkpoint.root, request.proof
        )
    except ConsistencyProofError as exc:
        raise WitnessRefusedError(
            f"not consistent with the last cosigned checkpoint: {exc.message}"
        ) from exc
    return checkpoint


def _peek(note: Note) -> Checkpoint:
    try:
        return parse_checkpoint(note.text)
    except MalformedNoteError as exc:
        raise WitnessRefusedError(f"not a checkpoint: {exc.message}", status=400) from exc


async def add_checkpoint(
    body: bytes,
    trusted_logs: Mapping[str, Sequence[NoteVerifier]],
    latest: Checkpoint | None,
    signer: CosignatureSigner,
) -> tuple[Checkpoint, bytes]:
    """Check a request and cosign: (checkpoint to store, response signature lines)."""
    request = parse_add_checkpoint(body)
    checkpoint = check_add_checkpoint(request, trusted_logs, latest)
    signed = parse_note(await sign_note(Note(request.note.text, ()), [signer]))
    lines: tuple[NoteSignature, ...] = signed.signatures
    return checkpoint, "".join(s.line() for s in lines).encode()
