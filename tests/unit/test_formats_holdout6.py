"""Real samples secpipe was not developed against, sixth round (``tests/cases/holdout``, see its SOURCE.md).

Nothing lost, nothing merged: N distinct events of a file are N stored rows with N distinct
``metadata.uid``. Expectations are written from the source documents and the format
specifications, not from secpipe's output.

Regressions covered: OPA's console output (``opa run`` with the console decision logger, as an
Envoy sidecar writes it) interleaves the server's own log lines with the decisions; those lines
were dead-lettered, so a captured log never ingested cleanly.
"""

from __future__ import annotations

import json

import pytest

from secpipe import formats
from tests.unit.test_formats_holdout import CASES, _auto, _rows


def test_opa_console_output_keeps_decisions_only() -> None:
    name, d = _auto("opa-envoy-console-log.jsonl")
    assert name == "opa"
    assert not d.dead and d.events == 1  # 3 server log lines, 1 decision
    (r,) = _rows(d)
    assert r["class_uid"] == 6003
    assert r["api"]["operation"] == "envoy/authz/allow"
    assert r["api"]["request"]["uid"] == "55665fb1-9f83-4899-94c0-6c276d274388"
    assert r["time"] == 1764345747495  # timestamp 2025-11-28T16:02:27.495578005Z
    assert r["action_id"] == 1 and r["authorizations"][0]["decision"] == "allowed"  # result true
    assert r["activity_id"] == 2  # Envoy's request method GET
    assert r["src_endpoint"]["ip"] == "127.0.0.1" and r["src_endpoint"]["port"] == 48524
    assert r["http_request"]["url"]["path"] == "/api/test"
    assert r["http_request"]["user_agent"] == "curl/8.7.1"
    assert r["metadata"]["product"]["version"] == "1.11.0"  # labels.version


@pytest.mark.parametrize("line", [
    {"level": "debug", "msg": "no decision", "decision_id": "x", "path": "a/b", "result": True},
    {"level": "info", "msg": "Decision Log", "path": "a/b", "result": False, "type": "openpolicyagent.org/decision_logs"},
])  # fmt: skip
def test_opa_decision_lines_with_logger_keys_stay_decisions(line: dict) -> None:
    d = formats.get("opa").decode(json.dumps(line).encode(), "t")
    assert not d.dead and len(_rows(d)) == 1


def test_opa_other_records_still_dead_lettered() -> None:
    """Only logrus-shaped lines (``level`` and ``msg`` strings) are left out; other objects without
    ``decision_id`` or ``path`` are still refused with a reason."""
    data = b'{"level":1,"msg":"x"}\n{"foo":"bar"}\n{"level":"info","msg":"OPA is up to date."}\n'
    d = formats.get("opa").decode(data, "t")
    assert len(d.dead) == 2 and d.events == 2 and not _rows(d)


def test_falco_elastic_alerts() -> None:
    """Falco 0.37+ json_output with typed ``output_fields`` (integer ``evt.time.iso8601``, lists for
    ``container.image.digest`` and ``k8s.pod.labels``), Falcosidekick's ``uuid`` and an empty tag."""
    name, d = _auto("elastic-falco-alerts.log")
    assert name == "falco"
    rows = _rows(d)
    assert not d.dead and len(rows) == 7
    assert len({r["metadata"]["uid"] for r in rows}) == 7
    assert [r["severity_id"] for r in rows] == [3, 3, 3, 3, 5, 2, 5]  # Warning x4, Critical, Notice, Critical
    assert rows[0]["time"] == 1715108059341  # time 2024-05-07T18:54:19.341081180Z
    assert rows[2]["resources"] == [{"type": "pod", "name": "kubernetes-pod-1", "namespace": "kubernetes-ns",
                                     "uid": "aadadjh763wiuh"}]  # fmt: skip
    ev = rows[3]["evidences"][0]
    assert ev["src_endpoint"]["ip"] == "216.160.83.56" and ev["dst_endpoint"]["ip"] == "89.160.20.112"
    assert rows[4]["evidences"][0]["process"]["pid"] == 133567
    assert rows[5]["finding_info"]["uid"] == "7466e462-ddde-434d-8dee-390ca5656f83"
    assert rows[1]["evidences"][0]["container"]["image"] == {
        "name": "falcosecurity/event-generator", "tag": "0.10.0",
        "uid": "16e0fa09a4f1018f22be6cce3ec21848dccaa566b063bda4c814c37dc36adfea"}  # container.image.id
    assert rows[1]["device"] == {"hostname": "97ade2b595f0", "type_id": 0, "type": "Unknown"}
    assert "container" not in rows[1]["metadata"]["profiles"]  # not a profile of Detection Finding
    assert rows[6]["device"]["hostname"] == "minikube"
    assert "" not in rows[6]["finding_info"]["types"]  # tags ["", "PCI_DSS_11.5.1", ...]


def test_github_audit_team_events_name_the_team() -> None:
    """Team events name the team (``org/team``): top-level ``team`` in audit-log streaming and the
    REST API, ``data.team`` in the older export; it is a resource beside the repository/user/org."""
    name, d = _auto("elastic-github-organisation-audit.log")
    assert name == "github"
    rows = _rows(d)
    assert not d.dead and len(rows) == 7 and len({r["metadata"]["uid"] for r in rows}) == 7
    res = [{(x["type"], x["name"]) for x in r["resources"] or []} for r in rows]
    assert res[1] == {("organization", "Example-Org"), ("team", "Example-Org/authors")}  # team.create
    assert ("team", "Example-Org/admins") in res[3] and ("repository", "Example-Org/repo-123") in res[3]
    assert not any(t == "team" for t, _ in res[4])  # data without a team
    assert [r["activity_id"] for r in rows[:3]] == [1, 1, 1]  # invite, create, add
    assert rows[0]["src_endpoint"]["location"]["country"] == "US"
    assert rows[1]["time"] == 1611618092215


def test_github_audit_top_level_team() -> None:
    line = b'{"action":"team.add_member","actor":"octocat","team":"octo-org/a-team","user":"monalisa","org":"octo-org","@timestamp":1606929874512}'
    d = formats.get("github").decode(line, "t")
    (r,) = _rows(d)
    assert {"type": "team", "name": "octo-org/a-team", "uid": None} in r["resources"]


def test_github_security_and_analysis_is_an_update() -> None:
    """The payload has no ``action``: it reports the repository's security settings changed
    (``changes.from`` holds the old ones), an Update by the sender."""
    name, d = _auto("security_and_analysis.payload.json")
    assert name == "github"
    (r,) = _rows(d)
    assert r["class_uid"] == 6003 and r["activity_id"] == 3
    assert r["api"]["operation"] == "security_and_analysis"
    assert r["actor"]["user"]["name"] == "octocat"
    assert {(x["type"], x["name"]) for x in r["resources"]} == {("repository", "github/octo-repo"),
                                                               ("organization", "octo-org")}  # fmt: skip


def test_opa_http_api_tutorial_input() -> None:
    """OPA's HTTP API authorization tutorial (docs ``http-api-authorization``) passes the request as
    ``{"method": "GET", "path": ["finance", "salary", "alice"], "user": "alice"}``: the path is a
    segment list and the user a string. A decision log of that query (shape of the decision-log
    docs) names the URL path and the caller."""
    rec = {"decision_id": "4ca636c1-55e4-417a-b1d8-4aceb67960d1", "path": "httpapi/authz",
           "input": {"method": "GET", "path": ["finance", "salary", "alice"], "user": "alice"},
           "result": {"allow": True}, "requested_by": "[::1]:59943", "timestamp": "2018-01-01T00:00:00.000000Z"}
    (r,) = _rows(formats.get("opa").decode(json.dumps(rec).encode(), "t"))
    assert r["http_request"]["url"]["path"] == "/finance/salary/alice"
    assert r["http_request"]["http_method"] == "GET" and r["activity_id"] == 2
    assert r["actor"]["user"]["name"] == "alice"
    assert r["action_id"] == 1
    bad = dict(rec, input={"path": ["a", 1], "user": {"name": "x"}})  # not the documented shapes: no guess
    (r,) = _rows(formats.get("opa").decode(json.dumps(bad).encode(), "t"))
    assert r["http_request"] is None and r["actor"] is None


def test_falco_syslog_output_lines() -> None:
    """Falco's syslog output (json_output on): each line is a syslog header, then the JSON alert.
    The alerts are read whole; the same alert written plainly has the same ``metadata.uid``."""
    name, d = _auto("elastic-falco-syslog-sample.log")
    assert name == "falco"
    rows = _rows(d)
    assert not d.dead and len(rows) == 2
    assert [r["finding_info"]["uid"] for r in rows] == ["23716645-4d9d-4254-9429-2a287a9af199",
                                                       "a9f98848-b6de-4762-9208-3aa6ea75836b"]  # fmt: skip
    assert [r["severity_id"] for r in rows] == [2, 1]  # Notice, Informational
    assert rows[0]["time"] == 1723038556479 and rows[0]["device"]["hostname"] == "e822ea6618ae"
    line = (CASES / "elastic-falco-syslog-sample.log").read_bytes().splitlines()[0]
    alert = line[line.index(b"{"):]
    plain = _rows(formats.get("falco").decode(alert, "t"))
    assert plain[0]["metadata"]["uid"] == rows[0]["metadata"]["uid"]
    for head in (b"<13>Aug  7 13:49:16 a72f9a747cf8 falco: ", b"Aug  7 13:49:16 a72f9a747cf8 falco[812]: ",
                 b"<13>1 2024-08-07T13:49:16Z a72f9a747cf8 falco 1 - - ", b"<13>1 2024-08-07T13:49:16Z h falco - - [x@1 a=\"b\"] "):  # fmt: skip
        other = formats.get("falco").decode(head + alert + b"\n", "t")
        assert not other.dead, head
        assert _rows(other)[0]["metadata"]["uid"] == rows[0]["metadata"]["uid"]


def test_falco_syslog_other_lines_still_dead_lettered() -> None:
    data = b'<13>Aug  7 13:49:16 host sshd[1]: Accepted password for x\n<13>Aug  7 13:49:16 host app: {"rule":"r"}\n'
    d = formats.get("falco").decode(data, "t")
    assert len(d.dead) == 2 and not _rows(d)


def test_aks_records_in_the_event_hubs_envelope() -> None:
    """Azure diagnostic settings stream resource logs to Event Hubs as ``{"records": [...]}``; each
    record is one event (the AKS kube-audit Event inside ``properties.log``)."""
    line = (CASES / "elastic-aks-kube-audit.log").read_bytes().strip()
    name, d = _auto("elastic-aks-kube-audit.log")
    (plain,) = _rows(d)
    assert name == "k8s_audit" and plain["api"]["request"]["uid"] == "ad26f7bc-f1c6-4097-90f1-e0924e12f257"
    other = json.loads(line)
    other["properties"]["log"] = other["properties"]["log"].replace("ad26f7bc", "bd26f7bc")
    env = json.dumps({"records": [json.loads(line), other]}).encode()
    fmt = formats.detect(env)
    assert fmt is not None and fmt.name == "k8s_audit"
    out = fmt.decode(env, "eventhub")
    rows = _rows(out)
    assert not out.dead and out.events == 2 and len(rows) == 2
    assert rows[0]["metadata"]["uid"] == plain["metadata"]["uid"]  # the Event's uid, whatever the wrapper
    assert rows[1]["api"]["request"]["uid"] == "bd26f7bc-f1c6-4097-90f1-e0924e12f257"
    assert rows[0]["activity_id"] == 3 and rows[0]["actor"]["user"]["name"] == "aksService"
    bad = formats.get("k8s_audit").decode(b'{"records":[{"foo":1},{"category":"kube-audit","properties":{"log":"x"}}]}', "t")
    assert len(bad.dead) == 2 and bad.events == 2 and not _rows(bad)
