"""What both Binex adapter classes share: borrowing or owning a :class:`Stores`, and ids."""

from __future__ import annotations

import base64
from types import TracebackType
from typing import Any, Self

from cloudstores.errors import InvalidIdError, InvalidInputError
from cloudstores.keys import MAX_ID_LENGTH, validate_id
from cloudstores.stores.workspace import Stores, open_stores

__all__ = ["StoresAdapter", "from_store_id", "to_store_id"]

_ESCAPE = "_x-"
"""Prefix of a Binex id that is not a valid cloudstores id (or starts with this prefix),
stored as base32 of its UTF-8 bytes: valid ids other than these pass through unchanged."""


def to_store_id(value: object, *, what: str) -> str:
    """A Binex run or record id as an id the execution store takes (reversible, injective).

    Ids of ``[A-Za-z0-9._-]`` (Binex's own ``run_...``/``rec_...``) stay as they are; any
    other text is escaped. InvalidIdError (before any request) for a non-str, an empty
    id, or one whose escaped form is over 256 characters (about 155 UTF-8 bytes).
    """
    if not isinstance(value, str) or not value:
        raise InvalidIdError(f"{what} must be a non-empty str, not {value!r:.100}")
    if not value.startswith(_ESCAPE):
        try:
            return validate_id(value, what=what)
        except InvalidIdError:
            pass
    try:
        raw = value.encode("utf-8")
    except UnicodeEncodeError:
        raise InvalidIdError(f"{what} {value[:40]!r} is not valid UTF-8 text") from None
    escaped = _ESCAPE + base64.b32encode(raw).decode().rstrip("=").lower()
    if len(escaped) > MAX_ID_LENGTH:
        raise InvalidIdError(f"{what} {value[:40]!r}... is too long for the execution store")
    return escaped


def from_store_id(value: str) -> str:
    """The Binex id that :func:`to_store_id` turned into ``value``."""
    if not value.startswith(_ESCAPE):
        return value
    body = value[len(_ESCAPE) :].upper()
    return base64.b32decode(body + "=" * (-len(body) % 8)).decode("utf-8")


class StoresAdapter:
    """Base of the adapter classes: ``X(stores)`` borrows, ``X.from_url(url)`` owns.

    A borrowed :class:`~cloudstores.stores.workspace.Stores` is left open by
    :meth:`close`; an owned one is closed by it (and by ``async with``). The adapter
    reaches its stores through ``self.stores`` on every call, so it follows the stores
    from one event loop to the next.
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
        closes them. ``options`` go to :func:`cloudstores.open_stores` (``retry``, bucket
        URL options...). No request is made here: the bucket opens on first use."""
        adapter = cls(open_stores(url, workspace=workspace, **options))
        adapter._owns = True
        return adapter

    async def close(self) -> None:
        """Finish pending index writes; close the stores if :meth:`from_url` opened them."""
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
