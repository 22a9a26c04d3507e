"""Options shared by several commands."""

from __future__ import annotations

from pathlib import Path

import typer

DataOpt = typer.Option(Path("./secpipe-data"), "--data", help="Data directory (lake, WAL, DLQ, state).")
JsonOpt = typer.Option(False, "--json", help="Print one JSON object on stdout.")
