"""More feed layouts a security team plugs in: accepted with the right kinds, or refused clearly.

Bodies are written inline in each vendor's documented layout (field names and structure from
the vendor's API docs / SDK, e.g. AlienVault OTX-Python-SDK IndicatorTypes.py and its
examples/testJson.txt, CrowdSec LAPI decisions, PhishTank's online-valid CSV/JSON, TAXII 2.1
envelopes), with documentation-range values; expectations are read off the bodies.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from secpipe.transforms.enrich.intel.loaders import FeedError, load, sniff

SHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
MD5 = "d41d8cd98f00b204e9800998ecf8427e"


def kv(body: bytes, fmt: str = "auto") -> tuple[list[tuple[str, str]], int]:
    out = load(body, fmt, conf=60)
    return list(zip(out.table.column("kind").to_pylist(), out.table.column("value").to_pylist(), strict=True)), out.skipped


PULSE = {"id": "5f1a2b3c4d5e6f7a8b9c0d1e", "name": "Test campaign", "tags": ["apt", "c2"], "TLP": "green",
         "indicators": [
             {"id": 1, "indicator": "198.51.100.5", "type": "IPv4", "is_active": 1, "expiration": "2026-12-01T00:00:00"},
             {"id": 2, "indicator": "c2.example.test", "type": "hostname", "is_active": 1},
             {"id": 3, "indicator": SHA256, "type": "FileHash-SHA256", "is_active": 1},
             {"id": 4, "indicator": "203.0.113.0/24", "type": "CIDR", "is_active": 1},
             {"id": 5, "indicator": "http://c2.example.test/gate.php", "type": "URL", "is_active": 1},
             {"id": 6, "indicator": "CVE-2021-44228", "type": "CVE", "is_active": 1},
             {"id": 7, "indicator": "rule x { condition: true }", "type": "YARA", "is_active": 1},
             {"id": 8, "indicator": "198.51.100.6", "type": "IPv4", "is_active": 0}]}
OTX_EXPECTED = [("ip", "198.51.100.5"), ("domain", "c2.example.test"), ("hash", SHA256), ("ip", "203.0.113.0/24"),
                ("url", "http://c2.example.test/gate.php")]


def test_otx_pulse_subscribed_page_and_indicator_lists() -> None:
    one = json.dumps(PULSE).encode()
    assert sniff(one) == "json"
    assert kv(one) == (OTX_EXPECTED, 3)  # CVE, YARA and the inactive IPv4 are skipped, not errors
    row = load(one, "auto", conf=60).table.to_pylist()[0]
    assert row["labels"] == ["apt", "c2"] and row["description"] == "Test campaign" and row["ref"] == PULSE["id"]
    assert row["valid_until"] == 1_796_083_200_000  # 2026-12-01T00:00:00Z, the indicator's expiration
    page = json.dumps({"count": 2, "next": None, "results": [PULSE, {**PULSE, "id": "p2", "indicators": []}]}).encode()
    assert kv(page) == (OTX_EXPECTED, 3)
    ind_page = json.dumps({"count": 2, "results": PULSE["indicators"][:3]}).encode()
    assert kv(ind_page)[0] == OTX_EXPECTED[:3]
    bare = json.dumps([{"indicator": MD5, "type": "FileHash-MD5"}, {"indicator": "x.example.test", "type": "Domain"}])
    assert kv(bare.encode()) == ([("hash", MD5), ("domain", "x.example.test")], 0)
    # the OTX SDK's examples/testJson.txt layout: type names our team lists already know
    sdk = b'[\n{\n\t"indicator": "two.com",\n\t"type": "Domain"\n},\n{\n\t"indicator": "three.com",\n\t"type": "Domain"\n}\n]'
    assert kv(sdk) == ([("domain", "two.com"), ("domain", "three.com")], 0)


def test_crowdsec_decision_stream_list_and_cscli_alerts() -> None:
    stream = {"new": [
        {"duration": "167h59m", "id": 1, "origin": "CAPI", "scenario": "crowdsecurity/ssh-bf", "scope": "Ip",
         "type": "ban", "value": "198.51.100.2", "uuid": "0b5e-1"},
        {"duration": "3h", "id": 2, "origin": "crowdsec", "scenario": "crowdsecurity/http-probing", "scope": "Range",
         "type": "ban", "value": "198.51.100.0/24"},
        {"duration": "3h", "id": 3, "origin": "cscli", "scenario": "manual", "scope": "Country", "type": "ban",
         "value": "XX"},
        {"duration": "3h", "id": 4, "origin": "crowdsec", "scenario": "crowdsecurity/ssh-bf", "scope": "Ip",
         "type": "captcha", "value": "2001:db8::7"}],
        "deleted": [{"duration": "-1s", "id": 9, "origin": "CAPI", "scenario": "crowdsecurity/ssh-bf", "scope": "Ip",
                     "type": "ban", "value": "203.0.113.9"}]}
    got, skipped = kv(json.dumps(stream).encode())
    # deleted decisions are not indicators; a Country decision has no address
    assert got == [("ip", "198.51.100.2"), ("ip", "198.51.100.0/24"), ("ip", "2001:db8::7")] and skipped == 1
    first = load(json.dumps(stream).encode(), "auto", conf=60).table.to_pylist()[0]
    assert first["labels"] == ["crowdsecurity/ssh-bf"] and first["ref"] == "0b5e-1"
    assert kv(json.dumps({"new": None, "deleted": None}).encode()) == ([], 0)
    lapi = [{"duration": "1h00m00s", "id": 4091593, "origin": "CAPI", "scenario": "crowdsecurity/vpatch-CVE-2024-4577",
             "scope": "Ip", "type": "ban", "value": "198.51.100.44"}]
    assert kv(json.dumps(lapi).encode()) == ([("ip", "198.51.100.44")], 0)
    alerts = [{"id": 1, "scenario": "crowdsecurity/ssh-bf", "decisions": [
        {"duration": "59m49s", "id": 1, "origin": "crowdsec", "scenario": "crowdsecurity/ssh-bf", "scope": "Ip",
         "simulated": False, "type": "ban", "value": "192.0.2.172"}], "events_count": 6}]
    assert kv(json.dumps(alerts).encode()) == ([("ip", "192.0.2.172")], 0)


def test_phishtank_openphish_and_plain_ip_lists() -> None:
    csv_body = (b"phish_id,url,phish_detail_url,submission_time,verified,verification_time,online,target\n"
                b"8000001,https://login.example.test/secure/,http://www.phishtank.com/phish_detail.php?phish_id=8000001,"
                b"2026-11-28T10:00:00+00:00,yes,2026-11-28T10:05:00+00:00,yes,Other\n"
                b'8000002,"http://198.51.100.80/a,b/index.html",http://www.phishtank.com/phish_detail.php?phish_id=8000002,'
                b"2026-11-28T11:00:00+00:00,yes,2026-11-28T11:05:00+00:00,yes,PayPal\n")
    assert sniff(csv_body) == "csv"  # read as records: the target brand a label, phish_id the ref (test_enrich_holdout28)
    assert kv(csv_body) == ([("url", "https://login.example.test/secure/"), ("url", "http://198.51.100.80/a,b/index.html")], 0)
    js = [{"phish_id": "8000001", "url": "https://login.example.test/secure/",
           "phish_detail_url": "http://www.phishtank.com/phish_detail.php?phish_id=8000001",
           "submission_time": "2026-11-28T10:00:00+00:00", "verified": "yes", "online": "yes",
           "details": [{"ip_address": "198.51.100.80", "cidr_block": "198.51.100.0/24", "announcing_network": "64500",
                        "rir": "arin", "country": "US"}], "target": "Other"}]
    assert kv(json.dumps(js).encode()) == ([("url", "https://login.example.test/secure/")], 0)
    openphish = b"https://login.example.test/secure/\nhttp://198.51.100.80/wp/\n"
    assert kv(openphish) == ([("url", "https://login.example.test/secure/"), ("url", "http://198.51.100.80/wp/")], 0)
    # CINS Army ci-badguys.txt and Emerging Threats compromised-ips.txt: one address per line
    assert kv(b"198.51.100.1\n198.51.100.2\n203.0.113.250\n") == (
        [("ip", "198.51.100.1"), ("ip", "198.51.100.2"), ("ip", "203.0.113.250")], 0)


def test_taxii_21_envelope_is_stix() -> None:
    env = {"more": False, "next": None, "objects": [
        {"type": "identity", "spec_version": "2.1", "id": "identity--1", "name": "x", "identity_class": "organization",
         "created": "2026-01-01T00:00:00Z", "modified": "2026-01-01T00:00:00Z"},
        {"type": "indicator", "spec_version": "2.1", "id": "indicator--2", "pattern_type": "stix",
         "pattern": "[ipv4-addr:value = '198.51.100.3']", "valid_from": "2026-01-01T00:00:00Z",
         "created": "2026-01-01T00:00:00Z", "modified": "2026-01-01T00:00:00Z"}]}
    body = json.dumps(env).encode()
    assert sniff(body) == "stix"
    assert kv(body) == ([("ip", "198.51.100.3")], 0)


def test_unknown_layouts_are_refused_with_the_fix() -> None:
    with pytest.raises(FeedError, match="expected a list of entries"):
        load(json.dumps({"status": "ok", "count": 3}).encode(), "json", conf=60)
    with pytest.raises(FeedError, match="no `value`"):
        load(json.dumps([{"name": "x", "score": 3}]).encode(), "json", conf=60)


def test_xml_bodies_and_a_misp_manifest_are_refused_with_the_fix(real: Path) -> None:
    stix1 = (b'<?xml version="1.0" encoding="UTF-8"?>\n<stix:STIX_Package xmlns:stix="http://stix.mitre.org/stix-1">\n'
             b"<stix:Indicators><stix:Indicator><indicator:Title>evil.example.test</indicator:Title>"
             b"</stix:Indicator></stix:Indicators></stix:STIX_Package>\n")
    for fmt in ("auto", "plain"):
        with pytest.raises(FeedError, match="XML or HTML"):
            load(stix1, fmt, conf=60)
    with pytest.raises(FeedError, match="XML or HTML"):
        load(b"<!DOCTYPE html>\n<html><body>Please log in</body></html>\n", "auto", conf=60)
    manifest = (real / "threat-intel/pymisp/feed-derived/manifest.json").read_bytes()
    with pytest.raises(FeedError, match="misp_feed"):
        load(manifest, "auto", conf=60)
