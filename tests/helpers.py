"""Test helpers: run the secpipe CLI as a subprocess and read its JSON."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

SECPIPE = [sys.executable, "-m", "secpipe.cli.main"]


def cli(*args: str, check: bool = True, stdin: bytes | None = None) -> subprocess.CompletedProcess[str]:
    """Run ``secpipe ARGS`` and return the completed process (text mode)."""
    pr = subprocess.run([*SECPIPE, *args], capture_output=True, text=stdin is None, input=stdin, timeout=600)
    if check and pr.returncode != 0:
        raise AssertionError(f"secpipe {' '.join(args)} exited {pr.returncode}: {pr.stderr}")
    return pr


def ingest(data: Path, *paths: str | Path, fmt: str = "auto") -> dict[str, Any]:
    """``secpipe ingest --json`` and its summary."""
    pr = cli("ingest", "--format", fmt, "--data", str(data), "--json", *map(str, paths))
    return json.loads(pr.stdout.strip().splitlines()[-1])


def query(data: Path, sql: str) -> list[dict[str, Any]]:
    """``secpipe query --format json``."""
    pr = cli("query", "--data", str(data), "--format", "json", sql)
    return json.loads(pr.stdout)
