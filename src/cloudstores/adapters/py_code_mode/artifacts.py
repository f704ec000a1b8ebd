"""``BucketArtifactStore``: py-code-mode's ``ArtifactStoreProtocol`` on two collections.

An artifact is two documents of the storage's workspace, like py-code-mode's Redis
store (a data key and an index hash entry): its bytes in ``pcm-artifact-data`` (a bytes
document: raw, content-addressed, no base64) and its metadata in ``pcm-artifacts``
(``{"name", "description", "created_at", "metadata", "scope"}``, ``metadata`` holding
``_data_type``: ``bytes``, ``json`` or ``text``). ``save`` writes the data first and
the metadata last, so the metadata is the commit point: a crash in between leaves data
nobody lists, never an entry without data. ``delete`` tombstones the metadata first.
Data is at most 4 MiB (the documents' ``max_document_bytes``).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from cloudstores.errors import InvalidInputError
from cloudstores.ids import encode_id
from cloudstores.stores.workspace import Stores

from ._common import Blocking, framework, not_found, read_error, scoped_id

__all__ = ["ARTIFACTS", "ARTIFACT_DATA", "BucketArtifactStore", "StoredArtifact"]

ARTIFACTS = "pcm-artifacts"
ARTIFACT_DATA = "pcm-artifact-data"


@dataclass
class StoredArtifact:
    """Artifact metadata, when py-code-mode is not installed (its ``Artifact`` otherwise)."""

    name: str
    path: str
    description: str
    metadata: dict[str, Any] = field(default_factory=dict)
    created_at: datetime = field(default_factory=lambda: datetime.now(UTC))


ArtifactFactory = Callable[..., Any]


def _default_factory() -> ArtifactFactory:
    found = framework("py_code_mode.artifacts", "Artifact")
    return found if callable(found) else StoredArtifact


def _check_name(name: object) -> str:
    if not isinstance(name, str) or not name:
        raise InvalidInputError(f"artifact name must be a non-empty str, not {name!r}")
    return name


def _encode(data: object) -> tuple[bytes, str]:
    """The stored bytes and ``_data_type`` of a value, as py-code-mode's stores do."""
    if isinstance(data, bytes):
        return data, "bytes"
    if isinstance(data, dict | list):
        try:
            return json.dumps(data).encode(), "json"
        except (TypeError, ValueError) as exc:
            raise InvalidInputError(f"artifact data is not JSON: {exc}") from exc
    return str(data).encode("utf-8", errors="surrogatepass"), "text"


class BucketArtifactStore:
    """py-code-mode's artifact store (``save``, ``load``, ``get``, ``list``, ``exists``,
    ``delete``, ``register``) on a bucket, blocking.

    Costs: ``save`` 2 document writes (data: blob PUT + version PUT; metadata: 1 PUT;
    +1 LIST and 1 GET each when this process has not seen the artifact) and their index
    entries; ``load`` 2 reads (1 LIST each, +1 GET each unless cached, +1 GET of the
    blob); ``get``/``exists`` 1 read; ``list`` the index query and one GET per artifact
    of the namespace (metadata only, never the data); ``delete`` 2 tombstone writes.
    """

    def __init__(
        self,
        blocking: Blocking,
        *,
        path: str,
        workspace_id: str | None = None,
        artifact_factory: ArtifactFactory | None = None,
    ) -> None:
        self._blocking = blocking
        self._path = path
        self.workspace_id = workspace_id
        self._artifact = artifact_factory or _default_factory()

    @property
    def path(self) -> str:
        """Where this store's data lives (the bucket, without credentials, and the keys)."""
        return self._path

    def _id(self, name: str) -> str:
        return scoped_id(self.workspace_id, name)

    def _locate(self, name: str) -> str:
        return f"{self._path}/{encode_id(self._id(name))}"

    def _meta_docs(self, stores: Stores) -> Any:
        return self._blocking.docs(stores, ARTIFACTS)

    def _data_docs(self, stores: Stores) -> Any:
        return self._blocking.docs(stores, ARTIFACT_DATA)

    def _build(self, entry: Any, *, public: bool = False) -> Any:
        try:
            metadata = dict(entry["metadata"])
            if public:
                metadata.pop("_data_type", None)
            return self._artifact(
                name=entry["name"],
                path=self._locate(entry["name"]),
                description=entry["description"],
                metadata=metadata,
                created_at=datetime.fromisoformat(entry["created_at"]),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise read_error(f"Failed to read artifact metadata: {exc}") from exc

    def save(
        self,
        name: str,
        data: str | bytes | dict[str, Any] | list[Any],
        description: str = "",
        metadata: dict[str, Any] | None = None,
    ) -> Any:
        """Store ``data`` as artifact ``name`` (replacing one of that name); return its
        metadata (without ``_data_type``, as py-code-mode's stores return it)."""
        _check_name(name)
        raw, data_type = _encode(data)
        entry = {
            "name": name,
            "description": str(description),
            "created_at": datetime.now(UTC).isoformat(),
            "metadata": {**(metadata or {}), "_data_type": data_type},
            "scope": self.workspace_id,
        }

        async def work(stores: Stores) -> None:
            await self._data_docs(stores).put(self._id(name), raw)
            await self._meta_docs(stores).put(self._id(name), entry)

        self._blocking.run(work)
        return self._build(entry, public=True)

    def register(self, name: str, description: str, metadata: dict[str, Any] | None = None) -> Any:
        """Describe an artifact whose data is already stored (ArtifactNotFoundError if
        it is not); keeps the data type recorded at save time."""
        _check_name(name)

        async def work(stores: Stores) -> Any:
            if await self._data_docs(stores).get_or_none(self._id(name)) is None:
                raise not_found(name)
            old = await self._meta_docs(stores).get_or_none(self._id(name))
            kept = old.value["metadata"].get("_data_type") if old is not None else None
            entry = {
                "name": name,
                "description": str(description),
                "created_at": datetime.now(UTC).isoformat(),
                "metadata": {**(metadata or {}), "_data_type": kept or "text"},
                "scope": self.workspace_id,
            }
            await self._meta_docs(stores).put(self._id(name), entry)
            return entry

        entry = self._blocking.run(work)
        return self._build(entry, public=True)

    def load(self, name: str) -> Any:
        """The artifact's content: bytes, the JSON value, or text, by the type it was
        saved with. ArtifactNotFoundError if there is no such artifact."""
        _check_name(name)

        async def work(stores: Stores) -> tuple[Any, Any]:
            meta = await self._meta_docs(stores).get_or_none(self._id(name))
            if meta is None:
                return None, None
            return meta.value, await self._data_docs(stores).get_or_none(self._id(name))

        meta, data = self._blocking.run(work)
        if meta is None or data is None or not isinstance(data.value, bytes):
            raise not_found(name)
        data_type = meta.get("metadata", {}).get("_data_type")
        raw: bytes = data.value
        if data_type == "bytes":
            return raw
        text = raw.decode("utf-8", errors="surrogatepass")
        if data_type == "json" or name.endswith(".json"):
            try:
                return json.loads(text)
            except ValueError as exc:
                raise read_error(f"Failed to parse JSON artifact {name!r}: {exc}") from exc
        return text

    def get(self, name: str) -> Any | None:
        """The artifact's metadata (``_data_type`` included, as py-code-mode's stores
        return it), or None."""
        _check_name(name)
        found = self._blocking.run(lambda s: self._meta_docs(s).get_or_none(self._id(name)))
        return None if found is None else self._build(found.value)

    def list(self) -> list[Any]:
        """Every artifact of this namespace, by name."""

        async def work(stores: Stores) -> list[Any]:
            found = await self._meta_docs(stores).query_all(where={"scope": self.workspace_id})
            return [d.value for d in found]

        entries = sorted(self._blocking.run(work), key=lambda e: str(e.get("name")))
        return [self._build(e) for e in entries]

    def exists(self, name: str) -> bool:
        return self.get(name) is not None

    def delete(self, name: str) -> None:
        """Remove the artifact (tombstones: metadata first, then data). No error if
        there is none."""
        _check_name(name)

        async def work(stores: Stores) -> None:
            await self._meta_docs(stores).delete(self._id(name))
            await self._data_docs(stores).delete(self._id(name))

        self._blocking.run(work)
