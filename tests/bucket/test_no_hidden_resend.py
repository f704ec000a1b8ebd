"""No HTTP client below a cloud driver re-sends a request the Bucket cannot see.

aiohttp (under aiobotocore and the Azure SDK) re-sends an idempotent request on a reused
connection that turns out closed; urllib3 (under google-cloud-storage) retries per its
Retry policy. A re-sent create-only PUT whose first answer was lost meets our own
object and used to be reported as AlreadyExists (issue 8). Each driver turns them off.
"""

from __future__ import annotations

from typing import Any

import pytest

import cloudstores


def _aiohttp_sessions(bucket: cloudstores.Bucket) -> list[Any]:
    driver: Any = bucket.driver
    if bucket.scheme == "s3":
        http = driver._client._endpoint.http_session
        return list(http._sessions.values())
    return [driver._session]


@pytest.mark.parametrize("cloud", ["s3", "azure", "gcs"])
async def test_http_clients_do_not_resend(cloud: str, make_bucket_url: Any) -> None:
    async with cloudstores.open_bucket(make_bucket_url(cloud)) as bucket:
        await bucket.put("k", b"x")
        if cloud == "gcs":
            session = bucket.driver._client._http  # type: ignore[attr-defined]
            retries = session.get_adapter("http://127.0.0.1/").max_retries
            assert retries.total == 0 and retries.read is False
        else:
            sessions = _aiohttp_sessions(bucket)
            assert sessions and all(s._retry_connection is False for s in sessions)
