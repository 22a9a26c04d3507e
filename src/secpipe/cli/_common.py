"""Options and checks shared by several commands.

Guarantees: a command that reads an existing data directory refuses a missing one with a
message naming ``--data`` (a typo is not an empty lake, and reading creates nothing);
class names given on the command line are checked against the OCSF schema.
"""

from __future__ import annotations

from pathlib import Path

import typer

from secpipe.errors import SecpipeError

DataOpt = typer.Option(Path("./secpipe-data"), "--data", help="Data directory (lake, WAL, DLQ, state).")
JsonOpt = typer.Option(False, "--json", help="Print one JSON object on stdout.")


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
