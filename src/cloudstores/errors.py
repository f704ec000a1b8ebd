"""The one exception tree of cloudstores.

Every error a public function raises is a :class:`StoreError`. Drivers translate
their SDK's exceptions at one place each (``raise ... from sdk_error``), so callers
never import botocore, azure.core or google.api_core to catch ours::

    StoreError
    ├── InvalidInputError            bad arguments; raised before any request
    │   ├── InvalidKeyError
    │   ├── InvalidIdError
    │   ├── PayloadTooLargeError
    │   └── SerializationError
    ├── ConflictError                a condition on the write did not hold
    │   ├── AlreadyExistsError       create-only target exists
    │   └── PreconditionFailedError  compare-and-swap saw another version
    ├── NotFoundError
    ├── PermissionDeniedError        credentials refused (401/403)
    ├── ConfigurationError           unusable URL, missing extra, missing bucket
    ├── IntegrityError               stored data is not what it claims to be
    ├── UsageError                   an object used where it cannot work
    │   ├── LoopInUseError           bound to an event loop still running elsewhere
    │   ├── SyncDeadlockError        a sync call from the sync API's own loop thread
    │   └── SyncClosedError          a sync object used after close()
    └── TransientError               worth retrying; retried for you
        ├── BackendUnavailableError  5xx, connection refused or reset
        ├── ThrottledError           429 / 503 SlowDown
        └── StoreTimeoutError        no answer in time
"""

from __future__ import annotations

__all__ = [
    "AlreadyExistsError",
    "BackendUnavailableError",
    "ConfigurationError",
    "ConflictError",
    "IntegrityError",
    "InvalidIdError",
    "InvalidInputError",
    "InvalidKeyError",
    "LoopInUseError",
    "NotFoundError",
    "PayloadTooLargeError",
    "PermissionDeniedError",
    "PreconditionFailedError",
    "SerializationError",
    "StoreError",
    "StoreTimeoutError",
    "SyncClosedError",
    "SyncDeadlockError",
    "ThrottledError",
    "TransientError",
    "UsageError",
]


class StoreError(Exception):
    """Base class of every error cloudstores raises.

    ``bucket`` and ``key`` name the object involved when there is one; the message
    never carries a credential.
    """

    def __init__(self, message: str, *, bucket: str | None = None, key: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.bucket = bucket
        self.key = key


class InvalidInputError(StoreError, ValueError):
    """An argument is unusable. Raised before any request is made; nothing is written."""


class InvalidKeyError(InvalidInputError):
    """An object key is empty, too long, absolute, or has ``..`` / empty segments."""


class InvalidIdError(InvalidInputError):
    """A record id, workspace or stream name is outside the allowed alphabet or length."""


class PayloadTooLargeError(InvalidInputError):
    """A body or record is over the configured size limit."""


class SerializationError(InvalidInputError):
    """A value cannot be encoded as strict JSON (NaN, bytes, unknown types...)."""


class ConflictError(StoreError):
    """A conditional write did not apply because the object is not in the expected state."""


class AlreadyExistsError(ConflictError):
    """A create-only write found the key taken."""


class PreconditionFailedError(ConflictError):
    """A compare-and-swap write found another version than the one it was given."""


class NotFoundError(StoreError, LookupError):
    """The object or record does not exist."""


class PermissionDeniedError(StoreError):
    """The backend refused the credentials or the operation (401/403)."""


class ConfigurationError(StoreError):
    """The URL or options cannot be used: unknown scheme, missing extra, missing bucket."""


class IntegrityError(StoreError):
    """Stored data does not match what it claims (bad hash, unreadable object)."""


class UsageError(StoreError, RuntimeError):
    """An object was used in a way it cannot work (wrong event loop, wrong thread, closed)."""


class LoopInUseError(UsageError):
    """An object bound to an event loop that still runs in another thread was used from
    a second loop. Open one object per event loop, or use :mod:`cloudstores.sync`."""


class SyncDeadlockError(UsageError):
    """A sync call was made from the background loop's own thread, where waiting for
    the answer would wait forever. Use the async object (``proxy.aio``) there."""


class SyncClosedError(UsageError):
    """A call on a sync object whose background loop was stopped by ``close()``."""


class TransientError(StoreError):
    """A failure that may pass; the bucket layer retries these with backoff."""


class BackendUnavailableError(TransientError):
    """The backend answered 5xx, or the connection was refused or reset."""


class ThrottledError(TransientError):
    """The backend asked us to slow down (429, 503 SlowDown)."""


class StoreTimeoutError(TransientError, TimeoutError):
    """No answer in time. The request may or may not have been applied."""
