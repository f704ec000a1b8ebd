"""Where the audit store keeps its objects (all in the ``audit`` area of
:mod:`cloudstores.stores.layout`)::

    ws/{workspace}/audit/{stream}/e/{seq:020d}.json    entry object: entries seq.. (a batch
                                                       is keyed by its FIRST seq)
    ws/{workspace}/audit/{stream}/cp/{size:020d}.json  checkpoint sealing entries 0..size-1
    ws/{workspace}/audit/{stream}/k/{sha256(key)}/m    unique-key marker: the key's claim
                                                       (the event, its ts, a lower bound seq)
    ws/{workspace}/audit/{stream}/k/{sha256(key)}/s    the key's binding: the seq it landed at
    ws/{workspace}/audit/{stream}/ix/{schema}/...      the query index of declared fields
                                                       (an Index v2 under ``ix/{schema}/``,
                                                       its coverage marks under ``w/``)
    ws/{workspace}/audit/{stream}/tile/<L>/<N>         full Merkle hash tile (C2SP tlog-tiles
                                                       path; partial tiles live in checkpoints)
    ws/{workspace}/audit/{stream}/cosig/{size:020d}/{witness}
                                                       a witness's cosignature of checkpoint
                                                       size (create-only, written by the
                                                       witness: see ``witnessing``)
    ws/{workspace}/audit/~streams/{stream}             stream registry marker (empty body)

``~`` cannot occur in a stream name (``[A-Za-z0-9._-]``), so the registry never
collides with a stream's own prefix.
"""

from __future__ import annotations

import hashlib

from cloudstores.keys import numbered_key, validate_id
from cloudstores.stores.layout import WorkspaceLayout

__all__ = ["StreamKeys", "audit_prefix", "registry_prefix", "validate_stream"]


def validate_stream(stream: object) -> str:
    """A stream name: ``[A-Za-z0-9._-]``, 1..256 characters, no ``..`` (InvalidIdError)."""
    return validate_id(stream, what="stream")


def audit_prefix(workspace: str) -> str:
    return WorkspaceLayout(workspace).area("audit")


def registry_prefix(workspace: str) -> str:
    return f"{audit_prefix(workspace)}~streams/"


class StreamKeys:
    """The keys of one stream."""

    __slots__ = (
        "base",
        "cosig_prefix",
        "cp_prefix",
        "e_prefix",
        "k_prefix",
        "registry",
        "stream",
        "tile_prefix",
    )

    def __init__(self, workspace: str, stream: str) -> None:
        self.stream = stream
        base = self.base = f"{audit_prefix(workspace)}{stream}/"
        self.k_prefix = base + "k/"
        self.e_prefix = base + "e/"
        self.cp_prefix = base + "cp/"
        self.cosig_prefix = base + "cosig/"
        self.tile_prefix = base  # + "tile/<L>/<N>" (cloudstores.tlog.tiles.tile_path)
        self.registry = registry_prefix(workspace) + stream

    def entry(self, seq: int) -> str:
        return numbered_key(self.e_prefix, seq)

    def checkpoint(self, size: int) -> str:
        return numbered_key(self.cp_prefix, size)

    def cosig(self, size: int, witness: str) -> str:
        """Where ``witness`` (its id: ``cosigs.witness_id``) cosigned checkpoint ``size``."""
        return f"{self.cosig_prefix}{size:020d}/{witness}"

    def tile(self, path: str) -> str:
        """The key of a tile from its C2SP path (``tile/0/x001/234``)."""
        return self.tile_prefix + path

    def key_marker(self, key: str) -> str:
        """The create-only claim of a unique key (named by the key's SHA-256, so any key
        text fits in a bucket key)."""
        return f"{self.k_prefix}{_digest(key)}/m"

    def key_binding(self, key: str) -> str:
        """Where the seq a unique key landed at is recorded (create-only)."""
        return f"{self.k_prefix}{_digest(key)}/s"

    def index_prefix(self, schema_id: str) -> str:
        """The prefix of the query index built for one declared-field schema."""
        return f"{self.base}ix/{schema_id}/"


def _digest(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()
