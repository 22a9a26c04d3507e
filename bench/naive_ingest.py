"""The naive baseline for bench/ingest_bench.py: one Python dict per event.

Same job as `secpipe ingest` on a CloudTrail corpus -- read each .json.gz, map every record
to the same OCSF API Activity fields as nested dicts, ``pyarrow.Table.from_pylist``, write
zstd Parquet partitioned by event day -- written the obvious way: ``json.loads`` and a
per-event Python function. It exists only to be measured against.

Usage: python bench/naive_ingest.py CORPUS_DIR OUT_DIR  (prints a JSON summary)
"""

from __future__ import annotations

import datetime as dt
import gzip
import hashlib
import json
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

MAPPED = {"eventVersion", "eventTime", "eventSource", "eventName", "awsRegion", "sourceIPAddress", "userAgent",
          "errorCode", "errorMessage", "requestID", "eventID", "apiVersion", "recipientAccountId", "userIdentity",
          "resources"}
VERBS = {"Create": 1, "Put": 1, "Run": 1, "Start": 1, "Get": 2, "Describe": 2, "List": 2, "Head": 2, "Update": 3,
         "Modify": 3, "Set": 3, "Attach": 3, "Delete": 4, "Remove": 4, "Terminate": 4, "Detach": 4}


def to_ocsf(rec: dict[str, Any]) -> dict[str, Any]:
    """One CloudTrail record -> one OCSF API Activity dict."""
    ident = rec.get("userIdentity") or {}
    sess = ident.get("sessionContext") or {}
    issuer = sess.get("sessionIssuer") or {}
    name = rec.get("eventName") or ""
    verb = next((v for p, v in VERBS.items() if name.startswith(p)), 99)
    t = dt.datetime.fromisoformat(rec["eventTime"].replace("Z", "+00:00"))
    raw = json.dumps(rec, separators=(",", ":"))
    failed = "errorCode" in rec
    return {
        "class_uid": 6003, "category_uid": 6, "activity_id": verb, "type_uid": 600300 + verb,
        "severity_id": 1, "time": int(t.timestamp() * 1000), "time_dt": t,
        "status_id": 2 if failed else 1, "status": "Failure" if failed else "Success",
        "status_code": rec.get("errorCode"), "status_detail": rec.get("errorMessage"),
        "metadata": {"version": "1.8.0", "uid": hashlib.blake2b(raw.encode(), digest_size=16).hexdigest(),
                     "product": {"name": "CloudTrail", "vendor_name": "AWS"}, "original_event_uid": rec.get("eventID")},
        "actor": {"user": {"name": ident.get("userName") or issuer.get("userName"), "uid": ident.get("principalId"),
                           "type": ident.get("type"), "uid_alt": ident.get("arn"),
                           "account": {"uid": ident.get("accountId")}},
                  "session": {"issuer": issuer.get("arn")}},
        "src_endpoint": {"ip": rec.get("sourceIPAddress")},
        "http_request": {"user_agent": rec.get("userAgent")},
        "api": {"operation": name, "service": {"name": rec.get("eventSource")}, "request": {"uid": rec.get("requestID")}},
        "cloud": {"provider": "AWS", "region": rec.get("awsRegion"), "account": {"uid": rec.get("recipientAccountId")}},
        "resources": [{"uid": r.get("ARN"), "type": r.get("type")} for r in rec.get("resources") or []] or None,
        "unmapped": json.dumps({k: v for k, v in rec.items() if k not in MAPPED}, separators=(",", ":")),
        "raw_data": raw,
    }


def main() -> None:
    """Run the naive ingest."""
    src, out = Path(sys.argv[1]), Path(sys.argv[2])
    t0 = time.perf_counter()
    n = 0
    rows: dict[str, list[dict[str, Any]]] = {}
    for f in sorted(src.rglob("*.json.gz")):
        for rec in json.loads(gzip.decompress(f.read_bytes()))["Records"]:
            ev = to_ocsf(rec)
            rows.setdefault(ev["time_dt"].strftime("%Y-%m-%d"), []).append(ev)
            n += 1
        if sum(map(len, rows.values())) >= 100_000:
            _flush(rows, out)
    _flush(rows, out)
    secs = time.perf_counter() - t0
    print(json.dumps({"events": n, "seconds": round(secs, 3), "events_per_second": round(n / secs, 1)}))


def _flush(rows: dict[str, list[dict[str, Any]]], out: Path) -> None:
    for day, evs in rows.items():
        d = out / "api_activity" / f"event_day={day}"
        d.mkdir(parents=True, exist_ok=True)
        pq.write_table(pa.Table.from_pylist(evs), d / f"part-{uuid.uuid4().hex}.parquet", compression="zstd")
    rows.clear()


if __name__ == "__main__":
    main()
