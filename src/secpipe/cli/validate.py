"""``secpipe validate``: check a pipeline config; every error names its key path and fix.

Besides the schema it checks the files and directories the config names (TLS certificates
and keys, threat-intel feeds, GeoIP databases, lookup tables, Sigma rules, compliance rules,
``*_file`` keys, file-source paths: :mod:`secpipe.config.paths`), resolving relative paths
against the working directory, as ``secpipe up`` does; run it from where ``up`` runs. A
file-source path with nothing there yet is a warning (the source waits for files); every
other problem is an error and exit status 1. It writes nothing and holds nothing open, so the
process ends without the interpreter's teardown (``may_end_fast``).
"""

from __future__ import annotations

from pathlib import Path

import typer

from secpipe.cli._common import may_end_fast


def validate(config: Path = typer.Argument(..., help="Pipeline config (YAML).")) -> None:
    """Check a pipeline config: its keys and values, and that the files it names exist and can be read
    (relative paths from the working directory, as `secpipe up` reads them)."""
    from secpipe.config.models import validate_file  # pydantic models: imported when the command runs
    from secpipe.config.paths import check_paths

    may_end_fast()  # it only reads; output goes through typer.echo (flushed at each line)
    cfg, errors = validate_file(config)
    if cfg is not None:
        errors, warnings = check_paths(cfg)
        for w in warnings:
            typer.echo(f"warning: {w}", err=True)
    if errors:
        for e in errors:
            typer.echo(f"error: {e}", err=True)
        typer.echo(f"{config}: {len(errors)} error(s)", err=True)
        raise typer.Exit(1)
    typer.echo(f"{config}: ok")


def register(app: typer.Typer) -> None:
    """Add the command to the app."""
    app.command("validate")(validate)
