"""``s3://bucket/prefix``: Amazon S3 (and S3-compatible endpoints) on aioboto3.

Create-only is ``If-None-Match: *`` and compare-and-swap is ``If-Match: <etag>``.
Credentials come from a named profile or the standard AWS chain (environment,
config files, instance or task roles) — never from the URL.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import AsyncExitStack, contextmanager
from typing import Any, Self

from cloudstores.bucket.base import Bucket, ListPage
from cloudstores.bucket.types import IfMatch, ObjectInfo, PutMode, StoredObject, Version
from cloudstores.bucket.url import BucketURL
from cloudstores.errors import (
    AlreadyExistsError,
    BackendUnavailableError,
    ConfigurationError,
    NotFoundError,
    PermissionDeniedError,
    PreconditionFailedError,
    StoreError,
    StoreTimeoutError,
    ThrottledError,
)
from cloudstores.retry import RetryConfig

__all__ = ["S3Bucket"]

_THROTTLE_CODES = {"SlowDown", "Throttling", "ThrottlingException", "RequestLimitExceeded",
                   "TooManyRequestsException", "RequestThrottled", "429"}
_NOT_FOUND_CODES = {"NoSuchKey", "404", "NotFound"}
_CREDENTIAL_OPTIONS = {"aws_access_key_id", "aws_secret_access_key", "aws_session_token",
                       "access_key", "secret_key", "secret"}


def _no_resend_session_class() -> type[Any]:
    """aiobotocore's aiohttp session, with aiohttp's own re-send of PUTs turned off."""
    from aiobotocore.httpsession import AIOHTTPSession

    from cloudstores.bucket._aiohttp import disable_resend

    class NoResendSession(AIOHTTPSession):  # type: ignore[misc]
        async def _get_session(self, proxy_url: Any) -> Any:
            session = await super()._get_session(proxy_url)
            disable_resend(session)
            return session

    return NoResendSession


class S3Bucket(Bucket):
    """A bucket (and key prefix) in S3 or an S3-compatible service."""

    scheme = "s3"

    def __init__(
        self,
        *,
        bucket: str,
        prefix: str = "",
        region: str | None = None,
        endpoint_url: str | None = None,
        profile: str | None = None,
        max_connections: int = 64,
        retry: RetryConfig | None = None,
        max_in_flight: int | None = None,
    ) -> None:
        if not bucket:
            raise ConfigurationError("s3:// URL needs a bucket name: s3://bucket/prefix")
        super().__init__(name=bucket, prefix=prefix, retry=retry, max_in_flight=max_in_flight)
        self.region = region
        self.endpoint_url = endpoint_url
        self.profile = profile
        self.max_connections = max_connections
        self._stack: AsyncExitStack | None = None
        self._client: Any = None

    @classmethod
    def from_url(
        cls, url: BucketURL, *, retry: RetryConfig | None, max_in_flight: int | None
    ) -> Self:
        leaked = _CREDENTIAL_OPTIONS & set(url.options)
        if leaked:
            raise ConfigurationError(
                "s3:// URLs do not take credentials; use a profile or the AWS credential chain")
        bucket = cls(
            bucket=url.name,
            prefix=url.prefix,
            region=url.pop("region"),
            endpoint_url=url.pop("endpoint_url"),
            profile=url.pop("profile"),
            max_connections=url.pop_int("max_connections", 64) or 64,
            retry=retry,
            max_in_flight=max_in_flight,
        )
        url.reject_unknown()
        return bucket

    async def open(self) -> None:
        if self._client is not None:
            return
        try:
            import aioboto3
            from aiobotocore.config import AioConfig
        except ImportError as exc:  # pragma: no cover - depends on the install
            raise ConfigurationError(
                "s3:// needs the s3 extra: pip install 'cloudstores[s3]'") from exc
        session = aioboto3.Session(profile_name=self.profile)
        config = AioConfig(
            http_session_cls=_no_resend_session_class(),
            # One attempt per call: the bucket layer retries, and must see each failure
            # to know when a conditional write became ambiguous.
            retries={"total_max_attempts": 1, "mode": "standard"},
            max_pool_connections=self.max_connections,
            connect_timeout=10,
            read_timeout=60,
        )
        stack = AsyncExitStack()
        with self._errors(""):
            self._client = await stack.enter_async_context(session.client(
                "s3", region_name=self.region, endpoint_url=self.endpoint_url, config=config))
        self._stack = stack

    async def close(self) -> None:
        if self._stack is not None:
            stack, self._stack, self._client = self._stack, None, None
            await stack.aclose()

    async def _s3(self) -> Any:
        if self._client is None:
            await self.open()
        return self._client

    # ------------------------------------------------------------------ error mapping
    @contextmanager
    def _errors(self, key: str, *, mode: PutMode | None = None) -> Iterator[None]:
        """The one place where botocore and aiohttp errors become cloudstores errors."""
        try:
            yield
        except StoreError:
            raise
        except Exception as exc:
            raise self._translate(exc, key, mode) from exc

    def _translate(self, exc: Exception, key: str, mode: PutMode | None) -> StoreError:
        from botocore.exceptions import (
            ClientError,
            ConnectTimeoutError,
            HTTPClientError,
            NoCredentialsError,
            ReadTimeoutError,
        )
        from botocore.exceptions import (
            ConnectionError as BotoConnectionError,
        )

        where = f"s3://{self.name}/{key}"
        kw: dict[str, Any] = {"bucket": self.name, "key": key}
        if isinstance(exc, ReadTimeoutError | ConnectTimeoutError | TimeoutError):
            return StoreTimeoutError(f"timed out on {where}", **kw)
        if isinstance(exc, NoCredentialsError):
            return PermissionDeniedError(f"no AWS credentials found for {where}", **kw)
        if isinstance(exc, BotoConnectionError | HTTPClientError | OSError):
            # Includes ConnectionClosedError and ResponseStreamingError: the request may
            # have been applied. Transient and ambiguous, so conditional puts reconcile.
            return BackendUnavailableError(f"connection to S3 failed for {where}: {exc}", **kw)
        if not isinstance(exc, ClientError):
            if type(exc).__module__.startswith("aiohttp"):
                return BackendUnavailableError(f"HTTP error for {where}: {exc}", **kw)
            return StoreError(f"unexpected error for {where}: {exc!r}", **kw)
        error = exc.response.get("Error", {})
        code = str(error.get("Code", ""))
        status = int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0) or 0)
        if code in _NOT_FOUND_CODES:
            return NotFoundError(f"{where} does not exist", **kw)
        if code == "NoSuchBucket":
            return ConfigurationError(f"bucket s3://{self.name} does not exist", **kw)
        if code == "PreconditionFailed" or status == 412:
            if mode == "create":
                return AlreadyExistsError(f"{where} already exists", **kw)
            return PreconditionFailedError(f"{where} is no longer at the expected version", **kw)
        if code == "ConditionalRequestConflict":
            # A concurrent conditional write is in progress: retry, then reconcile.
            return BackendUnavailableError(f"conflicting conditional write on {where}", **kw)
        if code in _THROTTLE_CODES or status in (429, 503):
            return ThrottledError(f"S3 asked to slow down on {where} ({code})", **kw)
        if status in (401, 403) or code in ("AccessDenied", "InvalidAccessKeyId",
                                            "SignatureDoesNotMatch", "ExpiredToken"):
            return PermissionDeniedError(f"access denied to {where} ({code})", **kw)
        if status == 408 or code == "RequestTimeout":
            return StoreTimeoutError(f"S3 request timed out on {where}", **kw)
        if status >= 500:
            return BackendUnavailableError(f"S3 answered {status} {code} on {where}", **kw)
        return StoreError(f"S3 refused the request on {where}: {code} ({status})", **kw)

    # ------------------------------------------------------------------ primitives
    async def _put(self, key: str, data: bytes, *, mode: PutMode, content_type: str,
                   metadata: Mapping[str, str]) -> Version:
        client = await self._s3()
        args: dict[str, Any] = {"Bucket": self.name, "Key": key, "Body": data,
                                "ContentType": content_type, "Metadata": dict(metadata)}
        if mode == "create":
            args["IfNoneMatch"] = "*"
        elif isinstance(mode, IfMatch):
            args["IfMatch"] = mode.version.etag
        with self._errors(key, mode=mode):
            response = await client.put_object(**args)
        return Version(etag=response["ETag"])

    async def _get(self, key: str) -> StoredObject:
        client = await self._s3()
        with self._errors(key):
            response = await client.get_object(Bucket=self.name, Key=key)
            async with response["Body"] as stream:
                data = await stream.read()
        return StoredObject(
            key=key, data=data, version=Version(etag=response["ETag"]),
            last_modified=response.get("LastModified"), content_type=response.get("ContentType"),
            metadata=response.get("Metadata", {}),
        )

    async def _head(self, key: str) -> ObjectInfo:
        client = await self._s3()
        with self._errors(key):
            response = await client.head_object(Bucket=self.name, Key=key)
        return ObjectInfo(
            key=key, size=int(response["ContentLength"]), version=Version(etag=response["ETag"]),
            last_modified=response.get("LastModified"), content_type=response.get("ContentType"),
            metadata=response.get("Metadata", {}),
        )

    async def _delete(self, key: str) -> None:
        # S3 deletes a missing key without complaint; the contract says NotFoundError.
        client = await self._s3()
        self.requests["head"] += 1
        with self._errors(key):
            await client.head_object(Bucket=self.name, Key=key)
            await client.delete_object(Bucket=self.name, Key=key)

    async def _list_page(self, prefix: str, start_after: str | None, token: str | None) -> ListPage:
        client = await self._s3()
        args: dict[str, Any] = {"Bucket": self.name, "Prefix": prefix}
        if token is not None:
            args["ContinuationToken"] = token
        elif start_after is not None:
            args["StartAfter"] = start_after
        with self._errors(prefix):
            response = await client.list_objects_v2(**args)
        items = [
            ObjectInfo(key=item["Key"], size=int(item["Size"]), version=Version(etag=item["ETag"]),
                       last_modified=item.get("LastModified"))
            for item in response.get("Contents", [])
        ]
        more = response.get("IsTruncated")
        return items, (response.get("NextContinuationToken") if more else None)
