"""What an index found wrong in the bucket: reported, logged, skipped; never raised raw."""

from __future__ import annotations

import logging
from collections import deque
from dataclasses import dataclass

__all__ = ["MAX_PROBLEMS", "Problem", "Problems", "log"]

log = logging.getLogger("cloudstores")
MAX_PROBLEMS = 1000


@dataclass(frozen=True, slots=True)
class Problem:
    """An object or entry of the index that was skipped, or a gap, and why."""

    key: str
    reason: str


class Problems(deque[Problem]):
    """The last ``MAX_PROBLEMS`` problems; each is also logged once as a warning."""

    def __init__(self) -> None:
        super().__init__(maxlen=MAX_PROBLEMS)
        self._seen: set[tuple[str, str]] = set()

    def report(self, key: str, reason: str) -> None:
        if (key, reason) in self._seen:
            return
        if len(self._seen) < 10 * MAX_PROBLEMS:
            self._seen.add((key, reason))
        log.warning("index: skipped %s: %s", key, reason)
        self.append(Problem(key, reason))
