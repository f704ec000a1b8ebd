"""Real cloud accounts: opt-in, one test per cloud, skipped with the reason otherwise.

With ``CLOUDSTORES_REAL_S3_URL`` (or ``_AZURE_``, ``_GCS_``) set, the whole suite also
runs on that cloud as backend ``real-<cloud>`` (see conftest), and this file adds a
round trip of every Bucket operation there. Without it, the skip below says so in the
test summary, so a green run never hides that no real cloud was reached.
"""

from __future__ import annotations

import uuid
from typing import Any

import pytest

import cloudstores
from tests.conftest import REAL


@pytest.mark.parametrize("cloud", ["s3", "azure", "gcs"])
async def test_round_trip_on_the_real_cloud(cloud: str, make_bucket_url: Any) -> None:
    variable = f"CLOUDSTORES_REAL_{cloud.upper()}_URL"
    if f"real-{cloud}" not in REAL:
        pytest.skip(
            f"no {cloud} account: set {variable} to a bucket URL you own to run "
            f"the whole suite there too"
        )
    key = f"smoke/{uuid.uuid4().hex}.json"
    async with cloudstores.open_bucket(make_bucket_url(f"real-{cloud}")) as bucket:
        version = await bucket.put(key, b'{"ok":true}', content_type="application/json")
        with pytest.raises(cloudstores.errors.AlreadyExistsError):
            await bucket.put(key, b"{}")
        got = await bucket.get(key)
        assert got.data == b'{"ok":true}' and got.version == version
        assert [info.key async for info in bucket.list("smoke/")] == [key]
        await bucket.delete(key)
        with pytest.raises(cloudstores.errors.NotFoundError):
            await bucket.head(key)
