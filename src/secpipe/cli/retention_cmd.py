"""``secpipe retention``: show, set and apply per-class TTLs; legal holds. Every run is audited.

``show`` and ``apply`` take ``--config`` (its ``security.retention``) and ``--data``; the data
directory is the ``--data`` flag, else the config's ``data_dir``, else ./secpipe-data, as for
every command that takes both (``secpipe up``, ``secpipe ingest``).
"""

from __future__ import annotations

import getpass
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import orjson
import typer

from secpipe.cli._common import DataOpt, DataOrConfigOpt, JsonOpt, data_for, existing_data, lake_class

if TYPE_CHECKING:  # imported where a command runs: registering (``secpipe --help``) stays light
    from secpipe.store import retention

retention_app = typer.Typer(help="Retention: per-class TTLs, legal holds, apply.", no_args_is_help=True)
ConfigOpt = typer.Option(None, "--config", "-c", help="Pipeline config (security.retention).")


def _policy(data: Path | None, config: Path | None) -> tuple[Path, retention.RetentionPolicy]:
    """The data directory (flag > config's data_dir > default) and the effective policy."""
    from secpipe.config.models import load_config
    from secpipe.store import retention

    cfg = load_config(config) if config else None
    data = data_for(data, cfg)
    return data, retention.load_policy(data, cfg.security if cfg is not None else {})


@retention_app.command("show")
def show(data: Path | None = DataOrConfigOpt, config: Path | None = ConfigOpt) -> None:
    """Print the effective policy."""
    sys.stdout.write(_policy(data, config)[1].model_dump_json(indent=2) + "\n")


@retention_app.command("set")
def set_ttl(cls: str = typer.Argument(..., help="OCSF class name or dead_letter."),
            days: int = typer.Argument(..., min=1, help="Keep this many days."), data: Path = DataOpt) -> None:
    """Set a class TTL for this data directory."""
    from secpipe.store import retention

    retention.update_state(data, ttl=(lake_class(cls), days))
    retention.audit.record(data, getpass.getuser(), "config.change", setting="retention", cls=cls, days=days)
    typer.echo(f"{cls}: kept {days} days")


@retention_app.command("hold")
def hold(cls: str, reason: str = typer.Option(..., "--reason"), data: Path = DataOpt) -> None:
    """Put a class under legal hold: nothing of it is deleted until released."""
    from secpipe.store import retention

    retention.update_state(data, hold=lake_class(cls))
    retention.audit.record(data, getpass.getuser(), "config.change", setting="legal_hold", cls=cls, hold=True,
                           reason=reason)
    typer.echo(f"{cls}: legal hold on")


@retention_app.command("release")
def release(cls: str, data: Path = DataOpt) -> None:
    """Release a legal hold."""
    from secpipe.store import retention

    retention.update_state(data, release=cls)
    retention.audit.record(data, getpass.getuser(), "config.change", setting="legal_hold", cls=cls, hold=False)
    typer.echo(f"{cls}: legal hold released")


@retention_app.command("apply")
def apply_cmd(data: Path | None = DataOrConfigOpt, config: Path | None = ConfigOpt,
              dry_run: bool = typer.Option(False, "--dry-run", help="Report what would be deleted; delete nothing."),
              as_json: bool = JsonOpt) -> None:
    """Delete day partitions past their class TTL (not held)."""
    from secpipe.store import retention

    where, policy = _policy(data, config)
    res = retention.apply(existing_data(where), policy, dry_run=dry_run, actor=getpass.getuser())
    if as_json:
        sys.stdout.write(orjson.dumps(res.summary()).decode() + "\n")
        return
    verb = "would delete" if dry_run else "deleted"
    for p in res.deleted:
        typer.echo(f"{verb} {p.cls} {p.day} ({p.files} file(s), {p.bytes} bytes)")
    for p in res.held:
        typer.echo(f"kept {p.cls} {p.day}: legal hold")
    typer.echo(f"{len(res.deleted)} partition(s) {verb}, {len(res.held)} held")


def register(app: typer.Typer) -> None:
    """Add the command group to the app."""
    app.add_typer(retention_app, name="retention")
