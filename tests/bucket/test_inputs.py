"""Issue 8, "Inputs", for the bucket layer: every public argument checked before any
request, URL prefixes validated like keys, C1 controls refused, secrets never shown."""

from __future__ import annotations

import traceback
from typing import Any

import pytest

import cloudstores
from cloudstores import errors
from cloudstores.bucket import BucketURL, open_bucket
from cloudstores.keys import validate_key, validate_prefix

SECRET = "hunter2SECRETxyz"
ACCOUNT_KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq" + SECRET


def shown(exc: BaseException) -> str:
    """Everything a traceback of ``exc`` would print (chained causes included)."""
    return "".join(traceback.format_exception(exc)) + repr(exc)


@pytest.mark.parametrize(
    "url",
    [
        "az://pfx/../other",
        "s3://bkt/a/../../b",
        "memory://m/a//b",
        "gs://bkt/./x",
        "memory://m/a%00b",
        "memory://m/a%C2%85b",
        "memory://m/a%C2%9Bb",
        "file:///tmp/a\x00b",
        "memory://m/a\\b",
        "memory://a%00b/p",
    ],
)
def test_bad_prefixes_are_configuration_errors(url: str) -> None:
    with pytest.raises(errors.ConfigurationError):
        open_bucket(url)


@pytest.mark.parametrize("url", ["s3://[b", "gs://[::1", "az://c]x/p", "s3://b:notaport/p"])
def test_malformed_urls_are_configuration_errors(url: str) -> None:
    with pytest.raises(errors.ConfigurationError):
        open_bucket(url, region="us-east-1")


@pytest.mark.parametrize("key", ["a\x85b", "a\x9bb", "a\x80", "\x9f", "x/\x90/y"])
def test_c1_controls_refused_in_keys_and_prefixes(key: str) -> None:
    with pytest.raises(errors.InvalidKeyError):
        validate_key(key)
    with pytest.raises(errors.InvalidKeyError):
        validate_prefix(key)


async def test_c1_controls_refused_before_any_request() -> None:
    bucket = open_bucket("memory://c1-keys")
    for key in ("a\x85b", "a\x9bb"):
        with pytest.raises(errors.InvalidKeyError):
            await bucket.put(key, b"x")
        with pytest.raises(errors.InvalidKeyError):
            await bucket.list(key).__anext__()
    assert sum(bucket.requests.values()) == 0


@pytest.mark.parametrize(
    "url",
    [
        f"s3://user:{SECRET}@bkt/p",
        f"az://{SECRET}@ctr/p",
        f"az://[c?connection_string=DefaultEndpointsProtocol=https;AccountKey={ACCOUNT_KEY}",
        f"az://ctr?connection_string=AccountKey%3D{ACCOUNT_KEY}&colour=blue",
        f"s3://bkt?aws_secret_access_key={SECRET}",
        f"az://ctr?account_url=notaurl&sas_token=sig%3D{SECRET}",
        f"az://ctr?account_url=https://a.blob.core.windows.net&sas_token={SECRET}&page_size=-1",
        f"az://ctr?connection_string=x&max_connections={SECRET}",
        f"s3://bkt?region=us-east-1&read_timeout={SECRET}",
        f"nope://u:{SECRET}@x",
        f"s3://bkt/p\x00?token={SECRET}",
    ],
)
def test_secrets_never_shown_in_errors(url: str) -> None:
    with pytest.raises(errors.ConfigurationError) as caught:
        open_bucket(url)
    assert SECRET not in shown(caught.value)


async def test_malformed_connection_string_is_not_echoed() -> None:
    bucket = open_bucket("az://ctr/p", connection_string=f"AccountKey={ACCOUNT_KEY};junk")
    assert SECRET not in repr(bucket) + bucket.url + repr(bucket.driver)
    with pytest.raises(errors.ConfigurationError) as caught:
        await bucket.open()
    assert SECRET not in shown(caught.value)


def test_secrets_not_in_repr() -> None:
    bucket = open_bucket(
        "az://ctr/p",
        account_url="https://acct.blob.core.windows.net",
        sas_token=f"sv=2024&sig={SECRET}",
    )
    assert SECRET not in repr(bucket) + bucket.url + repr(bucket.driver) + str(vars(bucket))
    parsed = BucketURL(f"az://ctr/p?sas_token={SECRET}&connection_string=AccountKey={SECRET}")
    assert SECRET not in repr(parsed)


@pytest.mark.parametrize(
    ("url", "options"),
    [
        ("s3://bkt", {"max_connections": -1}),
        ("s3://bkt", {"max_connections": 0}),
        ("s3://bkt?max_connections=-5", {}),
        ("s3://bkt?max_connections=lots", {}),
        ("s3://bkt", {"max_connections": 2.5}),
        ("s3://bkt", {"read_timeout": 0}),
        ("s3://bkt", {"connect_timeout": "nan"}),
        ("s3://bkt", {"endpoint_url": 5}),
        ("s3://bkt", {"endpoint_url": "ftp://x"}),
        ("gs://bkt?threads=0", {}),
        ("gs://bkt", {"threads": -3}),
        ("gs://bkt", {"timeout": float("inf")}),
        ("s3://bkt?page_size=0", {}),
        ("s3://bkt", {"page_size": 1001}),
        ("gs://bkt?page_size=0", {}),
        ("gs://bkt", {"page_size": 1001}),
        ("file:///tmp/x?threads=0", {}),
        ("file:///tmp/x", {"fsync": "maybe"}),
        ("memory://m", {"page_size": 0}),
        ("az://ctr?connection_string=UseDevelopmentStorage%3Dtrue&max_connections=-1", {}),
        ("az://ctr?connection_string=UseDevelopmentStorage%3Dtrue&page_size=0", {}),
        ("az://ctr?connection_string=UseDevelopmentStorage%3Dtrue&read_timeout=-1", {}),
        ("az://ctr?connection_string=UseDevelopmentStorage%3Dtrue", {"page_size": 10**9}),
        ("s3://bkt", {"engine": 3}),
    ],
)
def test_bad_options_are_configuration_errors(url: str, options: dict[str, Any]) -> None:
    with pytest.raises(errors.ConfigurationError):
        open_bucket(url, **options)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"max_in_flight": 0},
        {"max_in_flight": -1},
        {"max_in_flight": "8"},
        {"retry": "fast"},
    ],
)
def test_bad_bucket_arguments_are_invalid_input(kwargs: dict[str, Any]) -> None:
    with pytest.raises(errors.InvalidInputError):
        open_bucket("memory://args", **kwargs)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"max_attempts": 0},
        {"max_attempts": -1},
        {"max_attempts": 2.5},
        {"initial_backoff": -1},
        {"max_backoff": float("nan")},
        {"deadline": 0},
        {"request_timeout": 0},
        {"request_timeout": -5},
        {"initial_backoff": 2, "max_backoff": 1},
        {"seed": "x"},
    ],
)
def test_bad_retry_configs_are_invalid_input(kwargs: dict[str, Any]) -> None:
    with pytest.raises(errors.InvalidInputError):
        cloudstores.RetryConfig(**kwargs)


async def test_bad_put_arguments_are_invalid_input() -> None:
    bucket = open_bucket("memory://put-args")
    bad: list[dict[str, Any]] = [
        {"content_type": 5},
        {"content_type": "text/\x85plain"},
        {"content_type": ""},
        {"metadata": ["a"]},
        {"metadata": {"a": "line\nbreak"}},
        {"mode": cloudstores.IfMatch("etag")},  # type: ignore[arg-type]
    ]
    for kwargs in bad:
        with pytest.raises(errors.InvalidInputError):
            await bucket.put("k", b"x", **kwargs)
    assert sum(bucket.requests.values()) == 0
