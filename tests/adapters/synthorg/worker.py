"""A process of test_synthorg_processes: save the same audit ids as the other process,
at once, and print what each save answered as JSON.

    python -m tests.adapters.synthorg.worker URL NAME START_AT
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from datetime import UTC, datetime

from cloudstores.adapters.synthorg import BucketAuditRepository
from tests.adapters.synthorg import stubs
from tests.adapters.synthorg.stubs import ApprovalRiskLevel, AuditEntry

IDS = [f"dup-{i}" for i in range(4)]


def entry(entry_id: str, name: str) -> AuditEntry:
    return AuditEntry(
        id=entry_id,
        timestamp=datetime(2026, 3, 1, tzinfo=UTC),
        agent_id=name,
        tool_name="t",
        tool_category="c",
        action_type="a:b",
        arguments_hash="0" * 64,
        verdict="allow",
        risk_level=ApprovalRiskLevel.LOW,
        reason="r",
        evaluation_duration_ms=0.0,
    )


async def main(url: str, name: str, start_at: float) -> None:
    async with BucketAuditRepository.from_url(
        url, workspace="race", model=AuditEntry, errors=stubs.Errors
    ) as repo:
        await repo.query(limit=1)  # warm before the start line
        await asyncio.sleep(max(0.0, start_at - time.time()))

        async def one(entry_id: str) -> tuple[str, str]:
            try:
                await repo.save(entry(entry_id, name))
            except stubs.DuplicateRecordError:
                return entry_id, "duplicate"
            return entry_id, "saved"

        answers = dict(await asyncio.gather(*(one(i) for i in IDS)))
    print(json.dumps(answers))


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2], float(sys.argv[3])))
