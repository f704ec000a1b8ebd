"""C2SP tlog-checkpoint: the note text of a signed tree head, and signing/opening it.

Body (c2sp.org/tlog-checkpoint), each line ending in ``\\n``::

    <origin>                 non-empty, no control characters
    <tree size>              ASCII decimal, no leading zeros ("0" for the empty tree)
    <root hash>              standard base64 of the 32-byte RFC 6962 root
    [<extension line>...]    optional, each non-empty (not recommended)

The note is then signed as any c2sp signed-note (see :mod:`cloudstores.tlog.note`);
the log's key name should equal the origin.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Sequence
from dataclasses import dataclass

from cloudstores.errors import InvalidInputError
from cloudstores.tlog.errors import MalformedNoteError
from cloudstores.tlog.merkle import HASH_SIZE, MAX_TREE_SIZE
from cloudstores.tlog.note import (
    DEFAULT_MAX_NOTE_SIZE,
    Note,
    NoteSigner,
    NoteVerifier,
    OpenedNote,
    b64decode_strict,
    check_text,
    open_note,
    sign_note,
)

__all__ = ["Checkpoint", "open_checkpoint", "parse_checkpoint", "sign_checkpoint"]

_SIZE = re.compile("0|[1-9][0-9]{0,18}")


@dataclass(frozen=True)
class Checkpoint:
    """Origin, tree size, root hash and extension lines of a checkpoint."""

    origin: str
    size: int
    root: bytes
    extensions: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not isinstance(self.origin, str) or not self.origin or "\n" in self.origin:
            raise InvalidInputError("checkpoint origin must be one non-empty line")
        if (
            isinstance(self.size, bool)
            or not isinstance(self.size, int)
            or not (0 <= self.size <= MAX_TREE_SIZE)
        ):
            raise InvalidInputError(f"checkpoint size {self.size!r} is outside [0, 2**63-1]")
        if not isinstance(self.root, bytes) or len(self.root) != HASH_SIZE:
            raise InvalidInputError(f"checkpoint root must be {HASH_SIZE} bytes")
        for line in self.extensions:
            if not isinstance(line, str) or not line or "\n" in line:
                raise InvalidInputError("checkpoint extension lines must be non-empty single lines")
        check_text(self.text())

    def text(self) -> str:
        """The note text: three lines and the extension lines, each ending in a newline."""
        lines = [
            self.origin,
            str(self.size),
            base64.b64encode(self.root).decode(),
            *self.extensions,
        ]
        return "".join(line + "\n" for line in lines)


def parse_checkpoint(text: str) -> Checkpoint:
    """Parse a checkpoint note text (untrusted); MalformedNoteError if it is not one."""
    if not isinstance(text, str) or len(text) > DEFAULT_MAX_NOTE_SIZE or not text.endswith("\n"):
        raise MalformedNoteError("checkpoint text must end in a newline")
    lines = text[:-1].split("\n")
    if len(lines) < 3:
        raise MalformedNoteError("checkpoint needs origin, size and root lines")
    origin, size, root, *extensions = lines
    if not origin:
        raise MalformedNoteError("checkpoint origin is empty")
    if not _SIZE.fullmatch(size) or int(size) > MAX_TREE_SIZE:
        raise MalformedNoteError("checkpoint tree size is not a canonical decimal below 2**63")
    root_hash = b64decode_strict(root, "checkpoint root hash")
    if len(root_hash) != HASH_SIZE:
        raise MalformedNoteError(f"checkpoint root hash is not {HASH_SIZE} bytes")
    if any(not line for line in extensions):
        raise MalformedNoteError("checkpoint has an empty extension line")
    try:
        return Checkpoint(origin, int(size), root_hash, tuple(extensions))
    except InvalidInputError as exc:
        raise MalformedNoteError(f"checkpoint is not valid: {exc.message}") from exc


async def sign_checkpoint(checkpoint: Checkpoint | Note, signers: Sequence[NoteSigner]) -> bytes:
    """A signed-note checkpoint; given a Note, its existing signatures are kept."""
    if isinstance(checkpoint, Checkpoint):
        return await sign_note(checkpoint.text(), signers)
    parse_checkpoint(checkpoint.text)
    return await sign_note(checkpoint, signers)


def open_checkpoint(
    data: bytes | Note, verifiers: Sequence[NoteVerifier], *, origin: str | None = None
) -> tuple[Checkpoint, OpenedNote]:
    """Verify a signed checkpoint (as :func:`~cloudstores.tlog.note.open_note`) and parse it.

    With ``origin``, a checkpoint for another log is a MalformedNoteError.
    """
    opened = open_note(data, verifiers)
    checkpoint = parse_checkpoint(opened.text)
    if origin is not None and checkpoint.origin != origin:
        raise MalformedNoteError(f"checkpoint origin {checkpoint.origin!r} is not {origin!r}")
    return checkpoint, opened
