"""`secpipe enrich test` and `secpipe intel status`, plus config validation of the three types."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import typer
import yaml
from typer.testing import CliRunner

from secpipe.cli import enrich
from secpipe.config.models import check
from secpipe.runtime.topology import build_stages


def _app() -> typer.Typer:
    app = typer.Typer()
    enrich.register(app)
    return app


def _config(tmp_path: Path, real: Path, extra_feed: dict | None = None) -> Path:
    ti = real / "threat-intel"
    (tmp_path / "assets.csv").write_text("account_id,account_name,environment\n123456789012,prod-payments,prod\n")
    feeds = [{"name": "feodo", "path": str(ti / "abusech-feodotracker/ipblocklist.csv"), "confidence": 90}]
    if extra_feed:
        feeds.append(extra_feed)
    cfg = {"data_dir": str(tmp_path / "data"), "transforms": {
        "intel": {"type": "threat_intel", "feeds": feeds, "background_refresh": False,
                  "allowlists": [{"name": "rfc1918", "path": str(ti / "misp-warninglists/lists/rfc1918/list.json")}]},
        "geo": {"type": "geoip", "inputs": ["intel"], "city": str(real / "maxmind-db/test-data/GeoIP2-City-Test.mmdb"),
                "asn": str(real / "maxmind-db/test-data/GeoLite2-ASN-Test.mmdb")},
        "assets": {"type": "lookup", "inputs": ["geo"], "path": str(tmp_path / "assets.csv"), "key": "account_id",
                   "field": "cloud.account.uid", "set": {"cloud.account.name": "account_name"},
                   "labels": ["environment"]}}}
    p = tmp_path / "pipeline.yaml"
    p.write_text(yaml.safe_dump(cfg))
    return p


def test_enrich_test_shows_each_transform(tmp_path: Path, real: Path) -> None:
    cfg = _config(tmp_path, real)
    ev = tmp_path / "event.json"
    ev.write_text(json.dumps({"eventVersion": "1.08", "eventTime": "2026-01-01T00:00:00Z",
                              "eventSource": "s3.amazonaws.com", "eventName": "GetObject",
                              "sourceIPAddress": "192.9.135.73", "recipientAccountId": "123456789012"}))
    res = CliRunner().invoke(_app(), ["enrich", "test", "--config", str(cfg), str(ev), "--json"])
    assert res.exit_code == 0, res.output
    doc = json.loads(res.stdout)
    assert doc["format"] == "cloudtrail" and doc["event_class"] == "api_activity"
    by = {t["transform"]: t for t in doc["transforms"]}
    assert by["intel"]["changed"]["observables"][0]["value"] == "192.9.135.73"
    assert by["intel"]["findings"][0]["finding_info.title"] == "Threat intel match: 192.9.135.73 (feodo)"
    assert by["assets"]["changed"] == {"cloud.account.name": "prod-payments", "metadata.labels": ["environment:prod"]}
    assert by["geo"]["changed"] == {}  # 192.9.135.73 is not in MaxMind's test databases
    text = CliRunner().invoke(_app(), ["enrich", "test", "--config", str(cfg), str(ev)])
    assert "cloud.account.name = \"prod-payments\"" in text.stdout
    assert not (tmp_path / "data").exists()  # enrich test writes nothing


def test_intel_status_live_and_written(tmp_path: Path, real: Path) -> None:
    cfg = _config(tmp_path, real, {"name": "down", "url": "http://127.0.0.1:9/x.txt", "timeout": 1})
    res = CliRunner().invoke(_app(), ["intel", "status", "--config", str(cfg), "--json"])
    assert res.exit_code == 1  # one feed has an error
    feeds = {f["name"]: f for f in json.loads(res.stdout)["intel"]["feeds"]}
    assert feeds["feodo"]["indicators"] == 28 and feeds["feodo"]["error"] is None
    assert feeds["rfc1918"]["role"] == "allowlist" and feeds["rfc1918"]["indicators"] == 3
    assert "cannot reach" in feeds["down"]["error"]
    # The live load wrote status.json; the next call reads it without loading anything.
    written = CliRunner().invoke(_app(), ["intel", "status", "--config", str(cfg)])
    assert "written by the pipeline" in written.stdout and "feodo" in written.stdout


def test_config_validation_and_topology(tmp_path: Path, real: Path) -> None:
    data = yaml.safe_load(_config(tmp_path, real).read_text())
    cfg, errors = check(data)
    assert errors == [] and cfg is not None
    stages = build_stages(cfg)
    assert [s.name for s in stages] == ["intel", "geo", "assets"]
    for s in stages:
        if hasattr(s, "close"):
            s.close()
    data["transforms"]["geo"]["citty"] = "x"
    data["transforms"]["intel"]["feeds"][0]["url"] = "ftp://x"
    _cfg, errors = check(data)
    paths = {e.path for e in errors}
    assert "transforms.geo.citty" in paths
    assert any(p.startswith("transforms.intel.feeds[0]") for p in paths)


def test_example_config_runs(real: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    repo = Path(__file__).resolve().parents[2]
    monkeypatch.chdir(repo)
    cfg, errors = check(yaml.safe_load((repo / "examples/enrich.yaml").read_text()))
    assert errors == [] and cfg is not None
    ev = tmp_path / "event.json"
    ev.write_text(json.dumps({"eventVersion": "1.08", "eventTime": "2026-01-01T00:00:00Z", "eventSource": "iam.amazonaws.com",
                              "eventName": "CreateUser", "sourceIPAddress": "112.65.0.9", "recipientAccountId": "123456789012"}))
    res = CliRunner().invoke(_app(), ["enrich", "test", "--config", "examples/enrich.yaml", str(ev), "--json"])
    assert res.exit_code == 0, res.output
    by = {t["transform"]: t for t in json.loads(res.stdout)["transforms"]}
    assert by["intel"]["findings"][0]["finding_info.title"] == "Threat intel match: 112.65.0.9 (apt1)"
    assert json.loads(by["assets"]["changed"]["unmapped"])["assets"]["team"] == "payments"
