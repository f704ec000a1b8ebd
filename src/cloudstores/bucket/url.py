"""Parsing of bucket URLs."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from cloudstores.errors import ConfigurationError

__all__ = ["BucketURL"]


class BucketURL:
    """A parsed bucket URL: ``scheme://name/prefix?option=value&...``."""

    def __init__(self, url: str) -> None:
        parts = urlsplit(url)
        self.scheme = parts.scheme.lower()
        self.name = unquote(parts.netloc)
        self.path = unquote(parts.path)
        self.options: dict[str, Any] = {
            k: v[-1] for k, v in parse_qs(parts.query, keep_blank_values=True).items()
        }
        if parts.fragment:
            raise ConfigurationError("bucket URL must not have a #fragment")

    @property
    def prefix(self) -> str:
        return self.path.strip("/")

    def pop(self, name: str, default: Any = None) -> Any:
        return self.options.pop(name, default)

    def reject_unknown(self) -> None:
        if self.options:
            names = ", ".join(sorted(self.options))
            raise ConfigurationError(f"unknown option(s) in {self.scheme}:// URL: {names}")

    def pop_int(self, name: str, default: int | None = None) -> int | None:
        value = self.pop(name)
        if value is None or value == "":
            return default
        try:
            return int(value)
        except (TypeError, ValueError) as exc:
            raise ConfigurationError(f"URL option {name}={value!r} is not a whole number") from exc
