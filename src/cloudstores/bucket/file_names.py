"""How the file backend names keys on disk (pure functions, no I/O).

A key ``a/b/c`` is the file ``a/b/c`` under the root: one directory level per key
segment. A segment longer than ``NAME_MAX`` bytes (255, the limit of ext4, XFS,
Btrfs, ZFS, tmpfs and APFS) cannot be one file name, yet keys allow segments of up
to 1,024 bytes (``{id}.json`` alone reaches 261 for a 256-character id). Such a
segment becomes a chain of directories, each named by the next ``CHUNK`` bytes of
the segment and a backslash, ending in a plain name holding the rest::

    600-byte segment S  ->  S[0:254]\\ / S[254:508]\\ / S[508:600]

Keys never contain a backslash (``validate_key`` refuses it), so every name on disk
has one reading:

* no backslash: a whole segment;
* its only backslash at the end: the segment continues inside that directory;
* starting with ``TEMP_PREFIX``: a file being written (never a key);
* anything else: foreign, ignored.

The chain is a function of the segment alone (each chunk is the longest run of whole
UTF-8 characters within ``CHUNK`` bytes), so a key has exactly one path and a path
decodes to at most one key; a planted chain that is not the canonical one decodes to
nothing and is ignored. Listing sorts the decoded keys, so the on-disk order of the
names never shows.
"""

from __future__ import annotations

__all__ = [
    "CHUNK",
    "MARK",
    "NAME_MAX",
    "TEMP_PREFIX",
    "continuation_chunk",
    "decodes_to",
    "key_names",
    "segment_names",
]

NAME_MAX = 255
CHUNK = NAME_MAX - 1
MARK = "\\"
TEMP_PREFIX = MARK + "tmp-"


def segment_names(segment: str) -> list[str]:
    """The file names that hold one key segment: itself, or a chain of chunks."""
    data = segment.encode("utf-8")
    if len(data) <= NAME_MAX:
        return [segment]
    names: list[str] = []
    while len(data) > NAME_MAX:
        cut = CHUNK
        while data[cut] & 0xC0 == 0x80:  # never split a UTF-8 character
            cut -= 1
        names.append(data[:cut].decode("utf-8") + MARK)
        data = data[cut:]
    names.append(data.decode("utf-8"))
    return names


def key_names(key: str) -> list[str]:
    """Every path component of ``key`` under the root, in order."""
    return [name for segment in key.split("/") for name in segment_names(segment)]


def continuation_chunk(name: str) -> str | None:
    """The chunk a continuation directory carries, or None if ``name`` is not one."""
    if len(name) > 1 and name.endswith(MARK) and name.count(MARK) == 1:
        return name[:-1]
    return None


def decodes_to(chain: tuple[str, ...]) -> str | None:
    """The segment a chain of names (continuations, then a plain name) holds, if canonical."""
    if not chain or MARK in chain[-1]:
        return None
    chunks = []
    for name in chain[:-1]:
        chunk = continuation_chunk(name)
        if chunk is None:
            return None
        chunks.append(chunk)
    segment = "".join(chunks) + chain[-1]
    try:
        canonical = segment_names(segment)
    except UnicodeEncodeError:  # undecodable bytes in a foreign name
        return None
    return segment if canonical == list(chain) else None
