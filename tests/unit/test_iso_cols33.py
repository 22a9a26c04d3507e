"""A string column of times as int64 milliseconds in one native pass (``_fast.iso_ms_column``).

The values are RFC 3339 section 5.6 ``date-time`` texts with whole seconds, as GitHub's REST API
writes them (``2020-01-22T19:33:08Z``: the ``workflow-run`` schema's example) or with a numeric
offset, over the calendar's edges (leap years by the Gregorian rule, month ends, year 1 and 9999);
each must give what ``_cicd.iso_ms`` (``datetime.fromisoformat``) gives it, and a column holding
any other form must be left to the Python parser.
"""

from __future__ import annotations

import msgspec
import pyarrow as pa
import pytest

from secpipe.formats import _cicd, _fast
from secpipe.formats import github_actions as ga

pytestmark = pytest.mark.skipif(not _fast.available(), reason="needs the native extension")

_YEARS = (1, 4, 100, 400, 1600, 1899, 1900, 1969, 1970, 2000, 2023, 2024, 2100, 9999)
_OFFSETS = ("Z", "+00:00", "-00:00", "+05:30", "-08:00", "+23:59", "-23:59")


def _python_ms(values: list[str | None], monkeypatch: pytest.MonkeyPatch) -> list[int | None]:
    """What ``_cicd.iso_ms`` gives each value without the extension's parser (``fromisoformat``)."""
    with monkeypatch.context() as m:
        m.setattr(_cicd, "_iso_native", lambda: None)
        return [_cicd.iso_ms(v) for v in values]


def _times() -> list[str]:
    out = []
    for i, year in enumerate(_YEARS):
        for month in range(1, 13):
            for day in (1, 28, 29, 30, 31):
                out.append(f"{year:04d}-{month:02d}-{day:02d}T{(i * 5) % 24:02d}:{month * 4:02d}:{day + 28:02d}"
                           f"{_OFFSETS[(i + month + day) % len(_OFFSETS)]}")  # fmt: skip
    return out


def test_valid_times_are_fromisoformat_milliseconds(monkeypatch: pytest.MonkeyPatch) -> None:
    values = [v for v in _times() if _python_ms([v], monkeypatch)[0] is not None]  # Feb 30, Apr 31... dropped
    assert len(values) > 700
    got = _fast.iso_ms_column(pa.array(values, pa.string()))
    assert got is not None and got.type == pa.int64() and got.null_count == 0
    assert got.to_pylist() == _python_ms(values, monkeypatch)


def test_nulls_and_slices_kept(monkeypatch: pytest.MonkeyPatch) -> None:
    values = [None if i % 3 == 0 else f"2024-02-{i % 29 + 1:02d}T23:59:59Z" for i in range(40)]
    col = pa.array(values, pa.string())
    for part, vals in ((col, values), (col.slice(5, 21), values[5:26]), (col.slice(3, 0), [])):
        got = _fast.iso_ms_column(part)
        assert got is not None and got.to_pylist() == _python_ms(vals, monkeypatch)
    whole = pa.array(values[1:3], pa.string())  # no null: no validity bitmap, as pa.array builds it
    assert _fast.iso_ms_column(whole).buffers()[0] is None  # type: ignore[union-attr]


@pytest.mark.parametrize("other", ["2023-02-29T00:00:00Z", "2024-01-01T24:00:00Z", "2024-01-01T00:00:60Z",
                                   "2024-01-01T00:00:00+24:00", "2024-01-01 00:00:00Z", "2024-01-01T00:00:00.123Z",
                                   "2024-01-01T00:00:00", "2024-01-01T00:00:00z", "0000-01-01T00:00:00Z", "",
                                   "2024-01-01T00:00:00+0100", "2024-01-01T00:00:00 UTC", "1700000000"])  # fmt: skip
def test_other_forms_left_to_python(other: str, monkeypatch: pytest.MonkeyPatch) -> None:
    col = pa.array(["2024-01-01T00:00:00Z", other, None], pa.string())
    assert _fast.iso_ms_column(col) is None
    assert ga._ms(col).to_pylist() == _python_ms(col.to_pylist(), monkeypatch)  # the format's column: Python's


def test_int_text_is_the_cast() -> None:
    values = [0, -1, 1, 9, 10, -10, 2**63 - 1, -(2**63), None, 10**18, -(10**18) + 7, 1234567890123, None]
    col = pa.array(values, pa.int64())
    for part in (col, col.slice(2, 9), col.slice(0, 0), pa.array(values[:8], pa.int64())):
        got = _fast.int_text_column(part)
        assert got is not None and got.equals(part.cast(pa.string())), part
    assert ga._text(col).to_pylist() == [None if v is None else str(v) for v in values]


def test_walk_unmapped_keys_sorted_in_any_order() -> None:
    """The walk's ``unmapped`` holds the extra keys sorted by code point whatever order each record lists
    them in: the order found for one record's keys is taken again only for a record with the same keys in
    the same sequence (a record with the same keys reordered, more or fewer keys, or a duplicate is sorted anew)."""
    spec = _fast.Spec((("id", "i"),), (), ("id",))
    same = b'{"id":1,"zeta":1,"alpha":[2],"mid":"m","\xc3\xa9t\xc3\xa9":0,"Beta":null}'
    raws = [same, same, b'{"alpha":[2],"id":2,"zeta":1,"mid":"m","Beta":null,"\xc3\xa9t\xc3\xa9":0}',
            b'{"id":3,"zeta":1,"alpha":[2],"mid":"m"}', b'{"id":4,"zeta":1,"alpha":[2],"mid":"m","\xc3\xa9t\xc3\xa9":0,"Beta":null}',
            b'{"id":5}', b'{"id":6,"zeta":1,"alpha":[2],"mid":"m","Beta":null,"\xc3\xa9t\xc3\xa9":0}', same]  # fmt: skip
    cols = _fast.extract(raws, spec)
    assert cols is not None
    want = [msgspec.json.encode(dict(sorted((k, v) for k, v in msgspec.json.decode(r).items() if k != "id")))
            for r in raws]  # fmt: skip
    assert [None if u is None else u.encode() for u in cols.unmapped.to_pylist()] == [w if w != b"{}" else None for w in want]
    dup = b'{"id":7,"zeta":1,"alpha":[2],"zeta":2,"Beta":null,"\xc3\xa9t\xc3\xa9":0}'
    assert _fast.extract([same, dup], spec) is None  # a duplicate after a cached order: refused
    assert _fast.extract([dup, same, same], spec) is None
    assert _fast.extract([same, same], spec) is not None
