"""One parser for driver options, from the URL query and ``open_bucket`` keywords.

Every driver reads its options through :class:`Options`: keywords win over the URL,
each value is type- and range-checked, unknown names are refused, and a bad value is a
ConfigurationError that never echoes a secret.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from typing import Any

from cloudstores.errors import ConfigurationError

__all__ = ["SECRET_OPTIONS", "Options", "check_bucket_name", "check_endpoint"]

SECRET_OPTIONS = frozenset(
    {
        "connection_string",
        "sas_token",
        "credential",
        "account_key",
        "aws_secret_access_key",
        "aws_session_token",
        "secret",
        "secret_key",
        "password",
        "token",
    }
)
"""Option names whose values are never shown in a message, ``repr`` or log."""

_NUMERIC = re.compile(r"[0-9.eE+-]*|true|false|yes|no|on|off|nan|inf", re.IGNORECASE)
_BUCKET_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,254}")
_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


class Options:
    """The options of one ``open_bucket`` call (URL query values, then keywords)."""

    def __init__(
        self,
        scheme: str,
        url_options: Mapping[str, Any] | None = None,
        keywords: Mapping[str, Any] | None = None,
    ) -> None:
        self.scheme = scheme
        self._values: dict[str, Any] = dict(url_options or {})
        self._values.update({k: v for k, v in (keywords or {}).items() if v is not None})

    def __repr__(self) -> str:
        return f"<Options {self.scheme}:// {sorted(self._values)}>"

    def __contains__(self, name: str) -> bool:
        return name in self._values

    def names(self) -> set[str]:
        return set(self._values)

    def _show(self, name: str, value: Any) -> str:
        """A value for a message: numbers as they are, anything else by its type only
        (a misplaced secret must never be echoed)."""
        if name in SECRET_OPTIONS:
            return "<redacted>"
        if isinstance(value, int | float) or (
            isinstance(value, str) and len(value) <= 24 and _NUMERIC.fullmatch(value)
        ):
            return repr(value)
        return f"<{type(value).__name__}>"

    def _bad(self, name: str, value: Any, want: str) -> ConfigurationError:
        return ConfigurationError(
            f"{self.scheme}:// option {name}={self._show(name, value)} {want}"
        )

    def raw(self, name: str) -> Any:
        """The value as given (any type), or None; an empty URL value counts as None."""
        value = self._values.pop(name, None)
        return None if value == "" else value

    def text(self, name: str, default: str | None = None) -> str | None:
        value = self.raw(name)
        if value is None:
            return default
        if not isinstance(value, str):
            raise self._bad(name, type(value).__name__, "must be text")
        if "\x00" in value:
            raise self._bad(name, value, "must not contain NUL")
        return value

    def whole(
        self, name: str, default: int, *, minimum: int = 1, maximum: int | None = None
    ) -> int:
        value = self.raw(name)
        if value is None:
            return default
        if isinstance(value, bool) or not isinstance(value, int | str):
            raise self._bad(name, value, "must be a whole number")
        try:
            number = int(value)
        except ValueError:
            raise self._bad(name, value, "must be a whole number") from None
        if number < minimum or (maximum is not None and number > maximum):
            bound = (
                f"between {minimum} and {maximum}" if maximum is not None else f"at least {minimum}"
            )
            raise self._bad(name, value, f"must be {bound}")
        return number

    def seconds(self, name: str, default: float, *, maximum: float = 86400.0) -> float:
        """A positive, finite number of seconds (at most ``maximum``)."""
        value = self.raw(name)
        if value is None:
            return default
        if isinstance(value, bool) or not isinstance(value, int | float | str):
            raise self._bad(name, value, "must be a number")
        try:
            number = float(value)
        except ValueError:
            raise self._bad(name, value, "must be a number") from None
        if not math.isfinite(number) or not 0 < number <= maximum:
            raise self._bad(name, value, f"must be more than 0 and at most {maximum:g}")
        return number

    def flag(self, name: str, default: bool) -> bool:
        value = self.raw(name)
        if value is None:
            return default
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in _TRUE | _FALSE:
            return value.lower() in _TRUE
        raise self._bad(name, value, "must be true or false")

    def refuse(self, names: Iterable[str], why: str) -> None:
        """ConfigurationError if any of ``names`` was given (values are not shown)."""
        given = sorted(set(names) & set(self._values))
        if given:
            raise ConfigurationError(f"{self.scheme}:// does not take {', '.join(given)}: {why}")

    def done(self) -> None:
        """ConfigurationError for any option no one read."""
        if self._values:
            names = ", ".join(sorted(self._values))
            raise ConfigurationError(f"unknown option(s) for {self.scheme}://: {names}")


_IP = re.compile(r"\d{1,3}(\.\d{1,3}){3}")
_S3_NAME = re.compile(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]")
_AZ_NAME = re.compile(r"[a-z0-9][a-z0-9-]{1,61}[a-z0-9]|\$root|\$web|\$logs")
_GS_NAME = re.compile(r"[a-z0-9][a-z0-9._-]{1,220}[a-z0-9]")
_RULES = {
    "s3": "3-63 lowercase letters, digits, '.' and '-', starting and ending with a "
    "letter or digit, no '..', not an IP address",
    "az": "3-63 lowercase letters, digits and '-', starting and ending with a letter or "
    "digit, no '--'",
    "gs": "3-63 lowercase letters, digits, '.', '_' and '-' (up to 222 with dots, 63 "
    "between dots), starting and ending with a letter or digit, not starting with "
    "'goog', not an IP address",
}
_DOCS = {
    "s3": "https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucketnamingrules.html",
    "az": "https://learn.microsoft.com/rest/api/storageservices/naming-and-referencing-containers--blobs--and-metadata",
    "gs": "https://cloud.google.com/storage/docs/buckets#naming",
}


def _name_ok(cloud: str, name: str) -> bool:
    if cloud == "s3":
        return bool(_S3_NAME.fullmatch(name)) and ".." not in name and not _IP.fullmatch(name)
    if cloud == "az":
        return bool(_AZ_NAME.fullmatch(name)) and "--" not in name
    parts = name.split(".")
    return (
        bool(_GS_NAME.fullmatch(name))
        and (len(name) <= 63 or "." in name)
        and all(0 < len(p) <= 63 for p in parts)
        and not name.startswith("goog")
        and not _IP.fullmatch(name)
    )


def check_bucket_name(scheme: str, name: str, *, what: str = "bucket") -> str:
    """``name`` if the cloud would accept it as a bucket (``s3``, ``gs``) or container
    (``az``) name, else a ConfigurationError naming the rule, before any request.

    Checked by the cloud's published naming rules (S3 general purpose buckets, Azure
    containers, GCS buckets); other schemes get the loose rule (letters, digits, '.',
    '_', '-'; 1..255).
    """
    if not name:
        raise ConfigurationError(f"{scheme}:// URLs need a {what} name: {scheme}://NAME[/prefix]")
    shown = repr(name[:64])
    cloud = {"azure": "az", "gcs": "gs"}.get(scheme, scheme)
    if cloud in _RULES:
        if not _name_ok(cloud, name):
            raise ConfigurationError(
                f"{scheme}:// {what} name {shown} is not valid: {_RULES[cloud]} "
                f"(see {_DOCS[cloud]})"
            )
        return name
    if not _BUCKET_NAME.fullmatch(name):
        raise ConfigurationError(
            f"{scheme}:// {what} name {shown} may only hold letters, digits, '.', '_' and '-'"
        )
    return name


def check_endpoint(scheme: str, option: str, value: str | None) -> str | None:
    """``value`` if it is None or an http(s) URL, else a ConfigurationError before any
    request (``localhost:9000`` without a scheme is the usual slip)."""
    if value is not None and not value.lower().startswith(("https://", "http://")):
        hint = value if len(value) <= 64 and "?" not in value else "<value>"
        raise ConfigurationError(
            f"{scheme}:// {option} must start with https:// or http:// (got {hint!r}; "
            f"did you mean 'http://{hint}'?)"
        )
    return value
