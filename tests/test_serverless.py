"""The serverless recipes in examples/serverless/, run against the emulators.

Each platform's handler is imported the way its runtime imports it (configuration
from the environment, stores opened at module level) and invoked twice: the first
invocation is the cold one (a new ``Stores``), the second warm. AWS Lambda runs each
invocation in its own ``asyncio.run``; Azure Functions and Cloud Run serve all of
them from one long-lived loop. Afterwards a separate reader checks what landed.
"""

from __future__ import annotations

import asyncio
import importlib.util
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

import cloudstores
from tests.emulators import free_port

RECIPES = Path(__file__).resolve().parents[1] / "examples" / "serverless"
EVENTS = [
    {"run_id": "run-1", "step": "plan", "output": {"plan": ["search", "write"]}},
    {"run_id": "run-1", "step": "search", "output": {"hits": 3}},
]
LATER = {"run_id": "run-1", "step": "write", "output": {"text": "done"}}


@pytest.fixture
def recipes_on_path() -> Iterator[None]:
    """The recipes' own imports (``agent_step``, ``aws_secret``) resolve as deployed."""
    paths = [str(RECIPES), str(RECIPES / "aws_lambda")]
    sys.path[:0] = paths
    try:
        yield
    finally:
        for path in paths:
            sys.path.remove(path)
        for name in ("agent_step", "aws_secret"):
            sys.modules.pop(name, None)


def load(relative: str) -> ModuleType:
    """Import a recipe module afresh (its module-level stores read the environment)."""
    path = RECIPES / relative
    spec = importlib.util.spec_from_file_location(f"recipe_{path.parent.name}_{path.stem}", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


async def check_landed(url: str, signer: cloudstores.Ed25519Signer) -> None:
    """A separate reader sees both steps, the run at version 2 and a verified log."""
    verifier = cloudstores.Ed25519Verifier.from_bytes(signer.public_pem())
    async with cloudstores.open_stores(url, audit_verifier=verifier) as stores:
        arts = await stores.artifacts.list_by_run("run-1")
        assert sorted(a.id for a in arts) == ["run-1.plan", "run-1.search"]
        run = await stores.executions.get_run("run-1")
        assert (run.version, run.completed_nodes) == (2, 2)
        assert [r.task_id for r in await stores.executions.list_records("run-1")] == [
            "plan",
            "search",
        ]
        report = await stores.audit.verify("agent-steps")
        assert report.ok and report.size == 2 and report.signatures_checked


def check_results(results: list[dict[str, Any]], cloud: str) -> None:
    assert [r["run_version"] for r in results] == [1, 2]
    assert [r["audit_seq"] for r in results] == [0, 1]
    for label, result in zip(("cold", "warm"), results, strict=True):
        print(f"{cloud} {label} invocation requests: {result['requests']}")
        assert sum(result["requests"].values()) < 40, result["requests"]


def close(handler: ModuleType) -> None:
    if isinstance(handler.STORES, cloudstores.Stores):
        asyncio.run(handler.STORES.close())
    else:
        handler.STORES.close()  # the sync API's stores


@pytest.mark.parametrize("variant", ["handler.py", "handler_sync.py"])
@pytest.mark.usefixtures("recipes_on_path")
def test_aws_lambda_twice_against_moto(
    variant: str, emulators: Any, make_bucket_url: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    import boto3

    url = make_bucket_url("s3")
    endpoint = emulators.get("s3").endpoint
    signer = cloudstores.Ed25519Signer.generate()
    secrets = boto3.client("secretsmanager", endpoint_url=endpoint)
    name = f"audit-key-{free_port()}"
    secrets.create_secret(Name=name, SecretString=signer.private_pem().decode())
    monkeypatch.setenv("AWS_ENDPOINT_URL", endpoint)
    monkeypatch.setenv("CLOUDSTORES_URL", url)
    monkeypatch.setenv("CLOUDSTORES_AUDIT_KEY_SECRET", name)

    handler = load(f"aws_lambda/{variant}")  # the cold start
    try:
        results = [handler.lambda_handler(event, None) for event in EVENTS]
    finally:
        close(handler)
    check_results(results, f"s3 {variant}")
    asyncio.run(check_landed(url, signer))

    # A new container (a cold start) on a bucket that already holds the run.
    handler = load(f"aws_lambda/{variant}")
    try:
        later = handler.lambda_handler(LATER, None)
    finally:
        close(handler)
    print(f"s3 {variant} cold invocation on existing data requests: {later['requests']}")
    assert (later["run_version"], later["audit_seq"]) == (3, 2)
    assert sum(later["requests"].values()) < 40, later["requests"]


@pytest.mark.usefixtures("recipes_on_path")
def test_azure_function_twice_against_azurite(
    make_bucket_url: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    func = pytest.importorskip("azure.functions", reason="azure-functions (dev extra)")
    url = make_bucket_url("azure")
    signer = cloudstores.Ed25519Signer.generate()
    monkeypatch.setenv("CLOUDSTORES_URL", url)
    monkeypatch.setenv("CLOUDSTORES_AUDIT_KEY_PEM", signer.private_pem().decode())
    app = load("azure_functions/function_app.py")
    step = app.step.build().get_user_function()

    async def host() -> list[dict[str, Any]]:  # the Functions host: one loop for all
        answers = []
        try:
            for event in EVENTS:
                request = func.HttpRequest(
                    method="POST", url="/api/step", body=json.dumps(event).encode()
                )
                response = await step(request)
                assert response.status_code == 200, response.get_body()
                answers.append(json.loads(response.get_body()))
            bad = await step(func.HttpRequest(method="POST", url="/api/step", body=b"[1]"))
            assert bad.status_code == 400
            return answers
        finally:
            await app.STORES.close()

    check_results(asyncio.run(host()), "azure")
    asyncio.run(check_landed(url, signer))


@pytest.mark.usefixtures("recipes_on_path")
def test_cloud_run_service_against_fake_gcs(
    make_bucket_url: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    import aiohttp
    from aiohttp import web

    url = make_bucket_url("gcs")
    signer = cloudstores.Ed25519Signer.generate()
    monkeypatch.setenv("CLOUDSTORES_URL", url)
    monkeypatch.setenv("CLOUDSTORES_AUDIT_KEY_PEM", signer.private_pem().decode())
    service = load("cloud_run/main.py")

    async def serve_and_call() -> list[dict[str, Any]]:
        runner = web.AppRunner(service.make_app())
        await runner.setup()
        port = free_port()
        await web.TCPSite(runner, "127.0.0.1", port).start()
        try:
            async with aiohttp.ClientSession() as session:
                answers = []
                for event in EVENTS:
                    async with session.post(f"http://127.0.0.1:{port}/step", json=event) as r:
                        assert r.status == 200, await r.text()
                        answers.append(await r.json())
                async with session.post(f"http://127.0.0.1:{port}/step", json={}) as r:
                    assert r.status == 400
                return answers
        finally:
            await runner.cleanup()  # closes the stores (SIGTERM on Cloud Run)

    check_results(asyncio.run(serve_and_call()), "gcs")
    asyncio.run(check_landed(url, signer))
