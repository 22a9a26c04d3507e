"""The native split (``_fast.split_lines``, ``split_envelope(strict=True)``) against msgspec.

Contract: a record the native split returns is exactly what ``msgspec.json.format(x,
indent=-1)`` gives for it (it only accepts input that formatting leaves unchanged), and
``split_json_records`` returns the same records, offsets and dead letters with the extension
and without it (``SECPIPE_NATIVE=0``), on the real samples and on generated and mutated JSON.
"""

from __future__ import annotations

import json
from pathlib import Path

import msgspec
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from secpipe.formats import _fast
from secpipe.formats.base import split_json_records

pytestmark = pytest.mark.skipif(not _fast.available(), reason="the native extension is not built")

_SLOW_OK = [HealthCheck.too_slow, HealthCheck.data_too_large]

# strings with escapes of every kind, surrogate pairs, control characters, non-ASCII
_text = st.text(st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=12)
_scalar = st.one_of(st.none(), st.booleans(), st.integers(-10**30, 10**30), st.floats(allow_nan=False, allow_infinity=False),
                    _text)  # fmt: skip
_json = st.recursive(_scalar, lambda inner: st.one_of(st.lists(inner, max_size=4),
                                                      st.dictionaries(_text, inner, max_size=4)), max_leaves=20)  # fmt: skip
_objects = st.dictionaries(_text, _json, max_size=5)
# bytes a mutation splices in: JSON punctuation, whitespace, escapes, digits and number parts
_pieces = st.sampled_from([b" ", b"\t", b"\n", b"\r", b",", b":", b"{", b"}", b"[", b"]", b'"', b"\\", b"\\u", b"\\ud800",
                           b"\\udc00", b"\\ud83d\\ude00", b"\\x", b"0", b"01", b"-", b"1.", b".5", b"e", b"E+", b"1e5",
                           b"true", b"tru", b"null", b"\x00", b"\x1f", b"\x7f", b"\xc3", b"\xe9"])  # fmt: skip


def _compact(obj: object, ascii_only: bool) -> bytes:
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=ascii_only).encode()


def _formatted(raw: bytes) -> bytes | None:
    try:
        return msgspec.json.format(raw, indent=-1)
    except (msgspec.DecodeError, RecursionError):
        return None


@st.composite
def _mutated(draw: st.DrawFn) -> bytes:
    raw = _compact(draw(_objects), draw(st.booleans()))
    for _ in range(draw(st.integers(0, 3))):
        at = draw(st.integers(0, len(raw)))
        cut = draw(st.integers(0, 2))
        raw = raw[:at] + draw(_pieces) + raw[at + cut :]
    return raw


@pytest.mark.timeout(900)  # CPU-heavy (tens of CPU-seconds): a loaded CI host stretched it past the default 300 s
@given(st.lists(st.one_of(_mutated(), st.builds(_compact, _objects, st.booleans())), min_size=1, max_size=6))
@settings(max_examples=600, deadline=None, suppress_health_check=_SLOW_OK)
def test_a_line_accepted_natively_is_what_msgspec_formats(lines: list[bytes]) -> None:
    data = b"\n".join(lines)
    got = _fast.split_lines(data)
    assert got is not None
    records, starts, todo = got
    assert todo == records.count(None)
    for rec, off in zip(records, starts, strict=True):
        if rec is not None:
            assert _formatted(rec) == rec
            end = data.find(b"\n", off)
            assert data[off : len(data) if end < 0 else end].strip() == rec


@given(_objects, st.booleans())
@settings(max_examples=300, deadline=None, suppress_health_check=_SLOW_OK)
def test_every_compact_object_is_accepted(obj: dict, ascii_only: bool) -> None:
    raw = _compact(obj, ascii_only)
    got = _fast.split_lines(raw + b"\r\n  \n")
    assert got is not None
    assert got[0] == [raw] and got[1] == [0] and got[2] == 0


@pytest.mark.parametrize(
    "line",
    [b'{"a":1 }', b'{"a":01}', b'{"a":1.}', b'{"a":.5}', b'{"a":+1}', b'{"a":1e}', b'{"a":-}', b'{"a":tru}',
     b'{"a":nulll}', b'{"a":1,}', b'{"a":[1,]}', b'{"a":"\\x"}', b'{"a":"\\U0041"}', b'{"a":"\\ud800"}',
     b'{"a":"\\udc00"}', b'{"a":"\\ud83dx"}', b'{"a":"\x01"}', b'{"a" :1}', b'{"a":1}{"b":2}', b'{"a":1}x',
     b'{a:1}', b'{"a":1', b'{"a":[' * 300 + b"]" * 300 + b"}", b"[1]", b'"x"'],
)  # fmt: skip
def test_lines_left_to_msgspec(line: bytes) -> None:
    got = _fast.split_lines(line)
    assert got is not None and got[0] == [None] and got[2] == 1


def test_deep_nesting_is_dead_lettered_not_a_crash(python_only) -> None:  # type: ignore[no-untyped-def]
    deep = b'{"x":' + b"[" * 5000 + b"]" * 5000 + b"}"
    for native in (True, False):
        if not native:
            python_only()
        raws, _offs, dead = split_json_records(b'{"a":1}\n' + deep + b'\n{"b":2}', "src", "fmt")
        assert raws == [b'{"a":1}', b'{"b":2}']
        assert [(d.reason, d.offset) for d in dead] == [("invalid JSON: nested too deeply", 8)]
        raws, _offs, dead = split_json_records(b"[" + deep + b"]", "src", "fmt", envelope="Records")
        assert raws == [] and [d.reason for d in dead] == ["invalid JSON array: nested too deeply"]


def _key(result: tuple) -> tuple:
    raws, offs, dead = result
    return raws, offs, [(d.reason, d.offset, bytes(d.raw)) for d in dead]


@given(st.lists(st.one_of(_mutated(), st.builds(_compact, _objects, st.booleans()), st.just(b""), st.just(b"  \r"),
                          st.builds(lambda o: json.dumps(o, indent=1).replace("\n", "").encode(), _objects)),
                min_size=1, max_size=6))  # fmt: skip
@settings(max_examples=300, deadline=None, suppress_health_check=_SLOW_OK)
def test_ndjson_split_same_with_and_without_native(lines: list[bytes]) -> None:
    data = b"\n".join(lines)
    native = _key(split_json_records(data, "src", "fmt"))
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("SECPIPE_NATIVE", "0")
        _fast._module.cache_clear()
        ref = _key(split_json_records(data, "src", "fmt"))
    _fast._module.cache_clear()
    assert native == ref


@given(st.lists(_objects, max_size=4), _objects, st.sampled_from([b"", b"\n", b" \r\n", b"x"]), st.integers(0, 3), st.data())
@settings(max_examples=300, deadline=None, suppress_health_check=_SLOW_OK)
def test_envelope_split_same_with_and_without_native(items: list[dict], other: dict, tail: bytes, mutations: int,
                                                     data: st.DataObject) -> None:  # fmt: skip
    doc = _compact({**other, "Records": items}, ascii_only=data.draw(st.booleans())) + tail
    for _ in range(mutations):
        at = data.draw(st.integers(0, len(doc)))
        doc = doc[:at] + data.draw(_pieces) + doc[at + data.draw(st.integers(0, 2)) :]
    native = _key(split_json_records(doc, "src", "fmt", "Records"))
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("SECPIPE_NATIVE", "0")
        _fast._module.cache_clear()
        ref = _key(split_json_records(doc, "src", "fmt", "Records"))
    _fast._module.cache_clear()
    assert native == ref


_JSON_SUFFIXES = (".json", ".jsonl", ".ndjson", ".golden", ".sarif")


def test_real_documents_split_the_same_with_and_without_native(real: Path) -> None:
    """Every JSON sample (envelopes, arrays, NDJSON, pretty single documents), both ways."""
    docs = [p.read_bytes() for p in sorted(real.rglob("*")) if p.is_file() and p.name.endswith(_JSON_SUFFIXES)]
    assert len(docs) > 400
    for doc in docs:
        _assert_split_both_ways(doc)


def _assert_split_both_ways(doc: bytes) -> None:
    """``split_json_records`` gives the same with the extension and without, with and without an envelope."""
    for envelope in (None, "Records"):
        native = _key(split_json_records(doc, "src", "fmt", envelope))
        with pytest.MonkeyPatch.context() as mp:
            mp.setenv("SECPIPE_NATIVE", "0")
            _fast._module.cache_clear()
            ref = _key(split_json_records(doc, "src", "fmt", envelope))
        _fast._module.cache_clear()
        assert native == ref


@given(st.lists(st.one_of(_objects, _json), max_size=5), st.sampled_from([b"", b"\n", b" \r\n", b"x", b",", b"]"]),
       st.integers(0, 3), st.data())  # fmt: skip
@settings(max_examples=300, deadline=None, suppress_health_check=_SLOW_OK)
def test_array_split_same_with_and_without_native(items: list, tail: bytes, mutations: int, data: st.DataObject) -> None:
    doc = _compact(items, ascii_only=data.draw(st.booleans())) + tail
    for _ in range(mutations):
        at = data.draw(st.integers(0, len(doc)))
        doc = doc[:at] + data.draw(_pieces) + doc[at + data.draw(st.integers(0, 2)) :]
    got = _fast.split_array(doc)
    if got is not None:
        assert _formatted(doc) == doc.rstrip(b" \t\r\n")
    _assert_split_both_ways(doc)


def test_objects_pretty_printed_back_to_back_are_records(real: Path, tmp_path: Path) -> None:
    """``jq '.Records[]' file`` prints each record pretty (2-space indent) one after another: the
    same records as the file's envelope, with the same canonical bytes (so the same uids); an
    unreadable tail (a record cut short) is dead-lettered alone, and the records before it are
    stored (they were dead-lettered with it, a line at a time: session 21's fuzz)."""
    doc = (real / "panther-analysis/extracted/cloudtrail.json").read_bytes()
    want, _, dead = split_json_records(doc, "f", "cloudtrail", "Records")
    assert len(want) > 10 and not dead
    jq = b"".join(json.dumps(json.loads(r), indent=2).encode() + b"\n" for r in want)
    got, offsets, dead = split_json_records(jq, "f", "cloudtrail", "Records")
    assert got == want and offsets == list(range(len(want))) and not dead
    tail = b'{\n  "eventVersion": \n'
    got, offsets, dead = split_json_records(jq + tail, "f", "cloudtrail", "Records")
    assert got == want and offsets == list(range(len(want)))
    assert [(d.reason, d.offset, d.raw) for d in dead] == [("invalid JSON: Input data was truncated", len(want), tail.strip())]
