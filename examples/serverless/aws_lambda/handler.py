"""AWS Lambda: one agent step per invocation (``handler.lambda_handler``).

Deploy with ``agent_step.py`` beside this file and ``cloudstores[s3]`` in the package.
Environment (see the Terraform wiring in docs/serverless.md):

* ``CLOUDSTORES_URL``: the ``cloudstores_url`` output of ``terraform/modules/aws-s3``;
* ``CLOUDSTORES_AUDIT_KEY_SECRET``: the name or ARN of a Secrets Manager secret holding
  the audit signing key (PEM); read once per cold start, never logged.

The stores are opened once, at module level (the cold start), and every invocation
runs in its own ``asyncio.run``: ``Stores`` follows the new event loop and re-makes
its loop-bound clients (only caches are lost).
"""

from __future__ import annotations

import asyncio
from typing import Any

from agent_step import handle, open_from_environment, signer_from_pem
from aws_secret import signing_key_pem

STORES = open_from_environment(signer_from_pem(signing_key_pem()))


def lambda_handler(event: dict[str, Any], context: object) -> dict[str, Any]:
    return asyncio.run(handle(STORES, event))
