"""Where the audit store keeps its objects (all under ``keys.workspace_prefix``)::

    ws/{workspace}/audit/{stream}/e/{seq:020d}.json    entry object: entries seq.. (a batch
                                                       is keyed by its FIRST seq)
    ws/{workspace}/audit/{stream}/cp/{size:020d}.json  checkpoint sealing entries 0..size-1
    ws/{workspace}/audit/{stream}/tile/<L>/<N>         full Merkle hash tile (C2SP tlog-tiles
                                                       path; partial tiles live in checkpoints)
    ws/{workspace}/audit/~streams/{stream}             stream registry marker (empty body)

``~`` cannot occur in a stream name (``[A-Za-z0-9._-]``), so the registry never
collides with a stream's own prefix.
"""

from __future__ import annotations

from cloudstores.keys import numbered_key, validate_id, workspace_prefix

__all__ = ["StreamKeys", "audit_prefix", "registry_prefix", "validate_stream"]


def validate_stream(stream: object) -> str:
    """A stream name: ``[A-Za-z0-9._-]``, 1..256 characters, no ``..`` (InvalidIdError)."""
    return validate_id(stream, what="stream")


def audit_prefix(workspace: str) -> str:
    return f"{workspace_prefix(workspace)}audit/"


def registry_prefix(workspace: str) -> str:
    return f"{audit_prefix(workspace)}~streams/"


class StreamKeys:
    """The keys of one stream."""

    __slots__ = ("cp_prefix", "e_prefix", "registry", "stream", "tile_prefix")

    def __init__(self, workspace: str, stream: str) -> None:
        self.stream = stream
        base = f"{audit_prefix(workspace)}{stream}/"
        self.e_prefix = base + "e/"
        self.cp_prefix = base + "cp/"
        self.tile_prefix = base  # + "tile/<L>/<N>" (cloudstores.tlog.tiles.tile_path)
        self.registry = registry_prefix(workspace) + stream

    def entry(self, seq: int) -> str:
        return numbered_key(self.e_prefix, seq)

    def checkpoint(self, size: int) -> str:
        return numbered_key(self.cp_prefix, size)

    def tile(self, path: str) -> str:
        """The key of a tile from its C2SP path (``tile/0/x001/234``)."""
        return self.tile_prefix + path
