"""A JSON number where a typed record wants text is read as the number's own digits (session 37).

``base.decode_strict`` reads such a number as text (an account id or event version written
unquoted, as some exporters and hand-written tests do) rather than dead-lettering the record. A
fraction went through a float: CloudTrail's ``"eventVersion": 1.10`` became "1.1". It is now read
as a decimal, so its digits stay as written (an exponent is written in Decimal's form).

The record is real: Panther's CloudTrail test events (../shared/data/real/panther-analysis, SOURCES.md),
its eventVersion written unquoted.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from secpipe import formats


@pytest.mark.parametrize(("written", "kept"), [("1.10", "1.10"), ("1.08", "1.08"), ("110", "110"),
                                               ("0.000001", "0.000001"), ("1e5", "1E+5")])  # fmt: skip
def test_an_unquoted_event_version_keeps_its_digits(real: Path, written: str, kept: str) -> None:
    doc = json.loads((real / "panther-analysis/extracted/cloudtrail.json").read_text())
    rec = next(r for r in (doc["Records"] if isinstance(doc, dict) else doc) if "eventVersion" in r)
    rec = {**rec, "eventVersion": "@", "requestParameters": {"ratio": 0.10, "n": 3}}
    data = json.dumps({"Records": [rec]}).replace('"@"', written).encode()
    out = formats.get("cloudtrail").decode(data, "test")
    assert not out.dead
    (batch,) = out.batches
    assert batch.column("metadata").field("log_version").to_pylist() == [kept]
    assert json.loads(batch.column("raw_data")[0].as_py())["eventVersion"] == json.loads(written)  # as it came
