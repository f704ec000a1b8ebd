"""``verify`` and ``keygen``: check audit streams, make a signing key.

``verify`` exits 0 when every stream checked is intact, 1 when one was tampered with
(naming the first bad sequence number), 2 on an error: an unknown or empty stream, an
unreadable bucket, or (with ``--require-signatures``) a stream whose signatures were not
verified. Signatures are reported as one of:

* ``verified with key ids [...]``: every checkpoint signature checked against a given key;
* ``NOT verified: no key given``: the log is signed, but no ``--public-key`` was given;
* ``NOT verified: a signature does not verify``: a key was given and a signature failed;
* ``unsigned log``: its checkpoints carry no signature (keyless mode) or it has none.

Cost: what ``AuditStore.verify`` reads (every entry and checkpoint object), plus one LIST
and one GET per checkpoint to name the signing key ids.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated, Any

import typer

from cloudstores.cli.common import Json, Workspace, app, execute, require_workspace, split_url
from cloudstores.cli.output import Output
from cloudstores.errors import ConfigurationError, NotFoundError
from cloudstores.keys import DEFAULT_WORKSPACE
from cloudstores.stores.audit import Ed25519Signer, chain
from cloudstores.stores.audit.kms import load_verifier
from cloudstores.stores.audit.layout import StreamKeys, validate_stream
from cloudstores.stores.audit.notes import vkey_of
from cloudstores.stores.workspace import Stores, open_stores
from cloudstores.tlog.cosignature import CosignatureVerifier

__all__ = ["keygen", "verify"]

VERIFIED, NO_KEY, BAD, UNSIGNED = (
    "verified with key ids",
    "NOT verified: no key given",
    "NOT verified: a signature does not verify",
    "unsigned log",
)


async def _key_ids(stores: Stores, stream: str) -> list[str]:
    """The key ids that signed the stream's checkpoints (empty: unsigned)."""
    keys = StreamKeys(stores.workspace, stream)
    found: set[str] = set()
    async for info in stores.bucket.list(keys.cp_prefix):
        try:
            checkpoint, _ = chain.parse_checkpoint(
                (await stores.bucket.get(info.key)).data, key=info.key
            )
        except Exception:  # verify reports a bad checkpoint itself
            continue
        if checkpoint.key_id and checkpoint.algorithm != "none":
            found.add(checkpoint.key_id)
    return sorted(found)


async def _verify_one(
    stores: Stores,
    stream: str,
    keyed: bool,
    tick: Any,
    witnesses: tuple[CosignatureVerifier, ...] = (),
    required: int = 0,
) -> dict[str, Any]:
    head = await stores.audit.head(stream)
    if head.size == 0:
        known = [s async for s in stores.audit.streams()]
        raise NotFoundError(
            f"audit stream {stream!r} has no entries in workspace {stores.workspace!r} "
            f"(streams there: {', '.join(known) if known else 'none'})"
        )
    report = await stores.audit.verify(
        stream, on_progress=tick, witnesses=witnesses, required_witnesses=required
    )
    key_ids = await _key_ids(stores, stream)
    bad_signature = any(p.kind == "bad_signature" for p in report.problems)
    if not key_ids:
        signatures = UNSIGNED
    elif not keyed:
        signatures = NO_KEY
    elif bad_signature:
        signatures = BAD
    else:
        signatures = f"{VERIFIED} [{', '.join(key_ids)}]"
    result = report.as_dict()
    result.update(
        status="ok" if report.ok else "tampered",
        signatures=signatures,
        signature_key_ids=key_ids,
        signatures_verified=signatures.startswith(VERIFIED),
    )
    return result


def _show(out: Output, results: list[dict[str, Any]]) -> None:
    for r in results:
        if r["status"] == "error":
            out.line(f"{r['stream']}: ERROR: {r['error']}", "red")
            continue
        if r["status"] == "ok":
            witnessed = ""
            if r.get("witnessed_size") is not None:
                witnessed = (
                    f"; witnessed up to {r['witnessed_size']} by {', '.join(r['witnesses'])}"
                )
            out.line(
                f"{r['stream']}: OK: {r['size']} entries, {r['checkpoints']} checkpoints, "
                f"{r['unsealed']} unsealed; signatures: {r['signatures']}{witnessed}",
                "green" if r["signatures_verified"] else "yellow",
            )
            continue
        first = r["problems"][0]
        out.line(
            f"{r['stream']}: TAMPERED at seq {r['first_bad_seq']}: {first['kind']}: "
            f"{first['detail']} ({len(r['problems'])} problem(s); signatures: {r['signatures']})",
            "bold red",
        )
        for problem in r["problems"][1:10]:
            out.line(f"  seq {problem['seq']}: {problem['kind']}: {problem['detail']}", "red")


@app.command()
def verify(
    args: Annotated[
        list[str] | None,
        typer.Argument(metavar="[URL] [STREAM]", help="one stream; all streams if left out"),
    ] = None,
    workspace: Workspace = DEFAULT_WORKSPACE,
    public_key: Annotated[
        list[Path] | None,
        typer.Option(
            "--public-key",
            "-k",
            help="public key trusted to sign checkpoints: Ed25519 (PEM or raw 32 bytes) or "
            "ECDSA P-256 PEM (a KMS key); repeat for several (key rotation)",
        ),
    ] = None,
    require_signatures: Annotated[
        bool,
        typer.Option(help="exit 2 unless every stream's signatures were verified"),
    ] = False,
    witness_key: Annotated[
        list[str] | None,
        typer.Option(
            "--witness-key",
            help="a trusted witness's verifier key (witness-keygen prints it); repeat",
        ),
    ] = None,
    require_witnesses: Annotated[
        int,
        typer.Option(
            help="tampered (exit 1) unless this many of the --witness-key witnesses "
            "cosigned a checkpoint; a witness that cosigned another history is always "
            "reported"
        ),
    ] = 0,
    json: Json = False,
) -> None:
    """Verify audit streams: every entry, link, hash, checkpoint and signature.

    Exit 0 clean, 1 tampered (names the first bad sequence number), 2 error (unknown or
    empty stream, unreadable bucket, unverified signatures with --require-signatures)."""
    out = Output(json_mode=json)

    async def main() -> tuple[bool, list[dict[str, Any]]]:
        url, rest = split_url(args, at_most=1)
        if rest:
            validate_stream(rest[0])
        verifier = load_verifier(*public_key) if public_key else None
        witnesses = tuple(CosignatureVerifier.from_vkey(k) for k in witness_key or ())
        if require_witnesses > len(witnesses) or require_witnesses < 0:
            raise ConfigurationError(
                f"--require-witnesses {require_witnesses} needs that many --witness-key"
            )
        async with open_stores(url, workspace=workspace, audit_verifier=verifier) as stores:
            await require_workspace(stores.bucket, stores.workspace)
            streams = rest or [s async for s in stores.audit.streams()]
            if not streams:
                raise NotFoundError(f"no audit streams in workspace {stores.workspace!r}")
            results = []
            for stream in streams:
                with out.progress(f"verifying {stream}", "entries") as tick:
                    try:
                        results.append(
                            await _verify_one(
                                stores,
                                stream,
                                bool(verifier),
                                tick,
                                witnesses,
                                require_witnesses,
                            )
                        )
                    except NotFoundError as exc:
                        if rest:
                            raise
                        results.append({"stream": stream, "status": "error", "error": exc.message})
            return bool(rest), results

    single, results = execute(out, main())
    if require_signatures:
        for r in results:
            if r["status"] != "error" and not r["signatures_verified"]:
                r["status"] = "error"
                r["error"] = f"--require-signatures: {r['signatures']}"
    out.result(results[0] if single else results, lambda: _show(out, results))
    statuses = {r["status"] for r in results}
    if "tampered" in statuses:
        raise typer.Exit(1)
    if "error" in statuses:
        if json:
            for r in results:
                if r["status"] == "error":
                    out.error(f"{r['stream']}: {r['error']}")
        raise typer.Exit(2)


@app.command()
def keygen(
    path: Annotated[Path, typer.Argument(help="where to write the private key (PEM)")] = Path(
        "audit.pem"
    ),
    json: Json = False,
) -> None:
    """Write a new Ed25519 signing key for audit checkpoints (PEM, mode 0600).

    Its public key goes beside it (PATH with .pub). Never overwrites a file.

    Sign with ``open_stores(url, audit_signer=Ed25519Signer.from_file(PATH))``; verify with
    ``cloudstores verify URL STREAM --public-key PATH.pub`` (docs/audit.md, docs/cli.md)."""
    out = Output(json_mode=json)

    async def main() -> dict[str, str]:
        public = path.with_suffix(".pub")
        signer = Ed25519Signer.generate()
        for target in (path, public):
            if target.exists():
                raise ConfigurationError(f"{target} exists; keygen never overwrites a key")
        for target, data, mode in (
            (path, signer.private_pem(), 0o600),
            (public, signer.public_pem(), 0o644),
        ):
            try:
                fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
            except FileExistsError:
                raise ConfigurationError(
                    f"{target} exists; keygen never overwrites a key"
                ) from None
            with os.fdopen(fd, "wb") as f:
                f.write(data)
        return {
            "private_key": str(path),
            "public_key": str(public),
            "key_id": signer.key_id,
            "note_vkey": vkey_of(signer.public_key),
        }

    result = execute(out, main())

    def human() -> None:
        out.line(f"private key: {result['private_key']} (keep it secret; mode 0600)")
        out.line(f"public key:  {result['public_key']}")
        out.line(f"key id:      {result['key_id']}")
        out.line(f"note vkey:   {result['note_vkey']} (for witnesses: --log-key)")

    out.result(result, human)
