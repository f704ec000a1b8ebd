"""The audit store: immutable, hash-chained, multi-writer, verifiable audit streams.

See ``docs/audit.md`` for the data model, key layout, checkpoints and semantics.
"""

from __future__ import annotations

from cloudstores.stores.audit.models import (
    MAX_BATCH_LIMIT,
    AuditEntry,
    AuditOptions,
    AuditPage,
    Checkpoint,
    CheckpointRef,
    StreamHead,
    VerifyProblem,
    VerifyReport,
)
from cloudstores.stores.audit.notes import vkey as note_vkey
from cloudstores.stores.audit.proofs import (
    ConsistencyProof,
    InclusionProof,
    verify_consistency,
    verify_inclusion,
)
from cloudstores.stores.audit.signing import Ed25519Signer, Ed25519Verifier, Signer, Verifier
from cloudstores.stores.audit.store import AuditStore

__all__ = [
    "MAX_BATCH_LIMIT",
    "AuditEntry",
    "AuditOptions",
    "AuditPage",
    "AuditStore",
    "Checkpoint",
    "CheckpointRef",
    "ConsistencyProof",
    "Ed25519Signer",
    "Ed25519Verifier",
    "InclusionProof",
    "Signer",
    "StreamHead",
    "Verifier",
    "VerifyProblem",
    "VerifyReport",
    "note_vkey",
    "verify_consistency",
    "verify_inclusion",
]
