"""``cloudstores demo``: one small agent run stored in a bucket, to look at with the CLI.

One run of three steps: a run summary with a version per step, an execution record and
an artifact (with lineage) per step, and an audit stream ``run-events`` with a
checkpoint, signed when a signer is given. About 40 requests.
"""

from __future__ import annotations

import uuid

from cloudstores.models import Artifact, ExecutionRecord, Lineage, RunSummary
from cloudstores.stores.audit import Signer
from cloudstores.stores.workspace import open_stores

__all__ = ["DEMO_STREAM", "run_demo"]

DEMO_STREAM = "run-events"
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
        summary = await ex.create_run(
            RunSummary(run_id=run_id, workflow_name="demo", total_nodes=len(_STEPS))
        )
        await audit.append(DEMO_STREAM, {"event": "run_started", "run_id": run_id})
        for done, (task, agent, inputs, content) in enumerate(_STEPS, start=1):
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
                )
            )
            await audit.append(
                DEMO_STREAM, {"event": "step_completed", "run_id": run_id, "task": task}
            )
            status = "completed" if done == len(_STEPS) else "running"
            summary = await ex.update_run(
                summary.model_copy(update={"completed_nodes": done, "status": status})
            )
        await audit.append(DEMO_STREAM, {"event": "run_completed", "run_id": run_id})
        await audit.flush()
        await audit.checkpoint(DEMO_STREAM)
    return run_id
