"""The obstore engine on the emulators, beyond the conformance suite (which runs on
s3-obstore and azure-obstore like on every backend): the put-id travels as obstore
attributes on put/get/head and not on listings, versions agree between listing and
head, and the GCS emulator gap is shown by a real request (strict xfail: if
fake-gcs-server learns XML-API uploads, this test fails and the mark must go).
"""

from __future__ import annotations

from typing import Any

import pytest

import cloudstores
from cloudstores.bucket import PUT_ID_KEY
from tests.conftest import GCS_OBSTORE_GAP


@pytest.mark.parametrize("backend", ["s3-obstore", "azure-obstore"])
async def test_put_id_in_attributes_not_in_listings(backend: str, make_bucket_url: Any) -> None:
    async with cloudstores.open_bucket(make_bucket_url(backend)) as bucket:
        version = await bucket.put("runs/r1.json", b"{}", metadata={"kind": "run"})
        full = f"{bucket.prefix}/runs/r1.json"
        raw = await bucket.driver.head(full)
        assert raw.metadata.get(PUT_ID_KEY) and raw.metadata["kind"] == "run"
        assert (await bucket.driver.get(full)).metadata[PUT_ID_KEY] == raw.metadata[PUT_ID_KEY]
        items, token = await bucket.driver.list_page(f"{bucket.prefix}/runs/", None, None)
        assert token is None and [i.key for i in items] == [full]
        assert dict(items[0].metadata) == {}
        assert items[0].version == raw.version == version  # one ETag form (Azure lists unquoted)


@pytest.mark.xfail(reason=GCS_OBSTORE_GAP, strict=True, raises=cloudstores.errors.StoreError)
async def test_gcs_obstore_upload(make_bucket_url: Any) -> None:
    async with cloudstores.open_bucket(make_bucket_url("gcs-obstore")) as bucket:
        await bucket.put("k", b"1")
        assert (await bucket.get("k")).data == b"1"
