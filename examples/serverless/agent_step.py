"""The job every serverless recipe runs: one agent step, stored.

Shared by ``aws_lambda/handler.py``, ``azure_functions/function_app.py`` and
``cloud_run/main.py``; deploy this file beside the handler. Configuration comes from
the environment, the way each platform hands it to a function:

``CLOUDSTORES_URL``
    The bucket, e.g. the ``cloudstores_url`` output of the Terraform modules.
``CLOUDSTORES_WORKSPACE``
    The workspace (default ``default``).
``CLOUDSTORES_AUDIT_KEY_PEM``
    The audit signing key (an Ed25519 PKCS#8 PEM), put into the environment by the
    platform's secret store (an Azure Key Vault reference, a Cloud Run secret). On AWS
    the Lambda handler reads it from Secrets Manager itself.

An invocation's event is ``{"run_id": ..., "step": ..., "output": {...}}``: the run is
created by its first step, each step stores an artifact and a step record, appends
an audit event, and moves the run's summary to its next version.
"""

from __future__ import annotations

import os
import time
from collections import Counter
from typing import Any

import cloudstores
from cloudstores import Artifact, ExecutionRecord, RunSummary

AUDIT_STREAM = "agent-steps"


def signer_from_pem(pem: str | bytes | None) -> cloudstores.Ed25519Signer | None:
    """The audit signer from a PEM given by the platform, or None (an unsigned log)."""
    if not pem:
        return None
    return cloudstores.Ed25519Signer.from_bytes(pem.encode() if isinstance(pem, str) else pem)


def settings(signer: cloudstores.Ed25519Signer | None = None) -> tuple[str, dict[str, Any]]:
    """The URL and the ``open_stores`` options the environment names."""
    if signer is None:
        signer = signer_from_pem(os.environ.get("CLOUDSTORES_AUDIT_KEY_PEM"))
    workspace = os.environ.get("CLOUDSTORES_WORKSPACE", cloudstores.DEFAULT_WORKSPACE)
    return os.environ["CLOUDSTORES_URL"], {"workspace": workspace, "audit_signer": signer}


def open_from_environment(signer: cloudstores.Ed25519Signer | None = None) -> cloudstores.Stores:
    """Stores for the bucket the environment names; opened lazily by the first request.

    Call it once at module level: the same ``Stores`` then serves every invocation,
    whether the platform runs each one in a new event loop (AWS Lambda with
    ``asyncio.run``) or all of them in one (Azure Functions, an aiohttp service).
    """
    url, options = settings(signer)
    return cloudstores.open_stores(url, **options)


def _check_event(event: Any) -> tuple[str, str, dict[str, Any]]:
    if not isinstance(event, dict):
        raise cloudstores.errors.InvalidInputError("the event must be a JSON object")
    run_id, step, output = event.get("run_id"), event.get("step"), event.get("output", {})
    if not isinstance(run_id, str) or not isinstance(step, str) or not isinstance(output, dict):
        raise cloudstores.errors.InvalidInputError(
            'the event must be {"run_id": str, "step": str, "output": {...}}'
        )
    return run_id, step, output


async def handle(stores: cloudstores.Stores, event: Any) -> dict[str, Any]:
    """Store one agent step; return what was stored and the requests it took."""
    run_id, step, output = _check_event(event)
    before = Counter(stores.bucket.requests)
    started = time.perf_counter()
    executions, artifacts, audit = stores.executions, stores.artifacts, stores.audit
    run = await executions.get_run_or_none(run_id)
    if run is None:
        try:
            run = await executions.create_run(RunSummary(run_id=run_id, workflow_name="agent"))
        except cloudstores.errors.AlreadyExistsError:  # another invocation made it first
            run = await executions.get_run(run_id)
    artifact = await artifacts.store(
        Artifact(id=f"{run_id}.{step}", run_id=run_id, content=output, task_id=step)
    )
    await executions.record(
        ExecutionRecord(
            id=step,
            run_id=run_id,
            task_id=step,
            output_artifact_refs=(artifact.id,),
            latency_ms=(time.perf_counter() - started) * 1000,
        )
    )
    entry = await audit.append(AUDIT_STREAM, {"event": "step", "run_id": run_id, "step": step})
    run = await executions.update_run(
        run.model_copy(update={"completed_nodes": run.completed_nodes + 1})
    )
    await audit.flush()  # checkpoints land in this invocation, not in a cancelled task
    used = Counter(stores.bucket.requests)
    used.subtract(before)
    return {
        "run_id": run_id,
        "artifact_id": artifact.id,
        "audit_seq": entry.seq,
        "run_version": run.version,
        "requests": {op: n for op, n in sorted(used.items()) if n},
    }
