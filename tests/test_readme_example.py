"""The README's examples (and the first script of docs/getting-started.md) run as written.

The first python block makes the audit signing key, the second is the example script
(with `asyncio.run`, no top-level await). The script runs on memory:// instead of S3, in
a fresh directory, so the front page cannot drift from the API: a renamed argument or
export, or code that is not valid in a script, fails here.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

import cloudstores

README = Path(__file__).resolve().parents[1] / "README.md"
URL = "s3://my-bucket/agents?region=eu-west-1"


def _python_blocks() -> list[str]:
    return re.findall(r"```python\n(.*?)```", README.read_text(), re.S)


def test_readme_examples_run_as_a_script(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    keygen, script = _python_blocks()[:2]
    assert "Ed25519Signer.generate()" in keygen and '"audit.pem"' in keygen
    assert URL in script and '"audit.pem"' in script and "asyncio.run(main())" in script
    monkeypatch.chdir(tmp_path)
    exec(compile(keygen, "README keygen", "exec"), {"__name__": "__main__"})
    assert (tmp_path / "audit.pem").stat().st_mode & 0o077 == 0
    signer = cloudstores.Ed25519Signer.from_file(tmp_path / "audit.pem")
    assert (tmp_path / "audit.pub").read_bytes() == signer.public_pem()
    namespace: dict[str, Any] = {"__name__": "__main__"}
    exec(compile(script.replace(URL, "memory://readme/agents"), "README", "exec"), namespace)
    assert capsys.readouterr().out == "audit log verified\n"


def test_getting_started_script_runs_twice(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """docs/getting-started.md's first script, run twice on one bucket (one key, kept)."""
    page = README.parent / "docs" / "getting-started.md"
    script = re.findall(r"```python\n(.*?)```", page.read_text(), re.S)[0]
    url = "file:///tmp/cloudstores-first"
    assert url in script and "asyncio.run(main())" in script
    script = script.replace(url, (tmp_path / "bucket").as_uri())
    monkeypatch.chdir(tmp_path)
    for _ in range(2):
        exec(compile(script, "getting-started", "exec"), {"__name__": "__main__"})
    assert capsys.readouterr().out == "True 1\nTrue 2\n"
