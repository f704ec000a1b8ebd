"""``file:///abs/dir``: a bucket in a local directory, safe across processes.

Each object is a plain file under the root (names as in
:mod:`cloudstores.bucket.file_names`) holding exactly the bytes that were put, so any
tool reads it (``jq . ws/demo/artifacts/a.json``). Its version (etag), content type and
metadata live in a hidden sidecar beside it, named by the data file's inode
(:mod:`cloudstores.bucket.file_format` says why that keeps them atomic without locks on
the read path, and how files without a sidecar, and legacy ``CSOBJ1`` files, are read).
Every write goes to a temporary file in the object's own directory first (so
publishing never crosses a device), then its sidecar, and no partial object is ever
visible:

* create-only publishes the finished temp file with ``link(2)``, which fails with
  ``EEXIST`` exactly like ``open(O_CREAT | O_EXCL)`` but only ever exposes a complete
  file (``O_EXCL`` on the final name would show readers a half-written one);
* compare-and-swap, overwrite and delete hold an ``flock`` on the key's lock file,
  check the current version, ``rename(2)`` the temp file into place (or unlink), and
  remove the replaced version's sidecar.

The temp files are removed on every path out of a write (error, cancellation of the
awaiting task: the worker thread still finishes and cleans up).

The root's contents are untrusted. Every path is opened one component at a time from
a descriptor of the root, with ``O_NOFOLLOW``: a symbolic link planted inside the root
is refused (IntegrityError), never followed, on read, write, list and delete. Object
files are opened non-blocking and must be regular files. A damaged sidecar or legacy
header is an IntegrityError naming the key on get/head; listing lists a damaged object
with its file size and an empty etag instead of failing. Every OSError becomes a
cloudstores error in one place (:func:`translate_os_error`).

The bookkeeping lives in ``dir/.cloudstores/`` (lock files).
"""

from __future__ import annotations

import asyncio
import errno
import fcntl
import hashlib
import os
import stat
import uuid
from collections.abc import Callable, Generator, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from contextlib import closing, contextmanager, suppress
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any, Self, TypeVar

import orjson

from cloudstores.bucket.driver import ListPage
from cloudstores.bucket.errors import Request
from cloudstores.bucket.file_format import (
    HEADER_MAX,
    MAGIC,
    SIDECAR_MAX,
    Damaged,
    Meta,
    decode_sidecar,
    encode_sidecar,
    parse_legacy_header,
    plain_etag,
    sidecar_name,
)
from cloudstores.bucket.file_names import (
    MARK,
    TEMP_PREFIX,
    continuation_chunk,
    decodes_to,
    key_names,
)
from cloudstores.bucket.options import Options
from cloudstores.bucket.types import IfMatch, ObjectInfo, PutMode, StoredObject, Version
from cloudstores.bucket.url import BucketURL
from cloudstores.errors import (
    AlreadyExistsError,
    BackendUnavailableError,
    ConfigurationError,
    IntegrityError,
    InvalidInputError,
    InvalidKeyError,
    NotFoundError,
    PayloadTooLargeError,
    PermissionDeniedError,
    PreconditionFailedError,
    StoreError,
)
from cloudstores.keys import MAX_KEY_BYTES, validate_key

__all__ = ["FileDriver", "translate_os_error"]

T = TypeVar("T")
PAGE_SIZE = 1000
INTERNAL_DIR = ".cloudstores"
LOCK_SHARDS = 256
READ_ATTEMPTS = 32
"""Reads of one key that may each meet a version replaced meanwhile before giving up."""
DEFAULT_THREADS = 16
MAX_THREADS = 1024

_ROOT_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC
_DIR_FLAGS = _ROOT_FLAGS | os.O_NOFOLLOW
_READ_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC
_TEMP_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
_LOCK_FLAGS = os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC
_VANISHED = {errno.ENOENT, errno.ENOTDIR, errno.ELOOP}
"""What listing meets when an entry is deleted, replaced or is a link: skip it."""

_DENIED = {errno.EACCES, errno.EPERM, errno.EROFS}
_NO_SPACE = {errno.ENOSPC, errno.EDQUOT}
_TRANSIENT = {
    errno.EIO,
    errno.EAGAIN,
    errno.EINTR,
    errno.EBUSY,
    errno.ETXTBSY,
    errno.EMFILE,
    errno.ENFILE,
    errno.ENOMEM,
    errno.ESTALE,
    errno.ETIMEDOUT,
    errno.ENOLCK,
}
_READS = {"get", "head", "delete", "list"}


def translate_os_error(exc: OSError, *, op: str, key: str, bucket: str, url: str) -> StoreError:
    """The cloudstores error for an OSError met by ``op`` ("put", "get", ...) on ``key``."""
    code = exc.errno
    where = f"{key!r} in {url}"
    reason = exc.strerror or str(exc)
    error: StoreError
    if code == errno.ENOENT and op in _READS:
        error = NotFoundError(f"{where} does not exist", bucket=bucket, key=key)
    elif code == errno.ENOENT:
        error = BackendUnavailableError(
            f"a directory of {where} vanished during the {op}", bucket=bucket, key=key
        )
    elif code in (errno.ENOTDIR, errno.EISDIR) and op in _READS:
        error = NotFoundError(
            f"{where} does not exist (the path holds another key)", bucket=bucket, key=key
        )
    elif code in (errno.ENOTDIR, errno.EISDIR):
        error = InvalidKeyError(
            f"{where} collides with a directory of another key "
            "(the file backend cannot hold both 'a' and 'a/b')",
            bucket=bucket,
            key=key,
        )
    elif code == errno.ELOOP:
        error = IntegrityError(
            f"{op} {where} refused: a symbolic link is in its path, and the file backend "
            "never follows links inside its root",
            bucket=bucket,
            key=key,
        )
    elif code in _DENIED:
        error = PermissionDeniedError(
            f"no permission to {op} {where}: {reason}", bucket=bucket, key=key
        )
    elif code == errno.ENAMETOOLONG:
        error = InvalidKeyError(
            f"{where}: a path component is too long for this file system", bucket=bucket, key=key
        )
    elif code == errno.EFBIG:
        error = PayloadTooLargeError(
            f"{where} is too large for this file system: {reason}", bucket=bucket, key=key
        )
    elif code in _NO_SPACE:
        error = StoreError(f"no space left to {op} {where}: {reason}", bucket=bucket, key=key)
    elif code in _TRANSIENT:
        error = BackendUnavailableError(f"{op} {where} failed: {reason}", bucket=bucket, key=key)
    else:
        name = errno.errorcode.get(code, "no errno") if code is not None else "no errno"
        error = StoreError(f"{op} {where} failed: [{name}] {reason}", bucket=bucket, key=key)
    return error


class FileDriver:
    """Objects as files under a root directory. Many processes may share one root."""

    scheme = "file"

    def __init__(
        self,
        *,
        root: str | os.PathLike[str],
        fsync: bool = True,
        threads: int = DEFAULT_THREADS,
    ) -> None:
        if not isinstance(root, str | os.PathLike) or "\0" in os.fspath(root):
            raise InvalidInputError(f"root must be a path without NUL, not {root!r}")
        if not isinstance(fsync, bool):
            raise InvalidInputError(f"fsync must be True or False, not {fsync!r}")
        if (
            not isinstance(threads, int)
            or isinstance(threads, bool)
            or not 1 <= threads <= MAX_THREADS
        ):
            raise InvalidInputError(
                f"threads must be a whole number from 1 to {MAX_THREADS}, not {threads!r}"
            )
        self.root = Path(root).resolve()
        self.name = str(self.root)
        self.fsync = fsync
        self._threads = threads
        self._pool: ThreadPoolExecutor | None = None

    @classmethod
    def from_url(cls, url: BucketURL, **options: Any) -> Self:
        if url.name not in ("", "localhost") or not url.path.startswith("/"):
            raise ConfigurationError("file:// URLs take an absolute path: file:///abs/dir")
        if "\0" in url.path:
            raise ConfigurationError("file:// path must not contain NUL")
        opts = Options("file", url.options, options)
        fsync = opts.flag("fsync", True)
        threads = opts.whole("threads", DEFAULT_THREADS, maximum=MAX_THREADS)
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
        if isinstance(exc, OSError):
            return translate_os_error(
                exc, op=request.op, key=request.key, bucket=self.name, url=self.url
            )
        return request.error(StoreError, f"{request.where}: {type(exc).__name__}")

    async def _run(self, fn: Callable[[], T]) -> T:
        if self._pool is None:
            await self.open()
        return await asyncio.get_running_loop().run_in_executor(self._pool, fn)

    # ------------------------------------------------------------------ errors
    @contextmanager
    def _errors(self, key: str, op: str) -> Iterator[None]:
        """The one place where OS errors become cloudstores errors."""
        try:
            yield
        except StoreError:
            raise
        except OSError as exc:
            raise translate_os_error(exc, op=op, key=key, bucket=self.name, url=self.url) from exc

    def _collision(self, key: str) -> InvalidKeyError:
        return InvalidKeyError(
            f"{key!r} collides with a directory of another key in {self.url} "
            "(the file backend cannot hold both 'a' and 'a/b')",
            bucket=self.name,
            key=key,
        )

    # ------------------------------------------------------------------ paths and locks
    def _open_root(self, *, create: bool) -> int:
        """A descriptor of the root; the root is created for writes."""
        try:
            try:
                return os.open(self.root, _ROOT_FLAGS)
            except FileNotFoundError:
                if not create:
                    raise
            os.makedirs(self.root, exist_ok=True)
            return os.open(self.root, _ROOT_FLAGS)
        except (NotADirectoryError, FileExistsError) as exc:
            raise ConfigurationError(
                f"{self.url}: the root is not a directory", bucket=self.name
            ) from exc

    @contextmanager
    def _parent(self, key: str, *, create: bool) -> Iterator[tuple[int, str]]:
        """The descriptor of ``key``'s directory (made for writes) and its file name."""
        if key.split("/", 1)[0] == INTERNAL_DIR:
            raise InvalidKeyError(f"keys under {INTERNAL_DIR}/ are reserved", key=key)
        names = key_names(key)
        fd = self._open_root(create=create)
        try:
            for name in names[:-1]:
                child = _open_dir(fd, name, create=create)
                os.close(fd)
                fd = child
            yield fd, names[-1]
        finally:
            os.close(fd)

    @contextmanager
    def _locked(self, key: str) -> Iterator[None]:
        shard = hashlib.sha256(key.encode()).digest()[0] % LOCK_SHARDS
        fd = self._open_root(create=True)
        for name in (INTERNAL_DIR, "locks"):
            try:
                child = _open_dir(fd, name, create=True)
            finally:
                os.close(fd)
            fd = child
        try:
            lock = os.open(f"{shard:03d}.lock", _LOCK_FLAGS, 0o666, dir_fd=fd)
        finally:
            os.close(fd)
        try:
            fcntl.flock(lock, fcntl.LOCK_EX)
            yield
        finally:
            os.close(lock)  # closing releases the flock

    # ------------------------------------------------------------------ object files
    def _open_object(self, dfd: int, name: str, key: str) -> tuple[int, os.stat_result]:
        """An open descriptor of the regular file ``name`` and its status."""
        fd = os.open(name, _READ_FLAGS, dir_fd=dfd)
        try:
            st = os.fstat(fd)
            if stat.S_ISDIR(st.st_mode):
                raise NotFoundError(
                    f"{key!r} does not exist in {self.url} (it is a directory of other keys)",
                    bucket=self.name,
                    key=key,
                )
            if not stat.S_ISREG(st.st_mode):
                raise IntegrityError(
                    f"{key!r} in {self.url} is not a regular file", bucket=self.name, key=key
                )
        except BaseException:
            os.close(fd)
            raise
        return fd, st

    def _damaged(self, key: str, why: str) -> IntegrityError:
        return IntegrityError(f"{key!r} in {self.url} is damaged: {why}", bucket=self.name, key=key)

    def _sidecar(self, dfd: int, key: str, st: os.stat_result) -> Meta | None:
        """What the sidecar of inode ``st`` says, or None without a matching one."""
        try:
            fd = os.open(sidecar_name(st.st_ino), _READ_FLAGS, dir_fd=dfd)
        except FileNotFoundError:
            return None
        try:
            if not stat.S_ISREG(os.fstat(fd).st_mode):
                raise self._damaged(key, "its sidecar is not a regular file")
            raw = os.pread(fd, SIDECAR_MAX + 1, 0)  # one read: a short one is damage
        finally:
            os.close(fd)
        try:
            return decode_sidecar(raw, key, st)
        except Damaged as exc:
            raise self._damaged(key, str(exc)) from exc

    def _describe(self, dfd: int, fd: int, st: os.stat_result, key: str) -> Meta | None:
        """The version of open data file ``fd``; None if it was replaced or deleted since
        it was opened (its sidecar may be gone with it: open it again)."""
        meta = self._sidecar(dfd, key, st)
        if meta is not None:
            return meta
        if os.fstat(fd).st_nlink == 0:
            return None
        if os.pread(fd, len(MAGIC), 0) != MAGIC:
            return Meta(plain_etag(st))
        first = os.pread(fd, HEADER_MAX + 1, 0)
        end = first.find(b"\n")
        try:
            return parse_legacy_header(first[: end + 1] if end >= 0 else first)
        except Damaged as exc:
            raise self._damaged(key, f"legacy header: {exc}") from exc

    def _read_at(self, dfd: int, name: str, key: str, *, body: bool) -> tuple[ObjectInfo, bytes]:
        """The object file ``name`` in directory ``dfd``; raw OSError for the caller to map."""
        for _ in range(READ_ATTEMPTS):
            fd, st = self._open_object(dfd, name, key)
            try:
                meta = self._describe(dfd, fd, st, key)
                if meta is None:
                    continue
                data = _read_all(fd, offset=meta.header_bytes) if body else b""
            finally:
                os.close(fd)
            info = ObjectInfo(
                key=key,
                size=st.st_size - meta.header_bytes,
                version=Version(etag=meta.etag),
                last_modified=datetime.fromtimestamp(st.st_mtime, UTC),
                content_type=meta.content_type,
                metadata=meta.metadata,
            )
            return info, data
        raise BackendUnavailableError(
            f"{key!r} in {self.url} was replaced {READ_ATTEMPTS} times while being read",
            bucket=self.name,
            key=key,
        )

    def _read(self, key: str, *, body: bool) -> tuple[ObjectInfo, bytes]:
        """The object's description, and its body when ``body`` is set (else b"")."""
        with (
            self._errors(key, "get" if body else "head"),
            self._parent(key, create=False) as (dfd, name),
        ):
            return self._read_at(dfd, name, key, body=body)

    def _write_file(self, dfd: int, name: str, data: bytes) -> os.stat_result:
        """Write a new file ``name`` (O_EXCL); its status once closed."""
        fd = os.open(name, _TEMP_FLAGS, 0o666, dir_fd=dfd)
        try:
            _write_all(fd, data)
            if self.fsync:
                os.fsync(fd)
        finally:
            os.close(fd)
        return os.stat(name, dir_fd=dfd, follow_symlinks=False)

    def _write_sidecar(self, dfd: int, name: str, data: bytes) -> None:
        """Put sidecar ``name`` in place whole (temp file, then rename over a stale one)."""
        tmp = TEMP_PREFIX + uuid.uuid4().hex
        try:
            self._write_file(dfd, tmp, data)
            os.replace(tmp, name, src_dir_fd=dfd, dst_dir_fd=dfd)
        except BaseException:
            _remove_quietly(dfd, tmp)
            raise

    def _put_sync(
        self, key: str, data: bytes, mode: PutMode, content_type: str, metadata: Mapping[str, str]
    ) -> Version:
        meta = Meta(uuid.uuid4().hex, content_type, dict(metadata))
        if len(orjson.dumps([content_type, meta.metadata])) > HEADER_MAX:
            raise InvalidInputError(
                f"content type and metadata of {key!r} take over {HEADER_MAX} bytes",
                bucket=self.name,
                key=key,
            )
        with self._errors(key, "put"), self._parent(key, create=True) as (dfd, name):
            self._write_object(key, dfd, name, data, meta, mode)
            if self.fsync:
                os.fsync(dfd)
        return Version(etag=meta.etag)

    def _write_object(
        self, key: str, dfd: int, name: str, data: bytes, meta: Meta, mode: PutMode
    ) -> None:
        """Temp file, its sidecar, publish; on failure remove both (sidecar first, while
        the temp file still holds its inode, so no other writer can own that number)."""
        tmp = TEMP_PREFIX + uuid.uuid4().hex
        sidecar: str | None = None
        published = False
        try:
            st = self._write_file(dfd, tmp, data)
            sidecar = sidecar_name(st.st_ino)
            self._write_sidecar(
                dfd, sidecar, encode_sidecar(key, st, meta.etag, meta.content_type, meta.metadata)
            )
            self._publish(key, dfd, tmp, name, mode)
            published = True
        finally:
            if sidecar is not None and not published:
                _remove_quietly(dfd, sidecar)
            _remove_quietly(dfd, tmp)

    def _publish(self, key: str, dfd: int, tmp: str, name: str, mode: PutMode) -> None:
        if mode == "create":
            try:
                os.link(tmp, name, src_dir_fd=dfd, dst_dir_fd=dfd, follow_symlinks=False)
            except FileExistsError as exc:
                if _is_dir(dfd, name):
                    raise self._collision(key) from exc
                raise AlreadyExistsError(
                    f"{key!r} already exists in {self.url}", bucket=self.name, key=key
                ) from exc
            return
        with self._locked(key):
            old: int | None
            if isinstance(mode, IfMatch):
                try:
                    old, st = self._open_object(dfd, name, key)
                except FileNotFoundError as exc:
                    raise NotFoundError(
                        f"{key!r} does not exist in {self.url}", bucket=self.name, key=key
                    ) from exc
                try:
                    current = self._describe(dfd, old, st, key)
                except BaseException:
                    os.close(old)
                    raise
                if current is None or current.etag != mode.version.etag:
                    os.close(old)
                    raise PreconditionFailedError(
                        f"{key!r} in {self.url} is no longer at {mode.version}",
                        bucket=self.name,
                        key=key,
                    )
            else:
                old = _open_quietly(dfd, name)
            try:
                os.replace(tmp, name, src_dir_fd=dfd, dst_dir_fd=dfd)
                self._drop_sidecar(dfd, old)
            finally:
                if old is not None:
                    os.close(old)

    def _drop_sidecar(self, dfd: int, old: int | None) -> None:
        """Remove the sidecar of a replaced or deleted version, held open as ``old``."""
        if old is not None:
            st = os.fstat(old)
            if st.st_nlink == 0 and stat.S_ISREG(st.st_mode):
                _remove_quietly(dfd, sidecar_name(st.st_ino))

    def _delete_sync(self, key: str) -> None:
        with (
            self._errors(key, "delete"),
            self._parent(key, create=False) as (dfd, name),
            self._locked(key),
        ):
            old = _open_quietly(dfd, name)
            try:
                os.unlink(name, dir_fd=dfd)  # a link is removed itself, never its target
                self._drop_sidecar(dfd, old)
            finally:
                if old is not None:
                    os.close(old)
            if self.fsync:
                os.fsync(dfd)

    def _upgrade_sync(self, key: str) -> bool:
        """Rewrite a legacy (``CSOBJ1``) object file as data file + sidecar, keeping its
        etag, content type and metadata. False if it is not a legacy file."""
        with self._errors(key, "head"), self._parent(key, create=False) as (dfd, name):
            for _ in range(READ_ATTEMPTS):
                fd, st = self._open_object(dfd, name, key)
                try:
                    meta = self._describe(dfd, fd, st, key)
                    if meta is None:
                        continue
                    if not meta.header_bytes:
                        return False
                    data = _read_all(fd, offset=meta.header_bytes)
                finally:
                    os.close(fd)
                try:
                    self._write_object(key, dfd, name, data, meta, IfMatch(Version(etag=meta.etag)))
                except PreconditionFailedError:
                    continue  # written meanwhile: look again
                if self.fsync:
                    os.fsync(dfd)
                return True
        raise BackendUnavailableError(
            f"{key!r} in {self.url} kept changing during its migration", bucket=self.name, key=key
        )

    # ------------------------------------------------------------------ listing
    def _list_sync(self, prefix: str, after: str | None, limit: int | None = None) -> ListPage:
        # Start in the deepest directory the prefix names; walk it in key order.
        dir_part = prefix.rpartition("/")[0]
        base = dir_part + "/" if dir_part else ""
        if dir_part.split("/", 1)[0] == INTERNAL_DIR or (
            after is not None and base < after and not after.startswith(base)
        ):
            return [], None
        page: list[ObjectInfo] = []
        more = False
        size = PAGE_SIZE if limit is None else max(1, min(limit, PAGE_SIZE))
        with self._errors(prefix, "list"):
            try:
                fd = self._open_root(create=False)
            except FileNotFoundError:
                return [], None
            try:
                for name in key_names(dir_part) if dir_part else []:
                    try:
                        child = _open_dir(fd, name, create=False)
                    except OSError as exc:
                        if exc.errno in _VANISHED:
                            return [], None
                        raise
                    os.close(fd)
                    fd = child
                with closing(_walk(fd, base, prefix, after)) as found:
                    for key, level, chain in found:
                        if len(page) == size:
                            more = True
                            break
                        info = self._list_info(level, chain, key)
                        if info is not None:
                            page.append(info)
            finally:
                os.close(fd)
        return page, (page[-1].key if more else None)

    def _list_info(self, level: int, chain: tuple[str, ...], key: str) -> ObjectInfo | None:
        """The listed description of one object file; None if it vanished meanwhile."""
        try:
            dfd = _open_chain(level, chain[:-1])
        except OSError as exc:
            if exc.errno in _VANISHED:
                return None
            raise
        try:
            try:
                return self._read_at(dfd, chain[-1], key, body=False)[0]
            except NotFoundError:
                return None  # replaced by a directory
            except OSError as exc:
                if exc.errno in _VANISHED:
                    return None
            except IntegrityError:
                pass
            # Damaged or unreadable: list it anyway; get/head say what is wrong.
            try:
                st = os.stat(chain[-1], dir_fd=dfd, follow_symlinks=False)
            except OSError:
                return None
            if not stat.S_ISREG(st.st_mode):
                return None
            return ObjectInfo(
                key=key,
                size=st.st_size,
                version=Version(etag=""),
                last_modified=datetime.fromtimestamp(st.st_mtime, UTC),
            )
        finally:
            os.close(dfd)

    # ------------------------------------------------------------------ primitives
    async def put(
        self,
        key: str,
        data: bytes,
        *,
        mode: PutMode,
        content_type: str,
        metadata: Mapping[str, str],
    ) -> Version:
        return await self._run(partial(self._put_sync, key, data, mode, content_type, metadata))

    async def get(self, key: str) -> StoredObject:
        info, data = await self._run(partial(self._read, key, body=True))
        return StoredObject(
            key=key,
            data=data,
            version=info.version,
            last_modified=info.last_modified,
            content_type=info.content_type,
            metadata=info.metadata,
        )

    async def head(self, key: str) -> ObjectInfo:
        info, _ = await self._run(partial(self._read, key, body=False))
        return info

    async def upgrade(self, key: str) -> bool:
        """Rewrite ``key`` if it is a legacy ``CSOBJ1`` file (same etag); False if it is
        not one. Safe beside other readers and writers, in any process."""
        validate_key(key)
        return await self._run(partial(self._upgrade_sync, key))

    async def delete(self, key: str) -> None:
        await self._run(partial(self._delete_sync, key))

    async def list_page(
        self, prefix: str, start_after: str | None, token: str | None, limit: int | None = None
    ) -> ListPage:
        after = max(filter(None, (start_after, token)), default=None)
        return await self._run(partial(self._list_sync, prefix, after, limit))


# ---------------------------------------------------------------------- helpers
def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def _read_all(fd: int, *, offset: int = 0) -> bytes:
    """The bytes of ``fd`` from ``offset`` to its end."""
    os.lseek(fd, offset, os.SEEK_SET)
    parts = []
    while part := os.read(fd, 1 << 20):
        parts.append(part)
    return b"".join(parts)


def _open_quietly(dfd: int, name: str) -> int | None:
    """A descriptor of ``name`` (never a link's target), or None if it cannot be opened."""
    try:
        return os.open(name, _READ_FLAGS, dir_fd=dfd)
    except OSError:
        return None


def _remove_quietly(dfd: int, name: str) -> None:
    with suppress(OSError):  # already published by rename, or never created
        os.unlink(name, dir_fd=dfd)


def _is_dir(dfd: int, name: str) -> bool:
    try:
        return stat.S_ISDIR(os.stat(name, dir_fd=dfd, follow_symlinks=False).st_mode)
    except OSError:
        return False


def _open_dir(parent: int, name: str, *, create: bool) -> int:
    """Open directory ``name`` in ``parent`` without following a link (made if ``create``)."""
    try:
        return os.open(name, _DIR_FLAGS, dir_fd=parent)
    except FileNotFoundError:
        if not create:
            raise
    except NotADirectoryError:
        _refuse_link(parent, name)
        raise
    with suppress(FileExistsError):  # made meanwhile by another writer
        os.mkdir(name, 0o777, dir_fd=parent)
    try:
        return os.open(name, _DIR_FLAGS, dir_fd=parent)
    except NotADirectoryError:
        _refuse_link(parent, name)
        raise


def _refuse_link(parent: int, name: str) -> None:
    """O_DIRECTORY | O_NOFOLLOW says ENOTDIR for a link; name it ELOOP, as a file open does."""
    try:
        mode = os.stat(name, dir_fd=parent, follow_symlinks=False).st_mode
    except OSError:
        return
    if stat.S_ISLNK(mode):
        raise OSError(errno.ELOOP, "symbolic link refused", name)


def _open_chain(fd: int, names: tuple[str, ...]) -> int:
    current = os.dup(fd)
    try:
        for name in names:
            child = _open_dir(current, name, create=False)
            os.close(current)
            current = child
    except BaseException:
        os.close(current)
        raise
    return current


def _is_key(key: str) -> bool:
    try:
        validate_key(key)
    except InvalidKeyError:
        return False
    return key.split("/", 1)[0] != INTERNAL_DIR


Entry = tuple[str, bool, tuple[str, ...]]
"""One segment of a directory level: (segment, is a directory, names leading to it)."""


def _level(fd: int, acc: str = "", chain: tuple[str, ...] = ()) -> list[Entry]:
    """The segments one directory level holds: (segment, is directory, names from ``fd``).

    Continuation directories are expanded in place: their segments belong to this level.
    Links, special files, temp files and names that decode to no key are left out.
    """
    found: list[Entry] = []
    with os.scandir(fd) as entries:
        for entry in entries:
            try:
                is_dir = entry.is_dir(follow_symlinks=False)
                is_file = not is_dir and entry.is_file(follow_symlinks=False)
            except OSError:
                continue
            names = (*chain, entry.name)
            chunk = continuation_chunk(entry.name)
            if chunk is not None:
                partial_segment = acc + chunk
                too_long = len(partial_segment.encode("utf-8", "surrogatepass")) > MAX_KEY_BYTES
                if not is_dir or too_long:
                    continue
                try:
                    child = _open_dir(fd, entry.name, create=False)
                except OSError as exc:
                    if exc.errno in _VANISHED:
                        continue
                    raise
                try:
                    found.extend(_level(child, partial_segment, names))
                finally:
                    os.close(child)
            elif (is_dir or is_file) and MARK not in entry.name:
                segment = decodes_to(names)
                if segment is not None:
                    found.append((segment, is_dir, names))
    return found


def _walk(
    fd: int, base: str, prefix: str, after: str | None
) -> Generator[tuple[str, int, tuple[str, ...]], None, None]:
    """Keys under directory ``fd`` (whose keys start with ``base``) in key order.

    Yields (key, descriptor of its level, names from there to the file); the
    descriptor is open until the next item. Sorting a level by ``segment`` for files
    and ``segment + "/"`` for directories gives key order, because no key below a
    directory can fall between two other entries of its level.
    """
    level = _level(fd)
    level.sort(key=lambda item: item[0] + "/" if item[1] else item[0])
    for segment, is_dir, chain in level:
        if not is_dir:
            key = base + segment
            if key.startswith(prefix) and (after is None or key > after) and _is_key(key):
                yield key, fd, chain
            continue
        below = base + segment + "/"
        if (not base and segment == INTERNAL_DIR) or not _is_key(segment):
            continue
        if not (below.startswith(prefix) or prefix.startswith(below)):
            continue
        if after is not None and below < after and not after.startswith(below):
            continue  # every key below sorts before ``after``
        try:
            child = _open_chain(fd, chain)
        except OSError as exc:
            if exc.errno in _VANISHED:
                continue
            raise
        try:
            yield from _walk(child, below, prefix, after)
        finally:
            os.close(child)
