"""Transparency-log primitives for the audit store (no cloud SDK, no store imports).

- :mod:`~cloudstores.tlog.jcs`: RFC 8785 canonical JSON, the bytes that are hashed;
- :mod:`~cloudstores.tlog.merkle`: RFC 6962 hashing, proofs, RFC 9162 verification;
- :mod:`~cloudstores.tlog.tiles`: the C2SP tlog-tiles layout, proofs read from tiles,
  the tiles to write when a tree grows;
- :mod:`~cloudstores.tlog.note`, :mod:`~cloudstores.tlog.checkpoint`,
  :mod:`~cloudstores.tlog.cosignature`: C2SP signed-note, tlog-checkpoint and
  tlog-cosignature v1 (Ed25519);
- :mod:`~cloudstores.tlog.witness`: the checks of C2SP tlog-witness add-checkpoint;
- :mod:`~cloudstores.tlog.proof`: C2SP tlog-proof@v1, offline inclusion proofs.

The byte-level format is specified in ``docs/audit-format.md``; ``verifiers/js`` is an
independent implementation checked against the vectors in ``tests/tlog/vectors``.
"""

from __future__ import annotations

from cloudstores.tlog.checkpoint import (
    Checkpoint,
    open_checkpoint,
    parse_checkpoint,
    sign_checkpoint,
)
from cloudstores.tlog.cosignature import (
    CosignatureSigner,
    CosignatureVerifier,
    check_witnesses,
    cosign,
)
from cloudstores.tlog.errors import (
    ConsistencyProofError,
    InclusionProofError,
    MalformedNoteError,
    ProofError,
    SignatureError,
    TileError,
)
from cloudstores.tlog.merkle import (
    leaf_hash,
    node_hash,
    verify_consistency,
    verify_inclusion,
)
from cloudstores.tlog.note import (
    Ed25519NoteSigner,
    Ed25519NoteVerifier,
    Note,
    NoteSigner,
    NoteVerifier,
    open_note,
    parse_note,
    sign_note,
)

__all__ = [
    "Checkpoint",
    "ConsistencyProofError",
    "CosignatureSigner",
    "CosignatureVerifier",
    "Ed25519NoteSigner",
    "Ed25519NoteVerifier",
    "InclusionProofError",
    "MalformedNoteError",
    "Note",
    "NoteSigner",
    "NoteVerifier",
    "ProofError",
    "SignatureError",
    "TileError",
    "check_witnesses",
    "cosign",
    "leaf_hash",
    "node_hash",
    "open_checkpoint",
    "open_note",
    "parse_checkpoint",
    "parse_note",
    "sign_checkpoint",
    "sign_note",
    "verify_consistency",
    "verify_inclusion",
]
