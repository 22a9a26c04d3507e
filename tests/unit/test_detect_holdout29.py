"""Sigma detections of the twenty-ninth round: every ATT&CK tactic a rule tags in ``attacks``;
ordered correlations over events of one second.

Rules: SigmaHQ's, as /work/shared/data/real/sigmahq-sigma keeps them (SigmaHQ/sigma at 8eaafff1f2),
and the Sigma correlation specification's example (tests/cases/sigma_holdout). Events: Panther's
CloudTrail test records (panther-analysis/extracted/cloudtrail.json), OpenSSH lines of Elastic's
system auth test log (tests/cases/holdout/elastic-system-auth.log).
"""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import msgspec
import pyarrow as pa

from secpipe import formats
from secpipe.detect.sigma import findings, load_rules
from secpipe.detect.sigma.correlation import CorrelationEngine, correlate_matches
from secpipe.schema.conformance import check_rows

CASES = Path(__file__).resolve().parents[1] / "cases"
S3BROWSER = "sigmahq-sigma/rules/cloud/aws/cloudtrail/aws_iam_s3browser_user_or_accesskey_creation.yml"


def _cloudtrail(real: Path, event: str, agent: str) -> dict:
    """Panther's CreateAccessKey record whose caller wrote ``agent`` (the aws-sdk-go one), as logged."""
    recs = json.loads((real / "panther-analysis/extracted/cloudtrail.json").read_text())["Records"]
    return next(r for r in recs if r["eventName"] == event and r["userAgent"].startswith(agent))


def test_multi_tactic_rule_finding_holds_each_tactic_technique_pair(real: Path) -> None:
    rs = load_rules([real / S3BROWSER])
    rec = _cloudtrail(real, "CreateAccessKey", "aws-sdk-go-v2")
    # S3 Browser's user agent as Permiso's GUI-vil report (the rule's reference) quotes it
    hit = dict(rec, userAgent="S3 Browser 9.5.5 https://s3browser.com")
    body = json.dumps({"Records": [hit, rec]}).encode()
    (batch,) = formats.get("cloudtrail").decode(body, "t").batches
    (f,) = pa.Table.from_batches([findings(rs, batch, rs.matches(batch))]).to_pylist()  # not the aws-sdk-go call
    pairs = {(a["tactic"]["uid"], a["technique"]["uid"], (a["sub_technique"] or {}).get("uid")) for a in f["attacks"]}
    # tags: privilege-escalation, execution, persistence, initial-access, stealth; t1059.009, t1078.004
    tactics = {"TA0004", "TA0002", "TA0003", "TA0001", "TA0005"}
    assert pairs == {(t, s[:5], s) for t in tactics for s in ("T1059.009", "T1078.004")}
    assert len(f["attacks"]) == 10 and f["finding_info"]["attacks"] == f["attacks"]
    assert not check_rows("detection_finding", [f])


# -- temporal_ordered over events of one second ------------------------------------------------
# Matches come rule by rule; events of one time stamp (a syslog second, a record's) must still be
# taken in the order the log wrote them, and a chained correlation's firing at the place of the event
# that completed it.

def _fired(rules: Path, body: bytes, fmt: str) -> list[list[str]]:
    """The titles of the correlation findings over ``body``: the stream engine's, the lake hunt's."""
    rs = load_rules([rules])
    assert not rs.unsupported, rs.unsupported
    (batch,) = formats.get(fmt).decode(body, "t").batches
    m = rs.matches(batch)
    stream = CorrelationEngine(rs, None, clock=lambda: 1900000000.0).process(batch, m)
    lake = correlate_matches(rs, [(batch, m)], now=1900000000.0)
    return [[] if out is None else out.column("finding_info").field("title").to_pylist() for out in (stream, lake)]


def _logon(second: int, event_id: int, user: str) -> bytes:
    return msgspec.json.encode({"TimeCreated": f"2026-11-29T10:00:{second:02d}Z", "EventID": event_id, "User": user})


def test_spec_failed_logins_then_success_in_the_tenth_failures_second() -> None:
    rules = CASES / "sigma_holdout/spec_correlation_failed_logins_then_success.yml"
    title = "Correlation - Multiple Failed Logins Followed by Successful Login"
    failed = [_logon(i, 4625, "bob") for i in range(10)]
    assert _fired(rules, b"\n".join([*failed, _logon(9, 4624, "bob")]), "json") == [[title]] * 2
    # the success written before the tenth failure, in its second: not after ten failures
    assert _fired(rules, b"\n".join([*failed[:9], _logon(9, 4624, "bob"), failed[9]]), "json") == [[], []]


_ORDERED = """
    title: SSH logon after a failed password
    id: 6c0d1f9e-3b2a-4c1d-9e8f-7a6b5c4d3e21
    correlation:
        type: temporal_ordered
        rules: [sshd_failed, sshd_accepted]
        timespan: 5m
    level: high
    ---
    title: SSH password accepted
    name: sshd_accepted
    id: 1c0d1f9e-3b2a-4c1d-9e8f-7a6b5c4d3e22
    logsource: {product: linux, service: sshd}
    detection: {keywords: ['Accepted password'], condition: keywords}
    ---
    title: SSH password failed
    name: sshd_failed
    id: 9c0d1f9e-3b2a-4c1d-9e8f-7a6b5c4d3e23
    logsource: {product: linux, service: sshd}
    detection: {keywords: ['Failed password'], condition: keywords}
    """


def test_ordered_correlation_of_one_syslog_second_follows_the_lines(tmp_path: Path) -> None:
    rules = tmp_path / "ordered.yml"
    rules.write_text(textwrap.dedent(_ORDERED))  # the later rule first: its matches come first
    lines = (CASES / "holdout/elastic-system-auth.log").read_text().splitlines()
    failed = next(x for x in lines if "sshd[5774]: Failed password for root" in x)
    accepted = failed[:failed.index(": ") + 2] + next(x for x in lines if "Accepted password" in x).split(": ", 1)[1]
    assert _fired(rules, f"{failed}\n{accepted}\n".encode(), "syslog") == [["SSH logon after a failed password"]] * 2
    assert _fired(rules, f"{accepted}\n{failed}\n".encode(), "syslog") == [[], []]


# -- at-once correlations over a replay: groups expire on the stream's time, not the wall clock ---

_BRUTE = """
    title: SSH authentication failures in a burst
    id: 4e5f6a7b-8c9d-4e0f-9a1b-2c3d4e5f6a7b
    correlation:
        type: event_count
        rules: [8d9c5b6a-9b42-4d71-9b3f-sshbruteforce01]
        timespan: 5m
        condition: {gte: 2}
    level: high
    """


def test_event_count_over_old_lines_counts_across_batches(tmp_path: Path) -> None:
    corr = tmp_path / "burst.yml"
    corr.write_text(textwrap.dedent(_BRUTE))
    rs = load_rules([corr, CASES / "sigma_holdout/lnx_syslog_ssh_bruteforce.yml"])
    assert not rs.unsupported, rs.unsupported
    lines = (CASES / "holdout/elastic-system-auth.log").read_text().splitlines()
    burst = [x for x in lines if "sshd[2738]: Failed password" in x or "sshd[2738]: PAM 4 more" in x]  # 6 s apart
    apart = [next(x for x in lines if "sshd[5774]: Failed password" in x), burst[0]]  # two days apart

    def fired(pair: list[str]) -> list[int]:
        """The lines (one batch each, as a shipper posts them) at which the correlation fired, the
        wall clock years after the lines."""
        eng = CorrelationEngine(rs, None, clock=lambda: 1900000000.0)
        out = []
        for i, line in enumerate(pair):
            (b,) = formats.get("syslog").decode(f"{line}\n".encode(), "t").batches
            if eng.process(b, rs.matches(b)) is not None:
                out.append(i)
        return out

    assert fired(burst) == [1]
    assert fired(apart) == []


# -- Windows events NXLog sends over syslog as JSON ---------------------------------------------
# NXLog's im_msvistalog + to_json() + to_syslog_bsd(): the syslog format keeps the line; the rules of
# product: windows read the event's fields there as in the event shipped as JSON.

def _nxlog_lines(n: int, sub_status: str = "0xc000006a") -> bytes:
    from tests.unit.test_logs_holdout28 import _NXLOG_4625  # cea-sec/openwec's EVENT_4625_JSON

    return "".join(f"<14>Mar 14 13:54:{16 + i:02d} WKS10001 Microsoft-Windows-Security-Auditing[780]: "
                   + _NXLOG_4625.replace('"RecordNumber":1444', f'"RecordNumber":{1444 + i}')
                   .replace('"SubStatus":"0xc000006a"', f'"SubStatus":"{sub_status}"') + "\n"
                   for i in range(n)).encode()


def test_windows_rules_read_nxlog_json_over_syslog() -> None:
    rs = load_rules([CASES / "sigma_holdout/hayabusa_pw_guessing.yml"])  # Hayabusa: 5 wrong passwords per IpAddress in 5m
    assert not rs.unsupported, rs.unsupported
    (batch,) = formats.get("syslog").decode(_nxlog_lines(5), "t").batches
    m = rs.matches(batch)
    assert sorted(m.column("row").to_pylist()) == [0, 1, 2, 3, 4]
    out = CorrelationEngine(rs, None, clock=lambda: 1900000000.0).process(batch, m)
    (f,) = out.to_pylist()
    assert json.loads(f["unmapped"])["group"] == ["127.0.0.1"] and f["finding_info"]["title"] == "PW Guessing"
    lake = correlate_matches(rs, [(batch, m)], now=1900000000.0)
    assert lake is not None and lake.num_rows == 1
    (other,) = formats.get("syslog").decode(_nxlog_lines(5, "0xc0000064"), "t").batches  # no such user
    assert rs.matches(other).num_rows == 0
    # to_syslog_ietf(): RFC 5424 with NXLog's structured data (docs.nxlog.co "Convert data formats"
    # output sample), whose values may hold braces (the provider's GUID)
    ietf = ('<14>1 2024-03-14T13:54:16.613833Z WKS10001 Microsoft-Windows-Security-Auditing 780 - [NXLOG@14506 '
            'EventReceivedTime="2024-03-14 13:54:20" SourceModuleName="eventlog" SourceModuleType="im_msvistalog" '
            'ProviderGuid="{54849625-5478-4994-A5BA-3E3B0328C30D}"] ')
    (batch,) = formats.get("syslog").decode(ietf.encode() + _nxlog_lines(1).split(b": ", 1)[1], "t").batches
    assert rs.matches(batch).column("row").to_pylist() == [0]


def test_a_rule_of_syslog_and_json_matches_a_json_line_once(tmp_path: Path) -> None:
    p = tmp_path / "k.yml"
    p.write_text("title: auditing source\nid: 7e1f2a3b-4c5d-4e6f-8a9b-0c1d2e3f4a5b\nlogsource: {product: linux}\n"
                 "detection: {keywords: ['Microsoft-Windows-Security-Auditing'], condition: keywords}\n")
    rs = load_rules([p])
    assert rs.rules[0].formats == ("syslog", "json")
    (batch,) = formats.get("syslog").decode(_nxlog_lines(2), "t").batches
    assert rs.matches(batch).column("row").to_pylist() == [0, 1]


def test_sigmahq_brute_force_correlation_over_nxlog_syslog() -> None:
    """SigmaHQ's 4625 brute force correlation (5 per account and source in 5 m) over NXLog lines."""
    rs = load_rules([CASES / "sigma_holdout/correlation_win_security_failed_logon_bruteforce_single_account.yml"])
    assert not rs.unsupported, rs.unsupported
    for n, groups in ((5, [["user", "WKS10001", "127.0.0.1"]]), (4, [])):
        (batch,) = formats.get("syslog").decode(_nxlog_lines(n), "t").batches
        out = CorrelationEngine(rs, None, clock=lambda: 1900000000.0).process(batch, rs.matches(batch))
        assert [json.loads(u)["group"] for u in ([] if out is None else out.column("unmapped").to_pylist())] == groups


def test_sysmon_process_creation_rule_reads_nxlog_json_over_syslog() -> None:
    """SigmaHQ's proc_creation_win_apt_wocao on SigmaHQ's wocao regression record (its Sysmon 1 in
    tests/cases/evtx_xml/sigmahq-wocao-sysmon1.xml) in NXLog's JSON behind a BSD header; the same
    record as a Sysmon 3 (a network connection of that image) is no process creation."""
    rs = load_rules([CASES / "sigma_holdout/proc_creation_win_apt_wocao.yml"])
    ev = {"EventTime": "2026-08-07T11:17:00.1522265Z", "Hostname": "SigmaCatchVm", "EventID": 1,
          "SourceName": "Microsoft-Windows-Sysmon", "Channel": "Microsoft-Windows-Sysmon/Operational",
          "ProcessId": "3592", "Image": "C:\\Windows\\System32\\cmd.exe",
          "CommandLine": '"cmd.exe" /c schtasks /create /ru system /sc daily /tr "cmd /c powershell.exe -ep bypass -file '
                         'c:\\T1036.004_NonExistingScript.ps1" /tn win32times /f & schtasks /query /tn win32times',
          "User": "SigmaCatchVm\\frack113", "ParentProcessId": "6428",
          "ParentImage": "C:\\Windows\\System32\\WindowsPowerShell\\v1.0\\powershell.exe"}
    line = "<14>Aug  7 11:17:00 SigmaCatchVm Microsoft-Windows-Sysmon[3712]: " + json.dumps(ev, separators=(",", ":"))
    net = line.replace('"EventID":1,', '"EventID":3,')
    got = [rs.matches(b).num_rows for b in formats.get("syslog").decode(f"{line}\n{net}\n".encode(), "t").batches]
    assert sorted(got) == [0, 1]


# -- aliases name rules the rules list gives by id ----------------------------------------------

_ALIASED = """
    title: SSH logon from the address that failed
    id: 5a6b7c8d-9e0f-4a1b-8c2d-3e4f5a6b7c8d
    correlation:
        type: temporal_ordered
        rules:
            - 9c0d1f9e-3b2a-4c1d-9e8f-7a6b5c4d3e23
            - 1c0d1f9e-3b2a-4c1d-9e8f-7a6b5c4d3e22
        group-by: [source]
        aliases:
            source:
                sshd_failed: src_endpoint.ip
                sshd_accepted: src_endpoint.ip
        timespan: 5m
    level: high
    """


def test_alias_keyed_by_name_of_a_rule_listed_by_id(tmp_path: Path) -> None:
    """The specification's aliases name the rules (``<Sigma rule name>: field``); its ``rules`` may
    list them by id. The alias must apply then too: read as the plain field ``source`` (absent), every
    failure and acceptance fell in one group and fired whatever their addresses."""
    rules = tmp_path / "aliased.yml"
    rules.write_text(textwrap.dedent(_ALIASED) + "---\n" + textwrap.dedent(_ORDERED).split("---\n", 1)[1])
    lines = (CASES / "holdout/elastic-system-auth.log").read_text().splitlines()
    failed = next(x for x in lines if "sshd[2738]: Failed password for root from 202.109.143.106" in x)
    head = failed[:failed.index(": ") + 2]  # the acceptance logged by that sshd, as the session went on
    accepted = head + next(x for x in lines if "Accepted password for vagrant from 192.168.33.1" in x).split(": ", 1)[1]
    same = accepted.replace("192.168.33.1", "202.109.143.106")
    title = "SSH logon from the address that failed"
    assert _fired(rules, f"{failed}\n{same}\n".encode(), "syslog") == [[title]] * 2
    assert _fired(rules, f"{failed}\n{accepted}\n".encode(), "syslog") == [[], []]
