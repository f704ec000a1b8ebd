"""Binex cost records on an append-only record collection, aggregated from its index.

Each CostRecord is one record (its ``id`` unique, as in Binex's SQLite store) holding
the record's JSON plus two derived members the index keeps: ``day`` (the UTC date of
``timestamp``) and ``replay`` (``source == "replay"``). Sums and counts come from
``aggregate`` over the index, partitioned by run: no cost record is read for them.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from binex.models.cost import CostRecord, RunCostSummary

from cloudstores.adapters.binex._base import StoresAdapter
from cloudstores.errors import InvalidInputError
from cloudstores.stores.index import AggregateRow, Field
from cloudstores.stores.records import RecordCollection

__all__ = ["COSTS", "CostsMixin"]

COSTS = "binex.costs"
"""The record collection of the cost records."""
_FIELDS = (
    Field("run_id"),
    Field("task_id"),
    Field("model"),
    Field("day"),
    Field("cost", "number"),
    Field("replay", "bool"),
)
_DERIVED = ("day", "replay")
_EMPTY: dict[str, list[dict[str, Any]]] = {"by_model": [], "by_node": [], "by_date": []}


def _utc(when: datetime) -> datetime:
    return when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)


def _check_id(value: object, what: str) -> str:
    if not isinstance(value, str) or not value:
        raise InvalidInputError(f"{what} must be a non-empty str, not {value!r:.100}")
    return value


def _run_ids(run_ids: object) -> list[str]:
    if isinstance(run_ids, str) or not isinstance(run_ids, Iterable):
        raise InvalidInputError("run_ids must be a list of run ids")
    return list(dict.fromkeys(_check_id(r, "run_id") for r in run_ids))


def _cost_of(value: dict[str, Any]) -> CostRecord:
    return CostRecord.model_validate({k: v for k, v in value.items() if k not in _DERIVED})


def _by_time(records: list[CostRecord]) -> list[CostRecord]:
    """Oldest ``timestamp`` first (ties keep their order: stored order)."""
    return sorted(records, key=lambda r: _utc(r.timestamp))


def _sum(row: AggregateRow) -> float:
    return float(row.sums.get("cost", 0.0))


class CostsMixin(StoresAdapter):
    """The cost half of :class:`BucketExecutionStore`."""

    @property
    def _costs(self) -> RecordCollection:
        return self.stores.records(COSTS, fields=_FIELDS, partition="run_id")

    async def record_cost(self, cost_record: CostRecord) -> None:
        """Append a cost record (1 PUT + the index entry). The same id again: identical
        is a no-op, different raises AlreadyExistsError."""
        if not isinstance(cost_record, CostRecord):
            raise InvalidInputError(
                f"expected a binex CostRecord, not {type(cost_record).__name__}"
            )
        _check_id(cost_record.id, "cost record id")
        _check_id(cost_record.run_id, "run_id")
        value = cost_record.model_dump(mode="json")
        value["day"] = _utc(cost_record.timestamp).strftime("%Y-%m-%d")
        value["replay"] = cost_record.source == "replay"
        await self._costs.append(value, id=cost_record.id)

    async def _list_run(self, run_id: str) -> list[CostRecord]:
        page = await self._costs.query(where={"run_id": run_id})
        return [_cost_of(r.value) for r in page.records]

    async def list_costs(self, run_id: str) -> list[CostRecord]:
        """The run's cost records, oldest ``timestamp`` first (index + 1 GET each)."""
        return _by_time(await self._list_run(_check_id(run_id, "run_id")))

    async def list_costs_batch(self, run_ids: list[str]) -> list[CostRecord]:
        """The cost records of all ``run_ids``, oldest ``timestamp`` first (equal times: in
        the order of ``run_ids``, then stored order)."""
        runs = await asyncio.gather(*(self._list_run(r) for r in _run_ids(run_ids)))
        return _by_time([c for run in runs for c in run])

    async def _aggregate(
        self, where: dict[str, object], group_by: str | None
    ) -> dict[Any, AggregateRow]:
        return await self._costs.aggregate(where=where, group_by=group_by, sum=["cost"])

    async def get_cost_aggregations(self, run_ids: list[str]) -> dict[str, list[dict[str, Any]]]:
        """Cost per model (None and "" as ``"unknown"``), per node and per UTC day (with
        the number of runs), from three index aggregates per run: no record is read."""
        runs = _run_ids(run_ids)
        if not runs:
            return {k: [] for k in _EMPTY}
        queries = [
            self._aggregate({"run_id": r}, group)
            for r in runs
            for group in ("model", "task_id", "day")
        ]
        results = await asyncio.gather(*queries)
        models: dict[str, list[float]] = {}
        nodes: dict[str, list[float]] = {}
        days: dict[str, list[float]] = {}
        for i, rows in enumerate(results):
            target = (models, nodes, days)[i % 3]
            for group, row in rows.items():
                name = (group or "unknown") if target is models else str(group)
                acc = target.setdefault(name, [0.0, 0])
                acc[0] += _sum(row)
                acc[1] += row.count if target is not days else 1  # days: runs, not records
        by_model = [
            {"model": m, "cost": round(c, 6), "count": int(n)} for m, (c, n) in _rank(models)
        ]
        by_node = [
            {"node_id": t, "cost": round(c, 6), "count": int(n)} for t, (c, n) in _rank(nodes)
        ]
        by_date = [
            {"date": d, "cost": round(c, 6), "runs": int(n)} for d, (c, n) in sorted(days.items())
        ]
        return {"by_model": by_model, "by_node": by_node, "by_date": by_date}

    async def get_node_cost(self, run_id: str, task_id: str) -> float:
        """The summed cost of one node of a run, replays included (one index aggregate)."""
        where: dict[str, object] = {
            "run_id": _check_id(run_id, "run_id"),
            "task_id": _check_id(task_id, "task_id"),
        }
        rows = await self._aggregate(where, None)
        return sum((_sum(row) for row in rows.values()), 0.0)

    async def get_run_cost_summary(self, run_id: str) -> RunCostSummary:
        """Cost per node and in total, replays excluded (one index aggregate)."""
        where: dict[str, object] = {"run_id": _check_id(run_id, "run_id"), "replay": False}
        rows = await self._aggregate(where, "task_id")
        node_costs = {str(task): _sum(row) for task, row in rows.items()}
        return RunCostSummary(
            run_id=run_id, total_cost=sum(node_costs.values(), 0.0), node_costs=node_costs
        )


def _rank(groups: dict[str, list[float]]) -> list[tuple[str, list[float]]]:
    """Highest cost first; equal costs by name (Binex's backends leave ties unordered)."""
    return sorted(groups.items(), key=lambda item: (-round(item[1][0], 6), item[0]))
