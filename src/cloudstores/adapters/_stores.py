"""What the async adapter classes share: ``X(stores)`` borrows, ``X.from_url(url)`` owns."""

from __future__ import annotations

import inspect
from types import TracebackType
from typing import Any, Self

from cloudstores.errors import InvalidInputError
from cloudstores.stores.workspace import Stores, open_stores

__all__ = ["StoresAdapter"]


class StoresAdapter:
    """Base of the async adapter classes: ``X(stores)`` borrows, ``X.from_url(url)`` owns.

    A borrowed :class:`~cloudstores.stores.workspace.Stores` is left open by
    :meth:`close` (its opener closes it); an owned one is closed by :meth:`close` and by
    ``async with``. The adapter reaches its stores through ``self.stores`` on every call,
    so it follows them from one event loop to the next.
    """

    def __init__(self, stores: Stores) -> None:
        if not isinstance(stores, Stores):
            raise InvalidInputError(
                f"stores must be a Stores (see open_stores), not {type(stores).__name__}"
            )
        self.stores = stores
        self._owns = False

    @classmethod
    def from_url(cls, url: str, *, workspace: str | None = None, **options: Any) -> Self:
        """Open the stores of ``workspace`` at ``url`` for this adapter alone; :meth:`close`
        (or ``async with``) closes them. ``options`` naming the class's own keyword-only
        arguments (see its constructor) go to it, the rest to
        :func:`~cloudstores.open_stores` (``retry``, ``audit_signer``, bucket URL
        options...). No request is made here: the bucket opens on first use."""
        own = {
            name
            for name, p in inspect.signature(cls.__init__).parameters.items()
            if p.kind is inspect.Parameter.KEYWORD_ONLY
        }
        mine = {k: v for k, v in options.items() if k in own}
        rest = {k: v for k, v in options.items() if k not in own}
        adapter = cls(open_stores(url, workspace=workspace, **rest), **mine)
        adapter._owns = True
        return adapter

    async def close(self) -> None:
        """Finish pending writes; close the stores if :meth:`from_url` opened them."""
        if self._owns:
            await self.stores.close()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.stores!r}>"
