"""``BucketReputationStore``: DynaBots' ``ReputationStore`` as append-only delta records."""

from __future__ import annotations

import math
import uuid
from typing import Any

from cloudstores.adapters.dynabots._base import StoresAdapter, check_name
from cloudstores.errors import InvalidInputError
from cloudstores.stores.objects import check_int
from cloudstores.stores.records import RecordCollection
from cloudstores.stores.workspace import Stores

__all__ = ["BucketReputationStore"]

DEFAULT_COLLECTION = "dynabots-reputation"
DEFAULT_SCORE = 0.5
FIELDS = {"domain": "string", "agent_name": "string", "delta": "number"}


class BucketReputationStore(StoresAdapter):
    """Reputation per (agent, domain): 0.5 plus the sum of every delta ever applied.

    Each ``update_reputation`` appends one create-only record ``{"agent_name",
    "domain", "delta"}`` (partitioned by domain); scores are sums the index computes
    without reading any record. Two writers never touch the same object, so concurrent
    deltas, from any number of processes, are never lost and never retried; a request
    retried after a timeout is recognised by the bucket's put-id, so a delta lands
    exactly once. No clamping, as the reference ``score = score + delta``.

    ``get_leaderboard`` rows, highest score first (ties by agent name)::

        {"agent_name": "DataAgent", "domain": "data", "score": 0.65, "updates": 3}

    ``updates`` is how many deltas were applied. An agent appears once it has a delta.
    Records have random ids, so the index compacts them into full chunks: after 1,000
    deltas a cold ``get_reputation`` costs one LIST and three GETs.

    Args:
        stores: the stores to borrow (see :func:`cloudstores.open_stores`).
        collection: the record collection (default ``dynabots-reputation``).
        default_score: the score of an agent without deltas (default 0.5).
    """

    def __init__(
        self,
        stores: Stores,
        *,
        collection: str = DEFAULT_COLLECTION,
        default_score: float = DEFAULT_SCORE,
    ) -> None:
        super().__init__(stores)
        self.default_score = _check_number(default_score, what="default_score")
        self.collection = collection
        self._records()  # a bad name fails here, before any request

    def _records(self) -> RecordCollection:
        return self.stores.records(self.collection, fields=FIELDS, partition="domain")

    async def get_reputation(self, agent_name: str, domain: str) -> float:
        """``default_score`` plus the agent's deltas in ``domain``. Cost: the index
        aggregate of the domain's partition (warm and nothing new: one GET)."""
        check_name(agent_name, what="agent_name")
        check_name(domain, what="domain")
        rows = await self._records().aggregate(
            where={"domain": domain, "agent_name": agent_name}, sum=["delta"]
        )
        row = rows.get(None)
        return self.default_score + (row.sums.get("delta", 0.0) if row is not None else 0.0)

    async def update_reputation(self, agent_name: str, domain: str, delta: float) -> bool:
        """Add ``delta`` (a finite number, may be negative) to the agent's score.
        Cost: one create-only PUT and the index entry (one PUT, group-committed with
        concurrent updates of this store)."""
        check_name(agent_name, what="agent_name")
        check_name(domain, what="domain")
        amount = _check_number(delta, what="delta")
        record = {"agent_name": agent_name, "domain": domain, "delta": amount}
        # A random id, not the default time-ordered one: new index entries then land
        # among the old ones, so compaction merges them into full chunks and a cold read
        # GETs a few chunks (time-ordered keys leave one small chunk per compaction).
        await self._records().append(record, id=uuid.uuid4().hex)
        return True

    async def get_leaderboard(self, domain: str, limit: int = 10) -> list[dict[str, Any]]:
        """The ``limit`` agents with the highest scores in ``domain``, highest first.
        Cost: the index aggregate of the domain's partition (no record is read)."""
        check_name(domain, what="domain")
        check_int(limit, what="limit")
        rows = await self._records().aggregate(
            where={"domain": domain}, group_by="agent_name", sum=["delta"]
        )
        scored = sorted(
            (-(self.default_score + row.sums.get("delta", 0.0)), agent, row.count)
            for agent, row in rows.items()
            if isinstance(agent, str)
        )
        return [
            {"agent_name": agent, "domain": domain, "score": -negative, "updates": count}
            for negative, agent, count in scored[:limit]
        ]


def _check_number(value: object, *, what: str) -> float:
    if not isinstance(value, int | float) or isinstance(value, bool) or not math.isfinite(value):
        raise InvalidInputError(f"{what} must be a finite number, not {value!r:.100}")
    return float(value)
