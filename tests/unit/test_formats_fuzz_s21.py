"""Mutated real samples through ``secpipe ingest``'s decode path (session 21).

The mutations (tests/unit/mutate.py) extend session 17's structural fuzz
(test_formats_fuzz_s17.py): byte flips, truncations and insertions; a value's type changed, keys
dropped or duplicated, deep nesting, numbers beyond float64, escaped, non-BMP and lone-surrogate
unicode, NaN/Infinity tokens, timestamps in other forms (RFC 3339 with an offset, epoch seconds or
milliseconds); for line formats an odd PRI, fields missing, very long lines, NUL bytes, invalid
UTF-8. Each input goes through :func:`secpipe.runtime.batch.ingest_files` (framing, record
accumulation, ``decode_document``) and must: raise nothing; dead-letter a body whole only with a
reason that says what is wrong with it (never "decoder error", a decoder bug caught); give every
dead letter a reason; store or dead-letter every record read; give the same uids twice and on
both decode paths (native and Python); and, for a damaged line, store its neighbours.

The tests below are the failures the campaign found, each built from the real sample it came
from, and a short hypothesis run of the campaign over every format (the long campaign:
``nice -n 19 python -m tests.unit.mutate SEED ROUNDS``).
"""

from __future__ import annotations

import json
import random
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from secpipe import formats
from tests.unit import mutate

CASES = mutate.CASES
REAL = mutate.REAL


@pytest.mark.parametrize(("name", "cut"), [
    ("trivy-k8s-by-scanner-defectdojo.json", b'"MisconfSummary": {'),
    ("trivy-k8s-summary-zora.json", b'"Namespace": "foo"'),
])  # fmt: skip
def test_trivy_k8s_report_not_json_says_so(name: str, cut: bytes) -> None:
    # A `trivy k8s` report (tests/cases/holdout) with bytes cut out of its middle is no JSON. The
    # decode of a k8s report refused whole tries to mend it (drop its broken resources), and the
    # mend compacted the report first: msgspec's DecodeError escaped the decoder, and the body was
    # dead-lettered as "decoder error: DecodeError ..." (a decoder bug, logged with a traceback).
    # It is dead-lettered with the reason a Trivy report that is no JSON gets.
    data = (CASES / "holdout" / name).read_bytes()
    i = data.index(cut) + len(cut) // 2
    body = data[:i] + data[i + 40:]
    assert formats.detect(body[:65536]) is formats.get("trivy")
    for fmt in ("trivy", "auto"):
        for native in (True, False):
            got = mutate.ingest(body, fmt, native=native)
            assert not got.batches and got.events == 1
            assert [(d.reason.split(" (byte")[0], d.offset) for d in got.dead] == [
                ("not a Trivy JSON report: JSON is malformed: expected ':'", 0)]
    assert mutate.problems(body, "trivy") == []


def _cloudtrail_records() -> list[dict]:
    return json.loads((REAL / "panther-analysis" / "extracted" / "cloudtrail.json").read_bytes())["Records"]


@pytest.mark.parametrize(("indent", "damage"), [(2, "cut"), (1, "colon"), (4, "last")])
def test_pretty_records_back_to_back_one_damaged(indent: int, damage: str) -> None:
    # Panther's CloudTrail records printed one after the other as `jq '.Records[]'` prints them,
    # one of them damaged (cut short, a colon lost, or the last one cut). Every line of the body was
    # dead-lettered as a broken NDJSON record ("invalid JSON: Input data was truncated", 2,000 dead
    # letters for 60 records): the good records with the damaged one. The damaged record is
    # dead-lettered alone, with msgspec's reason; the others are stored (the same uids as without it).
    recs = _cloudtrail_records()[:60]
    texts = [json.dumps(r, indent=indent).encode() for r in recs]
    k = {"cut": 7, "colon": 30, "last": 59}[damage]
    bad = texts[k][: len(texts[k]) // 2] if damage != "colon" else texts[k].replace(b'": ', b'" ', 1)
    body = b"\n".join([*texts[:k], bad, *texts[k + 1:]]) + b"\n"
    without = b"\n".join(texts[:k] + texts[k + 1:]) + b"\n"
    want = mutate.uids(mutate.ingest(without, "cloudtrail"))
    assert len(want) == 59
    for fmt in ("cloudtrail", "auto"):
        for native in (True, False):
            got = mutate.ingest(body, fmt, native=native)
            assert sorted(mutate.uids(got)) == sorted(want) and got.events == 60
            assert [(d.offset, d.raw) for d in got.dead] == [(k, bad.strip())]
            assert all(d.reason.startswith("invalid JSON: ") for d in got.dead)
    assert mutate.problems(body, "cloudtrail") == []


def test_pretty_document_damaged_is_one_dead_letter() -> None:
    # Panther's CloudTrail file (one envelope, pretty-printed) with a byte cut out: the whole file
    # is no JSON. Each of its 12,000 lines was dead-lettered on its own (the document cut into
    # pieces no one can replay); it is one dead letter, the file's bytes, with msgspec's reason.
    data = (REAL / "panther-analysis" / "extracted" / "cloudtrail.json").read_bytes()
    i = data.index(b'"eventName"', len(data) // 2)
    body = data[:i] + data[i + 1:]
    for fmt in ("cloudtrail", "auto"):
        for native in (True, False):
            got = mutate.ingest(body, fmt, native=native)
            assert not got.batches and got.events == 1
            assert [(d.reason.split(" (byte")[0], d.offset, d.raw) for d in got.dead] == [
                ("invalid JSON: JSON is malformed: expected '\"'", 0, body.strip())]


_DEEP = "[" * 5000 + "]" * 5000  # legal JSON, nested deeper than msgspec and the stdlib read


@pytest.mark.parametrize("line", [0, 2])
def test_snyk_audit_line_nested_too_deeply(line: int) -> None:
    # Panther's Snyk audit-log events (tests/cases/snyk_audit) as NDJSON, one event's `content`
    # nested 5,000 arrays deep. On the first line, the split took the body for objects
    # pretty-printed back to back (msgspec refuses that line) and the stdlib's raw_decode raised
    # RecursionError out of split_records: `secpipe ingest` stopped with a traceback, the file's
    # other events unread. That event is dead-lettered alone ("nested too deeply"); the others are stored.
    lines = [json.loads(x) for x in (CASES / "snyk_audit" / "panther_snyk_audit.jsonl").read_bytes().splitlines() if x.strip()]
    texts = [json.dumps(x) for x in lines]
    doc = dict(lines[line], content="@@DEEP@@")
    texts[line] = json.dumps(doc).replace('"@@DEEP@@"', _DEEP)
    body = "\n".join(texts).encode()
    want = mutate.uids(mutate.ingest("\n".join(texts[:line] + texts[line + 1:]).encode(), "snyk_audit"))
    assert len(want) == len(lines) - 1
    for fmt in ("snyk_audit", "auto"):
        for native in (True, False):
            got = mutate.ingest(body, fmt, native=native)
            assert mutate.uids(got) == want and got.events == len(lines)
            assert [(d.reason, d.offset) for d in got.dead] == [("invalid JSON: nested too deeply", body.index(texts[line].encode()))]


def test_report_then_document_nested_too_deeply() -> None:
    # snyk-to-html's multi-project report followed by a second JSON document nested 5,000 arrays
    # deep (`cat a.json b.json`). The report refused whole for its trailing document, the body was
    # cut into its documents, and msgspec's RecursionError on the second escaped decode_document:
    # `secpipe ingest` stopped with a traceback. The report is stored, the deep document dead-lettered.
    rep = (REAL / "snyk-to-html" / "multi-test-report.json").read_bytes()
    want = mutate.uids(mutate.ingest(rep, "snyk"))
    body = rep + b"\n" + json.dumps({"x": "@@DEEP@@"}).replace('"@@DEEP@@"', _DEEP).encode()
    for fmt in ("snyk", "auto"):
        for native in (True, False):
            got = mutate.ingest(body, fmt, native=native)
            assert mutate.uids(got) == want and got.events == len(want) + 1
            assert [d.reason for d in got.dead] == ["invalid JSON: nested too deeply"]


def _by_format() -> dict[str, list[Path]]:
    """The samples by the format ``--format auto`` reads them as (undetected ones as ``json``)."""
    out: dict[str, list[Path]] = {}
    for p in mutate.samples():
        f = formats.detect(p.read_bytes()[:65536])
        out.setdefault(f.name if f else "json", []).append(p)
    return out


_GROUPS = _by_format()


@pytest.mark.parametrize(("fmt", "sample"), [
    ("trivy", "trivy/dotnet.json.golden"),
    ("snyk", "snyk-to-html/test-report.json"),
    ("sarif", "sarif-sdk/src/Test.FunctionalTests.Sarif/v2/ConverterTestData/ContrastSecurity/WebGoat.xml.sarif"),
])
def test_report_not_utf8_then_malformed_is_said_alike(fmt: str, sample: str) -> None:
    """A report with a byte sequence that is not UTF-8 (an encoded surrogate) in its first string and
    a bare NaN later: the native compactor (it does not read strings' bytes) stopped at the NaN,
    the Python one at the bad bytes; both now say the bytes (the campaign found it on
    dotnet.json.golden, json-many seed 443706722)."""
    data = (REAL / sample).read_bytes()
    first = data.index(b'": "') + 4
    body = data[:first] + b"\xed\xa0\x80" + data[first:]
    colon = body.rindex(b'": "')
    body = body[: colon + 3] + b"NaN, " + body[colon + 3 :]
    assert mutate.problems(body, fmt) == []  # both paths, the same dead letters
    reasons = [d.reason for d in mutate.ingest(body, fmt, native=True).dead]
    if fmt == "sarif":  # its own decoder, the same reason both ways: the NaN
        assert reasons == [f"not a SARIF log: JSON is malformed: invalid character (byte {colon + 3})"]
    else:
        assert reasons == [f"not valid UTF-8 at byte {first} (a JSON document must be UTF-8, RFC 8259)"]


def _check_mutated(fmt: str, pick: int, mutation: str, seed: int) -> None:
    files = _GROUPS[fmt]
    path = files[pick % len(files)]
    data = path.read_bytes()
    res = mutate.MUTATIONS[mutation](data, random.Random(seed))
    if res is None:
        return
    body, without = res
    what = (path.name, mutation, seed)
    assert mutate.problems(body, fmt) == [], what
    assert mutate.problems(body, "auto", both_paths=False) == [], what
    if without is not None:
        assert mutate.neighbour_problems(without, body, fmt) == [], what


@pytest.mark.parametrize("fmt", sorted(_GROUPS))
@settings(max_examples=15)
@given(st.integers(0, 1 << 16), st.sampled_from(sorted(mutate.MUTATIONS)), st.integers(0, 1 << 32))
def test_mutated_samples(fmt: str, pick: int, mutation: str, seed: int) -> None:
    """A few mutated samples of each format, every default run (the campaign runs thousands)."""
    _check_mutated(fmt, pick, mutation, seed)


@pytest.mark.slow
@pytest.mark.parametrize("fmt", sorted(_GROUPS))
@settings(max_examples=300)
@given(st.integers(0, 1 << 16), st.sampled_from(sorted(mutate.MUTATIONS)), st.integers(0, 1 << 32))
def test_mutated_samples_long(fmt: str, pick: int, mutation: str, seed: int) -> None:
    """The same, 300 examples a format (make test-slow)."""
    _check_mutated(fmt, pick, mutation, seed)


def test_ingest_auto_mutated_files_end_to_end(tmp_path: Path) -> None:
    """`secpipe ingest --format auto` over a directory of mutated samples (every format, every
    mutation kind): no traceback, the dead-letter exit status, a summary whose events are all
    accounted for (stored + dead-lettered + duplicates), and one dead_letter row with a reason
    for each dead letter counted, none of them a decoder bug."""
    from secpipe.cli.ingest_run import EXIT_DEAD_LETTER
    from secpipe.store.query import run

    src = tmp_path / "in"
    src.mkdir()
    rng = random.Random(21)
    kinds = sorted(mutate.MUTATIONS)
    for fmt, files in sorted(_GROUPS.items()):
        for k in range(3):
            path = files[rng.randrange(len(files))]
            res = mutate.MUTATIONS[kinds[(len(fmt) + k) % len(kinds)]](path.read_bytes(), random.Random(k))
            (src / f"{fmt}-{k}-{path.name}").write_bytes(path.read_bytes() if res is None else res[0])
    data = tmp_path / "data"
    got = subprocess.run([sys.executable, "-c", "from secpipe.cli import main; main.main()", "ingest", "--format",
                          "auto", "--json", "--data", str(data), str(src)], capture_output=True, text=True)  # fmt: skip
    assert "Traceback" not in got.stderr, got.stderr[-3000:]
    assert got.returncode == EXIT_DEAD_LETTER, (got.returncode, got.stderr[-3000:])
    summary = json.loads(got.stdout)
    assert summary["files"] == len(list(src.iterdir()))
    assert summary["events"] == sum(summary["stored"].values()) + summary["dead_letter"] + summary["duplicates"]
    assert sum(summary["stored"].values()) > 0 and summary["dead_letter"] > 0
    rows = run(data, "SELECT reason FROM dead_letter")[1]
    assert len(rows) == summary["dead_letter"]
    assert all(r[0] and r[0].strip() and not r[0].startswith("decoder error") for r in rows)


@pytest.mark.parametrize("k", [0, 4, 8])
def test_reports_pretty_printed_back_to_back_one_damaged(k: int) -> None:
    # snyk-to-html's nine-project .NET report as nine reports pretty-printed one after the other
    # (`cat a.json b.json ...`), one of them damaged (a colon lost). msgspec refused the body at the
    # damage (or, the first report whole, the rest at the damage): the body was dead-lettered whole,
    # the eight good reports with it (or every report after the first). The damaged report is
    # dead-lettered alone with the format's reason; the others are stored (the same uids as without it).
    reps = json.loads((REAL / "snyk-to-html" / "test-report-nuget-multi-project.json").read_bytes())
    texts = [json.dumps(r, indent=1).encode() for r in reps]
    bad = texts[k].replace(b'": ', b'" ', 1)
    body = b"\n".join([*texts[:k], bad, *texts[k + 1:]]) + b"\n"
    want = mutate.uids(mutate.ingest(b"\n".join(texts[:k] + texts[k + 1:]) + b"\n", "snyk"))
    assert len(want) == (2 if k == 4 else 3)  # projects 1, 4 and 5 have a vulnerability each
    for fmt in ("snyk", "auto"):
        for native in (True, False):
            got = mutate.ingest(body, fmt, native=native)
            assert sorted(mutate.uids(got)) == sorted(want)
            assert [(d.reason.split(" (byte")[0], d.raw.strip()) for d in got.dead] == [
                ("not a snyk test --json report: JSON is malformed: expected ':'", bad)]
    assert mutate.problems(body, "snyk") == []


@pytest.mark.parametrize("order", ["list-then-null", "null-then-list"])
def test_trivy_result_vulnerabilities_written_twice(order: str) -> None:
    # Trivy's packagesprops golden (one result, one vulnerability) with the result's
    # `Vulnerabilities` written twice, a list and null. msgspec keeps the last member: the Python
    # path stored no finding for list-then-null, but the native report walk took the first list
    # and stored one (the two paths disagreed). The walk now declines a report with an issue
    # list's key written twice whatever the values; msgspec's reading holds on both paths.
    doc = json.loads((REAL / "trivy" / "packagesprops.json.golden").read_bytes())
    vulns = json.dumps(doc["Results"][0].pop("Vulnerabilities"))
    pair = [f'"Vulnerabilities": {vulns}', '"Vulnerabilities": null']
    if order == "null-then-list":
        pair.reverse()
    body = json.dumps(doc).replace('"Class":', ", ".join(pair) + ', "Class":', 1).encode()
    for native in (True, False):
        got = mutate.ingest(body, "trivy", native=native)
        assert not got.dead and len(mutate.uids(got)) == (0 if order == "list-then-null" else 1), native
    assert mutate.problems(body, "trivy") == []


@pytest.mark.parametrize("key", ["vulnerabilities", "applications"])
def test_snyk_project_list_written_twice(key: str) -> None:
    # snyk-to-html's .NET report's second project with its `vulnerabilities` (or its
    # `applications`, a project holding the first two) written twice, the list then null: the
    # native walk took the list where msgspec keeps the null (the paths disagreed: the project
    # stored with its vulnerability, or dead-lettered). Both paths now read it as msgspec does.
    reps = json.loads((REAL / "snyk-to-html" / "test-report-nuget-multi-project.json").read_bytes())
    doc = dict(reps[1], applications=reps[:2]) if key == "applications" else reps[1]
    value = json.dumps(doc.pop(key))
    body = ("{" + f'"{key}": {value}, "{key}": null, ' + json.dumps(doc)[1:]).encode()
    for native in (True, False):
        got = mutate.ingest(body, "snyk", native=native)
        if key == "applications":  # the project's own vulnerability, not its applications'
            assert len(mutate.uids(got)) == 1 and not got.dead, native
        else:  # a project whose vulnerabilities are null is no project (as when written once so)
            assert not got.batches and [d.reason.split(":")[0] for d in got.dead] == ["not a snyk test --json report"]
    assert mutate.problems(body, "snyk") == []
