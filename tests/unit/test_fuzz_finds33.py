"""What the long mutation fuzz (``python -m tests.unit.mutate``, seeds 3300 up, ``FUZZ_CROSS=1``) found in
session 33, each rebuilt from real samples (tests/cases/holdout, see its SOURCES.md) by the same kind of
mutation, and checked through ``secpipe ingest``'s path as the fuzz checks it (``mutate.problems``)."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from tests.unit import mutate

HOLDOUT = Path(__file__).resolve().parents[1] / "cases" / "holdout"
#: three Snyk reports (snyk-to-html's fixtures, snyk/cli's basic-apk results): 2 + 3 + 3 issues
SNYK = ["test-sca-with-exploit-details.json", "test-report-with-reachability.json", "snyk-cli-basic-apk-results.json"]
LONE = "\\ud83d"  # a high surrogate escape alone: JSON.stringify of a JavaScript string cut inside an emoji


def _reports(bad: int | None) -> bytes:
    """The reports one a line (``jq -c . a.json b.json c.json``), the first issue title of report ``bad``
    ending in a lone surrogate escape (RFC 8259 8.2 allows it; msgspec refuses the whole text for it)."""
    lines = []
    for i, name in enumerate(SNYK):
        doc = json.loads((HOLDOUT / name).read_bytes())
        project = doc[0] if isinstance(doc, list) else doc
        if i == bad:
            project["vulnerabilities"][0]["title"] += "@@LONE@@"
        lines.append(json.dumps(doc, separators=(",", ":")).replace("@@LONE@@", LONE))
    return "\n".join(lines).encode() + b"\n"


def _titles(got: mutate.Decoded) -> list[str]:
    return sorted(t for b in got.batches for t in b.column("finding_info").field("title").to_pylist())


def test_a_lone_surrogate_in_one_of_several_reports_is_mended_in_that_one_alone() -> None:
    # seed 3301 round 3884 (records, snyk): snyk-to-html's multi-project array written one project a line,
    # a lone surrogate escape in the first: the whole body was dead-lettered ("invalid utf-16 surrogate pair"),
    # the other projects' issues with it; a report alone with one is read with U+FFFD in its place
    # (base.lone_surrogates_mended), and one among others now is too, wherever it stands
    want = _titles(mutate.ingest(_reports(None), "snyk"))
    assert len(want) == 8
    for bad in (0, 1, 2):
        data = _reports(bad)
        for fmt in ("snyk", "auto"):
            assert mutate.problems(data, fmt, both_paths=fmt != "auto") == []
            got = mutate.ingest(data, fmt)
            assert not got.dead, got.dead[0].reason  # red before: all dead (bad 0) or the bad report dead (1, 2)
            titles = _titles(got)
            assert len(titles) == 8 and sum(t.endswith("\ufffd") for t in titles) == 1
            assert sorted(t.removesuffix("\ufffd") for t in titles) == want


def test_one_damaged_report_of_several_one_a_line_is_dead_lettered_alone() -> None:
    # seed 3302 round 1872 (records, snyk): the multi-project array one project a line, one of them cut inside a
    # string: the whole body was dead-lettered ("JSON is malformed: invalid character": the report's compactor
    # reads on past the first document, so no "trailing characters" split it), the other projects with it
    lines = _reports(None).splitlines()
    for bad in (0, 1, 2):
        cut = lines[bad][: len(lines[bad]) // 2]  # inside the issues (a string or a value cut)
        data = b"\n".join(lines[:bad] + [cut] + lines[bad + 1 :]) + b"\n"
        for fmt in ("snyk", "auto"):
            got = mutate.ingest(data, fmt)
            assert len(got.dead) == 1 and got.dead[0].raw.strip() == cut, (bad, fmt, got.dead[:1])  # red before: all
            alone = mutate.ingest(lines[bad], "snyk")
            assert len(_titles(got)) == 8 - len(_titles(alone))


def test_a_zeek_port_past_int32_leaves_its_record_a_base_event_and_the_others_mapped() -> None:
    # seed 3301 round 12378 (json-keys): Tenzir's export of M57's weird.log (tests/cases/zeek_more, nested
    # ``id``) with one ``resp_p`` of 1709528767123, which no port is (Zeek's port: 0-65535): the cast to OCSF's
    # int32 port raised ArrowInvalid out of the Zeek mapping and stopped the ingest
    path = Path(__file__).resolve().parents[1] / "cases" / "zeek_more" / "tenzir-m57-zeek-more.json"
    lines = path.read_bytes().splitlines()
    k = next(i for i, ln in enumerate(lines) if b'"name":"bad_HTTP_request"' in ln)
    rec = json.loads(lines[k])
    rec["id"]["resp_p"] = 1709528767123
    data = b"\n".join([*lines[:k], json.dumps(rec).encode(), *lines[k + 1 :]]) + b"\n"
    want = mutate.ingest(b"\n".join(lines) + b"\n", "json")
    for fmt in ("json", "auto"):
        assert mutate.problems(data, fmt, both_paths=fmt != "auto") == []  # red before: raised ArrowInvalid
        got = mutate.ingest(data, fmt)
        classes = Counter(c for b in got.batches for c in b.column("class_uid").to_pylist())
        before = Counter(c for b in want.batches for c in b.column("class_uid").to_pylist())
        assert not got.dead and classes.total() == before.total() == len(lines)
        assert classes - before == {0: 1} and (before - classes).total() == 1  # that record a Base Event, no other


def test_an_otlp_record_nested_past_orjsons_limit_is_stored_as_the_document_it_is() -> None:
    # seed 3302 round 1714 (json-value): a file of OTLP JSON requests (the Collector's file exporter; the
    # pdata sample of tests/cases/wire_holdout, one request of 3 records) with one record's body value an object
    # nested 300 deep: orjson's "Recursion limit reached" (TypeError, past 254 levels) escaped the OTLP
    # records' resolve and stopped the ingest; a Kafka message of that request (the Collector's kafka
    # exporter, otlp_json) stopped the poll's decode so. The record is now read as the generic document it is,
    # as a record no format reads is, and the others as before.
    from secpipe.sources.kafka_batch import Message, decode_messages

    text = (Path(__file__).resolve().parents[1] / "cases" / "wire_holdout" / "otel-pdata-logs.ndjson").read_text()
    req = json.loads(text)
    req["resourceLogs"][0]["scopeLogs"][0]["logRecords"][0]["body"]["stringValue"] = "DEEP"
    data = json.dumps(req).encode().replace(b'"DEEP"', b'{"a":' * 300 + b"1" + b"}" * 300)
    assert mutate.problems(data + b"\n", "auto", both_paths=False) == []  # red before: raised TypeError
    for got in (mutate.ingest(data + b"\n", "auto"), decode_messages([Message("otlp_logs", 0, 7, data)], lambda _t: "auto")[0]):
        raws = [r for b in got.batches for r in b.column("raw_data").to_pylist()]
        assert not got.dead and got.events == len(raws) == 3
        assert sum('{"a":{"a":' in r for r in raws) == 1 and sum('"Message Body"' in r for r in raws) == 2


def test_a_body_not_utf8_read_as_snyk_audit_is_dead_lettered_not_raised(monkeypatch: pytest.MonkeyPatch) -> None:
    # seed 3302 round 22693 (json-many, FUZZ_CROSS): Okta's event hook delivery (tests/cases/identity33, a "data"
    # key, as a Snyk audit-log search page has) with bytes that are not UTF-8 in a string, read with --format
    # snyk_audit: the page's decode raised UnicodeDecodeError out of split_records, which `secpipe ingest` called
    # unguarded (the server, the Kafka source and accept_push guard it), and stopped the ingest
    data = (Path(__file__).resolve().parents[1] / "cases" / "identity33" / "okta-event-hook.json").read_bytes()
    data = data.replace(b'"INFO"', b'"IN\xed\xa0\x80FO"', 1)  # a surrogate's UTF-8 form: no UTF-8 (RFC 3629)
    assert mutate.problems(data, "snyk_audit") == []  # red before: raised UnicodeDecodeError
    (dead,) = mutate.ingest(data, "snyk_audit").dead
    assert dead.reason.startswith("not valid UTF-8 at byte")
    # and whatever a format's split raises dead-letters its document in `secpipe ingest` too, as elsewhere
    from secpipe import formats

    def broken(self: object, data: bytes, source: str) -> None:
        msg = "a decoder bug"
        raise ValueError(msg)

    monkeypatch.setattr(type(formats.get("snyk_audit")), "split_records", broken)
    got = mutate.ingest(data.replace(b"\xed\xa0\x80", b""), "snyk_audit")
    assert [d.reason for d in got.dead] == ["decoder error: ValueError: a decoder bug"] and got.events == 1


@pytest.mark.parametrize("value", ['\\"\\\\', "allow\\\\"])
def test_a_k8s_audit_decision_with_an_escaped_quote_is_read(value: str) -> None:
    # seed 3303 round 21533 (json-value): a Kubernetes audit event whose authorization.k8s.io/decision annotation
    # is the JSON string "\"\\" (a quote and a backslash): the annotation's regex stopped at the escaped quote and the
    # unescape of what it took raised DecodeError ("Input data was truncated") out of the mapping. Input: OpenShift's
    # documented audit events (tests/cases/holdout), one value replaced.
    lines = (Path(__file__).resolve().parents[1] / "cases" / "holdout" / "openshift-docs-audit-log-examples.jsonl").read_text().splitlines()
    k = next(i for i, ln in enumerate(lines) if '"authorization.k8s.io/decision":"allow"' in ln)
    bad = lines[k].replace('"authorization.k8s.io/decision":"allow"', f'"authorization.k8s.io/decision":"{value}"')
    data = "\n".join([*lines[:k], bad, *lines[k + 1 :]]).encode() + b"\n"
    for fmt in ("k8s_audit", "auto"):
        assert mutate.problems(data, fmt, both_paths=fmt != "auto") == []  # red before: raised DecodeError
        got = mutate.ingest(data, fmt)
        assert not got.dead and sum(b.num_rows for b in got.batches) == len(lines)
    row = next(r for b in got.batches for r in b.to_pylist() if value in (r.get("raw_data") or "").replace(" ", ""))
    want = {'\\"\\\\': '"\\', "allow\\\\": "allow\\"}[value]
    assert row["authorizations"][0]["decision"] == want


@pytest.mark.parametrize("big", ["1709528767123", "100000000000000000000"])
def test_a_number_past_int32_in_a_guardduty_count_or_a_snyk_risk_score_is_left_out(big: str) -> None:
    # seed 3304 rounds 3450 (json-unicode, guardduty) and 12337 (json-value, snyk): a GuardDuty finding's
    # service.count and a Snyk REST issue's risk.score.value past int32 (OCSF count / risk_score): the int32
    # column raised OverflowError / ArrowInvalid out of the mapping (the ingest stopped; the Snyk page was
    # dead-lettered whole as a decoder error). Now left out (null), as other int32 values past it are
    # (base.int32_or_none: the record keeps it in raw_data). Inputs: tests/cases/cloud31 (Elastic's GuardDuty
    # S3 export) and tests/cases/scanners27 (DefectDojo's Snyk Issues API page), one value replaced.
    root = Path(__file__).resolve().parents[1] / "cases"
    cases = [(root / "cloud31" / "guardduty-elastic-s3export.log", '"count":2}', f'"count":{big}}}', "count"),
             (root / "scanners27" / "snyk-issues-api-code-defectdojo.json", '"value":829}', f'"value":{big}}}', "risk_score")]
    for path, old, new, column in cases:
        text = path.read_text()
        data = text.replace(old, new, 1).encode()
        want = mutate.ingest(text.encode(), "auto")
        for fmt in ("auto", "guardduty" if column == "count" else "snyk"):
            assert mutate.problems(data, fmt, both_paths=fmt != "auto") == []  # red before: raised / whole body lost
            got = mutate.ingest(data, fmt)
            assert not got.dead and len(mutate.uids(got)) == len(mutate.uids(want))
            values = [v for b in got.batches if column in b.schema.names for v in b.column(column).to_pylist()]
            assert values.count(None) == 1 + [v for b in want.batches if column in b.schema.names
                                               for v in b.column(column).to_pylist()].count(None)
