"""The work of ``secpipe ingest``, and its plain command lines read without typer.

:func:`run` is the command (cli/ingest.py gives typer its options and calls it). The console
entry point (cli/main.py) reads the plain forms of an ingest command line itself
(:func:`plain_args`: paths, ``--json``, ``--data DIR``, ``--format/-f NAME``, ``--config/-c
FILE``, ``--dead-letter-exit-code N``, each option once, a value not starting with ``-``) and
runs :func:`run` without importing typer (~65 M instructions, ~20 ms of a 2 s ingest); any
other line (``--help``, ``--data=DIR``, an unknown or repeated option, a value out of range,
``--``) goes to typer, which reads it as always. Same outcome either way: the same output,
exit status and files (tests/unit/test_cli_ingest_plain_s20.py runs both).

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
from typing import Any

from secpipe.cli._base import CliError, data_for, echo_err, may_end_fast

#: exit statuses of ``secpipe ingest`` (documented in its --help and in docs/operations.md)
EXIT_OK, EXIT_STORE_FAILED, EXIT_USAGE, EXIT_DEAD_LETTER = 0, 1, 2, 3
EXIT_HELP = (
    "Exit status: 0 every record read was stored (or was already in the lake); "
    "3 some or all records were dead-lettered, the rest is stored (see --dead-letter-exit-code); "
    "1 storing failed (disk full, I/O error): run the same command again, stored events are skipped; "
    "2 nothing was read: unknown option or format, missing or unreadable input path, invalid config."
)

#: option -> (parameter of :func:`run`, takes a value); the plain forms :func:`plain_args` reads
_OPTIONS = {"--format": ("fmt", True), "-f": ("fmt", True), "--data": ("data", True), "--json": ("as_json", False),
            "--config": ("config", True), "-c": ("config", True), "--dead-letter-exit-code": ("dead_exit", True)}  # fmt: skip


def pipeline_setup(config: Path | None, data: Path | None) -> tuple[Path, list[Any], int, bool]:
    """(data directory, stages, lake rows a part, whether raw_data is kept) of an ingest run: the
    config's when one is given (its models imported only then: startup time), else the defaults."""
    if not config:
        return data_for(data, None), [], 500_000, True
    from secpipe.config.models import load_config
    from secpipe.runtime.topology import build_stages

    cfg = load_config(config)
    data = data_for(data, cfg)
    lake = cfg.lake_options()
    return data, build_stages(cfg, data), lake.max_rows, lake.raw_data

def plain_args(argv: list[str]) -> dict[str, Any] | None:
    """The arguments of :func:`run` for an ingest command line (after ``ingest``) in a plain form,
    as typer would give them; None for any other line (typer reads it)."""
    out: dict[str, Any] = {"paths": [], "fmt": "auto", "data": None, "as_json": False, "config": None,
                           "dead_exit": EXIT_DEAD_LETTER}  # fmt: skip
    seen: set[str] = set()
    it = iter(argv)
    for arg in it:
        if arg == "-" or not arg.startswith("-"):
            out["paths"].append(arg)
            continue
        opt = _OPTIONS.get(arg)
        if opt is None or opt[0] in seen:
            return None
        name, takes = opt
        seen.add(name)
        if not takes:
            out[name] = True
            continue
        value = next(it, None)
        if value is None or value.startswith("-") or not value:
            return None
        if name == "dead_exit":
            if not (value.isascii() and value.isdigit()) or int(value) > 255:
                return None
            out[name] = int(value)
        elif name in ("data", "config"):
            out[name] = Path(value)
        else:
            out[name] = value
    return out if out["paths"] else None


def run(paths: list[str], fmt: str = "auto", data: Path | None = None, as_json: bool = False,
        config: Path | None = None, dead_exit: int = EXIT_DEAD_LETTER) -> int:
    """Ingest files into the lake and print a summary; returns the exit status."""
    from secpipe import formats
    from secpipe.runtime.batch import ingest_files
    from secpipe.runtime.pipeline import Pipeline
    from secpipe.sources.files import expand

    if fmt != "auto":
        formats.get(fmt)  # fail fast on an unknown name
    files = expand(paths)
    missing = [f for f in files if f != "-" and not Path(f).exists()]
    if missing:
        echo_err(f"error: no such file: {missing[0]} — check the path")
        return EXIT_USAGE
    if not files:
        echo_err(f"error: no file under {', '.join(paths)} — give files, directories that hold some, or - for stdin")
        return EXIT_USAGE
    for f in files:  # an unreadable input is refused before anything is stored, not found half-way
        _check_readable(f)
    data, stages, max_rows, raw_data = pipeline_setup(config, data)
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
            sys.stdout.write(_json_line(summary))
        echo_err(f"error: {summary['error']} ({sum(t.stored.values()):,} events committed before the failure)")
        return EXIT_STORE_FAILED
    if not stages:  # everything is committed (lake) or fsynced (dead letters) and closed; no stage state to sync
        may_end_fast()
    if as_json:
        sys.stdout.write(_json_line(summary))
        return exit_code
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
    return exit_code


def _json_line(summary: dict[str, Any]) -> str:
    """The ``--json`` summary as one line. msgspec, which the formats load anyway: orjson's import
    cost ~12 ms of every start (~54 M instructions in its module init). Same text as
    ``orjson.dumps`` for this summary (floats below 1e16: shortest repr, no exponent)."""
    import msgspec

    return msgspec.json.encode(summary).decode() + "\n"


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
