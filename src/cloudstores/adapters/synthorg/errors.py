"""SynthOrg's persistence errors, mapped from the one ``cloudstores.errors`` tree.

SynthOrg code catches its own classes (``DuplicateRecordError``, ``QueryError``, ...,
all under ``PersistenceError``). Every error the repositories raise is an instance of
**both** the SynthOrg class named below **and** the cloudstores class of its cause, so
``except DuplicateRecordError`` in SynthOrg code and ``except AlreadyExistsError`` in
ours both catch it. The SynthOrg classes come from, in order: the ``errors=`` argument
(a module or any object with those attributes), ``synthorg.persistence.errors`` or
``synthorg.core.persistence_errors`` when SynthOrg is installed, else the stand-ins of
this module (same names and hierarchy, rooted in :class:`cloudstores.errors.StoreError`).

=================================  ========================================
cause (cloudstores)                raised as (SynthOrg name)
=================================  ========================================
AlreadyExistsError on ``save``     DuplicateRecordError
ConfigurationError,                PersistenceConnectionError
PermissionDeniedError,
TransientError (retries spent)
anything else (bad arguments,      QueryError (SynthOrg's SQLite backend
IntegrityError, NotFound...)       raises QueryError for every failed query)
=================================  ========================================
"""

from __future__ import annotations

import importlib
from typing import Any

from cloudstores.errors import (
    AlreadyExistsError,
    ConfigurationError,
    InvalidInputError,
    PermissionDeniedError,
    StoreError,
    TransientError,
)

__all__ = [
    "DuplicateRecordError",
    "ErrorMap",
    "PersistenceConnectionError",
    "PersistenceError",
    "QueryError",
    "RecordNotFoundError",
]

_NAMES = (
    "PersistenceError",
    "PersistenceConnectionError",
    "DuplicateRecordError",
    "QueryError",
    "RecordNotFoundError",
)
_MODULES = ("synthorg.persistence.errors", "synthorg.core.persistence_errors")


class PersistenceError(StoreError):
    """Stand-in for SynthOrg's base persistence error (used when SynthOrg is absent)."""


class PersistenceConnectionError(PersistenceError):
    """The bucket cannot be reached or refused us."""


class DuplicateRecordError(PersistenceError):
    """An entry with the same id exists."""


class QueryError(PersistenceError):
    """A query failed: bad parameters or unreadable stored data."""


class RecordNotFoundError(PersistenceError):
    """A requested record does not exist."""


_STAND_INS: dict[str, type[Exception]] = {
    "PersistenceError": PersistenceError,
    "PersistenceConnectionError": PersistenceConnectionError,
    "DuplicateRecordError": DuplicateRecordError,
    "QueryError": QueryError,
    "RecordNotFoundError": RecordNotFoundError,
}


def _installed() -> Any | None:
    for name in _MODULES:
        try:
            return importlib.import_module(name)
        except ImportError:
            continue
    return None


class ErrorMap:
    """Builds the errors a repository raises: SynthOrg's class and the cause's class.

    Args:
        errors: a module or object with the attributes ``PersistenceError``,
            ``DuplicateRecordError`` and ``QueryError`` (``PersistenceConnectionError``
            and ``RecordNotFoundError`` are optional: ``PersistenceError`` then). None:
            SynthOrg's own module if installed, else this module's stand-ins.
    """

    def __init__(self, errors: Any = None) -> None:
        source = errors if errors is not None else _installed()
        base = getattr(source, "PersistenceError", None) if source is not None else None
        self.classes: dict[str, type[Exception]] = {}
        for name in _NAMES:
            found = getattr(source, name, None) if source is not None else None
            if found is None and source is not None and base is not None:
                found = (
                    base if name in ("PersistenceConnectionError", "RecordNotFoundError") else None
                )
            if found is None:
                if errors is not None:
                    raise ConfigurationError(f"errors= has no exception class {name!r}")
                found = _STAND_INS[name]
            if not (isinstance(found, type) and issubclass(found, Exception)):
                raise ConfigurationError(f"errors.{name} is not an exception class")
            self.classes[name] = found
        self._combined: dict[tuple[type[Exception], type[StoreError]], type[Exception]] = {}

    def name_for(self, cause: StoreError, *, saving: bool = False) -> str:
        """The SynthOrg class name a cloudstores error is raised as."""
        if saving and isinstance(cause, AlreadyExistsError):
            return "DuplicateRecordError"
        if isinstance(cause, ConfigurationError | PermissionDeniedError | TransientError):
            return "PersistenceConnectionError"
        return "QueryError"

    def convert(self, cause: StoreError, *, saving: bool = False) -> Exception:
        """An exception of SynthOrg's class and of ``type(cause)``, with its message."""
        framework = self.classes[self.name_for(cause, saving=saving)]
        ours = type(cause)
        if issubclass(framework, ours):
            combined: type[Exception] = framework
        else:
            key = (framework, ours)
            combined = self._combined.get(key) or self._combine(framework, ours)
            self._combined[key] = combined
        try:
            error = combined(cause.message)
        except TypeError:  # a framework class with another constructor
            error = framework(cause.message)
        if isinstance(error, StoreError):
            error.bucket, error.key = cause.bucket, cause.key
        return error

    def invalid(self, message: str) -> Exception:
        """A QueryError for bad arguments (also an InvalidInputError); no request made."""
        return self.convert(InvalidInputError(message))

    @staticmethod
    def _combine(framework: type[Exception], ours: type[StoreError]) -> type[Exception]:
        try:
            return type(framework.__name__, (framework, ours), {"__module__": __name__})
        except TypeError:  # incompatible layouts: the framework's class alone
            return framework
