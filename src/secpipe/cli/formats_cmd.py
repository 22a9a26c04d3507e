"""``secpipe formats``: list input formats."""

from __future__ import annotations

import typer
from rich.console import Console
from rich.table import Table


def formats_list() -> None:
    """List the input formats with a one-line description each."""
    from secpipe.formats import REGISTRY

    table = Table("format", "framing", "description")
    for name, cls in sorted(REGISTRY.items()):
        table.add_row(name, cls.framing, cls.description)
    Console().print(table)


def register(app: typer.Typer) -> None:
    """Add the command to the app."""
    app.command("formats")(formats_list)
