"""``ResourceLockStorage`` with a real check-and-set across processes.

All locks of a workspace live in one document, ``dir.resource_locks/locks``:
``{"locks": {resource_id: {dfid: amount}}}``. DIR's ``ResourceLockManager.acquire``
checks capacity with ``get_locked_amount(resource, exclude_dfid=dfid)`` for each
resource and then calls ``acquire_batch``. This storage remembers what each dfid's
check saw (the amount the other flows held on each resource); ``acquire_batch`` then
reads the document, refuses (returns False, writing nothing) if on any resource of the
batch the other flows now hold more than the check saw, and otherwise writes the batch
as the document's next version with a compare-and-swap (a create-only PUT of version
``n + 1``, made only if ``n`` is still the newest). A lost swap re-reads and re-tests.
So a write lands only on a state no worse than the one checked, in this process or any
other: two flows that both saw "enough room" cannot both get it, which is what the
protocol's docstring asks of ``acquire_batch``. The manager answers a False by
checking again on fresh numbers. One document makes every batch all-or-nothing.

Without a preceding check by the same dfid (a direct call), ``acquire_batch`` is an
atomic read-modify-write (retried on lost races until ``timeout_sec``).

Semantics, per the protocol: ``acquire_batch(dfid, {r: a})`` sets dfid's amount on each
``r`` (other dfids' locks on ``r`` stay, other resources of dfid stay);
``get_locked_amount`` sums every other dfid's amount; ``release`` drops all of dfid's.
DIR's own backends differ: memory replaces all of dfid's locks with the new batch and
checks nothing; SQLite keeps one row per resource (a second flow *replaces* the first
flow's lock on that resource) and serialises writers of one file with ``BEGIN
IMMEDIATE``, which does not make the manager's earlier check atomic with the write.

Costs: ``get_locked_amount`` one LIST and (unless cached) one GET; ``acquire_batch`` and
``release`` one PUT when nothing changed (plus the document's index entry), a LIST and
a GET more per lost race. Every acquire and release is a new version of one document:
all writers of a workspace contend on it (about one write per PUT latency).
"""

from __future__ import annotations

import threading
import time
from typing import Any

from cloudstores.adapters.dir_core._common import PREFIX, BucketStorageBase, text
from cloudstores.errors import AlreadyExistsError, PreconditionFailedError
from cloudstores.stores.documents import CREATE_ONLY, DocumentStore
from cloudstores.stores.workspace import Stores

__all__ = ["BucketResourceLockStorage"]

DOCUMENT = "locks"
MAX_CHECKS = 10_000
"""Flows whose last check is remembered; the one checked longest ago is forgotten first
(only after 10,000 other flows checked since, its acquire then writes unguarded, as a
direct call does)."""
_ABSENT = -1
"""The version noted when the locks document does not exist yet."""
Locks = dict[str, dict[str, float]]


class BucketResourceLockStorage(BucketStorageBase):
    """``ResourceLockStorage`` over one compare-and-swap document (see the module doc)."""

    collection = PREFIX + "resource_locks"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._checks: dict[str, dict[str, float]] = {}
        """dfid -> resource -> what the other flows held when dfid's check read it."""
        self._mutex = threading.Lock()

    def _docs(self, stores: Stores) -> DocumentStore:
        return stores.documents(self.collection)

    def _read(self) -> tuple[int, Locks]:
        async def go(stores: Stores) -> tuple[int, Locks]:
            document = await self._docs(stores).get_or_none(DOCUMENT)
            if document is None:
                return _ABSENT, {}
            return document.version, document.value["locks"]

        return self._run(go)

    def get_locked_amount(self, resource_id: str, exclude_dfid: str) -> float:
        rid, dfid = text(resource_id), text(exclude_dfid)
        _, locks = self._read()
        held = _others(locks, rid, dfid)
        with self._mutex:
            seen = self._checks.pop(dfid, {})  # re-inserted: the newest check is last
            seen[rid] = held
            self._checks[dfid] = seen
            if len(self._checks) > MAX_CHECKS:  # checks never followed by an acquire
                del self._checks[next(iter(self._checks))]
        return held

    def acquire_batch(self, dfid: str, resources: dict[str, float], timeout_sec: float) -> bool:
        dfid = text(dfid)
        wanted = {text(rid): float(amount) for rid, amount in resources.items()}
        with self._mutex:
            seen = self._checks.pop(dfid, {})
        deadline = time.monotonic() + max(0.0, float(timeout_sec))
        while True:
            version, locks = self._read()
            if any(_others(locks, rid, dfid) > seen[rid] for rid in wanted if rid in seen):
                return False  # others took more since the check: the manager checks again
            for rid, amount in wanted.items():
                locks.setdefault(rid, {})[dfid] = amount
            if self._swap(version, locks):
                return True
            if time.monotonic() >= deadline:
                return False

    def release(self, dfid: str) -> None:
        dfid = text(dfid)
        with self._mutex:
            self._checks.pop(dfid, None)
        while True:
            version, locks = self._read()
            kept = {rid: rest for rid, held in locks.items() if (rest := _without(held, dfid))}
            if kept == locks or self._swap(version, kept):
                return

    def _swap(self, version: int, locks: Locks) -> bool:
        """Write ``locks`` as the version after ``version``; False if that was taken."""
        expected: Any = CREATE_ONLY if version == _ABSENT else version
        value = {"locks": locks}

        async def go(stores: Stores) -> bool:
            try:
                await self._docs(stores).put(DOCUMENT, value, expected_version=expected)
            except (AlreadyExistsError, PreconditionFailedError):
                return False
            return True

        return self._run(go)


def _others(locks: Locks, rid: str, dfid: str) -> float:
    """What the flows other than ``dfid`` hold on ``rid``."""
    return float(sum(amount for holder, amount in locks.get(rid, {}).items() if holder != dfid))


def _without(held: dict[str, float], dfid: str) -> dict[str, float]:
    return {holder: amount for holder, amount in held.items() if holder != dfid}
