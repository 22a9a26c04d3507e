"""The README's usage examples run as written (in a scratch directory with real samples)."""

from __future__ import annotations

import gzip
import os
import re
import shlex
import shutil
import subprocess
from pathlib import Path

from tests.helpers import SECPIPE, Server

REPO = Path(__file__).resolve().parents[2]


def _commands(prefix: str) -> list[str]:
    text = (REPO / "README.md").read_text()
    blocks = re.findall(r"```sh\n(.*?)```", text, flags=re.S)
    lines: list[str] = []
    for block in blocks:
        joined = block.replace("\\\n", " ")
        lines.extend(x.split(" #")[0].strip() for x in joined.splitlines() if x.strip().startswith(prefix))
    return lines


def _scratch(tmp_path: Path, real: Path) -> Path:
    work = tmp_path / "work"
    day = work / "AWSLogs" / "123456789012" / "CloudTrail" / "us-east-2" / "2014" / "03" / "06"
    day.mkdir(parents=True)
    trail = (real / "falco/test/trace_files/plugins/alice_start_instances.json").read_bytes()
    (day / "123456789012_CloudTrail_us-east-2_20140306T2120Z_a.json.gz").write_bytes(gzip.compress(trail))
    shutil.copy(real / "panther-analysis/extracted/k8s_audit.jsonl", work / "audit.log")
    shutil.copy(real / "panther-analysis/extracted/cloudtrail.json", work / "trail.json")
    (work / "audit.json.gz").write_bytes(gzip.compress((real / "falco/test/trace_files/k8s_audit/exec_pod.json").read_bytes()))
    shutil.copytree(REPO / "examples", work / "examples")
    shutil.copytree(REPO / "rules", work / "rules")
    return work


def test_readme_cli_examples(real: Path, tmp_path: Path) -> None:
    work = _scratch(tmp_path, real)
    cmds = _commands(".venv/bin/secpipe")
    assert len(cmds) >= 5
    for cmd in cmds:
        argv = [*SECPIPE, *shlex.split(cmd)[1:]]
        pr = subprocess.run(argv, cwd=work, capture_output=True, text=True, timeout=300)
        assert pr.returncode == 0, f"{cmd}: {pr.stderr}"
    assert (work / "secpipe-data" / "lake" / "api_activity").is_dir()


def test_readme_curl_examples(real: Path, tmp_path: Path) -> None:
    work = _scratch(tmp_path, real)
    cmds = _commands("curl")
    assert cmds
    with Server(work / "secpipe-data") as srv:
        env = {**os.environ, "TOKEN": srv.ingest_token}
        for cmd in cmds:
            cmd = cmd.replace("127.0.0.1:8088", f"127.0.0.1:{srv.port}")
            pr = subprocess.run(["bash", "-c", cmd + " --fail-with-body -sS"], cwd=work, env=env,
                                capture_output=True, text=True, timeout=60)
            assert pr.returncode == 0, f"{cmd}: {pr.stdout} {pr.stderr}"
            assert '"accepted"' in pr.stdout
