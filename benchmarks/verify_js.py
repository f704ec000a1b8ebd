"""Python verify vs the Node verifier on the same audit log, same run.

    PYTHONPATH=src .venv/bin/python benchmarks/verify_js.py [--size 100000] [--batch 256]
                                                           [--every 1000] [--format 3]

Writes one stream of ``--size`` entries (events with floats and non-ASCII keys, entry
format ``--format``) to a fresh ``file://`` bucket with the audit store (``append_many``
of ``--batch`` entries per object, a signed checkpoint every ``--every`` entries, full
hash tiles), then times, on that same directory:

- ``AuditStore.verify`` (Python: every entry re-hashed, every link, checkpoint, signed
  note, root and tile), in this process;
- ``node verifiers/js/log.mjs`` (Node 20, standard library only: the same checks), as a
  child process (its start-up included).

Both must find the log clean. Prints a table (wall seconds, entries per second). Times
are wall clock on whatever machine runs it: compare the two columns of one run, not
runs on different machines or loads.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
if str(REPO / "src") not in sys.path:
    sys.path.insert(0, str(REPO / "src"))

import cloudstores  # noqa: E402
from cloudstores.stores.audit import (  # noqa: E402
    AuditOptions,
    AuditStore,
    Ed25519Signer,
    note_vkey,
)

SIGNER = Ed25519Signer.from_bytes(bytes(range(7, 39)))


def event(i: int) -> dict[str, object]:
    return {"i": i, "action": "tool_call", "score": i / 8, "one": 1.0, "\u00e9t\u00e9": "x"}


async def write(url: str, size: int, batch: int, every: int, entry_format: int) -> float:
    options = AuditOptions(
        max_batch=batch,
        checkpoint_every=every,
        checkpoint_interval=None,
        entry_format=entry_format,
    )
    started = time.perf_counter()
    async with (
        cloudstores.open_bucket(url) as bucket,
        AuditStore(bucket, signer=SIGNER, options=options) as audit,
    ):
        for start in range(0, size, batch):
            await audit.append_many(
                "bench", [event(i) for i in range(start, min(size, start + batch))]
            )
    return time.perf_counter() - started


async def verify_python(url: str) -> tuple[float, bool, int]:
    started = time.perf_counter()
    async with (
        cloudstores.open_bucket(url) as bucket,
        AuditStore(bucket, verifier=SIGNER.verifier()) as auditor,
    ):
        report = await auditor.verify("bench")
    return time.perf_counter() - started, report.ok, report.size


def verify_node(url: str) -> tuple[float, bool, int]:
    node = shutil.which("node")
    if node is None:
        raise SystemExit("node is not installed")
    vkey = note_vkey(SIGNER)
    assert vkey is not None
    started = time.perf_counter()
    run = subprocess.run(
        [node, str(REPO / "verifiers" / "js" / "log.mjs"), url, "default", "bench", vkey],
        capture_output=True,
        text=True,
        check=False,
    )
    elapsed = time.perf_counter() - started
    if run.returncode not in (0, 1):
        raise SystemExit(f"node failed: {run.stderr}")
    report = json.loads(run.stdout)
    return elapsed, bool(report["ok"]), int(report["size"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--size", type=int, default=100_000)
    parser.add_argument("--batch", type=int, default=256)
    parser.add_argument("--every", type=int, default=1000)
    parser.add_argument("--format", type=int, default=3, choices=(1, 3))
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="cloudstores-verify-js-"))
    try:
        url = f"file://{root}?fsync=false"
        wrote = asyncio.run(write(url, args.size, args.batch, args.every, args.format))
        py_s, py_ok, py_size = asyncio.run(verify_python(url))
        js_s, js_ok, js_size = verify_node(url)
        assert py_ok and js_ok and py_size == js_size == args.size, (py_ok, js_ok, py_size)
        print(
            f"{args.size:,} entries, format {args.format}, {args.batch} per object, "
            f"checkpoint every {args.every} (written in {wrote:.1f} s; load "
            f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs)"
        )
        print("| verifier | seconds | entries/s | verdict |")
        print("|---|---|---|---|")
        for name, seconds in (("Python AuditStore.verify", py_s), ("Node log.mjs", js_s)):
            print(f"| {name} | {seconds:.2f} | {args.size / seconds:,.0f} | clean |")
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
