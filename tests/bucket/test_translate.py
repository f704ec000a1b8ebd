"""Every row of the status table through every cloud driver's translate() hook.

No emulator: the SDKs' own exception objects are built here (botocore ClientError,
azure-core HttpResponseError as the storage SDK shapes it, google-api-core errors), as
are their connection-level exceptions, which must all be transient and ambiguous.
"""

from __future__ import annotations

import http.client
from collections.abc import Callable
from typing import Any

import pytest

from cloudstores import errors
from cloudstores.bucket.driver import Driver
from cloudstores.bucket.errors import STATUS_TABLE, Request, error_class, error_for_status
from cloudstores.bucket.types import IfMatch, PutMode, Version

STATUSES = sorted({*STATUS_TABLE, 418, 500, 501, 502, 504})
MODES: list[tuple[str, PutMode | None]] = [
    ("get", None),
    ("put", "create"),
    ("put", IfMatch(Version(etag='"e"', version="1"))),
    ("put", "overwrite"),
    ("delete", None),
]


def s3_driver() -> Driver:
    from cloudstores.bucket.s3 import S3Driver

    return S3Driver("bkt")


def azure_driver() -> Driver:
    from cloudstores.bucket.azure import AzureDriver

    return AzureDriver("ctr", connection_string="UseDevelopmentStorage=true")


def gcs_driver() -> Driver:
    from cloudstores.bucket.gcs import GCSDriver

    return GCSDriver("bkt")


def s3_status(status: int, code: str = "") -> Exception:
    from botocore.exceptions import ClientError

    return ClientError(
        {
            "Error": {"Code": code or str(status), "Message": "secret text"},
            "ResponseMetadata": {"HTTPStatusCode": status},
        },
        "PutObject",
    )


class _AzureResponse:
    def __init__(self, status: int, code: str) -> None:
        self.status_code = status
        self.reason = "reason"
        self.headers = {"x-ms-error-code": code} if code else {}
        self.content_type = "application/xml"

    def text(self, encoding: str | None = None) -> str:
        return ""


def azure_status(status: int, code: str = "") -> Exception:
    """The exception the storage SDK raises for this answer (process_storage_error)."""
    from azure.core.exceptions import HttpResponseError
    from azure.storage.blob._shared.response_handlers import process_storage_error

    raw = HttpResponseError(message="secret text", response=_AzureResponse(status, code))
    try:
        process_storage_error(raw)
    except Exception as exc:  # the typed error the SDK would raise
        return exc
    return raw  # pragma: no cover


def gcs_status(status: int, code: str = "") -> Exception:
    from google.api_core import exceptions as gexc

    error: Exception = gexc.from_http_status(status, "secret text")
    return error


DRIVERS: dict[str, tuple[Callable[[], Driver], Callable[..., Exception]]] = {
    "s3": (s3_driver, s3_status),
    "azure": (azure_driver, azure_status),
    "gcs": (gcs_driver, gcs_status),
}


def request(op: str, mode: PutMode | None) -> Request:
    return Request(op, "pre/k", mode, "bkt", "s3")


@pytest.mark.parametrize("cloud", sorted(DRIVERS))
@pytest.mark.parametrize("status", STATUSES)
@pytest.mark.parametrize(("op", "mode"), MODES)
def test_status_rows(cloud: str, status: int, op: str, mode: PutMode | None) -> None:
    make_driver, make_error = DRIVERS[cloud]
    req = request(op, mode)
    error = make_driver().translate(make_error(status), req)
    expected = error_class(status, req)
    if cloud == "gcs" and status == 404 and op == "put":
        expected = errors.ConfigurationError  # GCS: 404 on an upload is a missing bucket
    assert type(error) is expected, (cloud, status, op, mode, error)
    assert error.key == "pre/k" and error.bucket == "bkt"
    assert "secret text" not in str(error)


def test_table_rows() -> None:
    create = request("put", "create")
    cas = request("put", IfMatch(Version(etag="e")))
    assert type(error_for_status(409, "", create)) is errors.AlreadyExistsError
    assert type(error_for_status(412, "", create)) is errors.AlreadyExistsError
    assert type(error_for_status(412, "", cas)) is errors.PreconditionFailedError
    assert type(error_for_status(409, "", cas)) is errors.ConflictError
    assert type(error_for_status(400, "", cas)) is errors.InvalidInputError
    assert type(error_for_status(413, "", cas)) is errors.PayloadTooLargeError
    assert type(error_for_status(503, "", cas)) is errors.ThrottledError
    assert type(error_for_status(502, "", cas)) is errors.BackendUnavailableError
    assert type(error_for_status(418, "", cas)) is errors.StoreError


SPECIFIC: list[tuple[str, int, str, type[errors.StoreError]]] = [
    ("s3", 404, "NoSuchBucket", errors.ConfigurationError),
    ("s3", 404, "NoSuchKey", errors.NotFoundError),
    ("s3", 503, "SlowDown", errors.ThrottledError),
    ("s3", 400, "RequestTimeout", errors.StoreTimeoutError),
    ("s3", 403, "AccessDenied", errors.PermissionDeniedError),
    ("s3", 409, "ConditionalRequestConflict", errors.BackendUnavailableError),
    ("azure", 404, "ContainerNotFound", errors.ConfigurationError),
    ("azure", 404, "BlobNotFound", errors.NotFoundError),
    ("azure", 503, "ServerBusy", errors.ThrottledError),
    ("azure", 500, "OperationTimedOut", errors.StoreTimeoutError),
    ("azure", 409, "BlobAlreadyExists", errors.AlreadyExistsError),
    ("azure", 412, "ConditionNotMet", errors.PreconditionFailedError),
    ("azure", 403, "AuthenticationFailed", errors.PermissionDeniedError),
]


@pytest.mark.parametrize(("cloud", "status", "code", "expected"), SPECIFIC)
def test_sdk_specific_codes(
    cloud: str, status: int, code: str, expected: type[errors.StoreError]
) -> None:
    make_driver, make_error = DRIVERS[cloud]
    error = make_driver().translate(make_error(status, code), request("put", "overwrite"))
    assert type(error) is expected, error


def _s3_connection_errors() -> list[Exception]:
    import aiohttp
    from botocore.exceptions import (
        ConnectionClosedError,
        EndpointConnectionError,
        HTTPClientError,
        ResponseStreamingError,
    )

    return [
        ConnectionClosedError(endpoint_url="http://x"),
        EndpointConnectionError(endpoint_url="http://x"),
        ResponseStreamingError(error=ValueError("cut")),
        HTTPClientError(error="reset"),
        aiohttp.ServerDisconnectedError(),
        aiohttp.ClientOSError(),
        aiohttp.ClientPayloadError("cut"),
        ConnectionResetError(),
    ]


def _azure_connection_errors() -> list[Exception]:
    import aiohttp
    from azure.core.exceptions import (
        IncompleteReadError,
        ServiceRequestError,
        ServiceResponseError,
    )

    return [
        ServiceResponseError("lost"),
        ServiceRequestError("refused"),
        IncompleteReadError("cut"),
        aiohttp.ServerDisconnectedError(),
        aiohttp.ClientOSError(),
        ConnectionResetError(),
    ]


def _gcs_connection_errors() -> list[Exception]:
    import requests
    import urllib3.exceptions
    from google.auth.exceptions import TransportError

    return [
        requests.ConnectionError("reset"),
        requests.exceptions.ChunkedEncodingError(),
        urllib3.exceptions.ProtocolError("cut"),
        http.client.RemoteDisconnected("gone"),
        http.client.IncompleteRead(b""),
        TransportError("x"),
        ConnectionResetError(),
    ]


def _timeouts(cloud: str) -> list[Exception]:
    if cloud == "s3":
        from botocore.exceptions import ReadTimeoutError

        return [ReadTimeoutError(endpoint_url="http://x"), TimeoutError()]
    if cloud == "azure":
        from azure.core.exceptions import ServiceResponseTimeoutError

        return [ServiceResponseTimeoutError("slow"), TimeoutError()]
    import requests

    return [requests.ReadTimeout(), TimeoutError()]


CONNECTION: dict[str, Callable[[], list[Exception]]] = {
    "s3": _s3_connection_errors,
    "azure": _azure_connection_errors,
    "gcs": _gcs_connection_errors,
}


@pytest.mark.parametrize("cloud", sorted(DRIVERS))
def test_connection_errors_are_transient_and_ambiguous(cloud: str) -> None:
    driver = DRIVERS[cloud][0]()
    for exc in CONNECTION[cloud]():
        error = driver.translate(exc, request("put", "create"))
        assert type(error) is errors.BackendUnavailableError, (cloud, exc, error)
        assert "may have been applied" in str(error)
    for exc in _timeouts(cloud):
        assert type(driver.translate(exc, request("get", None))) is errors.StoreTimeoutError


@pytest.mark.parametrize("cloud", sorted(DRIVERS))
def test_unknown_exceptions_are_store_errors(cloud: str) -> None:
    error: Any = DRIVERS[cloud][0]().translate(RuntimeError("secret"), request("get", None))
    assert type(error) is errors.StoreError
    assert "secret" not in str(error)
