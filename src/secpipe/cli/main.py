"""The ``secpipe`` command: a typer app; each command group lives in its own module.

A module registers its commands with ``register(app)``; :data:`MODULES` lists them in order.
Guarantees: a :class:`SecpipeError` or an OS error (missing file, permission) ends the
command with ``error: ...`` on stderr and exit status 2, never a traceback; help and usage
lines name values in plain words (``--data PATH``, ``PATHS...``), not typer's ``<str>``.

Start-up: typer is imported by the first command line that needs it. ``secpipe ingest`` in its
plain forms (:func:`secpipe.cli.ingest_run.plain_args`) runs without it, as typer would run it
(same output, exit status and ending); ``app`` is made on first use.

Ending: :func:`main` ends the process. When the command declared it holds nothing that needs
the interpreter's teardown (``_common.may_end_fast``: ``secpipe ingest`` once its lake and
dead letters are committed) and exits with a number, the atexit handlers run, stdout and
stderr are flushed, and ``os._exit`` ends the process with that status; the freeing of every
module and object (pyarrow, numpy, the formats) is skipped. Any other exit is Python's own.
"""

from __future__ import annotations

import atexit
import copy
import errno
import functools
import importlib
import os
import sys
from typing import TYPE_CHECKING, Any

from secpipe.cli import _base
from secpipe.errors import SecpipeError
from secpipe.runtime import imports, memory

if TYPE_CHECKING:
    import typer


@functools.cache
def _app() -> typer.Typer:
    """The typer app (typer is imported by the first command line that needs it)."""
    import typer

    app = typer.Typer(
        name="secpipe",
        help="Security data pipeline: ingest, OCSF, lake, detect, alert.",
        no_args_is_help=True,
        add_completion=False,
        pretty_exceptions_enable=False,
    )
    app.callback()(_root)
    return app


def __getattr__(name: str) -> Any:
    """``app``: the typer app, made on first use (``from secpipe.cli.main import app``)."""
    if name == "app":
        return _app()
    msg = f"module {__name__!r} has no attribute {name!r}"
    raise AttributeError(msg)


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
        importlib.import_module(f"secpipe.cli.{mod}").register(_app())


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
    try:
        code = _plain_ingest(sys.argv[1:])
        if code is not None:
            sys.exit(code)
        import typer

        _register(sys.argv[1:2])
        cmd = typer.main.get_command(_app())
        plain_metavars(cmd)
        cmd()
    except SystemExit as exc:
        if _base.ends_fast():
            _end_now(exc.code)
        raise
    except SecpipeError as exc:
        _base.echo_err(f"error: {exc}")
        sys.exit(2)
    except OSError as exc:
        name = f" {exc.filename}" if exc.filename else ""
        _base.echo_err(f"error:{name}: {exc.strerror or exc} — check the path and its permissions")
        sys.exit(2)


def _plain_ingest(argv: list[str]) -> int | None:
    """Run ``secpipe ingest`` without typer when its command line is in a plain form
    (``ingest_run.plain_args``); the exit status, or None (typer reads the line).

    What typer's standalone mode does around a command is done here too: Ctrl-C ends with 130,
    a closed stdout pipe (EPIPE) with 1 and nothing more written."""
    if argv[:1] != ["ingest"] or any(k.startswith("_SECPIPE_COMPLETE") for k in os.environ):
        return None
    from secpipe.cli import ingest_run

    args = ingest_run.plain_args(argv[1:])
    if args is None:
        return None
    imports.numpy_as_is()  # an ingest's first pyarrow import loads numpy: ~25 ms less
    try:
        return ingest_run.run(**args)
    except KeyboardInterrupt:
        return 130
    except OSError as exc:
        if exc.errno != errno.EPIPE:
            raise
        sys.stdout, sys.stderr = _Pacified(sys.stdout), _Pacified(sys.stderr)
        return 1


class _Pacified:
    """A stream whose flush ignores a closed pipe (click's PacifyFlushWrapper: the interpreter's
    last flush of stdout must not report the EPIPE again)."""

    def __init__(self, wrapped: Any) -> None:
        self.wrapped = wrapped

    def flush(self) -> None:
        try:
            self.wrapped.flush()
        except OSError as exc:
            if exc.errno != errno.EPIPE:
                raise

    def __getattr__(self, attr: str) -> Any:
        return getattr(self.wrapped, attr)


if __name__ == "__main__":
    main()
