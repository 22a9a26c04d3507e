"""``secpipe audit``: show the audit log, verify its hash chain and signatures, make a signing key."""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path

import orjson
import typer
from rich.console import Console
from rich.table import Table

from secpipe.cli._common import CliError, DataOpt, JsonOpt, existing_data

audit_app = typer.Typer(help="Tamper-evident audit log: show, verify, keygen.", no_args_is_help=True)


@audit_app.command("show")
def show(
    data: Path = DataOpt,
    action: str | None = typer.Option(None, "--action", help="Only entries whose action starts with this."),
    actor: str | None = typer.Option(None, "--actor", help="Only entries of this actor."),
    limit: int = typer.Option(100, "--limit", help="Show the last N matching entries (0 = all)."),
    as_json: bool = JsonOpt,
) -> None:
    """List audit entries, oldest first."""
    from secpipe.security.audit import AuditLog
    rows = [e for e in AuditLog(existing_data(data), from_env=False).entries()
            if (action is None or str(e.get("action", "")).startswith(action))
            and (actor is None or e.get("actor") == actor)]
    if limit:
        rows = rows[-limit:]
    if as_json:
        sys.stdout.write(orjson.dumps(rows).decode() + "\n")
        return
    table = Table("seq", "time (UTC)", "actor", "action", "details")
    for e in rows:
        ts = dt.datetime.fromtimestamp(e.get("ts", 0) / 1000, dt.UTC).strftime("%Y-%m-%d %H:%M:%S")
        table.add_row(str(e.get("seq")), ts, str(e.get("actor")), str(e.get("action")),
                      orjson.dumps(e.get("details", {})).decode())
    Console().print(table)


@audit_app.command("verify")
def verify_cmd(
    data: Path = DataOpt,
    public_key: Path | None = typer.Option(None, "--public-key", help="Ed25519 public key: also check signatures."),
    as_json: bool = JsonOpt,
) -> None:
    """Check the hash chain (and signatures); exit 1 and say where when anything was altered."""
    from secpipe.security.audit import load_public_key, verify
    res = verify(existing_data(data), load_public_key(public_key) if public_key else None)
    if as_json:
        sys.stdout.write(orjson.dumps({"ok": res.ok, "entries": res.entries, "signed": res.signed,
                                       "problems": res.problems}).decode() + "\n")
    elif res.ok:
        typer.echo(f"audit log ok: {res.entries} entries, chain intact"
                   + (f", {res.signed} signatures valid" if public_key else ""))
    else:
        for p in res.problems:
            typer.echo(f"TAMPERED: {p}", err=True)
        typer.echo(f"audit log FAILED verification: {len(res.problems)} problem(s) in {res.entries} entries", err=True)
    if not res.ok:
        raise typer.Exit(1)


@audit_app.command("keygen")
def keygen(
    private: Path = typer.Argument(..., help="Where to write the private key (mode 0600); set SECPIPE_AUDIT_KEY to it."),
    public: Path = typer.Argument(..., help="Where to write the public key (for `audit verify --public-key`)."),
) -> None:
    """Create an Ed25519 key pair for signing audit entries."""
    from secpipe.security.audit import generate_keypair
    for p in (private, public):
        if p.exists():
            msg = f"{p} exists — keygen never overwrites a key (entries signed with it would no longer verify); give new paths"
            raise CliError(msg)
    generate_keypair(private, public)
    typer.echo(f"wrote {private} (keep secret; export SECPIPE_AUDIT_KEY={private}) and {public}")


def register(app: typer.Typer) -> None:
    """Add the command group to the app."""
    app.add_typer(audit_app, name="audit")
