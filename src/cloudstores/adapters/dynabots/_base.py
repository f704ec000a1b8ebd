"""What every DynaBots adapter class shares: borrowing or owning a :class:`Stores`."""

from __future__ import annotations

from collections.abc import Mapping
from types import TracebackType
from typing import Any, ClassVar, Self

from cloudstores.errors import InvalidInputError
from cloudstores.stores.workspace import Stores, open_stores

__all__ = ["StoresAdapter"]


class StoresAdapter:
    """Base of the adapter classes: ``X(stores)`` borrows, ``X.from_url(url)`` owns.

    A borrowed :class:`~cloudstores.stores.workspace.Stores` is left open by
    :meth:`close` (its opener closes it); an owned one is closed by :meth:`close` and by
    ``async with``. The adapter reaches its collections through ``stores`` on every call,
    so it follows ``stores`` from one event loop to the next.
    """

    ADAPTER_OPTIONS: ClassVar[tuple[str, ...]] = ()
    """The ``from_url`` options the class takes itself; the others go to ``open_stores``."""

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
        (or ``async with``) closes them. ``options`` are the class's own keyword arguments
        (see its constructor) and, for the rest, :func:`~cloudstores.open_stores`'s (e.g.
        ``retry``, ``audit_signer``, bucket URL options). No request is made here."""
        own = {name: options.pop(name) for name in cls.ADAPTER_OPTIONS if name in options}
        stores = open_stores(url, workspace=workspace, **options)
        adapter = cls._build(stores, own)
        adapter._owns = True
        return adapter

    @classmethod
    def _build(cls, stores: Stores, options: Mapping[str, Any]) -> Self:
        return cls(stores, **options)

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


def check_name(value: object, *, what: str) -> str:
    """A non-empty ``str`` (the frameworks' ids and names), else InvalidInputError."""
    if not isinstance(value, str) or not value:
        raise InvalidInputError(f"{what} must be a non-empty str, not {value!r:.100}")
    return value
