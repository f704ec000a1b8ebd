"""Binex (``binex`` 0.8.1) backends: ``pip install 'cloudstores[binex]'``.

```python
from binex.runtime.orchestrator import Orchestrator
from cloudstores.adapters.binex import BucketArtifactStore, BucketExecutionStore

orch = Orchestrator(
    artifact_store=BucketArtifactStore.from_url(url, workspace="team-a"),
    execution_store=BucketExecutionStore.from_url(url, workspace="team-a"),
)
```
Each class implements its Binex protocol (``binex.stores.ArtifactStore``,
``binex.stores.ExecutionStore``) in full, plus ``close()``. ``X.from_url(url, *,
workspace=None, **options)`` opens stores it owns and closes in ``close()``;
``X(stores)`` borrows an open :class:`~cloudstores.stores.workspace.Stores`.
Where our semantics differ from Binex's own backends: docs/frameworks.md.
"""

from cloudstores.adapters.binex.artifacts import BucketArtifactStore
from cloudstores.adapters.binex.executions import BucketExecutionStore

__all__ = ["BucketArtifactStore", "BucketExecutionStore"]
