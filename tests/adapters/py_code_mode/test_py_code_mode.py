"""BucketStorage on memory and moto: workflows and artifacts as py-code-mode's File and
Redis storages keep them, namespaces, sharing between storages, owned and borrowed stores."""

from __future__ import annotations

import pickle
from typing import Any

import pytest

from cloudstores import sync
from cloudstores.adapters.py_code_mode import (
    ArtifactNotFoundError,
    BucketStorage,
    BucketStorageAccess,
    StorageReadError,
    StoredWorkflow,
)
from cloudstores.errors import ConfigurationError, InvalidInputError, NotFoundError
from tests.adapters.py_code_mode.stubs import (
    Artifact,
    ArtifactStoreProtocol,
    PythonWorkflow,
    WorkflowStore,
    workflow,
)

FACTORIES: dict[str, Any] = {
    "workflow_factory": PythonWorkflow.from_data,
    "artifact_factory": Artifact,
}


@pytest.fixture(params=["memory", "s3"])
def url(request: pytest.FixtureRequest, make_bucket_url: Any) -> str:
    return str(make_bucket_url(request.param))


def test_workflows(url: str) -> None:
    with BucketStorage(url, prefix="prod", **FACTORIES) as storage:
        store = storage.get_workflow_store()
        assert isinstance(store, WorkflowStore)
        assert store.load("greet") is None and not store.exists("greet")
        assert store.delete("greet") is False
        store.save(workflow("greet", description="says hi"))
        store.save(workflow("analyze_sentiment"))
        got = store.load("greet")
        assert isinstance(got, PythonWorkflow)
        assert (got.name, got.description, got.source) == (
            "greet",
            "says hi",
            workflow("greet").source,
        )
        assert got.parameters == workflow("greet").parameters
        assert store.exists("greet") and len(store) == 2
        store.save(workflow("greet", body="return 2"))  # overwrite
        assert store.load("greet").source == workflow("greet", body="return 2").source  # type: ignore[union-attr]
        assert [w.name for w in store.list_all()] == ["analyze_sentiment", "greet"]
        assert store.delete("greet") is True and store.delete("greet") is False
        assert store.load("greet") is None and [w.name for w in store.list_all()] == [
            "analyze_sentiment"
        ]
        store.save_batch([workflow("a1"), workflow("b2")])
        assert len(store) == 3
        for bad in ("not-an-identifier", "1abc", "", "a/b"):
            with pytest.raises(ValueError):
                store.load(bad)
            with pytest.raises(InvalidInputError):
                store.save(workflow(bad))


def test_artifacts(url: str) -> None:
    with BucketStorage(url, workspace_id="client-a", **FACTORIES) as storage:
        store = storage.get_artifact_store()
        assert isinstance(store, ArtifactStoreProtocol)
        assert store.get("scan.json") is None and not store.exists("scan.json")
        with pytest.raises(ArtifactNotFoundError) as missing:
            store.load("scan.json")
        assert isinstance(missing.value, NotFoundError)
        saved = store.save("scans/nmap.json", {"hosts": [1, 2]}, "nmap", {"tool": "nmap"})
        assert isinstance(saved, Artifact)
        assert (saved.name, saved.description, saved.metadata) == (
            "scans/nmap.json",
            "nmap",
            {"tool": "nmap"},
        )
        assert saved.path.endswith("scans/nmap.json") or "nmap" in saved.path
        store.save("raw.bin", b"\x00\xffdata")
        store.save("notes.txt", "héllo")
        store.save("count", 42)  # neither str nor bytes: stored as its text
        store.save("list.data", [1, "x"])
        store.save("empty", b"")
        assert store.load("scans/nmap.json") == {"hosts": [1, 2]}
        assert store.load("raw.bin") == b"\x00\xffdata"
        assert store.load("notes.txt") == "héllo"
        assert store.load("count") == "42"
        assert store.load("list.data") == [1, "x"]
        assert store.load("empty") == b""
        meta = store.get("scans/nmap.json")
        assert meta is not None and meta.metadata == {"tool": "nmap", "_data_type": "json"}
        assert [a.name for a in store.list()] == [
            "count",
            "empty",
            "list.data",
            "notes.txt",
            "raw.bin",
            "scans/nmap.json",
        ]
        store.save("notes.txt", b"v2")  # overwrite with another type
        assert store.load("notes.txt") == b"v2"
        store.save("bad.json", "not json")  # text, but named .json: loaded as JSON
        with pytest.raises(StorageReadError) as unreadable:
            store.load("bad.json")
        assert isinstance(unreadable.value, ValueError)
        store.delete("raw.bin")
        store.delete("raw.bin")  # no error
        assert not store.exists("raw.bin")
        with pytest.raises(ArtifactNotFoundError):
            store.load("raw.bin")
        # register: re-describe stored data; unknown data is ArtifactNotFoundError
        again = store.register("count", "the answer", {"k": 1})
        assert again.metadata == {"k": 1} and store.load("count") == "42"
        with pytest.raises(ArtifactNotFoundError):
            store.register("raw.bin", "gone")


def test_namespaces_and_sharing(make_bucket_url: Any) -> None:
    url = make_bucket_url("memory")
    unscoped = BucketStorage(url, prefix="prod", **FACTORIES)
    scoped_a = BucketStorage(url, prefix="prod", workspace_id="a", **FACTORIES)
    scoped_b = BucketStorage(url, prefix="prod", workspace_id="a/b", **FACTORIES)
    other_env = BucketStorage(url, prefix="dev", **FACTORIES)
    try:
        unscoped.get_workflow_store().save(workflow("shared", description="unscoped"))
        scoped_a.get_workflow_store().save(workflow("shared", description="a"))
        scoped_a.get_artifact_store().save("x", "a's")
        for storage, want in (
            (unscoped, ["unscoped"]),
            (scoped_a, ["a"]),
            (scoped_b, []),
            (other_env, []),
        ):
            assert [w.description for w in storage.get_workflow_store().list_all()] == want
        assert (
            unscoped.get_artifact_store().list() == []
            and not scoped_b.get_artifact_store().exists("x")
        )
        # one agent learns, all agents benefit: another storage on the same namespace
        with BucketStorage(url, prefix="prod", workspace_id="a", **FACTORIES) as peer:
            assert peer.get_workflow_store().load("shared").description == "a"  # type: ignore[union-attr]
            assert peer.get_artifact_store().load("x") == "a's"
            peer.get_workflow_store().save(workflow("learned"))
        assert scoped_a.get_workflow_store().exists("learned")
        assert not unscoped.get_workflow_store().exists("learned")
    finally:
        for s in (unscoped, scoped_a, scoped_b, other_env):
            s.close()


async def test_called_from_inside_an_event_loop(make_bucket_url: Any) -> None:
    """py-code-mode calls its stores from its own event loop: the calls block that loop's
    thread while the storage's background loop does the work."""
    with BucketStorage(make_bucket_url("memory"), **FACTORIES) as storage:
        storage.get_workflow_store().save(workflow("inside"))
        assert storage.get_workflow_store().exists("inside")
        assert storage.get_artifact_store().save("a", "b").name == "a"


def test_owned_borrowed_and_access(make_bucket_url: Any) -> None:
    url = make_bucket_url("memory")
    storage = BucketStorage(url, prefix="env1", workspace_id="w")
    storage.get_workflow_store().save(workflow("plain"))
    found = storage.get_workflow_store().load("plain")  # no factory, no py-code-mode: a dataclass
    assert isinstance(found, StoredWorkflow) and found.metadata["created_by"] == "agent"
    access = storage.get_serializable_access()
    assert access == BucketStorageAccess(url, "env1", "w")
    assert pickle.loads(pickle.dumps(access)) == access
    assert storage.to_bootstrap_config() == {
        "type": "cloudstores",
        "url": url,
        "prefix": "env1",
        "workspace_id": "w",
    }
    assert storage.get_vector_store() is None
    with pytest.raises(ConfigurationError):
        storage.get_workflow_library()  # py-code-mode is not installed here
    storage.close()
    with BucketStorage.from_access(access) as reopened:
        assert reopened.get_workflow_store().exists("plain")
    with BucketStorage.from_url(url, workspace="env1", workspace_id="w") as same:
        assert same.get_workflow_store().exists("plain")
    with sync.open_stores(url, workspace="env1") as stores:
        borrowed = BucketStorage(stores, workspace_id="w")
        assert borrowed.get_workflow_store().exists("plain")
        borrowed.close()  # borrowed: the stores stay open
        assert BucketStorage(stores, workspace_id="w").get_workflow_store().exists("plain")
        with pytest.raises(ConfigurationError):
            borrowed.get_serializable_access()
        with pytest.raises(InvalidInputError):
            BucketStorage(stores, prefix="other")
    with pytest.raises(InvalidInputError):
        BucketStorage(url, prefix="bad prefix")
    with pytest.raises(InvalidInputError):
        BucketStorage(url, workspace_id="")
    with pytest.raises(InvalidInputError):
        BucketStorage(object())  # type: ignore[arg-type]


def test_a_loaded_workflow_saves_back_unchanged(make_bucket_url: Any) -> None:
    """Without py-code-mode, load gives a StoredWorkflow; saving it keeps its metadata."""
    with BucketStorage(make_bucket_url("memory")) as storage:
        store = storage.get_workflow_store()
        store.save(workflow("keep"))
        first = store.load("keep")
        store.save(first)
        again = store.load("keep")
        assert again == first and again.metadata["created_at"].startswith("2026-01-01")
