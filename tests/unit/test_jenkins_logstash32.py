"""Jenkins Logstash plugin payloads (session 32): one build event a payload, as the JSON API's builds.

The plugin (jenkinsci/logstash-plugin) posts ``{"data": <BuildData>, "message": [<console lines>], "source":
"jenkins", "source_host", "@buildTimestamp", "@timestamp", "@version"}`` to Elasticsearch, Logstash, Redis,
RabbitMQ or syslog; such documents were dead-lettered ("no format matched"). Inputs:
tests/cases/cicd32/jenkins_logstash_plugin.ndjson (SOURCE.md there: the plugin's own test fixtures and sources).
"""

from __future__ import annotations

import json
from pathlib import Path

from tests.unit.holdout_support import auto_decoded, conformant_rows, ingest_file

CASE = Path(__file__).resolve().parents[1] / "cases" / "cicd32" / "jenkins_logstash_plugin.ndjson"


def test_payloads_are_builds_with_their_console_lines(tmp_path: Path) -> None:
    d = auto_decoded(CASE.read_bytes(), tmp_path, "jenkins")
    [empty] = d.dead  # the plugin's test payload with an empty data: no build
    assert "Logstash plugin payload" in empty.reason
    done, running = conformant_rows(d)["scheduled_job_activity"]
    assert (done["job"]["name"], done["job"]["desc"], done["metadata"]["correlation_uid"]) == (
        "parent/BuildDataTest", "BuildData Test #123456", "parent/BuildDataTest#123456")
    assert (done["status"], done["status_detail"], done["activity_name"], done["job"]["run_state"]) == (
        "Success", "SUCCESS", "Update", "Stopped")
    assert done["time"] == 1714644672405 and done["job"]["last_run_time"] == 1714644672345  # sent, started
    assert done["duration"] == 60 and done["message"] == "LINE 1\nLINE 2"
    kept = json.loads(done["unmapped"])
    assert kept["data"]["buildHost"] == "master" and kept["source_host"] == "http://localhost:8080/jenkins"
    assert "message" not in kept and "@timestamp" not in kept
    # the wrapper step's payload of a running build: no result yet
    assert (running["job"]["name"], running["activity_name"], running["job"]["run_state"]) == ("hello", "Start", "Running")
    assert running["status_id"] is None and running["duration"] is None and running["message"] == "Hello, world!"
    assert running["time"] == 1714647601000 and running["job"]["last_run_time"] == 1714647600000


def test_ingest_stores_every_build(tmp_path: Path) -> None:
    dead, rows = ingest_file(CASE, tmp_path / "data")
    assert len(dead) == 1 and sorted(r["job"]["name"] for r in rows) == ["hello", "parent/BuildDataTest"]
