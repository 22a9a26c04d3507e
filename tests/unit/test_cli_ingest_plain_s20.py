"""``secpipe ingest`` in its plain forms runs without typer, as typer runs it (session 20).

The console entry point reads the plain command lines itself (``ingest_run.plain_args``) and
leaves every other one to typer. Each case here runs a plain line and the same line in a form
only typer reads (``--data=DIR``), in separate processes, and compares what matters to a
caller: stdout (less the timings), stderr, the exit status and the stored rows; and checks
which way each went (typer imported or not).
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from secpipe.cli.ingest_run import EXIT_DEAD_LETTER, plain_args

_RUN = """
import atexit, json, sys
from secpipe.cli import main
sys.argv = ['secpipe', *json.loads(sys.argv[1])]
atexit.register(lambda: sys.stderr.write('\\n@typer=%s' % ('typer' in sys.modules)))
main.main()
"""

_CT = ('{"Records": [{"eventVersion": "1.08", "eventTime": "2024-01-01T00:00:00Z", "eventSource": "s3.amazonaws.com", '
       '"eventName": "GetObject", "awsRegion": "us-east-1"}, {"eventVersion": "1.08", "eventTime": "2024-01-02T00:00:00Z", '
       '"eventSource": "signin.amazonaws.com", "eventName": "ConsoleLogin", "awsRegion": "us-east-1"}]}')  # fmt: skip


def _run(*argv: str) -> tuple[int, str, str, bool]:
    res = subprocess.run([sys.executable, "-c", _RUN, json.dumps(argv)], capture_output=True, text=True)
    err, _, flag = res.stderr.rpartition("\n@typer=")
    return res.returncode, res.stdout, err, flag == "True"


def _summary(stdout: str) -> dict:
    out = json.loads(stdout)
    out.pop("seconds"), out.pop("events_per_second")
    return out


def _rows(data: Path) -> list:
    files = sorted((data / "lake").rglob("*.parquet"), key=lambda p: (p.parent.as_posix(), p.stat().st_size))
    return [(f.parent.relative_to(data).as_posix(), pq.read_table(f).to_pylist()) for f in files]


def _both(tmp_path: Path, *args: str, data_flag: bool = True) -> tuple[tuple, tuple]:
    """Run ``ingest ARGS`` plainly and through typer (``--data=DIR``), each into its own data dir."""
    plain_dir, typer_dir = tmp_path / "plain", tmp_path / "typer"
    plain = _run("ingest", *args, "--data", str(plain_dir))
    typer = _run("ingest", *args, f"--data={typer_dir}")
    assert not plain[3], plain  # the plain line ran without typer
    assert typer[3], typer
    return plain, typer


def test_plain_json_ingest_same_as_typer(tmp_path: Path) -> None:
    src = tmp_path / "ct.json"
    src.write_text(_CT)
    plain, typer = _both(tmp_path, "--json", str(src))
    assert plain[0] == typer[0] == 0
    assert _summary(plain[1]) == _summary(typer[1])
    assert _summary(plain[1])["stored"] == {"api_activity": 1, "authentication": 1}
    assert plain[2] == typer[2] == ""
    assert _rows(tmp_path / "plain") == _rows(tmp_path / "typer")


def test_plain_table_output_same_as_typer(tmp_path: Path) -> None:
    src = tmp_path / "ct.json"
    src.write_text(_CT)
    plain, typer = _both(tmp_path, str(src), "-f", "cloudtrail")
    assert plain[0] == typer[0] == 0

    def strip(out: str) -> list[str]:  # the timings and the data directories differ
        return [re.sub(r" · [0-9.]+s · [0-9,]+ events/s", "", ln).replace(str(tmp_path / "plain"), "D")
                .replace(str(tmp_path / "typer"), "D") for ln in out.splitlines()]  # fmt: skip

    assert strip(plain[1]) == strip(typer[1])
    assert "events read 2" in plain[1]


def test_dead_letters_and_their_exit_status(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text('{"Records": [{"eventVersion": "1.08"}]}')
    plain, typer = _both(tmp_path, "--json", "--format", "cloudtrail", "--dead-letter-exit-code", "5", str(bad))
    assert plain[0] == typer[0] == 5
    assert _summary(plain[1]) == _summary(typer[1])
    assert _summary(plain[1])["dead_letter"] == 1
    plain, typer = _both(tmp_path, "--json", str(bad), "-f", "cloudtrail")
    assert plain[0] == typer[0] == EXIT_DEAD_LETTER


@pytest.mark.parametrize("args", [
    ("--json", "MISSING"),                       # no such file
    ("--json", "-f", "nope", "SRC"),             # unknown format (SecpipeError from main)
    ("--json", "--config", "MISSING", "SRC"),    # config not found
    ("--json", "EMPTYDIR"),                      # a directory without files
])  # fmt: skip
def test_refusals_same_as_typer(tmp_path: Path, args: tuple[str, ...]) -> None:
    src = tmp_path / "ct.json"
    src.write_text(_CT)
    (tmp_path / "empty").mkdir()
    subst = {"MISSING": str(tmp_path / "missing.json"), "SRC": str(src), "EMPTYDIR": str(tmp_path / "empty")}
    plain, typer = _both(tmp_path, *[subst.get(a, a) for a in args])
    assert plain[0] == typer[0] == 2
    assert plain[1] == typer[1] == ""
    assert plain[2] == typer[2] and plain[2].startswith("error:")


def test_other_forms_go_to_typer(tmp_path: Path) -> None:
    src = str(tmp_path / "ct.json")
    Path(src).write_text(_CT)
    code, _out, err, typer = _run("ingest", "--json", "--dead-letter-exit-code", "300", "--data", str(tmp_path / "d"), src)
    assert typer and code == 2 and "300" in err  # typer's range check
    code, out, _err, typer = _run("ingest", "--help")
    assert typer and code == 0 and "Exit status" in out


def test_plain_args() -> None:
    base = {"fmt": "auto", "data": None, "as_json": False, "config": None, "dead_exit": EXIT_DEAD_LETTER}
    assert plain_args(["a.json", "-", "dir"]) == {**base, "paths": ["a.json", "-", "dir"]}
    assert plain_args(["--json", "-f", "cloudtrail", "a", "--data", "d", "-c", "p.yaml", "--dead-letter-exit-code", "0"]) \
        == {**base, "paths": ["a"], "fmt": "cloudtrail", "as_json": True, "data": Path("d"), "config": Path("p.yaml"),
            "dead_exit": 0}  # fmt: skip
    for line in (["--json"], [], ["a", "--data=d"], ["a", "--json", "--json"], ["a", "-f", "x", "--format", "y"],
                 ["a", "--data"], ["a", "--data", "-x"], ["a", "--data", ""], ["a", "--"], ["a", "--help"],
                 ["a", "--dead-letter-exit-code", "256"], ["a", "--dead-letter-exit-code", "-1"],
                 ["a", "--dead-letter-exit-code", "+3"], ["a", "--dead-letter-exit-code", "\u0663"], ["a", "-x"],
                 ["a", "--no-json"], ["a", "-fcloudtrail"]):  # fmt: skip
        assert plain_args(line) is None, line
