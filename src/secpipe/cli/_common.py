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

import typer

# shared with the typer-free `secpipe ingest` path (cli/_base.py), re-exported for the commands
from secpipe.cli._base import DEFAULT_DATA as DEFAULT_DATA
from secpipe.cli._base import CliError as CliError
from secpipe.cli._base import data_for as data_for
from secpipe.cli._base import ends_fast as ends_fast
from secpipe.cli._base import may_end_fast as may_end_fast

DataOpt = typer.Option(Path("./secpipe-data"), "--data", help="Data directory (lake, WAL, DLQ, state).")
JsonOpt = typer.Option(False, "--json", help="Print one JSON object on stdout.")
#: ``--data`` of a command that also takes ``--config`` (resolved by :func:`data_for`)
DataOrConfigOpt = typer.Option(None, "--data", help="Data directory (lake, WAL, DLQ, state); default: the --config "
                               "file's data_dir, else ./secpipe-data.")


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
