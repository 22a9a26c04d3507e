"""Input nested deeper than the interpreter can decode is dead-lettered, never a crash.

msgspec raises RecursionError (not DecodeError) past the recursion limit; every format,
through ``decode_document`` (what the file and HTTP ingest paths call), must turn that into
a dead letter with a reason, and an NDJSON line that deep must not take its neighbours with it.
"""

from __future__ import annotations

import pytest

from secpipe.formats import REGISTRY, get
from secpipe.formats.base import decode_document

_TEXT = {"jenkins_log", "syslog"}  # line formats: not JSON
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
