"""CloudTrail Lake query results (``aws cloudtrail get-query-results``) as their records (session 18).

The answers are built to the GetQueryResults API's shape (``QueryResultRows``: a list of rows,
each a list of one-column string-to-string maps) around Panther's real CloudTrail records
(``panther-analysis/extracted/cloudtrail.json``), their values rendered as a CloudTrail Lake
``SELECT *`` gives them: ``eventTime`` as ``YYYY-MM-DD HH:MM:SS.000``, booleans as text, structs
in Trino's ``{field=value, ...}`` form with lower-case field names and ``null``. Before, no format
recognized such an answer. Each row now maps as its record does (class, activity, actor, time,
region, status) on both decode paths; a row without eventName/eventSource is dead-lettered alone.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from secpipe import formats
from secpipe.formats import detect
from secpipe.formats.base import Decoded
from tests.unit.native_support import same_both_ways

REAL = Path(__file__).resolve().parents[3] / "shared" / "data" / "real"
#: (the few whose userIdentity already has Lake's lower-case field names, as Panther's lake gives
#: them, are left out: their Lake rows read better than they do)
RECORDS = [r for r in json.loads((REAL / "panther-analysis" / "extracted" / "cloudtrail.json").read_bytes())["Records"]
           if '"principalid"' not in json.dumps(r.get("userIdentity"))]  # fmt: skip
_STRUCTS = ("userIdentity", "resources")


def _trino(value: Any, struct: bool) -> str:
    """``value`` as Trino renders it (a struct's field names lower-cased, a map's kept)."""
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k.lower() if struct else k}={_trino(v, struct)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(_trino(v, struct) for v in value) + "]"
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _row(rec: dict[str, Any]) -> list[dict[str, str]]:
    cells = []
    for k, v in rec.items():
        if k == "eventTime":
            cells.append({k: v.replace("T", " ").replace("Z", ".000")})
        else:
            cells.append({k: _trino(v, k in _STRUCTS)})
    return cells


def _answer(rows: list[list[dict[str, str]]]) -> bytes:
    return json.dumps({"QueryStatus": "FINISHED", "QueryStatistics": {"ResultsCount": len(rows),
                      "TotalResultsCount": len(rows), "BytesScanned": 81920},
                      "QueryResultRows": rows}, indent=4).encode()  # fmt: skip


def _rows(d: Decoded) -> list[dict[str, Any]]:
    return [r for b in d.batches for r in b.to_pylist()]


def _key(r: dict[str, Any]) -> tuple[Any, ...]:
    user = (r.get("actor") or {}).get("user") or {}
    api = r.get("api") or {}
    own_time = None if "secpipe:time_from_receipt" in (r["metadata"].get("labels") or []) else r["time"]
    return (r["class_uid"], r["activity_id"], r["type_uid"], r["status_id"], own_time, r["cloud"]["region"],
            api.get("operation"), (api.get("service") or {}).get("name"), user.get("uid"), user.get("name"),
            user.get("type"), (r.get("src_endpoint") or {}).get("ip"), r["metadata"]["product"]["name"],
            [x.get("uid") for x in r.get("resources") or []])  # fmt: skip


def test_lake_rows_map_as_their_records(monkeypatch: pytest.MonkeyPatch) -> None:
    bare = formats.get("cloudtrail").decode(json.dumps({"Records": RECORDS}).encode(), "s3")
    assert not bare.dead and bare.events == len(RECORDS) >= 10
    body = _answer([_row(r) for r in RECORDS])
    got = detect(body[:8192])
    assert got is not None and got.name == "cloudtrail"
    d = same_both_ways("cloudtrail", body, monkeypatch, "lake")
    assert not d.dead and d.events == len(RECORDS)
    assert Counter(map(repr, map(_key, _rows(d)))) == Counter(map(repr, map(_key, _rows(bare))))
    first = next(r for r in _rows(d) if r["api"]["operation"] == RECORDS[0]["eventName"])
    assert first["actor"]["user"]["uid"] == "AROA123456789EXAMPLE:bob.ross"
    assert first["actor"]["session"]["issuer"] == RECORDS[0]["userIdentity"]["sessionContext"]["sessionIssuer"]["arn"]
    rec = json.loads(first["raw_data"])
    assert rec["eventTime"] == "2019-01-01T00:00:00Z" and rec["readOnly"] is False
    assert rec["userIdentity"]["sessionContext"]["attributes"] == {"mfaAuthenticated": "false",
                                                                   "creationDate": "2019-01-01T00:00:00Z"}  # fmt: skip


def test_lake_row_without_event_name_dead_alone() -> None:
    rows = [_row(r) for r in RECORDS[:3]]
    rows[1] = [c for c in rows[1] if "eventName" not in c and "eventSource" not in c]
    rows.append([{"eventName": "ConsoleLogin"}, {"awsRegion": "us-east-1"}])
    d = formats.get("cloudtrail").decode(_answer(rows), "answer.json")
    assert d.events == 4 and sum(b.num_rows for b in d.batches) == 2
    assert [x.reason.split(":")[0] for x in d.dead] == [
        "CloudTrail Lake result row without eventName and eventSource", "CloudTrail Lake result row without eventSource"]
    assert json.loads(d.dead[1].raw) == rows[3]


def test_lake_failed_query_holds_no_row() -> None:
    body = json.dumps({"QueryStatus": "FAILED", "ErrorMessage": "Query timed out", "QueryResultRows": []}).encode()
    d = formats.get("cloudtrail").decode(body, "answer.json")
    assert d.events == 0 and not d.dead and not d.batches


def test_lake_json_text_and_odd_values() -> None:
    rec = dict(RECORDS[0])
    row = _row(rec)
    row = [c if "userIdentity" not in c else {"userIdentity": json.dumps(rec["userIdentity"])} for c in row]
    row.append({"eventCategory": "Management"})
    row.append({"errorCode": None})  # type: ignore[dict-item]
    row.append({"userAgent": "[S3Console/0.4, aws-internal/3]"})  # a string field stays text
    d = formats.get("cloudtrail").decode(_answer([row]), "answer.json")
    (r,) = _rows(d)
    assert r["actor"]["user"]["uid"] == "AROA123456789EXAMPLE:bob.ross" and r["status_id"] == 1
    rec = json.loads(r["raw_data"])
    assert rec["requestParameters"] == {"functionName": "production-api"}  # a map: its keys as written
    assert rec["eventCategory"] == "Management" and "errorCode" not in rec
    assert rec["userAgent"] == "[S3Console/0.4, aws-internal/3]"
