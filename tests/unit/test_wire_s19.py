"""Many-document requests (``_bulk``, HEC, Firehose) auto-detected by document shape: the shapes
auto-detection groups documents by (native top-level key signatures) group them as msgspec's
keys did, and a document msgspec cannot read the keys of fails alone.

Records: Panther's real CloudTrail sample (panther-analysis, ../shared/data/real), each copy
given a distinct eventID so none is a redelivery.
"""

from __future__ import annotations

import itertools
import json
import os
from pathlib import Path

import msgspec
import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from secpipe.formats import _fast
from secpipe.runtime.service import Service
from secpipe.server import wire
from secpipe.server.http import AppContext, Limits
from secpipe.server.wire import accept_docs

NOT_JSON = b'{"eventVersion": "1.08", this is not json'
NOT_CLOUDTRAIL = b'{"eventVersion":"1.08","hello":"world"}'  # JSON, but no eventName/eventSource


def _records(real: Path, n: int, tag: str) -> list[bytes]:
    base = json.loads((real / "panther-analysis/extracted/cloudtrail.json").read_bytes())["Records"]
    return [json.dumps({**base[i % len(base)], "eventID": f"{tag}-{i}"}, separators=(",", ":")).encode()
            for i in range(n)]  # fmt: skip


def _ctx(svc: Service) -> AppContext:
    return AppContext(service=svc, tokens=None, limits=Limits())


def _lake(data: Path) -> list[tuple[str, str]]:
    """(class folder, uid) of every stored row, sorted."""
    rows = []
    for f in sorted((data / "lake").glob("*/*/*.parquet")):
        uids = pq.read_table(f, columns=["metadata"]).column("metadata").combine_chunks().field("uid").to_pylist()
        rows += [(f.parent.parent.name, u) for u in uids]
    return sorted(rows)


# -- shapes: the native top-level key signatures group documents as msgspec's keys did --------

_KEYS = st.text(alphabet=st.sampled_from(['a', 'b', 'é', '"', '\\', '\x01', '\u2028', '\U0001f600', '\ud800', ' ']), max_size=3)
_VALUES = st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=4),
                       lambda inner: st.lists(inner, max_size=3) | st.dictionaries(_KEYS, inner, max_size=3),
                       max_leaves=6)  # fmt: skip


@st.composite
def _documents(draw: st.DrawFn) -> bytes:
    """A JSON object with repeated keys possible, written compactly, spread or escaped, or bytes that are none."""
    pairs = draw(st.lists(st.tuples(_KEYS, _VALUES), max_size=6))
    how = draw(st.sampled_from(["compact", "spaced", "ascii", "broken", "array", "bad-utf8", "two", "cut"]))
    sep, colon = (", ", ": ") if how == "spaced" else (",", ":")
    body = sep.join(json.dumps(k, ensure_ascii=how == "ascii") + colon +
                    json.dumps(v, ensure_ascii=how == "ascii", separators=(",", ":")) for k, v in pairs)  # fmt: skip
    doc = ("{" + body + "}").encode("utf-8", "surrogatepass")
    if how == "broken":
        doc = doc[: draw(st.integers(0, max(0, len(doc) - 1)))]
    elif how == "array":
        doc = b"[" + doc + b"]"
    elif how == "two":  # two objects on one _bulk line
        doc = doc + b"," + doc
    elif how == "cut":  # the rest of a text another document opened
        doc = b'2]},' + doc
    elif how == "bad-utf8":
        doc = doc[:-1] + b',"\xff":1}' if pairs else b'{"\xff":1}'
    return doc


def _msgspec_shapes(docs: list[bytes]) -> list[tuple[str, ...] | None]:
    out: list[tuple[str, ...] | None] = []
    for d in docs:
        try:
            out.append(tuple(msgspec.json.decode(d, type=dict[str, msgspec.Raw])))
        except (msgspec.DecodeError, UnicodeDecodeError):
            out.append(None)
    return out


@pytest.mark.skipif(not _fast.available(), reason="the native extension is not built")
@settings(max_examples=400, deadline=None)
@given(st.lists(_documents(), max_size=8))
def test_native_shapes_group_as_msgspec_keys(docs: list[bytes]) -> None:
    """Two documents share a shape exactly when msgspec reads the same top-level keys from both;
    what the native pass decides is the signature of those keys; the fallback path agrees."""
    want = _msgspec_shapes(docs)
    got = wire._shapes(docs)
    for k, (w, g) in enumerate(zip(want, got, strict=True)):
        assert (w is None) == (g is None), docs[k]
        if w is not None:
            assert g == wire._signature(w)
    for a, b in itertools.combinations(range(len(docs)), 2):
        assert (want[a] == want[b]) == (got[a] == got[b]), (docs[a], docs[b])
    os.environ["SECPIPE_NATIVE"] = "0"
    try:
        assert wire._shapes(docs) == got
    finally:
        del os.environ["SECPIPE_NATIVE"]


def test_native_shapes_of_real_documents(real: Path) -> None:
    """Real CloudTrail records and Falco alerts (compact and as printed) and their keys."""
    docs = _records(real, 271, "shape")
    falco = (real / "falco/test/output_files/single_rule_with_cat_write.json").read_bytes().splitlines()
    docs += [d for d in falco if d.strip()]
    docs += [json.dumps(json.loads(d), indent=2).encode() for d in docs[:5]]
    want = [None if k is None else wire._signature(k) for k in _msgspec_shapes(docs)]
    assert wire._shapes(docs) == want
    assert len(set(want)) > 3 and None not in want


def test_auto_detected_document_with_a_key_not_utf8_fails_alone(data_dir: Path, real: Path) -> None:
    """msgspec raises UnicodeDecodeError (not DecodeError) for such a key: the shapes of the
    whole request raised, and the request failed (a 500) instead of that one item."""
    svc = Service(data_dir)
    try:
        docs = [*_records(real, 3, "utf8"), b'{"\xed\xa0\x80":null,"message":"x"}']
        reasons = accept_docs(_ctx(svc), "es_bulk:test", [None] * len(docs), docs)
        assert reasons[:3] == [None] * 3 and reasons[3] is not None
    finally:
        svc.close()
    assert len(_lake(data_dir)) == 3


@pytest.mark.parametrize("odd", [b"", b'{"a":1},{"b":2}'])
def test_auto_detected_documents_that_join_into_another_array_fail_alone(data_dir: Path, real: Path,
                                                                         odd: bytes) -> None:
    """Shapes came from the documents joined as one JSON array: an empty document, or one of two
    objects, made a list of another length and the whole request failed."""
    svc = Service(data_dir)
    try:
        docs = [odd] if not odd else [*_records(real, 3, "join"), odd]
        reasons = accept_docs(_ctx(svc), "es_bulk:test", [None] * len(docs), docs)
        assert reasons[:-1] == [None] * (len(docs) - 1) and reasons[-1] is not None
    finally:
        svc.close()
