"""What a new user meets on the command line: help text, wrong input, a missing data directory.

Each test runs the real ``secpipe`` command (a subprocess, as a user would) and checks the exit
status and the message: no traceback, an ``error:`` line that says what to give instead,
nothing created by a command that only reads.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
from pathlib import Path

import pytest

from secpipe.cli import main
from secpipe.cli._common import CliError
from secpipe.cli.up import check_listen, claim_data_dir
from tests.helpers import SECPIPE, Server, cli, free_port

REPO = Path(__file__).resolve().parents[2]


def _fails(*args: str) -> str:
    """Run ``secpipe ARGS``; assert exit 2 without a traceback; return stderr."""
    pr = cli(*args, check=False)
    assert pr.returncode == 2, (pr.returncode, pr.stdout, pr.stderr)
    assert "Traceback" not in pr.stderr
    assert pr.stderr.startswith("error: ")
    return pr.stderr


def test_help_names_values_in_plain_words() -> None:
    """Every command's help: no typer ``<str>`` / ``<path>`` / ``{name}`` noise (typer 0.28 shows them)."""
    from typer.main import get_command

    try:
        from typer._click.testing import CliRunner  # typer >= 0.28 vendors click
    except ImportError:
        from click.testing import CliRunner

    main._register(None)
    root = get_command(main.app)
    main.plain_metavars(root)
    runner = CliRunner()

    def walk(cmd: object, path: list[str]) -> list[list[str]]:
        subs = getattr(cmd, "commands", {})
        return [path] + [p for name, sub in subs.items() for p in walk(sub, [*path, name])]

    paths = walk(root, [])
    assert len(paths) > 40
    for path in paths:
        res = runner.invoke(root, [*path, "--help"], prog_name="secpipe", terminal_width=200)
        assert res.exit_code == 0, (path, res.output)
        for noise in ("<str>", "<path>", "<int>", "<float>", "{"):
            assert noise not in res.output.replace("{HOST}", ""), (path, noise, res.output)
    out = cli("ingest", "--help").stdout
    assert "PATHS..." in out and "--data" in out and "PATH " in out and "<str>" not in out


def test_missing_files_are_errors_not_tracebacks(tmp_path: Path) -> None:
    assert "no-such-dir" in _fails("rules", "test", str(tmp_path / "no-such-dir"))
    (tmp_path / "d").mkdir()
    err = _fails("audit", "verify", "--data", str(tmp_path / "d"), "--public-key", str(tmp_path / "nokey.pem"))
    assert "nokey.pem" in err and "check the path" in err


@pytest.mark.parametrize("argv", [
    ["query", "SELECT 1"],
    ["alerts"],
    ["alerts", "list", "--state", "dead"],
    ["compliance", "scan"],
    ["compliance", "report", "--framework", "cis-aws"],
    ["audit", "verify"],
    ["audit", "show"],
    ["retention", "apply"],
])  # fmt: skip
def test_reading_a_missing_data_dir_says_so_and_creates_nothing(tmp_path: Path, argv: list[str]) -> None:
    typo = tmp_path / "secpipe-dat"
    err = _fails(*argv, "--data", str(typo))
    assert "no data directory" in err and "--data" in err
    assert not typo.exists()


def test_alerts_list_is_the_command_the_outbox_errors_name(tmp_path: Path) -> None:
    (tmp_path / "data").mkdir()
    out = cli("alerts", "list", "--json", "--data", str(tmp_path / "data")).stdout
    assert json.loads(out) == {"counts": {}, "entries": []}
    err = _fails("alerts", "replay", "7", "--data", str(tmp_path / "data"))
    assert "secpipe alerts list" in err


def test_hunt_refuses_rules_it_cannot_run(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yml"
    bad.write_text("title: [unclosed\n")
    err = _fails("hunt", "--rules", str(bad), "--data", str(tmp_path))
    assert "no rule to run" in err and "secpipe rules check" in err
    empty = tmp_path / "empty"
    empty.mkdir()
    assert "no .yml/.yaml rule found" in _fails("hunt", "--rules", str(empty), "--data", str(tmp_path))


def test_retention_checks_the_class_name(tmp_path: Path) -> None:
    data = tmp_path / "data"
    err = _fails("retention", "set", "api_activty", "30", "--data", str(data))
    assert "unknown class 'api_activty'" in err and "dead_letter" in err
    _fails("retention", "hold", "nope", "--reason", "case 1", "--data", str(data))
    assert cli("retention", "set", "api_activity", "30", "--data", str(data)).stdout.strip() == "api_activity: kept 30 days"
    policy = json.loads(cli("retention", "show", "--data", str(data)).stdout)
    assert policy["classes"] == {"api_activity": 30}


def test_audit_keygen_never_overwrites_a_key(tmp_path: Path) -> None:
    priv, pub = tmp_path / "audit.key", tmp_path / "audit.pub"
    cli("audit", "keygen", str(priv), str(pub))
    before = priv.read_bytes(), pub.read_bytes()
    err = _fails("audit", "keygen", str(priv), str(tmp_path / "other.pub"))
    assert "exists" in err and "give new paths" in err
    assert (priv.read_bytes(), pub.read_bytes()) == before
    assert not (tmp_path / "other.pub").exists()


def test_data_dir_lock_and_listen_check(tmp_path: Path) -> None:
    fd = claim_data_dir(tmp_path / "d")
    try:
        with pytest.raises(CliError, match="another `secpipe up`"):
            claim_data_dir(tmp_path / "d")
    finally:
        os.close(fd)
    os.close(claim_data_dir(tmp_path / "d"))  # released with its fd
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        with pytest.raises(CliError, match="--listen HOST:PORT"):
            check_listen("127.0.0.1", s.getsockname()[1])


def test_second_up_on_the_same_data_or_port_is_refused(tmp_path: Path) -> None:
    """A real ``secpipe up``: a second one on its data directory, or on its port, exits 2 at once."""
    with Server(tmp_path / "data") as srv:
        other = str(free_port())
        pr = subprocess.run([*SECPIPE, "up", "--data", str(tmp_path / "data"), "--listen", f"127.0.0.1:{other}"],
                            capture_output=True, text=True, timeout=60)
        assert pr.returncode == 2 and "another `secpipe up` is running" in pr.stderr, pr.stderr
        assert "token" not in pr.stdout
        pr = subprocess.run([*SECPIPE, "up", "--data", str(tmp_path / "d2"), "--listen", f"127.0.0.1:{srv.port}"],
                            capture_output=True, text=True, timeout=60)
        assert pr.returncode == 2 and "cannot listen on" in pr.stderr, pr.stderr
        assert not (tmp_path / "d2").exists()
        assert srv.stop() == 0


def test_ingest_says_when_nothing_could_be_read_and_query_names_only_lake_tables(tmp_path: Path) -> None:
    data = tmp_path / "data"
    doc = tmp_path / "ct.json"
    doc.write_text('{"Records": [{"eventVersion": "1.08", "eventTime": "2024-01-01T00:00:00Z", '
                   '"eventSource": "s3.amazonaws.com", "eventName": "GetObject", "awsRegion": "us-east-1"}]}')  # fmt: skip
    pr = cli("ingest", "--format", "k8s_audit", "--data", str(data), str(doc), check=False)
    out = pr.stdout
    assert pr.returncode == 3  # records were dead-lettered
    assert "nothing could be read as k8s_audit (try --format auto" in out
    assert "see why: secpipe query --data" in out and "FROM dead_letter'\n" in out  # one line, copy-pastable
    out = cli("ingest", "--data", str(data), str(doc)).stdout
    assert "nothing could be read" not in out and "stored 1 " in out
    pr = cli("query", "--data", str(data), "SELECT * FROM api_activty", check=False)
    assert pr.returncode == 1 and "Traceback" not in pr.stderr
    assert 'Did you mean "api_activity"?' in pr.stderr and "Tables in this lake: api_activity" in pr.stderr
    pr = cli("query", "--data", str(data), "SELECT * FROM nosuch", check=False)
    assert pr.returncode == 1 and "pg_" not in pr.stderr and "duckdb_" not in pr.stderr


def _named_commands() -> list[tuple[str, str, str]]:
    """(file, first word, second word) of every ``secpipe ...`` command in code text of src/, README, docs."""
    import re

    spans: list[tuple[str, str]] = []
    for f in sorted((REPO / "src/secpipe").rglob("*.py")):
        spans += [(str(f), m) for m in re.findall(r"`+([^`\n]*)`+", f.read_text(encoding="utf-8"))]
    for f in [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]:
        text = f.read_text(encoding="utf-8")
        spans += [(str(f), m) for m in re.findall(r"`([^`\n]+)`", text)]
        spans += [(str(f), m) for block in re.findall(r"```[a-z]*\n(.*?)```", text, re.S) for m in re.sub(r"(^|\s)#.*", "", block, flags=re.M).splitlines()]
    out = []
    for f, span in spans:
        for a, b in re.findall(r"(?:^|[\s/;])secpipe ([a-z][a-z_-]*)(?: ([a-z][a-z_-]*))?", span):
            out.append((f, a, b))
    return out


def test_every_command_the_messages_and_docs_name_exists() -> None:
    """An error or a doc that says "run `secpipe alerts list`" names a command that exists."""
    from typer.main import get_command

    main._register(None)
    root = get_command(main.app)
    named = _named_commands()
    assert len(named) > 60
    for f, first, second in named:
        assert first in root.commands, (f, first)
        group = root.commands[first]
        if second and hasattr(group, "commands"):
            assert second in group.commands, (f, first, second)


def test_silence_error_names_the_list_command(tmp_path: Path) -> None:
    (tmp_path / "data").mkdir()
    assert "`secpipe alerts silence list`" in _fails("alerts", "silence", "expire", "nope", "--data", str(tmp_path / "data"))


def test_tokens_revoke_takes_a_pasted_token(tmp_path: Path) -> None:
    data = str(tmp_path / "data")
    token = cli("tokens", "create", "--name", "ci", "--role", "viewer", "--data", data).stdout.strip().splitlines()[-1]
    assert token.startswith("sp_")
    tid = token.split("_", 2)[1]
    assert cli("tokens", "revoke", token, "--data", data).stdout.strip() == f"token {tid} revoked"
    assert json.loads(cli("tokens", "list", "--json", "--data", data).stdout) == []


def test_hunt_json_has_the_counts_the_text_shows(real: Path, tmp_path: Path) -> None:
    data = tmp_path / "data"
    trail = real / "panther-analysis/extracted/cloudtrail.json"
    cli("ingest", "--format", "cloudtrail", "--data", str(data), str(trail))
    rules = REPO / "rules/compliance"
    doc = json.loads(cli("hunt", "--json", "--rules", str(rules), "--data", str(data)).stdout)
    assert set(doc) == {"rules", "events_scanned", "findings", "correlations", "hits"}
    assert doc["findings"] == sum(doc["hits"].values()) > 0
    text = cli("hunt", "--rules", str(rules), "--data", str(data)).stdout.splitlines()[0]
    assert text.startswith(f"{doc['rules']} rules over ") and " findings, " in text


def test_ingest_of_a_directory_without_files_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    err = _fails("ingest", "--data", str(tmp_path / "data"), str(tmp_path / "empty"))
    assert "no file under" in err and "empty" in err


def test_ingest_with_a_config_stores_where_up_would(tmp_path: Path) -> None:
    """``ingest --config`` without ``--data`` uses the config's data_dir, as ``up --config`` does."""
    lake_dir = tmp_path / "from-config"
    cfg = tmp_path / "pipeline.yaml"
    cfg.write_text(f"data_dir: {lake_dir}\n")
    doc = tmp_path / "ct.json"
    doc.write_text('{"Records": [{"eventVersion": "1.08", "eventTime": "2024-01-01T00:00:00Z", '
                   '"eventSource": "s3.amazonaws.com", "eventName": "GetObject", "awsRegion": "us-east-1"}]}')  # fmt: skip
    out = json.loads(cli("ingest", "--json", "--config", str(cfg), str(doc)).stdout)
    assert out["stored"] == {"api_activity": 1}
    assert (lake_dir / "lake" / "api_activity").is_dir()
    other = tmp_path / "explicit"
    json.loads(cli("ingest", "--json", "--config", str(cfg), "--data", str(other), str(doc)).stdout)
    assert (other / "lake" / "api_activity").is_dir()
