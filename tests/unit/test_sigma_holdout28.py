"""Sigma rules of the twenty-eighth round: correlations grouped by a Google Workspace event parameter.

Rules: tests/cases/sigma_holdout (see SOURCE.md "Round 28 (sigma)"). Events: Panther's Workspace
``LogEntry`` records (panther-gcp-add-group-member.jsonl) and LogEntries written in its layout
(holdout_support.workspace_entry).
"""

from __future__ import annotations

import re
import textwrap
from pathlib import Path

import orjson
from typer.testing import CliRunner

from secpipe import formats
from secpipe.cli.main import _register, app
from secpipe.detect.sigma import load_rules
from secpipe.detect.sigma.correlation import CorrelationEngine, correlate_matches
from secpipe.detect.sigma.finding import findings
from secpipe.schema.conformance import check_rows
from tests.unit.holdout_support import ndjson as _ndjson
from tests.unit.holdout_support import sigma_rows as _rows
from tests.unit.holdout_support import workspace_entry as _entry

RULES = Path(__file__).resolve().parents[1] / "cases" / "sigma_holdout"


def _groups(path: Path, body: bytes, fmt: str = "k8s_audit") -> list[list]:
    """The groups of the correlation findings over ``body`` (stream engine and lake hunt agree)."""
    rs = load_rules([path])
    assert not rs.unsupported, rs.unsupported
    batches = formats.get(fmt).decode(body, "t").batches
    eng = CorrelationEngine(rs, None, clock=lambda: 1900000000.0)
    stream = [eng.process(b, rs.matches(b)) for b in batches]
    lake = correlate_matches(rs, [(b.to_table() if hasattr(b, "to_table") else b, rs.matches(b)) for b in batches],
                             now=1900000000.0)
    got = [orjson.loads(u)["group"] for out in stream if out is not None for u in out.column("unmapped").to_pylist()]
    assert sorted(got) == sorted(orjson.loads(u)["group"] for u in ([] if lake is None else
                                                                    lake.column("unmapped").to_pylist()))
    return sorted(got)


_ADD_MEMBER = """
    title: GCP User Added to Privileged Group
    name: gws_add_group_member
    id: 6f1b2d3c-4e5f-4a6b-8c7d-9e0f1a2b3c4d
    logsource: {product: gcp, service: google_workspace.admin}
    detection:
      selection:
        protoPayload.metadata.event.eventName: ADD_GROUP_MEMBER
      condition: selection
    level: low
    ---
    title: members added per group
    id: 7f1b2d3c-4e5f-4a6b-8c7d-9e0f1a2b3c4d
    correlation:
      type: event_count
      rules: [gws_add_group_member]
      group-by: [group_email]
      timespan: 1d
      condition: {gte: 1}
    level: medium
    """


def test_correlation_grouped_by_a_parameter_of_panthers_log_entries(tmp_path: Path) -> None:
    # group_email is the events' GROUP_EMAIL parameter, as the base rules read it: the engine was
    # built with a decoder keyed by the parameter pseudo-field's NUL-prefixed name and raised
    p = tmp_path / "c.yml"
    p.write_text(textwrap.dedent(_ADD_MEMBER))
    body = (RULES / "panther-gcp-add-group-member.jsonl").read_bytes()
    assert _groups(p, body) == [["admins@example.com"], ["normies@example.com"]]
    assert _groups(p, body, "json") == [["admins@example.com"], ["normies@example.com"]]


def test_value_count_of_a_parameter_on_sigmahqs_drive_rule(tmp_path: Path) -> None:
    # SigmaHQ's gcp_gworkspace_drive_file_shared_externally, counted per file owner (the owner
    # parameter) over distinct doc_id parameters; a multiStrValue parameter groups as its list
    drive = "drive.googleapis.com"
    shares = [("1AbC", "a@example.com"), ("1AbD", "a@example.com"), ("1AbD", "a@example.com"),
              ("1AbE", "b@example.com"), ("1AbF", ["c@example.com", "d@example.com"]),
              ("1AbG", ["c@example.com", "d@example.com"])]
    events = [_entry(drive, "google.drive.DriveService.changeAclEditors", "acl_change", "change_acl_editors",
                     {"doc_id": d, "owner": o, "visibility": "people_with_link"}, i) for i, (d, o) in enumerate(shares)]
    p = tmp_path / "c.yml"
    p.write_text((RULES / "gcp_gworkspace_drive_file_shared_externally.yml").read_text() + textwrap.dedent("""
        ---
        title: files shared externally per owner
        id: 8f1b2d3c-4e5f-4a6b-8c7d-9e0f1a2b3c4d
        correlation:
          type: value_count
          rules: [5e79cc2d-9f4a-4b27-d1e8-3c6a2f5b8e10]
          group-by: [owner]
          timespan: 1h
          condition: {gte: 2, field: doc_id}
        level: medium
        """))
    assert _groups(p, _ndjson(events)) == [['["c@example.com","d@example.com"]'], ["a@example.com"]]


# -- auditd: SigmaHQ's rules name the system call (SYSCALL: 'execve'), RAW records its number --------

_AUDIT = RULES / "laurel-record-syscall-key.txt"  # RAW: arch=c000003e syscall=59, no ENRICHED part


def _syscall_lines(**changes: str) -> bytes:
    """laurel's RAW SYSCALL records with some of their name=value pairs changed."""
    text = _AUDIT.read_text()
    for name, value in changes.items():
        text = re.sub(rf"(?<= ){name}=\S+", f"{name}={value}", text)
    return text.encode()


def test_syscall_rule_reads_a_raw_records_call_number() -> None:
    # lnx_auditd_web_rce (SYSCALL: execve/execveat, euid: 33): a RAW record writes execve as
    # syscall=59 on x86_64 (and 221 on arm64, arch=c00000b7); the rule found nothing in it
    rs = load_rules([RULES / "lnx_auditd_web_rce.yml"])
    assert _rows(rs, _AUDIT.read_bytes(), "syslog") == []  # euid=0: the near miss
    assert _rows(rs, _syscall_lines(euid="33"), "syslog") == [0, 1]
    assert _rows(rs, _syscall_lines(euid="33", arch="c00000b7", syscall="221"), "syslog") == [0, 1]
    assert _rows(rs, _syscall_lines(euid="33", syscall="57"), "syslog") == []  # fork
    assert _rows(rs, _syscall_lines(euid="33", arch="40000003"), "syslog") == []  # i386: its own numbers
    mknod = load_rules([RULES / "lnx_auditd_susp_special_file_creation_via_mknod_syscall.yml"])
    assert _rows(mknod, _syscall_lines(syscall="133", comm='"mknod"'), "syslog") == [0, 1]
    assert _rows(mknod, _syscall_lines(syscall="259", comm='"mknod"'), "syslog") == []  # mknodat


def test_socket_rule_reads_the_call_and_its_register_argument() -> None:
    # lnx_auditd_af_alg_socket_creation: socket (41) with a0=26 (AF_ALG, the register in hex), not
    # from cryptsetup
    rs = load_rules([RULES / "lnx_auditd_af_alg_socket_creation.yml"])
    assert _rows(rs, _syscall_lines(syscall="41", a0="26"), "syslog") == [0, 1]
    assert _rows(rs, _syscall_lines(syscall="41", a0="2"), "syslog") == []
    assert _rows(rs, _syscall_lines(syscall="41", a0="26", exe='"/usr/sbin/cryptsetup"'), "syslog") == []


def test_enriched_and_interpreted_records_and_the_older_rules_lower_case_name(tmp_path: Path) -> None:
    # ENRICHED (laurel's perl reverse shell: ... key=(null) 0x1D ARCH=x86_64 SYSCALL=execve ...) and
    # ausearch -i's syscall=execve; SigmaHQ's rules before 2025-12 wrote syscall: 'execve'
    enriched = (RULES / "laurel-record-perl-reverse-shell.txt").read_bytes()
    new = tmp_path / "new.yml"
    new.write_text("title: t\nid: 1d4f0a5e-8f9a-4b6e-9a51-3c7c8e1b2f40\nlogsource: {product: linux, service: auditd}\n"
                   "detection:\n  sel:\n    type: SYSCALL\n    SYSCALL: execve\n    ARCH: x86_64\n  condition: sel\n")
    assert _rows(load_rules([new]), enriched, "syslog") == [0]
    old = tmp_path / "old.yml"
    old.write_text("title: t\nid: 2d4f0a5e-8f9a-4b6e-9a51-3c7c8e1b2f40\nlogsource: {product: linux, service: auditd}\n"
                   "detection:\n  sel:\n    type: SYSCALL\n    syscall: execve\n  condition: sel\n")
    assert _rows(load_rules([old]), enriched, "syslog") == [0]
    assert _rows(load_rules([old]), _AUDIT.read_bytes(), "syslog") == [0, 1]
    assert _rows(load_rules([old]), _syscall_lines(arch="x86_64", syscall="execve"), "syslog") == [0, 1]
    assert _rows(load_rules([old]), _syscall_lines(syscall="2"), "syslog") == []  # open


def test_correlation_groups_raw_records_by_the_calls_name(tmp_path: Path) -> None:
    p = tmp_path / "c.yml"
    p.write_text(textwrap.dedent("""
        title: any syscall
        name: any_syscall
        id: 9f1b2d3c-4e5f-4a6b-8c7d-9e0f1a2b3c4d
        logsource: {product: linux, service: auditd}
        detection:
          sel:
            type: SYSCALL
          condition: sel
        ---
        title: per call
        id: af1b2d3c-4e5f-4a6b-8c7d-9e0f1a2b3c4d
        correlation:
          type: event_count
          rules: [any_syscall]
          group-by: [SYSCALL]
          timespan: 1h
          condition: {gte: 2}
        level: low
        """))
    assert _groups(p, _AUDIT.read_bytes(), "syslog") == [["execve"]]


# -- rule metadata on findings ---------------------------------------------------------------------

REAL = Path(__file__).resolve().parents[3] / "shared" / "data" / "real"
_K8S = REAL / "falco" / "test" / "trace_files" / "k8s_audit"


def test_finding_keeps_the_rules_metadata() -> None:
    # SigmaHQ's kubernetes_audit_secrets_modified_or_deleted (related: similar, status test,
    # references, falsepositives, author) on Falco's delete_secret trace; only the level, tags and
    # description reached the finding
    rs = load_rules([REAL / "sigmahq-sigma" / "rules" / "application" / "kubernetes" / "audit" /
                     "kubernetes_audit_secrets_modified_or_deleted.yml"])
    (batch,) = formats.get("k8s_audit").decode((_K8S / "delete_secret.json").read_bytes(), "t").batches
    (f,) = findings(rs, batch, rs.matches(batch)).to_pylist()
    info = f["finding_info"]
    assert [(a["uid"], a["type"]) for a in info["analytic"]["related_analytics"]] == [
        ("2f0bae2d-bf20-4465-be86-1311addebaa3", "Rule")]
    assert (info["analytic"]["state_id"], info["analytic"]["state"]) == (1, "Active")
    assert [(t["name"], t["value"]) for t in info["tags"]] == [("attack", "credential-access")]
    extra = orjson.loads(f["unmapped"])
    assert extra["rule_references"][0] == "https://kubernetes.io/docs/reference/config-api/apiserver-audit.v1/"
    assert extra["rule_falsepositives"][1].startswith("Automated processes")
    assert extra["rule_related"] == [{"id": "2f0bae2d-bf20-4465-be86-1311addebaa3", "type": "similar"}]
    assert (extra["rule_status"], extra["rule_author"]) == ("test", "kelnage")
    assert f.get("vulnerabilities") is None
    assert not check_rows("detection_finding", [f])


def test_cve_tags_are_the_findings_vulnerabilities_and_correlations_carry_metadata(tmp_path: Path) -> None:
    # lnx_auditd_af_alg_socket_creation tags cve.2026-31431; a correlation's own tags, description
    # and status reach its finding as a base rule's do
    rs = load_rules([RULES / "lnx_auditd_af_alg_socket_creation.yml"])
    (batch,) = formats.get("syslog").decode(_syscall_lines(syscall="41", a0="26"), "t").batches
    rows = findings(rs, batch, rs.matches(batch)).to_pylist()
    assert [r["vulnerabilities"][0]["cve"]["uid"] for r in rows] == ["CVE-2026-31431"] * 2
    assert [r["finding_info"]["analytic"]["state"] for r in rows] == ["Experimental"] * 2
    assert not check_rows("detection_finding", rows)
    p = tmp_path / "c.yml"
    p.write_text(textwrap.dedent(_ADD_MEMBER).replace(
        "title: members added per group\n",
        "title: members added per group\nstatus: experimental\ndescription: many members\n"
        "tags: [attack.persistence, attack.t1098.007]\n"))
    rs = load_rules([p])
    eng = CorrelationEngine(rs, None, clock=lambda: 1900000000.0)
    (batch,) = formats.get("k8s_audit").decode((RULES / "panther-gcp-add-group-member.jsonl").read_bytes(), "t").batches
    (f, _) = eng.process(batch, rs.matches(batch)).to_pylist()
    assert f["finding_info"]["desc"] == "many members"
    assert f["attacks"][0]["sub_technique"]["uid"] == "T1098.007"
    assert f["attacks"][0]["tactic"]["name"] == "Persistence"
    assert f["finding_info"]["analytic"]["state_id"] == 3
    assert not check_rows("detection_finding", [f])


# -- category: proxy: the URL's file extension ------------------------------------------------------

def test_proxy_rule_reads_the_extension_at_the_end_of_the_urls_path(tmp_path: Path) -> None:
    # SigmaHQ's proxy_download_susp_tlds_whitelist (c-uri-extension: exe..., not a .com/.org... host):
    # a Squid line names no extension apart; the rule found nothing
    rs = load_rules([RULES / "proxy_download_susp_tlds_whitelist.yml"])
    line = (RULES / "squid-guide-access.log").read_bytes()  # GET http://123.138.238.114/QQ2008SpringKB1.exe
    assert _rows(rs, line, "syslog") == [0]
    assert _rows(rs, line.replace(b"123.138.238.114/", b"dl.example.com/", 1), "syslog") == []  # allowed TLD
    assert _rows(rs, line.replace(b"KB1.exe", b"KB1.exe.html", 1), "syslog") == []
    assert _rows(rs, line.replace(b"KB1.exe", b"KB1.EXE", 1), "syslog") == [0]
    assert _rows(rs, (RULES.parent / "holdout" / "csoc-squid-access.log").read_bytes(), "syslog") == []
    # a log that names the extension itself (W3C/JSON proxy logs) still matches by it
    doc = b'{"cs-host": "203.0.113.7", "c-uri": "/get", "c-uri-extension": "exe"}'
    assert _rows(rs, doc) == [0]


# -- ingest --format auto: JSON logs of the sources SigmaHQ's rules read in the json format ---------

def test_auto_detection_stores_zeek_okta_route53_and_office365_records(tmp_path: Path) -> None:
    # each was dead-lettered as "unrecognized input" (the catch-all json format is skipped by auto),
    # so SigmaHQ's zeek / okta / dns / m365 rules had nothing to run on
    for name in ("sans-zeek-dns.json", "elastic-okta-system-events.log", "elastic-route53-resolver.log",
                 "elastic-o365-exchange-admin.log"):
        body = (RULES / name).read_bytes()
        got = formats.detect(body[:65536])
        assert got is not None and got.name == "json", name
        assert formats.detect(b"[" + body.split(b"\n")[0][:4000]) is got, name  # an array's head, cut
    for other in (b'{"ts": 1602265824.1, "msg": "x"}', b'{"eventType": "push", "repo": "a/b"}',
                  b'{"query_name": "a.example.", "answers": []}', b'{"Operation": "x", "Workload": "y"}'):
        assert formats.detect(other) is None, other
    zeek = tmp_path / "zeek.yml"
    zeek.write_text("title: t\nid: 3d4f0a5e-8f9a-4b6e-9a51-3c7c8e1b2f40\nlogsource: {product: zeek, service: dns}\n"
                    "detection:\n  sel:\n    query|endswith: '.sansgear.com'\n    id.orig_h|cidr: 192.168.0.0/16\n"
                    "  condition: sel\n")
    assert _rows(load_rules([zeek]), (RULES / "sans-zeek-dns.json").read_bytes()) == [0]
    okta = tmp_path / "okta.yml"
    okta.write_text("title: t\nid: 4d4f0a5e-8f9a-4b6e-9a51-3c7c8e1b2f40\nlogsource: {product: okta, service: okta}\n"
                    "detection:\n  sel:\n    eventtype: policy.evaluate_sign_on\n    outcome.result: ALLOW\n"
                    "  condition: sel\n")
    assert _rows(load_rules([okta]), (RULES / "elastic-okta-system-events.log").read_bytes()) == [1]


def test_auto_ingest_of_a_zeek_log_then_hunt(tmp_path: Path) -> None:
    _register()
    data = tmp_path / "data"
    runner = CliRunner()
    got = runner.invoke(app, ["ingest", "--format", "auto", "--data", str(data), str(RULES / "sans-zeek-dns.json")])
    assert got.exit_code == 0, got.output
    rule = tmp_path / "r.yml"
    rule.write_text("title: t\nid: 5d4f0a5e-8f9a-4b6e-9a51-3c7c8e1b2f40\nlogsource: {category: dns, product: zeek}\n"
                    "detection:\n  sel:\n    query: www.sansgear.com\n  condition: sel\nlevel: low\n")
    got = runner.invoke(app, ["hunt", "--data", str(data), "-r", str(rule), "--json"])
    assert got.exit_code == 0, got.output
    assert orjson.loads(got.output.strip().splitlines()[-1])["findings"] == 1
