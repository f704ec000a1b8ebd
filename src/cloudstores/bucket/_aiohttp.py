"""No hidden re-sends from aiohttp (used by the S3 and Azure drivers).

aiohttp 3.x re-sends an idempotent request (PUT included) once by itself when a
*reused* connection turns out closed (``ServerDisconnectedError`` / ``ClientOSError``,
RFC 9112 section 9.3.1.1). For a conditional PUT whose answer was lost after the server
stored it, the re-send meets our own object and answers 412/409: the caller would see
a conflict on what it believes is its first attempt. The Bucket reconciles any conflict
by put-id anyway; turning the re-send off as well keeps every attempt visible to it (it
counts, times and retries each one). aiohttp's own test client turns it off the same way
(``aiohttp.test_utils``), through the session attribute ``_retry_connection``.
"""

from __future__ import annotations

from typing import Any

__all__ = ["disable_resend"]


def disable_resend(session: Any) -> None:
    """Make ``session`` (an ``aiohttp.ClientSession``) raise instead of re-sending."""
    if hasattr(session, "_retry_connection"):
        session._retry_connection = False
