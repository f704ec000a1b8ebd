"""py-code-mode storage on a bucket: workflows and artifacts shared by every agent.

::

    from cloudstores.adapters.py_code_mode import BucketStorage

    storage = BucketStorage("s3://agents/pcm?region=eu-west-1", prefix="prod", workspace_id="a")
    storage.get_workflow_store().save(workflow)       # every process sees it at once
    storage.get_artifact_store().save("scan.json", {"hosts": 3})

py-code-mode is not on PyPI: nothing here imports it unless it is installed (its
``PythonWorkflow`` and ``Artifact`` are then built by default). See docs/frameworks.md for
every place where this differs from py-code-mode's FileStorage and RedisStorage.
"""

from ._common import ArtifactNotFoundError, StorageReadError
from .artifacts import ARTIFACT_DATA, ARTIFACTS, BucketArtifactStore, StoredArtifact
from .storage import DEFAULT_PREFIX, BucketStorage, BucketStorageAccess
from .workflows import WORKFLOWS, BucketWorkflowStore, StoredWorkflow

__all__ = [
    "ARTIFACTS",
    "ARTIFACT_DATA",
    "DEFAULT_PREFIX",
    "WORKFLOWS",
    "ArtifactNotFoundError",
    "BucketArtifactStore",
    "BucketStorage",
    "BucketStorageAccess",
    "BucketWorkflowStore",
    "StorageReadError",
    "StoredArtifact",
    "StoredWorkflow",
]
