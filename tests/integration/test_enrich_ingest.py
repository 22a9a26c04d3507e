"""`secpipe ingest --config` with the three enrichments: findings and enriched fields land in
the lake and are queryable with SQL (real Panther CloudTrail sample, real feeds, MaxMind test DBs)."""

from __future__ import annotations

import json
from pathlib import Path

import yaml
from typer.testing import CliRunner

from secpipe.cli.main import _register, app
from secpipe.store.query import connect


def test_ingest_with_enrichment_then_query(real: Path, tmp_path: Path) -> None:
    ti = real / "threat-intel"
    sample = json.loads((real / "panther-analysis/extracted/cloudtrail.json").read_text())
    records = sample["Records"] if isinstance(sample, dict) else sample
    ip = next(r["sourceIPAddress"] for r in records if r.get("sourceIPAddress", "")[:1].isdigit())
    acct = next(r["recipientAccountId"] for r in records if r.get("recipientAccountId"))
    (tmp_path / "team.txt").write_text(f"{ip}\n")
    (tmp_path / "assets.csv").write_text(f"account_id,account_name,environment\n{acct},payments-prod,prod\n")
    cfg = {"data_dir": str(tmp_path / "data"), "transforms": {
        "intel": {"type": "threat_intel", "background_refresh": False,
                  "feeds": [{"name": "team", "path": str(tmp_path / "team.txt"), "confidence": 95},
                            {"name": "feodo", "path": str(ti / "abusech-feodotracker/ipblocklist.csv")}]},
        "geo": {"type": "geoip", "inputs": ["intel"], "city": str(real / "maxmind-db/test-data/GeoIP2-City-Test.mmdb")},
        "assets": {"type": "lookup", "inputs": ["geo"], "path": str(tmp_path / "assets.csv"), "key": "account_id",
                   "field": "cloud.account.uid", "set": {"cloud.account.name": "account_name"}, "labels": ["environment"]}}}
    (tmp_path / "p.yaml").write_text(yaml.safe_dump(cfg))
    _register()
    res = CliRunner().invoke(app, ["ingest", "--json", "--data", str(tmp_path / "data"), "--config", str(tmp_path / "p.yaml"),
                                   str(real / "panther-analysis/extracted/cloudtrail.json")])
    assert res.exit_code == 0, res.output
    summary = json.loads(res.stdout.strip().splitlines()[-1])
    want = sum(1 for r in records if r.get("sourceIPAddress") == ip and r.get("eventName") and r.get("eventSource"))
    assert summary["stored"]["detection_finding"] == want
    con, _views = connect(tmp_path / "data")
    rows = con.execute("SELECT finding_info.title, severity, metadata.correlation_uid FROM detection_finding").fetchall()
    assert {r[0] for r in rows} == {f"Threat intel match: {ip} (team)"} and {r[1] for r in rows} == {"High"}
    n = con.execute("SELECT count(*) FROM api_activity WHERE cloud.account.name = 'payments-prod' "
                    "AND list_contains(metadata.labels, 'environment:prod')").fetchone()[0]
    # Every stored event of that account got the name and the label (the lake dedups repeats).
    same = con.execute("SELECT count(*) FROM api_activity WHERE cloud.account.uid = ?", [acct]).fetchone()[0]
    assert n == same > 100
    hit = con.execute("SELECT count(*) FROM api_activity a JOIN detection_finding f "
                      "ON a.metadata.uid = f.metadata.correlation_uid WHERE a.src_endpoint.ip = ?", [ip]).fetchone()[0]
    assert hit >= 1
