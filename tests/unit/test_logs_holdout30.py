"""Log readers of the thirtieth round: the year of a yearless BSD stamp in a file read whole, Snare's
and Windows' own event layouts (tests/cases/holdout, tests/cases/evtx_xml: see their SOURCES.md)."""

from __future__ import annotations

import gzip
import os
from pathlib import Path

import orjson
from typer.testing import CliRunner

from secpipe.cli.main import _register, app

CASES = Path(__file__).resolve().parents[1] / "cases"
NOW = 1796212800.0  # 2026-12-02T12:00:00Z: the receipt clock a year was guessed from
NEW_YEAR = 1451692800  # 2016-01-02T00:00:00Z: when the file was last written


def _days(data: Path, table: str = "authentication") -> list[str]:
    got = CliRunner().invoke(app, ["query", "--data", str(data), "--format", "json",
                                   f"select distinct strftime(epoch_ms(time), '%Y-%m-%d') d from {table} order by d"])
    assert got.exit_code == 0, got.output
    return [r["d"] for r in orjson.loads(got.output)]


# -- the year of a yearless BSD stamp in a file read whole: at most a day after the file was written -----

def _loghub_rotated() -> bytes:
    """Loghub's OpenSSH lines (logged on 2015-12-10, tests/cases/holdout/loghub_OpenSSH_head.log) with
    a last one written on New Year's night, as a rotated ``auth.log.1`` of that week holds them."""
    lines = (CASES / "holdout" / "loghub_OpenSSH_head.log").read_text().splitlines()
    return "\n".join([*lines, lines[1].replace("Dec 10 06:55:46", "Jan  1 00:00:03")]).encode() + b"\n"


def test_yearless_lines_of_a_file_take_the_year_of_its_mtime(tmp_path: Path, monkeypatch) -> None:
    """``secpipe ingest /var/log/auth.log.1`` a year later: the lines were dated by the receipt
    clock (2026), now by the file's mtime (each line at most a day after it), Dec and Jan apart."""
    from secpipe.formats import _syslog_header

    monkeypatch.setattr(_syslog_header, "_clock", lambda: NOW)
    _register()
    log = tmp_path / "auth.log.1"
    log.write_bytes(_loghub_rotated())
    os.utime(log, (NEW_YEAR, NEW_YEAR))
    got = CliRunner().invoke(app, ["ingest", "--format", "auto", "--data", str(tmp_path / "lake"), str(log)])
    assert got.exit_code == 0, got.output
    assert _days(tmp_path / "lake") == ["2015-12-10", "2016-01-01"]


def test_yearless_lines_of_a_copied_gz_take_the_year_of_its_gzip_mtime(tmp_path: Path, monkeypatch) -> None:
    """A logrotate ``auth.log.2.gz`` copied elsewhere (its file time the copy's): gzip's own MTIME
    field keeps the time of the file it compressed, which bounds the lines."""
    from secpipe.formats import _syslog_header

    monkeypatch.setattr(_syslog_header, "_clock", lambda: NOW)
    _register()
    log = tmp_path / "auth.log.2.gz"
    with open(log, "wb") as raw, gzip.GzipFile("auth.log.2", "wb", fileobj=raw, mtime=NEW_YEAR) as gz:
        gz.write(_loghub_rotated())
    got = CliRunner().invoke(app, ["ingest", "--format", "auto", "--data", str(tmp_path / "lake"), str(log)])
    assert got.exit_code == 0, got.output
    assert _days(tmp_path / "lake") == ["2015-12-10", "2016-01-01"]


def test_file_times_that_bound_nothing_are_no_hint(tmp_path: Path) -> None:
    from secpipe.sources.files import FileRepeats, written_by

    log = tmp_path / "messages"
    log.write_bytes(b"Dec 10 06:55:46 LabSZ sshd[24200]: Invalid user webmaster from 173.234.31.186\n")
    os.utime(log, (1, 1))  # /nix/store's time, a reproducible archive's
    assert written_by(str(log)) is None and written_by("-") is None
    assert written_by(str(tmp_path / "gone")) is None
    os.utime(log, (NEW_YEAR, NEW_YEAR))
    assert written_by(str(log)) == NEW_YEAR * 1000
    repeats = FileRepeats(path=str(log))
    assert repeats.source("syslog", b"x\n", str(log)) == f"{log};mtime={NEW_YEAR * 1000}"
    assert repeats.source("syslog", b"y\n", f"{log};at=5;host=h") == f"{log};at=5;host=h"  # a shipper's own time
    assert repeats.source("json", b"{}\n", str(log)) == str(log)
    with open(tmp_path / "n.gz", "wb") as raw, gzip.GzipFile("", "wb", fileobj=raw, mtime=0) as gz:
        gz.write(b"x\n")  # gzip -n: no time of its own, the file's stands
    os.utime(tmp_path / "n.gz", (NEW_YEAR, NEW_YEAR))
    assert written_by(str(tmp_path / "n.gz")) == NEW_YEAR * 1000


# -- Snare's Windows event lines: Sysmon's events, headerless files, the fields Sigma's Windows rules read ---

#: a Sysmon process creation as Snare sends it, from a SANS KringleCon 2019 (Holiday Hack) write-up's notes
#: of the challenge's Graylog (the host and MSWinEventLog a space apart, as the notes have it)
KRINGLE = (
    "elfu-res-wks1 MSWinEventLog\t1\tMicrosoft-Windows-Sysmon/Operational\t2442\tTue Nov 19 05:24:15 2019\t1\t"
    "Microsoft-Windows-Sysmon\tSYSTEM\tUser\tInformation\telfu-res-wks1\tProcess Create (rule: ProcessCreate)\t\t"
    "Process Create:  RuleName:   UtcTime: 2019-11-19 13:24:15.595  ProcessGuid: {BA5C6BBB-ECFF-5DD3-0000-0010AE583300}  "
    "ProcessId: 1864  Image: C:\\Windows\\SysWOW64\\WindowsPowerShell\\v1.0\\powershell.exe  FileVersion: 10.0.14393.206 "
    "(rs1_release.160915-0644)  Description: Windows PowerShell  Product: Microsoft\u00ae Windows\u00ae Operating System  "
    "Company: Microsoft Corporation  OriginalFileName: PowerShell.EXE  CommandLine: C:\\Windows\\system32\\cmd.exe /c "
    "\"whoami \"  CurrentDirectory: C:\\Users\\minty\\Downloads\\  User: ELFU-RES-WKS1\\minty  LogonGuid: "
    "{BA5C6BBB-E7A5-5DD3-0000-002082670700}  LogonId: 0x76782  TerminalSessionId: 1  IntegrityLevel: High  Hashes: "
    "MD5=65D86C34814C02569E2AD53FD24E7F61  ParentProcessGuid: {BA5C6BBB-ECF2-5DD3-0000-001086363300}  ParentProcessId: "
    "5256  ParentImage: C:\\Users\\minty\\Downloads\\cookie_recipe.exe  ParentCommandLine: "
    "\"C:\\Users\\minty\\Downloads\\cookie_recipe.exe\" \t20133"
)
#: rsyslog's mmsnarewinsec test of a 4624 (tests/mmsnarewinsec-*.sh, RFC 5424 header; its redacted SID kept)
LOGON = (
    "<13>1 2025-09-18T13:03:42.970090Z foobazhost - - - - MSWinEventLog\t1\tSecurity\t284138676\tThu Sep 18 13:03:42 2025\t"
    "4624\tWindows\tN/A\tN/A\tSuccess Audit\tfoobazhost\tLogon\t\tAn account was successfully logged on.    Subject:   "
    "Security ID:  S-1-0-0   Account Name:  -   Account Domain:  -   Logon ID:  0x0    Logon Information:   Logon Type:  3   "
    "Restricted Admin Mode: -   Virtual Account:  %%1843   Elevated Token:  %%1842    Impersonation Level:  %%1840    "
    "New Logon:   Security ID:  S-X-X-XX-XXXXXXXXXX-XXXXXXXXXX-XXXXXXXXXX-XXXXXX   Account Name:  FOOHOST$   "
    "Account Domain:  DOMAIN   Logon ID:  0xxxxxxxxxx   Linked Logon ID:  0x0   Network Account Name: -   "
    "Network Account Domain: -   Logon GUID:  {00000000-0000-0000-0000-000000000000}    Process Information:   "
    "Process ID:  0x0   Process Name:  -    Network Information:   Workstation Name: -   Source Network Address: "
    "10.0.0.1   Source Port:  50123    Detailed Authentication Information:   Logon Process:  Kerberos   "
    "Authentication Package: Kerberos   Transited Services: -   Package Name (NTLM only): -   Key Length:  0\t1"
)
#: rsyslog's mmsnarewinsec test of a 1102 (single spaces between the labels), and Graylog's README's 4726
CLEARED = (
    "<14>Apr 08 09:16:45 LAB-NONAUDIT001 MSWinEventLog\t1\tSecurity\t10001\tMon Apr 08 09:16:45 2024\t1102\t"
    "Microsoft-Windows-Eventlog\tN/A\tN/A\tSuccess Audit\tLAB-NONAUDIT001\tAudit Log Cleared\t\tThe audit log was "
    "cleared. Subject: Security ID: HOST-001\\admin Account Name: admin Account Domain: HOST-001 Logon ID: 0x1fd23 "
    "Additional Information: Process Information: Process ID: 0x4c0 Process Name: C:\\Windows\\System32\\wevtutil.exe\t1"
)
DELETED = (
    "<14>Feb 11 17:32:26 graylog01 MSWinEventLog\t1\tSecurity\t65493\tMon Feb 11 17:32:26 2019\t4726\t"
    "Microsoft-Windows-Security-Auditing\tN/A\tN/A\tAUDIT_SUCCESS\tWIN-8F8OSAB5AMC.testwin.lan\tUser Account Management"
    "\t\tA user account was deleted.  Subject:  Security ID:  S-1-5-21-2081084977-3747244460-254679223-500  Account Name:  "
    "Administrator  Account Domain:  TESTWIN  Logon ID:  0x5F1B5  Target Account:  Security ID:  "
    "S-1-5-21-2081084977-3747244460-254679223-1126  Account Name:  admintest  Account Domain:  TESTWIN  Additional "
    "Information:  Privileges -\t65493"
)


def test_snare_sysmon_process_creation_is_process_activity_with_its_process() -> None:
    """It was a Process Activity with no process (the description unread), and as a file of such lines
    (no syslog header) it was dead-lettered unrecognized."""
    from secpipe import formats

    for body in (KRINGLE, KRINGLE.replace(" MSWinEventLog", "\tMSWinEventLog", 1)):
        fmt = formats.detect(body.encode())
        assert fmt is not None and fmt.name == "syslog"
        dec = fmt.decode(body.encode() + b"\n", "t")
        assert not dec.dead
        (row,) = [r for b in dec.batches for r in b.to_pylist()]
        assert row["class_uid"] == 1007 and row["activity_id"] == 1 and row["device"]["hostname"] == "elfu-res-wks1"
        proc = row["process"]
        assert (proc["name"], proc["pid"], proc["uid"]) == ("powershell.exe", 1864, "{BA5C6BBB-ECFF-5DD3-0000-0010AE583300}")
        assert proc["cmd_line"] == 'C:\\Windows\\system32\\cmd.exe /c "whoami "' and proc["user"]["name"] == "ELFU-RES-WKS1\\minty"
        assert proc["parent_process"]["pid"] == 5256 and row["actor"]["process"]["name"] == "cookie_recipe.exe"
        assert proc["parent_process"]["cmd_line"] == '"C:\\Users\\minty\\Downloads\\cookie_recipe.exe"'
        assert row["time"] == 1574169855595  # Sysmon's UtcTime (Snare's date column is the host's clock, UTC-8)


def test_snare_records_hold_the_event_data_names() -> None:
    from secpipe.formats._winevents import snare_record

    logon = snare_record(LOGON)
    assert logon is not None and logon["EventID"] == 4624 and logon["Channel"] == "Security"
    assert {k: logon[k] for k in ("TargetUserName", "TargetDomainName", "LogonType", "IpAddress", "IpPort",
                                  "LogonProcessName", "AuthenticationPackageName", "SubjectUserSid", "WorkstationName")} == {
        "TargetUserName": "FOOHOST$", "TargetDomainName": "DOMAIN", "LogonType": "3", "IpAddress": "10.0.0.1",
        "IpPort": "50123", "LogonProcessName": "Kerberos", "AuthenticationPackageName": "Kerberos",
        "SubjectUserSid": "S-1-0-0", "WorkstationName": "-"}  # fmt: skip
    assert logon["TargetUserSid"].startswith("S-X-X") and "RestrictedAdminMode" not in logon
    cleared = snare_record(CLEARED)
    assert cleared is not None and cleared["SourceName"] == "Microsoft-Windows-Eventlog"
    assert (cleared["SubjectUserName"], cleared["SubjectDomainName"], cleared["SubjectLogonId"]) == ("admin", "HOST-001", "0x1fd23")
    assert cleared["ProcessName"] == "C:\\Windows\\System32\\wevtutil.exe"
    deleted = snare_record(DELETED)
    assert deleted is not None and (deleted["TargetUserName"], deleted["SubjectUserName"]) == ("admintest", "Administrator")
    assert deleted["TargetSid"].endswith("-1126") and snare_record("<14>Feb 11 17:32:26 host sshd[1]: hello") is None


def test_sigma_windows_rules_read_snare_lines(tmp_path: Path) -> None:
    """``product: windows`` rules ran only on JSON records: a Snare line of the same event matched none."""
    from secpipe.detect.sigma import load_rules

    rules = {
        # SigmaHQ's win_security_audit_log_cleared detection (Security 517/1102 by the event log service)
        "cleared": "logsource: {product: windows, service: security}\ndetection:\n  selection:\n"
                   "    EventID: [517, 1102]\n    Provider_Name: Microsoft-Windows-Eventlog\n  condition: selection\n",
        "network logon": "logsource: {product: windows, service: security}\ndetection:\n  selection:\n"
                         "    EventID: 4624\n    LogonType: 3\n    IpAddress: 10.0.0.1\n  condition: selection\n",
        "recipe": "logsource: {product: windows, category: process_creation}\ndetection:\n  selection:\n"
                  "    ParentImage|endswith: '\\cookie_recipe.exe'\n    CommandLine|contains: whoami\n  condition: selection\n",
        "deleted": "logsource: {product: windows, service: security}\ndetection:\n  selection:\n"
                   "    EventID: 4726\n    TargetUserName: admintest\n  condition: selection\n",
    }  # fmt: skip
    from secpipe import formats
    from secpipe.detect.sigma.engine import RuleSet

    dec = formats.get("syslog").decode("\n".join([CLEARED, LOGON, KRINGLE, DELETED]).encode(), "t")
    assert not dec.dead
    got = {}
    for i, (name, detection) in enumerate(rules.items()):
        path = tmp_path / f"{i}.yml"
        path.write_text(f"title: {name}\nid: 5f0e3c1a-0b7e-4c2d-9d1e-7a6b5c4d3e{i:02d}\n{detection}")
        rs = load_rules([path])
        assert not rs.unsupported
        for ruleset in (rs, RuleSet(rs.rules, distinct_values=False)):  # both evaluation paths
            got.setdefault(name, []).append(sorted(b.column("class_uid")[row].as_py() for b in dec.batches
                                                   for row in ruleset.matches(b).column("row").to_pylist()))
    assert got == {"cleared": [[1008]] * 2, "network logon": [[3002]] * 2, "recipe": [[1007]] * 2,
                   "deleted": [[3001]] * 2}  # fmt: skip


#: a 4625 as Snare writes it without a syslog header, from a Java parser's test fixture
#: (``testSecurity4625FailureAudit``, host w2k8r2-AD.e8sec.lab); its "Source Network Address: -" given an
#: address here so that a password-guessing rule (which leaves out "-") groups it
FAILED = (
    "MSWinEventLog\t0\tSecurity\t10496\tThu Apr 24 14:25:16 2014\t4625\tMicrosoft-Windows-Security-Auditing\t"
    "e8sec\\jyria\tN/A\tFailure Audit\tw2k8r2-AD.e8sec.lab\tLogon\t\tAn account failed to log on.    Subject:   Security ID:  "
    "S-1-0-0   Account Name:  -   Account Domain:  -   Logon ID:  0x0    Logon Type:   3    Account For Which Logon Failed:   "
    "Security ID:  S-1-0-0   Account Name:  jyria   Account Domain:  e8sec    Failure Information:   Failure Reason:  "
    "Unknown user name or bad password.   Status:   0xc000006d   Sub Status:  0xc000006a    Process Information:   "
    "Caller Process ID: 0x0   Caller Process Name: -    Network Information:   Workstation Name: W2K8R2LAB   "
    "Source Network Address: 203.0.113.7   Source Port:  -    Detailed Authentication Information:   Logon Process:  "
    "NtLmSsp    Authentication Package: NTLM   Transited Services: -   Package Name (NTLM only): -   Key Length:  0    "
    "This event is generated when a logon request fails.\t10496"
)


def test_sigma_correlations_group_snare_lines_by_their_event_data() -> None:
    """Hayabusa's PW Guessing (5 wrong-password 4625s per IpAddress in 5 minutes) over Snare lines: the
    group-by read the line's text, which names no IpAddress."""
    import json

    from secpipe import formats
    from secpipe.detect.sigma import load_rules
    from secpipe.detect.sigma.correlation import CorrelationEngine

    rs = load_rules([CASES / "sigma_holdout" / "hayabusa_pw_guessing.yml"])
    assert not rs.unsupported, rs.unsupported

    def lines(n: int) -> bytes:
        return "\n".join(FAILED.replace("14:25:16", f"14:25:{16 + i}").replace("\t10496", f"\t{10496 + i}")
                         for i in range(n)).encode()

    for n, fired in ((5, [["203.0.113.7"]]), (4, [])):
        (batch,) = formats.get("syslog").decode(lines(n), "t").batches
        assert batch.column("class_uid")[0].as_py() == 3002
        m = rs.matches(batch)
        assert m.num_rows == n
        out = CorrelationEngine(rs, None, clock=lambda: 1900000000.0).process(batch, m)
        assert [json.loads(f["unmapped"])["group"] for f in (out.to_pylist() if out is not None else [])] == fired


# -- Wazuh's alerts of Windows events (its windows_eventchannel decoder: the event under data.win) --------

#: two alerts of a CTF write-up's Wazuh alerts.json (agent DESKTOP-RL1K13Q, 2025-08-13): a Sysmon 1 of an
#: encoded PowerShell command (rule 92057) and a 4624 of the SYSTEM account (rule 60106), their long
#: rendered messages and the encoded command shortened
_WAZUH_SYSMON = {
    "timestamp": "2025-08-13T08:42:21.005+0000",
    "rule": {"level": 12, "description": "Powershell.exe spawned a powershell process which executed a base64 encoded command",
             "id": "92057", "mitre": {"id": ["T1059.001"], "tactic": ["Execution"], "technique": ["PowerShell"]},
             "firedtimes": 1, "mail": True, "groups": ["sysmon", "sysmon_eid1_detections", "windows"]},
    "agent": {"id": "002", "name": "DESKTOP-RL1K13Q", "ip": "192.168.80.9"}, "manager": {"name": "wazuh"},
    "id": "1755074541.11456929", "decoder": {"name": "windows_eventchannel"},
    "data": {"win": {"system": {
        "providerName": "Microsoft-Windows-Sysmon", "providerGuid": "{5770385f-c22a-43e0-bf4c-06f5698ffbd9}", "eventID": "1",
        "version": "5", "level": "4", "task": "1", "opcode": "0", "keywords": "0x8000000000000000",
        "systemTime": "2025-08-13T08:42:27.2750913Z", "eventRecordID": "2935", "processID": "3536", "threadID": "3340",
        "channel": "Microsoft-Windows-Sysmon/Operational", "computer": "DESKTOP-RL1K13Q", "severityValue": "INFORMATION",
        "message": "\"Process Create:\r\nRuleName: -\r\n...\""},
        "eventdata": {
            "utcTime": "2025-08-13 08:42:27.161", "processGuid": "{59d32d4f-4ff3-689c-cd03-000000001600}", "processId": "5096",
            "image": "C:\\\\Windows\\\\System32\\\\WindowsPowerShell\\\\v1.0\\\\powershell.exe",
            "originalFileName": "PowerShell.EXE",
            "commandLine": "\\\"C:\\\\Windows\\\\System32\\\\WindowsPowerShell\\\\v1.0\\\\powershell.exe\\\" -NoP -NonI -W Hidden "
                           "-EncodedCommand SQBuAHYAbwBrAGUALQBXAGUAYgBSAGUAcQB1AGUAcwB0ACAALQBVAHIAaQAgACIAaAB0AHQAcAA6AC8ALwAx",
            "user": "DESKTOP-RL1K13Q\\\\Bluecheap", "integrityLevel": "High", "parentProcessId": "2456",
            "parentImage": "C:\\\\Windows\\\\System32\\\\WindowsPowerShell\\\\v1.0\\\\powershell.exe"}}},
    "location": "EventChannel",
}
_WAZUH_LOGON = {
    "timestamp": "2025-08-13T08:14:35.349+0000",
    "rule": {"level": 3, "description": "Windows Logon Success", "id": "60106", "firedtimes": 7, "mail": False,
             "groups": ["windows", "windows_security", "authentication_success"]},
    "agent": {"id": "002", "name": "DESKTOP-RL1K13Q", "ip": "192.168.80.9"}, "manager": {"name": "wazuh"},
    "id": "1755072875.11212593", "decoder": {"name": "windows_eventchannel"},
    "data": {"win": {"system": {
        "providerName": "Microsoft-Windows-Security-Auditing", "providerGuid": "{54849625-5478-4994-a5ba-3e3b0328c30d}",
        "eventID": "4624", "version": "2", "level": "0", "task": "12544", "opcode": "0", "keywords": "0x8020000000000000",
        "systemTime": "2025-08-13T08:14:38.8333557Z", "eventRecordID": "32280", "processID": "724", "threadID": "5296",
        "channel": "Security", "computer": "DESKTOP-RL1K13Q", "severityValue": "AUDIT_SUCCESS",
        "message": "\"An account was successfully logged on.\r\n...\""},
        "eventdata": {
            "subjectUserSid": "S-1-5-18", "subjectUserName": "DESKTOP-RL1K13Q$", "subjectDomainName": "WORKGROUP",
            "subjectLogonId": "0x3e7", "targetUserSid": "S-1-5-18", "targetUserName": "SYSTEM", "targetDomainName": "NT AUTHORITY",
            "targetLogonId": "0x3e7", "logonType": "5", "logonProcessName": "Advapi", "authenticationPackageName": "Negotiate",
            "processName": "C:\\\\Windows\\\\System32\\\\services.exe"}}},
    "location": "EventChannel",
}


def test_wazuh_windows_alerts_are_stored_and_read_by_windows_rules(tmp_path: Path) -> None:
    """``--format auto`` dead-lettered Wazuh's alerts.json (no format matched), and ``product: windows``
    rules read none of ``data.win``."""
    from secpipe import formats
    from secpipe.detect.sigma import load_rules
    from secpipe.detect.sigma.engine import RuleSet

    body = b"\n".join(orjson.dumps(a) for a in (_WAZUH_SYSMON, _WAZUH_LOGON))
    fmt = formats.detect(body)
    assert fmt is not None and fmt.name == "json"
    dec = fmt.decode(body, "alerts.json")
    assert not dec.dead
    rows = {r["class_uid"]: r for b in dec.batches for r in b.to_pylist()}
    # the events' own times (their systemTime; the alerts' timestamp is the manager's), their classes (session 31)
    assert {k: r["time"] for k, r in rows.items()} == {1007: 1755074547275, 3002: 1755072878833}
    rules = {
        "encoded": "logsource: {product: windows, category: process_creation}\ndetection:\n  selection:\n"
                   "    Image|endswith: '\\powershell.exe'\n    CommandLine|contains: ' -EncodedCommand '\n  condition: selection\n",
        "system logon": "logsource: {product: windows, service: security}\ndetection:\n  selection:\n"
                        "    EventID: 4624\n    LogonType: 5\n    TargetUserName: SYSTEM\n    Channel: Security\n"
                        "    Provider_Name: Microsoft-Windows-Security-Auditing\n  condition: selection\n",
        "failed": "logsource: {product: windows, service: security}\ndetection:\n  selection:\n"
                  "    EventID: 4625\n  condition: selection\n",
    }  # fmt: skip
    got = {}
    for i, (name, detection) in enumerate(rules.items()):
        path = tmp_path / f"{i}.yml"
        path.write_text(f"title: {name}\nid: 6a1e3c1a-0b7e-4c2d-9d1e-7a6b5c4d3e{i:02d}\n{detection}")
        rs = load_rules([path])
        assert not rs.unsupported
        for ruleset in (rs, RuleSet(rs.rules, distinct_values=False)):
            got.setdefault(name, []).append(sorted((b.column("class_uid")[0].as_py(), r) for b in dec.batches
                                                   for r in ruleset.matches(b).column("row").to_pylist()))
    assert got == {"encoded": [[(1007, 0)]] * 2, "system logon": [[(3002, 0)]] * 2, "failed": [[]] * 2}


# -- journalctl -o export (the Journal Export Format) -------------------------------------------------

def test_journal_export_entries_are_read_as_journal_entries(tmp_path: Path) -> None:
    """systemd's documented example of ``journalctl -o export`` (tests/cases/holdout/SOURCE.md), and an
    entry whose MESSAGE is a binary field (a newline in it: its name, its size as a little-endian 64-bit
    integer, the bytes), as the format's description serializes one. Such a file was dead-lettered
    unrecognized."""
    import struct

    from secpipe import formats

    doc = (CASES / "holdout" / "systemd-journal-export-format.txt").read_bytes()
    message = b"Failed password for root from 203.0.113.5 port 50122 ssh2\nsecond line"
    binary = (b"__CURSOR=s=739ad463348b4ceca5a9e69c95a3c93f;i=4ece9\n__REALTIME_TIMESTAMP=1342540862000000\n"
              b"PRIORITY=6\nSYSLOG_IDENTIFIER=sshd\nSYSLOG_PID=99\nMESSAGE\n" + struct.pack("<Q", len(message))
              + message + b"\n_HOSTNAME=epsilon\n\n")  # fmt: skip
    fmt = formats.detect(doc)
    assert fmt is not None and fmt.name == "syslog"
    dec = fmt.decode(doc + binary, "export")
    assert not dec.dead and dec.events == 3
    rows = sorted((r for b in dec.batches for r in b.to_pylist()), key=lambda r: r["time"])
    assert [r["time"] for r in rows] == [1342540861413, 1342540861416, 1342540862000]  # _SOURCE_REALTIME first
    first = rows[0]
    assert first["message"].startswith("AccountsService-DEBUG(+): ActUserManager") and first["severity_id"] == 3  # warning
    assert first["device"]["hostname"] == "epsilon" and first["metadata"]["log_format"] == "journal export"
    assert first["raw_data"].startswith("__CURSOR=s=739ad463") and first["raw_data"].endswith("_HOSTNAME=epsilon")
    assert rows[1]["message"] == "(root) CMD (run-parts /etc/cron.hourly)"
    assert rows[2]["message"] == message.decode()
    cut = fmt.decode(doc + binary[: binary.index(b"MESSAGE\n") + 12], "export")  # its size cut off
    assert len(cut.dead) == 1 and "cut short" in cut.dead[0].reason and cut.events == 3
    # a file of them: read whole (a chunk's cut at a line end may fall inside an entry)
    path = tmp_path / "journal.export"
    path.write_bytes(doc + binary)
    from secpipe.sources.files import read_documents

    (one,) = list(read_documents(str(path)))
    assert one.fmt is not None and one.fmt.name == "syslog" and one.data == doc + binary


# -- Winlogbeat's documents (a file or index export of them) -------------------------------------------

def test_winlogbeat_documents_are_stored_for_windows_rules(tmp_path: Path) -> None:
    """Elastic's golden Winlogbeat document of a 1102 (tests/cases/holdout/SOURCE.md): ``--format auto``
    dead-lettered it (no format matched); now the json format stores it, where SigmaHQ's
    win_security_audit_log_cleared detection (EventID 517/1102 of Microsoft-Windows-Eventlog) reads
    ``winlog.event_id`` and ``winlog.provider_name``."""
    from secpipe import formats
    from secpipe.detect.sigma import load_rules

    body = (CASES / "holdout" / "winlogbeat-1102.evtx.golden.json").read_bytes()
    fmt = formats.detect(body)
    assert fmt is not None and fmt.name == "json"
    dec = fmt.decode(body, "t")
    assert not dec.dead
    (row,) = [r for b in dec.batches for r in b.to_pylist()]
    assert row["time"] == 1573122869055 and row["device"]["hostname"] == "WIN-41OB2LO92CR.wlbeat.local"
    path = tmp_path / "r.yml"
    path.write_text("title: cleared\nid: 7b1e3c1a-0b7e-4c2d-9d1e-7a6b5c4d3e00\nlogsource: {product: windows, service: security}\n"
                    "detection:\n  selection:\n    EventID: [517, 1102]\n    Provider_Name: Microsoft-Windows-Eventlog\n"
                    "  condition: selection\n")
    rs = load_rules([path])
    assert [r for b in dec.batches for r in rs.matches(b).column("row").to_pylist()] == [0]
    assert formats.detect(b'{"winlog": {"note": "a word"}, "message": "hello"}') is None  # no event id, no provider
