"""Windows security events kept as JSON or XML get their OCSF classes, as NXLog's syslog lines do
(session 31, :mod:`secpipe.formats._winrecords`): they were Base Events. The record stays whole in
``raw_data`` / ``unmapped``, where Sigma's Windows rules read it.

Samples: tests/cases/evtx_xml (Microsoft's 4624/4625/4672/4688 event XML, OSSEM's Sysmon 3, SigmaHQ's
wocao Sysmon 1 as wevtutil writes it), SigmaHQ's evtx JSON regression records (tests/cases/sigma_holdout),
Elastic's Winlogbeat documents (tests/cases/winevents31, tests/cases/holdout/winlogbeat-1102), a CTF
write-up's Wazuh alerts (test_logs_holdout30).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson

from secpipe import formats
from secpipe.detect.sigma import load_rules
from secpipe.schema.conformance import check_rows
from tests.unit.test_logs_holdout30 import _WAZUH_LOGON, _WAZUH_SYSMON

CASES = Path(__file__).resolve().parents[1] / "cases"
XML, RULES, WIN = CASES / "evtx_xml", CASES / "sigma_holdout", CASES / "winevents31"


def _rows(fmt: str, body: bytes) -> list[dict[str, Any]]:
    dec = formats.get(fmt).decode(body, "t")
    assert not dec.dead, dec.dead
    return [r for b in dec.batches for r in b.to_pylist()]


def _one(fmt: str, body: bytes) -> dict[str, Any]:
    (row,) = _rows(fmt, body)
    cls = {3002: "authentication", 3003: "authorize_session", 1007: "process_activity", 4001: "network_activity",
           1008: "event_log_actvity"}[row["class_uid"]]
    # every column the class has, its required ones present (endpoints and the device named by address or
    # host name only, as for syslog's events: test_ocsf_conformance's ALLOWED)
    assert [p for p in check_rows(cls, [row]) if not p.endswith("constraint at_least_one ['name', 'uid'] none present")] == [], cls
    return row


def test_event_xml_gets_the_classes_of_its_events() -> None:
    logon = _one("evtx_xml", (XML / "ms-docs-4624.xml").read_bytes())
    assert (logon["class_uid"], logon["activity_id"], logon["status"], logon["metadata"]["event_code"]) == (3002, 1, "Success", "4624")
    assert (logon["user"]["name"], logon["user"]["domain"], logon["logon_type_id"], logon["is_remote"]) == \
        ("Administrator", "WIN-GG82ULGC9GO", 2, False)
    assert (logon["src_endpoint"]["ip"], logon["auth_protocol"], logon["service"]["name"]) == ("127.0.0.1", "Negotiate", "User32")
    assert logon["device"]["hostname"] == logon["dst_endpoint"]["hostname"] == "WIN-GG82ULGC9GO"
    # the record as the json format keeps it (the evtx crate's layout), for Sigma's rules
    assert orjson.loads(logon["raw_data"])["Event"]["EventData"]["TargetUserName"] == "Administrator"
    assert logon["unmapped"] == logon["raw_data"] and logon["metadata"]["log_name"] == "json"
    failed = _one("evtx_xml", (XML / "ms-docs-4625.xml").read_bytes())
    assert (failed["status_id"], failed["status_code"], failed["user"]["name"]) == (2, "0xc0000234", "Auditor")
    special = _one("evtx_xml", (XML / "ms-docs-4672.xml").read_bytes())
    assert (special["class_uid"], special["activity_name"], special["user"]["name"]) == (3003, "Assign Privileges", "dadmin")
    assert special["privileges"][:2] == ["SeTcbPrivilege", "SeSecurityPrivilege"] and len(special["privileges"]) == 10
    proc = _one("evtx_xml", (XML / "ms-docs-4688.xml").read_bytes())
    assert (proc["class_uid"], proc["process"]["name"], proc["process"]["pid"]) == (1007, "rundll32.exe", 0x2BC)
    assert (proc["actor"]["process"]["name"], proc["actor"]["user"]["name"]) == ("explorer.exe", "WIN-GG82ULGC9GO$")
    conn = _one("evtx_xml", (XML / "ossem-sysmon3.xml").read_bytes())
    assert (conn["class_uid"], conn["connection_info"]["direction"], conn["dst_endpoint"]["port"]) == (4001, "Outbound", 88)
    assert (conn["src_endpoint"]["ip"], conn["actor"]["process"]["name"]) == ("192.168.64.137", "lsass.exe")
    # what no mapping names stays a Base Event (Sysmon 11, a service installed)
    assert [r["class_uid"] for f in ("ossem-sysmon11.xml", "atc-7045.xml") for r in _rows("evtx_xml", (XML / f).read_bytes())] == [0, 0]


def test_evtx_json_winlogbeat_and_wazuh_records_get_their_classes() -> None:
    wocao = _one("json", (RULES / "sigmahq-regression-proc_creation_win_apt_wocao.json").read_bytes())
    assert (wocao["class_uid"], wocao["process"]["name"], wocao["actor"]["process"]["name"]) == (1007, "cmd.exe", "powershell.exe")
    assert wocao["process"]["cmd_line"].startswith('"cmd.exe" /c schtasks /create /ru system')
    qualified = orjson.loads((RULES / "sigmahq-regression-proc_creation_win_apt_wocao.json").read_bytes())
    qualified["Event"]["System"]["EventID"] = {"#attributes": {"Qualifiers": 0}, "#text": 1}  # (as the evtx crate writes it)
    assert _one("json", orjson.dumps(qualified))["class_uid"] == 1007
    cleared = _one("json", (RULES / "sigmahq-regression-win_security_audit_log_cleared.json").read_bytes())
    assert (cleared["class_uid"], cleared["log_name"], cleared["actor"]["user"]["name"]) == (1008, "Security", "admin01")
    beat = _one("json", (CASES / "holdout" / "winlogbeat-1102.evtx.golden.json").read_bytes())  # its UserData
    assert (beat["class_uid"], beat["actor"]["user"]["name"], beat["time"]) == (1008, "Administrator", 1573122869055)
    tgt = _one("json", (WIN / "winlogbeat-4768.evtx.golden.json").read_bytes())
    assert (tgt["activity_name"], tgt["status"], tgt["user"]["name"], tgt["user"]["uid"][-5:]) == \
        ("Authentication Ticket", "Success", "at_adm", "-2794")
    assert (tgt["auth_protocol_id"], tgt["service"]["name"], tgt["src_endpoint"]["ip"], tgt["src_endpoint"]["port"]) == \
        (2, "krbtgt", "::1", None)  # (port 0: none)
    pre = _one("json", (WIN / "winlogbeat-4771.evtx.golden.json").read_bytes())
    assert (pre["activity_name"], pre["status"], pre["status_code"]) == ("Preauth", "Failure", "0x12")
    assert (pre["src_endpoint"]["ip"], pre["src_endpoint"]["port"]) == ("192.168.5.44", 53366)  # ::ffff:192.168.5.44
    ntlm = _one("json", (WIN / "winlogbeat-4776.evtx.golden.json").read_bytes())
    assert (ntlm["activity_id"], ntlm["status"], ntlm["auth_protocol"], ntlm["auth_protocol_id"]) == (1, "Success", "NTLM", 1)
    assert (ntlm["user"]["name"], ntlm["src_endpoint"]["hostname"]) == ("at_adm", "EQP01777")
    # Wazuh: the EventData names lower-cased, backslashes and quotes escaped once more; the event's own time
    rows = {r["class_uid"]: r for r in _rows("json", orjson.dumps(_WAZUH_SYSMON) + b"\n" + orjson.dumps(_WAZUH_LOGON))}
    ps = rows[1007]
    assert ps["process"]["file"]["path"] == "C:\\Windows\\System32\\WindowsPowerShell\\v1.0\\powershell.exe"
    assert ps["process"]["cmd_line"].startswith('"C:\\Windows\\System32\\WindowsPowerShell\\v1.0\\powershell.exe" -NoP')
    assert (ps["process"]["pid"], ps["device"]["hostname"], ps["time"]) == (5096, "DESKTOP-RL1K13Q", 1755074547275)
    assert (rows[3002]["user"]["name"], rows[3002]["logon_type"], rows[3002]["service"]["name"]) == ("SYSTEM", "OS Service", "Advapi")


def test_one_event_in_each_shape_is_the_same_event() -> None:
    """Microsoft's 4624 as Event XML, as the evtx crate's JSON of it, as Winlogbeat ships it and as NXLog
    sends it over syslog: the same Authentication columns."""
    (xml_row,) = _rows("evtx_xml", (XML / "ms-docs-4624.xml").read_bytes())
    record = orjson.loads(xml_row["raw_data"])["Event"]
    system, data = record["System"], record["EventData"]
    winlogbeat = {"@timestamp": system["TimeCreated"]["#attributes"]["SystemTime"], "winlog": {
        "channel": system["Channel"], "computer_name": system["Computer"], "event_id": str(system["EventID"]),
        "provider_name": system["Provider"]["#attributes"]["Name"], "event_data": data}}
    nxlog = {"EventTime": system["TimeCreated"]["#attributes"]["SystemTime"], "Hostname": system["Computer"],
             "EventID": system["EventID"], "SourceName": system["Provider"]["#attributes"]["Name"],
             "Channel": system["Channel"], **data}
    line = b"<14>Nov 11 17:24:35 WIN-GG82ULGC9GO Microsoft-Windows-Security-Auditing[516]: " + orjson.dumps(nxlog)
    keys = ("class_uid", "activity_id", "status_id", "time", "user", "logon_type_id", "is_remote", "src_endpoint",
            "auth_protocol", "auth_protocol_id", "dst_endpoint")
    got = [{k: r[k] for k in keys} for r in (xml_row, *_rows("json", xml_row["raw_data"].encode()),
                                            *_rows("json", orjson.dumps(winlogbeat)), *_rows("syslog", line))]
    assert got[1:] == [got[0]] * 3


def test_windows_rules_read_the_classed_events() -> None:
    wocao = load_rules([RULES / "proc_creation_win_apt_wocao.yml"])
    cleared = load_rules([RULES / "win_security_audit_log_cleared.yml"])
    for rs, fmt, body in ((wocao, "evtx_xml", (XML / "sigmahq-wocao-sysmon1.xml").read_bytes()),
                          (wocao, "json", (RULES / "sigmahq-regression-proc_creation_win_apt_wocao.json").read_bytes()),
                          (cleared, "json", (CASES / "holdout" / "winlogbeat-1102.evtx.golden.json").read_bytes())):
        dec = formats.get(fmt).decode(body, "t")
        assert [b.column("class_uid")[0].as_py() for b in dec.batches] != [0]  # (not a Base Event)
        assert sum(len(rs.matches(b)) for b in dec.batches) == 1, fmt


def test_records_that_only_look_like_windows_events_stay_base_events() -> None:
    # an "Event" that is no evtx record, a 4624 whose id is not the Security log's key, a Sysmon id of
    # another provider, a 4672 that lists no privileges: Base Events, nothing lost or dead-lettered
    docs = [{"Event": "EventID 4624", "EventID": "4624x"}, {"Event": {"System": "x"}, "note": '"EventID": 4624'},
            {"EventID": 1, "SourceName": "Application Error", "Image": "C:\\x.exe"},
            {"winlog": {"event_id": "4672", "provider_name": "Microsoft-Windows-Security-Auditing", "event_data": {}}},
            {"data": {"win": {"system": {"eventID": "3", "providerName": "Other"}, "eventdata": {"image": "x"}}}}]
    body = b"\n".join(orjson.dumps(d) for d in docs)
    rows = _rows("json", body)
    assert [r["class_uid"] for r in rows] == [0] * 5
    assert sorted(r["raw_data"] for r in rows) == sorted(orjson.dumps(d).decode() for d in docs)
