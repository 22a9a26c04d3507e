"""Bodies holding several JSON documents back to back, for the formats that read one document.

Reports appended to one file (one a line, or ``cat a.json b.json`` of pretty-printed ones) and
webhook payloads logged one a line are real ways such data reaches secpipe: each document must
be stored as when it comes alone (same events, same uids), and a broken one dead-lettered alone
while the others go on. Inputs: real Trivy, SARIF (sarif-sdk) and Alertmanager (prometheus-msteams)
samples of ../shared/data/real.
"""

from __future__ import annotations

import json
from pathlib import Path

import msgspec
from hypothesis import given, settings
from hypothesis import strategies as st

from secpipe import formats
from secpipe.formats.base import Decoded, decode_document, json_documents

SAMPLES = {
    "trivy": ["trivy/alpine-39-high-critical.json.golden", "trivy/debian-stretch.json.golden"],
    "sarif": ["sarif-sdk/src/Test.FunctionalTests.Sarif/v2/ConverterTestData/FxCop/FxCopExceptions.xml.sarif",
              "sarif-sdk/src/Test.FunctionalTests.Sarif/v2/ConverterTestData/ContrastSecurity/WebGoat.xml.sarif"],
    "alertmanager": ["prometheus-msteams/alert/examples/prom_post_request.json",
                     "prometheus-msteams/alert/testdata/prom_post_request_label.json"],
}  # fmt: skip


def _uids(dec: Decoded) -> list[str]:
    return sorted(u for b in dec.batches for u in b.column("metadata").field("uid").to_pylist())


def _docs(real: Path, name: str) -> list[bytes]:
    return [(real / p).read_bytes() for p in SAMPLES[name]]


def test_documents_back_to_back_are_decoded_one_by_one(real: Path) -> None:
    for name in SAMPLES:
        fmt = formats.get(name)
        docs = _docs(real, name)
        alone = [decode_document(fmt, d, "alone") for d in docs]
        assert all(a.dead == [] and a.batches for a in alone), name
        want = sorted(u for a in alone for u in _uids(a))
        compact = [msgspec.json.format(d, indent=-1) for d in docs]  # whitespace removed, nothing else
        for joined in (b"".join(docs), b"\n".join(compact) + b"\n", b"".join(compact), b"\n\n".join(docs)):
            dec = decode_document(fmt, joined, "joined")
            assert dec.dead == [], (name, dec.dead[:1])
            assert dec.events == sum(a.events for a in alone), name
            assert _uids(dec) == want, name


def test_a_broken_document_is_dead_lettered_alone(real: Path) -> None:
    fmt = formats.get("trivy")
    first, second = _docs(real, "trivy")
    alone = decode_document(fmt, first, "alone")
    dec = decode_document(fmt, first + b"\n" + second[: len(second) // 2], "joined")
    assert _uids(dec) == _uids(alone)
    assert len(dec.dead) == 1 and dec.dead[0].raw == second[: len(second) // 2]
    assert "not a Trivy JSON report" in dec.dead[0].reason and "truncated" in dec.dead[0].reason


def test_one_document_and_record_formats_are_left_as_they_were(real: Path) -> None:
    first, _second = _docs(real, "trivy")
    assert json_documents(first) == [first]
    assert json_documents(b"not json") == []
    bad = decode_document(formats.get("trivy"), b"[1, 2", "bad")
    assert len(bad.dead) == 1 and bad.events == 1 and "truncated" in bad.dead[0].reason


_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=8),
    lambda kids: st.lists(kids, max_size=3) | st.dictionaries(st.text(max_size=4), kids, max_size=3),
    max_leaves=8,
)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.dictionaries(st.text(max_size=4), _VALUES, max_size=3) | st.lists(_VALUES, max_size=3),
                          st.sampled_from(["", " ", "\n", "\r\n", "\t \n"]), st.booleans()), min_size=1, max_size=5))  # fmt: skip
def test_boundaries_are_where_each_document_ends(docs: list[tuple[object, str, bool]]) -> None:
    """Objects and arrays (the documents of these formats) back to back, compact or indented,
    with or without whitespace between: each comes back with the whitespace after it."""
    texts = [json.dumps(v, indent=2 if pretty else None).encode() + sep.encode() for v, sep, pretty in docs]
    got = json_documents(b"".join(texts))
    assert [json.loads(g) for g in got] == [v for v, _s, _p in docs]
    assert b"".join(got) == b"".join(texts)
