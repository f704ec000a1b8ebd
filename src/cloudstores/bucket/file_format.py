"""What the file backend keeps on disk for one object (pure functions, no I/O).

An object is two files in the same directory:

* the **data file**, named by the key (:mod:`cloudstores.bucket.file_names`), holding
  exactly the bytes that were put: ``jq . ws/demo/artifacts/a.json`` reads it;
* its **sidecar** ``.\\meta-{inode}`` (hidden, and never a key: keys cannot hold a
  backslash), a JSON object with the version (etag), content type and metadata, and
  the key, size and modification time of the data file it describes.

The sidecar is named by the data file's **inode number**, not by its key, so a version
and its metadata are bound together without a lock. A writer writes the data to a temp
file, writes the sidecar for the temp file's inode, and only then publishes the temp
file (``link(2)`` for create-only, ``rename(2)`` under the key's lock otherwise). A
reader opens the data file, reads the sidecar of the inode it holds open, and reads
the bytes from that same descriptor: it can never pair bytes of one version with the
metadata of another. A writer that replaces or deletes a version removes that
version's sidecar afterwards, while it still holds the old inode open (so the inode
number cannot be reused meanwhile); a reader that finds no sidecar for an inode whose
link count has dropped to zero knows it raced with that and reads again.

Files without a (matching) sidecar are still objects:

* a file starting with ``CSOBJ1 `` is a **legacy object** (the format before the
  sidecar: a one-line JSON header, then the bytes); ``cloudstores migrate-files URL``
  rewrites them in place, keeping their etags;
* any other regular file is a **plain object** (written by another tool, restored
  from a copy that changed inode numbers, or edited in place): its bytes as they are,
  no content type or metadata, and an etag derived from inode, modification time and
  size, so compare-and-swap still notices a change.

This relies on inode numbers that stay put while a file exists, as on every local file
system; where they do not (some FUSE or network mounts), objects read as plain files.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

import orjson

__all__ = [
    "HEADER_MAX",
    "MAGIC",
    "META_PREFIX",
    "SIDECAR_MAX",
    "Damaged",
    "Meta",
    "decode_sidecar",
    "encode_sidecar",
    "is_sidecar_name",
    "parse_legacy_header",
    "plain_etag",
    "sidecar_name",
]

MAGIC = b"CSOBJ1 "
"""The first bytes of a legacy object file (header line, then the body)."""
HEADER_MAX = 64 * 1024
"""Longest content type and metadata (encoded) a put accepts; longest legacy header."""
SIDECAR_MAX = HEADER_MAX + 4096
"""Longest sidecar a reader accepts (the header's bound plus the fixed fields)."""
META_PREFIX = ".\\meta-"
_FORMAT = 1


class Damaged(ValueError):
    """A sidecar or legacy header that cannot be read; the message says why."""


@dataclass(frozen=True, slots=True)
class Meta:
    """What a sidecar or legacy header says about one version."""

    etag: str
    content_type: str | None = None
    metadata: dict[str, str] = field(default_factory=dict)
    header_bytes: int = 0
    """Bytes before the body in the data file (a legacy header; 0 otherwise)."""


def sidecar_name(inode: int) -> str:
    return f"{META_PREFIX}{inode}"


def is_sidecar_name(name: str) -> bool:
    return name.startswith(META_PREFIX)


def encode_sidecar(
    key: str, st: os.stat_result, etag: str, content_type: str | None, metadata: dict[str, str]
) -> bytes:
    """The sidecar of data file ``st`` (its final size and modification time)."""
    return orjson.dumps(
        {
            "format": _FORMAT,
            "key": key,
            "inode": st.st_ino,
            "size": st.st_size,
            "mtime_ns": st.st_mtime_ns,
            "etag": etag,
            "content_type": content_type,
            "metadata": metadata,
        }
    )


def decode_sidecar(raw: bytes, key: str, st: os.stat_result) -> Meta | None:
    """The version a sidecar records for data file ``st`` of ``key``.

    None when it describes another file (another key, inode, size or modification
    time: a stale sidecar, or a data file edited in place); Damaged when unreadable.
    """
    if len(raw) > SIDECAR_MAX:
        raise Damaged(f"sidecar over {SIDECAR_MAX} bytes")
    try:
        doc: Any = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise Damaged(f"sidecar is not JSON ({exc})") from exc
    if not isinstance(doc, dict) or doc.get("format") != _FORMAT:
        raise Damaged("sidecar is not a format-1 object")
    describes = (doc.get("key"), doc.get("inode"), doc.get("size"), doc.get("mtime_ns"))
    if describes != (key, st.st_ino, st.st_size, st.st_mtime_ns):
        return None
    return _meta(doc, "sidecar", 0)


def parse_legacy_header(first: bytes) -> Meta:
    """The header line (with its ``\\n``) of a legacy object file."""
    if not first.startswith(MAGIC):
        raise Damaged("not a legacy object file")
    if not first.endswith(b"\n"):
        raise Damaged(f"no end of line within {HEADER_MAX} bytes")
    try:
        doc: Any = orjson.loads(first[len(MAGIC) :])
    except orjson.JSONDecodeError as exc:
        raise Damaged(f"not JSON ({exc})") from exc
    if not isinstance(doc, dict):
        raise Damaged("not a JSON object")
    return _meta(doc, "header", len(first))


def _meta(doc: dict[str, Any], what: str, header_bytes: int) -> Meta:
    etag = doc.get("etag")
    content_type = doc.get("content_type")
    metadata = doc.get("metadata", {})
    if not isinstance(etag, str) or not etag:
        raise Damaged(f"{what} has no etag")
    if content_type is not None and not isinstance(content_type, str):
        raise Damaged(f"{what}: content type is not text")
    if not isinstance(metadata, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in metadata.items()
    ):
        raise Damaged(f"{what}: metadata is not a map of text")
    return Meta(etag, content_type, metadata, header_bytes)


def plain_etag(st: os.stat_result) -> str:
    """The etag of a file without a sidecar: changes whenever the file is replaced or
    written (``p`` + inode, modification time and size in hex)."""
    return f"p{st.st_ino:x}-{st.st_mtime_ns:x}-{st.st_size:x}"
