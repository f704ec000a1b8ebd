"""BucketArtifactStore: Binex's ``ArtifactStore`` protocol on a documents collection.

Binex reuses artifact ids across runs (its hello workflow names them ``art_{node_id}``)
and stores an artifact again under the same id when a node re-runs. So each artifact is
one document per ``(run_id, id)`` (a new version when stored again), and ``get(id)``
returns the one stored last, across runs, as Binex's memory store does; the artifacts
of an older run stay listed under that run (Binex's memory store drops them).
"""

from __future__ import annotations

import asyncio
from typing import Any

from binex.models.artifact import Artifact

from cloudstores import codec
from cloudstores.adapters.binex._base import StoresAdapter
from cloudstores.errors import InvalidInputError
from cloudstores.stores.documents import DocumentStore

__all__ = ["ARTIFACTS", "BucketArtifactStore"]

ARTIFACTS = "binex.artifacts"
"""The documents collection of the artifacts (fields ``id`` and ``run_id``)."""
_FIELDS = ("id", "run_id")


def _doc_id(run_id: str, artifact_id: str) -> str:
    """One document per (run, artifact id): JSON text of the pair (injective)."""
    return codec.dumps([run_id, artifact_id]).decode()


def _check(value: object, what: str) -> str:
    if not isinstance(value, str) or not value:
        raise InvalidInputError(f"{what} must be a non-empty str, not {value!r:.100}")
    return value


class BucketArtifactStore(StoresAdapter):
    """Binex artifacts in a bucket: ``BucketArtifactStore.from_url(url)`` or ``(stores)``.

    Costs (warm index): ``store`` 1 LIST + 1 PUT + the index entry; ``get`` the index
    query + 1 GET; ``list_by_run`` the index query + 1 GET per artifact;
    ``get_lineage`` one ``get`` per ancestor, one generation at a time.
    """

    @property
    def _docs(self) -> DocumentStore:
        return self.stores.documents(ARTIFACTS, fields=_FIELDS)

    async def store(self, artifact: Artifact) -> None:
        """Store ``artifact`` (again: a new version of its ``(run_id, id)`` document)."""
        if not isinstance(artifact, Artifact):
            raise InvalidInputError(f"expected a binex Artifact, not {type(artifact).__name__}")
        _check(artifact.id, "artifact id")
        _check(artifact.run_id, "run_id")
        value = artifact.model_dump(mode="json")
        await self._docs.put(_doc_id(artifact.run_id, artifact.id), value)

    async def get(self, artifact_id: str) -> Artifact | None:
        """The artifact stored last under ``artifact_id`` (any run); None if none."""
        _check(artifact_id, "artifact id")
        return await self._newest(artifact_id)

    async def _newest(self, artifact_id: str) -> Artifact | None:
        if not artifact_id:
            return None
        page = await self._docs.query(
            where={"id": artifact_id}, order_by="_commit", descending=True, limit=1
        )
        return _artifact(page.documents[0].value) if page.documents else None

    async def list_by_run(self, run_id: str) -> list[Artifact]:
        """The artifacts of ``run_id``, in the order they were first stored."""
        _check(run_id, "run_id")
        page = await self._docs.query(where={"run_id": run_id}, order_by="created_at")
        return [_artifact(d.value) for d in page.documents]

    async def get_lineage(self, artifact_id: str) -> list[Artifact]:
        """The ancestors of ``artifact_id`` through ``derived_from``, breadth first, each
        once, without the artifact itself; ids that resolve to nothing are skipped."""
        _check(artifact_id, "artifact id")
        seen = {artifact_id}
        out: list[Artifact] = []
        frontier = [artifact_id]
        root = True
        while frontier:
            found = await asyncio.gather(*(self._newest(i) for i in frontier))
            following: list[str] = []
            for art in found:
                if art is None:
                    continue
                if not root:
                    out.append(art)
                for parent in art.lineage.derived_from:
                    if parent not in seen:
                        seen.add(parent)
                        following.append(parent)
            frontier, root = following, False
        return out


def _artifact(value: Any) -> Artifact:
    return Artifact.model_validate(value)
