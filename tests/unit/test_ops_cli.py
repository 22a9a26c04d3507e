"""What a script or CI job running the secpipe CLI relies on: ``secpipe ingest``'s exit
status tells stored / dead-lettered / cannot run apart, and every command that takes both
``--config`` and ``--data`` picks the data directory the same way (flag > config > default).
Each test runs the real CLI as a subprocess on real files."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from tests.helpers import SECPIPE, cli

K8S = "panther-analysis/extracted/k8s_audit.jsonl"


def _ingest(*args: str | Path, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*SECPIPE, "ingest", *map(str, args)], capture_output=True, text=True, timeout=300, cwd=cwd)


def test_every_record_stored_exits_0(real: Path, tmp_path: Path) -> None:
    pr = _ingest("--json", "--data", tmp_path / "d", real / K8S)
    assert pr.returncode == 0, pr.stderr
    out = json.loads(pr.stdout)
    assert out["exit_code"] == 0 and out["dead_letter"] == 0 and sum(out["stored"].values()) > 100
    again = _ingest("--json", "--data", tmp_path / "d", real / K8S)  # all duplicates: nothing failed
    assert again.returncode == 0 and json.loads(again.stdout)["duplicates"] == out["events"]


def test_dead_letters_exit_3_in_json_and_table_mode(real: Path, tmp_path: Path) -> None:
    garbage = tmp_path / "garbage.json"
    garbage.write_bytes(b"this is { not json\n")
    pr = _ingest("--json", "--format", "cloudtrail", "--data", tmp_path / "d", garbage)
    assert pr.returncode == 3, pr.stderr
    out = json.loads(pr.stdout)  # the summary keeps its keys, plus exit_code
    assert {"events", "stored", "dead_letter", "duplicates", "files", "bytes"} <= set(out)
    assert out["exit_code"] == 3 and out["dead_letter"] == 1 and out["stored"] == {}
    table = _ingest("--data", tmp_path / "d", garbage)
    assert table.returncode == 3 and "dead-lettered 1" in table.stdout
    # some stored, one dead-lettered: still 3, and what could be read is stored
    mixed = tmp_path / "mixed.jsonl"
    mixed.write_bytes((real / K8S).read_bytes() + b'{"kind": "Event", "apiVersion": 7}\n')
    pr = _ingest("--json", "--format", "k8s_audit", "--data", tmp_path / "m", mixed)
    out = json.loads(pr.stdout)
    assert pr.returncode == 3 and out["dead_letter"] == 1 and sum(out["stored"].values()) > 100
    # Trivy-style opt-out for jobs that only want the data stored
    ok = _ingest("--json", "--dead-letter-exit-code", "0", "--data", tmp_path / "d", garbage)
    assert ok.returncode == 0 and json.loads(ok.stdout)["exit_code"] == 0


def test_missing_or_unreadable_inputs_exit_2_before_storing(tmp_path: Path) -> None:
    good = tmp_path / "good.jsonl"
    good.write_text('{"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"Metadata","auditID":"a1",'
                    '"stage":"ResponseComplete","verb":"get","requestURI":"/api","stageTimestamp":"2024-01-01T00:00:00Z"}\n')
    pr = _ingest("--json", "--data", tmp_path / "d", good, tmp_path / "nope.json")
    assert pr.returncode == 2 and "no such file" in pr.stderr and "nope.json" in pr.stderr and pr.stdout == ""
    # /proc/self/mem opens but cannot be read at offset 0 (EIO), even for root
    pr = _ingest("--json", "--data", tmp_path / "d", good, "/proc/self/mem")
    assert pr.returncode == 2 and "cannot read /proc/self/mem" in pr.stderr and pr.stdout == ""
    assert not (tmp_path / "d" / "lake").exists()  # refused before anything was stored


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads a mode-000 file; the /proc/self/mem case covers root")
def test_permission_denied_input_exits_2(tmp_path: Path) -> None:
    locked = tmp_path / "locked.json"
    locked.write_text("{}")
    locked.chmod(0)
    pr = _ingest("--data", tmp_path / "d", locked)
    assert pr.returncode == 2 and "cannot read" in pr.stderr and "permission" in pr.stderr.lower()


def test_exit_statuses_are_in_help() -> None:
    out = " ".join(cli("ingest", "--help").stdout.replace("│", " ").split())
    assert "Exit status: 0 every record read was stored" in out
    assert "3 some or all records were dead-lettered" in out and "--dead-letter-exit-code" in out
    assert "1 storing failed" in out and "2 nothing was read" in out


def _lake_with_one_day(data: Path, real: Path) -> None:
    assert _ingest("--data", data, real / K8S).returncode == 0


def test_retention_uses_the_config_data_dir_unless_data_is_given(real: Path, tmp_path: Path) -> None:
    data = tmp_path / "from-config"
    _lake_with_one_day(data, real)
    cli("retention", "set", "api_activity", "1", "--data", str(data))
    cfg = tmp_path / "p.yaml"
    cfg.write_text(f"data_dir: {data}\n")
    run = tmp_path / "elsewhere"  # no ./secpipe-data in the working directory
    run.mkdir()

    def retention(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([*SECPIPE, "retention", *args], capture_output=True, text=True, timeout=120, cwd=run)

    shown = retention("show", "--config", str(cfg))
    assert shown.returncode == 0 and json.loads(shown.stdout)["classes"] == {"api_activity": 1}  # the config's dir
    applied = retention("apply", "--config", str(cfg), "--dry-run", "--json")
    assert applied.returncode == 0, applied.stderr
    assert {p["class"] for p in json.loads(applied.stdout)["deleted"]} == {"api_activity"}
    # the flag wins over the config
    other = tmp_path / "flag"
    flagged = retention("apply", "--config", str(cfg), "--data", str(other), "--dry-run", "--json")
    assert flagged.returncode == 2 and f"no data directory at {other}" in flagged.stderr
    assert json.loads(retention("show", "--config", str(cfg), "--data", str(other)).stdout)["classes"] == {}
    # neither: ./secpipe-data of the working directory
    assert retention("apply", "--dry-run").returncode == 2
    assert "no data directory at secpipe-data" in retention("apply", "--dry-run").stderr


def test_data_help_states_the_precedence() -> None:
    for argv in (["ingest"], ["up"], ["retention", "show"], ["retention", "apply"], ["intel", "status"]):
        out = " ".join(cli(*argv, "--help").stdout.replace("│", " ").split())
        assert "default: the --config file's data_dir, else ./secpipe-data" in out, argv


def test_intel_status_reads_the_data_dir_up_writes(real: Path, tmp_path: Path) -> None:
    feed = real / "threat-intel" / "abusech-feodotracker" / "ipblocklist.csv"
    cfg = tmp_path / "p.yaml"
    cfg.write_text(f"data_dir: {tmp_path / 'cfg-data'}\ntransforms:\n  intel:\n    type: threat_intel\n"
                   f"    feeds: [{{name: feodo, path: {feed}}}]\n")
    flag = tmp_path / "flag-data"  # as `secpipe up --config p.yaml --data flag-data` would keep it
    live = cli("intel", "status", "--config", str(cfg), "--data", str(flag), "--live", "--json")
    assert json.loads(live.stdout)["intel"]["source"] == "loaded now"
    assert (flag / "intel" / "intel" / "status.json").is_file() and not (tmp_path / "cfg-data").exists()
    written = json.loads(cli("intel", "status", "--config", str(cfg), "--data", str(flag), "--json").stdout)
    assert written["intel"]["source"].startswith("written by the pipeline")
    from_cfg = json.loads(cli("intel", "status", "--config", str(cfg), "--json").stdout)  # config's data_dir: none yet
    assert from_cfg["intel"]["source"] == "loaded now"
