"""``witness`` and ``witness-keygen``: cosign audit checkpoints as an independent witness.

``witness LOG_URL STREAM --state STATE_URL --key W.key --log-key KEY`` fetches the log's
newest checkpoint of STREAM, checks its consistency proof against the last checkpoint
this witness cosigned (kept in STATE_URL, the witness's own bucket), and only then
cosigns it (C2SP tlog-cosignature) and stores the cosignature beside the checkpoint.
Exit 0 cosigned or already up to date, 1 refused (a fork, a rollback, a checkpoint not
signed by a trusted log key: the reason is printed), 2 error (or a concurrent run of
the same witness advanced its state: run again).

``--log-key`` is the log's signed-note verifier key (``name+hash+base64``, printed by
``keygen``) or the path of the log's Ed25519 public key file (PEM or raw).
Cost: see :mod:`cloudstores.stores.audit.witnessing` (a few LISTs and GETs, the proof's
tiles, two PUTs).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

import cloudstores
from cloudstores.cli.common import Json, Workspace, app, execute
from cloudstores.cli.output import Output
from cloudstores.errors import ConfigurationError, InvalidInputError
from cloudstores.keys import DEFAULT_WORKSPACE
from cloudstores.stores.audit.kms import load_verifier
from cloudstores.stores.audit.layout import validate_stream
from cloudstores.stores.audit.notes import key_name, note_verifier, vkey_of
from cloudstores.stores.audit.witnessing import Witness, generate_witness_key, load_witness_key
from cloudstores.tlog.ecdsa_note import EcdsaNoteVerifier

__all__ = ["log_vkeys", "witness", "witness_keygen"]


def log_vkeys(values: list[str]) -> list[str]:
    """Each value as a signed-note vkey: a vkey string as is, a key file converted."""
    out = []
    for value in values:
        if not Path(value).exists():
            try:
                note_verifier(value)  # a vkey (checked here)
                out.append(value)
                continue
            except InvalidInputError:
                pass
        try:
            verifier = load_verifier(value)
        except Exception as exc:
            raise ConfigurationError(
                f"--log-key {value!r} is neither a note verifier key nor a readable key file"
            ) from exc
        out.extend(vkey_of(public) for public in getattr(verifier, "public_keys", {}).values())
        out.extend(
            EcdsaNoteVerifier(key_name(kid), der).vkey
            for kid, der in getattr(verifier, "ecdsa_keys", {}).items()
        )
    return out


@app.command()
def witness(
    log_url: Annotated[str, typer.Argument(help="the log's bucket URL (read, + create cosig/)")],
    stream: Annotated[str, typer.Argument(help="the audit stream to witness")],
    state: Annotated[str, typer.Option("--state", help="this witness's own bucket URL")],
    key: Annotated[Path, typer.Option("--key", help="this witness's key file (witness-keygen)")],
    log_key: Annotated[
        list[str],
        typer.Option("--log-key", help="the log's note verifier key or public key file; repeat"),
    ],
    workspace: Workspace = DEFAULT_WORKSPACE,
    json: Json = False,
) -> None:
    """Cosign the log's newest checkpoint if it extends what this witness cosigned.

    Exit 0 cosigned (or up to date), 1 refused (fork, rollback, untrusted signature),
    2 error."""
    out = Output(json_mode=json)

    async def main() -> dict[str, Any]:
        validate_stream(stream)
        signer = load_witness_key(key)
        keys = log_vkeys(log_key)
        async with (
            cloudstores.open_bucket(log_url) as log,
            cloudstores.open_bucket(state) as own,
        ):
            result = await Witness(own, signer, keys).witness(log, stream, workspace=workspace)
        return {"stream": stream, "witness": signer.name, **result.as_dict()}

    result = execute(out, main())

    def human() -> None:
        status = result["status"]
        if status == "cosigned":
            out.line(f"{stream}: cosigned checkpoint {result['size']}", "green")
        elif status == "up_to_date":
            out.line(f"{stream}: up to date (checkpoint {result['size']} already cosigned)")
        else:
            out.line(f"{stream}: {status.upper()}: {result['reason']}", "bold red")
            out.line(f"  last cosigned size: {result['cosigned_size']}")

    out.result(result, human)
    if result["status"] == "refused":
        raise typer.Exit(1)
    if result["status"] == "conflict":
        raise typer.Exit(2)


@app.command("witness-keygen")
def witness_keygen(
    name: Annotated[str, typer.Argument(help="the witness's key name, e.g. witness.example/w1")],
    path: Annotated[Path, typer.Argument(help="where to write the key (mode 0600)")] = Path(
        "witness.key"
    ),
    json: Json = False,
) -> None:
    """Write a new witness key (Ed25519, tlog-cosignature v1) and print its verifier key,
    which auditors pass to ``verify --witness-key``. Never overwrites a file."""
    out = Output(json_mode=json)

    async def main() -> dict[str, str]:
        signer = generate_witness_key(name, path)
        return {"key": str(path), "vkey": signer.verifier().vkey}

    result = execute(out, main())

    def human() -> None:
        out.line(f"witness key: {result['key']} (keep it secret; mode 0600)")
        out.line(f"verifier key: {result['vkey']}")

    out.result(result, human)
