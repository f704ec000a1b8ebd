"""The main job, on the embedded default (local files): one agent-style run, stored.

A small research agent plans, calls two tools, drafts and reviews. Each step leaves
an execution record and artifacts with lineage; the run's summary gets a new version
after every step; every action goes to a signed, hash-chained audit log, which is then
verified. Finally the script prints what was stored, and where it lies.

    make demo                                   # or: .venv/bin/python examples/demo.py
    .venv/bin/python examples/demo.py --url s3://bucket/prefix?region=...   # any backend

Each run is new (runs are immutable), so running it again adds a run beside the last.
"""

from __future__ import annotations

import argparse
import asyncio
import time
import uuid
from pathlib import Path

from rich.console import Console

import cloudstores
from cloudstores import Artifact, ExecutionRecord, Lineage, RunSummary
from cloudstores.cli.render import (
    artifacts_table,
    audit_table,
    runs_table,
    steps_table,
    verify_table,
)

DEMO_DIR = Path(__file__).resolve().parents[1] / ".demo"
WORKFLOW = """\
name: research-brief
nodes:
  - plan
  - search_web
  - search_papers
  - draft
  - review
"""
console = Console(width=None if Console().is_terminal else 120)


def signing_key(directory: Path) -> cloudstores.Ed25519Signer:
    """The demo's audit signing key: made once, kept beside the bucket."""
    path = directory / "audit-signing-key.pem"
    if path.exists():
        return cloudstores.Ed25519Signer.from_file(path)
    signer = cloudstores.Ed25519Signer.generate()
    directory.mkdir(parents=True, exist_ok=True)
    path.write_bytes(signer.private_pem())
    path.chmod(0o600)
    (directory / "audit-signing-key.pub").write_bytes(signer.public_pem())
    return signer


async def run_agent(stores: cloudstores.Stores, run_id: str) -> None:
    ex, arts, audit = stores.executions, stores.artifacts, stores.audit
    workflow_hash = await ex.store_workflow_snapshot(WORKFLOW, version=1)
    summary = await ex.create_run(
        RunSummary(
            run_id=run_id,
            workflow_name="research-brief",
            total_nodes=5,
            user_id="demo-user",
            workflow_hash=workflow_hash,
            data={"question": "Which bucket is best for audit logs?"},
        )
    )
    await audit.append("run-events", {"event": "run_started", "run_id": run_id})

    steps = [  # task, agent, inputs, output content
        ("plan", "planner", [], {"plan": ["search the web", "search papers", "draft"]}),
        ("search_web", "searcher", ["plan"], {"hits": ["S3 Object Lock", "Azure WORM"]}),
        ("search_papers", "searcher", ["plan"], {"hits": ["Certificate Transparency"]}),
        (
            "draft",
            "writer",
            ["search_web", "search_papers"],
            {"text": "Use an immutable, hash-chained log in object storage."},
        ),
        ("review", "critic", ["draft"], {"verdict": "approved", "score": 0.92}),
    ]
    for done, (task, agent, inputs, content) in enumerate(steps, start=1):
        started = time.perf_counter()
        artifact = await arts.store(
            Artifact(
                id=f"{run_id}.{task}",
                run_id=run_id,
                type="agent_output",
                content=content,
                lineage=Lineage(
                    produced_by=task, derived_from=tuple(f"{run_id}.{i}" for i in inputs)
                ),
                created_by=agent,
                task_id=task,
                metadata={"model": "demo-model-1"},
            )
        )
        await ex.record(
            ExecutionRecord(
                id=f"{task}-1",
                run_id=run_id,
                task_id=task,
                agent_id=agent,
                input_artifact_refs=tuple(f"{run_id}.{i}" for i in inputs),
                output_artifact_refs=(artifact.id,),
                model="demo-model-1",
                latency_ms=(time.perf_counter() - started) * 1000,
                cost=0.0015,
            )
        )
        await audit.append(
            "run-events",
            {"event": "step_completed", "run_id": run_id, "task": task, "agent": agent},
        )
        summary = await ex.update_run(
            summary.model_copy(
                update={
                    "completed_nodes": done,
                    "total_cost": round(0.0015 * done, 4),
                    "status": "completed" if done == len(steps) else "running",
                }
            )
        )
    await audit.append("run-events", {"event": "run_completed", "run_id": run_id})


async def main() -> None:
    parser = argparse.ArgumentParser(description="Run the cloudstores demo agent.")
    parser.add_argument(
        "--url",
        default=f"file://{DEMO_DIR / 'bucket'}",
        help="bucket URL (default: a local directory)",
    )
    parser.add_argument("--workspace", default="demo")
    args = parser.parse_args()
    if args.url.startswith("file://"):
        Path(args.url.removeprefix("file://").split("?")[0]).mkdir(parents=True, exist_ok=True)
    signer = signing_key(DEMO_DIR)
    run_id = f"run-{uuid.uuid4().hex[:8]}"

    async with cloudstores.open_stores(
        args.url, workspace=args.workspace, audit_signer=signer
    ) as stores:
        with console.status(f"running agent {run_id} ..."):
            await run_agent(stores, run_id)
            await stores.audit.flush()
        console.print(
            runs_table(
                await stores.executions.run_history(run_id), title=f"Run {run_id}: every version"
            )
        )
        console.print(steps_table(await stores.executions.list_records(run_id)))
        console.print(
            artifacts_table(
                await stores.artifacts.get_lineage(f"{run_id}.review"),
                title="Lineage of the review, nearest first",
            )
        )
        head = await stores.audit.head("run-events")
        entries = [e async for e in stores.audit.read("run-events", start=max(0, head.size - 7))]
        console.print(audit_table(entries, title="Audit log run-events (last entries)"))
        await stores.audit.checkpoint("run-events")
        console.print(verify_table(await stores.audit.verify("run-events")))
        runs = await stores.executions.list_runs(limit=5)
        console.print(runs_table(runs, title="Newest runs in the workspace (from the index)"))

    if args.url.startswith("file://"):
        root = Path(args.url.removeprefix("file://").split("?")[0])
        ws = root / "ws" / args.workspace
        console.print(f"\n[bold]Where it lies[/] (one JSON object per file under {ws}):")
        for sub in ("runs", "artifacts", "audit", "workflows", "_index"):
            files = sorted((ws / sub).rglob("*.json")) if (ws / sub).exists() else []
            console.print(
                f"  {sub + '/':<11} {len(files):>4} objects, e.g. "
                f"{files[0].relative_to(root) if files else '-'}"
            )
        console.print(f"  audit signing key: {DEMO_DIR / 'audit-signing-key.pem'}")
        console.print(
            f"\nLook again any time: .venv/bin/cloudstores ls {args.url} runs "
            f"--workspace {args.workspace}"
        )
        console.print(
            f"Verify the log:        .venv/bin/cloudstores verify {args.url} "
            f"run-events --workspace {args.workspace} "
            f"--public-key {DEMO_DIR / 'audit-signing-key.pub'}"
        )


if __name__ == "__main__":
    asyncio.run(main())
