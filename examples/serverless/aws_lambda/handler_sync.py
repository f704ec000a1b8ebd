"""AWS Lambda with the sync API (``handler_sync.lambda_handler``): the same job.

Deploy and configure it like ``handler.py``. The difference: the stores live in
``cloudstores.sync``'s one background event loop for the life of the container, so a
warm invocation keeps the index caches that ``asyncio.run`` per invocation loses (see
the request table in docs/serverless.md). Lambda freezes that thread between
invocations with the rest of the process; a connection that went stale meanwhile is
retried like any other transient failure.
"""

from __future__ import annotations

from typing import Any

from agent_step import handle, settings, signer_from_pem
from aws_secret import signing_key_pem

import cloudstores.sync

_url, _options = settings(signer_from_pem(signing_key_pem()))
STORES = cloudstores.sync.open_stores(_url, **_options)


def lambda_handler(event: dict[str, Any], context: object) -> dict[str, Any]:
    return STORES.run(lambda stores: handle(stores, event))
