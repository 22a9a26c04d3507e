"""``secpipe ingest``: batch ingest of files, directories and stdin (or Kafka topics: ``--kafka``) into the lake.

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
    paths: list[str] = typer.Argument(None, help="Files or directories (recursively); - for stdin."),
    fmt: str = typer.Option("auto", "--format", "-f", help="Input format name, or auto to detect per file."),
    data: Path | None = DataOrConfigOpt,
    as_json: bool = JsonOpt,
    config: Path | None = typer.Option(None, "--config", "-c", help="Pipeline config: its transforms run on the batch."),
    dead_exit: int = typer.Option(EXIT_DEAD_LETTER, "--dead-letter-exit-code", min=0, max=255,
                                  help="Exit status when records were dead-lettered (0: succeed anyway)."),
    kafka: str | None = typer.Option(None, "--kafka", help="Read Kafka topics to their end instead of files: the "
                                     "brokers (host:port,...); offsets are committed once stored."),
    topics: list[str] = typer.Option([], "--topic", help="A topic to read with --kafka (repeat it; ^regex too); "
                                     "NAME=FORMAT reads it with that format instead of --format."),
    group: str = typer.Option("secpipe-ingest", "--group", help="The consumer group of --kafka (its committed "
                              "offsets say where the next run begins)."),
    idle: float = typer.Option(10.0, "--idle", min=0.1, help="With --kafka: stop after this many seconds without "
                               "a message."),
) -> None:
    """Ingest files (or Kafka topics: --kafka) into the lake and print a summary."""
    if kafka is not None:
        if paths or not topics:
            msg = "--kafka reads topics: give --topic (one or more) and no paths"
            raise typer.BadParameter(msg)
        from secpipe.cli.ingest_kafka import run_kafka

        raise typer.Exit(run_kafka(kafka, topics, group, fmt, data, as_json, config, dead_exit, idle))
    if not paths:
        msg = "give files, directories or - for stdin (or --kafka BROKERS --topic T)"
        raise typer.BadParameter(msg)
    raise typer.Exit(run(paths, fmt, data, as_json, config, dead_exit))


def register(app: typer.Typer) -> None:
    """Add the command to the app."""
    app.command("ingest", epilog=EXIT_HELP)(ingest)
