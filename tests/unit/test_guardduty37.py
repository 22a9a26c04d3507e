"""GuardDuty's native walk (session 37): the same batches and dead letters as msgspec's whole typing.

A batch of 16 findings or more is walked natively (string fields as columns, each distinct Severity,
Service and Resource typed once); a batch the walk declines, or holding a value that does not type, is
typed whole by msgspec. Both paths are compared here on the samples (``tests/cases/cloud31``), varied.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

from secpipe import formats
from secpipe.formats import _fast, guardduty
from secpipe.formats.base import Decoded

CASES = Path(__file__).resolve().parents[1] / "cases" / "cloud31"


def _lines() -> list[dict[str, Any]]:
    lines = (CASES / "guardduty-elastic-s3export.log").read_bytes().splitlines()[:5]  # (its five findings)
    return [json.loads(x) for x in lines]


def _cli() -> dict[str, Any]:
    return json.loads((CASES / "guardduty-awscli-get-findings.json").read_bytes())["Findings"][0]  # type: ignore[no-any-return]


def _ipc(d: Decoded) -> list[bytes]:
    out = []
    for b in d.batches:
        b = b.drop_columns(["metadata"]) if "metadata" in b.schema.names else b  # (it holds the receipt time)
        sink = pa.BufferOutputStream()
        with pa.ipc.new_stream(sink, b.schema) as w:
            w.write_batch(b)
        out.append(sink.getvalue().to_pybytes())
    return out


def _both(doc: bytes, monkeypatch: pytest.MonkeyPatch) -> tuple[Decoded, Decoded]:
    fmt = formats.get("guardduty")
    walked = fmt.decode(doc, "t")
    with monkeypatch.context() as m:
        m.setattr(guardduty._fast, "extract", lambda *a, **k: None)  # (the walk declines: msgspec's path)
        typed = fmt.decode(doc, "t")
    return walked, typed


def _docs() -> list[bytes]:
    lines, cli = _lines(), _cli()
    camel = []
    for i in range(40):
        f = copy.deepcopy(lines[i % len(lines)])
        f["id"], f["region"] = f"c{i}", ["us-east-1", "eu-west-1", None][i % 3]
        f["severity"] = [2, 5.5, 8, 9.9, 0][i % 5]
        camel.append(f)
    pascal = []
    for i in range(20):
        f = copy.deepcopy(cli)
        f["Id"] = f"p{i}"
        f["Service"]["Count"] = i
        pascal.append(f)
    mixed = camel[:10] + pascal[:10] + camel[10:20]
    return [("\n".join(json.dumps(x) for x in camel) + "\n").encode(), json.dumps({"Findings": pascal}, indent=4).encode(),
            ("\n".join(json.dumps(x) for x in mixed) + "\n").encode()]  # fmt: skip


@pytest.mark.skipif(not _fast.available(), reason="the native extension is not built")
def test_walk_gives_the_batches_of_msgspec_typing(monkeypatch: pytest.MonkeyPatch) -> None:
    for doc in _docs():
        walked, typed = _both(doc, monkeypatch)
        assert not walked.dead and walked.events == typed.events
        assert sum(b.num_rows for b in walked.batches) == walked.events
        assert _ipc(walked) == _ipc(typed)


@pytest.mark.skipif(not _fast.available(), reason="the native extension is not built")
def test_a_value_that_does_not_type_dead_letters_that_finding_alone() -> None:
    # (the walk takes Resource and Service as text: a wrong type in them sends the batch to msgspec's whole
    # typing, whose reason names the first bad value, as before the walk)
    items = _lines() * 4
    bad = copy.deepcopy(items[3])
    bad["resource"]["instanceDetails"] = {"instanceId": 5}
    bad["severity"] = "HIGH"
    items[3] = bad
    doc = ("\n".join(json.dumps(x) for x in items) + "\n").encode()
    d = formats.get("guardduty").decode(doc, "t")
    assert [x.reason for x in d.dead] == [
        "not a GuardDuty finding: Expected `str | null`, got `int` - at `$.resource.instanceDetails.instanceId`"]
    assert sum(b.num_rows for b in d.batches) == len(items) - 1


def test_scan_result_among_many_findings_is_scan_activity() -> None:
    # a Malware Protection object scan result in a batch the walk takes: found in the walk's raw_data
    scan = {"version": "0", "id": "72c7", "detail-type": "GuardDuty Malware Protection Object Scan Result",
            "account": "1", "time": "2024-02-28T01:01:01Z", "region": "us-east-1", "resources": ["arn:x"],
            "detail": {"scanStatus": "COMPLETED", "s3ObjectDetails": {"bucketName": "b", "objectKey": "k/o"},
                       "scanResultDetails": {"scanResultStatus": "NO_THREATS_FOUND"}}}  # fmt: skip
    items = [*_lines() * 4, scan]
    d = formats.get("guardduty").decode(("\n".join(json.dumps(x) for x in items) + "\n").encode(), "t")
    assert not d.dead and d.events == 21
    classes = sorted(b.column("class_uid")[0].as_py() for b in d.batches)
    assert classes == [2004, 6007]
