"""CloudTrail files walked whole (``CloudTrail.defer`` + ``_fast.extract_docs``) against the split.

Contract: mapping documents kept whole gives the same batches, dead letters and event count
as splitting them first (``split_records``) and mapping the records, for compact
``{"Records": [...]}`` files (as S3 delivery writes them: the real Panther records, the
benchmark generator's records with sign-in events set aside), pretty-printed ones, and
mutated ones (bytes spliced in anywhere: invalid JSON inside fields the walker only passes
over, bad escapes, control characters, bad UTF-8, whitespace, duplicate envelopes), where the
walk declines and the documents are split as before.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import msgspec
import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from secpipe.formats import _fast, get
from secpipe.formats.base import Decoded, Records
from secpipe.schema.ocsf import class_of
from secpipe.store.lake import _table
from tests.unit.native_support import assert_same_decoded

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))
from gen_cloudtrail import records as generated  # noqa: E402

pytestmark = pytest.mark.skipif(not _fast.available(), reason="the native extension is not built")

CT = get("cloudtrail")


def _doc(recs: list[dict], ascii_only: bool = True) -> bytes:
    return json.dumps({"Records": recs}, separators=(",", ":"), ensure_ascii=ascii_only).encode()


def _split(docs: list[tuple[bytes, str]]) -> Decoded:
    recs = Records()
    for data, source in docs:
        recs.extend(CT.split_records(data, source))
    return CT.map_records(recs)


def _whole(docs: list[tuple[bytes, str]]) -> tuple[Decoded, int]:
    """Mapped as ``ingest_files`` maps them: deferred where the format takes them whole; and how many it took."""
    recs, taken = Records(), 0
    for data, source in docs:
        part = CT.defer(data, source)
        taken += part is not None
        recs.extend(part if part is not None else CT.split_records(data, source))
    return CT.map_records(recs), taken


def _rows(d: Decoded) -> dict[str, pa.Table]:
    """Rows per class, in uid order (the walk maps whole documents and split ones in separate batches)."""
    out: dict[str, list[pa.RecordBatch]] = {}
    for b in d.batches:
        out.setdefault(class_of(b), []).append(b)
    # joined as the lake joins them: a batch whose records lack a time carries metadata.labels
    return {k: _table(v).sort_by([("raw_data", "ascending")]) for k, v in out.items()}


def _same(got: Decoded, ref: Decoded) -> None:
    """The same events, dead letters and rows per class (files walked and files split are
    mapped in separate batches; ``time``/``time_dt`` left out: a record without its own time
    gets the receipt time; ``metadata.original_time`` keeps the record's)."""
    assert got.events == ref.events
    assert sorted((d.reason, d.source, d.offset, bytes(d.raw)) for d in got.dead) == sorted(
        (d.reason, d.source, d.offset, bytes(d.raw)) for d in ref.dead)  # fmt: skip
    g, r = _rows(got), _rows(ref)
    assert g.keys() == r.keys()
    for cls in g:  # as rows: struct fields unified from several batches may come in another order
        assert g[cls].drop_columns(["time", "time_dt"]).to_pylist() == r[cls].drop_columns(["time", "time_dt"]).to_pylist(), cls


@pytest.fixture
def panther(real: Path) -> list[dict]:
    return msgspec.json.decode((real / "panther-analysis/extracted/cloudtrail.json").read_bytes())["Records"]


def test_real_records_in_a_delivery_file_map_the_same_whole(panther: list[dict]) -> None:
    docs = [(_doc(panther), "s3://bucket/AWSLogs/a.json.gz"), (_doc(panther[::-1], ascii_only=False), "b.json.gz")]
    got, taken = _whole(docs)
    assert taken == 2
    assert_same_decoded(got, _split(docs), "panther")
    assert got.events == 2 * len(panther) and not got.dead
    assert sum(b.num_rows for b in got.batches) == 2 * len(panther)


def test_generated_files_with_sign_ins_map_the_same_whole() -> None:
    recs = list(generated(3000, seed=11))
    assert any(r["eventName"] == "ConsoleLogin" for r in recs)
    docs = [(_doc(recs[i : i + 700]), f"f{i}.json.gz") for i in range(0, 3000, 700)]
    got, taken = _whole(docs)
    assert taken == len(docs)
    ref = _split(docs)
    assert_same_decoded(got, ref, "generated")
    auth = _rows(got)["authentication"]  # the sign-ins set aside by the walk, mapped from their files' bytes
    assert auth.num_rows == sum(r["eventName"] == "ConsoleLogin" for r in recs)


def test_a_pretty_printed_file_is_split_as_before(real: Path) -> None:
    data = (real / "panther-analysis/extracted/cloudtrail.json").read_bytes()
    got, _taken = _whole([(data, "pretty.json")])
    assert_same_decoded(got, _split([(data, "pretty.json")]), "pretty")


@pytest.mark.parametrize(
    "splice",
    [b'"requestParameters":{"a":"\\x"},', b'"requestParameters":{"a":01},', b'"requestParameters":{"a":"\x01"},',
     b'"requestParameters":{"a":"\\ud800"},', b'"requestParameters":{"a":"\xff"},', b'"requestParameters":{"a" :1},',
     b'"eventName":"Dup",', b'"errorCode":5,', b'"requestParameters":[1,],'],
)  # fmt: skip
def test_a_record_the_walk_declines_sends_the_batch_to_the_split(panther: list[dict], splice: bytes) -> None:
    good = _doc(panther[:5])
    at = good.index(b'{"eventVersion"', 20) + 1  # inside the second record
    bad = good[:at] + splice + good[at:]
    docs = [(good, "good.json"), (bad, "bad.json")]
    got, taken = _whole(docs)
    assert taken == 2
    _same(got, _split(docs))


@pytest.mark.parametrize(
    "doc",
    [b'{"Records":[],"Records":[]}', b'{"Records":[{"eventName":"A","eventSource":"s"}],"items":5}',
     b'{"Records":[{"eventName":"A","eventSource":"s"}]} x', b'{"Records":[{"eventName":"A","eventSource":"s"}]}\n',
     b'{"Records":[{"eventName":"A","eventSource":"s"}', b'{"Records":[1,{"eventName":"A","eventSource":"s"}]}',
     b'{"Records":null}', b'{"Records":[]}'],
)  # fmt: skip
def test_envelopes_map_the_same_whole(doc: bytes) -> None:
    got, _taken = _whole([(doc, "e.json")])
    assert_same_decoded(got, _split([(doc, "e.json")]), doc)


_pieces = st.sampled_from([b" ", b"\n", b",", b":", b"{", b"}", b"[", b"]", b'"', b"\\", b"\\u", b"\\ud800", b"\\udc00",
                           b"0", b"01", b"-", b"1.", b"e", b"true", b"null", b"\x00", b"\x1f", b"\xc3", b"\xe9", b"\xff",
                           b'"eventName":"ConsoleLogin",', b'"eventName":"X",', b'"x":{"y":[1,2]},'])  # fmt: skip


@pytest.mark.timeout(600)
@given(st.data())
@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
def test_mutated_files_map_the_same_whole(data: st.DataObject) -> None:
    recs = list(generated(6, seed=data.draw(st.integers(0, 50))))
    docs = []
    for k in range(data.draw(st.integers(1, 3))):
        raw = _doc(recs[k : k + 3], ascii_only=data.draw(st.booleans()))
        for _ in range(data.draw(st.integers(0, 2))):
            at = data.draw(st.integers(0, len(raw)))
            raw = raw[:at] + data.draw(_pieces) + raw[at + data.draw(st.integers(0, 2)) :]
        docs.append((raw, f"m{k}.json"))
    got, _taken = _whole(docs)
    _same(got, _split(docs))


@given(st.lists(st.one_of(st.none(), st.sampled_from(["", "x", ':"Failure"', 'a:"Failure"b', ':"Fail', 'ure"', ':"Failur',
                                                      'e"', '{"r":{"A":"Failure"}}'])), max_size=12),
       st.integers(0, 3), st.integers(0, 3))  # fmt: skip
@settings(max_examples=300, deadline=None)
def test_rows_holding_a_failure_are_what_the_substring_kernel_finds(texts: list[str | None], cut: int, keep: int) -> None:
    import numpy as np
    import pyarrow.compute as pc

    from secpipe.formats.cloudtrail import _rows_holding

    col = pa.array(texts, pa.string())
    col = col.slice(min(cut, len(col)), max(0, len(col) - cut - keep))  # offsets that do not start at 0
    want = np.flatnonzero(pc.fill_null(pc.match_substring(col, ':"Failure"'), False).to_numpy(zero_copy_only=False))
    assert _rows_holding(col, b':"Failure"').tolist() == want.tolist()  # a match across two rows' texts is none


def test_files_the_walk_turns_down_are_split_alone(panther: list[dict], monkeypatch: pytest.MonkeyPatch) -> None:
    """A file holding an Insights record, one holding bytes that are not UTF-8 and one that is
    pretty-printed are split; the other files are still walked (in fewer walks than files)."""
    insight = dict(panther[0], insightDetails={"eventName": "RunInstances", "eventSource": "ec2.amazonaws.com",
                                               "state": "Start"})  # fmt: skip
    del insight["eventName"], insight["eventSource"]
    good = [_doc(panther[i : i + 3]) for i in (0, 3, 6)]
    bad_utf8 = good[1].replace(b'"eventVersion"', b'"x":"\xff","eventVersion"', 1)
    docs = [(good[0], "a"), (_doc([panther[1], insight]), "insight"), (good[1], "b"), (bad_utf8, "utf8"),
            (json.dumps({"Records": panther[:2]}, indent=1).encode(), "pretty"), (good[2], "c")]  # fmt: skip
    walked: list[int] = []
    extract = _fast.extract_docs

    def counting(batch: list[bytes], *args: object, **kw: object) -> object:
        walked.append(len(batch))
        return extract(batch, *args, **kw)  # type: ignore[arg-type]

    monkeypatch.setattr(_fast, "extract_docs", counting)
    got, _taken = _whole(docs)
    assert walked == [6, 5, 4, 3]  # the insight file, then the bad one, then the pretty one left out
    _same(got, _split(docs))
    assert [d.source for d in got.dead] == ["utf8"]


def test_a_batch_of_many_files_turned_down_is_split_whole(panther: list[dict], monkeypatch: pytest.MonkeyPatch) -> None:
    from secpipe.formats import cloudtrail

    docs = [(_doc(panther[i : i + 2]).replace(b"{", b"{ ", 2), f"f{i}") for i in range(8)]  # whitespace: declined
    walked: list[int] = []
    extract = _fast.extract_docs
    monkeypatch.setattr(_fast, "extract_docs", lambda batch, *a, **kw: walked.append(len(batch)) or extract(batch, *a, **kw))
    got, _taken = _whole(docs)
    assert len(walked) == cloudtrail._WALKS
    _same(got, _split(docs))
