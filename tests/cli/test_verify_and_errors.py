"""``verify`` that cannot be fooled, and errors as one literal line with exit status 2."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import pytest

import cloudstores
from cloudstores.errors import ConfigurationError
from cloudstores.testing import FAST_RETRY, FaultyBucket
from tests.cli.conftest import Run, as_json

ENTRIES = "ws/demo/audit/run-events/e/"


def one_line_error(result: Any) -> str:
    """The failure is exit 2 and exactly one line on stderr, no traceback."""
    assert result.exit_code == 2, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    assert "Traceback" not in result.output
    return str(lines[0])


async def tamper(url: str) -> int:
    """Change one event in the third entry object; return its sequence number."""
    async with cloudstores.open_bucket(url) as bucket:
        key = [i.key async for i in bucket.list(ENTRIES)][2]
        obj = await bucket.get(key)
        changed = obj.data.replace(b"step_completed", b"step_complete!", 1)
        assert changed != obj.data
        await bucket.put(key, changed, mode="overwrite")
        return int(key.rsplit("/", 1)[1].split(".")[0])


@pytest.mark.parametrize("backend", ["azure"])
def test_verify_clean_tampered_misspelled(backend: str, cli: Run, seeded: Any) -> None:
    url, _ = seeded(backend)
    clean = cli("verify", url, "run-events", "-w", "demo")
    assert clean.exit_code == 0 and "run-events: OK: 5 entries" in clean.stdout
    seq = asyncio.run(tamper(url))
    bad = cli("verify", url, "run-events", "-w", "demo")
    assert bad.exit_code == 1, bad.output
    assert f"TAMPERED at seq {seq}" in bad.stdout
    report = as_json(cli("verify", url, "-w", "demo", "--json"))
    assert report[0]["first_bad_seq"] == seq and report[0]["status"] == "tampered"
    line = one_line_error(cli("verify", url, "run-evnets", "-w", "demo"))
    assert "'run-evnets' has no entries" in line and "streams there: run-events" in line
    line = one_line_error(cli("verify", url, "run-events", "-w", "dmeo"))
    assert "workspace 'dmeo' not found" in line and "workspaces there: demo" in line


def test_bad_input_is_one_clear_line(cli: Run, tmp_path: Any) -> None:
    assert "not a bucket URL" in one_line_error(cli("ls", "s3:/bucket"))
    assert "unknown bucket scheme 'sftp'" in one_line_error(cli("ls", "sftp://host/x"))
    assert "no bucket URL" in one_line_error(cli("ls", "runs"))
    assert "is not valid" in one_line_error(cli("ls", "gs://Bad_Name"))
    assert "http://localhost:9000" in one_line_error(
        cli("ls", "s3://bucket?endpoint_url=localhost:9000")
    )
    (tmp_path / "b").mkdir()
    line = one_line_error(cli("ls", f"file://{tmp_path / 'b'}", "runs", "-w", "nope"))
    assert "workspace 'nope' not found" in line and "workspaces there: none" in line


def test_missing_credentials_name_the_sources(cli: Run) -> None:
    env: dict[str, str | None] = {
        "AWS_ACCESS_KEY_ID": None,
        "AWS_SECRET_ACCESS_KEY": None,
        "AWS_SESSION_TOKEN": None,
        "AWS_PROFILE": None,
        "AWS_CONFIG_FILE": "/nonexistent",
        "AWS_SHARED_CREDENTIALS_FILE": "/nonexistent",
        "AWS_EC2_METADATA_DISABLED": "true",
        "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI": None,
        "AWS_CONTAINER_CREDENTIALS_FULL_URI": None,
        "AWS_WEB_IDENTITY_TOKEN_FILE": None,
    }
    result = cli("ls", "s3://some-bucket?region=us-east-1&endpoint_url=http://127.0.0.1:9", env=env)
    line = one_line_error(result)
    assert "no usable AWS credentials" in line and "tried:" in line and "aws configure" in line
    env["AWS_PROFILE"] = "nosuch"
    line = one_line_error(cli("ls", "s3://some-bucket?region=us-east-1", env=env))
    assert "AWS profile 'nosuch' is not in ~/.aws/config" in line


def test_error_text_is_printed_literally(cli: Run, monkeypatch: pytest.MonkeyPatch) -> None:
    line = one_line_error(cli("ls", "s3://x[/y]/p"))
    assert "[/y]" in line
    import cloudstores.cli.browse as browse

    def no_extra(url: str) -> Any:
        raise ConfigurationError("s3:// needs its extra: pip install 'cloudstores[s3]' [/y]")

    monkeypatch.setattr(browse, "open_bucket", no_extra)
    line = one_line_error(cli("ls", "s3://bucket"))
    assert line.endswith("pip install 'cloudstores[s3]' [/y]")
    debug = cli("--debug", "ls", "s3://bucket")
    assert isinstance(debug.exception, ConfigurationError)  # --debug: the traceback


def test_retries_are_logged(caplog: pytest.LogCaptureFixture) -> None:
    async def main() -> None:
        inner = cloudstores.open_bucket("memory://retry-log")
        async with FaultyBucket(inner, before=0.5, seed=3, retry=FAST_RETRY) as flaky:
            for i in range(6):
                await flaky.put(f"k{i}", b"v")

    with caplog.at_level(logging.WARNING, logger="cloudstores"):
        asyncio.run(main())
    lines = [r.getMessage() for r in caplog.records if r.name == "cloudstores"]
    assert lines and all(line.startswith("retrying in ") for line in lines)
    assert "BackendUnavailableError: injected 503" in lines[0]


@pytest.mark.parametrize(
    ("url", "words"),
    [
        ("s3://ab", "s3:// bucket name 'ab' is not valid"),
        ("s3://my..bucket", "no '..'"),
        ("s3://192.168.1.1", "not an IP address"),
        ("s3://Upper", "lowercase"),
        ("az://a--b?connection_string=x", "no '--'"),
        ("az://under_score?connection_string=x", "container name"),
        ("gs://google-thing", "not valid"),
        ("gs://goog-bucket", "'goog'"),
        ("gs://endpoint-ok?endpoint_url=127.0.0.1:4443", "must start with https:// or http://"),
        ("az://cont?account_url=acct.blob.core.windows.net", "account_url must start"),
        ("abfs://c@acct.dfs.core.windows.net/p", "account_url=https://ACCOUNT"),
    ],
)
def test_names_and_endpoints_checked_before_any_request(url: str, words: str) -> None:
    with pytest.raises(ConfigurationError, match=words.replace("(", r"\(").replace(".", r"\.")):
        cloudstores.open_bucket(url)


def test_abfs_is_an_alias_of_az() -> None:
    bucket = cloudstores.open_bucket(
        "abfs://container/p?account_url=https://acct.blob.core.windows.net&sas_token=x"
    )
    assert type(bucket.driver).__name__ == "AzureDriver" and bucket.name == "container"
    for ok in ("s3://my-bucket.logs", "az://$root?connection_string=x", "gs://a_b.c-d"):
        cloudstores.open_bucket(ok)
