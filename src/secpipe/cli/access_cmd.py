"""``secpipe users`` and ``secpipe tokens``: who may use the API, with which role.

Tokens are shown once at creation; only their SHA-256 is stored. Every change is audited
(actor = ``$USER`` of the shell running the command).
"""

from __future__ import annotations

import datetime as dt
import getpass
import sys
from pathlib import Path

import orjson
import typer
from rich.console import Console
from rich.table import Table

from secpipe.cli._common import DataOpt, JsonOpt

users_app = typer.Typer(help="Users and their roles (admin, analyst, viewer, ingest, auditor).", no_args_is_help=True)
tokens_app = typer.Typer(help="API and ingest tokens: create (shown once), list, revoke.", no_args_is_help=True)


def _actor() -> str:
    return getpass.getuser()


def _when(ts: float) -> str:
    return dt.datetime.fromtimestamp(ts, dt.UTC).strftime("%Y-%m-%d %H:%M")


@users_app.command("add")
def users_add(name: str, role: str = typer.Option(..., "--role", help="admin, analyst, viewer, ingest or auditor."),
              data: Path = DataOpt) -> None:
    """Add a user."""
    from secpipe.security.users import UserStore
    UserStore(data).add(name, role, _actor())
    typer.echo(f"user {name} added with role {role}; create a token: secpipe tokens create --user {name}")


@users_app.command("list")
def users_list(data: Path = DataOpt, as_json: bool = JsonOpt) -> None:
    """List users."""
    from secpipe.security.users import UserStore
    users = UserStore(data).list()
    if as_json:
        sys.stdout.write(orjson.dumps(users).decode() + "\n")
        return
    table = Table("user", "role", "created (UTC)")
    for u in users:
        table.add_row(u["name"], u["role"], _when(u["created"]))
    Console().print(table)


@users_app.command("set-role")
def users_set_role(name: str, role: str = typer.Option(..., "--role"), data: Path = DataOpt) -> None:
    """Change a user's role (their tokens follow)."""
    from secpipe.security.users import UserStore
    n = UserStore(data).set_role(name, role, _actor())
    typer.echo(f"user {name} is now {role} ({n} token(s) updated)")


@users_app.command("remove")
def users_remove(name: str, data: Path = DataOpt) -> None:
    """Remove a user and revoke their tokens."""
    from secpipe.security.users import UserStore
    n = UserStore(data).remove(name, _actor())
    typer.echo(f"user {name} removed, {n} token(s) revoked")


@tokens_app.command("create")
def tokens_create(
    user: str | None = typer.Option(None, "--user", help="Token for this user (gets the user's role)."),
    ingest: bool = typer.Option(False, "--ingest", help="An ingest-only token (use with --source)."),
    source: str | None = typer.Option(None, "--source", help="Source the ingest token belongs to."),
    name: str | None = typer.Option(None, "--name", help="Token name (service accounts: with --role)."),
    role: str | None = typer.Option(None, "--role", help="Role of a service-account token."),
    data: Path = DataOpt,
) -> None:
    """Create a token and print it once."""
    from secpipe.security.users import UserStore
    store = UserStore(data)
    if user:
        tok = store.create_token(user=user, actor=_actor())
    elif ingest:
        if not source:
            typer.echo("error: --ingest needs --source NAME (the sender this token belongs to)", err=True)
            raise typer.Exit(2)
        tok = store.create_token(source=source, name=name, actor=_actor())
    else:
        if not (name and role):
            typer.echo("error: give --user NAME, --ingest --source NAME, or --name NAME --role ROLE", err=True)
            raise typer.Exit(2)
        tok = store.create_token(name=name, role=role, actor=_actor())
    Console(stderr=True).print("[bold]Token (shown only now; secpipe keeps only its hash):")
    typer.echo(tok)


@tokens_app.command("list")
def tokens_list(data: Path = DataOpt, as_json: bool = JsonOpt) -> None:
    """List tokens (ids, names, roles; never secrets)."""
    from secpipe.security.users import UserStore
    toks = UserStore(data).tokens.list()
    rows = [{"id": t.id, "name": t.name, "role": t.role, "source": t.source, "created": t.created} for t in toks]
    if as_json:
        sys.stdout.write(orjson.dumps(rows).decode() + "\n")
        return
    table = Table("id", "name", "role", "source", "created (UTC)")
    for t in toks:
        table.add_row(t.id, t.name, t.role, t.source or "", _when(t.created))
    Console().print(table)


@tokens_app.command("revoke")
def tokens_revoke(token_id: str = typer.Argument(..., help="Token id (the 8 hex chars after sp_), or the whole token."),
                  data: Path = DataOpt) -> None:
    """Revoke a token."""
    from secpipe.security.users import UserStore
    if token_id.startswith("sp_") and token_id.count("_") >= 2:  # a pasted token: its id is the part after sp_
        token_id = token_id.split("_", 2)[1]
    if not UserStore(data).revoke_token(token_id, _actor()):
        typer.echo(f"error: no token with id {token_id} — see `secpipe tokens list`", err=True)
        raise typer.Exit(1)
    typer.echo(f"token {token_id} revoked")


def register(app: typer.Typer) -> None:
    """Add the command groups to the app."""
    app.add_typer(users_app, name="users")
    app.add_typer(tokens_app, name="tokens")
