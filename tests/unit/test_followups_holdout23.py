"""Real samples secpipe was not developed against, round 23 follow-ups (``tests/cases/holdout``,
see its SOURCE.md "Round 23 (follow-ups)").

Expectations are written from the source documents and the format specifications (GitHub's
audit-log event reference), not from secpipe's output.

Regressions covered: a GitHub audit-log action GitHub documents as a refused attempt
(``protected_branch.rejected_ref_update``: "a branch update attempt was rejected") had no
status; it is a Failure, on the column path and the msgspec path alike. A file of Splunk HEC
event envelopes (an EOPA decision-log Splunk sink's payload saved, a HEC capture) was
dead-lettered by ``secpipe ingest --format auto`` (detected as the event's format, which
refused the envelope); it is read as the HEC route reads a request. Juniper's
``SSHD_LOGIN_FAILED`` and ``DOT1XD_USR_AUTHENTICATED`` (RFC 5424, the user and source only in
the ``junos@`` structured data) were Base Events; they are Authentication. A macOS program's
line (``<RFC 3339 time> TAG[PID/THREAD] text``, no HOSTNAME: Google Keystone's) was not
recognized by ``--format auto``, though ``--format syslog`` reads it.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from secpipe.formats import _fast
from secpipe.formats._github_map import action_failed
from secpipe.server.hec import build_items, split_events
from secpipe.sources import files
from secpipe.sources.files import read_documents
from tests.unit.holdout_support import ingest_file as _ingest
from tests.unit.test_formats_holdout import CASES, _auto, _rows

GITHUB_REJECTED = "elastic-github-audit-rejected-ref-update.log"


def test_github_audit_rejected_ref_update_is_a_failure() -> None:
    name, d = _auto(GITHUB_REJECTED)
    assert name == "github" and not d.dead and d.events == 4
    rows = _rows(d)
    assert {r["class_uid"] for r in rows} == {6003}
    by_op: dict[str, list[dict]] = {}
    for r in rows:
        by_op.setdefault(r["api"]["operation"], []).append(r)
    rejected = by_op["protected_branch.rejected_ref_update"]
    assert len(rejected) == 2
    for r in rejected:
        assert (r["status_id"], r["status"]) == (2, "Failure")
        assert r["actor"]["user"]["name"] == "github-actor"
        assert r["src_endpoint"]["location"]["country"] == "US"
        assert {x["type"]: x["name"] for x in r["resources"]} == {
            "repository": "Example-Org/repo-123", "organization": "Example-Org"}
    assert sorted(r["time"] for r in rejected) == [1611616633246, 1614195224710]
    # the others say nothing of an outcome: no status is made up
    for op in ("protected_branch.create", "workflows.delete_workflow_run"):
        (r,) = by_op[op]
        assert r["status_id"] is None and r["status"] is None


@pytest.mark.skipif(not _fast.available(), reason="the native extension is not built")
def test_github_audit_failed_actions_same_on_both_paths() -> None:
    from tests.unit.test_github_audit_columns import _both

    lines = (CASES / GITHUB_REJECTED).read_bytes().splitlines()
    extra = [b'{"actor":"a","action":"pre_receive_hook.rejected_push","created_at":1}',
             b'{"actor":"a","action":"user.failed_login","created_at":2}',
             b'{"actor":"a","action":"api.request","status_code":404,"created_at":3}',
             b'{"actor":"a","action":"user.two_factor_challenge_failure","created_at":4}']  # fmt: skip
    d = _both(b"\n".join(lines + extra), "failed actions")
    got = {r["api"]["operation"]: r["status_id"] for r in _rows(d)}
    assert got == {"protected_branch.rejected_ref_update": 2, "protected_branch.create": None,
                   "workflows.delete_workflow_run": None, "pre_receive_hook.rejected_push": 2,
                   "user.failed_login": 2, "api.request": 2, "user.two_factor_challenge_failure": 2}  # fmt: skip


def test_github_action_failed_words() -> None:
    assert action_failed("protected_branch.rejected_ref_update")
    assert action_failed("user.two_factor_challenge_failure")
    # an owner's decision on a request is done, not failed; a word inside another is not the word
    assert not action_failed("personal_access_token.request_denied")
    assert not action_failed("org.oauth_app_access_denied")
    assert not action_failed("user.two_factor_challenge_success")
    assert not action_failed("rejected")
    assert not action_failed(None)


# --------------------------------------------------------------------------------------
# Splunk HEC envelopes saved to a file


def test_eopa_splunk_sink_payload_is_its_decision(tmp_path: Path) -> None:
    """EOPA's Splunk sink payload (its tutorial's example, printed over lines): the decision
    inside is an OPA decision log entry."""
    dead, rows = _ingest(CASES / "eopa-splunk-hec-decision.json", tmp_path / "d")
    assert not dead  # red before: the file was dead-lettered whole
    (r,) = rows
    assert r["class_uid"] == 6003 and r["metadata"]["log_name"] == "opa"
    assert r["metadata"]["original_event_uid"] == "955ee45b-8624-4e23-af67-e3513d69c997"
    assert r["time"] == 1683891397496  # the entry's timestamp 2023-05-12T13:36:37.496602+02:00
    assert r["http_request"]["http_method"] == "GET" and r["http_request"]["url"]["path"] == "/data/fruits"
    assert (r["src_endpoint"]["ip"], r["src_endpoint"]["port"]) == ("127.0.0.1", 61318)
    assert r["authorizations"][0]["decision"] == "allowed" and r["metadata"]["product"]["version"] == "0.52.0"
    # the same event as the decision alone (what the HEC route stores of this envelope)
    inner = json.dumps(json.loads((CASES / "eopa-splunk-hec-decision.json").read_bytes())["event"]).encode()
    (tmp_path / "bare.json").write_bytes(inner)
    _, bare = _ingest(tmp_path / "bare.json", tmp_path / "b")
    assert [x["metadata"]["uid"] for x in bare] == [r["metadata"]["uid"]]


def test_hec_file_reads_as_the_route(tmp_path: Path) -> None:
    """Envelopes one a line: each event's format by sourcetype, else detected; an event only the
    generic format takes keeps its envelope (HEC's time, host, source, fields)."""
    body = (
        b'{"event":"<34>1 2003-10-11T22:14:15.003Z mymachine.example.com su - ID47 - su root failed",'
        b'"time":1065910455,"host":"mymachine","sourcetype":"syslog"}\n'
        b'{"event":{"message":"hello","level":"info"},"time":"1700000000.5","host":"app1","source":"app.log",'
        b'"fields":{"env":"prod"}}\n'
    )
    path = tmp_path / "hec.jsonl"
    path.write_bytes(body)
    docs = list(read_documents(str(path)))
    names, want = build_items(split_events(body), None, {})
    assert [(d.fmt.name if d.fmt else None, d.data) for d in docs] == list(zip(names, want, strict=True))
    dead, rows = _ingest(path, tmp_path / "d")
    assert not dead and len(rows) == 2
    by = {r["metadata"]["log_name"]: r for r in rows}
    assert by["syslog"]["device"]["hostname"] == "mymachine.example.com"
    assert by["syslog"]["time"] == 1065910455003
    generic = next(r for name, r in by.items() if name != "syslog")
    assert generic["time"] == 1700000000500
    assert json.loads(generic["raw_data"])["fields"] == {"env": "prod"}


def test_bad_hec_envelope_is_dead_lettered_alone_with_hec_reason(tmp_path: Path) -> None:
    """An envelope HEC refuses is one dead letter with HEC's reason and its number; the file's
    other events are read, as the route stores them (session 35; the file was dead-lettered whole)."""
    path = tmp_path / "bad.jsonl"
    path.write_bytes(b'{"event":{"a":1},"time":1}\n{"event":null,"time":2}\n')
    bad, good = list(read_documents(str(path)))
    assert bad.dead is not None and good.dead is None and good.data == b'{"event":{"a":1},"time":1}'
    assert (bad.dead.reason, bad.dead.offset, bad.dead.raw) == (
        "Splunk HEC envelopes: Event field is required (code 12): event 1 of the file: no event", 1,
        b'{"event":null,"time":2}')  # fmt: skip
    path.write_bytes(b'{"event":{"a":1},"time":1}\n{"event":{"a":2},"time":2\n')
    bad, good = list(read_documents(str(path)))
    assert bad.dead is not None and good.dead is None and good.data == b'{"event":{"a":1},"time":1}'
    assert bad.dead.reason.startswith("Splunk HEC envelopes: Invalid data format (code 6): event 1 of the file")


def test_records_with_more_than_hec_keys_are_not_envelopes() -> None:
    assert not files._hec_head(b'{"event":"login","user":"bob","time":1}\n')
    assert not files._hec_head(b'[{"event":{"a":1}}]')
    assert files._hec_head(b'\xef\xbb\xbf {"event":{"a":1},"host":"h"}{"event":{"a":2}}')
    assert files._hec_head(b'{\n  "event": {"a": 1},\n  "time": 1\n}\n')
    assert not files._hec_head(b'{"event":' + b"[" * 100_000 + b"]" * 100_000 + b"}\n")  # too deep: no envelope


def test_a_first_line_that_is_not_utf8_is_no_envelope(tmp_path: Path) -> None:
    """msgspec raises UnicodeDecodeError (not DecodeError) on such a line: the sniff said nothing and
    the error escaped `secpipe ingest --format auto` (CI's mutation campaign: a Snyk audit line
    with 0xf4 in it, which has "event" keys)."""
    line = b'{"event":"org.user.\xf4add","groupId":"g","created":"2023-01-01T00:00:00Z"}\n'
    assert not files._hec_head(line)
    path = tmp_path / "audit.jsonl"
    path.write_bytes(line + b'{"event":"org.user.add","groupId":"g","created":"2023-01-01T00:00:00Z"}\n')
    docs = list(read_documents(str(path)))  # no exception; the format's decode then says why
    assert docs and all(d.dead is None for d in docs)


# --------------------------------------------------------------------------------------
# Junos authentication messages with the user in the structured data


def test_junos_structured_data_auth_is_authentication() -> None:
    name, d = _auto("elastic-juniper-srx-system-auth.log")
    assert name == "syslog" and not d.dead and d.events == 6
    rows = _rows(d)
    auth = {r["metadata"]["event_code"]: [] for r in rows if r["class_uid"] == 3002}
    for r in rows:
        if r["class_uid"] == 3002:
            auth[r["metadata"]["event_code"]].append(r)
    assert sorted((k, len(v)) for k, v in auth.items()) == [("DOT1XD_USR_AUTHENTICATED", 2), ("SSHD_LOGIN_FAILED", 1)]
    (ssh,) = auth["SSHD_LOGIN_FAILED"]
    assert (ssh["activity_id"], ssh["status_id"], ssh["status"]) == (1, 2, "Failure")
    assert ssh["user"]["name"] == "aaaaa" and ssh["src_endpoint"]["ip"] == "175.16.199.0" and ssh["is_remote"] is True
    assert ssh["dst_endpoint"]["hostname"] == "AC1234-ABC3-AB-FW01A-ABC" and ssh["service"]["name"] == "sshd"
    assert ssh["time"] == 1683608406756  # 2023-05-09T15:00:06.756+10:00
    users = {r["user"]["name"]: r for r in auth["DOT1XD_USR_AUTHENTICATED"]}
    assert sorted(users) == ["asmith", "jdoe"]
    jdoe = users["jdoe"]
    assert (jdoe["activity_id"], jdoe["status_id"]) == (1, 1) and jdoe["src_endpoint"]["mac"] == "00:00:5E:00:53:01"
    assert (jdoe["auth_protocol"], jdoe["auth_protocol_id"]) == ("RADIUS", 10)  # user-type MAC-RADIUS
    assert json.loads(jdoe["unmapped"])["structured_data"]["junos@1111.1.1.1.1.111"]["vlan-name"] == "vlan100"
    # SNMP community refusals, link traps and IKE lines name no user: Base Event as before
    others = sorted(r["metadata"]["event_code"] or "-" for r in rows if r["class_uid"] == 0)
    assert others == ["-", "SNMPD_AUTH_FAILURE", "SNMP_TRAP_LINK_UP"]


def test_junos_auth_msgid_without_a_user_stays_base_event() -> None:
    from secpipe.formats import get

    line = b'<37>1 2023-05-09T15:00:06.756+10:00 fw sshd - SSHD_LOGIN_FAILED [junos@2636.1.1.1.2.129 source-address="10.0.0.1"]\n'
    d = get("syslog").decode(line + b"<37>1 2023-05-09T15:00:07Z fw sshd 1 - - Failed password for root from 10.0.0.2 port 22 ssh2\n", "x")
    rows = _rows(d)
    assert sorted(r["class_uid"] for r in rows) == [0, 3002]
    assert next(r for r in rows if r["class_uid"] == 3002)["src_endpoint"]["ip"] == "10.0.0.2"


# --------------------------------------------------------------------------------------
# macOS program lines without a hostname


def test_macos_tag_pid_thread_line_is_detected_as_syslog() -> None:
    name, d = _auto("elastic-system-iso8601-multiline-syslog.log")
    assert name == "syslog" and not d.dead
    first = _rows(d)[0]
    assert first["time"] == 1650551400000  # 2022-04-21T14:30:00Z
    assert first["actor"]["process"]["name"] == "GoogleSoftwareUpdateAgent"
    assert first["message"].startswith("[lvl=2] -[KSUpdateEngine updateAllExceptProduct:]")
    assert json.loads(first["unmapped"])["procid"] == "21412/0x700007399000"  # PID/THREAD: no pid alone
    assert first["device"] is None  # the line names no host


def test_iso_tag_pid_sniff_needs_the_zone_and_the_brackets() -> None:
    from secpipe.formats import get

    sniff = get("syslog").sniff
    assert sniff(b"2022-04-21T14:30:00Z agent[1/0x7000] text\n") == 60
    assert sniff(b"2022-04-21T14:30:00.5+02:00 agent[1]: text\n") == 60
    assert sniff(b"2022-04-21T14:30:00 agent[1] text\n") == 0  # no zone: an application's own log
    assert sniff(b"2022-04-21T14:30:00Z agent text\n") == 0
