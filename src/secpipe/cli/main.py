"""The ``secpipe`` command: a typer app; each command group lives in its own module.

A module registers its commands with ``register(app)``; :data:`MODULES` lists them in order.
"""

from __future__ import annotations

import importlib
import sys

import typer

from secpipe.errors import SecpipeError
from secpipe.runtime import memory

app = typer.Typer(
    name="secpipe",
    help="Security data pipeline: ingest, OCSF, lake, detect, alert.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


@app.callback()
def _root() -> None:
    """Security data pipeline: ingest, OCSF, lake, detect, alert."""


#: top-level command or group name -> the module that registers it. Running one command
#: imports only its module (``ingest`` does not pay for the HTTP server, DuckDB, alerting
#: channels...); help and unknown names register everything. A test keeps this in step
#: with what the modules register.
COMMANDS = {
    "ingest": "ingest", "query": "query", "formats": "formats_cmd", "validate": "validate", "up": "up",
    "audit": "audit_cmd", "keys": "keys_cmd", "enrich": "enrich", "intel": "enrich", "alerts": "alerts",
    "users": "access_cmd", "tokens": "access_cmd", "retention": "retention_cmd", "hunt": "rules", "rules": "rules",
    "compliance": "compliance",
}  # fmt: skip
#: command modules under secpipe.cli, each with ``register(app)``, in help order.
MODULES = list(dict.fromkeys(COMMANDS.values()))


def _register(argv: list[str] | None = None) -> None:
    """Register the command modules: only the one ``argv`` names, when it names one."""
    first = argv[0] if argv else None
    for mod in [COMMANDS[first]] if first in COMMANDS else MODULES:
        importlib.import_module(f"secpipe.cli.{mod}").register(app)


def main() -> None:
    """Entry point of the console script."""
    memory.tune()
    _register(sys.argv[1:2])
    try:
        app()
    except SecpipeError as exc:
        typer.echo(f"error: {exc}", err=True)
        sys.exit(2)


if __name__ == "__main__":
    main()
