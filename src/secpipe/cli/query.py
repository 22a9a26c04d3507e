"""``secpipe query``: SQL over the lake (DuckDB), as a table, JSON or CSV."""

from __future__ import annotations

import csv
import re
import sys
from pathlib import Path

import orjson
import typer
from rich.console import Console
from rich.table import Table

from secpipe.cli._common import DataOpt, existing_data


def query(
    sql: str = typer.Argument(..., help="SQL; tables are OCSF class names (api_activity, ...) and dead_letter."),
    data: Path = DataOpt,
    out: str = typer.Option("table", "--format", help="table, json or csv."),
) -> None:
    """Run SQL over the lake."""
    from secpipe.store.query import QueryError, plain, run  # DuckDB: imported when a query runs
    if out not in ("table", "json", "csv"):
        typer.echo("error: --format must be table, json or csv", err=True)
        raise typer.Exit(2)
    try:
        cols, rows = run(existing_data(data), sql)
    except QueryError as exc:
        # DuckDB suggests its own catalog tables (pg_sequences, duckdb_...) for a mistyped class
        msg = re.sub(r'\nDid you mean "(?:pg_|duckdb_|information_schema|sqlite_)[^"]*"\?', "", str(exc))
        typer.echo(f"error: {msg}", err=True)
        raise typer.Exit(1) from None
    if out == "json":
        sys.stdout.write(orjson.dumps([dict(zip(cols, map(plain, r), strict=True)) for r in rows]).decode() + "\n")
    elif out == "csv":
        w = csv.writer(sys.stdout)
        w.writerow(cols)
        for r in rows:
            w.writerow([orjson.dumps(v).decode() if isinstance(v, dict | list) else plain(v) for v in r])
    else:
        table = Table(*cols)
        for r in rows:
            table.add_row(*("" if v is None else str(plain(v)) for v in r))
        Console().print(table)
        Console(stderr=True).print(f"{len(rows)} row(s)")


def register(app: typer.Typer) -> None:
    """Add the command to the app."""
    app.command("query")(query)
