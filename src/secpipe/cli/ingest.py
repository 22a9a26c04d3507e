"""``secpipe ingest``: batch ingest of files, directories and stdin into the lake.

Start-up: the runtime (pyarrow, the formats) is imported when the command runs, not when it is
registered (``secpipe --help`` registers every command), and rich only when something is shown:
with ``--json`` or a non-terminal stderr there is no progress bar, and ``--json`` prints no table.

Exit status (:data:`EXIT_HELP`, also in ``--help``), so a script or a CI job can tell the
outcomes apart without parsing output: 0 every record read was stored or was already in the
lake; 3 (``--dead-letter-exit-code``) at least one record was dead-lettered (the rest is
stored); 1 storing failed (disk full, I/O error: run the same command again); 2 nothing was
read because the command cannot run as given (unknown option or format, a missing or
unreadable input path, an invalid config; an input that fails half-way through reading also
ends the run with 2). ``--json`` prints its summary in every case but 2,
with the status in ``exit_code``.

Ending: once the lake and the dead letters are committed, a run without ``--config`` stages
lets the process end without the interpreter's teardown (``may_end_fast``; see cli/main.py).
"""

from __future__ import annotations

import contextlib
import gc
import sys
import time
from collections.abc import Callable
from pathlib import Path

import orjson
import typer

from secpipe.cli._common import CliError, DataOrConfigOpt, JsonOpt, data_for, may_end_fast

#: exit statuses of ``secpipe ingest`` (documented in its --help and in docs/operations.md)
EXIT_OK, EXIT_STORE_FAILED, EXIT_USAGE, EXIT_DEAD_LETTER = 0, 1, 2, 3
EXIT_HELP = (
    "Exit status: 0 every record read was stored (or was already in the lake); "
    "3 some or all records were dead-lettered, the rest is stored (see --dead-letter-exit-code); "
    "1 storing failed (disk full, I/O error): run the same command again, stored events are skipped; "
    "2 nothing was read: unknown option or format, missing or unreadable input path, invalid config."
)


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
    from secpipe import formats
    from secpipe.runtime.batch import ingest_files
    from secpipe.runtime.pipeline import Pipeline
    from secpipe.sources.files import expand

    if fmt != "auto":
        formats.get(fmt)  # fail fast on an unknown name
    files = expand(paths)
    missing = [f for f in files if f != "-" and not Path(f).exists()]
    if missing:
        typer.echo(f"error: no such file: {missing[0]} — check the path", err=True)
        raise typer.Exit(EXIT_USAGE)
    if not files:
        typer.echo(f"error: no file under {', '.join(paths)} — give files, directories that hold some, or - for stdin",
                   err=True)
        raise typer.Exit(EXIT_USAGE)
    for f in files:  # an unreadable input is refused before anything is stored, not found half-way
        _check_readable(f)
    stages = []
    max_rows, raw_data = 500_000, True
    if config:  # the config models are imported only when a config is given (startup time)
        from secpipe.config.models import load_config
        from secpipe.runtime.topology import build_stages

        cfg = load_config(config)
        data = data_for(data, cfg)
        stages = build_stages(cfg, data)
        lake = cfg.lake_options()
        max_rows, raw_data = lake.max_rows, lake.raw_data
    data = data_for(data, None)
    pipe = Pipeline(data, stages, max_rows=max_rows, raw_data=raw_data)
    total_bytes = sum(Path(f).stat().st_size for f in files if f != "-")
    t0 = time.perf_counter()
    show = sys.stderr.isatty() and not as_json
    failed: OSError | None = None
    with contextlib.ExitStack() as stack:
        advance = _progress_bar(stack, total_bytes) if show else None
        gc.disable()  # the hot path allocates no reference cycles; avoid collector passes
        try:
            ingest_files(pipe, files, fmt, progress=advance)
            pipe.flush()
        except OSError as exc:  # disk full, I/O error: what is committed stays, the rest is not
            if exc.filename is not None and str(exc.filename) in files:  # reading an input failed: exit 2
                raise
            failed = exc
        finally:
            gc.enable()
    secs = time.perf_counter() - t0
    t = pipe.totals
    exit_code = EXIT_STORE_FAILED if failed is not None else dead_exit if t.dead_letter else EXIT_OK
    summary = {
        "events": t.events,
        "stored": dict(sorted(t.stored.items())),
        "dead_letter": t.dead_letter,
        "duplicates": t.duplicates,
        "files": len(files),
        "bytes": total_bytes,
        "seconds": round(secs, 3),
        "events_per_second": round(t.events / secs, 1) if secs > 0 else 0.0,
        "exit_code": exit_code,
    }
    if failed is not None:
        summary["error"] = (f"cannot store into {data}: {failed.strerror or failed} — free space (or fix the I/O "
                            "error) and run the same command again: what is stored stays, and events already in "
                            "the lake are skipped (same metadata.uid)")  # fmt: skip
        if as_json:
            sys.stdout.write(orjson.dumps(summary).decode() + "\n")
        typer.echo(f"error: {summary['error']} ({sum(t.stored.values()):,} events committed before the failure)", err=True)
        raise typer.Exit(EXIT_STORE_FAILED)
    if not stages:  # everything is committed (lake) or fsynced (dead letters) and closed; no stage state to sync
        may_end_fast()
    if as_json:
        sys.stdout.write(orjson.dumps(summary).decode() + "\n")
        raise typer.Exit(exit_code)
    from rich.console import Console
    from rich.table import Table

    con = Console()
    con.print(f"[bold]secpipe ingest[/] — {len(files)} file(s) into {data}")
    table = Table(show_header=True)
    table.add_column("OCSF class")
    table.add_column("stored", justify="right")
    for k, v in sorted(t.stored.items()):
        table.add_row(k, f"{v:,}")
    con.print(table)
    con.print(
        f"events read {t.events:,} · stored {sum(t.stored.values()):,} · duplicates {t.duplicates:,} · "
        f"dead-lettered {t.dead_letter:,} · {secs:.2f}s · {summary['events_per_second']:,.0f} events/s",
        soft_wrap=True,
    )
    if t.dead_letter:
        if not t.stored and not t.duplicates:
            hint = "" if fmt == "auto" else f" as {fmt} (try --format auto, or see `secpipe formats`)"
            con.print(f"[yellow]nothing could be read{hint}", soft_wrap=True)
        con.print(f"[yellow]see why: secpipe query --data {data} 'SELECT source, \"offset\", reason FROM dead_letter'",
                  soft_wrap=True)
    raise typer.Exit(exit_code)


def _check_readable(path: str) -> None:
    """Raise :class:`CliError` (exit 2) when the input ``path`` cannot be opened and read."""
    if path == "-":
        return
    try:
        with open(path, "rb") as fh:
            fh.read(1)
    except OSError as exc:
        msg = f"cannot read {path}: {exc.strerror or exc} — check the path and its permissions"
        raise CliError(msg) from None


def _progress_bar(stack: contextlib.ExitStack, total_bytes: int) -> Callable[[int], None]:
    """A transient progress bar on stderr, open until ``stack`` closes; returns its advance."""
    from rich.console import Console
    from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn, TransferSpeedColumn

    bar = stack.enter_context(Progress(
        TextColumn("[bold]ingest"), BarColumn(), TransferSpeedColumn(), TimeRemainingColumn(),
        console=Console(stderr=True), transient=True,
    ))  # fmt: skip
    task = bar.add_task("ingest", total=total_bytes or None)
    return lambda n: bar.advance(task, n)


def register(app: typer.Typer) -> None:
    """Add the command to the app."""
    app.command("ingest", epilog=EXIT_HELP)(ingest)
