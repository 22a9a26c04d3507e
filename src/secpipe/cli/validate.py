"""``secpipe validate``: check a pipeline config; every error names its key path and fix."""

from __future__ import annotations

from pathlib import Path

import typer


def validate(config: Path = typer.Argument(..., help="Pipeline config (YAML).")) -> None:
    """Check a pipeline config."""
    from secpipe.config.models import validate_file  # pydantic models: imported when the command runs
    _cfg, errors = validate_file(config)
    if errors:
        for e in errors:
            typer.echo(f"error: {e}", err=True)
        typer.echo(f"{config}: {len(errors)} error(s)", err=True)
        raise typer.Exit(1)
    typer.echo(f"{config}: ok")


def register(app: typer.Typer) -> None:
    """Add the command to the app."""
    app.command("validate")(validate)
