"""`secpipe ingest --config` with an alert stage when the alert store's disk is full (real tmpfs).

Finding (failed before the fix): the full alert store raised ``sqlite3.OperationalError``,
which ``secpipe ingest`` did not know as a storage failure: a traceback instead of exit 1 with
the reason and how to resume. Now it is an ``OSError`` too (``OutboxStorageError``): exit 1,
the JSON summary's ``error``, and the same command run again records every alert once.
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
from pathlib import Path

import yaml

from tests.faults_disk import fill, small_disk
from tests.helpers import SECPIPE
from tests.integration.test_faults_tail import RULES, _lines


def test_ingest_with_a_full_alert_store_fails_clearly_and_resumes(tmp_path: Path, real: Path) -> None:
    data = tmp_path / "data"
    src = tmp_path / "audit.jsonl"
    src.write_bytes(_lines(real, 0, 50))
    cfg = tmp_path / "pipeline.yaml"
    cfg.write_text(yaml.safe_dump({"data_dir": str(data), "transforms": RULES}))
    env = {**os.environ, "FAULTS_HOOK_URL": "http://127.0.0.1:9/hook"}  # never called by ingest
    cmd = [*SECPIPE, "ingest", "--json", "--config", str(cfg), "--data", str(data), "--format", "k8s_audit", str(src)]
    with small_disk(tmp_path, "1m", data / "state" / "alerts") as disk:
        first = subprocess.run(cmd, capture_output=True, text=True, env=env, check=False)
        assert first.returncode == 0, first.stderr[-2000:]
        src.write_bytes(_lines(real, 0, 80))
        filler = fill(disk)
        filler.leave(96 * 1024)  # the store opens (its -wal and -shm files), the alerts do not fit
        run = subprocess.run(cmd, capture_output=True, text=True, env=env, check=False)
        assert run.returncode == 1, run.stderr[-2000:]
        assert "Traceback" not in run.stderr and "No space left on device (alert store)" in run.stderr, run.stderr[-2000:]
        assert "run the same command again" in json.loads(run.stdout)["error"]
        filler.free()
        again = subprocess.run(cmd, capture_output=True, text=True, env=env, check=False)
        assert again.returncode == 0, again.stderr[-2000:]
        with sqlite3.connect(data / "state" / "alerts" / "alerts.db") as con:
            (alerts,) = con.execute("SELECT COUNT(DISTINCT fingerprint) FROM group_alerts").fetchone()
        assert alerts == 80
