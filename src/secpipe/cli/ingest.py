"""``secpipe ingest``: batch ingest of files, directories and stdin into the lake.

The command's work is :func:`secpipe.cli.ingest_run.run` (exit statuses, output and ending
are described there); this module gives typer its options. The console entry point runs the
plain forms of the command line without typer (``ingest_run.plain_args``), every other form
comes here.

Start-up: the runtime (pyarrow, the formats) is imported when the command runs, not when it is
registered (``secpipe --help`` registers every command), and rich only when something is shown:
with ``--json`` or a non-terminal stderr there is no progress bar, and ``--json`` prints no table.
"""

from __future__ import annotations

from pathlib import Path

import typer

from secpipe.cli._common import DataOrConfigOpt, JsonOpt
from secpipe.cli.ingest_run import EXIT_DEAD_LETTER, EXIT_HELP, run

__all__ = ["EXIT_HELP", "ingest", "register"]


def ingest(
    paths: list[str] = typer.Argument(..., help="Files or directories (recursively); - for stdin."),
    fmt: str = typer.Option("auto", "--format", "-f", help="Input format name, or auto to detect per file."),
    data: Path | None = DataOrConfigOpt,
    as_json: bool = JsonOpt,
    config: Path | None = typer.Option(None, "--config", "-c", help="Pipeline config: its transforms run on the batch."),
    dead_exit: int = typer.Option(EXIT_DEAD_LETTER, "--dead-letter-exit-code", min=0, max=255,
                                  help="Exit status when records were dead-lettered (0: succeed anyway)."),
) -> None:
    """Ingest files into the lake and print a summary."""
    raise typer.Exit(run(paths, fmt, data, as_json, config, dead_exit))


def register(app: typer.Typer) -> None:
    """Add the command to the app."""
    app.command("ingest", epilog=EXIT_HELP)(ingest)
