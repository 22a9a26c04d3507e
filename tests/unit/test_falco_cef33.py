"""Falcosidekick's CEF syslog output of a Falco alert is read as the Falco alert (:mod:`secpipe.formats._falco_cef`).

The input (tests/cases/runtime33, see its SOURCES.md) is written from Falcosidekick's ``outputs/syslog.go``.
"""

from __future__ import annotations

import json
from pathlib import Path

from secpipe import formats

CASE = Path(__file__).parents[1] / "cases" / "runtime33" / "falcosidekick-cef-syslog.log"


def _rows(data: bytes) -> list[dict]:
    dec = formats.get("syslog").decode(data, "t")
    assert dec.dead == []
    return [r for b in dec.batches for r in b.to_pylist()]


def test_falcosidekick_cef_lines_are_falco_detection_findings() -> None:
    data = CASE.read_bytes()
    assert formats.detect(data).name == "syslog"
    shell, shadow = _rows(data)
    assert (shell["class_uid"], shell["severity_id"], shadow["severity_id"]) == (2004, 3, 4)  # Warning, Error
    assert shell["metadata"]["product"]["name"] == "Falco"
    assert shell["finding_info"]["title"] == "Terminal shell in container"
    assert shell["finding_info"]["uid"] == "5d0e4b8a-6f1a-4d2e-9c55-0b8a3b1f2c11"
    assert shell["time_dt"].isoformat() == "2024-05-07T18:54:18+00:00"  # start=, not the syslog header's
    # the output is whole (its own key=value pairs are no CEF extension keys)
    assert shell["message"].endswith("container_id=3ad7b26ded6d image=docker.io/library/nginx)")
    assert shell["resources"][0] | {"uid": None} == {"type": "pod", "name": "nginx-7c5ddbdf54-xk2lp",
                                                        "namespace": "default", "uid": None}
    ev = shell["evidences"][0]
    assert (ev["process"]["cmd_line"], ev["process"]["pid"], ev["container"]["uid"]) == ("bash -il", 1234567, "3ad7b26ded6d")
    assert json.loads(ev["data"])["user.name"] == "root"
    assert "T1059" in shell["finding_info"]["types"]
    assert shell["raw_data"] == data.decode().splitlines()[0]
    # no hostname= in the message: the syslog header's host
    assert (shadow["device"]["hostname"], shadow["evidences"][0]["file"]["path"]) == ("node-2", "/etc/shadow")


def test_other_cef_stays_a_cef_event_beside_falco_alerts() -> None:
    other = b"<14>Jan 18 11:07:53 host CEF:0|Elasticpot|Elasticpot|1.0|alert|Probe|5|src=10.0.0.1 msg=x y"
    broken = b"<14>Jan 18 11:07:54 host Falco: CEF:0|Falcosecurity|Falco|1.0|Falco Event|R|6|no extension of its shape"
    rows = _rows(CASE.read_bytes() + other + b"\n" + broken + b"\n")
    assert sorted(r["class_uid"] for r in rows) == [0, 0, 2004, 2004]
    assert {r["metadata"]["product"]["name"] for r in rows if r["class_uid"] == 0} == {"Elasticpot", "Falco"}


def test_falco_json_alerts_in_syslog_messages_are_falco_findings() -> None:
    # Falco's syslog_output with json_output as a syslog server received it (Elastic's sample, tests/cases/holdout):
    # what the syslog listener gets; a file of it is detected as falco, the same lines reach syslog over the wire
    data = (CASE.parents[1] / "holdout" / "elastic-falco-syslog-sample.log").read_bytes()
    other = b'<14>Aug  7 13:49:20 host app[1]: {"rule": 5, "level": "x"}\n'  # JSON, but no Falco alert
    rows = _rows(data + other)
    falco = [r for r in rows if r["class_uid"] == 2004]
    assert [(r["finding_info"]["title"], r["severity"]) for r in falco][:1] == [("Run shell untrusted", "Low")]
    assert len(falco) == 2 and falco[0]["metadata"]["product"]["name"] == "Falco"
    assert falco[0]["evidences"][0]["container"]["uid"] == "2ae6a7f15b6e"
    assert falco[0]["raw_data"] == data.decode().splitlines()[0]
    assert [r["class_uid"] for r in rows if r not in falco] == [0]


def test_falco_json_alert_without_hostname_takes_the_syslog_host() -> None:
    # Falco before 0.32 wrote no hostname in its JSON alert (falcosecurity/falco userspace/engine/formats.cpp)
    line = (b'<12>2024-05-07T18:54:19Z node-9 Falco[2301]: {"output":"18:54:18.123456789: Warning A shell was spawned",'
            b'"priority":"Warning","rule":"Terminal shell in container","time":"2024-05-07T18:54:18.123456789Z",'
            b'"output_fields":{"container.id":"3ad7b26ded6d"}}\n')
    (row,) = _rows(line)
    assert (row["class_uid"], row["device"]["hostname"]) == (2004, "node-9")
