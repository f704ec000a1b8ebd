"""One key layout (cloudstores.stores.layout), and everything that lists it agrees.

* every key the stores write lies in an area of ``AREAS`` and is written create-only;
* no module outside the layout builds an area prefix or ``ws/`` by hand;
* the Terraform modules (S3 bucket policy, checkov policy, comments, READMEs) and the
  docs list exactly the create-only areas; docs/concepts.md carries the layout table.
"""

from __future__ import annotations

import ast
import re
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import hcl2
import pytest

from cloudstores.bucket import Bucket
from cloudstores.cli.demo import run_demo
from cloudstores.errors import InvalidIdError, InvalidInputError
from cloudstores.keys import workspace_prefix
from cloudstores.models import Artifact
from cloudstores.stores.layout import (
    AREAS,
    CREATE_ONLY_AREAS,
    MUTABLE_AREAS,
    WORKSPACES,
    WorkspaceLayout,
    area_of,
    layout_table,
)
from cloudstores.stores.workspace import open_stores

REPO = Path(__file__).parents[2]
SRC = REPO / "src" / "cloudstores"
TERRAFORM = REPO / "terraform"


# ---------------------------------------------------------------------- the stores
async def test_every_key_the_stores_write_is_in_a_create_only_area() -> None:
    url = f"memory://layout-{uuid.uuid4().hex[:8]}"
    writes: list[tuple[str, object]] = []
    real_put = Bucket.put

    async def recording_put(self: Bucket, key: str, data: bytes, **kw: Any) -> Any:
        writes.append((key, kw.get("mode", "create")))
        return await real_put(self, key, data, **kw)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(Bucket, "put", recording_put)
        await run_demo(url, workspace="w")  # runs, steps, artifacts, audit, indexes
        async with open_stores(url, workspace="w") as stores:
            await stores.artifacts.store(Artifact(id="raw", run_id="r", content=b"\x00" * 10))
            await stores.executions.store_workflow_snapshot({"steps": ["a"]}, 1)
            await stores.records("events", fields=("kind",)).append({"kind": "x"})
            await stores.documents("docs").put("d1", {"v": 1})
            await stores.audit.append("s", {"e": 1}, key="k1")
            await stores.close()
    seen = set()
    for key, mode in writes:
        found = area_of(key)
        assert found is not None, f"{key!r} is in no area of the layout"
        assert found[0] == "w"
        assert mode == "create", f"{key!r} written with {mode!r}"
        seen.add(found[1].name)
    assert seen == set(CREATE_ONLY_AREAS)  # and every area is written by something


def _string_pieces(tree: ast.AST) -> Iterator[tuple[int, str]]:
    """String constants and f-string pieces, leaving out docstrings."""
    docstrings = {
        id(node.body[0].value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef)
        and node.body
        and isinstance(node.body[0], ast.Expr)
        and isinstance(node.body[0].value, ast.Constant)
    }
    for node in ast.walk(tree):
        if isinstance(node, ast.JoinedStr):
            pieces = [v.value if isinstance(v, ast.Constant) else "{}" for v in node.values]
            yield node.lineno, "".join(str(p) for p in pieces)
        elif (
            isinstance(node, ast.Constant)
            and isinstance(node.value, str)
            and id(node) not in docstrings
        ):
            yield node.lineno, node.value


def test_no_module_builds_layout_keys_by_hand() -> None:
    areas = "|".join(re.escape(a.name) for a in AREAS)
    by_hand = re.compile(rf"(^|\}})(ws|{areas})/")
    allowed = {SRC / "stores" / "layout.py", SRC / "keys.py"}
    found = []
    for path in sorted(SRC.rglob("*.py")):
        if path in allowed:
            continue
        for line, text in _string_pieces(ast.parse(path.read_text())):
            if by_hand.search(text):
                found.append(f"{path.relative_to(REPO)}:{line}: {text!r}")
    assert not found, "build these keys with cloudstores.stores.layout:\n" + "\n".join(found)


def test_layout_api() -> None:
    layout = WorkspaceLayout("w")
    assert workspace_prefix("w") == layout.root == f"{WORKSPACES}w/"
    assert layout.artifact("a") == "ws/w/artifacts/a.json"
    assert layout.run_step("r", "s") == "ws/w/runs/r/steps/s.json"
    assert layout.run_versions("r") == "ws/w/runs/r/v/"
    assert layout.index("records", "c") == "ws/w/_index/records/c"
    for name in CREATE_ONLY_AREAS:
        assert area_of(layout.area(name) + "x.json") == (
            "w",
            next(a for a in AREAS if a.name == name),
        )
    assert area_of("other/ws/w/artifacts/a.json") is None
    assert area_of("ws/w/unknown/a.json") is None
    with pytest.raises(InvalidInputError):
        layout.area("nope")
    with pytest.raises(InvalidIdError):
        layout.artifact("../x")
    with pytest.raises(InvalidIdError):
        WorkspaceLayout("a/b")
    assert MUTABLE_AREAS == ()  # nothing overwrites: a bucket policy may demand it everywhere


# ---------------------------------------------------------------------- Terraform
def _normalize(value: Any) -> Any:
    if isinstance(value, dict):
        return {
            _normalize(k): _normalize(v)
            for k, v in value.items()
            if not (isinstance(k, str) and k.startswith("__") and k.endswith("__"))
        }
    if isinstance(value, list):
        return [_normalize(v) for v in value]
    if isinstance(value, str) and len(value) >= 2 and value[0] == value[-1] == '"':
        return value[1:-1]
    return value


def test_s3_bucket_policy_covers_exactly_the_create_only_areas() -> None:
    with (TERRAFORM / "modules" / "aws-s3" / "main.tf").open() as fh:
        conf = _normalize(hcl2.load(fh))
    arns = next(b["immutable_object_arns"] for b in conf["locals"] if "immutable_object_arns" in b)
    assert arns == [
        f"${{local.bucket_arn}}/${{local.key_root}}ws/*/{name}/*" for name in CREATE_ONLY_AREAS
    ]


def test_checkov_policy_lists_the_create_only_areas() -> None:
    # checkov runs in its own venv without cloudstores, so the policy keeps a copy
    tree = ast.parse((TERRAFORM / "policies" / "cloudstores_checks.py").read_text())
    [value] = [
        node.value
        for node in tree.body
        if isinstance(node, ast.Assign)
        and any(isinstance(t, ast.Name) and t.id == "IMMUTABLE_PREFIXES" for t in node.targets)
    ]
    assert ast.literal_eval(value) == CREATE_ONLY_AREAS


_BRACE_LIST = re.compile(r"ws/(?:<workspace>|\*|\{workspace\})/\{([a-z_,]+)\}")


def _layout_texts() -> Iterator[Path]:
    yield from sorted(TERRAFORM.rglob("*.tf"))
    yield from sorted(TERRAFORM.rglob("*.md"))
    yield from sorted((REPO / "docs").glob("*.md"))
    yield REPO / "README.md"


@pytest.mark.parametrize("path", list(_layout_texts()), ids=lambda p: str(p.relative_to(REPO)))
def test_every_written_list_of_areas_is_complete(path: Path) -> None:
    """``ws/<workspace>/{artifacts,...}`` in comments and docs names every area."""
    for match in _BRACE_LIST.finditer(path.read_text()):
        assert tuple(match.group(1).split(",")) == CREATE_ONLY_AREAS, (
            f"{path.relative_to(REPO)}: {match.group(0)} is not the layout's create-only areas "
            f"{{{','.join(CREATE_ONLY_AREAS)}}} (cloudstores.stores.layout)"
        )


_MENTION = re.compile(r"ws/(?:<workspace>|\{workspace\})/([A-Za-z0-9_~.-]+)/")


@pytest.mark.parametrize("path", list(_layout_texts()), ids=lambda p: str(p.relative_to(REPO)))
def test_every_key_written_down_is_in_an_area(path: Path) -> None:
    names = {a.name for a in AREAS}
    for match in _MENTION.finditer(path.read_text()):
        assert match.group(1) in names, (
            f"{path.relative_to(REPO)}: {match.group(0)} is in no area of cloudstores.stores.layout"
        )


def test_stores_page_lists_every_area() -> None:
    text = (REPO / "docs" / "stores.md").read_text()
    for area in AREAS:
        assert f"{{prefix}}/ws/{{workspace}}/{area.name}/" in text


def test_s3_module_readme_lists_the_policy_prefixes() -> None:
    text = (TERRAFORM / "modules" / "aws-s3" / "README.md").read_text()
    listed = re.findall(r"`(?:<prefix>/)?ws/\*/([a-z_]+)/\*`", text)
    assert tuple(listed) == CREATE_ONLY_AREAS


# ---------------------------------------------------------------------- docs
def test_concepts_page_carries_the_layout_table() -> None:
    text = (REPO / "docs" / "concepts.md").read_text()
    assert layout_table() in text, (
        "docs/concepts.md must hold cloudstores.stores.layout.layout_table() verbatim:\n"
        + layout_table()
    )
