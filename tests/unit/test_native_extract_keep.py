"""``_fast.extract``'s ``keep`` keys (read by the spec and left in ``unmapped`` in the same walk) and
``a.@`` paths (an object's raw text besides its fields): what GitHub Actions pages use to be read in one
walk where they took two (issue #3). Compared with what the same extraction gives without them."""

from __future__ import annotations

import json

import pytest

from secpipe.formats import _fast

pytestmark = pytest.mark.skipif(not _fast.available(), reason="native extension not built")

RECORDS = [
    {"a": {"x": "1", "y": 2}, "b": "z", "c": 3},
    {"a": None, "b": "w", "d": [1]},
    {"b": "v"},
    {"c": {"k": "é"}, "a": {"y": "no x"}, "b": None},
]


def _raws() -> list[bytes]:
    return [json.dumps(r, separators=(",", ":"), ensure_ascii=False).encode() for r in RECORDS]


def test_kept_keys_are_read_and_stay_in_unmapped_sorted() -> None:
    spec = _fast.Spec((("a.x", _fast.STR), ("a.@", _fast.RAW), ("b", _fast.STR)), (), (), keep=("a",))
    cols = _fast.extract(_raws(), spec)
    assert cols is not None
    assert cols.strings["a.x"].to_pylist() == ["1", None, None, None]
    assert cols.strings["a.@"].to_pylist() == ['{"x":"1","y":2}', "null", None, '{"y":"no x"}']
    assert cols.strings["b"].to_pylist() == ["z", "w", "v", None]
    # unmapped: every key but the placed ones (b), sorted, the kept one (a) included, as written
    assert [json.loads(u) if u else None for u in cols.unmapped.to_pylist()] == [
        {"a": {"x": "1", "y": 2}, "c": 3}, {"a": None, "d": [1]}, None, {"a": {"y": "no x"}, "c": {"k": "é"}}]
    assert [list(json.loads(u)) for u in cols.unmapped.to_pylist() if u] == [["a", "c"], ["a", "d"], ["a", "c"]]
    # the same columns as without keep; the same unmapped as a spec that does not read ``a`` at all
    plain = _fast.extract(_raws(), _fast.Spec((("a.x", _fast.STR), ("b", _fast.STR)), (), ()))
    unread = _fast.extract(_raws(), _fast.Spec((("b", _fast.STR),), (), ()))
    assert plain is not None and unread is not None
    assert plain.strings["a.x"].equals(cols.strings["a.x"]) and plain.strings["b"].equals(cols.strings["b"])
    assert unread.unmapped.equals(cols.unmapped)


def test_an_object_path_at_a_value_of_another_type_declines() -> None:
    """``a.@`` reads an object's text; a string there is no object: the walk declines the batch
    (the caller's msgspec path decides), as a field path under a string does."""
    raws = [b'{"a":{"x":"1"}}', b'{"a":"text"}']
    assert _fast.extract(raws, _fast.Spec((("a.x", _fast.STR), ("a.@", _fast.RAW)), (), ())) is None
    assert _fast.extract(raws, _fast.Spec((("a.x", _fast.STR),), (), ())) is None
