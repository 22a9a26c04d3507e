"""``trivy aws --format json`` (and the trivy-aws plugin's) report: no SchemaVersion, so it was
detected as nothing and dead-lettered (``tests/cases/scanners31/SOURCES.md``)."""

from __future__ import annotations

from pathlib import Path

from secpipe import formats
from secpipe.schema.conformance import check_rows

CASES = Path(__file__).resolve().parents[1] / "cases" / "scanners31"


def test_trivy_aws_account_report() -> None:
    doc = (CASES / "trivy-aws-s3-scan.json").read_bytes()
    fmt = formats.detect(doc)
    assert fmt is formats.get("trivy")
    d = fmt.decode(doc, "x")
    assert not d.dead and d.events == 3
    [b] = d.batches
    rows = b.to_pylist()
    assert not check_rows("compliance_finding", rows)
    assert [r["compliance"]["control"] for r in rows] == ["AVD-AWS-0086", "AVD-AWS-0087", "AVD-AWS-0092"]
    assert [r["compliance"]["status"] for r in rows] == ["Fail", "Fail", "Pass"]
    assert [r["severity"] for r in rows] == ["High"] * 3
    a = rows[0]
    assert a["resources"][0] | {"labels": None, "data": None} == {"type": "aws_account", "name": "12345678", "uid": None,
                                                                   "labels": None, "data": None}  # fmt: skip
    assert a["resources"][1]["name"] == "arn:aws:s3:::examplebucket" and a["resources"][1]["type"] == "cloud"
    assert len(a["resources"]) == 2  # CauseMetadata's Resource is the Target here: no resource of its own
    assert a["metadata"]["log_version"] is None and "secpipe:time_from_receipt" in a["metadata"]["labels"]
    assert a["status"] == "New" and rows[2]["status"] == "Resolved"
