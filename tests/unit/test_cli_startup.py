"""Start-up cost of the CLI: what a command imports before it does any work.

``secpipe --help`` registers every command, so no command module may import its runtime at
module level; ``secpipe ingest --json`` of a CloudTrail file imports neither rich (nothing is
shown), nor cryptography (the data directory is not encrypted), nor pydantic (typer >= 0.29
would build an adapter per parameter), nor formats that detection did not need to ask.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

_RUN = """
import json, sys
from secpipe.cli import main
sys.argv = ['secpipe', *json.loads(sys.argv[1])]
try:
    main.main()
except SystemExit:
    pass
print(json.dumps(sorted(sys.modules)))
"""


def _modules_after(*argv: str) -> tuple[str, set[str]]:
    out = subprocess.run([sys.executable, "-c", _RUN, json.dumps(argv)], capture_output=True, text=True, check=True).stdout
    lines = out.strip().splitlines()
    return "\n".join(lines[:-1]), set(json.loads(lines[-1]))


def test_help_imports_no_command_runtime() -> None:
    out, mods = _modules_after("--help")
    assert "ingest" in out and "query" in out
    heavy = {"pyarrow", "numpy", "duckdb", "uvicorn", "starlette", "pydantic", "cryptography", "msgspec", "secpipe.formats"}
    assert heavy & mods == set()


def test_ingest_json_imports_only_what_it_uses(tmp_path: Path) -> None:
    doc = tmp_path / "ct.json"
    doc.write_text('{"Records": [{"eventVersion": "1.08", "eventTime": "2024-01-01T00:00:00Z", '
                   '"eventSource": "s3.amazonaws.com", "eventName": "GetObject", "awsRegion": "us-east-1"}]}')  # fmt: skip
    out, mods = _modules_after("ingest", "--json", "--data", str(tmp_path / "data"), str(doc))
    assert json.loads(out)["stored"] == {"api_activity": 1}
    # pydantic: typer 0.29 builds a pydantic adapter per CLI parameter (~60-90 ms a start)
    assert {"rich", "cryptography", "duckdb", "uvicorn", "pydantic"} & mods == set()
    loaded = {m.rsplit(".", 1)[1] for m in mods if m.startswith("secpipe.formats.") and not m.rsplit(".", 1)[1].startswith("_")}
    assert loaded == {"base", "cloudtrail", "sbom"}  # sbom: the only format that could outscore CloudTrail's 95
