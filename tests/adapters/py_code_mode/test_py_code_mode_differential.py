"""Ours against the reference of py-code-mode's RedisStorage (reference.py): the same
random call sequence (fixed seed) over three namespaces and two storage objects per
namespace (two "agents"), every result and error compared.

Differences (listed in docs/frameworks.md; compared around here so the list stays true):

* ``list_all`` / ``list`` order: Redis gives hash order, ours name order: compared sorted.
* Workflow metadata on load: Redis makes it up (now, ``unknown``); ours keeps the
  saver's ``created_by`` and ``created_at``: not compared.
* Artifact ``path``: a Redis key there, a bucket location here; ``created_at``: the
  clock at save on both sides: not compared.
"""

from __future__ import annotations

import random
from dataclasses import asdict
from typing import Any

from cloudstores.adapters.py_code_mode import ArtifactNotFoundError, BucketStorage
from tests.adapters.py_code_mode.reference import (
    ArtifactNotFound,
    Redis,
    ReferenceArtifactStore,
    ReferenceWorkflowStore,
)
from tests.adapters.py_code_mode.stubs import Artifact, PythonWorkflow, workflow

OPERATIONS = 360
SCOPES = [None, "client-a", "client-b"]
NAMES = ["alpha", "beta", "gamma", "_private", "delta2"]
ARTIFACTS = ["a.txt", "b.json", "dir/c", "d.bin", "e.json"]


def _data(rng: random.Random) -> Any:
    return rng.choice(
        [b"\x00\x01raw", b"", "plain text", "ünï", {"k": [1, 2.5, None]}, [1, "two"], 7, '{"j": 1}']
    )


def _wf(value: Any) -> Any:
    if isinstance(value, PythonWorkflow):
        return (value.name, value.description, value.source, [asdict(p) for p in value.parameters])
    if isinstance(value, list) and all(isinstance(v, PythonWorkflow) for v in value):
        return sorted((_wf(v) for v in value), key=lambda t: t[0])
    return value


def _art(value: Any) -> Any:
    if isinstance(value, Artifact):
        return (value.name, value.description, value.metadata)
    if isinstance(value, list) and all(isinstance(v, Artifact) for v in value):
        return sorted((_art(v) for v in value), key=lambda t: t[0])
    return value


def _call(fn: Any, *args: Any) -> tuple[str, Any]:
    try:
        return "ok", fn(*args)
    except (ArtifactNotFoundError, ArtifactNotFound):
        return "not found", None
    except ValueError:
        return "ValueError", None


def test_differential_against_the_redis_reference(make_bucket_url: Any) -> None:
    url = make_bucket_url("memory")
    rng = random.Random(20261126)
    redis = Redis()
    refs = {
        s: (
            ReferenceWorkflowStore(redis, f"prod:{s or ''}:workflows"),
            ReferenceArtifactStore(redis, f"prod:{s or ''}:artifacts"),
        )
        for s in SCOPES
    }
    factories: dict[str, Any] = {
        "workflow_factory": PythonWorkflow.from_data,
        "artifact_factory": Artifact,
    }
    agents = {
        (s, k): BucketStorage(url, prefix="prod", workspace_id=s, **factories)
        for s in SCOPES
        for k in (0, 1)
    }
    seen: dict[str, int] = {}
    try:
        for n in range(OPERATIONS):
            scope = rng.choice(SCOPES)
            storage = agents[(scope, rng.randrange(2))]
            wf_ref, art_ref = refs[scope]
            wf, art = storage.get_workflow_store(), storage.get_artifact_store()
            op = rng.choice(
                [
                    "w_save",
                    "w_save",
                    "w_load",
                    "w_delete",
                    "w_exists",
                    "w_list",
                    "w_len",
                    "a_save",
                    "a_save",
                    "a_load",
                    "a_get",
                    "a_list",
                    "a_exists",
                    "a_delete",
                ]
            )
            name, aname = rng.choice(NAMES), rng.choice(ARTIFACTS)
            if op == "w_save":
                w = workflow(
                    name, body=f"return {rng.randrange(5)}", description=rng.choice(["", "d"])
                )
                got, want = _call(wf.save, w), _call(wf_ref.save, w)
            elif op in ("w_load", "w_delete", "w_exists"):
                method = op[2:]
                got, want = _call(getattr(wf, method), name), _call(getattr(wf_ref, method), name)
            elif op == "w_list":
                got, want = _call(wf.list_all), _call(wf_ref.list_all)
            elif op == "w_len":
                got, want = _call(len, wf), _call(len, wf_ref)
            elif op == "a_save":
                data, desc = _data(rng), rng.choice(["", "desc"])
                meta = rng.choice([None, {"tag": rng.randrange(3)}])
                got, want = (
                    _call(art.save, aname, data, desc, meta),
                    _call(art_ref.save, aname, data, desc, meta),
                )
            elif op == "a_list":
                got, want = _call(art.list), _call(art_ref.list)
            else:
                method = op[2:]
                got, want = (
                    _call(getattr(art, method), aname),
                    _call(getattr(art_ref, method), aname),
                )
            if op.startswith("w_"):
                got, want = (got[0], _wf(got[1])), (want[0], _wf(want[1]))
            else:
                got, want = (got[0], _art(got[1])), (want[0], _art(want[1]))
            assert got == want, (n, op, scope, name, aname, got, want)
            outcome = got[0] if got[0] != "ok" else ("value" if got[1] else "empty/none")
            seen[f"{op}:{outcome}"] = seen.get(f"{op}:{outcome}", 0) + 1
        for kind in (
            "w_load:value",
            "w_list:value",
            "a_load:value",
            "a_load:not found",
            "a_load:ValueError",
            "w_delete:value",
            "a_list:value",
        ):
            assert seen.get(kind), (kind, seen)
        print(f"\n{OPERATIONS} operations, outcomes {sorted(seen.items())}: all equal")
    finally:
        for s in agents.values():
            s.close()
