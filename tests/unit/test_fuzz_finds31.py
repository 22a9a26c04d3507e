"""What the long mutation fuzz (``python -m tests.unit.mutate``, random seeds) found in session 31, each
rebuilt from the real sample it mutated (tests/cases/wire_holdout, see its SOURCE.md) by the same kind of
mutation, and checked through ``secpipe ingest``'s path as the fuzz checks it (``mutate.problems``)."""

from __future__ import annotations

import json
from pathlib import Path

from tests.unit import mutate

CASES = Path(__file__).resolve().parents[1] / "cases" / "wire_holdout"


def test_filebeat_document_with_a_context_value_not_utf8_is_dead_lettered_alone() -> None:
    # seed 3102 round 1833 (json-many): bytes that are not UTF-8 in agent.name, a value only the line's
    # context reads (raw, unchecked): the context's decode raised UnicodeDecodeError out of the format
    # detection and stopped the ingest
    lines = (CASES / "filebeat-filestream-auth.ndjson").read_bytes().splitlines()
    bad = lines[1].replace(b'"agent":{"name":"localhost"', b'"agent":{"name":"local\xed\xa0\x80host"')
    assert bad != lines[1]
    data = b"\n".join([lines[0], bad, *lines[2:]]) + b"\n"
    assert mutate.problems(data, "auto") == []  # red before: raised UnicodeDecodeError
    got = mutate.ingest(data, "auto")
    assert len(got.dead) == 1 and sum(b.num_rows for b in got.batches) == len(lines) - 1


def test_otlp_request_nested_past_the_decoder_guard_is_dead_lettered() -> None:
    # seed 3102 round 3023 (json-shape): an attribute value nested 1,000 arrays deep: RecursionError out of
    # the OTLP request's decode stopped the ingest
    req = json.loads((CASES / "otlp-logs.json").read_bytes())
    req["resourceLogs"][0]["resource"]["attributes"][0]["value"] = "DEEP"
    data = json.dumps(req).encode().replace(b'"DEEP"', b"[" * 1000 + b"]" * 1000)
    assert mutate.problems(data, "auto") == []  # red before: raised RecursionError
    got = mutate.ingest(data, "auto")
    assert len(got.dead) == 1 and "recursion" in got.dead[0].reason.lower()


def test_zeek_record_with_a_number_past_a_double_stays_a_base_event() -> None:
    # seed 3103 round 3049 (json-many): a Zeek JSON conn record with a number msgspec does not take as a value
    # (1e999, past a double's range): the Zeek class mapping's decode raised ValidationError out of the json
    # format's batch
    lines = (Path(__file__).resolve().parents[1] / "cases" / "zeek_tsv" / "zeek-docs-conn.json").read_bytes().splitlines()
    bad = lines[0].replace(b'"orig_bytes":', b'"orig_bytes":1e999,"x":', 1)
    assert bad != lines[0]
    data = b"\n".join([bad, *lines[1:]]) + b"\n"
    for fmt in ("auto", "json"):
        assert mutate.problems(data, fmt) == []  # red before: raised ValidationError
        got = mutate.ingest(data, fmt)
        assert not got.dead and sum(b.num_rows for b in got.batches) == len(lines)
        classes = sorted(uid for b in got.batches for uid in b.column("class_uid").to_pylist())
        assert classes == [0] + [4001] * (len(lines) - 1)  # the one a Base Event, the others Network Activity


def test_ocsf_record_with_a_number_past_a_double_is_dead_lettered_alone() -> None:
    # the long fuzz (test_formats_fuzz_s21 ocsf, json-value, seed 399): Prowler's json-ocsf finding with a
    # number msgspec does not take as a value (1e999): ValidationError out of the walk's whole decode stopped the batch
    text = (Path(__file__).resolve().parents[1] / "cases" / "cloud31" / "ocsf-prowler-api-manual.ocsf.json").read_text()
    findings = json.loads(text)
    findings[0]["status_detail"] = "HUGE"
    data = json.dumps(findings).replace('"HUGE"', "1e999").encode()
    assert mutate.problems(data, "ocsf") == []  # red before: raised ValidationError
    got = mutate.ingest(data, "ocsf")
    assert len(got.dead) == 1 and "out of range" in got.dead[0].reason
    assert sum(b.num_rows for b in got.batches) == len(findings) - 1


def test_nxlog_json_record_with_a_number_past_a_double_stays_a_base_event() -> None:
    # the same kind of value in a Windows event as NXLog's to_json() writes it (SigmaHQ's regression record
    # of a Security log clear, its System values in NXLog's names): the Windows class mapping's second decode
    # (_winrecords.flat) raised ValidationError out of the json format's batch
    cases = Path(__file__).resolve().parents[1] / "cases" / "sigma_holdout"
    event = json.loads((cases / "sigmahq-regression-win_security_audit_log_cleared.json").read_bytes())["Event"]
    system = event["System"]
    nxlog = {"EventTime": system["TimeCreated"]["#attributes"]["SystemTime"], "Hostname": system["Computer"],
             "SourceName": system["Provider"]["#attributes"]["Name"], "Channel": system["Channel"],
             "EventID": system["EventID"]}  # fmt: skip
    good = json.dumps(nxlog).encode()
    bad = json.dumps({**nxlog, "Extra": "HUGE"}).replace('"HUGE"', "1e999").encode()
    data = good + b"\n" + bad + b"\n"
    assert mutate.problems(data, "json") == []  # red before: raised ValidationError
    got = mutate.ingest(data, "json")
    classes = sorted(uid for b in got.batches for uid in b.column("class_uid").to_pylist())
    assert not got.dead and classes == [0, 1008]  # the log clear an Event Log Activity, the other kept whole
