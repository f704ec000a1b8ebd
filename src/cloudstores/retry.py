"""Retry policy: decorrelated-jitter backoff on transient failures.

Defaults follow Apache Arrow's ``object_store``: backoff from 100 ms growing to at
most 15 s, at most 10 attempts, all within 180 s.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field

from cloudstores.errors import InvalidInputError

__all__ = ["RetryConfig"]


@dataclass(frozen=True, slots=True, kw_only=True)
class RetryConfig:
    """How the bucket layer retries throttling, 5xx, timeouts and connection errors.

    Attributes:
        max_attempts: attempts per request, the first included (1 disables retries).
        initial_backoff: the smallest sleep between attempts, in seconds.
        max_backoff: the largest sleep between attempts, in seconds.
        deadline: no new attempt starts once this many seconds have passed.
        request_timeout: seconds one attempt may take before it counts as a timeout
            (None: rely on the SDK's own timeouts).
        seed: seed for the jitter (None: random); tests set it for repeatable runs.
    """

    max_attempts: int = 10
    initial_backoff: float = 0.1
    max_backoff: float = 15.0
    deadline: float = 180.0
    request_timeout: float | None = 60.0
    seed: int | None = None
    _rng: random.Random = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not _whole(self.max_attempts) or not 1 <= self.max_attempts <= 1000:
            raise InvalidInputError("max_attempts must be a whole number from 1 to 1,000")
        for name in ("initial_backoff", "max_backoff", "deadline"):
            if not _seconds(getattr(self, name), zero=name == "initial_backoff"):
                raise InvalidInputError(f"{name} must be a finite number of seconds")
        if not self.initial_backoff <= self.max_backoff:
            raise InvalidInputError("need 0 <= initial_backoff <= max_backoff")
        if self.request_timeout is not None and not _seconds(self.request_timeout, zero=False):
            raise InvalidInputError("request_timeout must be None or a positive number of seconds")
        if self.seed is not None and not _whole(self.seed):
            raise InvalidInputError("seed must be None or a whole number")
        object.__setattr__(self, "_rng", random.Random(self.seed))

    def next_backoff(self, previous: float | None) -> float:
        """Decorrelated jitter: uniform between the base and three times the last sleep."""
        if previous is None or previous < self.initial_backoff:
            previous = self.initial_backoff
        upper = min(self.max_backoff, previous * 3)
        return self._rng.uniform(self.initial_backoff, max(upper, self.initial_backoff))


def _whole(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _seconds(value: object, *, zero: bool) -> bool:
    """A finite number of seconds: > 0, or >= 0 when ``zero``; at most a day."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return False
    low_ok = value >= 0 if zero else value > 0
    return math.isfinite(value) and low_ok and value <= 86400
