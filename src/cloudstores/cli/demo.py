"""The demo job: one small agent run stored in a bucket, to look at with the CLI.

``cloudstores demo`` and ``make demo`` (``examples/demo.py``, which then shows what was
stored) both run :func:`run_demo`. It imports neither typer nor rich, so it runs
without the ``cli`` extra.

A research agent of three steps (plan, search, draft): a workflow snapshot; a run
summary with a version per step; an execution record and an artifact (with lineage)
per step; and an audit stream ``run-events`` with a checkpoint, signed when a signer
is given. About 40 requests.
"""

from __future__ import annotations

import time
import uuid

from cloudstores.models import Artifact, ExecutionRecord, Lineage, RunSummary
from cloudstores.stores.audit import Signer
from cloudstores.stores.workspace import open_stores

__all__ = ["DEMO_STREAM", "DEMO_WORKFLOW", "run_demo"]

DEMO_STREAM = "run-events"
DEMO_WORKFLOW = """\
name: research-brief
nodes:
  - plan
  - search
  - draft
"""
_MODEL = "demo-model-1"
_COST = 0.0015  # per step
_STEPS = (  # task, agent, inputs, output
    ("plan", "planner", (), {"plan": ["search", "draft"]}),
    ("search", "searcher", ("plan",), {"hits": ["S3 Object Lock", "Azure WORM"]}),
    ("draft", "writer", ("search",), {"text": "Keep audit logs in a hash chain."}),
)


async def run_demo(url: str, *, workspace: str, signer: Signer | None = None) -> str:
    """Store one demo run in ``workspace`` at ``url``; return its run id."""
    run_id = f"run-{uuid.uuid4().hex[:8]}"
    async with open_stores(url, workspace=workspace, audit_signer=signer) as stores:
        ex, arts, audit = stores.executions, stores.artifacts, stores.audit
        workflow_hash = await ex.store_workflow_snapshot(DEMO_WORKFLOW, version=1)
        summary = await ex.create_run(
            RunSummary(
                run_id=run_id,
                workflow_name="research-brief",
                total_nodes=len(_STEPS),
                user_id="demo-user",
                workflow_hash=workflow_hash,
                data={"question": "Which bucket is best for audit logs?"},
            )
        )
        await audit.append(DEMO_STREAM, {"event": "run_started", "run_id": run_id})
        for done, (task, agent, inputs, content) in enumerate(_STEPS, start=1):
            started = time.perf_counter()
            derived = tuple(f"{run_id}.{i}" for i in inputs)
            artifact = await arts.store(
                Artifact(
                    id=f"{run_id}.{task}",
                    run_id=run_id,
                    type="agent_output",
                    content=content,
                    lineage=Lineage(produced_by=task, derived_from=derived),
                    created_by=agent,
                    task_id=task,
                    metadata={"model": _MODEL},
                )
            )
            await ex.record(
                ExecutionRecord(
                    id=f"{task}-1",
                    run_id=run_id,
                    task_id=task,
                    agent_id=agent,
                    input_artifact_refs=derived,
                    output_artifact_refs=(artifact.id,),
                    model=_MODEL,
                    latency_ms=(time.perf_counter() - started) * 1000,
                    cost=_COST,
                )
            )
            await audit.append(
                DEMO_STREAM,
                {"event": "step_completed", "run_id": run_id, "task": task, "agent": agent},
            )
            status = "completed" if done == len(_STEPS) else "running"
            summary = await ex.update_run(
                summary.model_copy(
                    update={
                        "completed_nodes": done,
                        "total_cost": round(_COST * done, 4),
                        "status": status,
                    }
                )
            )
        await audit.append(DEMO_STREAM, {"event": "run_completed", "run_id": run_id})
        await audit.flush()
        await audit.checkpoint(DEMO_STREAM)
    return run_id
