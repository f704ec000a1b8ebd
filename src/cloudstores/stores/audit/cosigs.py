"""Witness cosignatures beside a stream's checkpoints, and their check by ``verify``.

A witness (:mod:`cloudstores.stores.audit.witnessing`) that cosigned checkpoint ``size``
writes, create-only, to the log's bucket::

    ws/{ws}/audit/{stream}/cosig/{size:020d}/{witness id}

whose body is the checkpoint's signed-note text followed by the empty line and the
witness's C2SP tlog-cosignature/v1 line(s) (a valid signed note). ``witness id`` is the
first 32 hex digits of SHA-256 of the witness's vkey. The log's owner can delete these
objects (that only lowers the count of witnesses), but cannot forge one, and cannot
make a witness cosign two tree heads that do not extend each other.

``check`` (``AuditStore.verify(..., witnesses=, required_witnesses=)``): one LIST of
``cosig/`` and one GET per object of a trusted witness. A trusted witness's object
whose line does not verify is ``bad_cosignature``; one whose tree head differs from
the log's at that size (the checkpoint's root, or the root of the entries when the
checkpoint is gone) is ``witness_fork``: proof, signed by the witness, that the log
showed it another history. ``witnessed_size`` is the largest size cosigned by at least
``required`` distinct trusted witnesses; none is ``unwitnessed`` when ``required`` > 0.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from cloudstores.bucket.base import Bucket
from cloudstores.errors import AlreadyExistsError, IntegrityError, InvalidInputError
from cloudstores.stores.audit import notes
from cloudstores.stores.audit.layout import StreamKeys
from cloudstores.stores.audit.models import Checkpoint, ProblemKind
from cloudstores.tlog.checkpoint import parse_checkpoint
from cloudstores.tlog.cosignature import CosignatureVerifier
from cloudstores.tlog.errors import MalformedNoteError
from cloudstores.tlog.note import parse_note

__all__ = ["MAX_COSIG_BYTES", "WitnessCheck", "check", "check_policy", "publish", "witness_id"]

MAX_COSIG_BYTES = 64 * 1024
"""Largest cosignature object read (a checkpoint text and a few lines)."""

AddProblem = Callable[..., None]


def witness_id(vkey: str) -> str:
    """The id of a witness in object keys: SHA-256 of its vkey, 32 hex digits."""
    return hashlib.sha256(vkey.encode()).hexdigest()[:32]


def check_policy(witnesses: Sequence[CosignatureVerifier], required: int) -> None:
    """InvalidInputError unless ``witnesses`` are distinct cosignature keys and
    ``0 <= required <= len(witnesses)``."""
    if not all(isinstance(w, CosignatureVerifier) for w in witnesses):
        raise InvalidInputError("witnesses must be CosignatureVerifier keys (type 0x04)")
    if len({w.vkey for w in witnesses}) != len(witnesses):
        raise InvalidInputError("a witness key is given twice")
    if (
        isinstance(required, bool)
        or not isinstance(required, int)
        or not 0 <= required <= len(witnesses)
    ):
        raise InvalidInputError(
            f"required_witnesses must be an int in [0, {len(witnesses)}], not {required!r}"
        )


async def publish(bucket: Bucket, keys: StreamKeys, size: int, vkey: str, note: bytes) -> None:
    """PUT a cosigned note create-only (one PUT; one GET more if it exists already: the
    same bytes are success, other bytes an IntegrityError naming the key)."""
    key = keys.cosig(size, witness_id(vkey))
    try:
        await bucket.put(key, note, mode="create", content_type="text/plain; charset=utf-8")
    except AlreadyExistsError:
        existing = await bucket.get(key)
        if existing.data != note:
            raise IntegrityError(
                "another cosignature is already stored for this checkpoint", key=key
            ) from None


@dataclass
class WitnessCheck:
    """What ``check`` found: per size, the trusted witnesses that cosigned it."""

    cosigned: dict[int, set[str]] = field(default_factory=dict)
    witnessed_size: int | None = None
    witnesses: tuple[str, ...] = ()


def _parse_key(keys: StreamKeys, key: str) -> tuple[int, str] | None:
    rest = key[len(keys.cosig_prefix) :]
    size_text, _, wid = rest.partition("/")
    if len(size_text) != 20 or not size_text.isdigit() or not wid or "/" in wid:
        return None
    return int(size_text), wid


async def check(
    bucket: Bucket,
    keys: StreamKeys,
    workspace: str,
    checkpoints: Sequence[Checkpoint],
    root_of: Callable[[int], bytes | None],
    witnesses: Sequence[CosignatureVerifier],
    required: int,
    add: AddProblem,
) -> WitnessCheck:
    """Check every stored cosignature of a trusted witness (see the module docstring).

    ``checkpoints``: the stream's readable checkpoints; ``root_of(size)``: the root of
    entries ``[0, size)`` recomputed by verify (None when unknown)."""
    by_id = {witness_id(w.vkey): w for w in witnesses}
    roots = {cp.size: bytes.fromhex(cp.root) for cp in checkpoints if cp.root is not None}
    origin = notes.origin(workspace, keys.stream)
    result = WitnessCheck()
    async for info in bucket.list(keys.cosig_prefix):
        parsed = _parse_key(keys, info.key)
        if parsed is None:
            continue
        size, wid = parsed
        witness = by_id.get(wid)
        if witness is None:
            continue  # not a witness this verifier trusts
        kind, detail = await _check_one(bucket, info.key, size, origin, witness, roots, root_of)
        if kind is not None:
            add(kind, size - 1, detail, key=info.key, checkpoint=size)
        elif size > 0:
            result.cosigned.setdefault(size, set()).add(witness.name)
    quorum = [size for size, names in result.cosigned.items() if len(names) >= required]
    if required and quorum:
        result.witnessed_size = max(quorum)
        result.witnesses = tuple(sorted(result.cosigned[result.witnessed_size]))
    elif required:
        newest = max((cp.size for cp in checkpoints), default=1)
        add(
            "unwitnessed",
            newest - 1,
            f"no checkpoint is cosigned by {required} of the {len(witnesses)} trusted witnesses",
        )
    return result


async def _check_one(
    bucket: Bucket,
    key: str,
    size: int,
    origin: str,
    witness: CosignatureVerifier,
    roots: dict[int, bytes],
    root_of: Callable[[int], bytes | None],
) -> tuple[ProblemKind | None, str]:
    who = f"witness {witness.name}"
    data = (await bucket.get(key)).data
    if len(data) > MAX_COSIG_BYTES:
        return "bad_cosignature", f"{who}: cosignature object is too large"
    try:
        note = parse_note(data)
        head = parse_checkpoint(note.text)
    except MalformedNoteError as exc:
        return "bad_cosignature", f"{who}: cosignature object is not a checkpoint note: {exc}"
    lines = [s for s in note.signatures if (s.name, s.key_id) == (witness.name, witness.key_id)]
    text = note.text.encode()
    if not lines or not all(witness.verify(text, s.signature) for s in lines):
        return "bad_cosignature", f"{who}: cosignature does not verify"
    if head.origin != origin or head.size != size:
        return "bad_cosignature", f"{who}: cosigned {head.origin} size {head.size}, filed at {size}"
    expected = roots.get(size)
    if expected is None:
        expected = root_of(size)
    if expected is not None and expected != head.root:
        return (
            "witness_fork",
            f"{who} cosigned root {head.root.hex()} at size {size}, but the log's root "
            f"there is {expected.hex()}: the log showed it another history",
        )
    if expected is None:
        return "bad_cosignature", f"{who}: the log has no tree of size {size} to compare"
    return None, ""
