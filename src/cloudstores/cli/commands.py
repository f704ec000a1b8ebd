"""The ``cloudstores`` command: the typer app with every command registered.

    cloudstores ls URL                               workspaces
    cloudstores ls URL runs -w client-a              runs, artifacts, audit, stores, keys
    cloudstores show URL artifact ID -w client-a     one record, checked, as JSON
    cloudstores cat URL ws/client-a/artifacts/ID.json   one object's bytes
    cloudstores migrate-files file:///dir            rewrite legacy CSOBJ1 files
    cloudstores verify URL security -k audit.pub     exit 0 clean, 1 tampered, 2 error
    cloudstores copy s3://a/p gs://b/p               create-only, resumable
    cloudstores keygen audit.pem                     an Ed25519 signing key
    cloudstores witness URL STREAM --state URL2 --key w.key --log-key VKEY
                                                     cosign if consistent (exit 1: refused)

See docs/cli.md. Every command takes ``--json``; URL may be left out when
``CLOUDSTORES_URL`` is set, ``-w`` defaults to ``CLOUDSTORES_WORKSPACE``.
"""

from __future__ import annotations

from cloudstores.cli import audit, browse, ops, witness  # noqa: F401  (they register the commands)
from cloudstores.cli.common import app

__all__ = ["app", "main"]


def main() -> None:
    app()
