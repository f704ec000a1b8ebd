"""``s3://bucket/prefix``: Amazon S3 (and S3-compatible endpoints) on aioboto3.

Create-only is ``If-None-Match: *`` and compare-and-swap is ``If-Match: <etag>``.
Credentials come from a named profile or the standard AWS chain (environment,
config files, instance or task roles) — never from the URL.

Options: ``region``, ``endpoint_url``, ``profile``, ``max_connections`` (aiohttp pool,
default 64), ``connect_timeout`` and ``read_timeout`` (seconds, defaults 10 and 60),
``page_size`` (keys per LIST request, at most and by default 1,000).
"""

from __future__ import annotations

from collections.abc import Mapping
from contextlib import AsyncExitStack
from typing import Any, Self

from cloudstores.bucket.credentials import NO_CREDENTIALS
from cloudstores.bucket.driver import ListPage
from cloudstores.bucket.errors import (
    Request,
    connection_error,
    error_for_status,
    timeout_error,
)
from cloudstores.bucket.options import Options, check_bucket_name, check_endpoint
from cloudstores.bucket.types import IfMatch, ObjectInfo, PutMode, StoredObject, Version
from cloudstores.bucket.url import BucketURL
from cloudstores.errors import (
    BackendUnavailableError,
    ConfigurationError,
    InvalidInputError,
    PermissionDeniedError,
    StoreError,
    StoreTimeoutError,
    ThrottledError,
)

__all__ = ["S3Driver"]

DEFAULT_MAX_CONNECTIONS = 64
PAGE_SIZE = 1000  # the most S3 returns per LIST request
_THROTTLE_CODES = {
    "SlowDown",
    "Throttling",
    "ThrottlingException",
    "RequestLimitExceeded",
    "TooManyRequestsException",
    "RequestThrottled",
}
_NOT_FOUND_CODES = {"NoSuchKey", "NotFound"}
_DENIED_CODES = {"AccessDenied", "InvalidAccessKeyId", "SignatureDoesNotMatch", "ExpiredToken"}
_CREDENTIAL_OPTIONS = {
    "aws_access_key_id",
    "aws_secret_access_key",
    "aws_session_token",
    "access_key",
    "secret_key",
    "secret",
}


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


_loader: Any = None
"""botocore's data loader, shared by the sessions of every S3 bucket of this process."""


def _new_session(profile: str | None) -> Any:
    """An aioboto3 session on the process's shared data loader: the S3 service model and
    endpoint rules are then read and parsed once (~0.2 s of CPU), not once per bucket.
    The loader only caches files of botocore's own data; credentials stay per session."""
    import aioboto3

    global _loader
    session = aioboto3.Session(profile_name=profile)
    if _loader is None:
        _loader = session._session.get_component("data_loader")
    else:
        session._session.register_component("data_loader", _loader)
    return session


def _unbind_credentials_lock(session: Any) -> None:
    """Refreshable credentials cached in a reused session hold an asyncio.Lock, which
    binds to the loop that first waited on it: give them a fresh one in a new loop."""
    import asyncio

    credentials: Any = getattr(getattr(session, "_session", None), "_credentials", None)
    lock = getattr(credentials, "_refresh_lock", None)
    bound = getattr(lock, "_loop", None)
    if bound is not None and bound is not asyncio.get_running_loop():
        credentials._refresh_lock = asyncio.Lock()


class S3Driver:
    """A bucket in S3 or an S3-compatible service."""

    scheme = "s3"

    def __init__(
        self,
        bucket: str,
        *,
        region: str | None = None,
        endpoint_url: str | None = None,
        profile: str | None = None,
        max_connections: int = DEFAULT_MAX_CONNECTIONS,
        connect_timeout: float = 10.0,
        read_timeout: float = 60.0,
        page_size: int = PAGE_SIZE,
    ) -> None:
        check_bucket_name("s3", bucket)
        if not 1 <= page_size <= PAGE_SIZE:
            raise ConfigurationError(f"s3:// page_size must be 1 to {PAGE_SIZE}")
        check_endpoint("s3", "endpoint_url", endpoint_url)
        self.name = bucket
        self.region = region
        self.endpoint_url = endpoint_url
        self.profile = profile
        self.max_connections = max_connections
        self.connect_timeout = connect_timeout
        self.read_timeout = read_timeout
        self.page_size = page_size
        self._stack: AsyncExitStack | None = None
        self._client: Any = None
        self._session: Any = None

    @classmethod
    def from_url(cls, url: BucketURL, **options: Any) -> Self:
        opts = Options("s3", url.options, options)
        opts.refuse(
            _CREDENTIAL_OPTIONS,
            "s3:// URLs do not take credentials; use a profile "
            "or the AWS credential chain (environment, config files, roles)",
        )
        driver = cls(
            url.name,
            region=opts.text("region"),
            endpoint_url=opts.text("endpoint_url"),
            profile=opts.text("profile"),
            max_connections=opts.whole("max_connections", DEFAULT_MAX_CONNECTIONS, maximum=10_000),
            connect_timeout=opts.seconds("connect_timeout", 10.0),
            read_timeout=opts.seconds("read_timeout", 60.0),
            page_size=opts.whole("page_size", PAGE_SIZE, maximum=PAGE_SIZE),
        )
        opts.done()
        return driver

    async def open(self) -> None:
        try:
            import aioboto3  # noqa: F401  (is the s3 extra installed?)
            from aiobotocore.config import AioConfig
        except ImportError as exc:  # pragma: no cover - depends on the install
            raise ConfigurationError(
                "s3:// needs the s3 extra: pip install 'cloudstores[s3]'"
            ) from exc
        # One session per driver: it caches the service model and the credentials, so
        # a client re-made for a new event loop (asyncio.run per invocation) is cheap.
        if self._session is None:
            self._session = _new_session(self.profile)
        session = self._session
        _unbind_credentials_lock(session)
        config = AioConfig(
            # One attempt per call: the Bucket retries, and must see each failure to
            # know when a conditional write became ambiguous.
            retries={"total_max_attempts": 1, "mode": "standard"},
            http_session_cls=_no_resend_session_class(),
            max_pool_connections=self.max_connections,
            connect_timeout=self.connect_timeout,
            read_timeout=self.read_timeout,
        )
        stack = AsyncExitStack()
        self._client = await stack.enter_async_context(
            session.client(
                "s3", region_name=self.region, endpoint_url=self.endpoint_url, config=config
            )
        )
        self._stack = stack

    async def close(self) -> None:
        if self._stack is not None:
            stack, self._stack, self._client = self._stack, None, None
            await stack.aclose()

    def discard(self) -> None:
        """Forget the client of an event loop that is gone (it cannot be awaited)."""
        self._stack = self._client = None

    # ------------------------------------------------------------------ errors
    def translate(self, exc: Exception, request: Request) -> StoreError:
        """botocore and aiohttp errors; HTTP statuses go through the shared table."""
        from botocore.exceptions import (
            BotoCoreError,
            ClientError,
            ConnectTimeoutError,
            HTTPClientError,
            NoCredentialsError,
            PartialCredentialsError,
            ProfileNotFound,
            ReadTimeoutError,
        )
        from botocore.exceptions import ConnectionError as BotoConnectionError

        if isinstance(exc, ReadTimeoutError | ConnectTimeoutError | TimeoutError):
            return timeout_error(request)
        if isinstance(exc, NoCredentialsError | PartialCredentialsError):
            return request.error(
                PermissionDeniedError,
                f"{request.where}: no usable AWS credentials found; {NO_CREDENTIALS['s3']}",
            )
        if isinstance(exc, ProfileNotFound):
            return request.error(
                ConfigurationError,
                f"{request.where}: AWS profile {exc.kwargs.get('profile', '?')!r} is not in "
                "~/.aws/config or ~/.aws/credentials; run `aws configure --profile NAME` "
                "or unset AWS_PROFILE",
            )
        if isinstance(exc, BotoConnectionError | HTTPClientError | OSError) or (
            type(exc).__module__.startswith("aiohttp")
        ):
            # ConnectionClosedError, ResponseStreamingError, resets: the request may have
            # been applied. Transient and ambiguous, so conditional puts reconcile.
            return connection_error(request, exc)
        if isinstance(exc, ClientError):
            return self._client_error(exc, request)
        if isinstance(exc, BotoCoreError):
            return request.error(StoreError, f"{request.where}: {type(exc).__name__}")
        return request.error(StoreError, f"{request.where}: unexpected {type(exc).__name__}")

    def _client_error(self, exc: Any, request: Request) -> StoreError:
        error = exc.response.get("Error", {})
        code = str(error.get("Code", ""))
        status = int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0) or 0)
        answer = f"({status} {code})"
        if code == "NoSuchBucket":
            return request.error(
                ConfigurationError, f"bucket s3://{self.name} does not exist {answer}"
            )
        if code in _NOT_FOUND_CODES:
            return error_for_status(404, code, request)
        if code == "ConditionalRequestConflict":
            # A concurrent conditional write is in progress: retry, then reconcile.
            return request.error(
                BackendUnavailableError, f"{request.where}: conflicting conditional write {answer}"
            )
        if code in _THROTTLE_CODES:
            return request.error(ThrottledError, f"{request.where}: slow down {answer}")
        if code in _DENIED_CODES:
            return request.error(
                PermissionDeniedError, f"{request.where}: credentials refused {answer}"
            )
        if code == "RequestTimeout":
            return request.error(StoreTimeoutError, f"{request.where}: timed out {answer}")
        if code == "PreconditionFailed" and not status:
            status = 412
        if not status and code.isdigit():
            status = int(code)
        return error_for_status(status, code, request)

    # ------------------------------------------------------------------ requests
    async def put(
        self,
        key: str,
        data: bytes,
        *,
        mode: PutMode,
        content_type: str,
        metadata: Mapping[str, str],
    ) -> Version:
        args: dict[str, Any] = {
            "Bucket": self.name,
            "Key": key,
            "Body": data,
            "ContentType": content_type,
            "Metadata": dict(metadata),
        }
        if mode == "create":
            args["IfNoneMatch"] = "*"
        elif isinstance(mode, IfMatch):
            if not mode.version.etag:
                raise InvalidInputError(
                    f"{key!r}: IfMatch needs a Version with an ETag "
                    "(that one came from another backend)",
                    bucket=self.name,
                    key=key,
                )
            args["IfMatch"] = mode.version.etag
        response = await self._client.put_object(**args)
        return Version(etag=response["ETag"])

    async def get(self, key: str) -> StoredObject:
        response = await self._client.get_object(Bucket=self.name, Key=key)
        async with response["Body"] as stream:
            data = await stream.read()
        return StoredObject(
            key=key,
            data=data,
            version=Version(etag=response["ETag"]),
            last_modified=response.get("LastModified"),
            content_type=response.get("ContentType"),
            metadata=response.get("Metadata", {}),
        )

    async def head(self, key: str) -> ObjectInfo:
        response = await self._client.head_object(Bucket=self.name, Key=key)
        return ObjectInfo(
            key=key,
            size=int(response["ContentLength"]),
            version=Version(etag=response["ETag"]),
            last_modified=response.get("LastModified"),
            content_type=response.get("ContentType"),
            metadata=response.get("Metadata", {}),
        )

    async def delete(self, key: str) -> None:
        # S3 deletes a missing key without complaint; the contract says NotFoundError,
        # so this is the one primitive that sends two requests (HEAD, then DELETE).
        await self._client.head_object(Bucket=self.name, Key=key)
        await self._client.delete_object(Bucket=self.name, Key=key)

    async def list_page(
        self, prefix: str, start_after: str | None, token: str | None, limit: int | None = None
    ) -> ListPage:
        args: dict[str, Any] = {"Bucket": self.name, "Prefix": prefix}
        if limit is not None:
            args["MaxKeys"] = max(1, min(limit, self.page_size))
        elif self.page_size != PAGE_SIZE:
            args["MaxKeys"] = self.page_size
        if token is not None:
            args["ContinuationToken"] = token
        elif start_after is not None:
            args["StartAfter"] = start_after
        response = await self._client.list_objects_v2(**args)
        items = [
            ObjectInfo(
                key=item["Key"],
                size=int(item["Size"]),
                version=Version(etag=item["ETag"]),
                last_modified=item.get("LastModified"),
            )
            for item in response.get("Contents", [])
        ]
        more = response.get("IsTruncated")
        return items, (response.get("NextContinuationToken") if more else None)
