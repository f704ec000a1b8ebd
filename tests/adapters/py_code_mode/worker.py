"""Another agent process of test_py_code_mode_processes: open the storage described by
the first process, read the workflow it learned, and save what it found as an artifact.

    python -m tests.adapters.py_code_mode.worker ACCESS_JSON
"""

from __future__ import annotations

import json
import sys

from cloudstores.adapters.py_code_mode import BucketStorage, BucketStorageAccess
from tests.adapters.py_code_mode.stubs import PythonWorkflow


def main(access_json: str) -> None:
    access = BucketStorageAccess(**json.loads(access_json))
    with BucketStorage.from_access(access, workflow_factory=PythonWorkflow.from_data) as storage:
        workflows = storage.get_workflow_store()
        learned = workflows.load("analyze_sentiment")
        names = [w.name for w in workflows.list_all()]
        storage.get_artifact_store().save(
            "seen.json", {"names": names, "source": learned.source if learned else None}
        )
        workflows.save(
            PythonWorkflow.from_data(
                {"name": "from_worker", "description": "b", "source": "async def run(): ..."}
            )
        )
    print(json.dumps({"names": names, "found": learned is not None}))


if __name__ == "__main__":
    main(sys.argv[1])
