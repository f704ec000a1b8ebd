"""``BucketArtifactRepository``: SynthOrg's ``ArtifactRepository`` on a document store.

One document per artifact id in the collection ``synthorg-artifacts`` (the artifact's
JSON, ``model_dump(mode="json")``), with ``task_id``, ``created_by`` and ``type`` in the
collection's index. ``save`` writes the next version (insert or update), ``delete``
writes a tombstone version: nothing is overwritten, so it works on a WORM bucket and
every earlier version stays readable through ``stores.documents(...).history(id)``.
"""

from __future__ import annotations

from typing import Any

from cloudstores.stores.documents import DocumentStore
from cloudstores.stores.workspace import Stores

from ._base import Repository, dump, load_model, plain

__all__ = ["ARTIFACT_FIELDS", "BucketArtifactRepository"]

ARTIFACT_FIELDS = {"task_id": "string", "created_by": "string", "type": "string"}
"""The artifact fields the collection's index holds (``list_artifacts`` filters)."""


class BucketArtifactRepository(Repository):
    """SynthOrg's ``ArtifactRepository`` (``save``, ``get``, ``list_artifacts``, ``delete``).

    Args:
        stores: borrowed :class:`~cloudstores.Stores` (or use :meth:`from_url`).
        collection: the document collection (``[A-Za-z0-9._-]``).
        model: the ``Artifact`` class results are built with; default SynthOrg's
            (``synthorg.core.artifact.Artifact``) when installed, else plain dicts.
        errors: SynthOrg's error classes (see :mod:`.errors`).
    """

    def __init__(
        self,
        stores: Stores,
        *,
        collection: str = "synthorg-artifacts",
        model: Any = None,
        errors: Any = None,
    ) -> None:
        super().__init__(stores, errors=errors)
        self.model = load_model(model, "synthorg.core.artifact", "Artifact")
        self.collection = collection
        self._docs()  # validates the name and declares the fields (no request)

    def _docs(self) -> DocumentStore:
        return self.stores.documents(self.collection, fields=ARTIFACT_FIELDS)

    def _artifact(self, value: Any) -> Any:
        return value if self.model is None else self.model.model_validate(value)

    async def save(self, artifact: Any) -> None:
        """Insert or replace the artifact with this id. Cost: 1 PUT when this process
        wrote it last, else 1 LIST + 1 GET + 1 PUT; plus its index entry (grouped)."""
        data = dump(artifact, "artifact")
        artifact_id = data.get("id")
        if not isinstance(artifact_id, str) or not artifact_id.strip():
            raise self.errors.invalid("artifact.id must be a non-blank string")
        await self._call(self._docs().put(artifact_id, data))

    async def get(self, artifact_id: str) -> Any | None:
        """The artifact, or None. Cost: 1 LIST (+ 1 GET unless cached)."""
        if not isinstance(artifact_id, str):
            raise self.errors.invalid("artifact_id must be a string")
        found = await self._call(self._docs().get_or_none(artifact_id))
        return None if found is None else self._artifact(found.value)

    async def list_artifacts(
        self,
        *,
        task_id: str | None = None,
        created_by: str | None = None,
        artifact_type: Any = None,
    ) -> tuple[Any, ...]:
        """Artifacts matching every filter given, ordered by id. Cost: the index
        query (warm: 1 GET) and one GET per artifact returned."""
        where = {
            name: plain(value)
            for name, value in (
                ("task_id", task_id),
                ("created_by", created_by),
                ("type", artifact_type),
            )
            if value is not None
        }
        found = await self._call(self._docs().query_all(where=where))
        found.sort(key=lambda d: d.id)
        return tuple(self._artifact(d.value) for d in found)

    async def delete(self, artifact_id: str) -> bool:
        """Hide the artifact with a tombstone version; True if it existed."""
        if not isinstance(artifact_id, str):
            raise self.errors.invalid("artifact_id must be a string")
        return await self._call(self._docs().delete(artifact_id))
