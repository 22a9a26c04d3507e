"""Golden tests of the feed loaders on the real samples in ../shared/data/real/threat-intel.

Expectations come from reading the samples and THREAT-INTEL-SOURCES.md (counts per type,
``to_ids`` flags, patterns), not from running the loaders.
"""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pytest

from secpipe.transforms.enrich.intel.loaders import (
    FeedError,
    load,
    load_misp_feed,
    sniff,
    stix_pattern_terms,
)


def _by_kind(t: pa.Table) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    for k, v in zip(t.column("kind").to_pylist(), t.column("value").to_pylist(), strict=True):
        out.setdefault(k, set()).add(v)
    return out


@pytest.fixture
def ti(real: Path) -> Path:
    return real / "threat-intel"


def test_stix_apt1(ti: Path) -> None:
    data = (ti / "oasis-cti-stix2-json-schemas/examples/threat-reports/apt1.json").read_bytes()
    assert sniff(data) == "stix"
    out = load(data, "auto", conf=70)
    kinds = _by_kind(out.table)
    assert kinds["ip"] == {"112.64.0.0/15", "139.226.0.0/15", "223.166.0.0/15", "58.246.0.0/15"}
    assert kinds["domain"] == {"hugesoft.org", "arrowservice.net", "msnhome.org"}
    assert kinds["hash"] == {"001dd76872d80801692ff942308c64e6", "002325a0a67fded0381b5648d7fe9b8e",
                             "00dbb9e1c09dbdafb360f3163ba5a3de"}
    assert out.skipped == 2  # the two x509-certificate "issuer AND serial_number" indicators


def test_stix_poisonivy_or_patterns(ti: Path) -> None:
    out = load((ti / "oasis-cti-stix2-json-schemas/examples/threat-reports/poisonivy.json").read_bytes(), "stix", conf=70)
    kinds = _by_kind(out.table)
    # 40 ipv4 terms (with repeats across indicators) and 25 domain terms, one of them malformed
    # ("domain autuo.xicp.net"); 2 file:name indicators cannot be matched.
    assert sum(1 for k in out.table.column("kind").to_pylist() if k == "ip") == 40
    assert sum(1 for k in out.table.column("kind").to_pylist() if k == "domain") == 24
    assert "microsoftc.byinter.net" in kinds["domain"] and "98.126.148.114" in kinds["ip"]
    assert out.skipped == 3
    assert set(out.table.column("labels")[0].as_py()) >= {"malicious-activity"}


def test_stix_20_url_and_hash(ti: Path) -> None:
    url = load((ti / "oasis-cti-stix2-json-schemas/examples-stix2.0-history/indicator-for-malicious-URL.json").read_bytes(),
               "auto", conf=50)
    assert _by_kind(url.table) == {"url": {"http://x4z9arb.cn/4712/"}}
    coa = load((ti / "oasis-cti-stix2-json-schemas/examples/indicators-for-C2-with-COA.json").read_bytes(), "auto", conf=50)
    assert _by_kind(coa.table) == {"ip": {"10.0.0.0"},
                                   "hash": {"ef537f25c895bfa782526529a9b63d97aa631564d5d789c2b765448c8635fb6c"}}


def test_stix_pattern_forms() -> None:
    assert stix_pattern_terms("[ipv4-addr:value ISSUBSET '198.51.100.0/24']") == [("ip", "198.51.100.0/24")]
    assert stix_pattern_terms("[ipv6-addr:value = '2001:db8::1'] OR [url:value = 'http://a/b']") == [
        ("ip", "2001:db8::1"), ("url", "http://a/b")]
    assert stix_pattern_terms("[file:hashes.'SHA-256' = 'aa' OR file:hashes.MD5 = 'bb']") == [("hash", "aa"), ("hash", "bb")]
    assert stix_pattern_terms("[ipv4-addr:value = '1.2.3.4' AND domain-name:value = 'x.com']") is None
    assert stix_pattern_terms("[email-message:subject MATCHES '^x']") is None
    # one observation fits any WITHIN window (OASIS cti-pattern-matcher); REPEATS 5 needs five
    assert stix_pattern_terms("[domain-name:value = 'x.com'] WITHIN 5 SECONDS") == [("domain", "x.com")]
    assert stix_pattern_terms("[domain-name:value = 'x.com'] REPEATS 5 TIMES") is None


def test_stix_revoked_and_valid_until() -> None:
    bundle = b"""{"type": "bundle", "objects": [
      {"type": "indicator", "id": "indicator--1", "pattern": "[domain-name:value = 'Old.Example.COM.']",
       "pattern_type": "stix", "valid_until": "2020-01-01T00:00:00Z", "confidence": 85},
      {"type": "indicator", "id": "indicator--2", "pattern": "[domain-name:value = 'x.example']", "revoked": true},
      {"type": "indicator", "id": "indicator--3", "pattern": "x", "pattern_type": "sigma"}]}"""
    out = load(bundle, "auto", conf=50)
    assert out.table.to_pylist() == [{"kind": "domain", "value": "old.example.com", "confidence": 85, "labels": None,
                                      "valid_until": 1577836800000, "description": None, "ref": "indicator--1",
                                      "valid_from": None}]
    assert out.skipped == 2


def test_misp_event_only_to_ids(ti: Path) -> None:
    out = load((ti / "pymisp/tests/57c4445b-c548-4654-af0b-4be3950d210f.json").read_bytes(), "auto", conf=70)
    # 5 to_ids attributes: filename, md5, sha1, sha256, regkey|value -> 3 hash indicators, 2 skipped.
    assert _by_kind(out.table) == {"hash": {"0749bae92ca336a02c83d126e04ec628", "77b0c41b7d340b8a3d903f21347bbf06aa766b5b",
                                            "b3c4ae251f8094fa15b510051835c657eaef2a6cea46075d3aec964b14a99f68"}}
    assert out.skipped == 2
    row = out.table.to_pylist()[0]
    assert row["confidence"] == 50  # threat_level_id 3 (low)
    assert "tlp:white" in row["labels"] and row["description"] == "Ransomware - Xorist"


def test_misp_export_with_objects(ti: Path) -> None:
    body = (ti / "pymisp/tests/mispevent_testfiles/existing_event.json").read_bytes()
    draft = load(body, "misp", conf=70)  # "published": false: a draft's attributes are context (see test_enrich_holdout28)
    assert draft.table.num_rows == 0 and draft.skipped > 0
    out = load(body, "misp", conf=70, unpublished=True)
    kinds = out.table.column("kind").to_pylist()
    counts = {k: kinds.count(k) for k in set(kinds)}
    # 83 to_ids attributes: 37 sha1, 19 domain, 12 ip-dst, 15 filename (not an IOC we match).
    assert out.table.num_rows == 68
    assert counts == {"hash": 37, "domain": 19, "ip": 12}
    assert out.skipped == 15


def test_misp_feed_directory(ti: Path) -> None:
    out = load_misp_feed(ti / "pymisp/feed-derived", 70)
    descs = set(out.table.column("description").to_pylist())
    assert "Ransomware - Xorist" in descs and "Ursnif, MALWAREMESSIAGH" in descs
    assert len(descs) == 3  # two of the five events are not published
    assert len(set(load_misp_feed(ti / "pymisp/feed-derived", 70, unpublished=True).table.column("description"))) == 5


def test_abusech_feodo_and_sslbl(ti: Path) -> None:
    feodo = load((ti / "abusech-feodotracker/ipblocklist.csv").read_bytes(), "auto", conf=90, labels=["botnet-c2"])
    assert feodo.table.num_rows == 28
    first = feodo.table.to_pylist()[0]
    assert first["value"] == "192.9.135.73" and first["labels"] == ["botnet-c2", "Pikabot"]
    ssl = load((ti / "abusech-sslbl/sslipblacklist.csv").read_bytes(), "abusech_csv", conf=80)
    assert ssl.table.num_rows == 83
    assert ssl.table.to_pylist()[0]["value"] == "104.130.17.100"
    assert ssl.table.to_pylist()[0]["labels"] == ["URLzone C&C"]


def test_spamhaus_drop_text_and_json() -> None:
    text = b"; Spamhaus DROP List 2024/01/01\n; Last-Modified: x\n1.10.16.0/20 ; SBL256894\n2a06:e480::/29 ; SBL301771\n"
    out = load(text, "auto", conf=95)
    assert out.table.select(["value", "ref"]).to_pylist() == [
        {"value": "1.10.16.0/20", "ref": "SBL256894"}, {"value": "2a06:e480::/29", "ref": "SBL301771"}]
    js = b'{"cidr":"1.10.16.0/20","sblid":"SBL256894","rir":"apnic"}\n{"type":"metadata","timestamp":1}\n'
    out = load(js, "spamhaus_drop", conf=95)
    assert out.table.column("value").to_pylist() == ["1.10.16.0/20"]


def test_plain_and_team_lists() -> None:
    plain = b"# my list\n1.2.3.4\nEvil.Example.com.  # comment\nhttp://bad.example/x?y=1\nD41D8CD98F00B204E9800998ECF8427E\n???\n"
    out = load(plain, "auto", conf=60)
    assert _by_kind(out.table) == {"ip": {"1.2.3.4"}, "domain": {"evil.example.com"}, "url": {"http://bad.example/x?y=1"},
                                   "hash": {"d41d8cd98f00b204e9800998ecf8427e"}}
    assert out.skipped == 1
    csv = b"value,kind,confidence,labels,valid_until\n10.0.0.0/8,ip,90,a;b,2031-01-01\nx.example,,,,\n"
    out = load(csv, "auto", conf=60)
    assert out.table.select(["value", "confidence", "labels", "valid_until"]).to_pylist() == [
        {"value": "10.0.0.0/8", "confidence": 90, "labels": ["a", "b"], "valid_until": 1924992000000},
        {"value": "x.example", "confidence": 60, "labels": None, "valid_until": None}]
    with pytest.raises(FeedError, match="no `value`"):
        load(b"- {kind: ip}\n", "yaml", conf=60)
    with pytest.raises(FeedError, match="kind 'cidr'"):
        load(b"- {value: 1.2.3.4, kind: cidr}\n", "yaml", conf=60)


def test_warninglists(ti: Path) -> None:
    rfc = load((ti / "misp-warninglists/lists/rfc1918/list.json").read_bytes(), "auto", conf=100)
    assert _by_kind(rfc.table) == {"ip": {"10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"}}
    empty = load((ti / "misp-warninglists/lists/empty-hashes/list.json").read_bytes(), "misp_warninglist", conf=100)
    assert "d41d8cd98f00b204e9800998ecf8427e" in _by_kind(empty.table)["hash"]
    assert set(_by_kind(empty.table)) == {"hash"}  # the ssdeep "3::" is not taken for an IPv6 address
    short = load((ti / "misp-warninglists/lists/url-shortener/list.json").read_bytes(), "auto", conf=100)
    assert len(_by_kind(short.table)["domain"]) == 232
    dns = load((ti / "misp-warninglists/lists/public-dns-v4/list.json").read_bytes(), "auto", conf=100)
    assert "1.1.1.1" in _by_kind(dns.table)["ip"]


def test_bad_bodies_are_feed_errors() -> None:
    with pytest.raises(FeedError, match="not valid JSON"):
        load(b'{"type": "bundle", "objects": [', "stix", conf=50)
    with pytest.raises(FeedError, match="no Event"):
        load(b'{"foo": 1}', "misp", conf=50)
