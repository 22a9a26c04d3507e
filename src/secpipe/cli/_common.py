"""Options and checks shared by several commands.

Guarantees: a command that reads an existing data directory refuses a missing one with a
message naming ``--data`` (a typo is not an empty lake, and reading creates nothing);
class names given on the command line are checked against the OCSF schema. Every command
that takes both ``--config`` and ``--data`` picks the data directory the same way
(:func:`data_for`): the ``--data`` flag, else the config's ``data_dir``, else ./secpipe-data.
A command that has committed and closed everything it wrote may say so (:func:`may_end_fast`):
the console entry point then ends the process without the interpreter's teardown.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import typer

from secpipe.errors import SecpipeError

if TYPE_CHECKING:  # the config models load when a command runs, not at `--help`
    from secpipe.config.models import PipelineConfig

DEFAULT_DATA = Path("./secpipe-data")

DataOpt = typer.Option(Path("./secpipe-data"), "--data", help="Data directory (lake, WAL, DLQ, state).")
JsonOpt = typer.Option(False, "--json", help="Print one JSON object on stdout.")
#: ``--data`` of a command that also takes ``--config`` (resolved by :func:`data_for`)
DataOrConfigOpt = typer.Option(None, "--data", help="Data directory (lake, WAL, DLQ, state); default: the --config "
                               "file's data_dir, else ./secpipe-data.")


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


class CliError(SecpipeError):
    """A command-line value that cannot work; the message says what to give instead."""


def existing_data(data: Path) -> Path:
    """Return ``data`` when it is a directory; else raise :class:`CliError` saying what to give."""
    if not Path(data).is_dir():
        msg = (f"no data directory at {data} — give --data the directory `secpipe ingest` or `secpipe up` "
               "wrote (default ./secpipe-data)")
        raise CliError(msg)
    return data


def lake_class(name: str) -> str:
    """Return ``name`` when it is an OCSF class name (as the lake stores it) or ``dead_letter``."""
    from secpipe.schema.ocsf import ocsf

    if name != "dead_letter" and name not in ocsf()["classes"]:
        msg = (f"unknown class {name!r} — give an OCSF class name as the lake stores it (api_activity, "
               "authentication, vulnerability_finding, ...; `ls DATA/lake`) or dead_letter")
        raise CliError(msg)
    return name
