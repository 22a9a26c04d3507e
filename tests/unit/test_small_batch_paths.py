"""The fixed-cost shortcuts of a small batch give what the general path gives.

- ``schema.ocsf.assemble`` with its layout cached per (class, paths) builds the same batch as
  ``assemble_fresh`` (the tree made from the paths every time), for any subset and order of
  paths, nulls, empty lists and nested columns, on the first call and on the cached ones; a
  bad set of paths raises what the fresh build raises.
- ``enum_captions`` by a dense table equals the hash lookup (ids outside the enum, nulls).
- ``base.const`` sliced from a cached column equals ``pa.repeat``; ``parse_times`` of an
  all-null column is all null int64, as the cast pipeline gave.
- ``parse_times``'s zone check of a small batch (Python's re) equals the RE2 kernel.
- CloudTrail's per-value matches of a small batch (``_is_ip``, ``_activity``) equal the
  Arrow regex kernels (RE2) they stand for, on ASCII and non-ASCII digits, newlines, nulls.
"""

from __future__ import annotations

import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from secpipe import _arrays
from secpipe import _compute as pc
from secpipe.formats import base, cloudtrail
from secpipe.schema.ocsf import (
    SchemaError,
    _conform_nested,
    _conform_struct,
    _enum_table,
    _layout,
    assemble,
    assemble_fresh,
    enum_captions,
)

S = pa.string()
GROUPS = pa.list_(pa.struct([("name", S), ("uid", S)]))

#: api_activity paths and the Arrow type a format gives them (some not OCSF's: assemble casts)
PATHS: dict[str, pa.DataType] = {
    "class_uid": pa.int32(),
    "activity_id": pa.int64(),  # cast to int32
    "time": pa.int64(),
    "time_dt": pa.timestamp("ms", tz="UTC"),
    "metadata.uid": S,
    "metadata.version": S,
    "metadata.product.name": S,
    "metadata.product.vendor_name": S,
    "actor.user.name": S,
    "actor.user.uid": S,
    "actor.user.groups": GROUPS,
    "actor.session.is_mfa": pa.bool_(),
    "actor.session.created_time": pa.int64(),
    "src_endpoint.ip": S,
    "src_endpoint.port": pa.int64(),  # cast to int32
    "api.operation": S,
    "api.service.name": S,
    "cloud.region": S,
    "cloud.account.uid": S,
    "unmapped": S,
}


def _values(t: pa.DataType, n: int) -> st.SearchStrategy[list[object]]:
    if t == S:
        item: st.SearchStrategy[object] = st.text(max_size=3)
    elif t == pa.bool_():
        item = st.booleans()
    elif t == GROUPS:
        group = st.fixed_dictionaries({"name": st.none() | st.text(max_size=2), "uid": st.none() | st.text(max_size=2)})
        item = st.lists(group, max_size=2)
    else:
        item = st.integers(0, 2**30)
    return st.lists(st.none() | item, min_size=n, max_size=n)


@st.composite
def column_sets(draw: st.DrawFn) -> dict[str, pa.Array]:
    n = draw(st.integers(1, 6))
    paths = draw(st.permutations(list(PATHS)))[: draw(st.integers(1, len(PATHS)))]
    return {p: pa.array(draw(_values(PATHS[p], n)), PATHS[p]) for p in paths}


@settings(max_examples=200, deadline=None)
@given(column_sets())
def test_cached_layout_builds_the_fresh_batch(cols: dict[str, pa.Array]) -> None:
    want = assemble_fresh("api_activity", cols)
    for _ in range(2):  # the first call makes the layout, the second uses it
        got = assemble("api_activity", cols)
        assert got.schema == want.schema
        assert got.equals(want)
        assert got.to_pylist() == want.to_pylist()


def test_the_layout_is_cached_per_paths() -> None:
    cols = {"time": pa.array([1], pa.int64()), "metadata.uid": pa.array(["u"])}
    assemble("api_activity", cols)
    hits = _layout.cache_info().hits
    assemble("api_activity", {k: v for k, v in cols.items()})
    assert _layout.cache_info().hits == hits + 1


@pytest.mark.parametrize(
    "cols",
    [
        {"time": pa.array([1], pa.int64()), "actor.user.nope": pa.array(["x"])},  # not OCSF
        {"actor.user": pa.array(["x"]), "actor.user.name": pa.array(["x"])},  # a value and an object
        {"actor.user.name": pa.array(["x"]), "time": pa.array([1, 2], pa.int64())},  # rows differ
        {"actor.user.name": pa.array(["x"]), "time": pa.array(["soon"])},  # not castable
    ],
)
def test_a_bad_set_of_paths_raises_what_the_fresh_build_raises(cols: dict[str, pa.Array]) -> None:
    with pytest.raises(SchemaError) as fresh:
        assemble_fresh("api_activity", cols)
    for _ in range(2):
        with pytest.raises(SchemaError) as cached:
            assemble("api_activity", cols)
        assert str(cached.value) == str(fresh.value)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.none() | st.integers(-5, 120), max_size=20), st.sampled_from(["activity_id", "severity_id", "status_id"]),
       st.integers(0, 3))  # fmt: skip
def test_enum_captions_dense_equals_the_lookup(ids: list[int | None], attr: str, cut: int) -> None:
    arr = pa.array(ids, pa.int32()).slice(min(cut, len(ids)))
    keys, vals = _enum_table("api_activity", attr)
    want = vals.take(pc.index_in(arr, value_set=keys))
    assert enum_captions("api_activity", attr, arr).equals(want)


@pytest.mark.parametrize(("value", "type_"), [("AWS", None), (6003, pa.int32()), (1, None), (True, None),
                                              (2.5, pa.float64()), ("x", pa.string())])  # fmt: skip
@pytest.mark.parametrize("n", [0, 1, 125, 4096, 4097])
def test_const_equals_repeat(value: object, type_: pa.DataType | None, n: int) -> None:
    got = base.const(value, n, type_)
    want = pa.repeat(pa.scalar(value, type_), n)
    assert got.type == want.type and got.equals(want)


def test_parse_times_of_no_value_is_null_int64() -> None:
    got = base.parse_times(pa.array([None, None], S))
    assert got.type == pa.int64() and got.to_pylist() == [None, None]
    assert base.parse_times(pa.array(["2024-01-02T03:04:05.678Z", None])).to_pylist() == [1704164645678, None]


ADDRESSISH = st.text(alphabet="0123456789abcdefABCDEF:.xz-\n \u0663\u00b2", max_size=16)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.none() | ADDRESSISH | st.sampled_from(["10.0.0.1", "::1", "2001:db8::7", "s3.amazonaws.com",
                                                           "1.2.3.4\n", "\u0661.2.3.4"]), max_size=base.FEW_ROWS))  # fmt: skip
def test_is_ip_in_python_equals_re2(values: list[str | None]) -> None:
    src = pa.array(values, S)
    want = pc.fill_null(pc.match_substring_regex(src, cloudtrail._IP_RE), False)
    assert cloudtrail._is_ip(src).equals(want)


VERBS = [p for _act, ps in cloudtrail._VERBS for p in ps]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.none() | st.text(max_size=10) | st.builds("".join, st.lists(st.sampled_from([*VERBS, "Batch", "Xyz", "s", "\u00c9t"]),
                                                                                    max_size=3)), max_size=80))  # fmt: skip
def test_activity_in_python_equals_the_kernels(names: list[str | None]) -> None:
    arr = pa.array(names, S)
    small = cloudtrail._activity(arr)
    few = cloudtrail._FEW_NAMES
    cloudtrail._FEW_NAMES = -1  # the kernel path for the same names
    try:
        want = cloudtrail._activity(arr)
    finally:
        cloudtrail._FEW_NAMES = few
    assert small.type == want.type and small.equals(want)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.none() | st.text(max_size=3), max_size=20), st.integers(0, 3))
def test_nonempty_equals_the_kernels(values: list[str | None], cut: int) -> None:
    col = pa.array(values, S).slice(min(cut, len(values)))
    want = pc.fill_null(pc.not_equal(col, ""), False)
    assert _arrays.nonempty(col).equals(want)


ZONEISH = st.text(alphabet="0123456789:+-zZT .\n\u0663\u00b2", max_size=12)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.none() | ZONEISH | st.sampled_from(["2024-01-02T03:04:05Z", "2024-01-02 03:04:05.123",
                                                        "2024-01-02T03:04:05+0130", "x+01:00\n", "+\u0661\u0662"]),
                max_size=base.FEW_ROWS))  # fmt: skip
def test_zone_check_in_python_equals_re2(values: list[str | None]) -> None:
    arr = pa.array(values, S)
    want = pc.fill_null(pc.match_substring_regex(arr, base._ZONE_RE), False)
    assert base._zoned(arr).equals(want)


def _conform_struct_by_masks(arr: pa.StructArray) -> pa.StructArray:
    """The struct check as it was: the same children, null where the struct is or where no child is present."""
    children = [_conform_nested("api_activity", f"actor.user.groups.{arr.type.field(i).name}", arr.field(i))
                for i in range(arr.type.num_fields)]  # fmt: skip
    present = pa.array([any(c[i].is_valid for c in children) for i in range(len(arr))], pa.bool_())
    mask = pc.or_(arr.is_null(), pc.invert(present))
    return pa.StructArray.from_arrays(children, names=[f.name for f in arr.type], mask=mask)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.none() | st.fixed_dictionaries({"name": st.none() | st.text(max_size=2),
                                                   "uid": st.none() | st.text(max_size=2)}), max_size=12),
       st.integers(0, 9))  # fmt: skip
def test_conform_struct_equals_the_masks(items: list[dict[str, str | None] | None], cut: int) -> None:
    arr = pa.array(items, GROUPS.value_type).slice(min(cut, len(items)))
    got = _conform_struct("api_activity", "actor.user.groups", arr)
    want = _conform_struct_by_masks(arr)
    assert got.type == want.type and got.equals(want) and got.to_pylist() == want.to_pylist()
