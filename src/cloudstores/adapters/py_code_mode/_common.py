"""What the py-code-mode stores share: namespaces, blocking calls, framework classes.

py-code-mode's stores are synchronous and called from inside its own event loop, so
every call here is sent to the background loop of a :class:`cloudstores.sync.SyncStores`
and waited for there (never run on the caller's loop).
"""

from __future__ import annotations

import importlib
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from cloudstores.errors import IntegrityError, InvalidInputError, NotFoundError
from cloudstores.stores.documents import DocumentStore
from cloudstores.stores.workspace import Stores
from cloudstores.sync import SyncStores

T = TypeVar("T")

SCOPE_FIELDS = {"scope": "string"}
"""Every collection's index holds the namespace: the workspace_id, or null (unscoped)."""
MAX_WORKSPACE_ID = 256


def check_workspace_id(value: object) -> str | None:
    """None (the unscoped namespace) or a non-empty str of at most 256 characters."""
    if value is None:
        return None
    if not isinstance(value, str) or not value or len(value) > MAX_WORKSPACE_ID:
        raise InvalidInputError(
            f"workspace_id must be None or 1..{MAX_WORKSPACE_ID} characters, not {value!r}"
        )
    return value


def scoped_id(scope: str | None, name: str) -> str:
    """The document id of ``name`` in a namespace: ``-/name`` unscoped, ``{len}:{scope}/
    name`` scoped. The first character tells the two apart and the length makes the
    scoped form unambiguous, so no two (scope, name) pairs share an id."""
    return f"-/{name}" if scope is None else f"{len(scope)}:{scope}/{name}"


def framework(module: str, name: str) -> Any | None:
    """A py-code-mode class if py-code-mode is installed, else None."""
    try:
        return getattr(importlib.import_module(module), name)
    except (ImportError, AttributeError):
        return None


class ArtifactNotFoundError(NotFoundError):
    """No artifact of that name (py-code-mode's ``ArtifactNotFoundError`` too when
    installed: see :func:`not_found`)."""

    def __init__(self, name: str, message: str | None = None) -> None:
        super().__init__(message or f"Artifact not found: {name}")
        self.name = name


class StorageReadError(IntegrityError, ValueError):
    """A stored workflow or artifact cannot be read back (a ValueError too, as the
    JSON error py-code-mode's Redis store raises for an unparsable ``.json`` artifact)."""


_combined: dict[tuple[type[Exception], type[Exception]], type[Exception]] = {}


def as_framework(ours: type[Exception], module: str, name: str) -> type[Exception]:
    """``ours``, or a class that is both py-code-mode's ``name`` and ``ours``."""
    theirs = framework(module, name)
    if not (isinstance(theirs, type) and issubclass(theirs, Exception)):
        return ours
    key = (theirs, ours)
    if key not in _combined:
        try:
            _combined[key] = type(name, (theirs, ours), {"__module__": __name__})
        except TypeError:
            _combined[key] = ours
    return _combined[key]


def not_found(name: str) -> Exception:
    cls = as_framework(ArtifactNotFoundError, "py_code_mode.errors", "ArtifactNotFoundError")
    try:
        return cls(name)
    except TypeError:
        return ArtifactNotFoundError(name)


def read_error(message: str) -> Exception:
    cls = as_framework(StorageReadError, "py_code_mode.errors", "StorageReadError")
    return cls(message)


class Blocking:
    """Runs coroutines on a SyncStores' background loop, with the stores of that loop."""

    def __init__(self, stores: SyncStores) -> None:
        if isinstance(stores, Stores):
            raise InvalidInputError(
                "py-code-mode's stores are synchronous: pass cloudstores.sync.open_stores"
                "(...) (a SyncStores), or a URL"
            )
        if not isinstance(stores, SyncStores):
            raise InvalidInputError(f"stores must be a cloudstores.sync SyncStores, not {stores!r}")
        self.stores = stores

    def run(self, work: Callable[[Stores], Awaitable[T]]) -> T:
        """``await work(stores)`` on the background loop; block until it is done."""

        async def body(stores: Stores) -> T:
            return await work(stores)

        return self.stores.run(body)

    def docs(self, stores: Stores, collection: str) -> DocumentStore:
        """The collection (call on the background loop: inside ``work``)."""
        return stores.documents(collection, fields=SCOPE_FIELDS)
