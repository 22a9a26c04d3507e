"""``secpipe formats``: list input formats (it holds nothing open: the process ends without teardown)."""

from __future__ import annotations

import typer
from rich.console import Console
from rich.table import Table

from secpipe.cli._common import may_end_fast


def formats_list() -> None:
    """List the input formats with a one-line description each."""
    from secpipe.formats import REGISTRY

    table = Table("format", "framing", "description")
    for name, cls in sorted(REGISTRY.items()):
        table.add_row(name, cls.framing, cls.description)
    Console().print(table)
    may_end_fast()


def register(app: typer.Typer) -> None:
    """Add the command to the app."""
    app.command("formats")(formats_list)
