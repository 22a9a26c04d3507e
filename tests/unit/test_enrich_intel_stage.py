"""threat_intel stage: matching, allowlists, expiry, OCSF enrichments/observables, findings.

Events are CloudTrail records decoded by the real cloudtrail format; feeds are the real
samples (Feodo, APT1 and Poison Ivy STIX, MISP warninglists) plus small team lists.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pytest

from secpipe.errors import ConfigError
from secpipe.formats import get
from secpipe.schema.ocsf import validate_batch
from secpipe.transforms.enrich.intel.loaders import SCHEMA, load
from secpipe.transforms.enrich.intel.matcher import Index
from secpipe.transforms.enrich.intel.stage import ThreatIntelStage, build_stage
from secpipe.transforms.enrich.options import ThreatIntelOptions

T0 = 1_790_000_000.0  # 2026-09-21


def ct_batch(sources: list[str]) -> pa.RecordBatch:
    recs = [{"eventVersion": "1.08", "eventTime": f"2026-09-21T00:00:{i:02d}Z", "eventSource": "s3.amazonaws.com",
             "eventName": "GetObject", "awsRegion": "us-east-1", "sourceIPAddress": s,
             "recipientAccountId": "123456789012", "userIdentity": {"type": "IAMUser", "userName": f"u{i}"}}
            for i, s in enumerate(sources)]
    return get("cloudtrail").decode(json.dumps({"Records": recs}).encode(), "test").batches[0]


def stage(feeds: list[dict[str, Any]], allow: list[dict[str, Any]] | None = None, now: float = T0,
          **kw: Any) -> ThreatIntelStage:
    opts = ThreatIntelOptions.model_validate({"feeds": feeds, "allowlists": allow or [], "background_refresh": False, **kw})
    return ThreatIntelStage("intel", opts, clock=lambda: now)


@pytest.fixture
def ti(real: Path) -> Path:
    return real / "threat-intel"


def test_ip_cidr_and_domain_matches_with_findings(ti: Path) -> None:
    st = stage([{"name": "feodo", "path": str(ti / "abusech-feodotracker/ipblocklist.csv"), "confidence": 90},
                {"name": "apt1", "path": str(ti / "oasis-cti-stix2-json-schemas/examples/threat-reports/apt1.json")},
                {"name": "poisonivy", "path": str(ti / "oasis-cti-stix2-json-schemas/examples/threat-reports/poisonivy.json"),
                 "confidence": 40}])
    b = ct_batch(["192.9.135.73", "112.65.1.2", "www.webserver.fartit.com", "a.b.msnhome.org", "8.8.4.4",
                  "ec2.amazonaws.com", "113.10.246.30"])
    out = st.process(b)
    assert len(out) == 2
    ev, fi = out
    assert validate_batch("api_activity", ev.schema) == []
    assert validate_batch("detection_finding", fi.schema) == []
    rows = ev.to_pylist()
    obs = [[(o["name"], o["value"], o["reputation"]["provider"]) for o in r["observables"] or []] for r in rows]
    assert obs[0] == [("src_endpoint.ip", "192.9.135.73", "feodo")]
    assert obs[1] == [("src_endpoint.ip", "112.65.1.2", "apt1")]  # inside 112.64.0.0/15
    assert obs[2] == [("src_endpoint.domain", "www.webserver.fartit.com", "poisonivy")]
    assert obs[3] == [("src_endpoint.domain", "a.b.msnhome.org", "apt1")]  # parent-domain match
    assert obs[4] == obs[5] == []
    # 113.10.246.30 is a term of four Poison Ivy indicators: one enrichment per indicator.
    assert len(obs[6]) == 4
    e0 = rows[0]["enrichments"][0]
    data = json.loads(e0["data"])
    assert data["indicator"] == "192.9.135.73" and data["labels"] == ["Pikabot"] and data["confidence"] == 90
    assert e0["type"] == "threat_intel:ip" and e0["reputation"]["score_id"] == 10
    assert rows[1]["enrichments"][0]["desc"] == "HTRAN Hop Point Accessor"
    assert rows[0]["observables"][0]["type_id"] == 2 and rows[3]["observables"][0]["type_id"] == 1
    findings = fi.to_pylist()
    assert len(findings) == 5
    assert {f["class_uid"] for f in findings} == {2004}
    by_corr = {f["metadata"]["correlation_uid"]: f for f in findings}
    f0 = by_corr[rows[0]["metadata"]["uid"]]
    assert f0["severity_id"] == 4 and f0["severity"] == "High" and f0["confidence_score"] == 90
    assert f0["finding_info"]["title"] == "Threat intel match: 192.9.135.73 (feodo)"
    assert f0["finding_info"]["related_events"] == [{"uid": rows[0]["metadata"]["uid"]}]
    assert f0["time"] == rows[0]["time"]
    f6 = by_corr[rows[6]["metadata"]["uid"]]
    assert f6["severity_id"] == 2 and len(f6["observables"]) == 4  # confidence 40 -> Low
    # Same input, same finding uids (redelivery collapses downstream).
    again = st.process(b)[1].column("finding_info").field("uid").to_pylist()
    assert again == fi.column("finding_info").field("uid").to_pylist()


def test_no_match_returns_the_batch_untouched(ti: Path) -> None:
    st = stage([{"name": "feodo", "path": str(ti / "abusech-feodotracker/ipblocklist.csv")}])
    b = ct_batch(["8.8.8.8", "2001:db8::1"])
    out = st.process(b)
    assert out == [b] and out[0] is b


def test_allowlists_suppress(ti: Path, tmp_path: Path) -> None:
    feed = tmp_path / "team.yaml"
    feed.write_text("- {value: 8.8.8.8}\n- {value: 10.0.0.0/8}\n- {value: api.ipify.org}\n- {value: bit.ly}\n"
                    "- {value: 9.9.9.9}\n- {value: 11.0.0.0/8}\n")
    wl = ti / "misp-warninglists/lists"
    st = stage([{"name": "team", "path": str(feed)},
                {"name": "coa", "path": str(ti / "oasis-cti-stix2-json-schemas/examples/indicators-for-C2-with-COA.json")}],
               [{"name": "dns", "path": str(wl / "public-dns-v4/list.json")},
                {"name": "rfc1918", "path": str(wl / "rfc1918/list.json")},
                {"name": "myip", "path": str(wl / "whats-my-ip/list.json")},
                {"name": "short", "path": str(wl / "url-shortener/list.json")}])
    b = ct_batch(["8.8.8.8", "10.0.0.0", "10.20.30.40", "api.ipify.org", "x.bit.ly", "9.9.9.9", "11.0.0.1"])
    out = st.process(b)
    rows = out[0].to_pylist()
    hit = [bool(r.get("observables")) for r in rows]
    # 8.8.8.8 and 9.9.9.9 are public resolvers, 10.x is RFC 1918, api.ipify.org and bit.ly are
    # listed; 11.0.0.1 (control) is on no allowlist.
    assert hit == [False, False, False, False, False, False, True]
    assert len(out) == 2 and out[1].num_rows == 1


def test_expiry_valid_until_and_max_age(tmp_path: Path) -> None:
    feed = tmp_path / "team.yaml"
    feed.write_text("- {value: 1.1.1.1, valid_until: '2026-09-20T00:00:00Z'}\n"
                    "- {value: 2.2.2.2, valid_until: '2026-09-22T00:00:00Z'}\n- {value: 3.3.3.3}\n")
    st = stage([{"name": "team", "path": str(feed)}])
    b = ct_batch(["1.1.1.1", "2.2.2.2", "3.3.3.3"])
    assert [bool(r["observables"]) for r in st.process(b)[0].to_pylist()] == [False, True, True]
    status = st.store.status()[0]
    assert status["expired"] == 1 and status["indicators"] == 3
    # A day later 2.2.2.2 has expired too; with max_age, the whole feed expires once stale.
    now = [T0]
    aged = ThreatIntelStage("intel", ThreatIntelOptions.model_validate(
        {"feeds": [{"name": "team", "path": str(feed), "max_age": "1h"}], "background_refresh": False}),
        clock=lambda: now[0])
    assert [bool(r["observables"]) for r in aged.process(b)[0].to_pylist()] == [False, True, True]
    now[0] = T0 + 2 * 86400
    assert aged.process(b) == [b]


def test_ipv6_cidr_and_hash_url_index(tmp_path: Path) -> None:
    feed = tmp_path / "v6.txt"
    feed.write_text("2001:db8:bad::/48\n2001:db8:beef::1\n::ffff:192.0.2.0/120\n")
    st = stage([{"name": "v6", "path": str(feed), "format": "plain"}])
    b = ct_batch(["2001:db8:bad:ffff::9", "2001:db8:beef::1", "2001:db8:beef::2", "192.0.2.77", "::ffff:192.0.2.1"])
    assert [bool(r["observables"]) for r in st.process(b)[0].to_pylist()] == [True, True, False, True, True]
    t = load(b"http://bad.example/x\nD41D8CD98F00B204E9800998ECF8427E\n", "plain", conf=60).table
    idx = Index(t.append_column("feed", pa.array(["f"] * t.num_rows)))
    q, r = idx.match_exact("hash", ["d41d8cd98f00b204e9800998ecf8427e", "00", None])
    assert q.tolist() == [0] and t.column("value")[int(r[0])].as_py() == "d41d8cd98f00b204e9800998ecf8427e"
    q, _r = idx.match_exact("url", ["http://bad.example/x", "http://bad.example/"])
    assert q.tolist() == [0]
    empty = Index(SCHEMA.empty_table().append_column("feed", pa.array([], pa.string())))
    assert empty.match_domains(["a.com"])[0].tolist() == []


def test_many_events_vectorized_counts() -> None:
    ips = [f"10.{i % 256}.{i // 256 % 256}.1" for i in range(5000)]
    feed_rows = "\n".join(f"10.{i}.0.0/16" for i in range(0, 256, 2))
    opts = ThreatIntelOptions.model_validate({"feeds": [{"name": "f", "path": "/dev/null"}], "background_refresh": False,
                                              "on_error": "degrade"})
    st = ThreatIntelStage("x", opts, clock=lambda: T0)
    t = load(feed_rows.encode(), "plain", conf=80).table
    st.store.index = Index(t.append_column("feed", pa.array(["f"] * t.num_rows)))
    ev, fi = st.process(ct_batch(ips))
    hit = np.array([bool(r) for r in ev.column("observables").to_pylist()])
    assert hit.sum() == sum(1 for i in range(5000) if (i % 256) % 2 == 0) == fi.num_rows


def test_on_error_fail_and_degrade(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="could not be loaded"):
        stage([{"name": "gone", "path": str(tmp_path / "missing.txt")}], on_error="fail")
    st = stage([{"name": "gone", "path": str(tmp_path / "missing.txt")}])
    assert st.store.status()[0]["error"].startswith("file not found")
    b = ct_batch(["1.2.3.4"])
    assert st.process(b) == [b]


def test_factory_writes_status_and_cache(tmp_path: Path) -> None:
    feed = tmp_path / "team.txt"
    feed.write_text("1.2.3.4\n")
    st = build_stage("ti", {"type": "threat_intel", "feeds": [{"name": "t", "path": str(feed)}],
                            "background_refresh": False}, data_dir=tmp_path / "data")
    status = json.loads((tmp_path / "data/intel/ti/status.json").read_text())
    assert status["feeds"][0]["indicators"] == 1
    assert not (tmp_path / "data/intel/ti/t.body").exists()  # a file feed is its own copy
    st.close()
