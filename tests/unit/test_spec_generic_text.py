"""Generic JSON and Jenkins console-log shapes beyond the visible samples.

Sources (expected values written from these texts and the OCSF 1.8.0 schema):
- Elastic Common Schema / Filebeat documents (``@timestamp``, ``message``, ``host.name``),
  epoch times as numbers or as strings of digits (Zeek ``ts``, Splunk HEC ``time``).
- Jenkins: the first console line of a build names its cause (``Started by user X``, ``Started
  by timer``, ``Started by upstream project``, ``Branch indexing`` for multibranch scans,
  ``Replayed #n``, ``Restarted from build #n``); Pipeline markers ``[Pipeline] { (Stage)`` and
  ``[Pipeline] // stage``; the last line ``Finished: RESULT``.
"""

from __future__ import annotations

import json

from secpipe import formats
from tests.unit.spec_support import detected, rows


def test_generic_json_epoch_strings_and_ecs_documents() -> None:
    doc = (b'{"timestamp":"1709287200","msg":"seconds as text"}\n'
           b'{"ts":"1709287200123456","host":{"name":"web1"}}\n'
           b'{"@timestamp":"2024-03-01T10:00:00.000+0000","message":"ecs","host":{"hostname":"web2"}}\n'
           b'{"time":"12345","event":"not an epoch"}\n')  # fmt: skip
    a, b, c, d = rows(formats.get("json").decode(doc, "spec"))
    assert a["time"] == 1709287200000 and a["message"] == "seconds as text"
    assert b["time"] == 1709287200123 and b["device"]["hostname"] == "web1"  # microseconds by magnitude
    assert c["time"] == 1709287200000 and c["device"]["hostname"] == "web2"
    assert d["metadata"]["labels"] == ["secpipe:time_from_receipt"] and d["message"] == "not an epoch"
    assert json.loads(a["unmapped"]) == {"timestamp": "1709287200", "msg": "seconds as text"}


def test_generic_json_non_objects_are_dead_lettered() -> None:
    res = formats.get("json").decode(b'[1, {"a": 1}, "x"]', "spec")
    assert len(rows(res)) == 1 and res.events == 3
    assert [d.reason for d in res.dead] == ["not a JSON object: Expected `object`, got `int`",
                                            "not a JSON object: Expected `object`, got `str`"]


def test_jenkins_console_first_lines_are_recognised() -> None:
    for first in (b"Started by user Alice Smith", b"Started by timer", b"Started by upstream project \"a\" build number 4",
                  b"Branch indexing", b"Replayed #4", b"Restarted from build #2, stage Deploy"):
        assert detected(first + b"\nsome output\nFinished: SUCCESS\n") == "jenkins_log", first


def test_jenkins_multibranch_log_stages_and_result() -> None:
    log = (b"Branch indexing\n"
           b"Obtained Jenkinsfile from git https://example.com/r.git\n"
           b"[Pipeline] Start of Pipeline\n"
           b"[Pipeline] { (Build)\n"
           b"+ make\n"
           b"ERROR: make failed\n"
           b"[Pipeline] // stage\n"
           b"[Pipeline] End of Pipeline\n"
           b"Finished: FAILURE\n")  # fmt: skip
    got = rows(formats.get("jenkins_log").decode(log, "jobs/app/jobs/main/builds/12/log"))
    assert {r["metadata"]["correlation_uid"] for r in got} == {"app/main#12"}
    by_msg = {r["message"]: r for r in got}
    assert json.loads(by_msg["+ make"]["unmapped"]) == {"line": 5, "stage": "Build"}
    assert by_msg["ERROR: make failed"]["severity_id"] == 4
    assert by_msg["Finished: FAILURE"]["status"] == "Failure" and by_msg["Finished: FAILURE"]["activity_id"] == 2
