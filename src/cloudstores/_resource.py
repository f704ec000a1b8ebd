"""``async with`` for everything that holds connections or pending writes."""

from __future__ import annotations

from types import TracebackType
from typing import Self

__all__ = ["AsyncResource"]


class AsyncResource:
    """``async with x:`` awaits ``x.open()`` on the way in and ``x.close()`` on the way out."""

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
