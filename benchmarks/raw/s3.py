"""Raw aioboto3 baseline: the same requests the S3 driver sends, with nothing around them."""

from __future__ import annotations

from contextlib import AsyncExitStack
from typing import Any

import aioboto3
from aiobotocore.config import AioConfig

from cloudstores.bucket.url import BucketURL


class RawS3:
    """Create-only PUT and GET straight on an aioboto3 client (same pool and retry config)."""

    def __init__(self, url: str) -> None:
        parsed = BucketURL(url)
        self.bucket = parsed.name
        self.prefix = parsed.prefix
        self.region = parsed.pop("region")
        self.endpoint_url = parsed.pop("endpoint_url")
        self._stack = AsyncExitStack()
        self._client: Any = None

    async def open(self) -> None:
        config = AioConfig(
            retries={"total_max_attempts": 1, "mode": "standard"},
            max_pool_connections=64,
            connect_timeout=10,
            read_timeout=60,
        )
        session = aioboto3.Session()
        self._client = await self._stack.enter_async_context(
            session.client(
                "s3", region_name=self.region, endpoint_url=self.endpoint_url, config=config
            )
        )

    def _key(self, key: str) -> str:
        return f"{self.prefix}/{key}" if self.prefix else key

    async def put(self, key: str, data: bytes, *, metadata: dict[str, str] | None = None) -> None:
        extra = {"Metadata": metadata} if metadata else {}
        await self._client.put_object(
            Bucket=self.bucket,
            Key=self._key(key),
            Body=data,
            ContentType="application/json",
            IfNoneMatch="*",
            **extra,
        )

    async def get(self, key: str) -> bytes:
        response = await self._client.get_object(Bucket=self.bucket, Key=self._key(key))
        async with response["Body"] as stream:
            data: bytes = await stream.read()
        return data

    async def close(self) -> None:
        await self._stack.aclose()
