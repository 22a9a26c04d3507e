"""schema.ocsf's kernel-free masks give what the Arrow kernels they replace gave.

- ``_rows_with`` (a profile attribute's rows inside a nested column: numpy over offsets and
  bitmaps) equals the kernel walk it replaced (``flatten``, ``list_parent_indices``, ``filter``),
  for lists of objects, nulls at every level, empty lists and sliced columns (odd offsets).
- ``_list_of`` (a list column over conformed values, its nulls kept) equals
  ``ListArray.from_arrays(offsets, values, mask=is_null())``, and also takes a sliced column with
  nulls (which that call refuses: "Null bitmap with offsets slice not supported").
- ``_count`` equals the Arrow true count of the same bits, below and above its Python-int bound.
- conforming a nested column that needs no change returns the column itself (no rebuild); one
  with an object none of whose fields is present still nulls it.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
from hypothesis import given, settings
from hypothesis import strategies as st

from secpipe import _compute as pc
from secpipe.schema.ocsf import _conform_nested, _count, _list_of, _rows_with

S = pa.string()
CVE = pa.struct([("uid", S), ("title", S)])
VULN = pa.struct([("cve", CVE), ("desc", S)])
VULNS = pa.list_(VULN)


def _rows_with_kernels(arr: pa.Array, steps: tuple[str, ...]) -> pa.Array | None:
    """The walk as it was (Arrow kernels), for reference."""
    if pa.types.is_list(arr.type) and steps:
        inner = _rows_with_kernels(arr.flatten(), steps)
        parents = pc.list_parent_indices(arr)
        hit = parents if inner is None else parents.filter(inner)
        rows = np.zeros(len(arr), dtype=bool)
        rows[hit.to_numpy(zero_copy_only=False)] = True
        return None if rows.all() else pa.array(rows)
    if not steps:
        if pa.types.is_list(arr.type):
            mask = pc.fill_null(pc.greater(pc.list_value_length(arr), 0), False)
            return None if mask.true_count == len(mask) else mask
        return arr.is_valid() if arr.null_count else None
    child = arr.flatten()[arr.type.get_field_index(steps[0])]
    return _rows_with_kernels(child, steps[1:])


def _as_bools(bits: np.ndarray | None, n: int) -> list[bool] | None:
    return None if bits is None else np.unpackbits(bits, count=n, bitorder="little").astype(bool).tolist()


TEXT = st.none() | st.text(max_size=2)
CVES = st.none() | st.fixed_dictionaries({"uid": TEXT, "title": TEXT})
ITEMS = st.none() | st.fixed_dictionaries({"cve": CVES, "desc": TEXT})
ROWS = st.lists(st.none() | st.lists(ITEMS, max_size=3), max_size=20)


@settings(max_examples=300, deadline=None)
@given(ROWS, st.integers(0, 11), st.sampled_from([("cve", "uid"), ("cve",), ("desc",), ()]))
def test_rows_with_equals_the_kernel_walk(rows: list[object], cut: int, steps: tuple[str, ...]) -> None:
    arr = pa.array(rows, VULNS).slice(min(cut, len(rows)))
    want = _rows_with_kernels(arr, steps)
    got = _rows_with(arr, steps)
    assert _as_bools(got, len(arr)) == (None if want is None else want.to_pylist())


@settings(max_examples=200, deadline=None)
@given(ROWS, st.integers(0, 11))
def test_list_of_equals_from_arrays_with_the_mask(rows: list[object], cut: int) -> None:
    arr = pa.array(rows, VULNS).slice(min(cut, len(rows)))
    got = _list_of(arr, arr.values)
    want = pa.array(rows[min(cut, len(rows)) :], VULNS)
    assert got.type == want.type and got.equals(want) and got.to_pylist() == want.to_pylist()
    if not arr.offset:
        same = pa.ListArray.from_arrays(arr.offsets, arr.values, mask=arr.is_null())
        assert got.type == same.type and got.equals(same)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.booleans(), min_size=1, max_size=1200))
def test_count_equals_the_true_count(values: list[bool]) -> None:
    bits = np.packbits(np.array(values, bool), bitorder="little")
    bits[-1] |= 0xFF << (len(values) % 8 or 8) & 0xFF  # bits past the last row are not counted
    assert _count(bits, len(values)) == sum(values)


def test_a_conformant_nested_column_is_returned_as_it_is() -> None:
    arr = pa.array([[{"cve": {"uid": "CVE-1", "title": None}, "desc": None}], None, []], VULNS)
    assert _conform_nested("vulnerability_finding", "vulnerabilities", arr) is arr
    one = pa.array([[{"cve": {"uid": "CVE-1", "title": "t"}, "desc": "d"}]], VULNS)
    assert _conform_nested("vulnerability_finding", "vulnerabilities", one) is one
    # an object none of whose fields is present becomes null (the column is built again)
    empty = pa.array([[{"cve": {"uid": None, "title": None}, "desc": "d"}]], VULNS)
    got = _conform_nested("vulnerability_finding", "vulnerabilities", empty)
    assert got is not empty and got.to_pylist() == [[{"cve": None, "desc": "d"}]]
