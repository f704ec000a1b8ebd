"""Parsing of bucket URLs, and redaction of the secrets a URL may carry.

``scheme://name/prefix?option=value&...``. The parser never lets a raw ValueError out
(``s3://[b`` is a ConfigurationError), refuses user info (``user:secret@``), and every
message it writes shows the URL through :func:`redact_url`.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

from cloudstores.bucket.options import SECRET_OPTIONS
from cloudstores.errors import ConfigurationError
from cloudstores.keys import is_control

__all__ = ["BucketURL", "redact_url"]

_SECRET_WORDS = re.compile(
    r"(?i)(accountkey|sharedaccesssignature|sig|password|secret|token|credential|"
    r"connection_string|sas_token|account_key)(=)[^&;\s]*"
)
_USERINFO = re.compile(r"(?i)^([a-z][a-z0-9+.-]*://)[^/@?#]*@")


def redact_url(url: object) -> str:
    """``url`` as text safe to show: user info, secret options and keys replaced."""
    text = url if isinstance(url, str) else repr(url)
    text = _USERINFO.sub(r"\1<redacted>@", text)
    text = _SECRET_WORDS.sub(r"\1\2<redacted>", text)
    if len(text) > 200:
        text = text[:200] + "..."
    return text


class BucketURL:
    """A parsed bucket URL: ``scheme://name/prefix?option=value&...``."""

    def __init__(self, url: str) -> None:
        if not isinstance(url, str) or "://" not in url:
            raise ConfigurationError(f"not a bucket URL: {redact_url(url)}")
        if any(is_control(c) for c in url):
            raise ConfigurationError(
                f"bucket URL contains a control character: {redact_url(url)!r}"
            )
        try:
            parts = urlsplit(url)
            netloc = parts.netloc
            has_userinfo = "@" in netloc
            self.scheme = parts.scheme.lower()
            self.name = unquote(netloc)
            self.path = unquote(parts.path)
            pairs = parse_qsl(parts.query, keep_blank_values=True)
        except ValueError:
            raise ConfigurationError(f"malformed bucket URL: {redact_url(url)}") from None
        if has_userinfo and self.scheme in ("abfs", "abfss"):
            raise ConfigurationError(
                f"{self.scheme}://container@account... is not taken ({redact_url(url)}); write "
                f"{self.scheme}://CONTAINER/prefix?account_url=https://ACCOUNT.blob.core.windows.net"
            )
        if has_userinfo:
            raise ConfigurationError(
                f"bucket URLs do not take user:password@ ({redact_url(url)}); pass "
                "credentials as open_bucket keywords or through the cloud's credential chain"
            )
        if parts.fragment:
            raise ConfigurationError("bucket URL must not have a #fragment")
        if any(is_control(c) for c in self.name + self.path):
            raise ConfigurationError(
                f"bucket URL contains an (encoded) control character: {redact_url(url)!r}"
            )
        self.options: dict[str, Any] = dict(pairs)
        self.redacted = redact_url(url)

    def __repr__(self) -> str:
        return f"<BucketURL {self.redacted}>"

    @property
    def prefix(self) -> str:
        return self.path.strip("/")

    # The helpers below serve the raw-SDK benchmarks; drivers use ``Options``.
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
        except (TypeError, ValueError):
            shown = "<redacted>" if name in SECRET_OPTIONS else repr(value)
            raise ConfigurationError(f"URL option {name}={shown} is not a whole number") from None
