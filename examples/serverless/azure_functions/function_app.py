"""Azure Functions (Python v2 programming model): one agent step per HTTP POST.

Deploy with ``agent_step.py`` beside this file and ``cloudstores[azure]`` and
``azure-functions`` in requirements.txt. App settings (see docs/serverless.md):

* ``CLOUDSTORES_URL``: the ``cloudstores_url`` output of ``terraform/modules/azure-blob``
  (the function's managed identity authenticates; nothing secret is in the URL);
* ``CLOUDSTORES_AUDIT_KEY_PEM``: a Key Vault reference,
  ``@Microsoft.KeyVault(SecretUri=https://VAULT.vault.azure.net/secrets/audit-key/)``,
  which the platform resolves into the PEM.

The Functions host runs async functions on its own long-lived event loop; the stores
opened at module level serve every invocation on it.
"""

from __future__ import annotations

import json

import azure.functions as func
from agent_step import handle, open_from_environment

import cloudstores

STORES = open_from_environment()
app = func.FunctionApp(http_auth_level=func.AuthLevel.FUNCTION)


@app.route(route="step", methods=["POST"])
async def step(req: func.HttpRequest) -> func.HttpResponse:
    try:
        event = req.get_json()
        result = await handle(STORES, event)
    except (ValueError, cloudstores.errors.InvalidInputError) as exc:
        return func.HttpResponse(json.dumps({"error": str(exc)}), status_code=400)
    return func.HttpResponse(json.dumps(result), mimetype="application/json")
