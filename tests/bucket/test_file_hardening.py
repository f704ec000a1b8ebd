"""The file backend against a hostile or failing file system.

Every OS error becomes a cloudstores error naming the key; failed writes leave no
temp file; damaged object files are reported on get/head without breaking listings;
symbolic links planted inside the root never lead outside it; keys with segments over
the 255-byte file-name limit (ids of up to 256 characters) work and list in key order.

Faults are real where the machine allows it: a tmpfs mount (disk full, another device,
read-only), ``RLIMIT_FSIZE`` in a child process (file too large), ``chattr +i`` or a
non-root ``chmod`` (permission denied). Tests needing a mount skip where mounting is
not permitted.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import fcntl
import hashlib
import multiprocessing
import os
import shutil
import subprocess
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import cloudstores
from cloudstores import IfMatch
from cloudstores.bucket import file as file_module
from cloudstores.bucket.file import FileDriver
from cloudstores.bucket.file_format import META_PREFIX, is_sidecar_name
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
    StoreError,
)
from cloudstores.models import Artifact
from cloudstores.stores.artifacts import ArtifactStore

MAGIC = b"CSOBJ1 "


# ---------------------------------------------------------------------- helpers
@pytest.fixture
async def root(tmp_path: Path) -> Path:
    path = tmp_path / "root"
    path.mkdir()
    return path


@pytest.fixture
async def bucket(root: Path) -> AsyncIterator[cloudstores.Bucket]:
    async with cloudstores.open_bucket(f"file://{root}?fsync=false") as opened:
        yield opened


def files_under(root: Path) -> set[str]:
    """Every data file under ``root`` (not the lock files, not the sidecars), as
    relative paths; fails if a sidecar is left that belongs to no file beside it."""
    found: set[str] = set()
    for dirpath, _dirs, names in os.walk(root):
        inodes = set()
        sidecars = []
        for name in names:
            rel = os.path.relpath(os.path.join(dirpath, name), root)
            if rel.startswith(".cloudstores/locks/"):
                continue
            if is_sidecar_name(name):
                sidecars.append(name)
                continue
            found.add(rel)
            inodes.add(os.stat(os.path.join(dirpath, name), follow_symlinks=False).st_ino)
        for name in sidecars:
            assert int(name[len(META_PREFIX) :]) in inodes, f"stale sidecar {dirpath}/{name}"
    return found


def object_file(etag: str = "e1", body: bytes = b"outside") -> bytes:
    return MAGIC + b'{"etag":"' + etag.encode() + b'","content_type":null,"metadata":{}}\n' + body


@contextmanager
def mounted_tmpfs(target: Path, options: str) -> Iterator[None]:
    target.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(target)],
        capture_output=True,
        check=False,
    )
    if done.returncode != 0:
        pytest.skip(f"cannot mount tmpfs here: {done.stderr.decode().strip()}")
    try:
        yield
    finally:
        subprocess.run(["umount", "-l", str(target)], check=False)


@contextmanager
def unwritable(directory: Path) -> Iterator[None]:
    """Make ``directory`` refuse new entries: chmod for a normal user, chattr +i for root."""
    if os.geteuid() != 0:
        directory.chmod(0o555)
        try:
            yield
        finally:
            directory.chmod(0o755)
        return
    done = subprocess.run(["chattr", "+i", str(directory)], capture_output=True, check=False)
    if done.returncode != 0:
        pytest.skip(f"cannot make a directory immutable here: {done.stderr.decode().strip()}")
    try:
        yield
    finally:
        subprocess.run(["chattr", "-i", str(directory)], check=False)


# ---------------------------------------------------------------------- long names
@pytest.mark.parametrize("length", [250, 251, 252, 255, 256])
async def test_artifact_ids_up_to_the_documented_maximum(root: Path, length: int) -> None:
    # {id}.json is 5 bytes longer than the id: ids of 251-256 characters made a file
    # name over NAME_MAX (255) and the put raised a raw OSError.
    async with cloudstores.open_bucket(f"file://{root}?fsync=false") as bucket:
        store = ArtifactStore(bucket, workspace="w")
        artifact_id = ("a" * length)[: length - 1] + "z"
        await store.store(Artifact(id=artifact_id, run_id="r", content={"n": length}))
        assert (await store.get(artifact_id)).content == {"n": length}
        key = f"ws/w/artifacts/{artifact_id}.json"
        assert [i.key async for i in bucket.list("ws/w/artifacts/")] == [key]
        assert (await bucket.head(key)).size > 0
        await bucket.delete(key)
        with pytest.raises(NotFoundError):
            await bucket.get(key)
        await store.close()


@pytest.mark.parametrize(
    "segment",
    [
        "x" * 1024,  # one segment of the maximum key length
        "é" * 300,  # 600 bytes of two-byte characters
        "a" + "😀" * 255,  # four-byte characters across every chunk boundary
        "b" * 254 + "é" * 10,  # a character straddling the first cut
    ],
)
async def test_segments_over_the_file_name_limit(bucket: cloudstores.Bucket, segment: str) -> None:
    key = segment if len(segment.encode()) <= 1024 else segment[:200]
    version = await bucket.put(key, b"body", metadata={"k": "v"})
    obj = await bucket.get(key)
    assert (obj.data, obj.version, dict(obj.metadata)) == (b"body", version, {"k": "v"})
    with pytest.raises(AlreadyExistsError):
        await bucket.put(key, b"again")
    v2 = await bucket.put(key, b"cas", mode=IfMatch(version))
    assert (await bucket.head(key)).version == v2
    assert [i.key async for i in bucket.list()] == [key]
    nested = f"dir/{key[:300]}/leaf"
    if len(nested.encode()) <= 1024:
        await bucket.put(nested, b"n")
        assert [i.key async for i in bucket.list("dir/")] == [nested]
    await bucket.delete(key)
    assert [i.key async for i in bucket.list(key[:10])] == []


LONG = "p" * 254


async def test_long_segments_list_in_key_order_with_paging(
    bucket: cloudstores.Bucket, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Keys whose long segments share their first chunk with short ones, so the
    # on-disk tree (chunk directories) differs from the key order.
    keys = [
        LONG,
        LONG + "a",
        LONG + "a" * 300,
        LONG + "b",
        LONG + "\u00e9" * 2,
        LONG + "-" * 10 + "/x",
        LONG + "." + "q" * 400,
        LONG + "0" * 2 + "/y/z",
        "p" * 253,
        "p" * 255 + "/k",
        "p" * 600,
        "p" * 255 + "zz" + "/deep/" + "r" * 300,
        "a/" + "c" * 260,
        "a/" + "c" * 259,
        "a/b",
        "a.b",
        "q",
    ]
    for key in keys:
        await bucket.put(key, key.encode())
    expected = sorted(keys)
    monkeypatch.setattr(file_module, "PAGE_SIZE", 3)
    assert [i.key async for i in bucket.list()] == expected
    assert [i.size async for i in bucket.list()] == [len(k.encode()) for k in expected]
    for prefix in ["p", LONG, LONG + "a", "p" * 255, "p" * 255 + "/", "a/", "a/c", "zz"]:
        assert [i.key async for i in bucket.list(prefix)] == [
            k for k in expected if k.startswith(prefix)
        ]
    for after in [*expected, "p" * 300, LONG + "a" * 299]:
        assert [i.key async for i in bucket.list(start_after=after)] == [
            k for k in expected if k > after
        ]


_ALPHABET = st.sampled_from(["a", "b", "é", "-", "😀"])
_SEGMENT = st.one_of(
    st.text(_ALPHABET, min_size=1, max_size=4),
    st.builds(
        lambda n, tail: "a" * n + tail, st.integers(250, 520), st.text(_ALPHABET, max_size=3)
    ),
)
_KEYS = st.lists(
    st.lists(_SEGMENT, min_size=1, max_size=3)
    .map("/".join)
    .filter(lambda k: len(k.encode()) <= 1024),
    min_size=1,
    max_size=12,
)


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(keys=_KEYS, prefix_len=st.integers(0, 600), page=st.integers(1, 4))
def test_listing_order_is_key_order(
    tmp_path: Path, keys: list[str], prefix_len: int, page: int
) -> None:
    """Any keys the tree can hold list exactly like sorted(keys), by prefix and start_after."""

    async def check() -> None:
        root = tmp_path / os.urandom(6).hex()
        stored: list[str] = []
        async with cloudstores.open_bucket(f"file://{root}?fsync=false") as bucket:
            for key in keys:
                try:
                    await bucket.put(key, b"x")
                    stored.append(key)
                except (AlreadyExistsError, InvalidKeyError):
                    continue  # duplicate, or a key that is also another key's directory
            expected = sorted(stored)
            old = file_module.PAGE_SIZE
            file_module.PAGE_SIZE = page
            try:
                assert [i.key async for i in bucket.list()] == expected
                prefix = expected[0][:prefix_len] if prefix_len else ""
                assert [i.key async for i in bucket.list(prefix)] == [
                    k for k in expected if k.startswith(prefix)
                ]
                middle = expected[len(expected) // 2]
                assert [i.key async for i in bucket.list(start_after=middle)] == [
                    k for k in expected if k > middle
                ]
            finally:
                file_module.PAGE_SIZE = old
        shutil.rmtree(root)

    asyncio.run(check())


async def test_planted_non_canonical_chain_is_not_listed(
    bucket: cloudstores.Bucket, root: Path
) -> None:
    # "ab" is short, so its canonical file is "ab"; a chain a\ / b names it too, but
    # must not make a second (unreadable) "ab" appear.
    (root / "a\\").mkdir()
    (root / "a\\" / "b").write_bytes(object_file())
    (root / "x\\y").write_bytes(object_file())  # foreign name with a backslash
    await bucket.put("ab", b"real")
    assert [i.key async for i in bucket.list()] == ["ab"]
    assert (await bucket.get("ab")).data == b"real"


# ---------------------------------------------------------------------- OS errors
async def test_disk_full_is_a_store_error_and_leaves_no_temp_file(tmp_path: Path) -> None:
    root = tmp_path / "small"
    with mounted_tmpfs(root, "size=1m"):
        async with cloudstores.open_bucket(f"file://{root}?fsync=false") as bucket:
            await bucket.put("small", b"s")
            with pytest.raises(StoreError) as caught:
                await bucket.put("big/one", b"x" * (2 * 1024 * 1024))
            assert type(caught.value) is StoreError
            assert caught.value.key == "big/one"
            assert "space" in str(caught.value)
            assert files_under(root) == {"small"}
            with pytest.raises(StoreError):
                await bucket.put("small", b"y" * (2 * 1024 * 1024), mode="overwrite")
            assert files_under(root) == {"small"}
            assert (await bucket.get("small")).data == b"s"


async def test_keys_on_another_device_than_the_root(tmp_path: Path) -> None:
    # A sub-directory of the root on another file system: temp file and final name
    # must share a device (link/rename across devices fail with EXDEV).
    root = tmp_path / "root"
    root.mkdir()
    with mounted_tmpfs(root / "mnt", "size=4m"):
        async with cloudstores.open_bucket(f"file://{root}?fsync=false") as bucket:
            v1 = await bucket.put("mnt/a", b"1")
            await bucket.put("mnt/a", b"2", mode=IfMatch(v1))
            await bucket.put("mnt/b", b"3", mode="overwrite")
            assert (await bucket.get("mnt/a")).data == b"2"
            assert [i.key async for i in bucket.list()] == ["mnt/a", "mnt/b"]
            assert files_under(root) == {"mnt/a", "mnt/b"}


async def test_read_only_file_system(tmp_path: Path) -> None:
    root = tmp_path / "ro"
    with mounted_tmpfs(root, "ro,size=1m"):
        async with cloudstores.open_bucket(f"file://{root}") as bucket:
            with pytest.raises(NotFoundError):
                await bucket.get("k")
            assert [i.key async for i in bucket.list()] == []
            for mode in ("create", "overwrite"):
                with pytest.raises(PermissionDeniedError) as caught:
                    await bucket.put("k", b"x", mode=mode)  # type: ignore[arg-type]
                assert caught.value.key == "k"


async def test_permission_denied(bucket: cloudstores.Bucket, root: Path) -> None:
    await bucket.put("locked/a", b"a")
    with unwritable(root / "locked"):
        with pytest.raises(PermissionDeniedError) as caught:
            await bucket.put("locked/b", b"b")
        assert caught.value.key == "locked/b"
        with pytest.raises(PermissionDeniedError):
            await bucket.put("locked/a", b"a2", mode="overwrite")
        with pytest.raises(PermissionDeniedError):
            await bucket.delete("locked/a")
        assert (await bucket.get("locked/a")).data == b"a"
    assert files_under(root) == {"locked/a"}


def _too_large_child(root: str) -> tuple[str, str | None, list[str]]:
    import resource
    import signal

    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    _soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
    resource.setrlimit(resource.RLIMIT_FSIZE, (256 * 1024, hard))

    async def run() -> tuple[str, str | None]:
        async with cloudstores.open_bucket(f"file://{root}?fsync=false") as bucket:
            try:
                await bucket.put("huge", b"x" * (1024 * 1024))
            except Exception as exc:  # report whatever escaped
                return type(exc).__name__, getattr(exc, "key", None)
        return "no error", None

    kind, key = asyncio.run(run())
    return kind, key, sorted(files_under(Path(root)))


def test_file_too_large_is_payload_too_large(root: Path) -> None:
    with multiprocessing.get_context("spawn").Pool(1) as pool:
        kind, key, left = pool.apply(_too_large_child, (str(root),))
    assert (kind, key, left) == ("PayloadTooLargeError", "huge", [])


async def test_key_collisions_and_directories(bucket: cloudstores.Bucket) -> None:
    await bucket.put("f", b"file")
    await bucket.put("d/e", b"x")
    with pytest.raises(InvalidKeyError, match="collides"):
        await bucket.put("f/under", b"x")  # ENOTDIR
    with pytest.raises(InvalidKeyError, match="collides"):
        await bucket.put("d", b"x")  # EEXIST on a directory
    with pytest.raises(InvalidKeyError, match="collides"):
        await bucket.put("d", b"x", mode="overwrite")  # EISDIR
    for key in ("f/under", "d"):  # reads: no such object, as on S3
        with pytest.raises(NotFoundError):
            await bucket.get(key)
        with pytest.raises(NotFoundError):
            await bucket.head(key)
        with pytest.raises(NotFoundError):
            await bucket.delete(key)


async def test_root_that_is_a_file(tmp_path: Path) -> None:
    (tmp_path / "plain").write_bytes(b"")
    async with cloudstores.open_bucket(f"file://{tmp_path / 'plain'}") as bucket:
        with pytest.raises(ConfigurationError):
            await bucket.put("k", b"x")
        with pytest.raises(ConfigurationError):
            await bucket.get("k")


@pytest.mark.parametrize(
    ("code", "op", "error"),
    [
        (errno.ENOENT, "get", NotFoundError),
        (errno.ENOENT, "put", BackendUnavailableError),
        (errno.ENOTDIR, "get", NotFoundError),
        (errno.EISDIR, "delete", NotFoundError),
        (errno.ENOTDIR, "put", InvalidKeyError),
        (errno.EISDIR, "put", InvalidKeyError),
        (errno.ELOOP, "put", IntegrityError),
        (errno.ELOOP, "get", IntegrityError),
        (errno.EACCES, "put", PermissionDeniedError),
        (errno.EPERM, "delete", PermissionDeniedError),
        (errno.EROFS, "put", PermissionDeniedError),
        (errno.ENAMETOOLONG, "put", InvalidKeyError),
        (errno.EFBIG, "put", PayloadTooLargeError),
        (errno.ENOSPC, "put", StoreError),
        (errno.EDQUOT, "put", StoreError),
        (errno.EXDEV, "put", StoreError),
        (errno.EIO, "get", BackendUnavailableError),
        (errno.EMFILE, "list", BackendUnavailableError),
        (errno.ESTALE, "head", BackendUnavailableError),
        (errno.EINVAL, "put", StoreError),
        (None, "put", StoreError),
    ],
)
def test_every_os_error_maps_to_a_store_error(
    code: int | None, op: str, error: type[StoreError]
) -> None:
    exc = OSError(code, os.strerror(code)) if code is not None else OSError("odd")
    mapped = file_module.translate_os_error(exc, op=op, key="k/x", bucket="b", url="file:///b")
    assert type(mapped) is error
    assert (mapped.key, mapped.bucket) == ("k/x", "b")
    assert "k/x" in str(mapped)


# ---------------------------------------------------------------------- temp files
def _lock_path(root: Path, key: str) -> Path:
    shard = hashlib.sha256(key.encode()).digest()[0] % file_module.LOCK_SHARDS
    return root / ".cloudstores" / "locks" / f"{shard:03d}.lock"


async def test_cancelled_write_leaves_no_temp_file(root: Path) -> None:
    bucket = cloudstores.Bucket(FileDriver(root=root, fsync=False))
    async with bucket:
        v1 = await bucket.put("c/k", b"old")
        lock = _lock_path(root, "c/k")
        lock.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(lock, os.O_RDWR | os.O_CREAT)
        fcntl.flock(fd, fcntl.LOCK_EX)  # the put writes its temp file, then waits here
        try:
            task = asyncio.create_task(bucket.put("c/k", b"new" * 1000, mode=IfMatch(v1)))
            for _ in range(500):
                if any("tmp" in name for name in files_under(root)):
                    break
                await asyncio.sleep(0.01)
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
        finally:
            os.close(fd)
    # The worker thread finishes (closing the bucket waits for it) and cleans up.
    assert files_under(root) == {"c/k"}


async def test_failed_write_leaves_no_temp_file(bucket: cloudstores.Bucket, root: Path) -> None:
    await bucket.put("k", b"1")
    for attempt in range(3):
        with pytest.raises(AlreadyExistsError):
            await bucket.put("k", f"{attempt}".encode())
    with pytest.raises(InvalidKeyError):
        await bucket.put("k/child", b"x")
    assert files_under(root) == {"k"}


# ---------------------------------------------------------------------- damaged files
DAMAGED = {
    "truncated header": MAGIC + b'{"etag": "abc", "conte',
    "not json": MAGIC + b"{not json}\n",
    "json list": MAGIC + b"[1, 2]\n",
    "no etag": MAGIC + b'{"content_type": null, "metadata": {}}\nbody',
    "etag not text": MAGIC + b'{"etag": 5}\nbody',
    "metadata not text": MAGIC + b'{"etag": "e", "metadata": {"a": 1}}\nbody',
    "metadata not a map": MAGIC + b'{"etag": "e", "metadata": [1]}\nbody',
    "content type not text": MAGIC + b'{"etag": "e", "content_type": 7}\nbody',
    "endless header": MAGIC + b"x" * (1024 * 1024),
    "invalid utf-8": MAGIC + b'{"etag": "\xff\xfe"}\nbody',
}


@pytest.mark.parametrize("damage", sorted(DAMAGED))
async def test_damaged_object_is_reported_and_listing_still_works(
    bucket: cloudstores.Bucket, root: Path, damage: str
) -> None:
    await bucket.put("p/a", b"a")
    await bucket.put("p/c", b"cc")
    (root / "p" / "b").write_bytes(DAMAGED[damage])
    for read in (bucket.get, bucket.head):
        with pytest.raises(IntegrityError) as caught:
            await read("p/b")
        assert caught.value.key == "p/b"
        assert "p/b" in str(caught.value)
    listed = [i async for i in bucket.list("p/")]
    assert [i.key for i in listed] == ["p/a", "p/b", "p/c"]
    assert [listed[0].size, listed[2].size] == [1, 2]
    with pytest.raises(IntegrityError):
        await bucket.put("p/b", b"new", mode=IfMatch(listed[1].version))
    await bucket.put("p/b", b"repaired", mode="overwrite")
    assert (await bucket.get("p/b")).data == b"repaired"


async def test_special_files_are_not_objects(bucket: cloudstores.Bucket, root: Path) -> None:
    os.mkfifo(root / "fifo")  # opening it for reading would block forever
    await bucket.put("real", b"r")
    try:
        with pytest.raises(IntegrityError):
            await asyncio.wait_for(bucket.get("fifo"), 10)
    finally:  # release a reader blocked in open() (there is none when the test passes)
        with contextlib.suppress(OSError):
            os.close(os.open(root / "fifo", os.O_WRONLY | os.O_NONBLOCK))
    assert [i.key async for i in bucket.list()] == ["real"]


async def test_huge_header_is_refused_before_writing(
    bucket: cloudstores.Bucket, root: Path
) -> None:
    with pytest.raises(InvalidInputError):
        await bucket.put("k", b"x", content_type="t/" + "x" * 70_000)
    assert files_under(root) == set()


# ---------------------------------------------------------------------- symbolic links
@pytest.fixture
def outside(tmp_path: Path) -> Path:
    path = tmp_path / "outside"
    path.mkdir()
    (path / "x").write_bytes(object_file(body=b"secret"))
    return path


async def test_symlinked_directory_is_never_followed(
    bucket: cloudstores.Bucket, root: Path, outside: Path
) -> None:
    (root / "evil").symlink_to(outside, target_is_directory=True)
    (root / "deep").mkdir()
    (root / "deep" / "evil").symlink_to(outside, target_is_directory=True)
    for base in ("evil", "deep/evil"):
        for mode in ("create", "overwrite"):
            with pytest.raises(IntegrityError, match="symbolic link"):
                await bucket.put(f"{base}/new", b"x", mode=mode)  # type: ignore[arg-type]
            with pytest.raises(IntegrityError, match="symbolic link"):
                await bucket.put(f"{base}/x", b"x", mode=mode)  # type: ignore[arg-type]
        with pytest.raises(IntegrityError):
            await bucket.get(f"{base}/x")
        with pytest.raises(IntegrityError):
            await bucket.head(f"{base}/x")
        with pytest.raises(IntegrityError):
            await bucket.delete(f"{base}/x")
        assert [i.key async for i in bucket.list(f"{base}/")] == []
    assert [i.key async for i in bucket.list()] == []
    assert sorted(p.name for p in outside.iterdir()) == ["x"]
    assert (outside / "x").read_bytes() == object_file(body=b"secret")


async def test_symlinked_file_is_never_followed(
    bucket: cloudstores.Bucket, root: Path, outside: Path
) -> None:
    (root / "link").symlink_to(outside / "x")
    (root / "dangling").symlink_to(outside / "new")
    with pytest.raises(IntegrityError, match="symbolic link"):
        await bucket.get("link")
    with pytest.raises(IntegrityError, match="symbolic link"):
        await bucket.head("link")
    with pytest.raises(AlreadyExistsError):
        await bucket.put("dangling", b"x")  # the name is taken; nothing is created
    with pytest.raises(IntegrityError):
        await bucket.put("link", b"x", mode=IfMatch(cloudstores.Version(etag="e1")))
    assert [i.key async for i in bucket.list()] == []
    await bucket.put("link", b"mine", mode="overwrite")  # replaces the link itself
    assert (await bucket.get("link")).data == b"mine"
    await bucket.delete("dangling")  # removes the link itself
    assert sorted(p.name for p in outside.iterdir()) == ["x"]
    assert (outside / "x").read_bytes() == object_file(body=b"secret")


async def test_symlinked_internal_directory_is_never_followed(
    bucket: cloudstores.Bucket, root: Path, outside: Path
) -> None:
    (root / ".cloudstores").symlink_to(outside, target_is_directory=True)
    await bucket.put("a", b"created")  # create-only needs no lock
    with pytest.raises(IntegrityError, match="symbolic link"):
        await bucket.put("a", b"x", mode="overwrite")
    with pytest.raises(IntegrityError, match="symbolic link"):
        await bucket.delete("a")
    assert sorted(p.name for p in outside.iterdir()) == ["x"]
    assert [i.key async for i in bucket.list()] == ["a"]


async def test_symlinked_lock_file_is_never_followed(
    bucket: cloudstores.Bucket, root: Path, outside: Path
) -> None:
    await bucket.put("k", b"1")
    lock = _lock_path(root, "k")
    lock.parent.mkdir(parents=True, exist_ok=True)
    lock.unlink(missing_ok=True)
    lock.symlink_to(outside / "planted.lock")
    with pytest.raises(IntegrityError, match="symbolic link"):
        await bucket.put("k", b"2", mode="overwrite")
    assert sorted(p.name for p in outside.iterdir()) == ["x"]


# ---------------------------------------------------------------------- options
@pytest.mark.parametrize("threads", [0, -1, -100, True, 1.5, "4", 100_000])
def test_threads_argument_is_checked(root: Path, threads: object) -> None:
    with pytest.raises(InvalidInputError, match="threads"):
        FileDriver(root=root, threads=threads)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "query", ["threads=0", "threads=-1", "threads=100000", "threads=x", "fsync=maybe"]
)
async def test_url_options_are_checked(root: Path, query: str) -> None:
    with pytest.raises(ConfigurationError):
        async with cloudstores.open_bucket(f"file://{root}?{query}") as bucket:
            await bucket.put("k", b"x")


async def test_valid_thread_counts_work(root: Path) -> None:
    async with cloudstores.open_bucket(f"file://{root}?threads=1&fsync=no") as bucket:
        await asyncio.gather(*(bucket.put(f"k{i}", b"x") for i in range(5)))
        assert len([i async for i in bucket.list()]) == 5


def test_other_argument_types_are_checked(root: Path) -> None:
    with pytest.raises(InvalidInputError):
        FileDriver(root=root, fsync="yes")  # type: ignore[arg-type]
    with pytest.raises(InvalidInputError):
        FileDriver(root=42)  # type: ignore[arg-type]
    with pytest.raises(InvalidInputError):
        FileDriver(root="/tmp/a\0b")


# ---------------------------------------------------------------------- descriptors
async def test_no_descriptor_is_left_open(
    bucket: cloudstores.Bucket, root: Path, outside: Path
) -> None:
    def open_fds() -> int:
        return len(os.listdir("/proc/self/fd"))

    (root / "evil").symlink_to(outside, target_is_directory=True)
    (root / "bad").write_bytes(MAGIC + b"garbage")
    await bucket.put("warm", b"x")  # the pool's threads exist from here on
    before = open_fds()
    for i in range(20):
        key = f"d/{'l' * 300}/{i}"
        v = await bucket.put(key, b"x")
        await bucket.put(key, b"y", mode=IfMatch(v))
        await bucket.get(key)
        for failing in (
            bucket.put(key, b"z"),
            bucket.get("evil/x"),
            bucket.put("evil/y", b""),
            bucket.get("bad"),
            bucket.get(f"{key}/under"),
            bucket.delete("nope"),
            bucket.put(f"{key}/under", b""),
        ):
            with pytest.raises(StoreError):
                await failing
        assert len([k async for k in bucket.list("d/")]) == i + 1
        async for _ in bucket.list():
            break  # an abandoned listing
    assert open_fds() == before
