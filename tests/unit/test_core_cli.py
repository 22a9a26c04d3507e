"""The CLI registers only the module of the command it runs, and its command map is complete."""

from __future__ import annotations

import importlib
import subprocess
import sys

import typer

from secpipe.cli.main import COMMANDS, MODULES


def test_command_map_matches_what_modules_register() -> None:
    registered: dict[str, str] = {}
    for mod in MODULES:
        app = typer.Typer()
        importlib.import_module(f"secpipe.cli.{mod}").register(app)
        names = [c.name or c.callback.__name__ for c in app.registered_commands]  # type: ignore[union-attr]
        names += [g.name for g in app.registered_groups if g.name]
        registered.update(dict.fromkeys(names, mod))
    assert registered == COMMANDS


def test_ingest_does_not_import_the_server_or_duckdb(tmp_path) -> None:
    doc = tmp_path / "ct.json"
    doc.write_text('{"Records": []}')
    code = (  # main() ends the process (os._exit after an ingest), so the check runs as an atexit handler
        "import atexit, sys\n"
        "from secpipe.cli import main\n"
        f"sys.argv = ['secpipe', 'ingest', '--json', '--data', {str(tmp_path / 'data')!r}, {str(doc)!r}]\n"
        "atexit.register(lambda: print(sorted(m for m in ('secpipe.server.app', 'duckdb', 'uvicorn', "
        "'secpipe.respond.api') if m in sys.modules)))\n"
        "main.main()\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip().splitlines()[-1] == "[]"
    assert '"events":0' in out.replace(" ", "")


def test_help_lists_every_command() -> None:
    out = subprocess.run([sys.executable, "-m", "secpipe.cli.main", "--help"], capture_output=True, text=True, check=True).stdout
    for name in COMMANDS:
        assert name in out
