"""One status -> error table and the translation skeleton every driver shares.

A driver's ``translate(exc, request)`` handles only what is particular to its SDK
(service error codes such as NoSuchBucket or ServerBusy, the SDK's connection and
timeout exceptions) and hands every HTTP status to :func:`error_for_status`. Messages
name the operation, key, bucket, status and service code, never the SDK's text (an
authentication failure's text may echo what it signed).
"""

from __future__ import annotations

from dataclasses import dataclass

from cloudstores.bucket.types import PutMode
from cloudstores.errors import (
    AlreadyExistsError,
    BackendUnavailableError,
    ConflictError,
    InvalidInputError,
    NotFoundError,
    PayloadTooLargeError,
    PermissionDeniedError,
    PreconditionFailedError,
    StoreError,
    StoreTimeoutError,
    ThrottledError,
)

__all__ = [
    "STATUS_TABLE",
    "Request",
    "connection_error",
    "error_for_status",
    "timeout_error",
]


@dataclass(frozen=True, slots=True)
class Request:
    """The request an error belongs to: what the Bucket asked its driver to do."""

    op: str
    """``put``, ``get``, ``head``, ``list``, ``delete`` or ``open``."""
    key: str
    """The full key (for ``list``: the full prefix; for ``open``: '')."""
    mode: PutMode | None = None
    """The put mode (``put`` only)."""
    bucket: str = ""
    """The bucket, container or root the request went to."""
    scheme: str = ""
    """The URL scheme, for messages (``s3``, ``az``, ...)."""

    @property
    def where(self) -> str:
        place = f"{self.scheme}://{self.bucket}" if self.scheme else repr(self.bucket)
        return f"{self.op} {self.key!r} in {place}" if self.key else f"{self.op} on {place}"

    def error(self, cls: type[StoreError], message: str) -> StoreError:
        """``cls(message)`` naming this request's bucket and key."""
        return cls(message, bucket=self.bucket or None, key=self.key or None)


STATUS_TABLE: dict[int, type[StoreError]] = {
    400: InvalidInputError,
    401: PermissionDeniedError,
    403: PermissionDeniedError,
    404: NotFoundError,
    408: StoreTimeoutError,
    409: ConflictError,
    412: PreconditionFailedError,
    413: PayloadTooLargeError,
    429: ThrottledError,
    503: ThrottledError,
}
"""HTTP status -> error class. 409 and 412 become AlreadyExistsError on a create-only
put; any other 5xx is BackendUnavailableError; anything else a plain StoreError."""


def error_class(status: int, request: Request) -> type[StoreError]:
    """The error class the table gives ``status`` for ``request``."""
    if status in (409, 412) and request.mode == "create":
        return AlreadyExistsError
    cls = STATUS_TABLE.get(status)
    if cls is not None:
        return cls
    if 500 <= status <= 599:
        return BackendUnavailableError
    return StoreError


def error_for_status(status: int, code: str, request: Request, *, detail: str = "") -> StoreError:
    """The cloudstores error for an HTTP answer ``status`` (service code ``code``)."""
    cls = error_class(status, request)
    answer = f"{status} {code}".strip()
    if cls is NotFoundError:
        message = f"{request.key!r} does not exist in {_place(request)} ({answer})"
    elif cls is AlreadyExistsError:
        message = f"{request.key!r} already exists in {_place(request)} ({answer})"
    elif cls is PreconditionFailedError:
        message = (
            f"{request.key!r} in {_place(request)} is no longer at the expected version ({answer})"
        )
    else:
        message = f"{request.where}: {_DESCRIPTION.get(cls, 'failed')} ({answer})"
    if detail:
        message = f"{message}: {detail}"
    return request.error(cls, message)


def connection_error(request: Request, exc: BaseException) -> StoreError:
    """A connection-level failure: transient and ambiguous (the request may have landed)."""
    return request.error(
        BackendUnavailableError,
        f"{request.where}: connection failed ({type(exc).__name__}); it may have been applied",
    )


def timeout_error(request: Request) -> StoreError:
    """No answer in time: transient and ambiguous."""
    return request.error(StoreTimeoutError, f"{request.where}: no answer in time")


def _place(request: Request) -> str:
    return f"{request.scheme}://{request.bucket}" if request.scheme else repr(request.bucket)


_DESCRIPTION: dict[type[StoreError], str] = {
    InvalidInputError: "rejected as invalid",
    PermissionDeniedError: "credentials refused",
    StoreTimeoutError: "timed out",
    ConflictError: "conflict",
    PayloadTooLargeError: "body too large",
    ThrottledError: "throttled",
    BackendUnavailableError: "backend unavailable",
}
