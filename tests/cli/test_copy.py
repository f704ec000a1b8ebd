"""``copy`` and ``diff`` between backends: resumable, idempotent, never overwriting."""

from __future__ import annotations

import asyncio
from typing import Any

import cloudstores
from cloudstores.cli.transfer import TransferReport, copy_objects
from cloudstores.retry import RetryConfig
from cloudstores.testing import FaultyBucket
from tests.cli.conftest import Run, as_json


async def keys(url: str) -> list[str]:
    async with cloudstores.open_bucket(url) as bucket:
        return [info.key async for info in bucket.list("")]


async def interrupted_copy(src_url: str, dst_url: str) -> TransferReport:
    """A copy whose destination fails every other put (no retries): half lands."""
    failing = set((await keys(src_url))[1::2])
    async with (
        cloudstores.open_bucket(src_url) as src,
        cloudstores.open_bucket(dst_url) as inner,
        FaultyBucket(
            inner,
            before=1.0,
            ops={"put"},
            match=lambda op, key: key.split("/", 1)[-1] in failing,
            retry=RetryConfig(max_attempts=1),
        ) as dst,
    ):
        return await copy_objects(src, dst, jobs=4)


def test_copy_interrupted_then_resumed(cli: Run, seeded: Any, make_bucket_url: Any) -> None:
    src, _ = seeded("file")
    dst = make_bucket_url("gcs")
    first = asyncio.run(interrupted_copy(src, dst))
    total = first.listed
    assert first.errors and first.copied and len(first.errors) + len(first.copied) == total
    assert cli("diff", src, dst).exit_code == 1  # half is missing

    resumed = as_json(cli("copy", src, dst, "--json", "-j", "8"))
    assert len(resumed["copied"]) == len(first.errors) and resumed["same"] == len(first.copied)
    assert resumed["conflicts"] == [] and resumed["errors"] == {}
    again = cli("copy", src, dst)
    assert again.exit_code == 0 and f"0 copied, {total} already there" in again.stdout
    assert asyncio.run(keys(dst)) == asyncio.run(keys(src))  # no duplicates, nothing extra
    same = cli("diff", src, dst)
    assert same.exit_code == 0 and f"{total} same, 0 only in SRC, 0 only in DST" in same.stdout


def test_copy_never_overwrites_a_different_object(
    cli: Run, seeded: Any, make_bucket_url: Any
) -> None:
    src, run_id = seeded("memory")
    dst = make_bucket_url("azure")
    key = f"ws/demo/artifacts/{run_id}.plan.json"

    async def plant() -> None:
        async with cloudstores.open_bucket(dst) as bucket:
            await bucket.put(key, b'{"not": "the same"}')

    asyncio.run(plant())
    result = cli("copy", src, dst)
    assert result.exit_code == 1 and f"conflict (kept, not overwritten): {key}" in result.stdout
    report = as_json(cli("diff", src, dst, "--json"))
    assert report["conflicts"] == [key] and report["missing"] == []

    async def kept() -> bytes:
        async with cloudstores.open_bucket(dst) as bucket:
            return (await bucket.get(key)).data

    assert asyncio.run(kept()) == b'{"not": "the same"}'
