"""secpipe._compute (kernels wrapped on first use) against pyarrow.compute itself.

The lazy module must return what pyarrow.compute returns and raise what it raises, for the
kernels secpipe calls and for the ones pyarrow's own methods (``Array.cast``, ``.take``,
``.filter``...) call through it; and it must stay in step with pyarrow: every function
pyarrow.compute writes in Python is restated or delegated, every options class matches.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as real
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from secpipe import _compute as lazy

SRC = Path(__file__).resolve().parents[2] / "src" / "secpipe"


def _names_secpipe_calls() -> set[str]:
    names: set[str] = set()
    for f in SRC.rglob("*.py"):
        if f.name != "_compute.py":
            names |= set(re.findall(r"\bpc\.([A-Za-z_][A-Za-z_0-9]*)", f.read_text(encoding="utf-8")))
    return names


def test_every_name_secpipe_calls_resolves_like_pyarrow() -> None:
    names = _names_secpipe_calls()
    assert len(names) > 40
    for name in sorted(names):
        assert callable(getattr(lazy, name)), name
        assert callable(getattr(real, name)), name


def test_python_written_functions_are_restated_or_delegated() -> None:
    """A pyarrow upgrade that writes another function in Python must be noticed here."""
    handwritten = {
        n for n, f in vars(real).items()
        if callable(f) and not n.startswith("_") and getattr(f, "__module__", "") == "pyarrow.compute"
        and not isinstance(f, type) and getattr(f, "__arrow_compute_function__", None) is None
    }  # fmt: skip
    assert handwritten <= {"cast", "take", "fill_null"} | lazy._PYTHON_ONLY, handwritten
    for name in lazy._PYTHON_ONLY:
        assert getattr(lazy, name) is getattr(real, name)


def test_kernels_exposed_and_options_classes_match() -> None:
    reg = real.function_registry()
    for arrow_name in reg.list_functions():
        name = {"and": "and_", "or": "or_"}.get(arrow_name, arrow_name)
        assert hasattr(lazy, name) == hasattr(real, name), name
        func = reg.get_function(arrow_name)
        cls = func._doc.options_class
        assert lazy._options_class(func) is (getattr(real, cls, None) if cls else None), name


def _same(call: Any) -> None:
    """``call(module)`` gives equal results, or the same exception type, with both modules."""
    try:
        want = call(real)
    except Exception as exc:  # noqa: BLE001  (comparing what each module raises)
        with pytest.raises(type(exc)):
            call(lazy)
        return
    got = call(lazy)
    assert type(got) is type(want)
    assert got.equals(want) if hasattr(want, "equals") else got == want


STRS = pa.array(["alpha", None, "Beta", "", "alphabet", "x-1"])
INTS = pa.array([3, None, -1, 7, 0, 3], pa.int64())
BOOLS = pa.array([True, None, False, True, False, None])
CALLS = [
    lambda m: m.cast(INTS, pa.string()),
    lambda m: m.cast(STRS, pa.int64()),  # raises: not a number
    lambda m: m.cast(pa.array([300]), pa.int8(), safe=False),
    lambda m: m.cast(INTS, options=m.CastOptions.safe(pa.float64())),
    lambda m: m.cast(INTS, pa.string(), options=m.CastOptions.safe(pa.float64())),  # raises: both
    lambda m: m.take(STRS, pa.array([5, 0, None])),
    lambda m: m.take(STRS, pa.array([9])),  # raises: out of bounds
    lambda m: m.fill_null(STRS, "-"),
    lambda m: m.fill_null(INTS, pa.scalar(5, pa.int32())),
    lambda m: m.fill_null(INTS, pa.array([1, 2, 3, 4, 5, 6])),
    lambda m: m.match_substring(STRS, "alpha"),
    lambda m: m.match_substring(STRS, pattern="ALPHA", ignore_case=True),
    lambda m: m.match_substring(STRS, options=m.MatchSubstringOptions("et")),
    lambda m: m.match_substring(STRS, options={"pattern": "et"}),
    lambda m: m.match_substring(STRS, "a", options=m.MatchSubstringOptions("et")),  # raises: both
    lambda m: m.match_substring(STRS, options=3),  # raises: not options
    lambda m: m.match_substring_regex(STRS, r"^a.*t$"),
    lambda m: m.extract_regex(STRS, r"(?P<head>[a-z])(?P<tail>.*)"),
    lambda m: m.replace_substring_regex(STRS, "a", "A", max_replacements=1),
    lambda m: m.split_pattern(STRS, "-"),
    lambda m: m.utf8_lower(STRS),
    lambda m: m.binary_length(STRS),
    lambda m: m.binary_join_element_wise(STRS, STRS, "/"),
    lambda m: m.is_in(STRS, value_set=pa.array(["Beta", "x-1"])),
    lambda m: m.index_in(INTS, pa.array([7, 3])),
    lambda m: m.if_else(BOOLS, STRS, pa.scalar("n")),
    lambda m: m.coalesce(INTS, pa.scalar(0, pa.int64())),
    lambda m: m.and_(BOOLS, pa.array([True] * 6)),
    lambda m: m.or_kleene(BOOLS, pa.array([False] * 6)),
    lambda m: m.invert(BOOLS),
    lambda m: m.equal(INTS, 3),
    lambda m: m.add(INTS, 1),
    lambda m: m.divide(INTS, 0),  # raises: divide by zero
    lambda m: m.sum(INTS),
    lambda m: m.max(INTS),
    lambda m: m.any(BOOLS),
    lambda m: m.unique(INTS),
    lambda m: m.dictionary_encode(STRS),
    lambda m: m.sort_indices(INTS),
    lambda m: m.sort_indices(INTS, sort_keys=[("", "descending")]),
    lambda m: m.array_sort_indices(INTS, "descending"),
    lambda m: m.indices_nonzero(BOOLS),
    lambda m: m.filter(STRS, BOOLS),
    lambda m: m.list_flatten(pa.array([[1, 2], None, [3]])),
    lambda m: m.list_value_length(pa.array([[1, 2], None, [3]])),
    lambda m: m.struct_field(pa.array([{"a": 1}, None]), [0]),
    lambda m: m.cumulative_sum(INTS),
    lambda m: m.strptime(pa.array(["2024-01-02"]), "%Y-%m-%d", "ms"),
    lambda m: m.round(pa.array([1.25, 2.5]), 1),
    lambda m: m.is_null(pa.array([1.0, float("nan"), None]), nan_is_null=True),
    lambda m: m.is_null(INTS, True, False),  # raises: too many option arguments
    lambda m: m.add(INTS),  # raises: arity
    lambda m: m.no_such_kernel,  # raises AttributeError
    lambda m: m.equal(m.field("a"), 1),  # an Expression
]


@pytest.mark.parametrize("call", CALLS, ids=range(len(CALLS)))
def test_calls_agree(call: Any) -> None:
    _same(call)


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.one_of(st.none(), st.text(alphabet="ab-Z", max_size=4)), max_size=8),
    st.lists(st.one_of(st.none(), st.integers(-2, 9)), max_size=8),
)
def test_random_arrays_agree(strs: list[str | None], idx: list[int | None]) -> None:
    s, i = pa.array(strs, pa.string()), pa.array(idx, pa.int64())
    for call in (
        lambda m: m.take(s, i), lambda m: m.fill_null(s, "z"), lambda m: m.cast(i, pa.string()),
        lambda m: m.cast(s, pa.int8()), lambda m: m.match_substring(s, "a-"), lambda m: m.is_in(s, value_set=s),
        lambda m: m.unique(i), lambda m: m.filter(s, m.is_valid(s)), lambda m: m.binary_length(s),
    ):  # fmt: skip
        _same(call)


def test_pyarrow_methods_use_the_lazy_module() -> None:
    """After importing secpipe._compute, Array methods that call kernels do not build pyarrow.compute."""
    code = (
        "import sys\n"
        "import pyarrow as pa\n"
        "from secpipe import _compute\n"
        "a = pa.array([1, None, 3])\n"
        "r = [a.cast(pa.string()).to_pylist(), a.take(pa.array([2])).to_pylist(), a.is_null().to_pylist(),\n"
        "     a.filter(pa.array([True, False, True])).to_pylist(), a.unique().to_pylist()]\n"
        "print(r, 'pyarrow.compute' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[['1', None, '3'], [3], [False, True, False], [1, 3], [1, None, 3]] False"
