"""Log readers of the twenty-ninth round: Zeek's TSV logs (tests/cases/zeek_tsv, see its SOURCES.md)."""

from __future__ import annotations

from pathlib import Path

import orjson
from typer.testing import CliRunner

from secpipe import formats
from secpipe.cli.main import _register, app
from secpipe.detect.sigma import load_rules
from tests.unit.holdout_support import sigma_rows as _rows

ZEEK = Path(__file__).resolve().parents[1] / "cases" / "zeek_tsv"


def _records(body: bytes) -> list[dict]:
    dec = formats.get("zeek_tsv").decode(body, "t")
    assert not dec.dead, dec.dead
    return [orjson.loads(r) for b in dec.batches for r in b.column("raw_data").to_pylist()]


# -- Zeek TSV logs: the rows Zeek's JSON writer writes, stored by the json format -------------------

def test_auto_detection_reads_zeek_tsv_logs() -> None:
    # each was dead-lettered as "unrecognized input": no format knew the ASCII writer's header
    for path in sorted(ZEEK.glob("*.log")):
        got = formats.detect(path.read_bytes()[:65536])
        assert got is not None and got.name == "zeek_tsv", path.name
    assert formats.detect(b"#separator is a word\nfoo\n") is None


def test_dns_rows_are_the_json_writers_records() -> None:
    rows = _records((ZEEK / "zeek-ipv6-frag-dns.log").read_bytes())
    assert len(rows) == 2
    assert rows[0] == {
        "_path": "dns", "ts": 1331084278.438444, "uid": "UWkUyAuUGXf",
        "id.orig_h": "2001:470:1f11:81f:d138:5f55:6d4:1fe2", "id.orig_p": 51850,
        "id.resp_h": "2607:f740:b::f93", "id.resp_p": 53, "proto": "udp", "trans_id": 3903,
        "query": "txtpadding_323.n1.netalyzr.icsi.berkeley.edu", "qclass": 1, "qclass_name": "C_INTERNET",
        "qtype": 16, "qtype_name": "TXT", "rcode": 0, "rcode_name": "NOERROR", "AA": True, "TC": False,
        "RD": True, "RA": False, "Z": 0, "answers": ["This TXT record should be ignored"], "TTLs": [1.0],
        "rejected": False}
    dec = formats.get("zeek_tsv").decode((ZEEK / "zeek-ipv6-frag-dns.log").read_bytes(), "t")
    assert dec.batches[0].column("time").to_pylist() == [1331084278438, 1331084293592]
    assert dec.batches[0].column("metadata").to_pylist()[0]["log_name"] == "json"  # where product zeek rules run


def test_unset_empty_sets_and_escapes() -> None:
    conn = _records((ZEEK / "brim-conn.log").read_bytes())[0]
    for unset in ("service", "local_orig", "local_resp", "tunnel_parents"):
        assert unset not in conn  # '-': no key, as the JSON writer omits unset fields
    assert conn["duration"] == 0.004266 and conn["orig_bytes"] == 97 and conn["id.resp_p"] == 3389
    http = _records((ZEEK / "zeek-ayiya-http.log").read_bytes())
    assert http[0]["tags"] == [] and "proxied" not in http[0] and http[1]["referrer"] == "http://ipv6.google.com/"
    assert http[1]["uri"].startswith("/csi?v=3&s=webhp")  # commas of a string column are no set separators
    ssh = _records((ZEEK / "zeek-ascii-binary-ssh.log").read_bytes())  # LogAscii::separator = "|"
    assert [r["data"] for r in ssh] == ["abc\n\\xffdef", "abc|\\xffdef", "abc\\xff|def"]
    assert {r["_path"] for r in ssh} == {"ssh"}


def test_times_zeek_cut_made_readable_are_read() -> None:
    # zeek-cut -c -u (headers kept, times as its default format %Y-%m-%dT%H:%M:%S%z in UTC): the ts of
    # brimdata/zed's conn.log so written; float() refused it and every row was dead-lettered
    body = (ZEEK / "brim-conn.log").read_bytes().replace(b"\n1521911721.255387\t", b"\n2018-03-24T17:15:21+0000\t")
    dec = formats.get("zeek_tsv").decode(body, "t")
    assert not dec.dead and dec.batches[0].column("time").to_pylist() == [1521911721000]
    assert orjson.loads(dec.batches[0].column("raw_data")[0].as_py())["ts"] == "2018-03-24T17:15:21+0000"


def test_bad_rows_are_dead_lettered_alone_and_logs_may_follow_each_other() -> None:
    dns = (ZEEK / "zeek-ipv6-frag-dns.log").read_bytes()
    conn = (ZEEK / "brim-conn.log").read_bytes()
    broken = dns.replace(b"\t3903\t", b"\tabc\t").replace(b"\tF\n#close", b"\n#close")
    dec = formats.get("zeek_tsv").decode(b"1.0\tstray\n" + broken + conn, "t")
    reasons = [d.reason for d in dec.dead]
    assert len(reasons) == 3, reasons
    assert "a row before the log's #fields header" in reasons[0]
    assert "line 10: trans_id: b'abc' is no count" in reasons[1] and "line 11: 22 values where #fields names 23" in reasons[2]
    rows = [orjson.loads(r) for b in dec.batches for r in b.column("raw_data").to_pylist()]
    assert [r["_path"] for r in rows] == ["conn"]  # the conn.log after the dns.log typed by its own header


# -- Sigma: product zeek rules read the rows ---------------------------------------------------------

def test_zeek_dns_rule_fires_on_tsv_rows(tmp_path: Path) -> None:
    rule = tmp_path / "zeek.yml"
    rule.write_text("title: t\nid: 8d4f0a5e-8f9a-4b6e-9a51-3c7c8e1b2f40\nlogsource: {product: zeek, service: dns}\n"
                    "detection:\n  sel:\n    query|endswith: '.netalyzr.icsi.berkeley.edu'\n"
                    "    id.orig_h|cidr: 2001:470::/32\n    qtype_name: TXT\n  condition: sel\n")
    assert _rows(load_rules([rule]), (ZEEK / "zeek-ipv6-frag-dns.log").read_bytes(), "zeek_tsv") == [0, 1]


def test_auto_ingest_of_a_zeek_tsv_log_then_hunt(tmp_path: Path) -> None:
    _register()
    data = tmp_path / "data"
    runner = CliRunner()
    got = runner.invoke(app, ["ingest", "--format", "auto", "--data", str(data), str(ZEEK / "brim-conn.log")])
    assert got.exit_code == 0, got.output
    rule = tmp_path / "r.yml"
    rule.write_text("title: t\nid: 9d4f0a5e-8f9a-4b6e-9a51-3c7c8e1b2f40\nlogsource: {product: zeek, service: conn}\n"
                    "detection:\n  sel:\n    id.resp_p: 3389\n    conn_state: RSTR\n  condition: sel\nlevel: low\n")
    got = runner.invoke(app, ["hunt", "--data", str(data), "-r", str(rule), "--json"])
    assert got.exit_code == 0, got.output
    assert orjson.loads(got.output.strip().splitlines()[-1])["findings"] == 1


# -- yearless BSD stamps of shipped lines: the year of the shipper's time -----------------------------

WIRE = Path(__file__).resolve().parents[1] / "cases" / "wire_holdout"
NOW = 1796212800.0  # 2026-12-02T12:00:00Z: the receipt clock the year was guessed from


def _times(bodies: list) -> list[str]:
    import datetime as dt

    from secpipe.formats import _context

    # as the service and secpipe ingest decode a body: its source's context hint (the shipper's envelope) stamped
    rows = [r for fmt, src, body in bodies for b in _context.decode(fmt, body, src).batches for r in b.to_pylist()]
    return sorted(dt.datetime.fromtimestamp(r["time"] / 1000, dt.UTC).isoformat()[:19] for r in rows)


def test_filebeat_documents_give_their_lines_the_year_of_their_timestamp(monkeypatch) -> None:
    from secpipe.formats import _syslog_header
    from secpipe.server.shipped import shipped_bodies

    monkeypatch.setattr(_syslog_header, "_clock", lambda: NOW)
    docs = (WIRE / "filebeat-filestream-auth.ndjson").read_bytes().splitlines()  # @timestamp 2023-11-20
    assert _times(shipped_bodies(docs, "t")[0]) == ["2023-02-21T21:54:44", "2023-02-21T21:56:12"]  # not 2026
    # a Dec 31 line shipped on Jan 1 is the year before; one of Jan 1 that year's
    rollover = [orjson.loads(d) for d in docs]
    rollover[0].update({"@timestamp": "2022-01-01T00:00:03.120Z",
                        "message": rollover[0]["message"].replace("Feb 21 21:54:44", "Dec 31 23:59:58")})
    rollover[1].update({"@timestamp": "2022-01-01T00:00:03.120Z",
                        "message": rollover[1]["message"].replace("Feb 21 21:56:12", "Jan  1 00:00:02")})
    got = _times(shipped_bodies([orjson.dumps(d) for d in rollover], "t")[0])
    assert got == ["2021-12-31T23:59:58", "2022-01-01T00:00:02"]


def test_vector_and_hec_times_give_the_year(monkeypatch) -> None:
    from secpipe.formats import _syslog_header
    from secpipe.server.hec import build_items
    from secpipe.server.shipped import grouped, shipped_bodies

    monkeypatch.setattr(_syslog_header, "_clock", lambda: NOW)
    vector = (WIRE / "vector-file-source-docs.ndjson").read_bytes().splitlines()[0]  # timestamp 2020-10-10
    line = orjson.loads(vector)
    line["message"] = "Oct  9 17:07:30 my-host sshd[7483]: Invalid user test from 10.0.2.2"
    assert _times(shipped_bodies([orjson.dumps(line)], "t")[0]) == ["2020-10-09T17:07:30"]
    # Fluent Bit's splunk output: the tail record nested as the event, the envelope's time 2018-09-03
    _raw, nested, typed = (WIRE / "fluent-bit-splunk-payloads.ndjson").read_bytes().splitlines()
    names, docs = build_items([nested, typed], None, {})
    names = [names] * len(docs) if isinstance(names, str) else names
    assert _times(grouped(names, docs, "hec:t")) == ["2018-02-20T08:35:22", "2018-02-23T00:13:35"]


def test_file_of_filebeat_documents_then_auth_rows(tmp_path: Path, monkeypatch) -> None:
    from secpipe.formats import _syslog_header

    monkeypatch.setattr(_syslog_header, "_clock", lambda: NOW)
    _register()
    data = tmp_path / "data"
    got = CliRunner().invoke(app, ["ingest", "--format", "auto", "--data", str(data),
                                   str(WIRE / "filebeat-filestream-auth.ndjson")])
    assert got.exit_code == 0, got.output
    got = CliRunner().invoke(app, ["query", "--data", str(data), "--format", "json",
                                   "select strftime(epoch_ms(time), '%Y-%m-%d') d from authentication order by time"])
    assert got.exit_code == 0, got.output
    assert [r["d"] for r in orjson.loads(got.output)] == ["2023-02-21", "2023-02-21"]


# -- Windows events other than logons over syslog (NXLog's to_json of im_msvistalog) ------------------

#: NXLog's JSON of an im_msvistalog record (the layout of cea-sec/openwec's EVENT_4625_JSON, see
#: test_logs_holdout28) behind the BSD header to_syslog_bsd() writes; the System and EventData
#: values of Microsoft's documented examples (MicrosoftDocs/windows-itpro-docs event-4688.md, as
#: tests/cases/evtx_xml/ms-docs-4688.xml; the Sample Value columns of event-4720.md and event-4733.md)
_NX = {"Keywords": -9214364837600034816, "EventType": "AUDIT_SUCCESS", "SeverityValue": 2, "Severity": "INFO",
       "SourceName": "Microsoft-Windows-Security-Auditing", "ProviderGuid": "{54849625-5478-4994-A5BA-3E3B0328C30D}",
       "Channel": "Security", "Opcode": "Info"}
_SUBJECT = {"SubjectUserSid": "S-1-5-21-3457937927-2839227994-823803824-1104", "SubjectUserName": "dadmin",
            "SubjectDomainName": "CONTOSO", "SubjectLogonId": "0x30d5f"}
_WIN = [
    {"EventTime": "2015-11-12T02:24:52.3773525Z", "Hostname": "WIN-GG82ULGC9GO.contoso.local", "EventID": 4688, **_NX,
     "Version": 2, "Task": 13312, "RecordNumber": 2814, "ProcessID": 4, "ThreadID": 400,
     "Message": "A new process has been created.", "Category": "Process Creation", "SubjectUserSid": "S-1-5-18",
     "SubjectUserName": "WIN-GG82ULGC9GO$", "SubjectDomainName": "CONTOSO", "SubjectLogonId": "0x3e7",
     "NewProcessId": "0x2bc", "NewProcessName": "C:\\Windows\\System32\\rundll32.exe", "TokenElevationType": "%%1938",
     "ProcessId": "0xe74", "CommandLine": "", "TargetUserSid": "S-1-5-21-1377283216-344919071-3415362939-1104",
     "TargetUserName": "dadmin", "TargetDomainName": "CONTOSO", "TargetLogonId": "0x4a5af0",
     "ParentProcessName": "C:\\Windows\\explorer.exe", "MandatoryLabel": "S-1-16-8192"},
    {"EventTime": "2015-08-19T18:24:42.0000000Z", "Hostname": "DC01.contoso.local", "EventID": 4720, **_NX,
     "Message": "A user account was created.", "TargetUserName": "John.Locke", "TargetDomainName": "CONTOSO",
     "TargetSid": "S-1-5-21-3457937927-2839227994-823803824-6609", **_SUBJECT, "SamAccountName": "John.Locke"},
    {"EventTime": "2015-08-19T18:30:01.0000000Z", "Hostname": "DC01.contoso.local", "EventID": 4733, **_NX,
     "Message": "A member was removed from a security-enabled local group.", "MemberName": "-",
     "MemberSid": "S-1-5-21-3457937927-2839227994-823803824-2104", "TargetUserName": "AccountOperators",
     "TargetDomainName": "CONTOSO", "TargetSid": "S-1-5-21-3457937927-2839227994-823803824-6605", **_SUBJECT},
]


def _sigma_on(rule: str, body: bytes) -> list[int]:
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "r.yml"
        path.write_text(rule)
        return _rows(load_rules([path]), body, "syslog")


def test_nxlog_windows_process_account_and_group_events_get_their_classes() -> None:
    from secpipe.schema.conformance import check_rows

    lines = [f"<14>Nov 12 02:24:52 {e['Hostname'].split('.')[0]} Microsoft-Windows-Security-Auditing[4]: "
             + orjson.dumps(e).decode() for e in _WIN]
    other = lines[1].replace('"EventID":4720', '"EventID":4672')  # special privileges, none listed: stays a Base Event
    dec = formats.get("syslog").decode("\n".join([*lines, other]).encode(), "t")
    assert not dec.dead and dec.events == 4
    by_uid = {r["class_uid"]: r for b in dec.batches for r in b.to_pylist()}
    assert sorted(by_uid) == [0, 1007, 3001, 3006]  # they were all Base Events
    proc = by_uid[1007]
    assert proc["activity_id"] == 1 and proc["time"] == 1447295092377 and proc["metadata"]["event_code"] == "4688"
    assert proc["process"]["file"]["path"] == "C:\\Windows\\System32\\rundll32.exe" and proc["process"]["pid"] == 0x2BC
    assert proc["process"]["name"] == "rundll32.exe" and proc["process"]["cmd_line"] is None  # logged empty
    assert proc["process"]["parent_process"]["pid"] == 0xE74 and proc["actor"]["process"]["name"] == "explorer.exe"
    assert proc["actor"]["user"]["name"] == "WIN-GG82ULGC9GO$" and proc["process"]["user"]["name"] == "dadmin"
    made = by_uid[3001]
    assert made["activity_id"] == 1 and made["user"]["name"] == "John.Locke" and made["user"]["domain"] == "CONTOSO"
    assert made["user"]["uid"].endswith("-6609") and made["actor"]["user"]["name"] == "dadmin"
    assert made["time"] == 1440008682000 and made["device"]["hostname"] == "DC01"
    removed = by_uid[3006]
    assert removed["activity_id"] == 4 and removed["group"]["name"] == "AccountOperators"
    assert removed["user"]["uid"].endswith("-2104") and removed["user"]["name"] is None
    rule = ("title: t\nid: 1d4f0a5e-8f9a-4b6e-9a51-3c7c8e1b2f40\nlogsource: {product: windows, category: process_creation}\n"
            "detection:\n  sel:\n    NewProcessName|endswith: '\\rundll32.exe'\n  condition: sel\n")
    assert _sigma_on(rule, "\n".join(lines).encode()) == [0]  # Windows rules still read the event's fields
    for cls, uid in (("process_activity", 1007), ("account_change", 3001), ("group_management", 3006)):
        # (a syslog line's device is its hostname: the syslog-wide device constraint, test_dns_syslog_holdout28b)
        assert not [p for p in check_rows(cls, [by_uid[uid]]) if not p.startswith("device constraint")], cls


def test_sysmon_process_creation_over_syslog_is_process_activity() -> None:
    # SigmaHQ's wocao regression record (tests/cases/evtx_xml/sigmahq-wocao-sysmon1.xml) as NXLog's JSON
    ev = {"EventTime": "2022-12-09T16:52:12.1300000Z", "Hostname": "DESKTOP-1", "EventID": 1,
          "SourceName": "Microsoft-Windows-Sysmon", "Channel": "Microsoft-Windows-Sysmon/Operational",
          "ProcessGuid": "{8e7b6d1e-6b5c-6393-1c02-000000000a00}", "ProcessId": "6188",
          "Image": "C:\\Windows\\System32\\cmd.exe", "CommandLine": "cmd.exe /c checkadmin.exe",
          "User": "DESKTOP-1\\user", "ParentProcessId": "5516", "ParentImage": "C:\\Windows\\explorer.exe"}
    line = "<14>Dec  9 16:52:12 DESKTOP-1 Microsoft-Windows-Sysmon[3104]: " + orjson.dumps(ev).decode()
    no_sysmon = line.replace("Microsoft-Windows-Sysmon", "Other-Provider")  # an id 1 of another source
    dec = formats.get("syslog").decode(f"{line}\n{no_sysmon}".encode(), "t")
    rows = {r["class_uid"]: r for b in dec.batches for r in b.to_pylist()}
    assert sorted(rows) == [0, 1007]
    proc = rows[1007]["process"]
    assert proc["pid"] == 6188 and proc["cmd_line"] == "cmd.exe /c checkadmin.exe" and proc["user"]["name"] == "DESKTOP-1\\user"
    assert proc["parent_process"]["pid"] == 5516 and proc["uid"] == "{8e7b6d1e-6b5c-6393-1c02-000000000a00}"


def test_security_log_cleared_over_syslog_is_event_log_activity(tmp_path: Path) -> None:
    # MicrosoftDocs event-1102.md's example (Microsoft-Windows-Eventlog, UserData/LogFileCleared) in
    # NXLog's JSON layout behind to_syslog_bsd()
    ev = {"EventTime": "2015-10-16T00:39:58.6562520Z", "Hostname": "DC01.contoso.local", "EventType": "INFO",
          "SeverityValue": 2, "Severity": "INFO", "EventID": 1102, "SourceName": "Microsoft-Windows-Eventlog",
          "ProviderGuid": "{fc65ddd8-d6ef-4962-83d5-6e5cfe9ce148}", "Version": 0, "Task": 104, "RecordNumber": 1,
          "ProcessID": 820, "ThreadID": 2412, "Channel": "Security", "Message": "The audit log was cleared.",
          "SubjectUserSid": "S-1-5-21-3457937927-2839227994-823803824-1104", "SubjectUserName": "dadmin",
          "SubjectDomainName": "CONTOSO", "SubjectLogonId": "0x55cd1d"}
    line = "<14>Oct 16 00:39:58 DC01 Microsoft-Windows-Eventlog[820]: " + orjson.dumps(ev).decode()
    other = line.replace("Microsoft-Windows-Eventlog", "Some-App")  # a 1102 of another source: stays
    log = tmp_path / "win.log"
    log.write_text(f"{line}\n{other}\n")
    _register()
    data = tmp_path / "data"
    got = CliRunner().invoke(app, ["ingest", "--format", "syslog", "--data", str(data), str(log)])
    assert got.exit_code == 0, got.output
    got = CliRunner().invoke(app, ["query", "--data", str(data), "--format", "json",
                                   "select class_uid, activity_name, log_name, log_provider, actor.user.name u, "
                                   "epoch_ms(time) t from event_log_actvity"])
    assert got.exit_code == 0, got.output
    assert orjson.loads(got.output) == [{"class_uid": 1008, "activity_name": "Clear", "log_name": "Security",
                                         "log_provider": "Microsoft-Windows-Eventlog", "u": "dadmin",
                                         "t": "2015-10-16T00:39:58.656000"}]


def test_snare_account_deleted_and_log_cleared_get_their_classes() -> None:
    # a 4726 as the Graylog syslog output plugin's README shows Snare's format (its "snare" sender), and
    # a 1102 of rsyslog's mmsnarewinsec test (tests/mmsnarewinsec-*.sh, "Audit Log Cleared")
    lines = [
        "<14>Feb 11 17:32:26 graylog01 MSWinEventLog\t1\tSecurity\t65493\tMon Feb 11 17:32:26 2019\t4726\t"
        "Microsoft-Windows-Security-Auditing\tN/A\tN/A\tAUDIT_SUCCESS\tWIN-8F8OSAB5AMC.testwin.lan\tUser Account Management"
        "\t\tA user account was deleted.  Subject:  Security ID:  S-1-5-21-2081084977-3747244460-254679223-500  Account Name:  "
        "Administrator  Account Domain:  TESTWIN  Logon ID:  0x5F1B5  Target Account:  Security ID:  "
        "S-1-5-21-2081084977-3747244460-254679223-1126  Account Name:  admintest  Account Domain:  TESTWIN  Additional "
        "Information:  Privileges -\t65493",
        "<14>Apr 08 09:16:45 LAB-NONAUDIT001 MSWinEventLog\t1\tSecurity\t10001\tMon Apr 08 09:16:45 2024\t1102\t"
        "Microsoft-Windows-Eventlog\tN/A\tN/A\tSuccess Audit\tLAB-NONAUDIT001\tAudit Log Cleared\t\tThe audit log was "
        "cleared. Subject: Security ID: HOST-001\\admin Account Name: admin Account Domain: HOST-001 Logon ID: 0x1fd23 "
        "Additional Information: Process Information: Process ID: 0x4c0 Process Name: C:\\Windows\\System32\\wevtutil.exe\t1",
    ]
    dec = formats.get("syslog").decode("\n".join(lines).encode(), "t")
    assert not dec.dead
    rows = {r["class_uid"]: r for b in dec.batches for r in b.to_pylist()}
    assert sorted(rows) == [1008, 3001]  # they were Base Events
    gone = rows[3001]
    assert gone["activity_name"] == "Delete" and gone["user"]["name"] == "admintest" and gone["user"]["domain"] == "TESTWIN"
    assert gone["user"]["uid"].endswith("-1126") and gone["actor"]["user"]["name"] == "Administrator"
    assert gone["time"] == 1549906346000  # Snare's date column has the year the BSD header lacks (2019)
    cleared = rows[1008]
    assert cleared["activity_name"] == "Clear" and cleared["log_name"] == "Security"
    assert cleared["actor"]["user"]["name"] == "admin" and cleared["time"] == 1712567805000


def test_sysmon_network_connection_over_syslog_is_network_activity() -> None:
    # OSSEM's Sysmon 3 (tests/cases/evtx_xml/ossem-sysmon3.xml) as NXLog's JSON behind to_syslog_bsd()
    ev = {"EventTime": "2019-04-27T00:10:32.9642823Z", "Hostname": "WARDOG.RIVENDELL.local", "EventID": 3,
          "SourceName": "Microsoft-Windows-Sysmon", "Channel": "Microsoft-Windows-Sysmon/Operational",
          "UtcTime": "2019-04-27 00:10:31.843", "ProcessGuid": "{1c9fdc81-9d71-5cc3-0000-001029c30000}",
          "ProcessId": "820", "Image": "C:\\Windows\\System32\\lsass.exe", "User": "NT AUTHORITY\\SYSTEM",
          "Protocol": "tcp", "Initiated": "true", "SourceIp": "192.168.64.137",
          "SourceHostname": "DESKTOP-LFD11QP.RIVENDELL.local", "SourcePort": "49767", "DestinationIp": "192.168.64.178",
          "DestinationHostname": "DC-WD-001", "DestinationPort": "88", "DestinationPortName": "kerberos"}
    line = "<14>Apr 27 00:10:32 WARDOG Microsoft-Windows-Sysmon[1992]: " + orjson.dumps(ev).decode()
    dec = formats.get("syslog").decode(line.encode(), "t")
    (row,) = [r for b in dec.batches for r in b.to_pylist()]
    assert row["class_uid"] == 4001 and row["activity_name"] == "Open" and row["time"] == 1556323832964  # a Base Event before
    assert (row["src_endpoint"]["ip"], row["src_endpoint"]["port"]) == ("192.168.64.137", 49767)
    assert (row["dst_endpoint"]["ip"], row["dst_endpoint"]["port"], row["dst_endpoint"]["hostname"]) == ("192.168.64.178", 88, "DC-WD-001")
    assert row["connection_info"]["direction"] == "Outbound" and row["connection_info"]["protocol_name"] == "tcp"
    assert row["actor"]["process"]["name"] == "lsass.exe" and row["actor"]["process"]["pid"] == 820
