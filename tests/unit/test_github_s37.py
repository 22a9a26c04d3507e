"""Session 37: a generic payload whose template id the scanner kept is answered by the scan itself.
The contracts (``native/src/github.rs``, ``formats/github.py``):
- ``HookScanner.keep(tid, info, slot)``: for a record with template id ``tid``, ``scan_kept`` answers
  (offset, start, end, next line, ``info``, ``when(slot)`` or None without a slot) instead of ``scan_line``'s
  5 items, and writes the record's ``unmapped`` (``rest_into(sink, [])``) into column ``sink`` when one is given;
  any other line gets ``scan_line``'s answer. ``forget`` empties what was kept; a slot past the spec is refused.
- ``github._from_scan`` keeps (``github._keep``) each generic template it makes for payloads without an event hint.
- ``github._build_batch`` gives ``leaves_batch`` a leaf column of shared rows as an Arrow array (its distinct values
  converted, then taken), the same batch.
- A decoded document gives the batches it gave without any of it (receipt times fixed), with and without the
  memos cleared every few payloads, and when the scanner's kept templates outlive ``_GENERIC``.
"""

from __future__ import annotations

import json
import types
from typing import Any

import pyarrow as pa
import pytest

from secpipe.formats import _cicd, _github_scan, base, github
from tests.unit.test_github_s23 import _Forgetful  # (a memo that keeps nothing)
from tests.unit.test_github_s36 import BASE, _batches, _document


def _scanner() -> Any:
    s = github._scanner()
    if s is None or not hasattr(s, "scan_kept"):
        pytest.skip("native extension without HookScanner.scan_kept")
    return s


def _line(rec: dict[str, Any]) -> bytes:
    return json.dumps(rec, separators=(",", ":"), ensure_ascii=False).encode()


def test_scan_kept_answers_a_kept_template_and_writes_its_unmapped() -> None:
    s = _scanner()
    s.forget()
    recs = [{**BASE, "_seq": k, "issue": {"id": k, "updated_at": f"2024-01-0{k + 1}T00:00:00Z"}} for k in range(3)]
    doc = b"\n".join(map(_line, recs))
    slot = _github_scan._TIME_SLOT["issue"]
    s.digests()
    s.sink_open(1 << 16)
    sink, ref = s.sink_new(), s.sink_new()
    first = s.scan_kept(doc, 0, github._HEAD, sink)
    assert len(first) == 5  # not kept yet: scan_line's answer, nothing written
    _off, _start, _end, pos, got = first
    tid = got[3][github._HEAD]
    s.rest_into(ref, [])
    s.rest_into(sink, [])
    info = object()
    s.keep(tid, info, slot)
    for k in (1, 2):
        answer = s.scan_kept(doc, pos, github._HEAD, sink)
        assert len(answer) == 6
        off, start, end, pos, kept, when = answer
        assert kept is info
        assert doc[start:end] == _line(recs[k]) and off == start
        assert when == s.when(slot) == 1704067200000 + k * 86_400_000
        s.rest_into(ref, [])  # (what the caller wrote before: the same record's unmapped)
    assert s.scan_kept(doc, pos, github._HEAD, sink) is None
    assert len(s.digests()) == 3
    a, b = (bytes(pa.py_buffer(s.sink_take(k)[1])) for k in (sink, ref))
    assert a == b and a.count(b"_seq") == 3


def test_scan_kept_without_a_slot_or_sink_and_after_forget() -> None:
    s = _scanner()
    doc = b"\n".join(map(_line, [{**BASE, "_seq": 1}, {**BASE, "_seq": 2}, {**BASE, "_seq": 3}]))
    s.digests()
    _o, _s, _e, pos, got = s.scan_kept(doc, 0, github._HEAD)
    s.keep(got[3][github._HEAD], "info")
    _o, _s, _e, pos, info, when = s.scan_kept(doc, pos, github._HEAD)
    assert (info, when) == ("info", None)
    s.forget()
    assert len(s.scan_kept(doc, pos, github._HEAD)) == 5
    s.digests()


def test_keep_refuses_a_slot_past_the_spec() -> None:
    s = _scanner()
    with pytest.raises(ValueError, match="slot"):
        s.keep(1, None, len(_github_scan._SCAN_SPEC) - 1)


def test_generic_templates_are_kept_without_an_event_hint(monkeypatch: pytest.MonkeyPatch) -> None:
    _scanner()
    kept: list[tuple[Any, ...]] = []
    monkeypatch.setattr(github, "_keep", lambda *a: kept.append(a))
    monkeypatch.setattr(github, "_GENERIC", {})
    data = _document(0)
    _batches(data, "http:/github/webhook;github-event=push")
    assert not kept
    _batches(data)
    assert kept and all(type(tid) is int and known is github._GENERIC[tid, None] for _s, tid, known in kept)


@pytest.mark.parametrize("seed", range(3))
@pytest.mark.parametrize("memo", [4096, 3])
def test_document_batches_unchanged_by_kept_templates(seed: int, memo: int, monkeypatch: pytest.MonkeyPatch) -> None:
    s = _scanner()
    monkeypatch.setattr(base, "time", types.SimpleNamespace(time=lambda: 1764600000.123))
    data = _document(seed)
    with monkeypatch.context() as mp:
        mp.setattr(github, "_GENERIC", _Forgetful())
        mp.setattr(github, "_build_batch", _cicd.build_batch)
        mp.setattr(github, "_keep", lambda *_: None)
        s.forget()
        want = _batches(data)
    monkeypatch.setattr(github, "_CACHE_MAX", memo)
    github._GENERIC.clear()
    got = _batches(data) + _batches(data)
    github._GENERIC.clear()  # (the scanner still keeps what it was given: its ids are never reused)
    got += _batches(data)
    assert len(got) == 3 * len(want)
    for g, w in zip(got, want * 3, strict=True):
        assert g.schema.equals(w.schema, check_metadata=True)
        assert g.equals(w)


def test_shared_rows_columns_are_arrays(monkeypatch: pytest.MonkeyPatch) -> None:
    rows = [{"actor.user.name": "a", "unmapped": None, "resources": None, "api.operation": None}] * 3 + [
        {"actor.user.name": "b", "unmapped": None, "resources": [{"type": "repository", "name": "o/r", "uid": "1"}],
         "api.operation": None}]  # fmt: skip
    seen: dict[str, Any] = {}
    real = _cicd.leaves_batch

    def leaves(cls: str, *, columns: dict[str, Any], **kw: Any) -> pa.RecordBatch:
        seen.update(columns)
        return real(cls, columns=columns, **kw)

    monkeypatch.setattr(_cicd, "leaves_batch", leaves)
    common = {"kind": "github", "product": "GitHub", "vendor": "GitHub", "raws": [b"{}"] * 4, "times": [None] * 4,
              "activity": 1, "severity": 1, "checked": True}  # fmt: skip
    github._build_batch("api_activity", rows=rows, **common)
    assert seen["actor.user.name"].to_pylist() == ["a", "a", "a", "b"]
    assert isinstance(seen["resources"], tuple) and seen["resources"][3] is rows[3]["resources"]
    assert seen["api.operation"] == (None,) * 4  # (left out by leaves_batch, as before)
    assert seen["unmapped"] == (None,) * 4


@pytest.mark.parametrize("n", [0, 1, 17, 300])
def test_uid_strings_are_uid_columns(n: int) -> None:
    import hashlib

    from secpipe.formats._uids import uid_column

    s = _scanner()
    digests = [hashlib.sha256(str(k).encode()).digest() for k in range(n)]
    got = github._uid_strings(digests, s)
    assert got.equals(uid_column(digests) if n else pa.array([], pa.string()))
    assert got.to_pylist() == [d[:16].hex() for d in digests]
    with pytest.raises(ValueError, match="16 bytes"):
        s.uid_hex([b"short"])
