"""What both SynthOrg repositories share: borrowed or owned stores, error mapping, models."""

from __future__ import annotations

import importlib
from collections.abc import Awaitable, Mapping
from enum import Enum
from typing import Any, TypeVar

from cloudstores.adapters._stores import StoresAdapter
from cloudstores.errors import InvalidInputError, StoreError
from cloudstores.stores.workspace import Stores

from .errors import ErrorMap

T = TypeVar("T")


def load_model(given: Any, module: str, name: str) -> Any | None:
    """The model class: ``given``, else SynthOrg's own if installed, else None (dicts)."""
    if given is not None:
        if not callable(getattr(given, "model_validate", None)):
            raise InvalidInputError(f"{name} model must be a pydantic model class")
        return given
    try:
        return getattr(importlib.import_module(module), name)
    except (ImportError, AttributeError):
        return None


def plain(value: Any) -> Any:
    """An enum member's value (SynthOrg passes ``ApprovalRiskLevel``, ``ArtifactType``)."""
    return value.value if isinstance(value, Enum) else value


def dump(item: Any, what: str) -> dict[str, Any]:
    """A SynthOrg model (pydantic) or a mapping as a JSON object."""
    dumper = getattr(item, "model_dump", None)
    if callable(dumper):
        data = dumper(mode="json")
    elif isinstance(item, Mapping):
        data = dict(item)
    else:
        raise InvalidInputError(f"{what} must be a pydantic model or a mapping, not {item!r}")
    if not isinstance(data, dict):
        raise InvalidInputError(f"{what} must dump to a JSON object")
    return data


class Repository(StoresAdapter):
    """Borrows ``Stores`` (``X(stores)``) or owns them (``X.from_url(url, ...)``, whose
    options naming the class's own keyword arguments, ``model``, ``errors``, ``stream``...,
    go to it and the rest to ``open_stores``).

    An async context manager; ``close()`` flushes pending index writes and, when the
    stores are owned, closes them and their bucket. Borrowed stores stay open.
    """

    def __init__(self, stores: Stores, *, errors: Any = None) -> None:
        super().__init__(stores)
        self.errors = ErrorMap(errors)

    async def _call(self, work: Awaitable[T], *, saving: bool = False) -> T:
        """Await ``work``; a cloudstores error comes out as SynthOrg's (see errors.py)."""
        try:
            return await work
        except StoreError as exc:
            raise self.errors.convert(exc, saving=saving) from exc
