"""Start-up cost of the CLI: what a command imports before it does any work.

``secpipe --help`` registers every command, so no command module may import its runtime at
module level; ``secpipe ingest --json`` of a CloudTrail file imports neither rich (nothing is
shown), nor cryptography (the data directory is not encrypted), nor pydantic (typer >= 0.29
would build an adapter per parameter), nor pyarrow.compute (secpipe._compute wraps the
kernels it calls), nor orjson, nor formats that detection did not need to ask (sbom is asked
through its light sniff, ``formats._sniff``), nor pyarrow.parquet (the
lake calls the writer it wraps, pyarrow._parquet); an empty file loads no Parquet writer
either. A committed ingest ends with os._exit after the atexit handlers (no interpreter
teardown); other endings are Python's own. No timings: only what is loaded and which way the
process ended.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

# main() ends the process (after an ingest without os._exit's teardown), so what it loaded is
# printed by an atexit handler, which both endings run
_RUN = """
import atexit, json, sys
from secpipe.cli import main
sys.argv = ['secpipe', *json.loads(sys.argv[1])]
atexit.register(lambda: print(json.dumps(sorted(sys.modules))))
main.main()
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
    # pydantic: typer 0.29 builds a pydantic adapter per CLI parameter (~60-90 ms a start);
    # pyarrow.compute: secpipe._compute wraps the kernels used, for secpipe and pyarrow's methods
    assert {"rich", "cryptography", "duckdb", "uvicorn", "pydantic", "pyarrow.compute"} & mods == set()
    assert "pyarrow._parquet" in mods  # it wrote a file
    assert {"pyarrow.parquet", "pyarrow.fs", "ssl"} & mods == set()  # with the writer pyarrow.parquet wraps
    # typer: a plain ingest line is read without it (cli/ingest_run.py); _hashlib: OpenSSL, loaded
    # only where Python's SHA-256 is used (no native extension, dead letters, key ids)
    assert {"typer", "_hashlib"} & mods == set()
    # orjson: the summary is msgspec's (loaded anyway); compaction and encryption import it on use;
    # crypto: imported where a data directory is encrypted; dateutil: pyarrow's type inference
    assert {"orjson", "secpipe.security.crypto", "dateutil"} & mods == set()
    loaded = {m.rsplit(".", 1)[1] for m in mods if m.startswith("secpipe.formats.") and not m.rsplit(".", 1)[1].startswith("_")}
    # sbom, the only format that could outscore CloudTrail's 95, is asked through its light sniff
    assert loaded == {"base", "cloudtrail"} and "secpipe.formats._sniff" in mods


def test_ingest_of_an_empty_file_loads_no_writer(tmp_path: Path) -> None:
    """An empty CloudTrail delivery stores nothing: no Parquet writer, no kernels, no table."""
    doc = tmp_path / "empty.json"
    doc.write_text('{"Records":[]}')
    out, mods = _modules_after("ingest", "--json", "--data", str(tmp_path / "data"), str(doc))
    assert json.loads(out)["events"] == 0
    unneeded = {"pyarrow.compute", "pyarrow.parquet", "pyarrow.fs", "pyarrow.dataset", "numpy.ma", "rich",
                "cryptography", "duckdb", "pydantic", "ssl"}
    assert unneeded & mods == set()


# An object whose finalizer runs only in the interpreter's teardown (module globals cleared),
# and an atexit handler, which both endings run; prints the exit path on stderr.
_ENDING = """
import atexit, json, sys
from secpipe.cli import main

class _Teardown:
    def __del__(self):
        sys.stderr.write("teardown\\n")

keep = _Teardown()
atexit.register(lambda: sys.stderr.write("atexit\\n"))
sys.argv = ['secpipe', *json.loads(sys.argv[1])]
main.main()
"""


def _ending(*argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", _ENDING, json.dumps(argv)], capture_output=True, text=True)


def test_ingest_ends_without_teardown_once_committed(tmp_path: Path) -> None:
    doc = tmp_path / "ct.json"
    doc.write_text('{"Records": [{"eventVersion": "1.08", "eventTime": "2024-01-01T00:00:00Z", '
                   '"eventSource": "s3.amazonaws.com", "eventName": "GetObject", "awsRegion": "us-east-1"}]}')  # fmt: skip
    data = tmp_path / "data"
    res = _ending("ingest", "--json", "--data", str(data), str(doc))
    assert res.returncode == 0, res.stderr
    assert json.loads(res.stdout)["stored"] == {"api_activity": 1}
    assert res.stderr.splitlines() == ["atexit"]  # handlers ran, the teardown did not
    assert len(list((data / "lake").rglob("*.parquet"))) == 1
    bad = tmp_path / "bad.json"
    bad.write_text('{"Records": [{"eventVersion": "1.08"}]}')
    res = _ending("ingest", "--json", "--format", "cloudtrail", "--data", str(data), str(bad))
    assert res.returncode == 3 and json.loads(res.stdout)["dead_letter"] == 1  # the status survives os._exit
    assert res.stderr.splitlines() == ["atexit"]
    assert list((data / "dlq").rglob("*"))  # the dead letter is on disk


def test_other_endings_keep_the_teardown(tmp_path: Path) -> None:
    res = _ending("ingest", "--json", "--data", str(tmp_path / "data"), str(tmp_path / "missing.json"))
    assert res.returncode == 2
    assert "teardown" in res.stderr.splitlines()  # a usage error: Python's own exit
    cfg = tmp_path / "pipeline.yaml"
    cfg.write_text(f"data_dir: {tmp_path / 'data'}\ntransforms:\n  m: {{type: mask, fields: [src_endpoint.ip]}}\n")
    doc = tmp_path / "empty.json"
    doc.write_text('{"Records": []}')
    res = _ending("ingest", "--json", "--config", str(cfg), str(doc))
    assert res.returncode == 0, res.stderr
    assert "teardown" in res.stderr.splitlines()  # --config stages may hold state: no shortcut


def test_listing_and_validating_end_without_teardown(tmp_path: Path) -> None:
    res = _ending("formats")
    assert res.returncode == 0 and "cloudtrail" in res.stdout
    assert res.stderr.splitlines() == ["atexit"]
    cfg = tmp_path / "pipeline.yaml"
    cfg.write_text(f"data_dir: {tmp_path / 'data'}\n")
    res = _ending("validate", str(cfg))
    assert res.returncode == 0 and res.stdout.strip().endswith(": ok")
    assert res.stderr.splitlines() == ["atexit"]
    cfg.write_text("data_dir: 5\n")
    res = _ending("validate", str(cfg))
    assert res.returncode == 1 and "data_dir" in res.stderr  # the errors and the status survive os._exit
    assert res.stderr.splitlines()[-1] == "atexit" and "teardown" not in res.stderr


def test_a_profiled_run_keeps_pythons_ending(tmp_path: Path) -> None:
    """``python -m cProfile`` prints its table after the program returns: no os._exit under it."""
    doc = tmp_path / "empty.json"
    doc.write_text('{"Records":[]}')
    res = subprocess.run([sys.executable, "-m", "cProfile", "-m", "secpipe.cli.main", "ingest", "--json", "--data",
                          str(tmp_path / "data"), str(doc)], capture_output=True, text=True)  # fmt: skip
    assert res.returncode == 0, res.stderr
    assert json.loads(res.stdout.splitlines()[0])["events"] == 0
    assert "function calls" in res.stdout  # the profile's table
