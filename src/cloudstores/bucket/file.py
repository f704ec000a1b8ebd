"""``file:///abs/dir``: a bucket in a local directory, safe across processes.

Each object is one file at ``dir/key``: a one-line JSON header (version, content
type, metadata) followed by the body. Every write goes to a temporary file first, so
no partial object is ever visible:

* create-only publishes the finished temp file with ``link(2)``, which fails with
  ``EEXIST`` exactly like ``open(O_CREAT | O_EXCL)`` but only ever exposes a complete
  file (``O_EXCL`` on the final name would show readers a half-written one);
* compare-and-swap, overwrite and delete hold an ``flock`` on the key's lock file,
  check the current version, and ``rename(2)`` the temp file into place.

The bookkeeping lives in ``dir/.cloudstores/`` (temp files and lock files).
"""

from __future__ import annotations

import asyncio
import fcntl
import hashlib
import os
import uuid
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any, Self, TypeVar

import orjson

from cloudstores.bucket.driver import ListPage
from cloudstores.bucket.errors import Request
from cloudstores.bucket.options import Options
from cloudstores.bucket.types import IfMatch, ObjectInfo, PutMode, StoredObject, Version
from cloudstores.bucket.url import BucketURL
from cloudstores.errors import (
    AlreadyExistsError,
    ConfigurationError,
    IntegrityError,
    InvalidKeyError,
    NotFoundError,
    PermissionDeniedError,
    PreconditionFailedError,
    StoreError,
)

__all__ = ["FileDriver"]

T = TypeVar("T")
PAGE_SIZE = 1000
MAGIC = b"CSOBJ1 "
INTERNAL_DIR = ".cloudstores"
LOCK_SHARDS = 256


class FileDriver:
    """Objects as files under a root directory. Many processes may share one root."""

    scheme = "file"

    def __init__(
        self,
        *,
        root: str | os.PathLike[str],
        fsync: bool = True,
        threads: int = 16,
    ) -> None:
        self.root = Path(root).resolve()
        self.name = str(self.root)
        self.fsync = fsync
        self._threads = threads
        self._pool: ThreadPoolExecutor | None = None

    @classmethod
    def from_url(cls, url: BucketURL, **options: Any) -> Self:
        if url.name not in ("", "localhost"):
            raise ConfigurationError("file:// URLs take an absolute path: file:///abs/dir")
        if not url.path.startswith("/"):
            raise ConfigurationError("file:// URLs take an absolute path: file:///abs/dir")
        opts = Options("file", url.options, options)
        fsync = opts.flag("fsync", True)
        threads = opts.whole("threads", 16, maximum=1024)
        opts.done()
        return cls(root=url.path, fsync=fsync, threads=threads)

    @property
    def url(self) -> str:
        return f"file://{self.root}"

    async def open(self) -> None:
        if self._pool is None:
            self._pool = ThreadPoolExecutor(self._threads, thread_name_prefix="cloudstores-file")

    async def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True)
            self._pool = None

    def translate(self, exc: Exception, request: Request) -> StoreError:
        return request.error(StoreError, f"{request.where}: {type(exc).__name__}")

    async def _run(self, fn: Callable[[], T]) -> T:
        if self._pool is None:
            await self.open()
        return await asyncio.get_running_loop().run_in_executor(self._pool, fn)

    # ------------------------------------------------------------------ paths and locks
    def _path(self, key: str) -> Path:
        if key.split("/", 1)[0] == INTERNAL_DIR:
            raise InvalidKeyError(f"keys under {INTERNAL_DIR}/ are reserved", key=key)
        return self.root.joinpath(*key.split("/"))

    def _temp_path(self) -> Path:
        tmp = self.root / INTERNAL_DIR / "tmp"
        tmp.mkdir(parents=True, exist_ok=True)
        return tmp / uuid.uuid4().hex

    @contextmanager
    def _locked(self, key: str) -> Iterator[None]:
        shard = hashlib.sha256(key.encode()).digest()[0] % LOCK_SHARDS
        locks = self.root / INTERNAL_DIR / "locks"
        locks.mkdir(parents=True, exist_ok=True)
        fd = os.open(locks / f"{shard:03d}.lock", os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)  # closing releases the flock

    @contextmanager
    def _errors(self, key: str) -> Iterator[None]:
        """The one place where OS errors become cloudstores errors."""
        try:
            yield
        except FileNotFoundError as exc:
            raise NotFoundError(f"{key!r} does not exist in {self.url}",
                                bucket=self.name, key=key) from exc
        except (NotADirectoryError, IsADirectoryError) as exc:
            raise InvalidKeyError(
                f"{key!r} collides with a directory of another key in {self.url} "
                "(the file backend cannot hold both 'a' and 'a/b')",
                bucket=self.name, key=key) from exc
        except PermissionError as exc:
            raise PermissionDeniedError(f"no permission for {key!r} in {self.url}",
                                        bucket=self.name, key=key) from exc

    # ------------------------------------------------------------------ object files
    def _write_temp(
        self, data: bytes, content_type: str, metadata: Mapping[str, str]
    ) -> tuple[Path, Version]:
        version = Version(etag=uuid.uuid4().hex)
        header = orjson.dumps({"etag": version.etag, "content_type": content_type,
                               "metadata": dict(metadata)})
        tmp = self._temp_path()
        with open(tmp, "wb") as fh:
            fh.write(MAGIC + header + b"\n")
            fh.write(data)
            if self.fsync:
                fh.flush()
                os.fsync(fh.fileno())
        return tmp, version

    def _read(self, key: str, *, body: bool) -> tuple[ObjectInfo, bytes]:
        """The object's description, and its body when ``body`` is set (else b"")."""
        with self._errors(key), open(self._path(key), "rb") as fh:
            first = fh.readline()
            data = fh.read() if body else b""
            stat = os.fstat(fh.fileno())
        if not first.startswith(MAGIC):
            raise IntegrityError(f"{key!r} in {self.url} is not a cloudstores object file",
                                 bucket=self.name, key=key)
        header = orjson.loads(first[len(MAGIC):])
        info = ObjectInfo(
            key=key, size=stat.st_size - len(first), version=Version(etag=header["etag"]),
            last_modified=datetime.fromtimestamp(stat.st_mtime, UTC),
            content_type=header.get("content_type"), metadata=header.get("metadata", {}),
        )
        return info, data

    def _put_sync(self, key: str, data: bytes, mode: PutMode, content_type: str,
                  metadata: Mapping[str, str]) -> Version:
        path = self._path(key)
        with self._errors(key):
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
            except FileExistsError as exc:  # a parent "directory" is another key's file
                raise NotADirectoryError(str(exc)) from exc
            tmp, version = self._write_temp(data, content_type, metadata)
            try:
                if mode == "create":
                    try:
                        os.link(tmp, path)
                    except FileExistsError as exc:
                        if path.is_dir():
                            raise IsADirectoryError(str(path)) from exc
                        raise AlreadyExistsError(f"{key!r} already exists in {self.url}",
                                                 bucket=self.name, key=key) from exc
                    return version
                with self._locked(key):
                    if isinstance(mode, IfMatch):
                        current = self._read(key, body=False)[0].version
                        if current.etag != mode.version.etag:
                            raise PreconditionFailedError(
                                f"{key!r} in {self.url} is no longer at {mode.version}",
                                bucket=self.name, key=key)
                    os.replace(tmp, path)
                    return version
            finally:
                tmp.unlink(missing_ok=True)

    def _delete_sync(self, key: str) -> None:
        path = self._path(key)
        with self._errors(key), self._locked(key):
            path.unlink()

    def _list_sync(self, prefix: str, after: str | None) -> ListPage:
        # Walk only the deepest directory the prefix names; sort the full keys.
        dir_part, _, _ = prefix.rpartition("/")
        start = self.root.joinpath(*dir_part.split("/")) if dir_part else self.root
        keys: list[str] = []
        for dirpath, dirnames, filenames in os.walk(start):
            rel = os.path.relpath(dirpath, self.root)
            base = "" if rel == "." else rel.replace(os.sep, "/") + "/"
            if not base:
                dirnames[:] = [d for d in dirnames if d != INTERNAL_DIR]
            dirnames[:] = [d for d in dirnames if (base + d + "/").startswith(prefix)
                           or prefix.startswith(base + d + "/")]
            keys.extend(k for f in filenames if (k := base + f).startswith(prefix)
                        and (after is None or k > after))
        keys.sort()
        page: list[ObjectInfo] = []
        for key in keys[:PAGE_SIZE]:
            try:
                page.append(self._read(key, body=False)[0])
            except NotFoundError:
                continue  # deleted while we listed
        more = len(keys) > PAGE_SIZE
        return page, (keys[PAGE_SIZE - 1] if more else None)

    # ------------------------------------------------------------------ primitives
    async def put(self, key: str, data: bytes, *, mode: PutMode, content_type: str,
                   metadata: Mapping[str, str]) -> Version:
        return await self._run(partial(self._put_sync, key, data, mode, content_type, metadata))

    async def get(self, key: str) -> StoredObject:
        info, data = await self._run(partial(self._read, key, body=True))
        return StoredObject(key=key, data=data, version=info.version,
                            last_modified=info.last_modified, content_type=info.content_type,
                            metadata=info.metadata)

    async def head(self, key: str) -> ObjectInfo:
        info, _ = await self._run(partial(self._read, key, body=False))
        return info

    async def delete(self, key: str) -> None:
        await self._run(partial(self._delete_sync, key))

    async def list_page(self, prefix: str, start_after: str | None,
                        token: str | None) -> ListPage:
        after = max(filter(None, (start_after, token)), default=None)
        return await self._run(partial(self._list_sync, prefix, after))
