"""Cloud and runtime formats against other versions of their producers (sixteenth round).

- Falco: the fields Falco's stock rules print besides the process name (``proc.exepath``,
  ``proc.pname``/``ppid``, ``user.uid``, a connection's ``fd.cport``/``fd.sport``) were left in
  ``evidences[0].data`` only; a pid or port outside int32 would have failed the batch.
- CEF dates with a zone (UTC/GMT or numeric) and LEEF 2.0 with its optional delimiter field
  left empty: see the tests below.
- ``journalctl -o json`` entries (also Fluent Bit's systemd input, Vector's journald source)
  matched no format and were dead-lettered whole; they are read as syslog messages.

- Alertmanager API v1 (Alertmanager up to 0.26): ``/api/v1/alerts`` and ``/api/v1/alerts/groups``
  answers are wrapped as ``{"status": "success", "data": [...]}`` (``api/v1/api.go``); v1 alerts
  have no ``updatedAt`` and name their receivers as plain strings, v1 groups hold their alerts in
  per-route ``blocks``. Such an answer matched no format and was dead-lettered whole. The cases
  are the real Alertmanager 0.27 answer of ``tests/cases/holdout`` (Karma's recording) rewritten
  in the v1 shapes (spec-built, not third-party files).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from secpipe import formats
from tests.unit.native_support import same_both_ways
from tests.unit.test_formats_holdout import CASES, _rows

GROUPS = "karma-alertmanager-v2-alerts-groups.json"


def _v1_alert(a: dict[str, Any]) -> dict[str, Any]:
    """A v2 ``gettableAlert`` as API v1 wrote it: no updatedAt/mutedBy, receivers by name."""
    out = {k: v for k, v in a.items() if k != "updatedAt"}
    out["receivers"] = [r["name"] for r in a["receivers"]]
    out["status"] = {k: v for k, v in a["status"].items() if k != "mutedBy"}
    return out


def _v2_groups() -> list[dict[str, Any]]:
    groups: list[dict[str, Any]] = json.loads((CASES / GROUPS).read_bytes())
    return groups


def _v1_alerts() -> bytes:
    seen: dict[str, Any] = {}
    for g in _v2_groups():
        for a in g["alerts"]:
            seen.setdefault(a["fingerprint"], _v1_alert(a))
    return json.dumps({"status": "success", "data": list(seen.values())}, indent=2).encode()


def _v1_groups() -> bytes:
    data = [{"labels": g["labels"], "groupKey": f"{{}}:{json.dumps(g['labels'])}",
             "blocks": [{"routeOpts": {"receiver": g["receiver"]["name"], "groupBy": ["alertname"]},
                         "alerts": [_v1_alert(a) for a in g["alerts"]]}]}
            for g in _v2_groups()]  # fmt: skip
    return json.dumps({"status": "success", "data": data}).encode()


def test_alertmanager_api_v1_alerts_mapped_as_v2() -> None:
    data = _v1_alerts()
    fmt = formats.detect(data[:65536])
    assert fmt is not None and fmt.name == "alertmanager"
    d = fmt.decode(data, "v1.json")
    assert not d.dead and d.events == 3
    rows = _rows(d)
    assert [r["finding_info"]["uid"] for r in rows] == ["aae7a1432b5d2f1b", "54c2f185e49cfccb", "5cb0dd95e7f3d9c0"]
    assert {r["metadata"]["log_name"] for r in rows} == {"api/v1/alerts"}
    assert [(r["status_id"], r["status_detail"]) for r in rows] == [(1, "active"), (3, "suppressed"), (1, "active")]
    r = rows[1]
    assert r["class_uid"] == 2004 and r["activity_id"] == 1 and r["time"] == 1709199592576  # startsAt
    assert r["finding_info"]["title"] == "Example summary" and r["finding_info"]["analytic"]["name"] == "HTTP_Probe_Failed"
    assert r["finding_info"]["modified_time"] is None and r["finding_info"]["last_seen_time"] == r["time"]  # no updatedAt
    assert json.loads(r["unmapped"])["receivers"] == ["by-cluster-service", "by-name"]
    # the v2 answer of the same alerts gives the same findings
    v2 = _rows(formats.get("alertmanager").decode(json.dumps(_v2_groups()).encode(), "v2.json"))
    by_uid = {x["finding_info"]["uid"]: x for x in v2}
    for r in rows:
        ref = by_uid[r["finding_info"]["uid"]]
        for key in ("class_uid", "severity_id", "time", "status_id", "message"):
            assert r[key] == ref[key], key


def test_alertmanager_api_v1_groups_blocks() -> None:
    d = formats.get("alertmanager").decode(_v1_groups(), "groups.json")
    assert not d.dead and d.events == 4
    rows = _rows(d)
    assert [r["finding_info"]["uid"] for r in rows] == ["aae7a1432b5d2f1b", "54c2f185e49cfccb", "5cb0dd95e7f3d9c0",
                                                         "aae7a1432b5d2f1b"]  # fmt: skip
    assert len({r["metadata"]["uid"] for r in rows}) == 4  # one alert in two groups: two events
    assert {r["metadata"]["log_name"] for r in rows} == {"api/v1/alerts/groups"}
    group = json.loads(rows[1]["unmapped"])["group"]
    assert group["receiver"] == "by-name" and group["labels"] == {"alertname": "HTTP_Probe_Failed"}


@pytest.mark.parametrize("doc", [
    b'{"status": "error", "errorType": "bad_data", "error": "x", "data": []}',
    b'{"status": "success", "data": []}',
    b'{"status": "success", "data": [{"blocks": 3}]}',
])  # fmt: skip
def test_alertmanager_api_v1_not_alerts_dead_lettered(doc: bytes) -> None:
    d = formats.get("alertmanager").decode(doc, "s")
    assert not d.batches and len(d.dead) == 1


def test_alertmanager_api_v1_sniff_needs_alert_keys() -> None:
    am = formats.get("alertmanager")
    assert am.sniff(_v1_alerts()[:4096]) == 90
    assert am.sniff(b'{"status": "success", "data": [{"metric": {}, "value": [1, "1"]}]}') == 0  # a Prometheus query


# --------------------------------------------------------------------------------------
# CEF dates with a zone, LEEF 2.0 with the optional delimiter field left empty
# --------------------------------------------------------------------------------------

SEP19 = 1695111970000  # 2023-09-19T08:26:10Z


@pytest.mark.parametrize(("stamp", "want"), [
    ("rt=Sep 19 2023 08:26:10.123 UTC", SEP19 + 123),
    ("rt=Sep 19 2023 08:26:10 GMT", SEP19),
    ("start=Sep 19 2023 10:26:10 GMT+02:00", SEP19),
    ("start=Sep 19 2023 03:26:10 -0500", SEP19),
    ("rt=Sep 19 2023 10:26:10.500 +02:00", SEP19 + 500),
    ("rt=Sep 19 2023 08:26:10", SEP19),  # no zone: UTC, as before
    ("rt=1695111970000", SEP19),
])  # fmt: skip
def test_cef_date_zones(stamp: str, want: int) -> None:
    """ArcSight CEF's date formats end in an optional ``zzz``; a bare CEF line takes its time from ``rt``/``start``."""
    line = f"CEF:0|Vendor|Product|1.0|100|Name|5|src=10.0.0.1 {stamp} dst=10.0.0.2\n".encode()
    d = formats.get("syslog").decode(line, "cef.log")
    (r,) = _rows(d)
    assert r["time"] == want and not r["metadata"].get("labels")
    assert json.loads(r["unmapped"])["cef"]["extension"]["dst"] == "10.0.0.2"


def test_cef_date_named_zone_is_not_guessed() -> None:
    d = formats.get("syslog").decode(b"CEF:0|V|P|1|100|N|5|rt=Sep 19 2023 08:26:10 CEST\n", "cef.log")
    (r,) = _rows(d)
    assert r["metadata"].get("labels") == ["secpipe:time_from_receipt"]  # CEST, IST ...: ambiguous, not read


def test_leef2_empty_delimiter_field_is_tab() -> None:
    lines = (b"LEEF:2.0|Lancope|StealthWatch|1.0|41||src=10.0.1.8\tdst=10.0.0.5\tsev=7\n"
             b"LEEF:2.0|Lancope|StealthWatch|1.0|41|src=10.0.1.8\tdst=10.0.0.5\tsev=7\n"
             b"LEEF:2.0|Lancope|StealthWatch|1.0|41|x09|src=10.0.1.8\tdst=10.0.0.5\tsev=7\n")  # fmt: skip
    rows = _rows(formats.get("syslog").decode(lines, "leef.log"))
    assert [json.loads(r["unmapped"])["leef"]["extension"] for r in rows] == [
        {"src": "10.0.1.8", "dst": "10.0.0.5", "sev": "7"}] * 3
    assert {r["severity_id"] for r in rows} == {4}


# --------------------------------------------------------------------------------------
# Falco: the process path, parent, user id and connection ports the stock rules print
# --------------------------------------------------------------------------------------


def test_falco_process_parent_and_user_uid_from_real_alert(monkeypatch: pytest.MonkeyPatch) -> None:
    """A recorded Falco alert (Elastic's test data, tests/cases/holdout): ``proc.exepath``,
    ``proc.pname`` and ``user.uid`` were only in ``evidences[0].data``."""
    line = (CASES / "elastic-falco-alerts.log").read_bytes().splitlines()[0]
    d = same_both_ways("falco", line, monkeypatch, "falco process fields")
    (r,) = _rows(d)
    proc = r["evidences"][0]["process"]
    assert proc["name"] == "event-generator" and proc["path"] == "/bin/event-generator"
    assert [{k: v for k, v in a.items() if v is not None} for a in proc["ancestry"]] == [{"name": "containerd-shim"}]
    assert proc["user"]["name"] == "root" and proc["user"]["uid"] == "0"


def test_falco_connection_ports_and_ranges(real: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    alerts = [json.loads(x) for x in (real / "falco/test/output_files/single_rule_with_cat_write.json").read_text().splitlines()]
    a, b = alerts[0], alerts[1]
    a["output_fields"].update({"fd.cip": "10.0.0.2", "fd.cport": 51234, "fd.sip": "10.0.0.1", "fd.sport": "443",
                               "proc.pname": "bash", "proc.ppid": 4242})  # fmt: skip
    b["output_fields"].update({"proc.ppid": 2**40, "fd.sport": "<NA>", "user.uid": 4294967295, "proc.pid": 2**40})
    doc = "\n".join(json.dumps(x) for x in (a, b)).encode()
    d = same_both_ways("falco", doc, monkeypatch, "falco ports")
    assert not d.dead
    ra, rb = (r["evidences"][0] for r in _rows(d))
    assert (ra["src_endpoint"]["ip"], ra["src_endpoint"]["port"]) == ("10.0.0.2", 51234)
    assert (ra["dst_endpoint"]["ip"], ra["dst_endpoint"]["port"]) == ("10.0.0.1", 443)
    assert [(p["name"], p["pid"]) for p in ra["process"]["ancestry"]] == [("bash", 4242)]
    # out-of-range and non-numbers are no value (the batch is not lost); the uid is kept as written
    assert rb["process"]["pid"] is None and rb["process"].get("ancestry") is None
    assert rb.get("dst_endpoint") is None and rb["process"]["user"]["uid"] == "4294967295"


# --------------------------------------------------------------------------------------
# OPA: a caller port out of the TCP range is no port (it failed the whole document)
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize(("requested_by", "port"), [("[::1]:59943", 59943), ("[::1]:99999999999", None),
                                                    ("[::1]:70000", None), ("[::1]:0", 0)])  # fmt: skip
def test_opa_caller_port_range(real: Path, requested_by: str, port: int | None) -> None:
    (event,) = json.loads((real / "opa-docs/management-decision-logs.example1.json").read_text())
    event["requested_by"] = requested_by
    envoy = dict(event, decision_id="envoy", input={"attributes": {"source": {"address": {"socketAddress": {
        "address": "10.0.0.9", "portValue": port if port is not None else 2**40}}}}})  # fmt: skip
    d = formats.get("opa").decode(json.dumps([event, envoy]).encode(), "opa.json")
    assert not d.dead
    rows = _rows(d)
    assert [(r["src_endpoint"]["ip"], r["src_endpoint"]["port"]) for r in rows] == [("::1", port), ("10.0.0.9", port)]


# --------------------------------------------------------------------------------------
# journalctl -o json: journal entries read as syslog messages
# --------------------------------------------------------------------------------------

# Entries as ``journalctl -o json`` writes them (systemd.journal-fields(7)); the messages are the
# real RFC 5424 section 6.5 example's and an sshd line of the shape the syslog tests use.
_SSHD = {"__CURSOR": "s=6f1;i=2a1;b=9c;m=1e4;t=60a;x=5d", "__REALTIME_TIMESTAMP": "1700000000223456",
         "__MONOTONIC_TIMESTAMP": "98765432", "_BOOT_ID": "9c8e", "PRIORITY": "6", "SYSLOG_FACILITY": "4",
         "SYSLOG_IDENTIFIER": "sshd", "_PID": "1234", "_UID": "0", "_COMM": "sshd", "_HOSTNAME": "web1",
         "_TRANSPORT": "syslog", "_SOURCE_REALTIME_TIMESTAMP": "1700000000123456",
         "MESSAGE": "Accepted publickey for bob from 10.0.0.5 port 52311 ssh2: RSA SHA256:x"}  # fmt: skip


def _journal_doc(*entries: dict[str, Any]) -> bytes:
    return b"".join(json.dumps(e).encode() + b"\n" for e in entries)


def test_journal_json_entries_mapped_as_syslog(real: Path) -> None:
    su = (real / "rfc5424-spec/rfc5424_section6.5_examples.log").read_text().splitlines()[0]
    text = su.split(" - ID47 - ", 1)[1].lstrip("\ufeff")  # "'su root' failed for lonvick on /dev/pts/8"
    kernel = {"__CURSOR": "s=6f1;i=2a2", "__REALTIME_TIMESTAMP": "1700000001000000", "PRIORITY": "3",
              "SYSLOG_FACILITY": "0", "SYSLOG_IDENTIFIER": "kernel", "_HOSTNAME": "web1", "_TRANSPORT": "kernel",
              "MESSAGE": "Out of memory: Killed process 4242 (java)"}  # fmt: skip
    su_entry = {"__CURSOR": "s=6f1;i=2a3", "__REALTIME_TIMESTAMP": "1065910455003000", "PRIORITY": "2",
                "SYSLOG_FACILITY": "4", "_COMM": "su", "SYSLOG_PID": "77", "_PID": "78",
                "_HOSTNAME": "mymachine.example.com", "MESSAGE_ID": "ID47", "MESSAGE": text}  # fmt: skip
    doc = _journal_doc(_SSHD, kernel, su_entry)
    fmt = formats.detect(doc[:65536])
    assert fmt is not None and fmt.name == "syslog"
    d = fmt.decode(doc, "journal.json")
    assert not d.dead and d.events == 3
    rows = {r["message"]: r for r in _rows(d)}
    ssh = rows[_SSHD["MESSAGE"]]
    assert ssh["class_uid"] == 3002 and ssh["status_id"] == 1 and ssh["user"]["name"] == "bob"
    assert (ssh["src_endpoint"]["ip"], ssh["src_endpoint"]["port"]) == ("10.0.0.5", 52311)
    assert ssh["time"] == 1700000000123  # _SOURCE_REALTIME_TIMESTAMP before __REALTIME_TIMESTAMP
    assert (ssh["actor"]["process"]["name"], ssh["actor"]["process"]["pid"]) == ("sshd", 1234)
    assert ssh["device"]["hostname"] == "web1" and ssh["metadata"]["log_format"] == "journal JSON"
    assert json.loads(ssh["raw_data"]) == _SSHD and json.loads(ssh["unmapped"]) == {"facility": "auth"}
    k = rows[kernel["MESSAGE"]]
    assert k["class_uid"] == 0 and k["severity_id"] == 4 and k["metadata"]["log_level"] == "err"
    assert k["time"] == 1700000001000 and k["actor"]["process"]["name"] == "kernel"
    s = rows[text]
    assert s["class_uid"] == 3002 and s["status_id"] == 2 and s["time"] == 1065910455003  # as the 5424 example
    assert s["actor"]["process"]["name"] == "su" and s["actor"]["process"]["pid"] == 77  # SYSLOG_PID before _PID
    assert s["metadata"]["event_code"] == "ID47" and s["severity_id"] == 5


def test_journal_json_byte_arrays_repeats_and_bad_lines() -> None:
    latin1 = dict(_SSHD, __CURSOR="s=1", MESSAGE=list(b"caf\xe9 au lait"), _HOSTNAME=["web1", "web1b"])
    two = b'{"MESSAGE": "a", "_HOSTNAME": "h"}, {"MESSAGE": "b", "_HOSTNAME": "h"}\n'  # two values on one line
    doc = _journal_doc(latin1) + b'{"MESSAGE": "not closed"\n' + two + _journal_doc(dict(_SSHD, __CURSOR="s=2"))
    d = formats.get("syslog").decode(doc, "journal.json")
    assert d.events == 4 and len(d.dead) == 2
    assert all(x.reason.startswith("not a journal JSON entry") for x in d.dead)
    rows = _rows(d)
    assert [r["message"] for r in rows if r["class_uid"] == 0] == ["caf\\xe9 au lait"]
    assert {r["device"]["hostname"] for r in rows} == {"web1"}


@pytest.mark.parametrize("name", ["falco/test/trace_files/k8s_audit/create_secret.json",
                                  "opa-docs/management-decision-logs.example1.json"])  # fmt: skip
def test_journal_sniff_leaves_other_json(real: Path, name: str) -> None:
    data = (real / name).read_bytes()
    fmt = formats.detect(data[:65536])
    assert fmt is not None and fmt.name != "syslog"
