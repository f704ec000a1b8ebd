"""GroupCommit on its own (no bucket): batching bounds, results, failures, cancellation."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import pytest

from cloudstores.errors import ConflictError, InvalidInputError, StoreError
from cloudstores.stores.group_commit import Bound, GroupCommit


class Fatal(BaseException):
    """Not an Exception (like GeneratorExit or a test harness's abort): kills the task."""


class Recorder:
    """A ``write`` that records its batches; it can be held open or made to fail."""

    def __init__(self) -> None:
        self.batches: list[list[int]] = []
        self.gate: asyncio.Event | None = None
        self.entered = asyncio.Event()
        self.fail_with: BaseException | None = None

    async def write(self, batch: list[int]) -> Sequence[int]:
        self.batches.append(list(batch))
        self.entered.set()
        if self.gate is not None:
            await self.gate.wait()
        if self.fail_with is not None:
            raise self.fail_with
        return [item * 10 for item in batch]


async def _hold_first(rec: Recorder, commit: GroupCommit[int, int]) -> asyncio.Task[int]:
    """Submit item 0 and wait until its write is in flight (held by the gate)."""
    rec.gate = asyncio.Event()
    first = asyncio.ensure_future(commit.submit(0))
    await rec.entered.wait()
    return first


async def test_lone_item_is_written_at_once_and_gets_its_result() -> None:
    rec = Recorder()
    commit: GroupCommit[int, int] = GroupCommit(rec.write)
    assert await commit.submit(7) == 70
    assert rec.batches == [[7]]
    assert not commit.busy


async def test_arrivals_during_a_write_go_together_in_order() -> None:
    rec = Recorder()
    commit: GroupCommit[int, int] = GroupCommit(rec.write)
    first = await _hold_first(rec, commit)
    rest = [asyncio.ensure_future(commit.submit(i)) for i in range(1, 6)]
    await asyncio.sleep(0)
    assert commit.pending == 5
    assert rec.gate is not None
    rec.gate.set()
    assert await first == 0
    assert await asyncio.gather(*rest) == [10, 20, 30, 40, 50]
    assert rec.batches == [[0], [1, 2, 3, 4, 5]]


async def test_batches_respect_every_bound_and_an_oversized_item_goes_alone() -> None:
    rec = Recorder()
    # at most 3 items, and item values summing to at most 10
    commit: GroupCommit[int, int] = GroupCommit(
        rec.write, (Bound(lambda _: 1, 3), Bound(lambda i: i, 10))
    )
    first = await _hold_first(rec, commit)
    items = [1, 1, 1, 1, 4, 4, 4, 50, 2]
    futures = [commit.submit_nowait(i) for i in items]
    assert rec.gate is not None
    rec.gate.set()
    await first
    assert await asyncio.gather(*futures) == [i * 10 for i in items]
    assert rec.batches == [[0], [1, 1, 1], [1, 4, 4], [4], [50], [2]]


async def test_a_failed_write_fails_exactly_its_batch() -> None:
    rec = Recorder()
    commit: GroupCommit[int, int] = GroupCommit(rec.write, (Bound(lambda _: 1, 2),))
    first = await _hold_first(rec, commit)
    futures = [commit.submit_nowait(i) for i in (1, 2, 3)]
    rec.fail_with = StoreError("boom")
    assert rec.gate is not None
    rec.gate.set()
    results = await asyncio.gather(first, *futures, return_exceptions=True)
    assert all(isinstance(r, StoreError) and r.message == "boom" for r in results)
    assert rec.batches == [[0], [1, 2], [3]]
    rec.fail_with = None
    assert await commit.submit(4) == 40  # the helper still works after failures


async def test_a_wrong_number_of_results_is_an_error_for_the_batch() -> None:
    async def write(batch: list[int]) -> Sequence[int]:
        return []

    commit: GroupCommit[int, int] = GroupCommit(write)
    with pytest.raises(StoreError, match="returned 0 results for 1 items"):
        await commit.submit(1)


async def test_flusher_cancelled_fails_every_waiter_nobody_hangs() -> None:
    rec = Recorder()
    commit: GroupCommit[int, int] = GroupCommit(
        rec.write, (Bound(lambda _: 1, 2),), stopped=lambda: ConflictError("stopped")
    )
    first = await _hold_first(rec, commit)
    queued = [commit.submit_nowait(i) for i in (1, 2, 3)]
    flusher = commit._flusher
    assert flusher is not None
    flusher.cancel()
    results = await asyncio.wait_for(
        asyncio.gather(first, *queued, return_exceptions=True), timeout=5
    )
    assert all(isinstance(r, ConflictError) for r in results), results
    assert not commit.busy and commit.pending == 0
    rec.gate = None
    assert await commit.submit(9) == 90  # a new flusher starts


async def test_flusher_cancelled_before_it_ever_ran_fails_every_waiter() -> None:
    rec = Recorder()
    commit: GroupCommit[int, int] = GroupCommit(rec.write)
    futures = [commit.submit_nowait(i) for i in range(3)]
    flusher = commit._flusher
    assert flusher is not None
    flusher.cancel()  # before its first step: its coroutine body never runs
    results = await asyncio.wait_for(asyncio.gather(*futures, return_exceptions=True), timeout=5)
    assert all(isinstance(r, StoreError) for r in results), results
    assert rec.batches == [] and not commit.busy
    assert await commit.submit(3) == 30


async def test_flusher_dies_of_a_base_exception_fails_every_waiter() -> None:
    rec = Recorder()
    commit: GroupCommit[int, int] = GroupCommit(rec.write, (Bound(lambda _: 1, 1),))
    first = await _hold_first(rec, commit)
    queued = [commit.submit_nowait(i) for i in (1, 2)]
    rec.fail_with = Fatal()  # not an Exception: it kills the flusher task
    flusher = commit._flusher
    assert rec.gate is not None
    rec.gate.set()
    results = await asyncio.wait_for(
        asyncio.gather(first, *queued, return_exceptions=True), timeout=5
    )
    assert all(isinstance(r, StoreError) for r in results), results
    assert flusher is not None and flusher.done()
    with pytest.raises(Fatal):
        flusher.result()
    assert rec.batches == [[0]]


async def test_a_cancelled_waiter_loses_nothing_of_the_others() -> None:
    rec = Recorder()
    commit: GroupCommit[int, int] = GroupCommit(rec.write)
    first = await _hold_first(rec, commit)
    waiters = [asyncio.ensure_future(commit.submit(i)) for i in (1, 2, 3)]
    await asyncio.sleep(0)
    waiters[1].cancel()
    await asyncio.sleep(0)
    assert rec.gate is not None
    rec.gate.set()
    assert await first == 0
    assert await waiters[0] == 10 and await waiters[2] == 30
    with pytest.raises(asyncio.CancelledError):
        await waiters[1]
    # its item was already submitted: it is written with the others, not dropped
    assert rec.batches == [[0], [1, 2, 3]]


async def test_cancelling_the_waiter_of_the_batch_in_flight_does_not_stop_it() -> None:
    rec = Recorder()
    commit: GroupCommit[int, int] = GroupCommit(rec.write)
    first = await _hold_first(rec, commit)
    later = asyncio.ensure_future(commit.submit(1))
    await asyncio.sleep(0)
    first.cancel()
    assert rec.gate is not None
    rec.gate.set()
    assert await later == 10
    assert rec.batches == [[0], [1]]


async def test_max_wait_gathers_a_batch_but_a_full_batch_goes_at_once() -> None:
    rec = Recorder()
    commit: GroupCommit[int, int] = GroupCommit(rec.write, (Bound(lambda _: 1, 3),), max_wait=0.05)
    futures = [commit.submit_nowait(i) for i in range(4)]
    assert await asyncio.gather(*futures) == [0, 10, 20, 30]
    assert rec.batches == [[0, 1, 2], [3]]
    task = asyncio.ensure_future(commit.submit(5))
    await asyncio.sleep(0)
    late = asyncio.ensure_future(commit.submit(6))  # arrives while the flusher waits
    assert await task == 50 and await late == 60
    assert rec.batches[-1] == [5, 6]


async def test_flush_waits_for_everything_submitted() -> None:
    rec = Recorder()
    commit: GroupCommit[int, int] = GroupCommit(rec.write)
    futures = [commit.submit_nowait(i) for i in range(3)]
    await commit.flush()
    assert all(f.done() for f in futures)
    await commit.flush()  # idle: returns at once


@pytest.mark.parametrize(
    "kwargs", [{"max_wait": -1}, {"max_wait": "1"}, {"bounds": (Bound(len, 0),)}]
)
async def test_bad_options_are_rejected(kwargs: dict[str, object]) -> None:
    rec = Recorder()
    with pytest.raises(InvalidInputError):
        GroupCommit(rec.write, **kwargs)  # type: ignore[arg-type]


async def test_the_manifest_index_pattern_fits() -> None:
    """Items are lists of rows, a batch is at most ``max_batch`` rows (a bigger list goes
    alone), one segment per batch, every waiter gets None: the index's ``add``."""
    segments: list[list[str]] = []

    async def write_segment(batch: list[list[str]]) -> Sequence[None]:
        segments.append([row for rows in batch for row in rows])
        await asyncio.sleep(0)
        return [None] * len(batch)

    commit: GroupCommit[list[str], None] = GroupCommit(write_segment, (Bound(len, 4),))
    adds = [["a"], ["b", "c"], ["d", "e"], ["f"], ["g", "h", "i", "j", "k"], ["l"]]
    assert await asyncio.gather(*(commit.submit(rows) for rows in adds)) == [None] * 6
    # all six are queued before the flusher first runs
    assert segments == [["a", "b", "c"], ["d", "e", "f"], ["g", "h", "i", "j", "k"], ["l"]]
