"""A pytest plugin for dir-core's own test suite: our storages in place of DIR's.

Loaded with ``-p tests.adapters.dir_core.dir_suite_plugin`` when pytest runs the tests
of dir-core's sdist. Before any test module is imported it replaces, in every loaded
``dir_core`` module:

* ``memory_storage`` by a function returning ``bucket_storage(<fresh bucket>)``;
* each ``Sqlite<X>Storage`` class by a factory: ``Sqlite<X>Storage(db_path)`` returns our
  ``Bucket<X>Storage`` over the bucket of that path (one bucket per path, shared by every
  storage opened on it, as one SQLite file is);
* each ``Memory<X>Storage`` class by a factory returning ``Bucket<X>Storage`` over a fresh
  bucket.

``DIR_SUITE_BUCKET`` picks the buckets: ``memory`` (default) or ``file`` (under the
session's tmp dir).
"""

from __future__ import annotations

import hashlib
import os
import sys
import tempfile
import uuid
from typing import Any

import dir_core
import dir_core.storage
import pytest

from cloudstores import sync
from cloudstores.adapters import dir_core as ours

_BY_PATH: dict[str, sync.SyncStores] = {}
_ROOT = tempfile.mkdtemp(prefix="dir-suite-")
CALLS: dict[str, int] = {}


def _url(name: str) -> str:
    if os.environ.get("DIR_SUITE_BUCKET", "memory") == "file":
        root = os.path.join(_ROOT, name)
        os.makedirs(root, exist_ok=True)
        return f"file://{root}?fsync=false"
    return f"memory://dir-suite-{name}/pre"


def _stores_for(db_path: str | None) -> sync.SyncStores:
    if db_path is None:
        return sync.open_stores(_url(uuid.uuid4().hex))
    path = os.path.abspath(str(db_path))
    if path not in _BY_PATH:
        _BY_PATH[path] = sync.open_stores(_url(hashlib.sha256(path.encode()).hexdigest()[:16]))
    return _BY_PATH[path]


def _factory(name: str, cls: type[Any], *, with_path: bool) -> type[Any]:
    def new(klass: type[Any], *args: Any, **kwargs: Any) -> Any:
        db_path = (args[0] if args else kwargs.get("db_path")) if with_path else None
        storage = cls(_stores_for(db_path))
        if with_path:
            storage.db_path = db_path
        CALLS[name] = CALLS.get(name, 0) + 1
        return storage

    # A class so that isinstance checks and subclassing in tests still work by name.
    return type(name, (), {"__new__": new, "__doc__": f"{cls.__name__} in place of {name}"})


def _memory_storage() -> Any:
    CALLS["memory_storage"] = CALLS.get("memory_storage", 0) + 1
    return ours.storage_from_stores(_stores_for(None))


def _replacements() -> dict[str, Any]:
    out: dict[str, Any] = {"memory_storage": _memory_storage}
    for name in dir(dir_core.storage):
        for kind, with_path in (("Sqlite", True), ("Memory", False)):
            if name.startswith(kind) and name.endswith("Storage"):
                ours_cls = getattr(ours, "Bucket" + name[len(kind) :])
                out[name] = _factory(name, ours_cls, with_path=with_path)
    return out


def pytest_configure(config: pytest.Config) -> None:
    replacements = _replacements()
    import dir_core.storage.memory
    import dir_core.storage.sqlite  # noqa: F401 - so that the loop patches them too

    for mod_name, module in list(sys.modules.items()):
        if mod_name == "dir_core" or mod_name.startswith("dir_core."):
            for name, value in replacements.items():
                if name in vars(module):
                    setattr(module, name, value)


def pytest_terminal_summary(terminalreporter: Any) -> None:
    calls = ", ".join(f"{k}={v}" for k, v in sorted(CALLS.items()))
    terminalreporter.write_line(f"cloudstores DIR storages constructed: {calls}")
