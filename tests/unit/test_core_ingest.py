"""Batch ingest end to end through the CLI: lake, dedup, dead letters, query."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

from tests.helpers import cli, ingest, query

K8S = "falco/test/trace_files/k8s_audit"


def test_ingest_summary_lake_layout_and_query(real: Path, data_dir: Path) -> None:
    src = real / "panther-analysis/extracted/cloudtrail.json"
    s = ingest(data_dir, src)
    assert set(s) >= {"events", "stored", "dead_letter", "seconds"}
    assert s["events"] == 271 and s["dead_letter"] == 0
    distinct = len({json.dumps(r, sort_keys=True) for r in json.loads(src.read_bytes())["Records"]})
    assert sum(s["stored"].values()) == distinct
    # the AWS sign-in events this sample holds: ConsoleLogin, ExternalIdPDirectoryLogin, Identity Center's CreateToken
    sign_in = {("signin.amazonaws.com", "ConsoleLogin"), ("signin.amazonaws.com", "ExternalIdPDirectoryLogin"),
               ("sso.amazonaws.com", "CreateToken")}  # fmt: skip
    assert s["stored"]["authentication"] == sum(
        1 for r in json.loads(src.read_bytes())["Records"] if (r.get("eventSource"), r.get("eventName")) in sign_in)
    parts = list((data_dir / "lake" / "api_activity").glob("event_day=*/part-*.parquet"))
    assert parts and not list(data_dir.rglob(".tmp-*"))
    rows = query(data_dir, "SELECT count(*) AS n, count(DISTINCT metadata.uid) AS u FROM api_activity")
    assert rows == [{"n": s["stored"]["api_activity"], "u": s["stored"]["api_activity"]}]
    top = query(data_dir, "SELECT api.operation AS op, count(*) AS n FROM api_activity WHERE event_day = '2019-01-01' "
                          "GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT 1")
    assert top and top[0]["n"] >= 1


def test_ingest_twice_does_not_duplicate(real: Path, data_dir: Path) -> None:
    src = real / "panther-analysis/extracted/k8s_audit.jsonl"
    first = ingest(data_dir, src)
    second = ingest(data_dir, src)
    assert sum(second["stored"].values()) == 0 and second["duplicates"] == second["events"]
    n = query(data_dir, "SELECT count(*) AS n FROM api_activity")[0]["n"]
    assert n == sum(first["stored"].values())


def test_directory_recursion_and_gzip(real: Path, data_dir: Path, tmp_path: Path) -> None:
    d = tmp_path / "AWSLogs" / "123456789012" / "CloudTrail" / "us-east-2" / "2014" / "03" / "06"
    d.mkdir(parents=True)
    raw = (real / "falco/test/trace_files/plugins/alice_start_instances.json").read_bytes()
    (d / "123456789012_CloudTrail_us-east-2_20140306T2120Z_x.json.gz").write_bytes(gzip.compress(raw))
    s = ingest(data_dir, tmp_path / "AWSLogs")
    assert s["stored"] == {"api_activity": 1} and s["files"] == 1


def test_truncated_gzip_keeps_whole_lines_and_dead_letters_the_rest(real: Path, data_dir: Path, tmp_path: Path) -> None:
    lines = (real / "panther-analysis/extracted/k8s_audit.jsonl").read_bytes()
    gz = gzip.compress(lines)
    bad = tmp_path / "audit.jsonl.gz"
    bad.write_bytes(gz[: len(gz) // 2])
    s = ingest(data_dir, bad, fmt="k8s_audit")
    assert s["dead_letter"] >= 1 and sum(s["stored"].values()) > 0
    dl = query(data_dir, "SELECT reason, source FROM dead_letter")
    assert any("truncated gzip" in r["reason"] for r in dl)


def test_truncated_gzip_document_is_dead_lettered_whole(real: Path, data_dir: Path, tmp_path: Path) -> None:
    gz = gzip.compress((real / "panther-analysis/extracted/cloudtrail.json").read_bytes())
    bad = tmp_path / "trail.json.gz"
    bad.write_bytes(gz[:-100])
    s = ingest(data_dir, bad, fmt="cloudtrail")
    assert s["stored"] == {} and s["dead_letter"] == 1
    (row,) = query(data_dir, "SELECT reason, size FROM dead_letter")
    assert "truncated gzip" in row["reason"] and row["size"] > 0


def test_invalid_json_line_is_dead_lettered_with_offset(real: Path, data_dir: Path, tmp_path: Path) -> None:
    good = (real / f"{K8S}/exec_pod.json").read_bytes().strip()
    other = (real / f"{K8S}/delete_secret.json").read_bytes().strip()
    broken = b'{"kind":"Event","verb":"get", "oops'
    f = tmp_path / "mixed.jsonl"
    f.write_bytes(good + b"\n" + broken + b"\n" + other + b"\n")
    s = ingest(data_dir, f, fmt="k8s_audit")
    assert s["stored"] == {"api_activity": 2} and s["dead_letter"] == 1
    (row,) = query(data_dir, "SELECT reason, \"offset\", raw, format FROM dead_letter")
    assert row["offset"] == len(good) + 1 and row["raw"] == broken.decode() and row["format"] == "k8s_audit"
    assert "JSON" in row["reason"]


def test_valid_json_of_the_wrong_shape(data_dir: Path, tmp_path: Path) -> None:
    f = tmp_path / "numbers.json"
    f.write_text('{"Records": [1, 2, {"eventName": "X", "eventSource": "s.amazonaws.com", "eventTime": "2024-01-01T00:00:00Z"}]}')
    s = ingest(data_dir, f, fmt="cloudtrail")
    assert s["stored"] == {"api_activity": 1} and s["dead_letter"] == 2
    reasons = [r["reason"] for r in query(data_dir, "SELECT reason FROM dead_letter")]
    assert all("not a CloudTrail record" in r for r in reasons)
    g = tmp_path / "unknown.bin"
    g.write_bytes(bytes(range(256)) * 4)  # nothing any format recognizes
    s2 = ingest(data_dir, g, fmt="auto")
    assert s2["dead_letter"] == 1 and s2["stored"] == {}
    (row,) = query(data_dir, "SELECT reason FROM dead_letter WHERE format = 'auto'")
    assert "no format matched" in row["reason"]


def test_event_without_time_is_kept_and_labelled(data_dir: Path, tmp_path: Path) -> None:
    f = tmp_path / "notime.json"
    f.write_text('{"Records": [{"eventName": "ListBuckets", "eventSource": "s3.amazonaws.com"}]}')
    s = ingest(data_dir, f, fmt="cloudtrail")
    assert s["stored"] == {"api_activity": 1}
    (row,) = query(data_dir, "SELECT metadata.labels AS labels, time FROM api_activity")
    assert row["labels"] == ["secpipe:time_from_receipt"] and row["time"] > 0


def test_100mb_line_is_dead_lettered_whole_and_the_rest_goes_on(real: Path, data_dir: Path, tmp_path: Path) -> None:
    good = (real / f"{K8S}/exec_pod.json").read_bytes().strip()
    f = tmp_path / "huge.jsonl"
    with open(f, "wb") as fh:
        fh.write(good + b"\n")
        fh.write(b'{"kind":"Event","verb":"get","requestObject":"' + b"A" * (100 * 1024 * 1024) + b'"}\n')
        fh.write((real / f"{K8S}/delete_secret.json").read_bytes().strip() + b"\n")
    s = ingest(data_dir, f, fmt="k8s_audit")
    assert s["stored"] == {"api_activity": 2} and s["dead_letter"] == 1
    (row,) = query(data_dir, "SELECT reason, size, blob, \"offset\" FROM dead_letter")
    assert "exceeds max_record" in row["reason"] and row["size"] > 100 * 1024 * 1024
    assert row["offset"] == len(good) + 1
    blob = data_dir / "dlq" / row["blob"]
    assert blob.stat().st_size == row["size"]  # the whole line is kept


def test_stdin_and_unknown_format_error(real: Path, data_dir: Path) -> None:
    raw = (real / "falco/test/trace_files/plugins/alice_start_instances.json").read_bytes()
    pr = cli("ingest", "--data", str(data_dir), "--json", "-", stdin=raw)
    assert json.loads(pr.stdout.strip().splitlines()[-1])["stored"] == {"api_activity": 1}
    bad = cli("ingest", "--format", "nope", "--data", str(data_dir), "-", check=False, stdin=b"")
    assert bad.returncode == 2 and b"unknown format 'nope'" in bad.stderr


def test_query_errors_name_the_tables(real: Path, data_dir: Path) -> None:
    ingest(data_dir, real / "falco/test/trace_files/plugins/alice_start_instances.json")
    pr = cli("query", "--data", str(data_dir), "SELECT * FROM nope", check=False)
    assert pr.returncode == 1 and "api_activity" in pr.stderr and "dead_letter" in pr.stderr
    csv = cli("query", "--data", str(data_dir), "--format", "csv", "SELECT api.operation AS op FROM api_activity")
    assert csv.stdout.splitlines() == ["op", "StartInstances"]
