"""A synchronous face of cloudstores: the same methods, blocking.

::

    from cloudstores import sync

    with sync.open_stores("s3://bucket/prefix?region=eu-west-1", workspace="a") as stores:
        stores.artifacts.store(cloudstores.Artifact(id="a1", run_id="r1", content={}))
        for artifact in stores.artifacts.list(run_id="r1"):
            ...

    with sync.open_bucket("file:///tmp/demo") as bucket:
        bucket.put("a.json", b"{}")

One background event loop, in a daemon thread, owns the clients of each object opened
here; every call is sent to it and waited for (never ``asyncio.run`` per call). So the
sync API may be called from plain scripts, from many threads at once, and from code
that itself runs inside an event loop (a Jupyter cell, a sync callback under an async
server): that loop's thread waits while the background loop works. Calling from the
background loop's own thread (a callback the stores call, e.g. ``on_progress``) would
wait for itself: it raises SyncDeadlockError instead.

The proxies are generic: a coroutine method becomes a blocking call, an async iterator
(``Bucket.list``, ``ArtifactStore.list``, ``AuditStore.read``) a plain iterator, and
anything that is itself a store or bucket (``stores.artifacts``, ``stores.bucket``,
future ``stores.documents(...)``) a proxy of the same kind. New async methods appear
here without edits. ``close()`` (or leaving ``with``) flushes pending index and audit
writes, closes the clients and stops the loop; objects still open when the interpreter
exits are closed the same way.
"""

from __future__ import annotations

import asyncio
import concurrent.futures.thread  # noqa: F401 - imported first: see _register_exit_hook
import contextlib
import inspect
import logging
import threading
import weakref
from collections import Counter
from collections.abc import AsyncIterator, Callable, Coroutine, Mapping
from types import TracebackType
from typing import TYPE_CHECKING, Any, Generic, Self, TypeVar

from cloudstores._resource import AsyncResource
from cloudstores.bucket import Bucket
from cloudstores.bucket import open_bucket as _open_bucket_async
from cloudstores.bucket.types import ObjectInfo, PutMode, StoredObject, Version
from cloudstores.errors import LoopInUseError, SyncClosedError, SyncDeadlockError

if TYPE_CHECKING:
    from cloudstores.stores.artifacts import ArtifactStore
    from cloudstores.stores.audit import AuditStore
    from cloudstores.stores.executions import ExecutionStore
    from cloudstores.stores.workspace import Stores

__all__ = [
    "LoopInUseError",
    "SyncBucket",
    "SyncClosedError",
    "SyncDeadlockError",
    "SyncIterator",
    "SyncProxy",
    "SyncStores",
    "open_bucket",
    "open_stores",
]

T = TypeVar("T")
A = TypeVar("A")
_log = logging.getLogger(__name__)


# ---------------------------------------------------------------------- the loop thread
class _Runner:
    """One event loop running forever in one daemon thread."""

    def __init__(self, name: str) -> None:
        self.loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._lock = threading.Lock()
        self.closed = False
        self.thread = threading.Thread(target=self._main, name=name, daemon=True)
        self.thread.start()
        self._ready.wait()

    def _main(self) -> None:
        loop = self.loop
        asyncio.set_event_loop(loop)
        loop.call_soon(self._ready.set)
        try:
            loop.run_forever()
        finally:
            try:
                tasks = asyncio.all_tasks(loop)
                for task in tasks:
                    task.cancel()
                loop.run_until_complete(asyncio.gather(*tasks, return_exceptions=True))
                # Closes what is bound to this loop (the buckets' clients among them).
                loop.run_until_complete(loop.shutdown_asyncgens())
                loop.run_until_complete(loop.shutdown_default_executor())
            finally:
                asyncio.set_event_loop(None)
                loop.close()

    def run(self, coro: Coroutine[Any, Any, T]) -> T:
        """Run ``coro`` on the loop and wait for its result (or exception)."""
        if threading.get_ident() == self.thread.ident:
            coro.close()
            raise SyncDeadlockError(
                "a cloudstores.sync call was made from its own background event loop "
                "(e.g. in a callback the stores call): it would wait for itself. Use "
                "the async object there (proxy.aio) and await it"
            )
        with self._lock:
            if self.closed:
                coro.close()
                raise SyncClosedError("this cloudstores.sync object is closed")
            future = asyncio.run_coroutine_threadsafe(coro, self.loop)
        try:
            return future.result()
        except BaseException:
            future.cancel()  # KeyboardInterrupt and the like: stop the work too
            raise

    def submit(self, coro: Coroutine[Any, Any, Any]) -> None:
        """Start ``coro`` without waiting (used where waiting is not possible)."""
        with self._lock:
            if self.closed or self.loop.is_closed():
                coro.close()
                return
            asyncio.run_coroutine_threadsafe(coro, self.loop)

    def stop(self) -> None:
        """Stop the loop (after its cleanup) and wait for the thread to end."""
        with self._lock:
            if self.closed:
                return
            self.closed = True
            self.loop.call_soon_threadsafe(self.loop.stop)
        if threading.get_ident() != self.thread.ident:
            self.thread.join()


# ---------------------------------------------------------------------- proxies
class SyncIterator(Generic[T]):
    """A plain iterator over an async iterator that lives on the background loop.

    Each ``next`` is one hop to the loop (requests are made only as the async iterator
    makes them: pages are fetched as they are reached). Leaving early? ``close()`` it
    (or use ``with``) to release the async iterator at once; otherwise it is released
    when the iterator is garbage collected.
    """

    def __init__(self, source: AsyncIterator[T], runner: _Runner) -> None:
        self._source = source
        self._runner = runner
        self._done = False

    def __iter__(self) -> Self:
        return self

    def __next__(self) -> T:
        if self._done:
            raise StopIteration
        found, item = self._runner.run(_next(self._source))
        if not found:
            self._done = True
            raise StopIteration
        return _wrap(item, self._runner)  # type: ignore[no-any-return]

    def close(self) -> None:
        """Release the async iterator (finishing its ``finally`` blocks)."""
        if self._done:
            return
        self._done = True
        aclose = getattr(self._source, "aclose", None)
        if aclose is not None:
            self._runner.run(aclose())

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __del__(self) -> None:
        if not getattr(self, "_done", True):
            aclose = getattr(self._source, "aclose", None)
            if aclose is not None:
                self._runner.submit(aclose())


class SyncProxy(Generic[A]):
    """The blocking face of one async object (a store, a bucket, ``Stores``).

    Attribute access is forwarded: coroutine methods block, async iterators become
    :class:`SyncIterator`, stores and buckets come back as proxies, anything else is
    returned as it is. ``aio`` is the async object itself (use it only on the
    background loop, e.g. inside a coroutine you pass to :meth:`run`).
    """

    __slots__ = ("__weakref__", "_runner", "_target")
    _target: A
    _runner: _Runner

    def __init__(self, target: A, runner: _Runner) -> None:
        object.__setattr__(self, "_target", target)
        object.__setattr__(self, "_runner", runner)

    @property
    def aio(self) -> A:
        return self._target

    def run(self, fn: Callable[[A], Coroutine[Any, Any, T]]) -> T:
        """Run ``fn(async_object)`` on the background loop and return its result:
        for work that should not hop threads per step."""
        return self._runner.run(fn(self._target))

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        static = inspect.getattr_static(type(self._target), name, _MISSING)
        if inspect.isfunction(static):
            return self._method(name)
        value = self._runner.run(_getattr(self._target, name))
        if inspect.ismethod(value) or inspect.iscoroutinefunction(value):
            return _blocking(value, self._runner)  # static/class methods, stored callables
        return _wrap(value, self._runner)

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(f"{type(self).__name__} attributes are read-only")

    def __dir__(self) -> list[str]:
        return sorted(
            set(dir(type(self))) | {n for n in dir(self._target) if not n.startswith("_")}
        )

    def __repr__(self) -> str:
        return f"<sync {self._target!r}>"

    def _method(self, name: str) -> Callable[..., Any]:
        target, runner = self._target, self._runner

        def call(*args: Any, **kwargs: Any) -> Any:
            return _wrap(runner.run(_invoke(getattr(target, name), args, kwargs)), runner)

        call.__name__ = name
        call.__doc__ = getattr(getattr(type(target), name, None), "__doc__", None)
        return call

    def _call(self, name: str, *args: Any, **kwargs: Any) -> Any:
        return self._method(name)(*args, **kwargs)


class _Root(SyncProxy[A]):
    """A proxy that may own its background loop: ``close()`` flushes and stops it."""

    __slots__ = ("_closed", "_owns_runner")
    _closed: bool
    _owns_runner: bool

    def __init__(
        self, target: A, runner: _Runner, *, owns_runner: bool, at_exit: bool = False
    ) -> None:
        super().__init__(target, runner)
        object.__setattr__(self, "_owns_runner", owns_runner)
        object.__setattr__(self, "_closed", False)
        if at_exit:
            _OPEN.add(self)

    def close(self) -> None:
        """Flush pending writes, close the clients and (if this object started it) stop
        the background loop. Calls made afterwards raise SyncClosedError."""
        runner = self._runner
        if self._closed or runner.closed:
            return
        object.__setattr__(self, "_closed", True)
        _OPEN.discard(self)
        try:
            runner.run(_close(self._target))
        finally:
            if self._owns_runner:
                runner.stop()

    @property
    def closed(self) -> bool:
        return self._closed or self._runner.closed

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


class SyncBucket(_Root[Bucket]):
    """The blocking face of a :class:`cloudstores.Bucket` (same methods, same costs)."""

    __slots__ = ()

    def put(
        self,
        key: str,
        data: bytes,
        *,
        mode: PutMode = "create",
        content_type: str | None = None,
        metadata: Mapping[str, str] | None = None,
    ) -> Version:
        result: Version = self._call(
            "put", key, data, mode=mode, content_type=content_type, metadata=metadata
        )
        return result

    def get(self, key: str) -> StoredObject:
        result: StoredObject = self._call("get", key)
        return result

    def head(self, key: str) -> ObjectInfo:
        result: ObjectInfo = self._call("head", key)
        return result

    def delete(self, key: str) -> None:
        self._call("delete", key)

    def list(self, prefix: str = "", *, start_after: str | None = None) -> SyncIterator[ObjectInfo]:
        result: SyncIterator[ObjectInfo] = self._call("list", prefix, start_after=start_after)
        return result

    @property
    def requests(self) -> Counter[str]:
        return self._target.requests

    @property
    def url(self) -> str:
        return self._target.url


class SyncStores(_Root["Stores"]):
    """The blocking face of :class:`cloudstores.Stores`: ``artifacts``, ``executions``,
    ``audit`` and ``bucket`` (and any store ``Stores`` gains) as blocking proxies."""

    __slots__ = ()

    @property
    def artifacts(self) -> SyncProxy[ArtifactStore]:
        result: SyncProxy[ArtifactStore] = self.__getattr__("artifacts")
        return result

    @property
    def executions(self) -> SyncProxy[ExecutionStore]:
        result: SyncProxy[ExecutionStore] = self.__getattr__("executions")
        return result

    @property
    def audit(self) -> SyncProxy[AuditStore]:
        result: SyncProxy[AuditStore] = self.__getattr__("audit")
        return result

    @property
    def bucket(self) -> SyncBucket:
        return SyncBucket(self._target.bucket, self._runner, owns_runner=False)

    @property
    def workspace(self) -> str:
        return self._target.workspace


# ---------------------------------------------------------------------- opening
def open_bucket(url: str, **options: Any) -> SyncBucket:
    """:func:`cloudstores.open_bucket`, blocking: same URL and options.

    Starts one background loop (a daemon thread) for this bucket and opens the driver
    on it (no request is sent). Use with ``with`` or call ``close()``.
    """
    bucket = _open_bucket_async(url, **options)  # checks the URL before any thread starts
    runner = _Runner(f"cloudstores-sync {bucket.url}")
    try:
        runner.run(bucket.open())
    except BaseException:
        runner.stop()
        raise
    return SyncBucket(bucket, runner, owns_runner=True, at_exit=True)


def open_stores(url: str | Bucket | SyncBucket, **options: Any) -> SyncStores:
    """:func:`cloudstores.open_stores`, blocking: same arguments.

    ``url`` may also be a :class:`SyncBucket`: the stores then share its background
    loop, and closing them flushes them but leaves the bucket (and loop) open. An async
    ``Bucket`` moves to the new background loop: do not use it from another loop too.
    """
    from cloudstores.stores.workspace import open_stores as open_stores_async

    target: str | Bucket
    runner: _Runner | None
    if isinstance(url, SyncBucket):
        runner, owns, target = url._runner, False, url.aio
    else:
        runner, owns, target = None, True, url

    async def build() -> Stores:
        stores = open_stores_async(target, **options)
        await stores.open()
        return stores

    if runner is None:
        runner = _Runner("cloudstores-sync stores")
    try:
        stores = runner.run(build())
    except BaseException:
        if owns:
            runner.stop()
        raise
    return SyncStores(stores, runner, owns_runner=owns, at_exit=True)


# ---------------------------------------------------------------------- helpers
_MISSING = object()
_OPEN: weakref.WeakSet[_Root[Any]] = weakref.WeakSet()


def _wrap(value: Any, runner: _Runner) -> Any:
    if isinstance(value, SyncProxy | SyncIterator):
        return value
    if isinstance(value, Bucket):
        return SyncBucket(value, runner, owns_runner=False)
    if isinstance(value, AsyncResource):
        return SyncProxy(value, runner)
    if hasattr(value, "__anext__"):
        return SyncIterator(value, runner)
    return value


def _blocking(fn: Callable[..., Any], runner: _Runner) -> Callable[..., Any]:
    def call(*args: Any, **kwargs: Any) -> Any:
        return _wrap(runner.run(_invoke(fn, args, kwargs)), runner)

    call.__name__ = getattr(fn, "__name__", "call")
    call.__doc__ = getattr(fn, "__doc__", None)
    return call


async def _invoke(fn: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    result = fn(*args, **kwargs)
    if inspect.isawaitable(result):
        result = await result
    return result


async def _getattr(target: Any, name: str) -> Any:
    return getattr(target, name)


async def _next(source: AsyncIterator[T]) -> tuple[bool, T | None]:
    try:
        return True, await anext(source)
    except StopAsyncIteration:
        return False, None


async def _close(target: Any) -> None:
    await target.close()


def _close_all_at_exit() -> None:
    # Those sharing another's loop first (stores on a SyncBucket), then the owners.
    for root in sorted(_OPEN, key=lambda r: r._owns_runner):
        try:
            root.close()
        except Exception:  # one failure must not keep the others from flushing
            _log.exception("cloudstores.sync: closing %r at exit failed", root)


def _register_exit_hook() -> None:
    """Close what is still open at interpreter exit, while thread pools still work.

    ``threading._register_atexit`` hooks run before non-daemon threads are joined and
    in reverse order of registration, so this one (registered after
    ``concurrent.futures.thread`` was imported) runs before that module stops its
    executors, which the file and gs drivers need to flush. Falls back to ``atexit``.
    """
    register = getattr(threading, "_register_atexit", None)
    if register is not None:
        with contextlib.suppress(RuntimeError):  # already shutting down
            register(_close_all_at_exit)
            return
    import atexit

    atexit.register(_close_all_at_exit)


_register_exit_hook()
