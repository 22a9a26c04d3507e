"""Timestamps written in other forms, and SBOM bytes that are not UTF-8 (session 22).

Session 21's mutation campaign (tests/unit/mutate.py) found, without a crash: (1) an epoch number
in a typed time field (OPA ``timestamp``, SARIF ``invocations[].startTimeUtc``, SonarQube
``updateDate``, Jenkins Blue Ocean ``startTime`` and the Notification plugin's ``build.timestamp``
as a float, GitLab ``object_attributes.finished_at``, CycloneDX ``metadata.timestamp``) made
msgspec refuse the record, so the whole event was dead-lettered (``Expected `str | null`, got
`int```); (2) RFC 3339's lower-case ``t``/``z`` (section 5.6 allows them) was not read as the
instant: the record was stamped with its receipt time; (3) a CycloneDX document holding bytes
that are not UTF-8 was dead-lettered whole by one decode path and partly stored by the other.

Now: (1) a number there is the instant (epoch seconds, or ms past 10,000,000,000, as
``_cicd.iso_ms`` reads GitHub push's ``pushed_at``), the record stored, its value still in
``raw_data``; (2) lower-case is read as upper-case; (3) a document that is not UTF-8 is
dead-lettered whole, with the byte, on both paths (RFC 8259 section 8.1). Each test mutates a
real sample and runs both decode paths (native on and off).
"""

from __future__ import annotations

import json
from typing import Any

import pyarrow as pa
import pytest

from secpipe.formats import _gitlab_native, base, gitlab
from tests.unit import mutate

CASES = mutate.CASES
REAL = mutate.REAL
SECONDS = 1709528767  # 2024-03-04T05:06:07Z
WANT = SECONDS * 1000


def _times(d: Any) -> list[int]:
    out: list[int] = []
    for b in d.batches:
        out += b.column("time").cast(pa.int64()).to_pylist()
    return out


def _labels(d: Any) -> list[Any]:
    out: list[Any] = []
    for b in d.batches:
        col = b.column("metadata")
        out += pa.array(col).field("labels").to_pylist() if "labels" in [f.name for f in col.type] else [None] * b.num_rows
    return out


def _set(doc: Any, path: tuple[Any, ...], value: Any) -> None:
    for k in path[:-1]:
        doc = doc[k]
    doc[path[-1]] = value


_GITHUB = REAL / "octokit-webhooks" / "payload-examples" / "api.github.com"
_SARIF = REAL / "sarif-sdk/src/Test.FunctionalTests.Sarif/v2/ConverterTestData/FortifyFpr/OneResultWithTwoTraces.fpr.sarif"
#: (format, sample, path of its one time field that decides the event time); the row checked is the first
_TYPED = [
    ("opa", REAL / "opa-docs" / "management-decision-logs.example1.json", (0, "timestamp")),
    ("sarif", _SARIF, ("runs", 0, "invocations", 0, "startTimeUtc")),
    ("sonarqube", CASES / "sonarqube" / "issues_search.json", ("issues", 0, "updateDate")),
    ("jenkins", CASES / "holdout" / "blueocean-run-running.json", ("startTime",)),
    ("gitlab", CASES / "cicd" / "gitlab_pipeline.json", ("object_attributes", "finished_at")),
    ("sbom", CASES / "sbom" / "fluentd-multiple-lockfiles-short.cdx.json.golden", ("metadata", "timestamp")),
    ("github", _GITHUB / "deployment" / "gh-pages.payload.json", ("deployment", "updated_at")),
    ("github", _GITHUB / "code_scanning_alert" / "fixed.payload.json", ("alert", "fixed_at")),
]


@pytest.mark.parametrize("value", [SECONDS, WANT, SECONDS + 0.25], ids=["s", "ms", "float-s"])
@pytest.mark.parametrize(("fmt", "sample", "path"), _TYPED, ids=[f"{t[0]}-{t[2][-1]}" for t in _TYPED])
def test_epoch_number_in_a_typed_time_field_is_the_instant(fmt: str, sample: Any, path: tuple[Any, ...],
                                                           value: float) -> None:  # fmt: skip
    doc = json.loads(sample.read_bytes())
    if fmt == "sarif":
        doc["runs"][0]["invocations"][0].pop("endTimeUtc", None)  # the start decides
    pristine = {n: mutate.ingest(json.dumps(doc).encode(), fmt, native=n) for n in (True, False)}
    _set(doc, path, value)
    body = json.dumps(doc).encode()
    got = {n: mutate.ingest(body, fmt, native=n) for n in (True, False)}
    for n in (True, False):
        rows = sum(b.num_rows for b in got[n].batches)
        assert rows and rows == sum(b.num_rows for b in pristine[n].batches), (n, [x.reason for x in got[n].dead])
        assert len(got[n].dead) == len(pristine[n].dead)
        assert _times(got[n])[0] == int(value * 1000 if value < 10_000_000_000 else value)
        assert _labels(got[n])[0] is None  # not the receipt time
        if fmt not in ("sarif", "sbom"):  # (their events are the results/vulnerabilities, not the report)
            raw = got[n].batches[0].column("raw_data")[0].as_py()
            assert json.dumps(value) in raw  # the number as it came
    assert mutate.uids(got[True]) == mutate.uids(got[False])
    assert _times(got[True]) == _times(got[False])


@pytest.mark.parametrize("value", [WANT, WANT + 0.0, WANT + 0.75, 1e30], ids=["int", "float", "fraction", "huge"])
@pytest.mark.parametrize("sample", ["notification", "api"])
def test_jenkins_timestamp_float(sample: str, value: float) -> None:
    # The Notification plugin's build.timestamp and the JSON API's timestamp are ms (integers): a
    # float was dead-lettered ("Expected `int | str | null`, got `float`"); it is the same ms
    # (a fraction truncated), and one beyond the int64 column is no time (as such an integer is).
    name = "jenkins_notification.json" if sample == "notification" else "jenkins_api_build.json"
    doc = json.loads((CASES / "cicd" / name).read_bytes())
    (doc["build"] if sample == "notification" else doc)["timestamp"] = value
    if sample == "api":
        doc["building"], doc["duration"] = True, 0  # (the start is the time)
    for n in (True, False):
        got = mutate.ingest(json.dumps(doc).encode(), "jenkins", native=n)
        assert not got.dead and sum(b.num_rows for b in got.batches) == 1
        assert _times(got)[0] == WANT if value < 1e20 else _labels(got)[0] is not None


def _pipelines(k: int, n: int = 70) -> list[bytes]:
    doc = json.loads((CASES / "cicd" / "gitlab_pipeline.json").read_bytes())
    out = []
    for i in range(n):
        d = json.loads(json.dumps(doc))
        d["object_attributes"]["id"] = 1000 + i
        if i == k:
            d["object_attributes"]["finished_at"] = SECONDS
        out.append(json.dumps(d, separators=(",", ":")).encode())  # compact: what the walk takes
    return out


def test_gitlab_native_walk_declines_an_epoch_number_and_msgspec_reads_it() -> None:
    # A batch large enough for the native walk (MIN_BATCH webhooks): the walker reads a time field
    # as a string and declines the batch for a number; the msgspec path then stores every record,
    # the one with the number at that instant. Without the number the walk takes the batch.
    raws = _pipelines(k=5)
    assert _gitlab_native.decode_hooks(raws, lambda: gitlab._tops(raws)) is None
    clean = _pipelines(k=-1)
    assert _gitlab_native.decode_hooks(clean, lambda: gitlab._tops(clean)) is not None
    body = b"\n".join(raws) + b"\n"
    got = {n: mutate.ingest(body, "gitlab", native=n) for n in (True, False)}
    for n in (True, False):
        assert not got[n].dead and got[n].events == 70
        times = _times(got[n])
        assert times[5] == WANT and len(set(times)) == 2
    assert mutate.uids(got[True]) == mutate.uids(got[False])
    want = mutate.uids(mutate.ingest(b"\n".join(clean) + b"\n", "gitlab"))
    assert mutate.uids(got[True])[:5] == want[:5]


def test_github_scan_declines_an_epoch_number_and_msgspec_reads_it() -> None:
    # A kept NDJSON document of deployment payloads, one with deployment.updated_at an epoch number:
    # the native scan reads that field as a string, so the payload is irregular to it and msgspec's
    # typed view reads it (the scan's spec is the one before: TimeField is scanned as a string).
    doc = json.loads((_GITHUB / "deployment" / "gh-pages.payload.json").read_bytes())
    recs = []
    for i in range(40):
        d = json.loads(json.dumps(doc))
        d["deployment"]["id"] = 1000 + i
        if i == 7:
            d["deployment"]["updated_at"] = SECONDS
        recs.append(json.dumps(d, separators=(",", ":")).encode())
    body = b"\n".join(recs) + b"\n"
    got = {n: mutate.ingest(body, "github", native=n) for n in (True, False)}
    for n in (True, False):
        assert not got[n].dead and sum(b.num_rows for b in got[n].batches) == 40
        times = _times(got[n])
        assert times[7] == WANT and len(set(times)) == 2
    assert mutate.uids(got[True]) == mutate.uids(got[False])


def test_parse_times_reads_numbers_and_lower_case() -> None:
    got = base.parse_times(["2024-03-04T05:06:07Z", SECONDS, WANT, SECONDS + 0.5, None, "x", True, 1e300])
    assert got.to_pylist() == [WANT, WANT, WANT, WANT + 500, None, None, None, None]
    lower = ["2024-03-04t05:06:07z", "2024-03-04t05:06:07.25z", "2024-03-04 05:06:07z", "2024-03-04t07:06:07+02:00"]
    assert base.parse_times(lower).to_pylist() == [WANT, WANT + 250, WANT, WANT]
    assert base.parse_times(pa.array(["2024-03-04T05:06:07Z"] * 3)).to_pylist() == [WANT] * 3  # the Arrow cast


@pytest.mark.parametrize(("fmt", "sample", "path"), [
    ("cloudtrail", REAL / "falco/test/trace_files/plugins/alice_start_instances.json", ("Records", 0, "eventTime")),
    ("k8s_audit", REAL / "falco/test/trace_files/k8s_audit/attach_pod.json", ("requestReceivedTimestamp",)),
])  # fmt: skip
def test_rfc3339_lower_case_t_z_is_the_instant(fmt: str, sample: Any, path: tuple[Any, ...]) -> None:
    # RFC 3339 section 5.6: "T" and "Z" may be written lower case. CloudTrail's eventTime so written
    # was stamped with the receipt time; a k8s event's requestReceivedTimestamp fell back to its
    # stageTimestamp. Both are the instant written.
    text = sample.read_bytes()
    try:
        doc = json.loads(text)
        lines = None
    except ValueError:
        lines = [json.loads(x) for x in text.splitlines() if x.strip()]
        doc = lines[0]
    _set(doc, path, "2024-03-04t05:06:07.5z")
    body = json.dumps(doc).encode() if lines is None else b"\n".join(json.dumps(x).encode() for x in lines)
    for n in (True, False):
        got = mutate.ingest(body, fmt, native=n)
        assert not got.dead and _times(got)[0] == WANT + 500 and _labels(got)[0] is None


#: a lone surrogate written as raw (CESU-8) bytes: not UTF-8 (what the campaign's unicode mutation wrote)
_CESU = b"\xed\xa0\x80"


@pytest.mark.parametrize("where", ["vulnerability", "component", "rating"])
def test_sbom_not_utf8_is_dead_lettered_whole_on_both_paths(where: str) -> None:
    # tests/cases/sbom's fluentd BOM with a lone surrogate's raw bytes in a vulnerability's
    # description, in a component's bom-ref (the inventory, which the native path does not decode)
    # or in a rating's score next to a type error. The native walk stored some vulnerabilities
    # and msgspec dead-lettered the document, or the other way round; now both dead-letter it
    # whole, saying where the bad byte is.
    data = (CASES / "sbom" / "fluentd-multiple-lockfiles-short.cdx.json.golden").read_bytes()
    doc = json.loads(data)
    if where == "vulnerability":
        doc["vulnerabilities"][1]["description"] = "@@BAD@@"
    elif where == "component":
        doc["components"][0]["bom-ref"] = "@@BAD@@"
    else:
        doc["vulnerabilities"][0]["ratings"][0]["score"] = "@@BAD@@"
    body = json.dumps(doc, indent=2).encode().replace(b"@@BAD@@", b"x" + _CESU + b"y")
    at = body.index(_CESU)
    for n in (True, False):
        got = mutate.ingest(body, "sbom", native=n)
        assert not got.batches and got.events == 1
        assert [(d.reason, d.offset, d.raw) for d in got.dead] == [
            (f"not valid UTF-8 at byte {at} (a JSON document must be UTF-8, RFC 8259)", 0, body.strip())]
    assert mutate.problems(body, "sbom") == []


def test_sbom_utf8_document_is_read_as_before() -> None:
    # Non-ASCII UTF-8 is UTF-8: read as before (the check decodes only a body that is not ASCII).
    doc = json.loads((CASES / "sbom" / "fluentd-multiple-lockfiles-short.cdx.json.golden").read_bytes())
    doc["vulnerabilities"][0]["description"] = "naïve – ✓ \U0001f600"
    body = json.dumps(doc, ensure_ascii=False).encode()
    for n in (True, False):
        got = mutate.ingest(body, "sbom", native=n)
        assert not got.dead and sum(b.num_rows for b in got.batches) == len(doc["vulnerabilities"])
