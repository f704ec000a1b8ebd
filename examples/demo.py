"""The main job, on the embedded default (local files): one agent-style run, stored.

The run is ``cloudstores demo``'s (:func:`cloudstores.cli.demo.run_demo`): a small
research agent plans, searches and drafts. Each step leaves an execution record and an
artifact with lineage; the run's summary gets a new version after every step; every
action goes to a signed, hash-chained audit log. This script then shows what was
stored, verifies the log, and says where it lies.

    make demo                                   # or: .venv/bin/python examples/demo.py
    .venv/bin/python examples/demo.py --url s3://bucket/prefix?region=...   # any backend

Each run is new (runs are immutable), so running it again adds a run beside the last.
"""

from __future__ import annotations

import argparse
import asyncio
from pathlib import Path

from rich.console import Console

import cloudstores
from cloudstores.cli.demo import DEMO_STREAM, run_demo
from cloudstores.cli.render import (
    artifacts_table,
    audit_table,
    runs_table,
    steps_table,
    verify_table,
)

DEMO_DIR = Path(__file__).resolve().parents[1] / ".demo"
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
    with console.status("running the demo agent ..."):
        run_id = await run_demo(args.url, workspace=args.workspace, signer=signer)

    async with cloudstores.open_stores(
        args.url, workspace=args.workspace, audit_signer=signer
    ) as stores:
        console.print(
            runs_table(
                await stores.executions.run_history(run_id), title=f"Run {run_id}: every version"
            )
        )
        console.print(steps_table(await stores.executions.list_records(run_id)))
        console.print(
            artifacts_table(
                await stores.artifacts.get_lineage(f"{run_id}.draft"),
                title="Lineage of the draft, nearest first",
            )
        )
        head = await stores.audit.head(DEMO_STREAM)
        entries = [e async for e in stores.audit.read(DEMO_STREAM, start=max(0, head.size - 7))]
        console.print(audit_table(entries, title=f"Audit log {DEMO_STREAM} (last entries)"))
        console.print(verify_table(await stores.audit.verify(DEMO_STREAM)))
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
            f"{DEMO_STREAM} --workspace {args.workspace} "
            f"--public-key {DEMO_DIR / 'audit-signing-key.pub'}"
        )


if __name__ == "__main__":
    asyncio.run(main())
