"""Fixtures of the store tests: stores built on the five-backend ``bucket`` fixture."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

import cloudstores
from cloudstores.stores.artifacts import ArtifactOptions, ArtifactStore
from cloudstores.stores.executions import ExecutionStore


@pytest.fixture
async def artifacts(bucket: cloudstores.Bucket) -> AsyncIterator[ArtifactStore]:
    store = ArtifactStore(
        bucket,
        workspace="team-a",
        options=ArtifactOptions(max_bytes=1024 * 1024, inline_bytes=4096),
    )
    yield store
    await store.close()


@pytest.fixture
async def executions(bucket: cloudstores.Bucket) -> AsyncIterator[ExecutionStore]:
    store = ExecutionStore(bucket, workspace="team-a")
    yield store
    await store.close()
