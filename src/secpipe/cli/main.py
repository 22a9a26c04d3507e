"""The ``secpipe`` command: a typer app; each command group lives in its own module.

A module registers its commands with ``register(app)``; :data:`MODULES` lists them in order.
Guarantees: a :class:`SecpipeError` or an OS error (missing file, permission) ends the
command with ``error: ...`` on stderr and exit status 2, never a traceback; help and usage
lines name values in plain words (``--data PATH``, ``PATHS...``), not typer's ``<str>``.

Ending: :func:`main` ends the process. When the command declared it holds nothing that needs
the interpreter's teardown (``_common.may_end_fast``: ``secpipe ingest`` once its lake and
dead letters are committed) and exits with a number, the atexit handlers run, stdout and
stderr are flushed, and ``os._exit`` ends the process with that status; the freeing of every
module and object (pyarrow, numpy, the formats) is skipped. Any other exit is Python's own.
"""

from __future__ import annotations

import atexit
import copy
import importlib
import os
import sys
from typing import Any

import typer

from secpipe.cli import _common
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


#: parameter type name -> the word help shows for its value
_WORDS = {"str": "TEXT", "path": "PATH", "int": "INTEGER", "int range": "INTEGER", "float": "NUMBER",
          "float range": "NUMBER", "filename": "FILE", "datetime": "DATETIME", "uuid": "UUID"}


def plain_metavars(cmd: Any) -> None:
    """Give every parameter of ``cmd`` and its subcommands a plain-word metavar.

    typer 0.28 shows ``<str>`` / ``<path>`` and ``{name}``; an explicit ``metavar=`` is kept.
    """
    for param in cmd.params:
        if param.metavar is not None or getattr(param, "is_flag", False) or getattr(param, "count", False):
            continue
        if param.param_type_name == "argument":
            word = (param.name or "value").upper() + ("..." if param.nargs != 1 else "")
            param.metavar = word
            param.make_metavar = lambda ctx=None, usage=False, _w=word: _w
            shown = copy.copy(param.type)
            shown.get_metavar = lambda param=None, ctx=None: ""
            param.type = shown
        elif param.type.name in _WORDS:
            param.metavar = _WORDS[param.type.name]
    for sub in getattr(cmd, "commands", {}).values():
        plain_metavars(sub)


def _end_now(code: object) -> None:
    """End the process with ``code`` after the atexit handlers, skipping the interpreter's teardown.

    Returns (and Python ends the process its own way) when ``code`` is not a number, a
    profiler or tracer is active (``python -m cProfile``, a debugger, coverage: they report
    after the program returns), a thread that is not a daemon still runs, or stdout or stderr
    cannot be flushed (a closed pipe: Python's own exit reports it and ends with status 120).
    """
    if code is None:
        code = 0
    if type(code) is not int or sys.getprofile() is not None or sys.gettrace() is not None:
        return
    threading = sys.modules.get("threading")
    if threading is not None and any(t.is_alive() and not t.daemon for t in threading.enumerate()
                                     if t is not threading.main_thread()):
        return
    atexit._run_exitfuncs()
    try:
        for stream in (sys.stdout, sys.stderr):
            if stream is not None:
                stream.flush()
    except (OSError, ValueError):
        return
    os._exit(code)


def main() -> None:
    """Entry point of the console script: run the command ``sys.argv`` names and end the process."""
    memory.tune()
    _register(sys.argv[1:2])
    try:
        cmd = typer.main.get_command(app)
        plain_metavars(cmd)
        cmd()
    except SystemExit as exc:
        if _common.ends_fast():
            _end_now(exc.code)
        raise
    except SecpipeError as exc:
        typer.echo(f"error: {exc}", err=True)
        sys.exit(2)
    except OSError as exc:
        name = f" {exc.filename}" if exc.filename else ""
        typer.echo(f"error:{name}: {exc.strerror or exc} — check the path and its permissions", err=True)
        sys.exit(2)


if __name__ == "__main__":
    main()
