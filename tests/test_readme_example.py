"""The README's first example runs as written (on memory:// instead of S3, with a real key).

So the front page cannot drift from the API: a renamed argument or export fails here.
"""

from __future__ import annotations

import re
import textwrap
from pathlib import Path
from typing import Any

import cloudstores

README = Path(__file__).resolve().parents[1] / "README.md"


def _first_python_block() -> str:
    match = re.search(r"```python\n(.*?)```", README.read_text(), re.S)
    assert match, "README has no python example"
    return match.group(1)


async def test_readme_example_runs(tmp_path: Path) -> None:
    key = tmp_path / "audit.pem"
    key.write_bytes(cloudstores.Ed25519Signer.generate().private_pem())
    code = _first_python_block()
    assert "s3://my-bucket/agents?region=eu-west-1" in code and '"audit.pem"' in code
    code = code.replace("s3://my-bucket/agents?region=eu-west-1", "memory://readme/agents")
    code = code.replace('"audit.pem"', repr(str(key)))
    namespace: dict[str, Any] = {}
    exec(
        "async def example():\n" + textwrap.indent(code, "    ") + "\n    return report\n",
        namespace,
    )
    report = await namespace["example"]()
    assert report.ok and report.size == 1 and report.signatures_checked
