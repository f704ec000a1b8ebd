"""One agent learns, all agents benefit, across processes (moto): a workflow saved by
this process is loaded and listed by another, and what that one saves is seen here."""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from cloudstores.adapters.py_code_mode import BucketStorage
from tests.adapters.py_code_mode.stubs import PythonWorkflow, workflow

ROOT = Path(__file__).resolve().parents[3]


def test_workflow_learned_in_one_process_is_used_by_another(make_bucket_url: Any) -> None:
    url = make_bucket_url("s3")
    factories: dict[str, Any] = {"workflow_factory": PythonWorkflow.from_data}
    with BucketStorage(url, prefix="prod", workspace_id="team-1", **factories) as storage:
        storage.get_workflow_store().save(workflow("analyze_sentiment", body="return 0.9"))
        access = dataclasses.asdict(storage.get_serializable_access())
        env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), str(ROOT)])}
        done = subprocess.run(
            [sys.executable, "-m", "tests.adapters.py_code_mode.worker", json.dumps(access)],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        assert done.returncode == 0, done.stderr[-2000:]
        said = json.loads(done.stdout.strip().splitlines()[-1])
        assert said == {"names": ["analyze_sentiment"], "found": True}
        seen = storage.get_artifact_store().load("seen.json")
        assert seen == {
            "names": ["analyze_sentiment"],
            "source": workflow("analyze_sentiment", body="return 0.9").source,
        }
        store = storage.get_workflow_store()
        assert sorted(w.name for w in store.list_all()) == ["analyze_sentiment", "from_worker"]
    # the unscoped namespace of the same prefix saw none of it
    with BucketStorage(url, prefix="prod", **factories) as unscoped:
        assert unscoped.get_workflow_store().list_all() == []
