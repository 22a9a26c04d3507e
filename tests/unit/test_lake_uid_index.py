"""UidIndex and all_distinct: exact answers, checked against Python sets.

Generated uids share 64-bit prefixes on purpose (a handful of prefixes, random tails), mix
upper-case and odd-length ones (the string fallback), and repeat, so every branch of the
prefix lookup is exercised, including several committed uids under one prefix.
"""

from __future__ import annotations

import pyarrow as pa
from hypothesis import given, settings
from hypothesis import strategies as st

from secpipe.store.lake import UidIndex, all_distinct, uid_keys

_hex = st.text("0123456789abcdef", min_size=16, max_size=16)
_prefix = st.sampled_from(["0" * 16, "00000000000000ff", "ffffffffffffffff", "8000000000000000", "0123456789abcdef"])
_keyed = st.one_of(  # uids the prefix index takes
    st.builds(lambda p, t: p + t, _prefix, _hex),  # shared prefixes
    st.builds(lambda a, b: a + b, _hex, _hex),  # random
    st.builds(lambda p, t: p + t.upper(), _prefix, _hex),  # upper-case tail: still a prefix key
)
_uid = st.one_of(
    _keyed,
    st.builds(lambda a, b: (a + b).upper(), _hex, _hex),  # upper-case prefix: string fallback
    st.text("0123456789abcdefg-", min_size=1, max_size=40),  # odd shapes
)
_run = st.one_of(st.lists(_keyed, max_size=30), st.lists(_uid, max_size=30))


@given(st.lists(_run, max_size=12), st.lists(_uid, max_size=40), st.integers(1, 4))
@settings(max_examples=400, deadline=None)
def test_contains_is_exact(committed: list[list[str]], asked: list[str], max_runs: int) -> None:
    index = UidIndex(max_runs=max_runs)
    for run in committed:
        index.add(uid_keys(pa.array(run, pa.string())))
    seen = {u for run in committed for u in run}
    assert index.contains(uid_keys(pa.array(asked, pa.string()))).tolist() == [u in seen for u in asked]


@given(st.one_of(st.lists(_keyed, max_size=40), st.lists(_uid, max_size=40)))
@settings(max_examples=300, deadline=None)
def test_all_distinct_is_exact(uids: list[str]) -> None:
    assert all_distinct(uid_keys(pa.array(uids, pa.string()))) == (len(set(uids)) == len(uids))
