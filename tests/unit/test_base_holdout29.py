"""A batch's fixed cost (session 29): shortcuts that must give the columns the long way gives.

- ``base.base_columns`` given an activity or severity id as an int (one id every row shares)
  makes its caption and ``type_uid`` as constants, looked up once: the same columns, types and
  order as given that id as a column (an id the class's enum lacks: a null caption).
- ``github_actions._ms`` calls the native parser of GitHub's time form directly and
  ``_cicd.iso_ms`` for the rest: the same milliseconds as ``iso_ms`` value by value.
"""

from __future__ import annotations

import pyarrow as pa
import pytest

from secpipe.formats import _cicd
from secpipe.formats import github_actions as ga
from secpipe.formats.base import base_columns


@pytest.mark.parametrize("class_name", ["scheduled_job_activity", "vulnerability_finding", "api_activity",
                                        "authentication", "detection_finding"])  # fmt: skip
@pytest.mark.parametrize(("activity", "severity"), [(1, 1), (2, 5), (99, 0), (0, 6), (77, 42)])
@pytest.mark.parametrize("n", [0, 1, 100])
def test_int_ids_give_the_id_columns_batch(class_name: str, activity: int, severity: int, n: int) -> None:
    common = {"kind": "k", "product": "p", "vendor": "v", "uids": pa.array([f"u{i}" for i in range(n)]),
              "times_ms": pa.array(range(n), pa.int64()), "raws": [b"{}"] * n}  # fmt: skip
    ints = base_columns(class_name, activity_id=activity, severity_id=severity, **common)  # type: ignore[arg-type]
    cols = base_columns(class_name, activity_id=pa.array([activity] * n, pa.int32()),
                        severity_id=pa.array([severity] * n, pa.int32()), **common)  # type: ignore[arg-type]  # fmt: skip
    assert list(ints) == list(cols)
    for name in cols:
        assert ints[name].type == cols[name].type, name
        assert ints[name].to_pylist() == cols[name].to_pylist(), name


def test_ms_is_iso_ms_of_each_value() -> None:
    # GitHub's form (REST API runs and jobs), then what its fallback reads: fractions, offsets,
    # a space and " UTC", epoch text, empty, garbage, an impossible date, null
    values = ["2023-09-01T12:00:54Z", "2019-05-15T15:20:33Z", "2024-01-02T03:04:05.123+02:00", "2024-01-02 03:04:05 UTC",
              "2024-02-30T00:00:00Z", "2024-01-02T03:04:60Z", "1700000000", "", "bad", None, "2024-01-02T03:04:05-07:00"]  # fmt: skip
    got = ga._ms(pa.array(values, pa.string())).to_pylist()
    assert got == [_cicd.iso_ms(v) for v in values]
    assert got[:2] == [1693569654000, 1557933633000]
    assert ga._ms(pa.array([None, None], pa.string())).to_pylist() == [None, None]
