"""Plain value types of the bucket layer: versions, write modes, object descriptions."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal, TypeAlias

__all__ = ["IfMatch", "ObjectInfo", "PutMode", "StoredObject", "Version"]


@dataclass(frozen=True, slots=True)
class Version:
    """What a backend needs for compare-and-swap on one object.

    Named as Apache Arrow's ``object_store`` (and obstore) name them: ``etag`` is the
    entity tag (S3, Azure, file, memory); ``version`` is a backend's own version id
    (GCS: the object generation, as a decimal string). A driver fills what its backend
    has and uses, for ``IfMatch``, the field its backend needs. A ``Version`` from one
    backend means nothing to another.
    """

    etag: str | None = None
    version: str | None = None

    def __str__(self) -> str:
        return self.version or self.etag or ""


@dataclass(frozen=True, slots=True)
class IfMatch:
    """Write mode: replace the object only if it is still at ``version``."""

    version: Version


PutMode: TypeAlias = Literal["create", "overwrite"] | IfMatch
"""``"create"``: only if absent. ``"overwrite"``: unconditionally. ``IfMatch(v)``: CAS."""


@dataclass(frozen=True, slots=True, kw_only=True)
class ObjectInfo:
    """An object's description without its body (from ``head`` or ``list``).

    ``list`` results may leave ``content_type`` as None and ``metadata`` empty where
    the backend's listing does not return them.
    """

    key: str
    size: int
    version: Version
    last_modified: datetime | None = None
    content_type: str | None = None
    metadata: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True, kw_only=True)
class StoredObject:
    """An object's body with its description (from ``get``)."""

    key: str
    data: bytes
    version: Version
    last_modified: datetime | None = None
    content_type: str | None = None
    metadata: Mapping[str, str] = field(default_factory=dict)

    @property
    def size(self) -> int:
        return len(self.data)

    def info(self) -> ObjectInfo:
        return ObjectInfo(
            key=self.key,
            size=self.size,
            version=self.version,
            last_modified=self.last_modified,
            content_type=self.content_type,
            metadata=self.metadata,
        )
