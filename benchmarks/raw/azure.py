"""Raw azure-storage-blob (aio) baseline for the benchmark: no cloudstores layer.

Uses the same aiohttp pool, timeouts and client options as the ``az://`` driver
(``make_transport`` and ``SDK_CLIENT_OPTIONS`` from ``cloudstores.bucket.azure``), so a
comparison measures the driver's own overhead, not a different transport.
"""

from __future__ import annotations

import os
from typing import Any

from azure.storage.blob import BlobType, ContentSettings
from azure.storage.blob.aio import BlobServiceClient, ContainerClient

from cloudstores.bucket.azure import (
    DEFAULT_MAX_CONNECTIONS,
    ENV_CONNECTION_STRING,
    SDK_CLIENT_OPTIONS,
    make_transport,
)
from cloudstores.bucket.url import BucketURL

__all__ = ["RawAzure"]


class RawAzure:
    """Create-only put and get of whole blobs, straight through the SDK."""

    def __init__(self, url: str) -> None:
        parsed = BucketURL(url)
        if parsed.scheme not in ("az", "azure"):
            raise ValueError(f"not an az:// URL: {parsed.scheme}://")
        self.container = parsed.name
        self.prefix = parsed.prefix
        self._connection_string: str | None = parsed.pop("connection_string") or None
        self._account_url: str | None = parsed.pop("account_url") or None
        self._sas_token: str | None = parsed.pop("sas_token") or None
        self._max_connections = parsed.pop_int("max_connections") or DEFAULT_MAX_CONNECTIONS
        if self._connection_string is None and self._account_url is None:
            self._connection_string = os.environ.get(ENV_CONNECTION_STRING)
        self._session: Any = None
        self._service: BlobServiceClient | None = None
        self._client: ContainerClient | None = None
        self._credential: Any = None

    async def open(self) -> None:
        self._session, transport = make_transport(self._max_connections)
        options: dict[str, Any] = {"transport": transport, **SDK_CLIENT_OPTIONS}
        if self._connection_string:
            self._service = BlobServiceClient.from_connection_string(
                self._connection_string, **options
            )
        else:
            assert self._account_url, "need connection_string or account_url"
            credential: Any = self._sas_token
            if credential is None:
                from azure.identity.aio import DefaultAzureCredential

                credential = self._credential = DefaultAzureCredential()
            self._service = BlobServiceClient(self._account_url, credential=credential, **options)
        self._client = self._service.get_container_client(self.container)

    def _name(self, key: str) -> str:
        return f"{self.prefix}/{key}" if self.prefix else key

    async def put(self, key: str, data: bytes, *, metadata: dict[str, str] | None = None) -> None:
        assert self._client is not None, "call open() first"
        await self._client.get_blob_client(self._name(key)).upload_blob(
            data,
            blob_type=BlobType.BLOCKBLOB,
            length=len(data),
            overwrite=False,
            metadata=metadata,
            content_settings=ContentSettings(content_type="application/octet-stream"),
        )

    async def get(self, key: str) -> bytes:
        assert self._client is not None, "call open() first"
        downloader = await self._client.get_blob_client(self._name(key)).download_blob()
        return await downloader.readall()

    async def close(self) -> None:
        if self._service is not None:
            await self._service.close()
            self._service = self._client = None
        if self._session is not None:
            await self._session.close()
            self._session = None
        if self._credential is not None:
            await self._credential.close()
            self._credential = None
