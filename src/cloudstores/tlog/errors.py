"""Typed errors of the transparency-log primitives, all inside cloudstores.errors.

Bad arguments from the caller are :class:`~cloudstores.errors.InvalidInputError`;
data that fails a check (a proof, a tile, a note read from a bucket) is an
:class:`~cloudstores.errors.IntegrityError` subclass below.
"""

from __future__ import annotations

from cloudstores.errors import IntegrityError

__all__ = [
    "ConsistencyProofError",
    "InclusionProofError",
    "MalformedNoteError",
    "ProofError",
    "SignatureError",
    "OldSizeMismatchError",
    "TileError",
    "WitnessRefusedError",
]


class ProofError(IntegrityError):
    """A Merkle proof does not prove what it claims."""


class InclusionProofError(ProofError):
    """An inclusion proof does not lead from the leaf hash to the root."""


class ConsistencyProofError(ProofError):
    """A consistency proof does not show the larger tree extends the smaller one."""


class TileError(IntegrityError):
    """A hash tile has the wrong size for its coordinates."""


class MalformedNoteError(IntegrityError):
    """A signed note or checkpoint is not well formed (untrusted input)."""


class SignatureError(IntegrityError):
    """No trusted signature verifies, or a trusted key's signature fails."""


class WitnessRefusedError(IntegrityError):
    """A witness refuses to cosign; ``status`` is the c2sp tlog-witness HTTP status."""

    status = 422

    def __init__(self, message: str, *, status: int | None = None) -> None:
        super().__init__(message)
        if status is not None:
            self.status = status


class OldSizeMismatchError(WitnessRefusedError):
    """The request's old size is not the witness's latest cosigned size (409)."""

    status = 409

    def __init__(self, message: str, *, latest_size: int) -> None:
        super().__init__(message)
        self.latest_size = latest_size
