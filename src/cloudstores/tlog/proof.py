"""C2SP tlog-proof@v1: a self-contained, offline-verifiable inclusion proof.

::

    c2sp.org/tlog-proof@v1\\n
    [extra <base64 opaque data>\\n]        optional, NOT authenticated
    index <leaf index, decimal>\\n
    <base64 proof hash>\\n                 0 or more, leaf sibling first (RFC 6962 PATH)
    \\n
    <signed checkpoint note, verbatim>

To verify: compute the leaf hash yourself (application specific), check the checkpoint's
origin and log signature, the witness cosignatures your policy requires, then the
inclusion proof against the checkpoint's size and root.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Sequence
from dataclasses import dataclass

from cloudstores.errors import InvalidInputError
from cloudstores.tlog import merkle
from cloudstores.tlog.checkpoint import Checkpoint, open_checkpoint
from cloudstores.tlog.cosignature import CosignatureVerifier, check_witnesses
from cloudstores.tlog.errors import MalformedNoteError
from cloudstores.tlog.note import DEFAULT_MAX_NOTE_SIZE, NoteVerifier, b64decode_strict

__all__ = ["HEADER", "TlogProof", "format_tlog_proof", "parse_tlog_proof", "verify_tlog_proof"]

HEADER = "c2sp.org/tlog-proof@v1"
MAX_EXTRA = 64 * 1024
_INDEX = re.compile("index (0|[1-9][0-9]{0,18})")


@dataclass(frozen=True)
class TlogProof:
    """The parts of a tlog-proof: index, proof hashes, checkpoint note bytes, extra data."""

    index: int
    proof: tuple[bytes, ...]
    checkpoint: bytes
    extra: bytes | None = None


def format_tlog_proof(
    index: int, proof: Sequence[bytes], checkpoint: bytes, extra: bytes | None = None
) -> bytes:
    """Encode a tlog-proof; ``checkpoint`` is the signed note, included verbatim."""
    if (
        isinstance(index, bool)
        or not isinstance(index, int)
        or not (0 <= index < merkle.MAX_TREE_SIZE)
    ):
        raise InvalidInputError(f"leaf index {index!r} is outside [0, 2**63-1)")
    if len(proof) > 63 or any(len(h) != merkle.HASH_SIZE for h in proof):
        raise InvalidInputError("an inclusion proof is at most 63 hashes of 32 bytes")
    if extra is not None and (not isinstance(extra, bytes) or not extra or len(extra) > MAX_EXTRA):
        raise InvalidInputError(f"extra data must be 1 to {MAX_EXTRA} bytes")
    lines = [HEADER]
    if extra is not None:
        lines.append("extra " + base64.b64encode(extra).decode())
    lines.append(f"index {index}")
    lines += [base64.b64encode(h).decode() for h in proof]
    return ("\n".join(lines) + "\n\n").encode() + checkpoint


def parse_tlog_proof(data: bytes) -> TlogProof:
    """Parse (untrusted input); MalformedNoteError if it is not a tlog-proof."""
    if not isinstance(data, bytes | bytearray) or len(data) > DEFAULT_MAX_NOTE_SIZE + 2 * MAX_EXTRA:
        raise MalformedNoteError("tlog-proof is missing or too large")
    head, sep, checkpoint = bytes(data).partition(b"\n\n")
    if not sep:
        raise MalformedNoteError("tlog-proof has no empty line before the checkpoint")
    try:
        lines = head.decode("ascii").split("\n")
    except UnicodeDecodeError as exc:
        raise MalformedNoteError("tlog-proof header is not ASCII") from exc
    if lines[0] != HEADER:
        raise MalformedNoteError(f"tlog-proof does not start with {HEADER!r}")
    pos, extra = 1, None
    if pos < len(lines) and lines[pos].startswith("extra "):
        extra = b64decode_strict(lines[pos][6:], "extra data")
        if not extra:
            raise MalformedNoteError("tlog-proof extra data is empty")
        pos += 1
    match = _INDEX.fullmatch(lines[pos]) if pos < len(lines) else None
    if match is None:
        raise MalformedNoteError("tlog-proof has no 'index <n>' line")
    hashes = lines[pos + 1 :]
    if len(hashes) > 63:
        raise MalformedNoteError("tlog-proof has more than 63 proof hashes")
    proof = []
    for line in hashes:
        h = b64decode_strict(line, "proof hash")
        if len(h) != merkle.HASH_SIZE:
            raise MalformedNoteError("tlog-proof hash is not 32 bytes")
        proof.append(h)
    return TlogProof(int(match.group(1)), tuple(proof), checkpoint, extra)


def verify_tlog_proof(
    data: bytes,
    leaf_hash: bytes,
    log_verifiers: Sequence[NoteVerifier],
    *,
    origin: str,
    witnesses: Sequence[CosignatureVerifier] = (),
    required_witnesses: int = 0,
) -> Checkpoint:
    """Check a tlog-proof for ``leaf_hash`` under a policy; returns the checkpoint.

    Raises MalformedNoteError / SignatureError / InclusionProofError (IntegrityErrors).
    """
    parsed = parse_tlog_proof(data)
    checkpoint, _ = open_checkpoint(parsed.checkpoint, log_verifiers, origin=origin)
    if required_witnesses or witnesses:
        check_witnesses(parsed.checkpoint, witnesses, required_witnesses)
    if parsed.index >= checkpoint.size:
        raise MalformedNoteError(f"index {parsed.index} is not below the size {checkpoint.size}")
    merkle.verify_inclusion(parsed.index, checkpoint.size, leaf_hash, parsed.proof, checkpoint.root)
    return checkpoint
