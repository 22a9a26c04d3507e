"""Golden and dead-letter tests for falco, opa and alertmanager, plus schema and auto-detection
checks for every scanner/runtime format over the real samples.

Expected values were written by reading the source samples (../shared/data/real) and the
OCSF 1.8.0 schema.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from secpipe import formats
from secpipe.formats.base import Decoded
from secpipe.schema.ocsf import class_name_of, validate_batch

FALCO = "falco/test/output_files/single_rule_with_cat_write.json"
OPA = "opa-docs/management-decision-logs.example1.json"
AM = "prometheus-msteams/alert/testdata/prom_post_request_2_alerts.json"
MINE = ("trivy", "snyk", "sarif", "sonarqube", "falco", "opa", "alertmanager")


def _rows(res: Decoded) -> list[dict]:
    return [r for b in res.batches for r in b.to_pylist()]


def test_falco_golden(real: Path) -> None:
    res = formats.get("falco").decode((real / FALCO).read_bytes(), FALCO)
    rows = _rows(res)
    assert len(rows) == 8 and not res.dead
    r = rows[0]
    assert r["class_uid"] == 2004 and r["class_name"] == "Detection Finding"
    assert r["severity_id"] == 3 and r["severity"] == "Medium"  # priority Warning
    assert r["time"] == 1470327477881  # 2016-08-04T16:17:57.881781397Z
    assert r["finding_info"]["title"] == "open_from_cat"
    assert r["finding_info"]["types"] == ["filesystem", "process", "testing"]
    assert r["message"] == "2016-08-04T16:17:57.881781397+0000: Warning An open was seen (command=cat /dev/null)"
    assert r["device"]["hostname"] == "test-falco-hostname"
    assert r["metadata"]["log_source"] == "syscall"
    ev = r["evidences"][0]
    assert ev["process"]["cmd_line"] == "cat /dev/null"
    assert json.loads(ev["data"]) == {"evt.time.iso8601": 1470327477881781397, "proc.cmdline": "cat /dev/null"}
    assert r["resources"] is None  # no Kubernetes fields in this alert
    assert r["status"] == "New"


def test_falco_http_output_with_kubernetes_context() -> None:
    alert = {"uuid": "9b1c6f0e-2f1b-4a8e-b0a9-6a1d6c7e8f00", "output": "Shell spawned in a container", "priority": "Critical",
             "rule": "Terminal shell in container", "time": "2024-03-01T10:00:00.123456789Z", "source": "syscall",
             "hostname": "node-1", "tags": ["container", "shell", "mitre_execution"],
             "output_fields": {"container.id": "4f2c1a9b8e7d", "container.name": "web", "container.image.repository": "nginx",
                               "container.image.tag": "1.25", "k8s.ns.name": "prod", "k8s.pod.name": "web-7d9f",
                               "proc.name": "bash", "proc.pid": 4242, "user.name": "root"}}  # fmt: skip
    (r,) = _rows(formats.get("falco").decode(json.dumps(alert).encode(), "http"))
    assert r["severity_id"] == 5
    assert r["finding_info"]["uid"] == alert["uuid"] and r["metadata"]["original_event_uid"] == alert["uuid"]
    c = r["evidences"][0]["container"]  # Detection Finding takes no container profile (device.container)
    assert (c["uid"], c["name"], c["image"]["name"], c["image"]["tag"]) == ("4f2c1a9b8e7d", "web", "nginx", "1.25")
    assert r["resources"] == [{"type": "pod", "name": "web-7d9f", "namespace": "prod", "uid": None}]
    assert r["evidences"][0]["process"]["pid"] == 4242 and r["evidences"][0]["process"]["user"]["name"] == "root"


def test_falco_dead_letters() -> None:
    body = b'{"rule":"r","output":"o","priority":"Notice","time":"2024-01-01T00:00:00Z"}\nnot json\n{"hello":1}\n'
    fmt = formats.get("falco")
    res = fmt.decode(body, "mixed")
    assert sum(b.num_rows for b in res.batches) == 1
    reasons = sorted(d.reason for d in res.dead)
    assert len(reasons) == 2 and any("not a Falco alert" in x for x in reasons)


def test_opa_golden(real: Path) -> None:
    res = formats.get("opa").decode((real / OPA).read_bytes(), OPA)
    (r,) = _rows(res)
    assert r["class_uid"] == 6003 and r["activity_id"] == 2  # input.method GET -> Read
    assert r["time"] == 1514764800000  # 2018-01-01T00:00:00Z
    assert r["api"]["operation"] == "http/example/authz/allow"
    assert r["api"]["request"]["uid"] == "4ca636c1-55e4-417a-b1d8-4aceb67960d1"
    assert json.loads(r["api"]["request"]["data"]) == {"method": "GET", "path": "/salary/bob"}
    assert r["authorizations"] == [{"decision": "allowed", "policy": {
        "name": "http/example/authz/allow", "version": "authz@W3sibCI6InN5cy9jYXRhbG9nIiwicyI6NDA3MX1d"}}]  # fmt: skip
    assert r["action_id"] == 1 and r["action"] == "Allowed"
    assert (r["src_endpoint"]["ip"], r["src_endpoint"]["port"]) == ("::1", 59943)
    assert r["http_request"]["url"]["path"] == "/salary/bob"
    assert r["status"] == "Success"
    assert json.loads(r["unmapped"])["labels"]["app"] == "my-example-app"


def test_opa_ndjson_deny_and_dead_letters() -> None:
    lines = [
        {"decision_id": "d1", "path": "kubernetes/admission", "result": {"allowed": False}, "timestamp": "2024-01-01T00:00:00Z",
         "input": {"attributes": {"request": {"http": {"method": "DELETE"}}}}},
        {"decision_id": "d2", "path": "x", "error": {"code": "eval_error", "message": "boom"}, "timestamp": "2024-01-01T00:00:01Z"},
        {"nothing": True},
    ]  # fmt: skip
    body = b"\n".join(json.dumps(x).encode() for x in lines) + b"\n"
    res = formats.get("opa").decode(body, "nd")
    rows = _rows(res)
    assert [r["action"] for r in rows] == ["Denied", "Unknown"]
    assert rows[0]["activity_id"] == 4 and rows[0]["disposition_id"] == 2
    assert rows[1]["status"] == "Failure" and "boom" in rows[1]["status_detail"]
    assert len(res.dead) == 1 and "not an OPA decision log" in res.dead[0].reason


def test_alertmanager_golden(real: Path) -> None:
    res = formats.get("alertmanager").decode((real / AM).read_bytes(), AM)
    rows = _rows(res)
    assert len(rows) == 2 and not res.dead
    r = rows[0]
    assert r["class_uid"] == 2004 and r["activity_id"] == 1 and r["status"] == "New"
    assert r["severity_id"] == 3  # commonLabels.severity warning
    assert r["finding_info"]["title"] == "Server High Memory usage"
    assert r["finding_info"]["desc"] == "10.80.40.11 reported high memory usage with 23.28%."
    assert r["finding_info"]["analytic"]["name"] == "high_memory_load"
    assert r["start_time"] == 1520422401873 and r["time"] == 1520422401873  # 06:33:21.873-05:00
    assert r["end_time"] is None  # endsAt 0001-01-01 means still firing
    assert r["metadata"]["correlation_uid"] == '{}:{alertname="high_memory_load"}'
    assert {t["name"]: t["value"] for t in r["finding_info"]["tags"]} == {"alertname": "high_memory_load"}
    assert json.loads(r["unmapped"])["annotations"]["summary"] == "Server High Memory usage"


def test_alertmanager_resolved_and_dead_letter(real: Path) -> None:
    doc = json.loads((real / AM).read_text())
    doc["status"] = "resolved"
    doc["alerts"][0].update(status="resolved", endsAt="2018-03-07T12:00:00Z", fingerprint="abc123")
    rows = _rows(formats.get("alertmanager").decode(json.dumps(doc).encode(), "r"))
    r = rows[0]
    assert r["status_id"] == 4 and r["activity_id"] == 3 and r["activity_name"] == "Close"
    assert r["time"] == 1520424000000 and r["end_time"] == 1520424000000
    assert r["finding_info"]["uid"] == "abc123"
    res = formats.get("alertmanager").decode(b'{"version": "4", "status": "firing"}', "empty")
    assert not res.batches and "no `alerts`" in res.dead[0].reason
    assert "not an Alertmanager webhook payload" in formats.get("alertmanager").decode(b"[1,", "bad").dead[0].reason


def _samples(real: Path) -> list[tuple[str, Path]]:
    v2 = real / "sarif-sdk/src/Test.FunctionalTests.Sarif/v2/ConverterTestData"
    out = [("trivy", p) for p in sorted((real / "trivy").glob("*.json.golden"))]
    out += [("snyk", real / f"snyk-to-html/{n}") for n in ("test-report.json", "multi-test-report.json",
            "test-report-unmanaged-cpp.json", "test-exploit-maturity.json")]  # fmt: skip
    out += [("sarif", p) for p in sorted(v2.rglob("*.sarif"))]
    out += [("sarif", real / "snyk-to-html/test-code-openrefine.json"), ("sarif", real / "trivy/sarif/alpine-310.sarif.golden")]
    out += [("falco", real / FALCO), ("opa", real / OPA)]
    out += [("alertmanager", p) for p in sorted((real / "prometheus-msteams").rglob("*.json"))]
    cases = Path(__file__).resolve().parents[1] / "cases/sonarqube"
    out += [("sonarqube", cases / "issues_search.json"), ("sonarqube", cases / "hotspots_search.json")]
    return out


def test_every_written_field_exists_in_its_ocsf_class(real: Path) -> None:
    classes: dict[str, set[str]] = {}
    for name, path in _samples(real):
        res = formats.get(name).decode(path.read_bytes(), str(path))
        for b in res.batches:
            cls = class_name_of(b.column("class_uid")[0].as_py())
            assert validate_batch(cls, b.schema) == [], f"{name} {path.name}: fields not in {cls}"
            classes.setdefault(name, set()).add(cls)
    assert classes["trivy"] == {"vulnerability_finding", "compliance_finding", "data_security_finding"}
    assert classes["sarif"] == {"application_security_posture_finding"}
    assert classes["falco"] == classes["alertmanager"] == {"detection_finding"}
    assert classes["opa"] == {"api_activity"}


@pytest.mark.parametrize("name", MINE)
def test_registered(name: str) -> None:
    assert formats.get(name).name == name


def test_auto_detection_picks_the_right_format(real: Path) -> None:
    for name, path in _samples(real):
        fmt = formats.detect(path.read_bytes()[: 64 * 1024])
        assert fmt is not None and fmt.name == name, f"{path.name}: detected {fmt and fmt.name}, want {name}"
