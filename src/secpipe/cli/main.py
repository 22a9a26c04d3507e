"""The ``secpipe`` command: a typer app; each command group lives in its own module.

A module registers its commands with ``register(app)``; :data:`MODULES` lists them in order.
"""

from __future__ import annotations

import importlib
import sys

import typer

from secpipe.errors import SecpipeError

app = typer.Typer(
    name="secpipe",
    help="Security data pipeline: ingest, OCSF, lake, detect, alert.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

#: command modules under secpipe.cli, each with ``register(app)``.
MODULES = ["ingest", "query", "formats_cmd", "validate", "up", "audit_cmd", "keys_cmd", "enrich", "alerts",
           "access_cmd", "retention_cmd", "rules", "compliance"]


def _register() -> None:
    for mod in MODULES:
        importlib.import_module(f"secpipe.cli.{mod}").register(app)


def main() -> None:
    """Entry point of the console script."""
    _register()
    try:
        app()
    except SecpipeError as exc:
        typer.echo(f"error: {exc}", err=True)
        sys.exit(2)


if __name__ == "__main__":
    main()
