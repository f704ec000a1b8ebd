"""End to end: Binex's own ``binex hello`` workflow (two ``local://echo`` nodes, no
language model) runs twice in a row on our stores in an S3 bucket (moto), through
Binex's own command code and Orchestrator, and Binex's own trace code reads both runs
back."""

from __future__ import annotations

from typing import Any

import pytest
from binex.cli import hello
from binex.trace.debug_report import build_debug_report, format_debug_report
from binex.trace.diff import diff_runs
from binex.trace.lineage import build_lineage_tree

from cloudstores.adapters.binex import BucketArtifactStore, BucketExecutionStore


async def test_hello_workflow_twice_on_s3(
    make_bucket_url: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = make_bucket_url("s3")
    opened: list[tuple[BucketExecutionStore, BucketArtifactStore]] = []

    def our_stores() -> tuple[BucketExecutionStore, BucketArtifactStore]:
        # What `binex hello` asks for its stores: ours, opened from the URL, each run
        pair = (
            BucketExecutionStore.from_url(url, workspace="hello"),
            BucketArtifactStore.from_url(url, workspace="hello"),
        )
        opened.append(pair)
        return pair

    monkeypatch.setattr(hello, "_get_stores", our_stores)
    monkeypatch.setattr(hello, "can_use_live", lambda: False)
    first, outputs_1 = await hello._run_hello()  # closes its execution store, as Binex does
    second, outputs_2 = await hello._run_hello()
    for _, art in opened:
        await art.close()
    assert first.status == second.status == "completed"
    assert first.run_id != second.run_id
    assert (
        outputs_1
        == outputs_2
        == {
            "greeter": "Hello from Binex!",
            "responder": '{"greeter": "Hello from Binex!"}',
        }
    )

    # Read back by fresh stores, with Binex's own code
    async with (
        BucketExecutionStore.from_url(url, workspace="hello") as ex,
        BucketArtifactStore.from_url(url, workspace="hello") as art,
    ):
        runs = await ex.list_runs()
        assert [r.run_id for r in runs] == [first.run_id, second.run_id]
        assert all(r.completed_nodes == 2 and r.workflow_name == "hello-world" for r in runs)
        for run in (first, second):
            report = await build_debug_report(ex, art, run.run_id)
            assert report is not None and report.status == "completed"
            text = format_debug_report(report)
            assert "Hello from Binex!" in text and "art_responder" in text
            # The same artifact ids in both runs: each run keeps its own
            assert {a.run_id for a in await art.list_by_run(run.run_id)} == {run.run_id}
        diff = diff_runs(ex, art, first.run_id, second.run_id)
        result = await diff
        assert [s["task_id"] for s in result["steps"]] == ["greeter", "responder"]
        assert not any(s["artifacts_changed"] for s in result["steps"])
        newest = await art.get("art_responder")
        assert newest is not None and newest.run_id == second.run_id
        tree = await build_lineage_tree(art, "art_responder")
        assert tree is not None and [p["artifact_id"] for p in tree["parents"]] == ["art_greeter"]
        snapshot = await ex.get_workflow_snapshot(runs[0].workflow_hash)
        assert snapshot is not None and "hello-world" in snapshot["content"]
        assert runs[0].workflow_hash == runs[1].workflow_hash  # one snapshot for both
        print("\nbucket requests of the read-back:", dict(ex.stores.bucket.requests))
