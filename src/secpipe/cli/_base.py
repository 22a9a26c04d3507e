"""What the command line shares that needs no typer: the data directory choice, the fast
ending, and the error a bad value raises.

``secpipe ingest`` in its plain forms runs without importing typer (see
:mod:`secpipe.cli.ingest_run`), so what it shares with the typer commands lives here;
:mod:`secpipe.cli._common` re-exports it for them.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

from secpipe.errors import SecpipeError

if TYPE_CHECKING:  # the config models load when a command runs, not at `--help`
    from secpipe.config.models import PipelineConfig

DEFAULT_DATA = Path("./secpipe-data")


def data_for(flag: Path | None, cfg: PipelineConfig | None) -> Path:
    """The data directory: the ``--data`` flag, else the config's ``data_dir``, else ./secpipe-data."""
    if flag is not None:
        return Path(flag)
    return Path(cfg.data_dir) if cfg is not None else DEFAULT_DATA


_END_FAST: list[bool] = []


def may_end_fast() -> None:
    """Tell the entry point the command holds nothing that needs the interpreter's teardown.

    Call it only when every file the command wrote is committed and closed and no thread it
    started is running: :func:`secpipe.cli.main.main` then runs the atexit handlers, flushes
    stdout and stderr and ends the process with ``os._exit`` (no module and object
    finalization, which costs ~30-60 ms of CPU after an ingest has loaded pyarrow and numpy).
    """
    _END_FAST.append(True)


def ends_fast() -> bool:
    """Whether the command that ran called :func:`may_end_fast`."""
    return bool(_END_FAST)


def echo_err(line: str) -> None:
    """One line on stderr, flushed (what ``typer.echo(..., err=True)`` writes), without typer."""
    sys.stderr.write(line + "\n")
    sys.stderr.flush()


class CliError(SecpipeError):
    """A command-line value that cannot work; the message says what to give instead."""
