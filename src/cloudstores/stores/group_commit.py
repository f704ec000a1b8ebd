"""Group commit: many callers submit items, one flusher task writes them in batches.

Callers ``await commit.submit(item)``; one flusher task per ``GroupCommit`` takes as many
pending items as fit every ``Bound`` (always at least one: an item over a bound goes
alone), calls ``write(batch)`` and hands each waiter its own result, or the batch's
exception. While a write is in flight, new items pile up and go out together in the
next batch. A lone caller never waits for a timer: with ``max_wait`` = 0 (the default)
the flusher writes what is pending at once; with ``max_wait`` > 0 it first waits that
long unless the pending items already fill a batch.

Guarantees:

* one ``write`` at a time (a batch may depend on the one before, e.g. chain on it);
* items are written in submission order;
* a submitted item is written even if its waiter is cancelled (the write may already be
  under way; cancelling only stops waiting), so other callers' items are never lost;
* if the flusher task dies or is cancelled (even before its first step), every waiter
  (of the batch being written and still queued) gets an error: the batch's own
  exception when it is an ``Exception``, else the ``stopped()`` error. Nobody hangs;
  the next ``submit`` starts a new flusher.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

from cloudstores.errors import InvalidInputError, StoreError

__all__ = ["Bound", "GroupCommit"]

T = TypeVar("T")
R = TypeVar("R")


@dataclass(frozen=True, slots=True)
class Bound(Generic[T]):
    """A batch holds items whose ``measure`` sums to at most ``limit`` (e.g. entries
    per item and a maximum per batch, or bytes per item and a maximum per batch)."""

    measure: Callable[[T], int]
    limit: int


@dataclass(slots=True)
class _Waiting(Generic[T, R]):
    item: T
    future: asyncio.Future[R]


def _stopped() -> Exception:
    return StoreError("group commit stopped before this item was written")


class GroupCommit(Generic[T, R]):
    """Batches submitted ``T`` items into calls of ``write(batch) -> one R per item``."""

    def __init__(
        self,
        write: Callable[[list[T]], Awaitable[Sequence[R]]],
        bounds: Sequence[Bound[T]] = (),
        *,
        max_wait: float = 0.0,
        stopped: Callable[[], Exception] = _stopped,
    ) -> None:
        if not isinstance(max_wait, int | float) or isinstance(max_wait, bool) or max_wait < 0:
            raise InvalidInputError(f"max_wait must be a number >= 0, not {max_wait!r}")
        for bound in bounds:
            if bound.limit < 1:
                raise InvalidInputError(f"a batch bound must be >= 1, not {bound.limit!r}")
        self._write = write
        self._bounds = tuple(bounds)
        self._max_wait = max_wait
        self._stopped = stopped
        self._queue: deque[_Waiting[T, R]] = deque()
        self._flusher: asyncio.Task[None] | None = None

    # ------------------------------------------------------------------ callers
    def submit_nowait(self, item: T) -> asyncio.Future[R]:
        """Queue ``item``; the future gets its result (or error) once its batch is done.

        Items queued in one go (no await between them) are taken in that order.
        """
        waiting: _Waiting[T, R] = _Waiting(item, asyncio.get_running_loop().create_future())
        self._queue.append(waiting)
        if self._flusher is None:
            self._flusher = asyncio.ensure_future(self._run())
            self._flusher.add_done_callback(self._flusher_done)
        return waiting.future

    async def submit(self, item: T) -> R:
        """Queue ``item`` and return its result once the batch holding it is durable."""
        return await asyncio.shield(self.submit_nowait(item))

    @property
    def pending(self) -> int:
        """Items queued and not yet taken into a batch."""
        return len(self._queue)

    @property
    def busy(self) -> bool:
        """Whether a flusher is running (items queued or a batch being written)."""
        return self._flusher is not None

    async def flush(self) -> None:
        """Wait until everything submitted so far is written (or has failed)."""
        while self._flusher is not None:
            await asyncio.wait({self._flusher})

    # ------------------------------------------------------------------ the flusher
    async def _run(self) -> None:
        batch: list[_Waiting[T, R]] = []
        try:
            while self._queue:
                if self._max_wait > 0 and not self._full():
                    await asyncio.sleep(self._max_wait)
                batch = self._take()
                await self._write_batch(batch)
                batch = []
        finally:
            self._flusher = None
            self._fail(batch, self._stopped())
            self._fail_queue()

    def _flusher_done(self, task: asyncio.Task[None]) -> None:
        """A flusher cancelled before its first step never runs ``_run``'s ``finally``:
        fail what is queued here instead (nothing was taken yet)."""
        if self._flusher is task:
            self._flusher = None
            self._fail_queue()

    def _fail_queue(self) -> None:
        if self._queue:
            self._fail(list(self._queue), self._stopped())
            self._queue.clear()

    async def _write_batch(self, batch: list[_Waiting[T, R]]) -> None:
        try:
            results = await self._write([w.item for w in batch])
            if len(results) != len(batch):
                raise StoreError(
                    f"group commit write returned {len(results)} results for {len(batch)} items"
                )
        except Exception as exc:
            self._fail(batch, exc)
            return
        for waiting, result in zip(batch, results, strict=True):
            if not waiting.future.done():
                waiting.future.set_result(result)

    @staticmethod
    def _fail(batch: list[_Waiting[T, R]], exc: Exception) -> None:
        for waiting in batch:
            if not waiting.future.done():
                waiting.future.set_exception(exc)

    def _full(self) -> bool:
        """Whether the queued items reach some bound (waiting longer adds nothing)."""
        return any(
            sum(bound.measure(w.item) for w in self._queue) >= bound.limit for bound in self._bounds
        )

    def _take(self) -> list[_Waiting[T, R]]:
        batch = [self._queue.popleft()]
        totals = [bound.measure(batch[0].item) for bound in self._bounds]
        while self._queue:
            costs = [bound.measure(self._queue[0].item) for bound in self._bounds]
            if any(
                total + cost > bound.limit
                for total, cost, bound in zip(totals, costs, self._bounds, strict=True)
            ):
                break
            batch.append(self._queue.popleft())
            totals = [total + cost for total, cost in zip(totals, costs, strict=True)]
        return batch
