"""``cloudstores witness-keygen``, ``witness`` and ``verify --witness-key
--require-witnesses``: a witness cosigns a clean log, refuses a rewritten one (exit 1,
saying why), and verify reports the fork."""

from __future__ import annotations

import asyncio
import json
import shutil
import subprocess
from pathlib import Path

import cloudstores
from cloudstores.stores.audit import AuditOptions, AuditStore, Ed25519Signer
from tests.cli.conftest import Run, as_json

NODE = shutil.which("node")
LOG_MJS = Path(__file__).resolve().parents[2] / "verifiers" / "js" / "log.mjs"
OPTIONS = AuditOptions(checkpoint_every=None, checkpoint_interval=None, checkpoint_on_close=False)


async def _write(url: str, signer: Ed25519Signer, tag: str, *, wipe: bool = False) -> None:
    async with cloudstores.open_bucket(url) as bucket:
        if wipe:  # the owner rewrites the stream (keeping the witness's cosignatures)
            for key in [i.key async for i in bucket.list("ws/default/audit/s/")]:
                if "/cosig/" not in key:
                    await bucket.delete(key)
        async with AuditStore(bucket, signer=signer, options=OPTIONS) as audit:
            await audit.append_many("s", [{"i": i, "tag": tag} for i in range(20)])
            await audit.checkpoint("s")


def test_witness_cli(cli: Run, tmp_path: Path) -> None:
    log_dir, state_dir = tmp_path / "log", tmp_path / "state"
    log_dir.mkdir()
    state_dir.mkdir()
    log_url, state_url = f"file://{log_dir}?fsync=false", f"file://{state_dir}?fsync=false"
    made = as_json(cli("keygen", str(tmp_path / "log.pem"), "--json"))
    signer = Ed25519Signer.from_file(tmp_path / "log.pem")
    asyncio.run(_write(log_url, signer, "first"))
    keygen = cli("witness-keygen", "witness.example/w1", str(tmp_path / "w1.key"), "--json")
    vkey = as_json(keygen)["vkey"]
    assert vkey.startswith("witness.example/w1+")
    assert cli("witness-keygen", "witness.example/w1", str(tmp_path / "w1.key")).exit_code == 2

    def run_witness(log_key: str) -> object:
        return cli(
            "witness", log_url, "s", "--state", state_url, "--key", str(tmp_path / "w1.key"),
            "--log-key", log_key,
        )  # fmt: skip

    first = run_witness(made["public_key"])  # a key file works as --log-key
    assert first.exit_code == 0 and "cosigned checkpoint 20" in first.stdout, first.output
    assert run_witness(made["note_vkey"]).exit_code == 0  # and so does the vkey
    verify = [
        "verify", log_url, "s", "-k", made["public_key"], "--witness-key", vkey,
        "--require-witnesses", "1",
    ]  # fmt: skip
    clean = cli(*verify)
    assert clean.exit_code == 0 and "witnessed up to 20 by witness.example/w1" in clean.stdout
    node_vkeys = [made["note_vkey"], vkey, "--require-witnesses=1"]
    if NODE:  # the Node verifier agrees (witness keys and quorum included)
        assert _node(log_url, node_vkeys)[:2] == (True, None)

    asyncio.run(_write(log_url, signer, "rewritten", wipe=True))
    refused = run_witness(made["note_vkey"])
    assert refused.exit_code == 1 and "REFUSED: fork" in refused.stdout, refused.output
    caught = cli(*verify)
    assert caught.exit_code == 1 and "witness_fork" in caught.stdout, caught.output
    python = as_json(cli(*verify, "--json"))
    kinds = {p["kind"] for p in python["problems"]}
    assert "witness_fork" in kinds
    if NODE:
        assert _node(log_url, node_vkeys) == (False, python["first_bad_seq"], kinds)
    # the log alone still verifies: only the witness knows the history changed
    assert cli("verify", log_url, "s", "-k", made["public_key"]).exit_code == 0
    assert cli(*verify[:-2], "--require-witnesses", "2").exit_code == 2


def _node(url: str, args: list[str]) -> tuple[bool, int | None, set[str]]:
    """The Node verifier's verdict, first bad seq and problem kinds."""
    assert NODE is not None
    run = subprocess.run(
        [NODE, str(LOG_MJS), url, "default", "s", *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert run.returncode in (0, 1), run.stderr
    report = json.loads(run.stdout)
    return report["ok"], report["first_bad_seq"], {p["kind"] for p in report["problems"]}
