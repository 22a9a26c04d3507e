"""Input nested deeper than the interpreter can decode is dead-lettered, never a crash.

msgspec raises RecursionError (not DecodeError) past the recursion limit; every format,
through ``decode_document`` (what the file and HTTP ingest paths call), must turn that into
a dead letter with a reason, and an NDJSON line that deep must not take its neighbours with it.
"""

from __future__ import annotations

import pytest

from secpipe.formats import REGISTRY, get
from secpipe.formats.base import decode_document

_TEXT = {"github_actions_log", "jenkins_log", "syslog"}  # line formats: not JSON
_DEEP = b"[" * 5000 + b"]" * 5000
_DOCS = {
    "trivy": b'{"SchemaVersion":2,"Results":[{"Target":"x","Vulnerabilities":' + _DEEP + b"}]}",
    "sarif": b'{"version":"2.1.0","runs":[{"tool":{"driver":{"name":"x"}},"results":' + _DEEP + b"}]}",
    "object": b'{"x":' + _DEEP + b"}",
    "array": b"[" + _DEEP + b"]",
}


@pytest.mark.parametrize("name", sorted(REGISTRY))
@pytest.mark.parametrize("doc", sorted(_DOCS))
def test_deep_document_is_dead_lettered(name: str, doc: str) -> None:
    dec = decode_document(get(name), _DOCS[doc], "src")
    if name in _TEXT:
        assert dec.events >= 1  # a line of brackets is a log line like any other
        return
    assert dec.batches == [] or all(b.num_rows == 0 for b in dec.batches)
    assert len(dec.dead) >= 1 and all(d.reason for d in dec.dead)
    assert any(d.raw for d in dec.dead)


@pytest.mark.parametrize("name", ["github", "gitlab", "k8s_audit", "falco", "json"])
def test_deep_ndjson_line_does_not_sink_its_neighbours(name: str) -> None:
    good = b'{"action":"created","actor":"ann","@timestamp":1700000000000,"org":"o"}'
    dec = decode_document(get(name), b"\n".join([good, b'{"x":' + _DEEP + b"}", good]), "src")
    assert "invalid JSON: nested too deeply" in [d.reason for d in dec.dead]
    assert dec.events == 3


@pytest.mark.parametrize(("name", "sample", "field"), [
    ("trivy", "trivy/distroless-base.json.golden", b'"VulnerabilityID": "'),
    ("sarif", "sarif-sdk/src/Test.FunctionalTests.Sarif/v2/ConverterTestData/FxCop/FxCopExceptions.xml.sarif", b'"text": "'),
    ("snyk", "snyk-to-html/test-report-remediation-missing-patch.json", b'"title": "'),
    ("alertmanager", "prometheus-msteams/pkg/card/testdata/prom_post_request_too_large.json", b'"alertname": "'),
])  # fmt: skip
def test_report_with_invalid_utf8_is_dead_lettered_with_the_reason(name: str, sample: str, field: bytes, real) -> None:  # type: ignore[no-untyped-def]
    """Bytes that are not UTF-8 inside a mapped string: the report is refused whole, saying where."""
    data = (real / sample).read_bytes()
    at = data.index(field) + len(field)
    dec = decode_document(get(name), data[:at] + b"\xff\xfe" + data[at:], "src")
    assert dec.batches == [] and len(dec.dead) == 1
    assert dec.dead[0].reason == f"not valid UTF-8 at byte {at} (a JSON document must be UTF-8, RFC 8259)"


def test_deep_file_under_auto_is_dead_lettered_not_a_crash(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """A JSON file nested past msgspec's guard (the cross-format fuzzer's mutation of a Semgrep report:
    ``"start"`` made 1,000 arrays deep) crashed ``secpipe ingest --format auto`` with RecursionError in
    the shipper-document check of its head (``files.shipped_head``: red before); it is one dead letter."""
    import json
    from pathlib import Path

    from secpipe.runtime.batch import ingest_files
    from secpipe.runtime.pipeline import Pipeline
    from secpipe.sources.files import shipped_head

    report = json.loads((Path(__file__).parents[1] / "cases/scanners28/semgrep-defectdojo.json").read_bytes())
    report["results"] = [{**report["results"][0], "start": "DEEP"}]
    doc = json.dumps(report).encode().replace(b'"DEEP"', b"[" * 1000 + b"]" * 1000)
    assert shipped_head(doc) is False
    path = tmp_path / "deep.json"
    path.write_bytes(doc)
    pipe = Pipeline(tmp_path / "d")
    ingest_files(pipe, [str(path)], "auto")
    res = pipe.flush()
    assert sum(res.stored.values()) == 0 and pipe.totals.dead_letter == 1
