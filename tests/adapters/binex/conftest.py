"""Fixtures of the Binex adapter tests: our stores on a fresh bucket of ``backend``."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

import cloudstores
from cloudstores.stores.workspace import Stores


@pytest.fixture
async def stores(backend: str, make_bucket_url: Any) -> AsyncIterator[Stores]:
    async with cloudstores.open_stores(make_bucket_url(backend), workspace="binex") as opened:
        yield opened
