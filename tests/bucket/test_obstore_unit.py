"""The obstore engine without emulators: listing order, error translation, configuration,
retries off, and a light import path.

Listing runs on obstore's own in-process stores (MemoryStore lists in key order,
LocalStore in directory order); retries are checked against a local HTTP server that
answers every request with 500 and counts them.
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from obstore import exceptions as oe
from obstore.store import LocalStore, MemoryStore

import cloudstores
from cloudstores.bucket import Bucket
from cloudstores.bucket._obstore_stores import _parse_connection_string, store_spec
from cloudstores.bucket.errors import STATUS_TABLE, Request, error_class
from cloudstores.bucket.obstore import ObstoreDriver
from cloudstores.bucket.types import IfMatch, Version
from cloudstores.bucket.url import BucketURL
from cloudstores.errors import (
    AlreadyExistsError,
    BackendUnavailableError,
    ConfigurationError,
    NotFoundError,
    PermissionDeniedError,
    PreconditionFailedError,
    StoreError,
    StoreTimeoutError,
    ThrottledError,
)
from cloudstores.retry import RetryConfig
from tests.emulators.azurite import ACCOUNT_KEY, connection_string

SRC = str(Path(__file__).resolve().parents[2] / "src")


def memory_bucket(page_size: int = 2) -> Bucket:
    driver = ObstoreDriver(
        store=MemoryStore(), scheme="memory", name="mem", page_size=page_size, ordered=True
    )
    return Bucket(driver, prefix="pre")


async def test_round_trip_and_listing_pages_on_memory_store() -> None:
    async with memory_bucket(page_size=2) as bucket:
        keys = ["a/b/x", "a/b1", "a/b10", "a/b2", "a/c", "aa", "ab", "b"]
        for key in reversed(keys):
            await bucket.put(key, key.encode(), metadata={"k": "v"})
        obj = await bucket.get("a/b1")
        assert obj.data == b"a/b1" and dict(obj.metadata) == {"k": "v"}
        assert [i.key async for i in bucket.list()] == keys
        # a prefix that ends mid-segment: obstore lists whole segments, we filter
        assert [i.key async for i in bucket.list("a/b")] == ["a/b/x", "a/b1", "a/b10", "a/b2"]
        assert [i.key async for i in bucket.list("a", start_after="a/b2")] == ["a/c", "aa", "ab"]
        assert [i.key async for i in bucket.list("zz")] == []
        bucket.requests.clear()
        assert [i.key async for i in bucket.list("a/b1")] == ["a/b1", "a/b10"]
        # one page of two, and the next page starts past the prefix: the listing stops
        assert bucket.requests["list"] == 2


async def test_unordered_store_is_listed_sorted(tmp_path: Path) -> None:
    names = [f"d{i % 3}/k{(i * 7919) % 101:03d}" for i in range(40)]
    for name in names:
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_bytes(b"1")
    driver = ObstoreDriver(store=LocalStore(tmp_path), scheme="file", name="local", page_size=3)
    async with Bucket(driver) as bucket:
        assert [i.key async for i in bucket.list()] == sorted(names)
        assert [i.key async for i in bucket.list("d1/")] == sorted(
            n for n in names if n.startswith("d1/")
        )


class _Stream:
    """A fake obstore list stream handing out fixed chunks."""

    def __init__(self, chunks: list[list[str]]) -> None:
        self.chunks = [[_meta(p) for p in chunk] for chunk in chunks]

    def __aiter__(self) -> _Stream:
        return self

    async def __anext__(self) -> list[dict[str, Any]]:
        if not self.chunks:
            raise StopAsyncIteration
        return self.chunks.pop(0)


def _meta(path: str) -> dict[str, Any]:
    return {"path": path, "size": 1, "e_tag": "e", "version": None, "last_modified": None}


class _FakeObstore:
    def __init__(self, chunks: list[list[str]]) -> None:
        self.stream = _Stream(chunks)

    def list(self, store: Any, prefix: str | None, **kw: Any) -> _Stream:
        return self.stream


async def test_unsorted_first_page_is_sorted_and_a_later_one_refused() -> None:
    driver = ObstoreDriver(store=object(), scheme="s3", name="b", page_size=2, ordered=True)
    driver._obs = _FakeObstore([["b", "a"], ["c"]])
    items, token = await driver.list_page("", None, None)
    assert [i.key for i in items] == ["a", "b", "c"] and token is None
    driver._obs = _FakeObstore([["a", "b"], ["d", "c"]])
    items, token = await driver.list_page("", None, None)
    assert token == "b"
    with pytest.raises(StoreError, match="unordered"):
        await driver.list_page("", None, token)


def _request(op: str = "put", mode: Any = None) -> Request:
    return Request(op=op, key="k", mode=mode, bucket="b")


def _status_text(status: int, code: str) -> str:
    return (
        f"Generic S3 error: Error performing PUT http://127.0.0.1:1/b/k in 1ms - Server "
        f"returned non-2xx status code: {status} X: <Error><Code>{code}</Code></Error>"
    )


@pytest.mark.parametrize(
    ("exc", "mode", "expected"),
    [
        (oe.AlreadyExistsError("exists"), "create", AlreadyExistsError),
        (oe.PreconditionError("412"), "create", AlreadyExistsError),
        (oe.PreconditionError("412"), None, PreconditionFailedError),
        (FileNotFoundError("nope"), None, NotFoundError),
        (oe.GenericError(_status_text(404, "NoSuchBucket")), None, ConfigurationError),
        (oe.GenericError(_status_text(404, "ContainerNotFound")), None, ConfigurationError),
        (oe.GenericError(_status_text(503, "SlowDown")), None, ThrottledError),
        (oe.GenericError(_status_text(503, "ServerBusy")), None, ThrottledError),
        (oe.GenericError(_status_text(500, "InternalError")), None, BackendUnavailableError),
        (oe.GenericError(_status_text(403, "AccessDenied")), None, PermissionDeniedError),
        (
            oe.GenericError(
                "Generic S3 error: Error performing PUT http://h/b/k in 1ms - "
                "HTTP error: error sending request"
            ),
            None,
            BackendUnavailableError,
        ),
        (
            oe.GenericError(
                "Generic S3 error: Error performing PUT http://h/b/k in 1ms - "
                "HTTP error: operation timed out"
            ),
            None,
            StoreTimeoutError,
        ),
        (
            oe.GenericError(
                "Generic S3 error: Error performing PUT http://169.254.169.254/latest/"
                "api/token in 1ms - HTTP error: error sending request"
            ),
            None,
            ConfigurationError,
        ),
    ],
)
def test_translate(exc: Exception, mode: Any, expected: type[StoreError]) -> None:
    driver = ObstoreDriver(store=object(), scheme="s3", name="b")
    mapped = driver.translate(exc, _request(mode=mode))
    assert type(mapped) is expected, mapped


STATUSES = sorted({*STATUS_TABLE, 418, 500, 501, 502, 504})
MODES: list[tuple[str, Any]] = [
    ("get", None),
    ("put", "create"),
    ("put", IfMatch(Version(etag='"e"'))),
    ("put", "overwrite"),
    ("delete", None),
]


def _obstore_error(status: int, mode: Any) -> Exception:
    """The exception obstore raises for an HTTP answer ``status`` (object_store's mapping)."""
    text = (
        f"Error performing PUT http://127.0.0.1:1/bkt/pre/k in 1ms - Server returned "
        f"non-2xx status code: {status} X: secret text"
    )
    if status == 404:
        return FileNotFoundError(text)
    if status == 412:
        return oe.PreconditionError(text)
    if status == 409 and mode == "create":
        return oe.AlreadyExistsError(text)
    if status == 401:
        return oe.UnauthenticatedError(text)
    if status == 403:
        return oe.PermissionDeniedError(text)
    return oe.GenericError(text)


@pytest.mark.parametrize("status", STATUSES)
@pytest.mark.parametrize(("op", "mode"), MODES)
def test_status_rows(status: int, op: str, mode: Any) -> None:
    """Every row of the shared status table through the obstore driver's hook."""
    driver = ObstoreDriver(store=object(), scheme="s3", name="bkt")
    request = Request(op=op, key="pre/k", mode=mode, bucket="bkt", scheme="s3")
    error = driver.translate(_obstore_error(status, mode), request)
    assert type(error) is error_class(status, request), (status, op, mode, error)
    assert error.key == "pre/k" and error.bucket == "bkt"
    assert "secret text" not in str(error)


def test_missing_credentials_name_the_sources() -> None:
    driver = ObstoreDriver.from_url(BucketURL("s3://bkt/p?region=us-east-1"))
    text = (
        "Generic S3 error: Error performing PUT http://169.254.169.254/latest/api/token in "
        "1ms - Server returned non-2xx status code: 403 Forbidden: denied"
    )
    mapped = driver.translate(oe.GenericError(text), _request())
    assert isinstance(mapped, ConfigurationError)
    assert "AWS_ACCESS_KEY_ID" in str(mapped)


def test_azure_connection_strings() -> None:
    azurite = _parse_connection_string(connection_string("http://127.0.0.1:10000"))
    assert azurite == {
        "account_name": "devstoreaccount1",
        "account_key": ACCOUNT_KEY,
        "endpoint": "http://127.0.0.1:10000/devstoreaccount1",
    }
    cloud = _parse_connection_string(
        "DefaultEndpointsProtocol=https;AccountName=acct;AccountKey=a2V5;"
        "EndpointSuffix=core.windows.net"
    )
    assert cloud["endpoint"] == "https://acct.blob.core.windows.net"
    assert _parse_connection_string("UseDevelopmentStorage=true") == {"use_emulator": True}
    with pytest.raises(ConfigurationError, match="AccountKey"):
        _parse_connection_string("AccountName=acct")


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("s3://bkt/p?aws_secret_access_key=x", "credential"),
        ("s3://bkt/p?bogus=1", "bogus"),
        ("az://ctr/p", "AZURE_STORAGE_CONNECTION_STRING"),
        ("az://ctr/p?account_url=ftp://x", "https"),
        ("az://ctr/p?credential=x&account_url=https://a.blob.core.windows.net", "credential"),
        ("memory://m/p", "s3://, az:// and gs://"),
        ("s3://bkt/p?timeout=-1", "more than 0"),
    ],
)
def test_configuration_errors(url: str, message: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AZURE_STORAGE_CONNECTION_STRING", raising=False)
    with pytest.raises(ConfigurationError, match=message):
        store_spec(BucketURL(url))


def test_engine_is_chosen_by_keyword_or_url_option() -> None:
    by_option = cloudstores.open_bucket("s3://bkt/p?engine=obstore&region=us-east-1")
    by_keyword = cloudstores.open_bucket("s3://bkt/p?region=us-east-1", engine="obstore")
    assert isinstance(by_option.driver, ObstoreDriver)
    assert isinstance(by_keyword.driver, ObstoreDriver)
    assert not isinstance(cloudstores.open_bucket("s3://bkt/p").driver, ObstoreDriver)
    with pytest.raises(ConfigurationError, match="engine"):
        cloudstores.open_bucket("s3://bkt/p", engine="turbo")
    with pytest.raises(ConfigurationError):
        cloudstores.open_bucket("memory://m/p", engine="obstore")


class _Always500(BaseHTTPRequestHandler):
    hits = 0

    def _answer(self) -> None:
        type(self).hits += 1
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        body = b"<Error><Code>InternalError</Code></Error>"
        self.send_response(500)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_PUT = do_GET = do_HEAD = _answer

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def failing_server() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Always500)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


async def test_obstore_does_not_retry_by_itself(
    failing_server: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    _Always500.hits = 0
    retry = RetryConfig(max_attempts=3, initial_backoff=0.01, max_backoff=0.02)
    url = f"s3://bkt/p?endpoint_url={failing_server}&region=us-east-1"
    async with cloudstores.open_bucket(url, engine="obstore", retry=retry) as bucket:
        with pytest.raises(BackendUnavailableError):
            await bucket.put("k", b"1")
        assert bucket.requests["put"] == 3
    assert _Always500.hits == 3  # every attempt was the Bucket's own


def test_import_path_is_light() -> None:
    """``import cloudstores`` loads no SDK and no obstore; an obstore bucket loads only obstore."""
    code = """
import asyncio, json, sys
import cloudstores
heavy = ("obstore", "boto3", "botocore", "aioboto3", "aiobotocore", "azure", "google", "aiohttp")
def loaded():
    return sorted({m.split(".")[0] for m in sys.modules if m.split(".")[0] in heavy})
after_import = loaded()
bucket = cloudstores.open_bucket("s3://bkt/p?engine=obstore&region=us-east-1")
after_open_bucket = loaded()
asyncio.run(bucket.open())
print(json.dumps([after_import, after_open_bucket, loaded()]))
"""
    done = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env={"PYTHONPATH": SRC, "PATH": "/usr/bin:/bin", "HOME": "/nonexistent"},
        check=True,
    )
    after_import, after_open_bucket, after_open = json.loads(done.stdout)
    assert after_import == [] and after_open_bucket == []
    assert after_open == ["obstore"]
