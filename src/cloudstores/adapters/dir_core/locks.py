"""``ResourceLockStorage`` with a real check-and-set across processes.

All locks of a workspace live in one document, ``dir.resource_locks/locks``:
``{"locks": {resource_id: {dfid: amount}}}``. DIR's ``ResourceLockManager.acquire``
checks capacity with ``get_locked_amount`` (for each resource, in sorted order) and then
calls ``acquire_batch``. This storage remembers, per dfid, the document version its
check read first; ``acquire_batch`` writes the locks as the next version *only if the
document is still at that version* (a compare-and-swap on the version number: a
create-only PUT of ``version + 1``). If anyone changed the locks in between, in this
process or another, it writes nothing and returns False; the manager then checks again
on fresh numbers. So two flows that both saw "enough room" cannot both get it, which is
what the protocol's docstring asks of ``acquire_batch``. Writing all resources of a batch
into one version makes the batch all-or-nothing.

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
from dataclasses import dataclass, field
from typing import Any

from cloudstores.adapters.dir_core._common import PREFIX, BucketStorageBase, text
from cloudstores.errors import AlreadyExistsError, PreconditionFailedError
from cloudstores.stores.documents import CREATE_ONLY, DocumentStore
from cloudstores.stores.workspace import Stores

__all__ = ["BucketResourceLockStorage"]

DOCUMENT = "locks"
_ABSENT = -1
"""The version noted when the locks document does not exist yet."""
Locks = dict[str, dict[str, float]]


@dataclass(slots=True)
class _Check:
    """What one dfid's capacity check has read: the first version and the resources."""

    version: int
    resources: set[str] = field(default_factory=set)


class BucketResourceLockStorage(BucketStorageBase):
    """``ResourceLockStorage`` over one compare-and-swap document (see the module doc)."""

    collection = PREFIX + "resource_locks"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._checks: dict[str, _Check] = {}
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
        version, locks = self._read()
        with self._mutex:
            check = self._checks.get(dfid)
            if check is None or rid in check.resources:
                # The manager's check starts again from its first resource: a new round.
                check = self._checks[dfid] = _Check(version)
            check.resources.add(rid)
        held = locks.get(rid, {})
        return float(sum(amount for holder, amount in held.items() if holder != dfid))

    def acquire_batch(self, dfid: str, resources: dict[str, float], timeout_sec: float) -> bool:
        dfid = text(dfid)
        wanted = {text(rid): float(amount) for rid, amount in resources.items()}
        with self._mutex:
            check = self._checks.pop(dfid, None)
        deadline = time.monotonic() + max(0.0, float(timeout_sec))
        while True:
            version, locks = self._read()
            if check is not None and version != check.version:
                return False  # the locks changed since the check: the manager checks again
            for rid, amount in wanted.items():
                locks.setdefault(rid, {})[dfid] = amount
            if self._swap(version, locks):
                return True
            if check is not None or time.monotonic() >= deadline:
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


def _without(held: dict[str, float], dfid: str) -> dict[str, float]:
    return {holder: amount for holder, amount in held.items() if holder != dfid}
