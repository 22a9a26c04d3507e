"""The file source while the disk is full (real tmpfs): the checkpoint never moves past data
that was not stored, the polling thread survives, and once space is back every line is
stored once (and every alert derived from it recorded once).

Two disks fill: the whole data directory (the WAL refuses the chunk: ``OSError``), and only
the alert store (``state/alerts`` on its own tmpfs: the WAL takes the chunk, the ``alert``
stage cannot record its alerts). Finding (failed before the fix): in the second case the
store's error was not an ``OSError``, it escaped the polling thread, and the file source
stopped for good — its lines (and their alerts) were never read again until a restart.
"""

from __future__ import annotations

import json
import sqlite3
import time
from pathlib import Path

import pytest

from secpipe.config.models import PipelineConfig
from secpipe.runtime.service import Service
from secpipe.runtime.topology import build_stages
from secpipe.sources.tail import FileSource
from tests.faults_disk import fill, small_disk
from tests.integration.test_syslog_listener import lake_rows, wait_for

RULES = {
    "rules": {"type": "match", "rules": [{"id": "deploy-created", "title": "Deployment created", "severity": "high",
                                          "where": {"api.operation": "create", "resources.type": "deployments"},
                                          "message": "created {resources.name}"}]},
    "alerts": {"type": "alert", "inputs": ["rules"],
               "receivers": {"hook": {"webhook": {"url_env": "FAULTS_HOOK_URL"}}},
               "route": {"receiver": "hook", "group_by": ["..."], "group_wait": "0s"}},
}  # fmt: skip


def _lines(real: Path, start: int, n: int) -> bytes:
    ev = json.loads((real / "falco/test/trace_files/k8s_audit/create_deployment.json").read_text())
    return b"".join(json.dumps(dict(ev, auditID=f"tail-{i}", objectRef=dict(ev["objectRef"], name=f"app-{i}"))).encode()
                    + b"\n" for i in range(start, start + n))  # fmt: skip


def _offset(src: FileSource, path: Path) -> int:
    if not src.state_path.exists():
        return 0
    return int(json.loads(src.state_path.read_text())["files"][str(path)]["offset"])


@pytest.mark.parametrize("full", ["data", "alerts"])
def test_checkpoint_waits_for_space_and_everything_is_stored_once(tmp_path: Path, real: Path, full: str,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FAULTS_HOOK_URL", "http://127.0.0.1:9/hook")  # never called: alerts are only recorded
    data = tmp_path / "data"
    mnt = data if full == "data" else data / "state" / "alerts"
    with small_disk(tmp_path, "8m", mnt) as disk:
        cfg = PipelineConfig.model_validate({"data_dir": str(data), "transforms": RULES})
        svc = Service(data, build_stages(cfg, data))
        log = tmp_path / "audit.log"
        log.write_bytes(_lines(real, 0, 20))
        src = FileSource("k8s", [str(log)], "k8s_audit", svc, poll_seconds=0.05)
        try:
            assert src.poll() == 1
            stored_at = _offset(src, log)
            assert stored_at == log.stat().st_size
            filler = fill(disk)
            with log.open("ab") as fh:
                fh.write(_lines(real, 20, 30))
            src.start()
            time.sleep(1.0)  # polls fail meanwhile: nothing may be checkpointed past stored data
            assert _offset(src, log) == stored_at
            assert src._thread is not None and src._thread.is_alive(), "the file source thread died"
            filler.free()
            wait_for(lambda: _offset(src, log) == log.stat().st_size, timeout=20)
        finally:
            src.stop()
            svc.close()
        events = [r["metadata"]["original_event_uid"] for r in lake_rows(data, "api_activity")]
        assert sorted(events) == sorted(f"tail-{i}" for i in range(50)), "lines lost or stored twice"
        with sqlite3.connect(data / "state" / "alerts" / "alerts.db") as con:
            (alerts,) = con.execute("SELECT COUNT(DISTINCT fingerprint) FROM group_alerts").fetchone()
        assert alerts == 50
