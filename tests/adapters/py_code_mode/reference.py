"""An in-memory reference of py-code-mode's RedisStorage (RedisWorkflowStore and
RedisArtifactStore), for the differential test: a dict per Redis hash and key, with the
same serialisation (``json.dumps`` of name, description, source, parameters; data
typed ``bytes`` / ``json`` / ``text`` in the index hash's ``_data_type``)."""

from __future__ import annotations

import json
from dataclasses import asdict
from datetime import UTC, datetime
from typing import Any

from tests.adapters.py_code_mode.stubs import Artifact, PythonWorkflow


class ArtifactNotFound(Exception):
    pass


class Redis:
    """The keys of one Redis database: plain keys and hashes."""

    def __init__(self) -> None:
        self.keys: dict[str, Any] = {}
        self.hashes: dict[str, dict[str, str]] = {}


class ReferenceWorkflowStore:
    def __init__(self, redis: Redis, prefix: str) -> None:
        self.hash = redis.hashes.setdefault(f"{prefix}:__workflows__", {})

    def save(self, workflow: PythonWorkflow) -> None:
        data = {
            "name": workflow.name,
            "description": workflow.description,
            "source": workflow.source,
            "parameters": [asdict(p) for p in workflow.parameters],
        }
        self.hash[workflow.name] = json.dumps(data)

    def load(self, name: str) -> PythonWorkflow | None:
        value = self.hash.get(name)
        return None if value is None else PythonWorkflow.from_data(json.loads(value))

    def delete(self, name: str) -> bool:
        return self.hash.pop(name, None) is not None

    def list_all(self) -> list[PythonWorkflow]:
        return [PythonWorkflow.from_data(json.loads(v)) for v in self.hash.values()]

    def exists(self, name: str) -> bool:
        return name in self.hash

    def __len__(self) -> int:
        return len(self.hash)


class ReferenceArtifactStore:
    def __init__(self, redis: Redis, prefix: str) -> None:
        self.redis, self.prefix = redis, prefix
        self.index = redis.hashes.setdefault(f"{prefix}:__index__", {})

    def save(
        self, name: str, data: Any, description: str = "", metadata: dict[str, Any] | None = None
    ) -> Artifact:
        key = f"{self.prefix}:{name}"
        data_type = "bytes" if isinstance(data, bytes) else "text"
        if isinstance(data, bytes):
            self.redis.keys[key] = data
        elif isinstance(data, dict | list):
            self.redis.keys[key] = json.dumps(data)
            data_type = "json"
        else:
            self.redis.keys[key] = str(data)
        now = datetime.now(UTC)
        index_metadata = metadata.copy() if metadata else {}
        index_metadata["_data_type"] = data_type
        entry = {
            "description": description,
            "created_at": now.isoformat(),
            "metadata": index_metadata,
        }
        self.index[name] = json.dumps(entry)
        return Artifact(
            name=name, path=key, description=description, metadata=metadata or {}, created_at=now
        )

    def load(self, name: str) -> Any:
        content = self.redis.keys.get(f"{self.prefix}:{name}")
        if content is None:
            raise ArtifactNotFound(name)
        data_type = None
        if name in self.index:
            data_type = json.loads(self.index[name]).get("metadata", {}).get("_data_type")
        if data_type == "bytes":
            return content
        if data_type == "json" or name.endswith(".json"):
            try:
                return json.loads(content)
            except (json.JSONDecodeError, TypeError) as e:
                raise ValueError(f"Failed to parse JSON artifact '{name}': {e}") from e
        return content.decode("utf-8") if isinstance(content, bytes) else content

    def _artifact(self, name: str, entry: dict[str, Any]) -> Artifact:
        return Artifact(
            name=name,
            path=f"{self.prefix}:{name}",
            description=entry["description"],
            metadata=entry.get("metadata", {}),
            created_at=datetime.fromisoformat(entry["created_at"]),
        )

    def get(self, name: str) -> Artifact | None:
        value = self.index.get(name)
        return None if value is None else self._artifact(name, json.loads(value))

    def list(self) -> list[Artifact]:
        return [self._artifact(n, json.loads(v)) for n, v in self.index.items()]

    def exists(self, name: str) -> bool:
        return name in self.index

    def delete(self, name: str) -> None:
        self.redis.keys.pop(f"{self.prefix}:{name}", None)
        self.index.pop(name, None)
