"""SynthOrg adapter fixtures: a fresh bucket on memory and on moto (s3)."""

from __future__ import annotations

from typing import Any

import pytest


@pytest.fixture(params=["memory", "s3"])
def url(request: pytest.FixtureRequest, make_bucket_url: Any) -> str:
    return str(make_bucket_url(request.param))
