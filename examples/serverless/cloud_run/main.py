"""Google Cloud Run: an HTTP service that stores one agent step per POST /step.

Run with ``python main.py`` (listens on ``$PORT``, as Cloud Run expects), with
``agent_step.py`` beside it and ``cloudstores[gcs]`` installed. Environment (see
docs/serverless.md):

* ``CLOUDSTORES_URL``: the ``cloudstores_url`` output of ``terraform/modules/gcp-gcs``
  (the service account authenticates);
* ``CLOUDSTORES_AUDIT_KEY_PEM``: a Secret Manager secret exposed as an environment
  variable (``--set-secrets CLOUDSTORES_AUDIT_KEY_PEM=audit-key:latest``).

aiohttp (already a dependency of the cloud SDK drivers) serves it: one event loop for
the life of the instance; the stores open with the app and close, flushing pending
writes, when Cloud Run stops the instance (SIGTERM).
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator

from agent_step import handle, open_from_environment
from aiohttp import web

import cloudstores

STORES = web.AppKey("stores", cloudstores.Stores)


async def step(request: web.Request) -> web.Response:
    try:
        event = await request.json()
        result = await handle(request.app[STORES], event)
    except (ValueError, cloudstores.errors.InvalidInputError) as exc:
        return web.json_response({"error": str(exc)}, status=400)
    return web.json_response(result)


async def _stores(app: web.Application) -> AsyncIterator[None]:
    async with open_from_environment() as stores:
        app[STORES] = stores
        yield


def make_app() -> web.Application:
    app = web.Application()
    app.cleanup_ctx.append(_stores)
    app.router.add_post("/step", step)
    return app


if __name__ == "__main__":
    web.run_app(make_app(), port=int(os.environ.get("PORT", "8080")))
