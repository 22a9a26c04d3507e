"""Feed layouts users point the threat_intel stage at (holdout readiness).

Real excerpts live in tests/cases/enrich_feeds (see its SOURCE.md); the other bodies are
written inline in the documented upstream layouts. Every expectation is read off the body:
the number of data rows, which value each row carries, and which near-misses must not match.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

from secpipe.formats.base import to_batch
from secpipe.transforms.enrich.intel.loaders import FeedError, load, load_misp_feed, sniff, stix_pattern_terms
from secpipe.transforms.enrich.intel.stage import ThreatIntelStage
from secpipe.transforms.enrich.options import ThreatIntelOptions

CASES = Path(__file__).resolve().parents[1] / "cases" / "enrich_feeds"
T0 = 1_790_000_000.0


def pairs(t: pa.Table) -> list[tuple[str, str]]:
    return list(zip(t.column("kind").to_pylist(), t.column("value").to_pylist(), strict=True))


URLHAUS = b"""################################################################
# abuse.ch URLhaus Database Dump (CSV - recent URLs only)      #
# Last updated: 2026-10-05 10:05:00 UTC                        #
#                                                              #
# Terms Of Use: https://urlhaus.abuse.ch/api/                  #
################################################################
#
# id,dateadded,url,url_status,last_online,threat,tags,urlhaus_link,reporter
"1","2026-10-05 10:00:00","http://203.0.113.55:4444/bin.sh","online","","malware_download","32-bit,elf,mips,Mozi","https://urlhaus.abuse.ch/url/1/","r"
"2","2026-10-05 10:01:00","https://bad.example.test/invoice.exe","offline","","malware_download","exe,RemcosRAT","https://urlhaus.abuse.ch/url/2/","r"
"3","2026-10-05 10:02:00","not a url","online","","malware_download","","https://urlhaus.abuse.ch/url/3/","r"
"""

THREATFOX = "\r\n".join([
    "################################################################",
    "# ThreatFox IOCs: recent additions - CSV format                #",
    "#",
    '# "first_seen_utc","ioc_id","ioc_value","ioc_type","threat_type","fk_malware","malware_alias",'
    '"malware_printable","last_seen_utc","confidence_level","is_compromised","reference","tags","anonymous","reporter"',
    '"2026-07-04 22:19:04", "11", "c2.example.test", "domain", "payload_delivery", "js.clearfake", "None", "ClearFake",'
    ' "", "100", "False", "None", "ClearFake,win-0x4679,windows", "1", "anonymous"',
    '"2026-07-04 21:46:30", "12", "198.51.100.36:5555", "ip:port", "botnet_cc", "win.cobalt_strike", "a,b",'
    ' "Cobalt Strike", "", "75", "False", "None", "CobaltStrike", "0", "abuse_ch"',
    '"2026-07-04 19:15:03", "13", "https://pay.example.test/path?q=a,b", "url", "payload_delivery", "js.x", "None",'
    ' "ClearFake", "", "50", "False", "None", "None", "1", "anonymous"',
    '"2026-08-30 01:34:49", "14", "9F86D081884C7D659A2FEAA0C55AD015", "md5_hash", "payload", "win.vidar", "None",'
    ' "Vidar", "", "95", "False", "None", "None", "0", "x"',
    '"2026-08-30 01:39:33", "15", "[2001:db8::1]:443", "ip:port", "botnet_cc", "php.x", "None", "x", "", "40",'
    ' "True", "None", "None", "0", "x"',
    "",
]).encode()


def test_abusech_csv_commented_headers_keep_the_first_row() -> None:
    ja3 = load((CASES / "ja3_fingerprints.csv").read_bytes(), "auto", conf=60)
    # 8 data rows between the "# ja3_md5,Firstseen,Lastseen,Listingreason" header and "# END"
    assert ja3.table.num_rows == 8 and ja3.skipped == 0
    first = ja3.table.to_pylist()[0]
    assert (first["kind"], first["value"], first["labels"]) == ("ja3", "b386946a5a44d1ddcc843bc75336dfce", ["Dridex"])
    sha1 = load((CASES / "sslblacklist.csv").read_bytes(), "auto", conf=60)
    assert pairs(sha1.table)[0] == ("x509", "a6d5e05f8dc855e16c194b3578258f942e1e5537")
    assert sha1.table.num_rows == 4 and sha1.table.to_pylist()[3]["labels"] == ["Latrodectus C&C"]


def test_urlhaus_csv_takes_the_url_column_not_the_link() -> None:
    assert sniff(URLHAUS) == "abusech_csv"
    out = load(URLHAUS, "auto", conf=80, labels=["urlhaus"])
    assert pairs(out.table) == [("url", "http://203.0.113.55:4444/bin.sh"), ("url", "https://bad.example.test/invoice.exe")]
    assert out.skipped == 1  # "not a url"
    assert out.table.to_pylist()[0]["labels"] == ["urlhaus", "malware_download", "32-bit", "elf", "mips", "Mozi"]


def test_threatfox_csv_spaced_quotes_crlf_ip_port_and_confidence() -> None:
    out = load(THREATFOX, "auto", conf=70)
    assert pairs(out.table) == [("domain", "c2.example.test"), ("ip", "198.51.100.36"),
                                ("url", "https://pay.example.test/path?q=a,b"),
                                ("hash", "9f86d081884c7d659a2feaa0c55ad015"), ("ip", "2001:db8::1")]
    assert out.table.column("confidence").to_pylist() == [100, 75, 50, 95, 40]
    assert out.table.column("labels").to_pylist()[1] == ["Cobalt Strike", "CobaltStrike"]


def test_json_feeds_feodo_and_threatfox_export() -> None:
    feodo = json.dumps([{"ip_address": "192.0.2.73", "port": 443, "status": "online", "as_number": 31898,
                         "country": "US", "first_seen": "2024-03-28 15:05:16", "malware": "Pikabot"},
                        {"ip_address": "192.0.2.104", "port": 2224, "status": "offline", "malware": "Pikabot"}]).encode()
    out = load(feodo, "auto", conf=90)
    assert pairs(out.table) == [("ip", "192.0.2.73"), ("ip", "192.0.2.104")]
    assert out.table.to_pylist()[0]["labels"] == ["Pikabot"]
    export = json.dumps({"12": [{"ioc_value": "198.51.100.36:5555", "ioc_type": "ip:port", "malware_printable": "CS",
                                 "confidence_level": 75}],
                         "13": [{"ioc_value": "c2.example.test", "ioc_type": "domain", "confidence_level": 100}]}).encode()
    out = load(export, "auto", conf=50)
    assert out.table.select(["kind", "value", "confidence", "ref"]).to_pylist() == [
        {"kind": "ip", "value": "198.51.100.36", "confidence": 75, "ref": "12"},
        {"kind": "domain", "value": "c2.example.test", "confidence": 100, "ref": "13"}]
    with pytest.raises(FeedError, match="no `value`"):
        load(b'[{"port": 443}]', "json", conf=50)


def test_plain_lists_hosts_files_ports_and_notes() -> None:
    body = (b"# hosts file and mixed notes\r\n127.0.0.1\tbad.example.test\r\n0.0.0.0 c2.example.test\r\n"
            b"127.0.0.1 localhost\r\n198.51.100.36:5555\r\n203.0.113.9\t# note\r\n203.0.113.10 scanner\r\n"
            b"[2001:db8::2]:8443\r\nd41d8cd98f00b204e9800998ecf8427e  empty.bin\r\n1.2.3.4.5\r\n999.1.1.1\r\n")
    out = load(body, "auto", conf=60)
    assert pairs(out.table) == [("domain", "bad.example.test"), ("domain", "c2.example.test"), ("ip", "198.51.100.36"),
                                ("ip", "203.0.113.9"), ("ip", "203.0.113.10"), ("ip", "2001:db8::2"),
                                ("hash", "d41d8cd98f00b204e9800998ecf8427e")]
    assert out.skipped == 3  # localhost, 1.2.3.4.5, 999.1.1.1


def test_misp_string_flags_hostname_port_and_feed_gaps(tmp_path: Path, real: Path) -> None:
    ev = {"Event": {"info": "old export", "threat_level_id": "2", "Attribute": [
        {"type": "ip-dst", "value": "198.51.100.7", "to_ids": "1", "deleted": "0"},
        {"type": "ip-dst", "value": "198.51.100.8", "to_ids": "0", "deleted": "0"},
        {"type": "domain", "value": "gone.example.test", "to_ids": True, "deleted": "1"},
        {"type": "hostname|port", "value": "c2.example.test|8443", "to_ids": True},
        {"type": "ip-dst|port", "value": "2001:db8::5|443", "to_ids": True}]}}
    out = load(json.dumps(ev).encode(), "auto", conf=70)
    assert pairs(out.table) == [("ip", "198.51.100.7"), ("domain", "c2.example.test"), ("ip", "2001:db8::5")]
    feed = real / "threat-intel/pymisp/feed-derived"
    (tmp_path / "57c4445b-c548-4654-af0b-4be3950d210f.json").write_bytes(
        (feed / "57c4445b-c548-4654-af0b-4be3950d210f.json").read_bytes())
    (tmp_path / "manifest.json").write_text(json.dumps({"57c4445b-c548-4654-af0b-4be3950d210f": {},
                                                        "00000000-0000-4000-8000-000000000000": {}}))
    got = load_misp_feed(tmp_path, 70)
    assert got.table.num_rows == 3 and got.skipped == 2 + 1  # 2 non-IOC to_ids attributes + 1 missing event
    (tmp_path / "57c4445b-c548-4654-af0b-4be3950d210f.json").unlink()
    with pytest.raises(FeedError, match="none of the 2 events"):
        load_misp_feed(tmp_path, 70)


def test_stix_network_traffic_refs() -> None:
    assert stix_pattern_terms("[network-traffic:dst_ref.type = 'ipv4-addr' AND "
                              "network-traffic:dst_ref.value = '203.0.113.33']") == [("auto", "203.0.113.33")]
    bundle = {"type": "bundle", "objects": [
        {"type": "indicator", "id": "indicator--1", "pattern_type": "stix",
         "pattern": "[network-traffic:dst_ref.type = 'domain-name' AND network-traffic:dst_ref.value = 'c2.example.test']"},
        {"type": "indicator", "id": "indicator--2", "pattern_type": "stix",
         "pattern": "[network-traffic:dst_ref.value = '203.0.113.33' AND network-traffic:dst_port = 443]"}]}
    out = load(json.dumps(bundle).encode(), "auto", conf=70)
    assert pairs(out.table) == [("domain", "c2.example.test")]
    assert out.skipped == 1  # a port condition cannot be matched on an address field


def _wl(kind: str, entries: list[str], attrs: list[str]) -> dict[str, Any]:
    return {"name": f"test {kind}", "version": 1, "description": "t", "type": kind, "list": entries,
            "matching_attributes": attrs}


def http_batch(ips: list[str], hosts: list[str], urls: list[str]) -> pa.RecordBatch:
    n = len(ips)
    return to_batch("http_activity", {
        "class_uid": pa.array([4002] * n, pa.int32()), "time": pa.array([int(T0 * 1000)] * n, pa.int64()),
        "metadata.uid": pa.array([f"e{i}" for i in range(n)]), "src_endpoint.ip": pa.array(ips),
        "http_request.url.hostname": pa.array(hosts), "http_request.url.url_string": pa.array(urls)})


def test_stage_matches_listed_values_not_near_misses_and_honours_pattern_allowlists(tmp_path: Path) -> None:
    (tmp_path / "tf.csv").write_bytes(THREATFOX)
    (tmp_path / "hosts.txt").write_text("0.0.0.0 evil.ngrok.io\n0.0.0.0 files.amazonaws.com\n0.0.0.0 bad.example.test\n0.0.0.0 www.google.com\n")
    (tmp_path / "sub.json").write_text(json.dumps(_wl("substring", ["amazonaws.com"], ["hostname", "domain"])))
    (tmp_path / "rx.json").write_text(json.dumps(_wl("regex", ["/^[a-z0-9-]+\\.NGROK\\.io$/i", "(?=lookahead)"],
                                                     ["hostname"])))
    opts = ThreatIntelOptions.model_validate({
        "feeds": [{"name": "tf", "path": str(tmp_path / "tf.csv")}, {"name": "hosts", "path": str(tmp_path / "hosts.txt")}],
        "allowlists": [{"name": "sub", "path": str(tmp_path / "sub.json")}, {"name": "rx", "path": str(tmp_path / "rx.json")},
                       {"name": "captive", "path": str(CASES / "captive-portals.json")}],
        "background_refresh": False})
    st = ThreatIntelStage("intel", opts, clock=lambda: T0)
    allow = {f.name: f.state for f in st.store.feeds if f.role == "allowlist"}
    assert allow["rx"].table.num_rows == 1 and allow["rx"].skipped == 1  # the lookahead is not RE2
    b = http_batch(
        ["198.51.100.36", "198.51.100.37", "2001:db8::1", "2001:db8::10", None, None, None, None],
        ["x.c2.example.test", "c2.example.test.evil", "evil.ngrok.io", "files.amazonaws.com", "bad.example.test",
         "www.google.com", None, None],
        [None, None, None, None, None, None, "https://pay.example.test/path?q=a,b", "https://pay.example.test/path?q=a,b2"])
    ev, fi = st.process(b)
    hits = [sorted(o["value"] for o in r["observables"] or []) for r in ev.to_pylist()]
    assert hits == [["198.51.100.36", "x.c2.example.test"], [], ["2001:db8::1"], [], ["bad.example.test"], [],
                    ["https://pay.example.test/path?q=a,b"], []]
    assert fi.num_rows == 4  # events 0, 2, 4, 6
    with pytest.raises(FeedError, match="allowlists"):
        st.store.feeds[0].__class__(opts.allowlists[0], "feed")._parse((tmp_path / "sub.json").read_bytes())


def test_unknown_warninglist_type_is_a_clear_error() -> None:
    with pytest.raises(FeedError, match="supported: cidr, string, hostname, substring, regex"):
        load(json.dumps(_wl("asn", ["AS1"], [])).encode(), "misp_warninglist", conf=100)
