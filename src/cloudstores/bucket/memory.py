"""``memory://name``: an in-process bucket, shared by every opener of the same name."""

from __future__ import annotations

import bisect
import threading
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, Self

from cloudstores.bucket.driver import ListPage
from cloudstores.bucket.errors import Request
from cloudstores.bucket.options import Options
from cloudstores.bucket.types import IfMatch, ObjectInfo, PutMode, StoredObject, Version
from cloudstores.bucket.url import BucketURL
from cloudstores.errors import (
    AlreadyExistsError,
    ConfigurationError,
    NotFoundError,
    PreconditionFailedError,
    StoreError,
)

__all__ = ["MemoryDriver"]

PAGE_SIZE = 1000


class _Space:
    """The objects of one named memory bucket, guarded by a lock."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.objects: dict[str, StoredObject] = {}
        self.sorted_keys: list[str] = []


_SPACES: dict[str, _Space] = {}
_SPACES_LOCK = threading.Lock()


class MemoryDriver:
    """Objects in a dict of this process. Every ``memory://NAME`` shares one space."""

    scheme = "memory"

    def __init__(self, name: str = "default", *, page_size: int = PAGE_SIZE) -> None:
        if not isinstance(name, str) or not name:
            raise ConfigurationError("memory:// needs a name")
        self.name = name
        self.page_size = page_size
        with _SPACES_LOCK:
            self._space = _SPACES.setdefault(name, _Space())

    @classmethod
    def from_url(cls, url: BucketURL, **options: Any) -> Self:
        opts = Options(url.scheme, url.options, options)
        page_size = opts.whole("page_size", PAGE_SIZE, maximum=100_000)
        opts.done()
        return cls(url.name or "default", page_size=page_size)

    async def open(self) -> None:
        """Nothing to open."""

    async def close(self) -> None:
        """Nothing to close."""

    def translate(self, exc: Exception, request: Request) -> StoreError:
        return request.error(StoreError, f"{request.where}: {type(exc).__name__}")

    def _missing(self, key: str) -> NotFoundError:
        return NotFoundError(
            f"{key!r} does not exist in memory://{self.name}", bucket=self.name, key=key
        )

    async def put(
        self,
        key: str,
        data: bytes,
        *,
        mode: PutMode,
        content_type: str,
        metadata: Mapping[str, str],
    ) -> Version:
        space = self._space
        with space.lock:
            current = space.objects.get(key)
            if mode == "create" and current is not None:
                raise AlreadyExistsError(
                    f"{key!r} already exists in memory://{self.name}", bucket=self.name, key=key
                )
            if isinstance(mode, IfMatch):
                if current is None:
                    raise self._missing(key)
                if current.version.etag != mode.version.etag:
                    raise PreconditionFailedError(
                        f"{key!r} in memory://{self.name} is no longer at {mode.version}",
                        bucket=self.name,
                        key=key,
                    )
            version = Version(etag=uuid.uuid4().hex)
            space.objects[key] = StoredObject(
                key=key,
                data=data,
                version=version,
                last_modified=datetime.now(UTC),
                content_type=content_type,
                metadata=dict(metadata),
            )
            if current is None:
                bisect.insort(space.sorted_keys, key)
            return version

    def _lookup(self, key: str) -> StoredObject:
        obj = self._space.objects.get(key)
        if obj is None:
            raise self._missing(key)
        return obj

    async def get(self, key: str) -> StoredObject:
        return self._lookup(key)

    async def head(self, key: str) -> ObjectInfo:
        return self._lookup(key).info()

    async def delete(self, key: str) -> None:
        space = self._space
        with space.lock:
            self._lookup(key)
            del space.objects[key]
            space.sorted_keys.remove(key)

    async def list_page(
        self, prefix: str, start_after: str | None, token: str | None, limit: int | None = None
    ) -> ListPage:
        space = self._space
        after = max(filter(None, (start_after, token)), default=None)
        size = self.page_size if limit is None else max(1, min(limit, self.page_size))
        with space.lock:
            keys = space.sorted_keys
            lo = bisect.bisect_right(keys, after) if after is not None else 0
            lo = max(lo, bisect.bisect_left(keys, prefix))
            page: list[ObjectInfo] = []
            for key in keys[lo:]:
                if not key.startswith(prefix) or len(page) == size:
                    break
                page.append(space.objects[key].info())
        more = len(page) == size
        return page, (page[-1].key if more else None)
