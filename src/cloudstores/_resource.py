"""``async with`` for everything that holds connections or pending writes, and the
event-loop binding every such object needs.

Clients (aiohttp pools) and asyncio primitives belong to the event loop they were made
in. The usual serverless pattern opens stores once at module level and runs
``asyncio.run(handler())`` per invocation: a new loop each time. ``AsyncResource``
remembers the loop it last ran in; :meth:`AsyncResource._enter_loop`, called at the
start of each public coroutine, notices a new loop and calls the subclass's
:meth:`AsyncResource._rebind_loop` hook to drop what belonged to the old one.
"""

from __future__ import annotations

import asyncio
import weakref
from types import TracebackType
from typing import Self

from cloudstores.errors import LoopInUseError

__all__ = ["AsyncResource", "LoopInUseError"]


class AsyncResource:
    """``async with x:`` awaits ``x.open()`` on the way in and ``x.close()`` on the way out."""

    _loop_ref: weakref.ReferenceType[asyncio.AbstractEventLoop] | None = None

    async def open(self) -> None:
        """Acquire what the object needs (a no-op unless a subclass says otherwise)."""

    async def close(self) -> None:
        """Release it and finish pending work (a no-op unless a subclass says otherwise)."""

    async def __aenter__(self) -> Self:
        await self.open()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    # ------------------------------------------------------------------ loop binding
    def _enter_loop(self) -> bool:
        """Bind to the running loop (call from a coroutine). If the object was bound to
        another loop that is gone or stopped, call ``_rebind_loop()`` and return True;
        if that loop still runs (in another thread), raise LoopInUseError: its clients
        cannot serve two loops."""
        loop = asyncio.get_running_loop()
        ref = self._loop_ref
        if ref is not None:
            old = ref()
            if old is loop:
                return False
            if old is not None and not old.is_closed() and old.is_running():
                raise LoopInUseError(
                    f"{self!r} is in use by an event loop running in another thread; "
                    "open one per event loop, or call it through cloudstores.sync"
                )
        self._loop_ref = weakref.ref(loop)
        if ref is None:
            return False
        self._rebind_loop()
        return True

    def _bound_loop(self) -> asyncio.AbstractEventLoop | None:
        """The loop this object last ran in, if it still exists."""
        return self._loop_ref() if self._loop_ref is not None else None

    def _rebind_loop(self) -> None:
        """Drop whatever belonged to the previous event loop (clients, locks, futures,
        tasks) without awaiting anything: that loop is closed or stopped. Subclasses
        with loop-bound state override this; the default keeps everything."""
