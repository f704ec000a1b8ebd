"""What every DIR storage shares: the sync stores, one hop to their loop per call, and
DIR's JSON rule for the text columns."""

from __future__ import annotations

import json
from collections.abc import Callable, Coroutine
from datetime import UTC, datetime
from typing import Any, Self, TypeVar

from cloudstores import sync
from cloudstores.errors import InvalidInputError
from cloudstores.stores.workspace import Stores

T = TypeVar("T")

PREFIX = "dir."
"""Every collection and stream the adapter writes starts with this (``dir.agent_registry``)."""


def dumps_json_dict(data: Any) -> str:
    """DIR's encoding of JSON columns (``dir_core.storage.json_util.dumps_json_dict``):
    ``json.dumps`` with sorted keys and ``default=str``, so a ``datetime`` or UUID in the
    details is kept as its text and the stored text equals what DIR's SQLite holds."""
    return json.dumps(data, sort_keys=True, default=str)


def loads_or_empty(text: str | None) -> Any:
    """A JSON column read back, ``{}`` for an empty or missing one (as DIR's backends)."""
    return json.loads(text or "{}")


def text(value: object) -> str:
    """A DIR identifier or status as plain ``str`` (DIR passes ``StrEnum`` members)."""
    if not isinstance(value, str):
        raise InvalidInputError(f"expected a string, not {type(value).__name__}")
    return str.__str__(value) if type(value) is not str else value


def iso_z(when: datetime) -> str:
    """``2026-11-26T01:02:03.000004Z``: the timestamp format of DIR's memory backend."""
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class BucketStorageBase:
    """Base of every ``Bucket*Storage``: ``X(stores)`` borrows a :class:`sync.SyncStores`
    (the caller closes it), ``X.from_url(url, workspace=...)`` opens and owns its own.

    DIR is synchronous: each protocol call is one blocking hop to the stores' background
    event loop (:mod:`cloudstores.sync`), whatever requests it makes there.
    """

    def __init__(self, stores: sync.SyncStores) -> None:
        if not isinstance(stores, sync.SyncStores):
            raise InvalidInputError(
                f"stores must be a cloudstores.sync.SyncStores (sync.open_stores(...)), "
                f"not {type(stores).__name__}"
            )
        self.stores = stores
        self._owns = False

    @classmethod
    def from_url(cls, url: str, *, workspace: str | None = None, **options: Any) -> Self:
        """Open the stores of ``workspace`` at ``url`` for this storage alone; ``close()``
        closes them. No request is made here."""
        storage = cls(sync.open_stores(url, workspace=workspace, **options))
        storage._owns = True
        return storage

    def init_schema(self) -> None:
        """Nothing to create: collections and streams come into being on first write."""

    def close(self) -> None:
        """Flush pending writes and close the stores if this storage opened them."""
        if self._owns:
            self.stores.close()

    def _run(self, fn: Callable[[Stores], Coroutine[Any, Any, T]]) -> T:
        return self.stores.run(fn)
