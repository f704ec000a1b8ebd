"""mkdocs hook: pages of the site whose text lives outside docs/ (one copy of each text).

The changelog stays at the root and the Terraform READMEs beside the modules they
describe; the site gets them as generated pages. Their relative links are rewritten: to
the page of the file they point at where the site has one (generated, or under docs/),
else to that file or folder in the repository.

The docstrings name other objects with Sphinx roles (:func:`x`, :class:`~a.b.C`); on the
API reference pages the role is dropped and ``~`` shortens the name to its last part, as
Sphinx shows it.
"""

from __future__ import annotations

import posixpath
import re
from pathlib import Path
from typing import Any

from mkdocs.structure.files import File, Files

ROOT = Path(__file__).resolve().parents[1]

# site page -> file in the repository, as the nav names them
PAGES = {
    "changelog.md": "CHANGELOG.md",
    "terraform.md": "terraform/README.md",
    "terraform/aws-s3.md": "terraform/modules/aws-s3/README.md",
    "terraform/azure-blob.md": "terraform/modules/azure-blob/README.md",
    "terraform/gcp-gcs.md": "terraform/modules/gcp-gcs/README.md",
}
_ROLE = re.compile(r":(?:func|class|meth|mod|attr|exc|data|obj):<code>(~?)([\w.]+)</code>")
_LINK = re.compile(r"\]\(([^)\s#]+)(#[^)\s]*)?\)")


def _rewrite(text: str, source: str, page: str, repo_url: str) -> str:
    by_source = {src: dst for dst, src in PAGES.items()}

    def link(match: re.Match[str]) -> str:
        target, anchor = match.group(1), match.group(2) or ""
        if "://" in target or target.startswith(("/", "mailto:")):
            return match.group(0)
        path = posixpath.normpath(posixpath.join(posixpath.dirname(source), target))
        for candidate in (path, posixpath.join(path, "README.md")):
            if candidate in by_source or candidate.startswith("docs/"):
                doc = by_source.get(candidate) or candidate.removeprefix("docs/")
                rel = posixpath.relpath(doc, posixpath.dirname(page) or ".")
                return f"]({rel}{anchor})"
        kind = "tree" if (ROOT / path).is_dir() else "blob"
        return f"]({repo_url.rstrip('/')}/{kind}/main/{path}{anchor})"

    return _LINK.sub(link, text)


def on_files(files: Files, config: Any, **_: Any) -> Files:
    """Add one generated page per entry of PAGES."""
    repo_url = config.get("repo_url") or ""
    for page, source in PAGES.items():
        text = (ROOT / source).read_text(encoding="utf-8")
        files.append(File.generated(config, page, content=_rewrite(text, source, page, repo_url)))
    return files


def _drop_role(match: re.Match[str]) -> str:
    name = match.group(2).rsplit(".", 1)[-1] if match.group(1) else match.group(2)
    return f"<code>{name}</code>"


def on_page_content(html: str, page: Any, **_: Any) -> str:
    """Sphinx roles in docstrings, shown as plain code names on the reference pages."""
    if page.file.src_uri.startswith("reference/"):
        return _ROLE.sub(_drop_role, html)
    return html
