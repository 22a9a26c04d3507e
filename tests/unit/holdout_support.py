"""Helpers the holdout rounds' tests share (Sigma matching on decoded events, Google Workspace audit
records, redaction of lines, a file ingested as ``secpipe ingest`` does)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import msgspec
import orjson
import pyarrow as pa
import pyarrow.dataset as ds
import pyarrow.parquet as pq

from secpipe import formats
from secpipe.detect.sigma.engine import RuleSet
from secpipe.formats.base import Decoded
from secpipe.runtime.batch import ingest_files
from secpipe.runtime.pipeline import Pipeline
from secpipe.schema.conformance import check_rows
from secpipe.sources.files import read_documents
from secpipe.transforms.protect.redact import RedactStage


def sigma_rows(rs: RuleSet, body: bytes, fmt: str = "json") -> list[int]:
    """Rows of the decoded body the rules match (both evaluation paths agree); where the body's
    records are stored in batches of several classes (Zeek's logs among other JSON records), the
    matched records' lines in the body."""
    assert not rs.unsupported, rs.unsupported
    dec = formats.get(fmt).decode(body, "test")
    assert not dec.dead, dec.dead
    lines = {line.strip(): i for i, line in enumerate(body.splitlines())}
    raws = [[r.encode() for r in b.column("raw_data").to_pylist()] for b in dec.batches]
    split = len(dec.batches) > 1 and all(r in lines for rs in raws for r in rs)  # NDJSON records in several classes
    where = [[lines[r] for r in rs] if split else list(range(len(rs))) for rs in raws]
    got = []
    for ruleset in (rs, RuleSet(rs.rules, distinct_values=False)):
        got.append(sorted({where[k][r] for k, b in enumerate(dec.batches)
                           for r in ruleset.matches(b).column("row").to_pylist()}))
    assert got[0] == got[1]
    return got[0]


def ndjson(events: list[dict]) -> bytes:
    """Events as NDJSON."""
    return b"\n".join(msgspec.json.encode(e) for e in events)


def workspace_entry(service: str, method: str, event_type: str, event_name: str, params: dict[str, object],
                    i: int) -> dict:
    """A Google Workspace audit LogEntry as Cloud Logging holds it (AuditLog with the Admin SDK
    event in an ActivityProto ``metadata``); a parameter given as a list is a ``multiStrValue``,
    a bool a ``boolValue``, anything else a ``value``."""
    def parameter(name: str, v: object) -> dict:
        if isinstance(v, list):
            return {"type": "TYPE_STRING", "label": "LABEL_REPEATED", "name": name, "multiStrValue": v}
        if isinstance(v, bool):
            return {"type": "TYPE_BOOL", "label": "LABEL_OPTIONAL", "name": name, "boolValue": v}
        return {"type": "TYPE_STRING", "label": "LABEL_OPTIONAL", "name": name, "value": v}

    return {"protoPayload": {"@type": "type.googleapis.com/google.cloud.audit.AuditLog",
                             "authenticationInfo": {"principalEmail": "admin@example.com"},
                             "requestMetadata": {"callerIp": "203.0.113.9", "requestAttributes": {},
                                                 "destinationAttributes": {}},
                             "serviceName": service, "methodName": method,
                             "resourceName": "organizations/1234567890/userSettings",
                             "metadata": {"@type": "type.googleapis.com/ccc_hosted_reporting.ActivityProto",
                                          "activityId": {"timeUsec": f"166347608359300{i}", "uniqQualifier": f"-82{i}"},
                                          "event": [{"eventType": event_type, "eventName": event_name,
                                                     "parameter": [parameter(k, v) for k, v in params.items()]}]}},
            "insertId": f"fjwwoaeb95{i}", "resource": {"type": "audited_resource",
                                                      "labels": {"service": service, "method": method}},
            "timestamp": f"2026-09-18T04:41:2{i}.593Z", "severity": "NOTICE",
            "logName": "organizations/506102632746/logs/cloudaudit.googleapis.com%2Factivity"}


def redact_lines(lines: list[str]) -> tuple[list[str], list[str], list[str]]:
    """The redact stage over ``lines`` as both ``message`` and ``raw_data``: (messages, raw_data,
    the detection patterns of the ``message`` findings)."""
    n = len(lines)
    batch = pa.RecordBatch.from_pydict({
        "time": pa.array([1_700_000_000_000] * n, pa.int64()), "metadata": pa.array([{"uid": f"ev{i}"} for i in range(n)]),
        "message": pa.array(lines), "raw_data": pa.array(lines)})
    out = RedactStage("r", {"type": "redact"}).process(batch)
    kinds = [] if len(out) == 1 else [r["data_security"]["detection_pattern"] for r in out[1].to_pylist()
                                      if orjson.loads(r["unmapped"])["field"] == "message"]
    return out[0].column("message").to_pylist(), out[0].column("raw_data").to_pylist(), kinds


def fragment_lines(fragments: list[str], n: int, seed: int, extra: list[str] | tuple[str, ...] = ()) -> list[str | None]:
    """Fuzz input for the redact screen: a null, an empty line, ``n`` lines of 1 to 9 random ``fragments``, ``extra``."""
    import random

    rnd = random.Random(seed)
    out: list[str | None] = [None, ""]
    for _ in range(n):
        out.append("".join(rnd.choice(fragments) for _ in range(rnd.randrange(1, 10))))
    return out + list(extra)


def assert_screen_matches_re2(lines: list[str | None]) -> None:
    """The compiled first screen picks the rows RE2 with ``redact.PREFILTER`` picks (skipped where the extension is
    not built from this source), and the lines are a fair test (5-95% of them picked)."""
    import pytest

    from secpipe import _compute as pc
    from secpipe.transforms.protect import _native
    from secpipe.transforms.protect.redact import PREFILTER

    if not _native.screen_available():
        pytest.skip("the C accelerator is not built from this source here")
    col = pa.array(lines)
    hit, _keys = _native.screen(col, True)
    expected = pc.fill_null(pc.match_substring_regex(col, PREFILTER), False).to_pylist()
    assert hit.to_pylist() == expected
    assert 0.05 < sum(expected) / len(expected) < 0.95


def ingest_file(path: Path, data: Path) -> tuple[list[str], list[dict]]:
    """(the dead letters' reasons, the stored rows) of ``secpipe ingest --format auto`` of ``path`` into ``data``."""
    pipe = Pipeline(data)
    ingest_files(pipe, [str(path)], "auto")
    pipe.flush()
    lake, dlq = data / "lake", data / "dlq"
    rows = ds.dataset(lake, format="parquet", partitioning="hive").to_table().to_pylist() if lake.is_dir() else []
    dead = [x for f in sorted(dlq.rglob("*.parquet")) for x in pq.read_table(f).column("reason").to_pylist()]
    return dead, rows


#: the conformance problem :func:`conformant_rows` allows: an endpoint named by its address alone
ADDRESS_ONLY = "constraint at_least_one ['name', 'uid'] none present"


def auto_decoded(doc: bytes, tmp_path: Path, name: str) -> Decoded:
    """``doc`` read as ``--format auto`` reads a file (one document, no dead letter), detected as format
    ``name``, then decoded."""
    f = tmp_path / "input.json"
    f.write_bytes(doc)
    [read] = read_documents(str(f))
    assert read.dead is None, read.dead
    fmt = formats.detect(doc)
    assert fmt is formats.get(name)
    return fmt.decode(doc, "x")


def conformant_rows(d: Decoded) -> dict[str, list[dict[str, Any]]]:
    """The decoded rows by class name, each class's rows checked against OCSF (address-only endpoints allowed)."""
    out: dict[str, list[dict[str, Any]]] = {}
    for b in d.batches:
        rows = b.to_pylist()
        cls = rows[0]["class_name"].lower().replace(" ", "_")
        problems = {k: v for k, v in check_rows(cls, rows).items() if ADDRESS_ONLY not in k}
        assert not problems, problems
        out.setdefault(cls, []).extend(rows)
    return out
