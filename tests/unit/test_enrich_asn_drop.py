"""Spamhaus ASN-DROP: loaded as ``asn`` indicators and matched on the ASN the geoip stage adds.

The ASN-DROP bodies are written inline in the two published layouts (NDJSON ``asndrop.json``
with its closing metadata line, and the older ``asndrop.txt`` text list); their entries are
chosen from the real MaxMind GeoLite2-ASN test database (shared/data/real/maxmind-db) so that
the geoip stage -> threat_intel chain runs on real lookups: 1.128.0.0/11 is AS1221 and
1.0.0.0/24 AS15169 in that database's source JSON.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from secpipe.formats import get
from secpipe.transforms.enrich.geoip import build_stage as build_geo
from secpipe.transforms.enrich.intel.loaders import load, sniff
from secpipe.transforms.enrich.intel.stage import ThreatIntelStage
from secpipe.transforms.enrich.options import ThreatIntelOptions

T0 = 1_790_000_000.0
ASNDROP_JSON = (b'{"asn":1221,"rir":"apnic","domain":"telstra.example","cc":"AU","asname":"TEST-AS-1221"}\n'
                b'{"asn":64496,"rir":"arin","domain":"doc.example","cc":"US","asname":"DOC-AS"}\n'
                b'{"type":"metadata","timestamp":1767899078,"size":180,"records":2,'
                b'"copyright":"(c) 2026 The Spamhaus Project SLU","terms":"https://www.spamhaus.org/drop/terms/"}\n')
ASNDROP_TXT = (b"; Spamhaus ASN-DROP List 2026/11/29 - (c) 2026 The Spamhaus Project SLU\n"
               b"; Last-Modified: Sun, 29 Nov 2026 12:00:00 GMT\n"
               b"AS1221 ; AU | TEST-AS-1221\nAS64496 ; US | DOC-AS\nAS99999999999 ; XX | out of range\n")


def test_both_layouts_load_as_asn_indicators() -> None:
    for body in (ASNDROP_JSON, ASNDROP_TXT):
        assert sniff(body) == "spamhaus_drop"
        out = load(body, "auto", conf=90)
        rows = out.table.select(["kind", "value"]).to_pylist()
        assert rows == [{"kind": "asn", "value": "1221"}, {"kind": "asn", "value": "64496"}]
    assert load(ASNDROP_JSON, "auto", conf=90).skipped == 0  # the metadata line is no entry
    assert load(ASNDROP_TXT, "auto", conf=90).skipped == 1  # AS99999999999 is beyond 32 bits
    team = load(b"- {value: AS1221, kind: asn}\n- {value: '0064496', kind: asn}\n- {value: ASX, kind: asn}\n",
                "yaml", conf=60)
    assert team.table.column("value").to_pylist() == ["1221", "64496"] and team.skipped == 1


@pytest.mark.parametrize("body", [ASNDROP_JSON, ASNDROP_TXT])
def test_geoip_then_threat_intel_matches_the_asn(real: Path, tmp_path: Path, body: bytes) -> None:
    feed = tmp_path / "asndrop"
    feed.write_bytes(body)
    geo = build_geo("geo", {"type": "geoip", "asn": str(real / "maxmind-db/test-data/GeoLite2-ASN-Test.mmdb")})
    intel = ThreatIntelStage("intel", ThreatIntelOptions.model_validate(
        {"feeds": [{"name": "asndrop", "path": str(feed), "confidence": 90}], "background_refresh": False}),
        clock=lambda: T0)
    recs = [{"eventVersion": "1.08", "eventTime": f"2026-09-21T00:00:0{i}Z", "eventSource": "s3.amazonaws.com",
             "eventName": "GetObject", "awsRegion": "us-east-1", "sourceIPAddress": ip,
             "recipientAccountId": "123456789012", "userIdentity": {"type": "IAMUser", "userName": f"u{i}"}}
            for i, ip in enumerate(["1.128.0.1", "1.0.0.1", "198.51.100.7"])]
    batch = get("cloudtrail").decode(json.dumps({"Records": recs}).encode(), "test").batches[0]
    # without geoip there is no ASN on the event: nothing to match
    assert intel.process(batch) == [batch]
    ev, finding = intel.process(geo.process(batch)[0])
    obs = [[(o["name"], o["value"], o["type_id"], o["type"]) for o in r["observables"] or []] for r in ev.to_pylist()]
    assert obs == [[("src_endpoint.autonomous_system.number", "1221", 99, "Autonomous System Number")], [], []]
    assert finding.num_rows == 1
    f = finding.to_pylist()[0]
    assert f["severity_id"] == 4 and f["finding_info"]["title"] == "Threat intel match: 1221 (asndrop)"
