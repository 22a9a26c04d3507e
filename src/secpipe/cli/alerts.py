"""``secpipe alerts``: the alert outbox (dead letters, replay), silences, playbook approvals.

``secpipe alerts`` (or ``secpipe alerts list``) lists outbox entries (``--state dead`` for the dead-letter list);
``replay ID`` sends a dead entry again; ``ack ID`` acknowledges a PagerDuty alert group; ``approve ID`` / ``reject ID`` decide on a playbook
job waiting for approval; ``silence add|list|expire`` manage silences. Every change is
written to the audit log with ``--actor`` (default: $USER) as the actor. Works while
``secpipe up`` runs (the store is SQLite in WAL mode; the running workers pick changes up).
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

from secpipe.cli._common import DataOpt, JsonOpt, existing_data

alerts_app = typer.Typer(help="Alert outbox, dead letters, replay, silences, playbook approvals.")
silence_app = typer.Typer(help="Silences: mute matching alerts until they expire.", no_args_is_help=True)
alerts_app.add_typer(silence_app, name="silence")
ActorOpt = typer.Option(None, "--actor", help="Who acts (audit log); default: the login name.")
StateOpt = typer.Option(None, "--state", help="Only entries in this state (pending, dead, approval ...).")
LimitOpt = typer.Option(50, "--limit", help="Newest N entries.")


def _actor(actor: str | None) -> str:
    return actor or getpass.getuser() or "cli"


def _ts(ms: int) -> str:
    return dt.datetime.fromtimestamp(ms / 1000, dt.UTC).strftime("%Y-%m-%d %H:%M:%S") if ms else "-"


def _out(obj: object) -> None:
    sys.stdout.write(orjson.dumps(obj).decode() + "\n")


@alerts_app.callback(invoke_without_command=True)
def alerts(
    ctx: typer.Context,
    data: Path = DataOpt,
    state: str | None = StateOpt,
    limit: int = LimitOpt,
    as_json: bool = JsonOpt,
) -> None:
    """List outbox entries and counts per state (dead letters: --state dead)."""
    if ctx.invoked_subcommand is None:
        _list(data, state, limit, as_json)


@alerts_app.command("list")
def list_cmd(data: Path = DataOpt, state: str | None = StateOpt, limit: int = LimitOpt, as_json: bool = JsonOpt) -> None:
    """List outbox entries and counts per state (same as `secpipe alerts`)."""
    _list(data, state, limit, as_json)


def _list(data: Path, state: str | None, limit: int, as_json: bool) -> None:
    from secpipe.respond import admin
    res = admin.outbox_summary(existing_data(data), state=state, limit=limit)
    if as_json:
        _out(res)
        return
    con = Console()
    con.print("outbox: " + (", ".join(f"{k} {v}" for k, v in sorted(res["counts"].items())) or "empty"))
    table = Table("id", "queue", "kind", "state", "attempts", "created (UTC)", "status / last error")
    for r in res["entries"]:
        p = r["payload"]
        what = p.get("status", "") if r["kind"] == "notify" else p.get("playbook", "")
        table.add_row(str(r["id"]), r["queue"], r["kind"], r["state"], str(r["attempts"]), _ts(r["created_ms"]),
                      f"{what} {r['last_error']}".strip())
    con.print(table)


@alerts_app.command("replay")
def replay(row_id: int = typer.Argument(..., help="Outbox entry id (from `secpipe alerts --state dead`)."),
           data: Path = DataOpt, actor: str | None = ActorOpt) -> None:
    """Send a dead-lettered entry again (attempts reset)."""
    from secpipe.respond import admin
    r = admin.replay(existing_data(data), row_id, _actor(actor))
    typer.echo(f"entry {r['id']} ({r['queue']}) is pending again")


@alerts_app.command("ack")
def ack(row_id: int = typer.Argument(..., help="A PagerDuty notification entry id."), data: Path = DataOpt,
        actor: str | None = ActorOpt) -> None:
    """Acknowledge the PagerDuty alert of that notification's group (queued like any delivery)."""
    from secpipe.respond import admin
    r = admin.acknowledge(existing_data(data), row_id, _actor(actor))
    typer.echo(f"acknowledge queued as entry {r['id']} ({r['queue']})")


@alerts_app.command("approve")
def approve(row_id: int = typer.Argument(..., help="Playbook job id."), data: Path = DataOpt,
            actor: str | None = ActorOpt) -> None:
    """Approve a playbook job that waits for approval (it runs next)."""
    from secpipe.respond import admin
    r = admin.decide(existing_data(data), row_id, True, _actor(actor))
    typer.echo(f"job {r['id']} ({r['queue']}) approved")


@alerts_app.command("reject")
def reject(row_id: int = typer.Argument(..., help="Playbook job id."), data: Path = DataOpt,
           actor: str | None = ActorOpt) -> None:
    """Reject a playbook job that waits for approval (it never runs)."""
    from secpipe.respond import admin
    r = admin.decide(existing_data(data), row_id, False, _actor(actor))
    typer.echo(f"job {r['id']} ({r['queue']}) rejected")


def _pairs(items: list[str], opt: str) -> dict[str, list[str] | str]:
    out: dict[str, list[str] | str] = {}
    for it in items:
        k, sep, v = it.partition("=")
        if not sep or not k:
            msg = f"{opt} {it!r}: write LABEL=VALUE, e.g. {opt} rule=ssh-brute-force"
            raise typer.BadParameter(msg)
        out[k] = v
    return out


@silence_app.command("add")
def silence_add(
    match: list[str] = typer.Option([], "--match", "-m", help="LABEL=VALUE (repeatable; all must hold)."),
    match_re: list[str] = typer.Option([], "--match-re", help="LABEL=REGEX (full match; repeatable)."),
    duration: str = typer.Option("2h", "--duration", help="How long, e.g. 30m, 2h, 1d."),
    comment: str = typer.Option(..., "--comment", help="Why (goes to the audit log)."),
    data: Path = DataOpt,
    actor: str | None = ActorOpt,
    as_json: bool = JsonOpt,
) -> None:
    """Silence alerts whose labels match."""
    from secpipe.respond import admin
    s = admin.add_silence(data, _pairs(match, "--match"), _pairs(match_re, "--match-re"), duration, comment, _actor(actor))
    if as_json:
        _out(s)
    else:
        typer.echo(f"silence {s['id']} active until {_ts(s['ends_ms'])} UTC")


@silence_app.command("list")
def silence_list(data: Path = DataOpt, all_: bool = typer.Option(False, "--all", help="Include expired silences."),
                 as_json: bool = JsonOpt) -> None:
    """List active silences (--all: expired too)."""
    from secpipe.respond import admin
    rows = admin.list_silences(existing_data(data), active=not all_)
    if as_json:
        _out(rows)
        return
    table = Table("id", "matchers", "ends (UTC)", "by", "comment")
    for s in rows:
        table.add_row(s["id"], orjson.dumps(s["matchers"]).decode(), _ts(s["ends_ms"]), s["created_by"], s["comment"])
    Console().print(table)


@silence_app.command("expire")
def silence_expire(sid: str = typer.Argument(..., help="Silence id."), data: Path = DataOpt,
                   actor: str | None = ActorOpt) -> None:
    """End a silence now."""
    from secpipe.respond import admin
    admin.expire_silence(data, sid, _actor(actor))
    typer.echo(f"silence {sid} expired")


def register(app: typer.Typer) -> None:
    """Add the command group to the app."""
    app.add_typer(alerts_app, name="alerts")
