"""cloudstores.sync: the blocking API, from scripts, threads and running event loops."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import textwrap
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

import cloudstores
from cloudstores import Artifact, RunSummary, sync
from cloudstores.errors import AlreadyExistsError, InvalidIdError, NotFoundError

BACKENDS = ["memory", "s3"]


@pytest.fixture(params=BACKENDS)
def url(request: pytest.FixtureRequest, make_bucket_url: Any) -> str:
    return str(make_bucket_url(request.param))


def test_bucket_methods_and_costs(url: str) -> None:
    with sync.open_bucket(url) as bucket:
        assert sum(bucket.requests.values()) == 0  # opening sends nothing
        version = bucket.put("a/1.json", b"{}")
        with pytest.raises(AlreadyExistsError):
            bucket.put("a/1.json", b"[]")
        bucket.put("a/1.json", b"[1]", mode=cloudstores.IfMatch(version))
        assert bucket.get("a/1.json").data == b"[1]"
        assert bucket.head("a/1.json").size == 3
        bucket.put("a/2.json", b"{}")
        assert [i.key for i in bucket.list("a/")] == ["a/1.json", "a/2.json"]
        bucket.delete("a/2.json")
        with pytest.raises(NotFoundError):
            bucket.get("a/2.json")
        # The same requests as the async API: nothing added by the sync layer.
        assert dict(bucket.requests) == {"put": 4, "head": 2, "get": 2, "list": 1, "delete": 1}
        assert bucket.url in repr(bucket)
    assert bucket.closed
    with pytest.raises(sync.SyncClosedError):
        bucket.get("a/1.json")


def test_stores_same_methods(url: str) -> None:
    with sync.open_stores(url, workspace="w") as stores:
        assert stores.workspace == "w"
        for n in range(3):
            stores.artifacts.store(Artifact(id=f"a{n}", run_id="r", content={"n": n}))
        assert stores.artifacts.get("a1").content == {"n": 1}
        listed = stores.artifacts.list(run_id="r")
        assert isinstance(listed, sync.SyncIterator)
        assert [a.id for a in listed] == ["a0", "a1", "a2"]
        stores.executions.create_run(RunSummary(run_id="run1", status="running"))
        assert stores.executions.get_run("run1").status == "running"
        assert stores.audit.append("s", {"x": 1}).seq == 0
        assert [e.event for e in stores.audit.read("s")] == [{"x": 1}]
        assert list(stores.audit.streams()) == ["s"]
        assert stores.bucket.requests["put"] > 0
        with pytest.raises(InvalidIdError):
            stores.artifacts.get("../x")
        assert isinstance(stores.artifacts.bucket, sync.SyncBucket)  # nested proxies
        assert "store" in dir(stores.artifacts)


def test_leaving_an_iterator_early(url: str) -> None:
    with sync.open_bucket(url) as bucket:
        for n in range(5):
            bucket.put(f"k/{n}", b"x")
        with bucket.list("k/") as items:
            assert next(items).key == "k/0"
        assert next(items, None) is None  # closed
        first = bucket.list("k/")
        assert next(first).key == "k/0"
        del first  # released on the loop without waiting


def test_thread_pool_of_eight(url: str) -> None:
    with sync.open_stores(url, workspace="pool") as stores:

        def work(worker: int) -> list[int]:
            seqs = []
            for n in range(10):
                stores.artifacts.store(Artifact(id=f"w{worker}-{n}", run_id="r", content=n))
                seqs.append(stores.audit.append("events", {"w": worker, "n": n}).seq)
                assert stores.artifacts.get(f"w{worker}-{n}").content == n
            return seqs

        with ThreadPoolExecutor(8) as pool:
            results = list(pool.map(work, range(8)))
        assert sorted(s for seqs in results for s in seqs) == list(range(80))
        assert len(list(stores.artifacts.list(run_id="r"))) == 80
        assert len(list(stores.audit.read("events"))) == 80
    # Closing flushed the index: a fresh reader sees all 80.
    with sync.open_stores(url, workspace="pool") as again:
        assert len(list(again.artifacts.list(run_id="r"))) == 80


def test_inside_a_running_event_loop(url: str) -> None:
    stores = sync.open_stores(url, workspace="loop")

    def callback(n: int) -> str:  # a sync callback, as an async server would call it
        return str(stores.artifacts.store(Artifact(id=f"cb{n}", run_id="r")).id)

    async def main() -> list[str]:
        loop = asyncio.get_running_loop()
        done: asyncio.Future[str] = loop.create_future()
        loop.call_soon(lambda: done.set_result(callback(1)))  # inside the loop's thread
        direct = callback(2)  # straight from a coroutine
        threaded = await asyncio.to_thread(callback, 3)
        return [await done, direct, threaded]

    async def listing() -> list[str]:
        return [a.id for a in stores.artifacts.list(run_id="r")]

    assert asyncio.run(main()) == ["cb1", "cb2", "cb3"]
    assert asyncio.run(listing()) == ["cb1", "cb2", "cb3"]
    stores.close()


def test_calling_from_the_background_loop_is_an_error_not_a_deadlock() -> None:
    with sync.open_stores("memory://sync-deadlock") as stores:
        stores.artifacts.store(Artifact(id="a", run_id="r"))

        def on_progress(scanned: int) -> None:  # called on the background loop
            stores.artifacts.get("a")

        with pytest.raises(sync.SyncDeadlockError, match="background event loop"):
            stores.artifacts.reindex(on_progress=on_progress)
        assert stores.artifacts.get("a").id == "a"  # still usable


def test_run_and_aio(url: str) -> None:
    with sync.open_bucket(url) as bucket:

        async def two_puts(aio: cloudstores.Bucket) -> int:
            await asyncio.gather(aio.put("x", b"1"), aio.put("y", b"2"))
            return len([i async for i in aio.list()])

        assert bucket.run(two_puts) == 2
        assert isinstance(bucket.aio, cloudstores.Bucket)


def test_stores_on_a_sync_bucket_share_its_loop(url: str) -> None:
    with sync.open_bucket(url) as bucket:
        threads = threading.active_count()
        with sync.open_stores(bucket, workspace="shared") as stores:
            assert threading.active_count() == threads
            stores.audit.append("s", {"a": 1})
        assert bucket.list("ws/shared/") is not None
        assert any(i.key.startswith("ws/shared/audit/") for i in bucket.list("ws/"))


def test_close_stops_the_loop_thread(url: str) -> None:
    before = {t.ident for t in threading.enumerate()}
    stores = sync.open_stores(url)
    stores.audit.append("s", {"a": 1})
    stores.close()
    stores.close()  # twice is fine
    assert {t.ident for t in threading.enumerate()} <= before | {None}
    with pytest.raises(sync.SyncClosedError):
        stores.audit.append("s", {"a": 2})


def test_bad_url_raises_and_leaves_no_thread() -> None:
    before = threading.active_count()
    with pytest.raises(cloudstores.errors.ConfigurationError):
        sync.open_stores("nope://x")
    with pytest.raises(cloudstores.errors.ConfigurationError):
        sync.open_bucket("nope://x")
    assert threading.active_count() == before


def test_exit_without_close_flushes(tmp_path: Path) -> None:
    """Still-open sync stores are closed at interpreter exit: the audit seal lands."""
    root = tmp_path / "b"
    root.mkdir()
    script = textwrap.dedent(f"""
        from cloudstores import sync
        stores = sync.open_stores("file://{root}")
        stores.audit.append("events", {{"n": 1}})
        print("appended")
    """)
    done = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        timeout=120,
        env={"PYTHONPATH": "src", "PATH": "/usr/bin:/bin"},
    )
    assert done.returncode == 0, done.stderr
    assert "appended" in done.stdout
    checkpoints = list(root.rglob("cp/*.json"))
    assert checkpoints, sorted(str(p.relative_to(root)) for p in root.rglob("*"))


class Notes(cloudstores._resource.AsyncResource):
    """A store the sync module has never heard of (like a future documents store)."""

    def __init__(self, bucket: cloudstores.Bucket, name: str = "notes") -> None:
        self.bucket, self.name = bucket, name

    async def put(self, key: str, text: str) -> int:
        await self.bucket.put(f"{self.name}/{key}", text.encode())
        return len(text)

    async def items(self) -> Any:
        async for info in self.bucket.list(f"{self.name}/"):
            yield info.key

    def sub(self, name: str) -> Notes:
        return Notes(self.bucket, name)

    @staticmethod
    async def double(x: int) -> int:
        return 2 * x


def test_new_async_methods_appear_without_edits() -> None:
    with sync.open_bucket("memory://sync-generic") as bucket:
        notes = sync.SyncProxy(Notes(bucket.aio), bucket._runner)
        assert notes.put("a", "hello") == 5
        sub = notes.sub("other")
        assert isinstance(sub, sync.SyncProxy)
        sub.put("b", "x")
        assert list(notes.items()) == ["notes/a"]
        assert list(sub.items()) == ["other/b"]
        assert notes.double(21) == 42
        assert notes.name == "notes"
        assert isinstance(notes.bucket, sync.SyncBucket)
        with pytest.raises(AttributeError):
            notes.name = "x"
