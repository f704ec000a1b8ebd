"""What every DynaBots adapter class shares: the stores base and the name check."""

from __future__ import annotations

from cloudstores.adapters._stores import StoresAdapter
from cloudstores.errors import InvalidInputError

__all__ = ["StoresAdapter", "check_name"]


def check_name(value: object, *, what: str) -> str:
    """A non-empty ``str`` (the frameworks' ids and names), else InvalidInputError."""
    if not isinstance(value, str) or not value:
        raise InvalidInputError(f"{what} must be a non-empty str, not {value!r:.100}")
    return value
