"""Fixtures of the Binex adapter tests: our stores on a fresh bucket of ``backend``."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from typing import Any

import pytest

import cloudstores
from cloudstores.stores.workspace import Stores

# Binex imports litellm when a node runs; litellm then fetches a price list over the
# network unless told to use the copy it ships. The tests need no network.
os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")


@pytest.fixture
async def stores(backend: str, make_bucket_url: Any) -> AsyncIterator[Stores]:
    async with cloudstores.open_stores(make_bucket_url(backend), workspace="binex") as opened:
        yield opened
