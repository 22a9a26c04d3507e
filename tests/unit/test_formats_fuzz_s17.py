"""Structural mutations of the real samples, found by a fuzz over every file `--format auto`
stores (session 17: keys dropped, duplicated, re-cased or escaped; objects, arrays and strings
swapped, emptied or nulled; numbers beyond float64, -0, 1.0 as an id; lone surrogates; deep
nesting and 5 MB strings at a leaf; records re-framed as arrays, envelopes, NDJSON, CRLF, BOM,
UTF-16; truncation). Each test is the real sample with the one mutation that failed, checked on
both decode paths (native and Python), and by ``--format auto``'s path where it differs.

The invariants: the decode never raises, every record is stored or dead-lettered with its reason,
and one bad record does not take its neighbours with it.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from secpipe import formats
from secpipe.formats.base import Decoded, decode_document, lone_surrogates_mended
from tests.unit.native_support import assert_same_decoded, native_mode, same_both_ways

REAL = Path(__file__).resolve().parents[3] / "shared" / "data" / "real"


def _rows(d: Decoded) -> list[dict[str, Any]]:
    return [r for b in d.batches for r in b.to_pylist()]


@pytest.mark.parametrize("value", ["1e400", "-1e400", '{"x": [1e999]}'])
def test_alertmanager_annotation_beyond_float64(value: str, monkeypatch: pytest.MonkeyPatch) -> None:
    # An annotation value msgspec cannot hold (a number beyond float64: legal JSON) raised a
    # ValidationError out of the webhook decode: the payload's 19 alerts were lost (a decoder
    # error under --format auto). That alert is dead-lettered alone, as a non-object annotations is.
    path = REAL / "prometheus-msteams" / "alert" / "testdata" / "large_prom_post_request.json"
    doc = json.loads(path.read_bytes())
    n = len(doc["alerts"])
    doc["alerts"][16]["annotations"]["summary"] = "@@ODD@@"
    body = json.dumps(doc).replace('"@@ODD@@"', value).encode()
    d = same_both_ways("alertmanager", body, monkeypatch, value)
    assert [x.offset for x in d.dead] == [16]
    assert d.dead[0].reason.startswith("not an Alertmanager alert: Number out of range - at `$.annotations.summary")
    assert d.events == n and len(_rows(d)) == n - 1
    fmt = formats.detect(body[:65536])
    assert fmt is not None and fmt.name == "alertmanager"
    auto = decode_document(fmt, body, "fuzz")
    assert len(auto.dead) == 1 and sum(b.num_rows for b in auto.batches) == n - 1


def test_github_primary_time_beyond_float64(monkeypatch: pytest.MonkeyPatch) -> None:
    # A repository event takes its time from the repository's updated_at, else created_at. A
    # created_at beyond float64 (1e400, legal JSON) raised a ValidationError out of the decode on
    # both paths (a decoder error: every payload of the body lost). It is no time; updated_at counts.
    # (An updated_at so written is read with the typed payload: that payload alone is dead-lettered,
    # its reason naming the field.)
    path = REAL / "octokit-webhooks" / "payload-examples" / "api.github.com" / "repository" / "transferred.with-organization.payload.json"
    good = json.loads(path.read_bytes())
    body = b"\n".join(json.dumps(good).encode() for _ in range(2))
    want = [r["time"] for r in _rows(same_both_ways("github", body, monkeypatch, "unmutated"))]
    for field in ("created_at", "updated_at"):
        doc = json.loads(path.read_bytes())
        doc["repository"][field] = "@@ODD@@"
        body = json.dumps(good).encode() + b"\n" + json.dumps(doc).replace('"@@ODD@@"', "1e400").encode()
        d = same_both_ways("github", body, monkeypatch, field)
        assert d.events == 2
        if field == "created_at":
            assert not d.dead and [r["time"] for r in _rows(d)] == want
        else:
            assert [x.reason for x in d.dead] == ["not a GitHub webhook payload: Number out of range - at `$.repository.updated_at`"]
            assert [r["time"] for r in _rows(d)] == want[:1]
        assert formats.detect(body[:65536]) is formats.get("github")


def _auto_both_ways(body: bytes, monkeypatch: pytest.MonkeyPatch) -> tuple[str, Decoded]:
    """``--format auto``'s decode (detect, then decode_document), native and Python paths compared."""
    fmt = formats.detect(body[:65536])
    assert fmt is not None
    got = []
    for native in (True, False):
        with native_mode(monkeypatch, native):
            got.append(decode_document(fmt, body, "fuzz"))
    assert_same_decoded(got[0], got[1], fmt.name)
    return fmt.name, got[0]


def test_lone_surrogates_mended() -> None:
    assert lone_surrogates_mended(b'{"a":"x"}') is None
    assert lone_surrogates_mended(rb'["\uD83D\uDE00","\ud83d\ude00","\\ud800","\\\\udc00"]') is None  # pairs; escaped backslashes
    cases = {rb'"\ud800"': rb'"\ufffd"', rb'"\uDC00x"': rb'"\ufffdx"', rb'"\ud800\u0041"': rb'"\ufffd\u0041"',
             rb'"\ud800\ud83d\ude00"': rb'"\ufffd\ud83d\ude00"', rb'"\ude00\ud83d"': rb'"\ufffd\ufffd"',
             rb'"\\\ud800"': rb'"\\\ufffd"'}  # fmt: skip
    for text, want in cases.items():
        assert lone_surrogates_mended(text) == want, text


_SURROGATE_CASES = [
    ("panther-analysis/extracted/cloudtrail.json", ("Records", 79, "eventName")),
    ("snyk-to-html/test-report-with-risk-scores.json", ("vulnerabilities", 0, "title")),
    ("trivy/debian-stretch.json.golden", ("Results", 0, "Vulnerabilities", 4, "Title")),
    ("trivy/sarif/alpine-310.sarif.golden", ("runs", 0, "results", 3, "message", "text")),
    ("prometheus-msteams/alert/testdata/large_prom_post_request.json", ("alerts", 13, "labels", "alias")),
]


@pytest.mark.parametrize(("name", "where"), _SURROGATE_CASES)
def test_lone_surrogate_does_not_take_the_document(name: str, where: tuple[Any, ...], monkeypatch: pytest.MonkeyPatch) -> None:
    # RFC 8259 §8.2: a string may hold an unpaired surrogate escape (JSON.stringify writes one for a
    # string cut inside an emoji). msgspec refused the whole document for it: all 271 records of the
    # CloudTrail file, every finding of the report were dead-lettered. The document is read with
    # U+FFFD in its place (Unicode §3.9 substitution, as Go's encoding/json reads it); nothing else changes.
    path = REAL / name
    doc = json.loads(path.read_bytes())
    node = doc
    for k in where[:-1]:
        node = node[k]
    node[where[-1]] = "@@S@@" + node[where[-1]]
    text = json.dumps(doc)
    fmt, want = _auto_both_ways(text.replace("@@S@@", "\\ufffd").encode(), monkeypatch)
    got_fmt, got = _auto_both_ways(text.replace("@@S@@", "\\ud83d").encode(), monkeypatch)
    assert got_fmt == fmt and not got.dead and not want.dead and got.events == want.events
    def untimed(d: Decoded) -> list[dict[str, Any]]:  # rows stamped with the receipt time differ in it only
        return [{k: v for k, v in r.items() if k not in ("time", "time_dt")} for r in _rows(d)]

    assert untimed(got) == untimed(want) and any("\\ufffd" in r["raw_data"] for r in _rows(got))


def _audit_lines() -> list[dict[str, Any]]:
    path = REAL / "panther-analysis" / "extracted" / "github_audit.jsonl"
    return [json.loads(x) for x in path.read_bytes().splitlines() if x.strip()]


def test_github_audit_walk_takes_the_real_file() -> None:
    # the native walk reads the real audit log (so the tests below compare it with the msgspec path)
    from secpipe.formats import _github_audit

    if not _github_audit._native():
        pytest.skip("no native extension")
    lines = _audit_lines()
    got = _github_audit.walk(formats.get("github"), [json.dumps(x, separators=(",", ":")).encode() for x in lines])
    assert got is not None and got[0] is not None and got[0].num_rows + len(got[1]) == len(lines)


@pytest.mark.parametrize(("line", "where", "value", "kept"), [
    (9, ("created_at",), "1e400", False),
    (2, ("at_sign_timestamp",), "-1e400", False),
    (59, ("p_event_time",), "1" + "0" * 400 + ".5", False),
    (27, ("data", "hook_id"), "1e400", True),
    (51, ("data", "team"), "1E+999", True),
    (51, ("data", "x"), "[1e400]", True),
    (0, ("org_id",), "1e400", True),
])  # fmt: skip
def test_github_audit_number_beyond_float64(line: int, where: tuple[str, ...], value: str, kept: bool,
                                            monkeypatch: pytest.MonkeyPatch) -> None:  # fmt: skip
    # Panther's GitHub audit-log sample, one value of one event a number beyond float64 (legal JSON).
    # The native walk read it as text: stored where the msgspec path dead-letters the event, and
    # a time so written raised ValidationError out of the decode (every event of the body lost).
    # The walk now leaves such a batch to the msgspec path. That path refused an event for such a
    # number anywhere in ``data``, of which it reads only ``data.team``: it is kept raw (a team
    # msgspec cannot read is none), as the walk reads it.
    lines = _audit_lines()
    node = lines[line]
    for k in where[:-1]:
        node = node.setdefault(k, {})
    node[where[-1]] = "@@ODD@@"
    body = b"\n".join(json.dumps(x).encode() for x in lines).replace(b'"@@ODD@@"', value.encode())
    d = same_both_ways("github", body, monkeypatch, (where, value))
    assert d.events == len(lines)
    if kept:
        assert not d.dead and len(_rows(d)) == len(lines)
    else:
        assert [(x.reason, x.offset) for x in d.dead] == [(
            f"not a GitHub audit-log event: Number out of range - at `$.{where[0]}`", body.index(b"\n".join(body.splitlines()[line:line + 1])))]
        assert len(_rows(d)) == len(lines) - 1


CASES = Path(__file__).resolve().parents[1] / "cases"


@pytest.mark.parametrize(("where", "value", "gone"), [
    (("dismissed_at",), "1e400", None),
    (("cvss", 0, "vendor"), "-1e400", "cvss"),
    (("location", "dependency", "version"), "1" + "0" * 400 + ".5", "location"),
])  # fmt: skip
def test_gitlab_vulnerability_attribute_beyond_float64(where: tuple[Any, ...], value: str, gone: str | None,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:  # fmt: skip
    # GitLab's vulnerability webhook example (tests/cases/cicd) with one object_attributes value a
    # number beyond float64 (legal JSON): the attributes' decode raised ValidationError on both paths
    # and the whole body was lost. That member is read as absent; the finding is stored.
    doc = json.loads((CASES / "cicd" / "gitlab_vulnerability.json").read_bytes())
    want = _rows(same_both_ways("gitlab", json.dumps(doc).encode(), monkeypatch, "unmutated"))[0]
    node = doc["object_attributes"]
    for k in where[:-1]:
        node = node[k]
    node[where[-1]] = "@@ODD@@"
    body = json.dumps(doc).replace('"@@ODD@@"', value).encode()
    d = same_both_ways("gitlab", body, monkeypatch, where)
    assert not d.dead and d.events == 1
    got = _rows(d)[0]
    assert got["finding_info"]["uid"] == want["finding_info"]["uid"] and got["severity_id"] == want["severity_id"]
    assert got["time"] == want["time"] and got["status_id"] == want["status_id"]
    if gone is None:
        assert got["vulnerabilities"] == want["vulnerabilities"]


@pytest.mark.parametrize(("field", "value"), [("timestamp", 2**100), ("duration", 2**64), ("timestamp", -(2**63) - 1)])
def test_jenkins_notification_beyond_int64(field: str, value: int, monkeypatch: pytest.MonkeyPatch) -> None:
    # The Notification plugin's payload (tests/cases/cicd) with a build timestamp or duration past
    # int64 (JSON integers have no bound): OverflowError building the time column, on both paths,
    # and the whole body lost. Such a time or duration is none (as iso_ms reads one); the event is stored.
    doc = json.loads((CASES / "cicd" / "jenkins_notification.json").read_bytes())
    doc["build"][field] = value
    d = same_both_ways("jenkins", json.dumps(doc).encode(), monkeypatch, field)
    assert not d.dead and d.events == 1
    row = _rows(d)[0]
    assert row["job"]["name"] == doc["name"] and (row.get("duration") is None if field == "duration" else True)
    fmt = formats.detect(json.dumps(doc).encode())
    assert fmt is not None and fmt.name == "jenkins"


@pytest.mark.parametrize("line", [2**31, 2**63 + 7, -(2**40)])
def test_sonarqube_hotspot_line_beyond_int32(line: int, monkeypatch: pytest.MonkeyPatch) -> None:
    # SonarQube's /api/hotspots/search example (tests/cases/holdout) with a hotspot's line past the
    # int32 OCSF column: OverflowError (or ArrowInvalid) on both paths, the page's hotspots lost.
    # The line is none (base.int32_or_none, as session 16 did for the other formats).
    doc = json.loads((CASES / "holdout" / "sonarqube-hotspots-search-example.json").read_bytes())

    def lines(d: Decoded) -> list[int | None]:
        return [r["vulnerabilities"][0]["affected_code"][0]["start_line"] for r in _rows(d)]

    want = lines(same_both_ways("sonarqube", json.dumps(doc).encode(), monkeypatch, "unmutated"))
    doc["hotspots"][0]["line"] = line
    d = same_both_ways("sonarqube", json.dumps(doc).encode(), monkeypatch, line)
    assert not d.dead and d.events == len(doc["hotspots"])
    assert lines(d) == [None, *want[1:]] and want[0] is not None


@pytest.mark.parametrize(("part", "field", "value"), [
    ("component", "name", ["a"]), ("component", "path", {"p": 1}), ("project", "longName", 0), ("project", "qualifier", {}),
])  # fmt: skip
def test_sonarqube_shown_hotspot_component_of_another_type(part: str, field: str, value: Any,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:  # fmt: skip
    # SonarQube's /api/hotspots/show example with a field of its component or project of another
    # JSON type: a ValidationError raised out of the decode (msgspec.convert), on both paths. That
    # component is read as absent; the hotspot is stored.
    doc = json.loads((CASES / "holdout" / "sonarqube-hotspots-show-example.json").read_bytes())
    want = _rows(same_both_ways("sonarqube", json.dumps(doc).encode(), monkeypatch, "unmutated"))
    doc[part][field] = value
    d = same_both_ways("sonarqube", json.dumps(doc).encode(), monkeypatch, (part, field))
    assert not d.dead and d.events == 1
    got = _rows(d)
    assert [r["finding_info"]["uid"] for r in got] == [r["finding_info"]["uid"] for r in want]


@pytest.mark.parametrize("category", [{"kube-audit": 1}, ["kube-audit"]])
def test_aks_resource_log_category_not_a_string(category: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    # Elastic's AKS kube-audit resource log (tests/cases/holdout) beside a second one whose
    # category is an object or an array: `category in frozenset` raised TypeError (unhashable) out
    # of the decode on both paths, and both records were lost. Such a record is no kube-audit
    # wrapper; the good one is stored as before.
    good = json.loads((CASES / "holdout" / "elastic-aks-kube-audit.log").read_bytes())
    bad = json.loads(json.dumps(good))
    bad["category"] = category
    body = json.dumps(good).encode() + b"\n" + json.dumps(bad).encode()
    want = _rows(same_both_ways("k8s_audit", json.dumps(good).encode(), monkeypatch, "unmutated"))
    d = same_both_ways("k8s_audit", body, monkeypatch, category)
    assert d.events == 2 and len(_rows(d)) + len(d.dead) == 2
    assert _rows(d)[0]["metadata"]["uid"] == want[0]["metadata"]["uid"]


@pytest.mark.parametrize(("member", "value"), [("protocol", "-1e400"), ("action", "1e400"), ("extra", "[1e999]")])
def test_gitlab_git_operation_message_beyond_float64(member: str, value: str, monkeypatch: pytest.MonkeyPatch) -> None:
    # GitLab's streamed Git-operation audit events (tests/cases/holdout), one custom_message member a
    # number beyond float64: the message's whole decode raised ValidationError and every event of the
    # body was lost (a decoder error). Only action/verb are read; one so written names no operation.
    path = CASES / "holdout" / "gitlab_audit_stream_git_ops.jsonl"
    lines = [json.loads(x) for x in path.read_bytes().splitlines() if x.strip()]
    want = _rows(decode_document(formats.get("gitlab"), path.read_bytes(), "fuzz"))
    lines[1]["details"]["custom_message"][member] = "@@ODD@@"
    body = b"\n".join(json.dumps(x).encode() for x in lines).replace(b'"@@ODD@@"', value.encode())
    d = same_both_ways("gitlab", body, monkeypatch, member)
    auto = decode_document(formats.get("gitlab"), body, "fuzz")
    assert not d.dead and not auto.dead and d.events == len(lines)
    got = [r["activity_id"] for r in _rows(d)]
    assert got == [99 if member == "action" and k == 1 else r["activity_id"] for k, r in enumerate(want)]


@pytest.mark.parametrize("recase", ["lower", "one"])
def test_cloudtrail_sign_in_with_keys_recased(recase: str, monkeypatch: pytest.MonkeyPatch) -> None:
    # Elastic's IAM Identity Center UserAuthentication record (tests/cases/holdout) with its
    # top-level keys in another case (as Panther's data lake gives them: lower-cased columns). The
    # msgspec path reads such a record again in CloudTrail's case (_recased); the native path sets
    # sign-in records aside by eventName and did not, dead-lettering it as nameless: the two paths
    # disagreed. Both now store it.
    rec = json.loads((CASES / "holdout" / "elastic-cloudtrail-user-authentication.log").read_bytes().splitlines()[0])
    want = _rows(same_both_ways("cloudtrail", json.dumps(rec).encode(), monkeypatch, "unmutated"))
    if recase == "lower":
        rec = {k.lower(): v for k, v in rec.items()}
    else:
        rec = {("EVENTSOURCE" if k == "eventSource" else k): v for k, v in rec.items()}
    d = same_both_ways("cloudtrail", json.dumps(rec).encode(), monkeypatch, recase)
    assert not d.dead and d.events == 1
    got = _rows(d)
    assert [(r["class_uid"], r["time"], r["metadata"]["event_code"]) for r in got] == [
        (r["class_uid"], r["time"], r["metadata"]["event_code"]) for r in want]


@pytest.mark.parametrize("event", [{"id": "1", "timestamp": 1, "MESSAGE": "x"}, {"id": "1", "message": 7}, "text", None])
def test_cloudwatch_envelope_bad_log_event_alone(event: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    # An EKS audit subscription envelope (tests/cases/holdout) holding two log events, one of them
    # not an object with a string message: the whole envelope was dead-lettered ('not a Kubernetes
    # audit event'), its good event with it. That log event is dead-lettered alone, with its reason.
    path = CASES / "holdout" / "eks_audit_cloudwatch_envelopes.jsonl"
    lines = [json.loads(x) for x in path.read_bytes().splitlines() if x.strip()]
    env = next(x for x in lines if len(x.get("logEvents") or ()) == 2)
    want = _rows(same_both_ways("k8s_audit", json.dumps(env).encode(), monkeypatch, "unmutated"))
    env["logEvents"][1] = event
    d = same_both_ways("k8s_audit", json.dumps(env).encode(), monkeypatch, event)
    assert d.events == 2 and [x.reason for x in d.dead] == [
        "CloudWatch Logs subscription log event without a string message: no log event to map"]
    assert [r["metadata"]["uid"] for r in _rows(d)] == [want[0]["metadata"]["uid"]]


@pytest.mark.parametrize(("field", "first"), [("logStream", True), ("owner", True), ("logGroup", False)])
def test_k8s_unreadable_record_same_reason_both_paths(field: str, first: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    # The EKS envelopes file (tests/cases/holdout) as compact NDJSON, its CONTROL_MESSAGE line with a
    # lone surrogate in a field the native walk passes over: the walk dead-lettered it as 'no auditID,
    # verb or requestURI', the msgspec path with msgspec's reason (JSON is malformed): the paths
    # disagreed. The split now refuses such a line itself (first line or not: see
    # test_first_line_lone_surrogate_in_unmapped_field), the same on both paths; the walk, should
    # such a record reach it, takes the msgspec path's reason. The other line's events are stored.
    path = CASES / "holdout" / "eks_audit_cloudwatch_envelopes.jsonl"
    lines = [json.loads(x) for x in path.read_bytes().splitlines() if x.strip()]
    control = next(k for k, x in enumerate(lines) if x["messageType"] == "CONTROL_MESSAGE")
    lines[control][field] = "@@S@@"
    if not first:
        lines.append(lines.pop(control))
    body = b"\n".join(json.dumps(x, separators=(",", ":")).encode() for x in lines).replace(b"@@S@@", b"\\ud800")
    d = same_both_ways("k8s_audit", body, monkeypatch, field)
    assert [x.reason.split(" (byte")[0] for x in d.dead] == ["invalid JSON: JSON is malformed: unexpected end of hex escape"]
    assert len(_rows(d)) == sum(len(x["logEvents"]) for x in lines if x["messageType"] == "DATA_MESSAGE")


@pytest.mark.parametrize(("field", "value"), [("resolve", {"x": "Set `ftpsState`"}), ("issue", ["a", "b"]), ("issue", 7)])
def test_snyk_iac_description_not_text(field: str, value: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    # snyk-to-html's IaC report (tests/cases/holdout) with one issue's iacDescription.issue/resolve
    # an object, an array or a number: ArrowTypeError building the text column, on both paths, and
    # the report's issues lost (a decoder error). Only text is read there; the issue is stored.
    doc = json.loads((CASES / "holdout" / "iac-test-report.json").read_bytes())
    want = _rows(same_both_ways("snyk", json.dumps(doc).encode(), monkeypatch, "unmutated"))
    doc[1]["infrastructureAsCodeIssues"][2]["iacDescription"][field] = value
    d = same_both_ways("snyk", json.dumps(doc).encode(), monkeypatch, (field, value))
    assert not d.dead and d.events == len(want)
    got = _rows(d)
    assert [r["finding_info"]["uid"] for r in got] == [r["finding_info"]["uid"] for r in want]


def test_first_line_lone_surrogate_in_unmapped_field(monkeypatch: pytest.MonkeyPatch) -> None:
    # Panther's Kubernetes IOC events (tests/cases/holdout) as compact NDJSON whose FIRST line holds a
    # lone surrogate in a field no mapping reads (p_enrichment). msgspec refuses that line, so the
    # split took the body for objects pretty-printed back to back and read it with the stdlib (which
    # accepts a lone surrogate), passing the line on unchecked: the native walk stored it, the msgspec
    # path refused it (two paths, two answers). The split dead-letters such a record itself.
    path = CASES / "holdout" / "k8s_ioc_activity.jsonl"
    lines = [json.loads(x) for x in path.read_bytes().splitlines() if x.strip()]
    lines[0]["p_enrichment"]["tor_exit_nodes"][0] = "x@@S@@"
    body = b"\n".join(json.dumps(x, separators=(",", ":")).encode() for x in lines).replace(b"@@S@@", b"\\ud800")
    d = same_both_ways("k8s_audit", body, monkeypatch, "first line")
    assert [(x.reason, x.offset) for x in d.dead] == [("invalid JSON: Input data was truncated", 0)]
    assert d.events == len(lines) and len(_rows(d)) == len(lines) - 1


def test_k8s_walk_takes_msgspec_reason_for_unreadable_record(monkeypatch: pytest.MonkeyPatch) -> None:
    # The records as map_records receives them (no split before: a caller that accumulates records),
    # one holding a lone surrogate in a field the walk passes over and no auditID: both paths give
    # msgspec's reason (the walk said 'no auditID, verb or requestURI').
    from secpipe.formats.base import Records

    path = CASES / "holdout" / "k8s_ioc_activity.jsonl"
    lines = [json.loads(x) for x in path.read_bytes().splitlines() if x.strip()]
    bad = {k: v for k, v in lines[0].items() if k not in ("auditID", "verb", "requestURI")}
    bad["zzz"] = "x@@S@@"
    raws = [json.dumps(bad, separators=(",", ":")).encode().replace(b"@@S@@", b"\\ud800")]
    raws += [json.dumps(x, separators=(",", ":")).encode() for x in lines[1:]] * 12  # past the walk's minimum
    got = []
    for native in (True, False):
        with native_mode(monkeypatch, native):
            recs = Records(list(raws), [("src", i) for i in range(len(raws))], [], len(raws))
            got.append(formats.get("k8s_audit").map_records(recs))  # type: ignore[attr-defined]
    assert_same_decoded(got[0], got[1], "unreadable")
    assert [x.reason.split(" (byte")[0] for x in got[0].dead] == ["not a Kubernetes audit event: Input data was truncated"]
