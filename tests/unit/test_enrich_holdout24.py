"""Holdout sweep round 24: threat-intel feed layouts not covered before.

- A MalwareBazaar CSV export (comment banner, ``# "first_seen_utc","sha256_hash",...`` header
  in a comment, ``", "`` separators, ``n/a`` for "none"), written inline in that documented
  layout with hashes of our own strings: each row names one sample by SHA-256, MD5 and SHA-1,
  and an event carrying any one of them must match.
- An abuse.ch CSV whose label column is empty or ``None`` on some rows (Feodo/ThreatFox
  exports leave ``malware`` empty): this crashed the feed refresh (ArrowNotImplementedError
  escaped ``Feed.refresh``) before round 24.
- MISP's own STIX 2.1 export (``tests/cases/enrich_feeds/misp-stix21-attributes.json``, see
  SOURCE.md) and a STIX bundle without any indicator (OASIS ``infrastructure.json``, in
  ``../shared/data/real``): the first loads its one plain indicator, the second is refused
  with the object types it has.
"""

from __future__ import annotations

import hashlib
import json
import struct
from pathlib import Path

import pyarrow as pa
import pytest

from secpipe.formats.base import to_batch
from secpipe.transforms.enrich.intel.feeds import Feed
from secpipe.transforms.enrich.intel.loaders import FeedError, load, sniff
from secpipe.transforms.enrich.intel.stage import ThreatIntelStage
from secpipe.transforms.enrich.options import FeedOptions, ThreatIntelOptions

CASES = Path(__file__).resolve().parents[1] / "cases" / "enrich_feeds"
T0 = 1_790_000_000.0


def _h(name: str, sample: str) -> str:
    return hashlib.new(name, sample.encode()).hexdigest()


S1, S2 = "secpipe-holdout24-sample-1", "secpipe-holdout24-sample-2"
BAZAAR = "\n".join([
    "################################################################",
    "# MalwareBazaar recent malware samples (CSV)                   #",
    "# Last updated: 2026-08-11 05:50:00 UTC                        #",
    "#                                                              #",
    "# Terms Of Use: https://bazaar.abuse.ch/faq/#tos               #",
    "################################################################",
    "#",
    '# "first_seen_utc","sha256_hash","md5_hash","sha1_hash","reporter","file_name","file_type_guess","mime_type",'
    '"signature","clamav","vtpercent","imphash","ssdeep","tlsh"',
    f'"2026-08-11 05:46:57", "{_h("sha256", S1)}", "{_h("md5", S1)}", "{_h("sha1", S1)}", "abuse_ch", "x.sh", "sh",'
    ' "text/x-shellscript", "n/a", "n/a", "n/a", "n/a", "3:x:y", "n/a"',
    f'"2026-08-11 05:45:52", "{_h("sha256", S2)}", "{_h("md5", S2)}", "{_h("sha1", S2)}", "abuse_ch", "b.arm6", "elf",'
    ' "application/x-executable", "Mirai", "Unix.Dropper.Mirai-7135870-0", "n/a", "n/a", "12288:x:y", "T1E5D6"',
    "",
]).encode()


def test_malwarebazaar_csv_loads_every_hash_of_each_sample_with_its_signature() -> None:
    assert sniff(BAZAAR) == "abusech_csv"
    out = load(BAZAAR, "auto", conf=70)
    got = {(r["value"], tuple(r["labels"])) for r in out.table.to_pylist()}
    assert got == {(_h(a, S1), ()) for a in ("sha256", "md5", "sha1")} | {
        (_h(a, S2), ("Mirai",)) for a in ("sha256", "md5", "sha1")}
    assert set(out.table.column("kind").to_pylist()) == {"hash"} and out.skipped == 0
    # an explicit `column:` keeps to that column
    only = load(BAZAAR, "abusech_csv", conf=70, column="md5_hash")
    assert only.table.column("value").to_pylist() == [_h("md5", S1), _h("md5", S2)]


def _file_batch(md5s: list[str]) -> pa.RecordBatch:
    n = len(md5s)
    return to_batch("file_activity", {
        "class_uid": pa.array([1001] * n, pa.int32()), "time": pa.array([int(T0 * 1000)] * n, pa.int64()),
        "metadata.uid": pa.array([f"f{i}" for i in range(n)]), "file.name": pa.array(["b.arm6"] * n),
        "file.hashes": pa.array([[{"algorithm_id": 1, "value": m}] for m in md5s])})


def test_an_event_with_only_the_md5_of_a_bazaar_sample_matches(tmp_path: Path) -> None:
    (tmp_path / "bazaar.csv").write_bytes(BAZAAR)
    opts = ThreatIntelOptions.model_validate({"feeds": [{"name": "bazaar", "path": str(tmp_path / "bazaar.csv")}],
                                              "background_refresh": False})
    st = ThreatIntelStage("intel", opts, clock=lambda: T0)
    ev, fi = st.process(_file_batch([_h("md5", S2), _h("md5", "not listed")]))
    obs = [[(o["name"], o["value"], o["type_id"]) for o in r["observables"] or []] for r in ev.to_pylist()]
    assert obs == [[("file.hashes[].value", _h("md5", S2), 8)], []]
    assert fi.num_rows == 1


def test_empty_and_none_labels_do_not_break_a_csv_feed(tmp_path: Path) -> None:
    body = b"# ip_address,port,status,malware\n192.0.2.10,443,online,\n192.0.2.11,8080,online,None\n192.0.2.12,447,offline,Dridex\n"
    out = load(body, "abusech_csv", conf=70)
    assert [(r["value"], r["labels"]) for r in out.table.to_pylist()] == [
        ("192.0.2.10", []), ("192.0.2.11", []), ("192.0.2.12", ["Dridex"])]
    no_labels = b"# ip_address,port,status,malware\n192.0.2.10,443,online,n/a\n192.0.2.11,8080,online,\n"
    assert [r["labels"] for r in load(no_labels, "abusech_csv", conf=70).table.to_pylist()] == [[], []]
    (tmp_path / "c2.csv").write_bytes(body)
    f = Feed(FeedOptions(name="c2", path=str(tmp_path / "c2.csv")))
    assert f.refresh(0) and f.state.error is None and f.state.table is not None and f.state.table.num_rows == 3


def test_misp_stix21_export_loads_its_plain_indicator_and_counts_the_rest() -> None:
    out = load((CASES / "misp-stix21-attributes.json").read_bytes(), "auto", conf=70)
    rows = out.table.to_pylist()
    assert [(r["kind"], r["value"], r["ref"]) for r in rows] == [
        ("domain", "circl.lu", "indicator--4bb235a7-7d25-4aef-802f-2c6b45c5eceb")]
    assert rows[0]["description"] == "Domain test attribute"
    # `domain AND resolves_to` narrows the domain (never loaded as the bare domain); file:name is no IOC kind
    assert out.skipped == 2


def test_a_stix_bundle_without_indicators_is_refused_with_its_object_types(real: Path, tmp_path: Path) -> None:
    path = real / "threat-intel/oasis-cti-stix2-json-schemas/examples/infrastructure.json"
    with pytest.raises(FeedError, match=r"no `indicator` object in the bundle \(domain-name x1, infrastructure x2, "
                                        r"ipv4-addr x1, malware x2, relationship x4\)"):
        load(path.read_bytes(), "auto", conf=70)
    f = Feed(FeedOptions(name="infra", path=str(path)))
    assert f.refresh(0) is False and f.state.error is not None and "no `indicator` object" in f.state.error


# DShield block.txt layout (banner, tab-separated "Start End Netmask Attacks Name Country email"
# header and rows), written inline with documentation ranges: the list is CC BY-NC-SA, not copied.
DSHIELD = "\n".join([
    "#",
    "#   DShield.org Recommended Block List",
    "#    updated: Wed Jan 17 22:00:15 2018 UTC",
    "#",
    "#    This list summarizes the top 20 attacking class C (/24) subnets",
    "#    Columns (tab delimited):",
    "#    (1) start of netblock",
    "#    (2) end of netblock",
    "#    (3) subnet (/24 for class C)",
    "#",
    "Start\tEnd\tNetmask\tAttacks\tName\tCountry\temail",
    "203.0.113.0\t203.0.113.255\t24\t2076\tSOMENET\tZZ\tabuse@example.net",
    "198.51.100.0\t198.51.100.255\t24\t1550\tOTHERNET\tZZ\t",
    "",
]).encode()


def test_dshield_block_list_rows_are_their_whole_netblocks() -> None:
    out = load(DSHIELD, "auto", conf=70)
    assert [(r["kind"], r["value"]) for r in out.table.to_pylist()] == [
        ("ip", "203.0.113.0/24"), ("ip", "198.51.100.0/24")]
    assert out.skipped == 1  # the column-name line
    # other range spellings; a hosts-file sink line and a reversed pair are not ranges
    out = load(b"192.0.2.0-192.0.2.127\n192.0.2.130 - 192.0.2.131\n0.0.0.0 192.0.2.9\n", "plain", conf=70)
    assert out.table.column("value").to_pylist() == ["192.0.2.0/25", "192.0.2.130/31", "192.0.2.9"]


def _ip_batch(ips: list[str]) -> pa.RecordBatch:
    n = len(ips)
    return to_batch("network_activity", {
        "class_uid": pa.array([4001] * n, pa.int32()), "time": pa.array([int(T0 * 1000)] * n, pa.int64()),
        "metadata.uid": pa.array([f"n{i}" for i in range(n)]), "src_endpoint.ip": pa.array(ips)})


def test_an_address_inside_a_dshield_netblock_matches(tmp_path: Path) -> None:
    (tmp_path / "block.txt").write_bytes(DSHIELD)
    opts = ThreatIntelOptions.model_validate({"feeds": [{"name": "dshield", "path": str(tmp_path / "block.txt")}],
                                              "background_refresh": False})
    ev, fi = ThreatIntelStage("intel", opts, clock=lambda: T0).process(
        _ip_batch(["203.0.113.77", "198.51.100.255", "203.0.114.1"]))
    assert [[o["value"] for o in r["observables"] or []] for r in ev.to_pylist()] == [
        ["203.0.113.77"], ["198.51.100.255"], []]
    assert fi.num_rows == 2


def test_email_indicators_from_misp_otx_stix_and_plain_lists() -> None:
    misp = {"Event": {"info": "phish", "threat_level_id": "1", "Attribute": [
        {"type": "email-src", "value": "Billing@Invoices.Example.test", "to_ids": True, "uuid": "a1"},
        {"type": "email-dst", "value": "victim@example.org", "to_ids": False, "uuid": "a2"}]}}
    out = load(json.dumps(misp).encode(), "misp", conf=70)
    assert [(r["kind"], r["value"], r["confidence"]) for r in out.table.to_pylist()] == [
        ("email", "billing@invoices.example.test", 90)]
    otx = {"id": "p1", "name": "pulse", "tags": [], "indicators": [
        {"indicator": "ops@bad.example.test", "type": "email"}, {"indicator": "Mutex1", "type": "Mutex"}]}
    out = load(json.dumps(otx).encode(), "json", conf=70)
    assert [(r["kind"], r["value"]) for r in out.table.to_pylist()] == [("email", "ops@bad.example.test")]
    assert out.skipped == 1
    stix = {"type": "bundle", "objects": [
        {"type": "indicator", "id": "indicator--1", "pattern": "[email-message:from_ref.value = 'x@bad.example.test']"},
        {"type": "indicator", "id": "indicator--2", "pattern": "[email-addr:value = 'not an address']"}]}
    out = load(json.dumps(stix).encode(), "stix", conf=70)
    assert [(r["kind"], r["value"]) for r in out.table.to_pylist()] == [("email", "x@bad.example.test")]
    out = load(b"spam@bad.example.test\n@nobody\nuser@999.1.1.1\n", "plain", conf=70)
    assert [(r["kind"], r["value"]) for r in out.table.to_pylist()] == [("email", "spam@bad.example.test")]


def test_pymisp_email_attributes_without_to_ids_stay_out(real: Path) -> None:
    path = real / "threat-intel/pymisp/tests/reportlab_testfiles/long_event.json"
    doc = json.loads(path.read_bytes())
    ev = doc.get("Event", doc)
    attrs = ev["Attribute"] + [a for o in ev.get("Object", []) for a in o.get("Attribute", [])]
    emails = [a for a in attrs if a["type"].startswith("email-src")]
    assert emails and not any(a["to_ids"] for a in emails)
    assert "email" not in load(path.read_bytes(), "misp", conf=70).table.column("kind").to_pylist()


def _user_batch(emails: list[str], t_ms: float) -> pa.RecordBatch:
    n = len(emails)
    return to_batch("api_activity", {
        "class_uid": pa.array([6003] * n, pa.int32()), "time": pa.array([int(t_ms)] * n, pa.int64()),
        "metadata.uid": pa.array([f"u{i}" for i in range(n)]), "actor.user.email_addr": pa.array(emails)})


def test_sekoia_email_indicator_page_benign_type_and_expiry(tmp_path: Path) -> None:
    body = (CASES / "sekoia-indicator-email.json").read_bytes()
    out = load(body, "auto", conf=70)  # a SEKOIA.IO API page {"items": [...]}: the one indicator is typed benign
    assert out.table.num_rows == 0 and out.skipped == 1
    doc = json.loads(body)
    doc["items"][0]["indicator_types"] = ["malicious-activity"]  # the same indicator, typed as a threat
    (tmp_path / "sekoia.json").write_text(json.dumps(doc))
    rows = load(json.dumps(doc).encode(), "auto", conf=70).table.to_pylist()
    assert [(r["kind"], r["value"], r["ref"]) for r in rows] == [
        ("email", "eicar@sekoia.io", "indicator--d394449b-6bc7-4d48-b392-6f898190bd2a")]
    until = 1_668_985_200  # valid_until 2022-11-20T23:00:00Z
    assert rows[0]["valid_until"] == until * 1000
    opts = ThreatIntelOptions.model_validate({"feeds": [{"name": "sekoia", "path": str(tmp_path / "sekoia.json")}],
                                              "background_refresh": False})
    before = until - 86400
    ev, fi = ThreatIntelStage("intel", opts, clock=lambda: before).process(
        _user_batch(["EICAR@sekoia.io", "someone@sekoia.io"], before * 1000))
    assert [[(o["value"], o["type_id"], o["type"]) for o in r["observables"] or []] for r in ev.to_pylist()] == [
        [("eicar@sekoia.io", 5, "Email Address")], []]  # compared (and reported) lower-cased, as domains
    assert fi.num_rows == 1
    since = 1_590_391_081  # valid_from 2020-05-25T07:18:01.809Z
    assert rows[0]["valid_from"] == since * 1000 + 809
    for now in (T0, since - 60):  # expired in 2022; not valid yet the minute before valid_from
        out = ThreatIntelStage("intel", opts, clock=lambda t=now: t).process(_user_batch(["eicar@sekoia.io"], now * 1000))
        assert len(out) == 1 and out[0].column("actor").to_pylist()[0]["user"]["email_addr"] == "eicar@sekoia.io"
        assert "observables" not in out[0].schema.names  # the event passes through unmatched


def _tls_batch(ja3: list[str]) -> pa.RecordBatch:
    n = len(ja3)
    return to_batch("network_activity", {
        "class_uid": pa.array([4001] * n, pa.int32()), "time": pa.array([int(T0 * 1000)] * n, pa.int64()),
        "metadata.uid": pa.array([f"t{i}" for i in range(n)]),
        "tls.ja3_hash": pa.array([{"algorithm_id": 1, "value": v} for v in ja3])})


def test_sslbl_ja3_fingerprints_match_tls_ja3_hash_not_file_hashes() -> None:
    opts = ThreatIntelOptions.model_validate({"feeds": [{"name": "sslbl-ja3", "path": str(CASES / "ja3_fingerprints.csv")}],
                                              "background_refresh": False})
    st = ThreatIntelStage("intel", opts, clock=lambda: T0)
    dridex = "b386946a5a44d1ddcc843bc75336dfce"  # the first row of the SSLBL excerpt, listed as Dridex
    ev, fi = st.process(_tls_batch([dridex.upper(), _h("md5", "other")]))
    obs = [[(o["name"], o["value"], o["type_id"], o["type"]) for o in r["observables"] or []] for r in ev.to_pylist()]
    assert obs == [[("tls.ja3_hash.value", dridex, 30, "Fingerprint")], []]
    assert fi.num_rows == 1
    assert len(st.process(_file_batch([dridex]))) == 1  # a file whose MD5 has the same digits: no match, no finding


def test_ja3_from_misp_and_otx() -> None:
    ja3 = _h("md5", "ja3-string")
    misp = {"Event": {"info": "tls", "Attribute": [
        {"type": "ja3-fingerprint-md5", "value": ja3.upper(), "to_ids": True, "uuid": "j1"},
        {"type": "ja3-fingerprint-md5", "value": "not-a-fingerprint", "to_ids": True, "uuid": "j2"}]}}
    out = load(json.dumps(misp).encode(), "misp", conf=70)
    assert [(r["kind"], r["value"]) for r in out.table.to_pylist()] == [("ja3", ja3)] and out.skipped == 1
    otx = {"id": "p", "name": "n", "tags": [], "indicators": [{"indicator": ja3, "type": "JA3"}]}
    assert [(r["kind"], r["value"]) for r in load(json.dumps(otx).encode(), "json", conf=70).table.to_pylist()] == [
        ("ja3", ja3)]


# --------------------------------------------------------------------------------------
# IPinfo .mmdb layouts. No IPinfo database is redistributable here, and no MMDB writer is
# installed, so _mmdb() writes a small MaxMind DB (format 2.0: 24-bit search tree, data
# section, metadata) whose records follow IPinfo's documented schemas: the free "IPinfo
# Lite" database (country_code, country name, continent name, asn "AS…", as_name, as_domain)
# and the older free "country_asn" database (two-letter country, continent code + *_name).
# The file is read by the real maxminddb C reader.
# --------------------------------------------------------------------------------------


def _enc(v: object) -> bytes:
    def ctrl(t: int, size: int) -> bytes:
        head = bytes([((t if t <= 7 else 0) << 5) | min(size, 29)]) + (bytes([t - 7]) if t > 7 else b"")
        return head + (bytes([size - 29]) if size >= 29 else b"")  # sizes here stay < 285

    if isinstance(v, bool):  # the size bits hold the value
        return ctrl(14, int(v))
    if isinstance(v, float):
        return ctrl(3, 8) + struct.pack(">d", v)
    if isinstance(v, str):
        b = v.encode()
        return ctrl(2, len(b)) + b
    if isinstance(v, dict):
        return ctrl(7, len(v)) + b"".join(_enc(k) + _enc(x) for k, x in v.items())
    if isinstance(v, list):
        return ctrl(11, len(v)) + b"".join(_enc(x) for x in v)
    t = 6
    if isinstance(v, tuple):  # (type, int): libmaxminddb wants uint16/uint64 where the format says so
        t, v = v
    assert isinstance(v, int)
    b = v.to_bytes((v.bit_length() + 7) // 8, "big")
    return ctrl(t, len(b)) + b


def _mmdb(path: Path, db_type: str, nets: dict[str, dict[str, object]]) -> None:
    import ipaddress

    nodes: list[list[object]] = [[None, None]]
    data = b""
    for cidr, rec in nets.items():
        net = ipaddress.ip_network(cidr)
        bits, node = int(net.network_address), 0
        for depth in range(net.prefixlen):
            side = (bits >> (31 - depth)) & 1
            if depth == net.prefixlen - 1:
                nodes[node][side] = ("data", len(data))
            else:
                if nodes[node][side] is None:
                    nodes.append([None, None])
                    nodes[node][side] = len(nodes) - 1
                node = nodes[node][side]  # type: ignore[assignment]
        data += _enc(rec)
    n = len(nodes)

    def rec_value(r: object) -> int:
        if r is None:
            return n
        if isinstance(r, tuple):
            return n + 16 + r[1]
        return int(r)  # type: ignore[call-overload]

    tree = b"".join(rec_value(a).to_bytes(3, "big") + rec_value(b).to_bytes(3, "big") for a, b in nodes)
    u16 = 5
    meta = {"node_count": n, "record_size": (u16, 24), "ip_version": (u16, 4), "database_type": db_type,
            "languages": ["en"], "binary_format_major_version": (u16, 2), "binary_format_minor_version": (u16, 0),
            "build_epoch": (9, 1_750_000_000),
            "description": {"en": "secpipe test database in an IPinfo layout"}}
    path.write_bytes(tree + b"\0" * 16 + data + b"\xab\xcd\xefMaxMind.com" + _enc(meta))


def test_ipinfo_lite_and_country_asn_databases_fill_location_and_as(tmp_path: Path) -> None:
    from secpipe.transforms.enrich.geoip import GeoIPStage
    from secpipe.transforms.enrich.options import GeoIPOptions

    db = tmp_path / "ipinfo_lite.mmdb"
    _mmdb(db, "ipinfo ipinfo_lite.mmdb", {
        "198.51.100.0/24": {"asn": "AS64500", "as_name": "Example Net", "as_domain": "example.net",
                            "country_code": "GB", "country": "United Kingdom", "continent_code": "EU",
                            "continent": "Europe"}})
    legacy = tmp_path / "country_asn.mmdb"
    _mmdb(legacy, "ipinfo country_asn.mmdb", {
        "203.0.113.0/24": {"country": "JP", "country_name": "Japan", "continent": "AS", "continent_name": "Asia",
                           "asn": "AS64501", "as_name": "Other Net", "as_domain": "other.example"}})
    for path, ip, want in ((db, "198.51.100.7", ("GB", "Europe", 64500, "Example Net")),
                           (legacy, "203.0.113.9", ("JP", "Asia", 64501, "Other Net"))):
        st = GeoIPStage("geo", GeoIPOptions(city=str(path), asn=str(path)))
        ep = st.process(_ip_batch([ip, "192.0.2.1"]))[0].to_pylist()
        loc, asys = ep[0]["src_endpoint"]["location"], ep[0]["src_endpoint"]["autonomous_system"]
        assert (loc["country"], loc["continent"], asys["number"], asys["name"]) == want
        assert ep[1]["src_endpoint"].get("location") is None  # not in the database


def test_misp_false_positive_and_expiration_sightings(real: Path) -> None:
    # PyMISP's sighting_1.json (CIRCL/Synovus Ursnif event): 4 domains and 1 url, all to_ids; sightings
    # are type 0 (sighting) on the first domain and the url, 1 (false positive) on domains 2 and 3,
    # 2 (expiration) then a later 1 on domain 4
    path = real / "threat-intel/pymisp/tests/reportlab_testfiles/sighting_1.json"
    ev = json.loads(path.read_bytes())
    ev = ev.get("Event", ev)
    kept = [a["value"] for a in ev["Attribute"] if [s["type"] for s in a["Sighting"]] == ["0"]]
    out = load(path.read_bytes(), "misp", conf=70)
    assert sorted(out.table.column("value").to_pylist()) == sorted(kept) and len(kept) == 2
    assert out.skipped == 3
    attr = {"type": "domain", "value": "c2.example.test", "to_ids": True, "uuid": "s1", "timestamp": "1700000000"}
    doc = {"Event": {"info": "x", "Attribute": [
        {**attr, "Sighting": [{"type": "2", "date_sighting": "1700086400"}]},
        {**attr, "value": "fp-then-seen.example.test", "Sighting": [
            {"type": "1", "date_sighting": "1700000100"}, {"type": "0", "date_sighting": "1700000200"}]}]}}
    rows = load(json.dumps(doc).encode(), "misp", conf=70, max_age_ms=30 * 86_400_000).table.to_pylist()
    assert [(r["value"], r["valid_until"]) for r in rows] == [
        ("c2.example.test", 1_700_086_400_000),  # the expiration sighting comes before timestamp + max_age
        ("fp-then-seen.example.test", 1_700_000_000_000 + 30 * 86_400_000)]


def _cert_batch(fps: list[str]) -> pa.RecordBatch:
    n = len(fps)
    return to_batch("network_activity", {
        "class_uid": pa.array([4001] * n, pa.int32()), "time": pa.array([int(T0 * 1000)] * n, pa.int64()),
        "metadata.uid": pa.array([f"c{i}" for i in range(n)]),
        "tls.certificate": pa.array([{"fingerprints": [{"algorithm_id": 2, "value": v}]} for v in fps])})


def test_sslbl_certificate_sha1s_match_tls_certificate_fingerprints() -> None:
    # SSLBL's "# Listingdate,SHA1,Listingreason" list holds SHA1 fingerprints of certificates
    opts = ThreatIntelOptions.model_validate({"feeds": [{"name": "sslbl", "path": str(CASES / "sslblacklist.csv")}],
                                              "background_refresh": False})
    st = ThreatIntelStage("intel", opts, clock=lambda: T0)
    fp = "a6d5e05f8dc855e16c194b3578258f942e1e5537"  # the first row, AsyncRAT C&C
    colons = ":".join(fp[i:i + 2] for i in range(0, 40, 2)).upper()
    ev, fi = st.process(_cert_batch([colons, _h("sha1", "other")]))
    obs = [[(o["name"], o["value"], o["type_id"]) for o in r["observables"] or []] for r in ev.to_pylist()]
    assert obs == [[("tls.certificate.fingerprints[].value", fp, 30)], []]
    assert fi.num_rows == 1
    assert len(st.process(_file_batch([fp]))) == 1  # a file SHA-1 with the same digits: no match


def test_certificate_fingerprints_from_misp_stix_and_otx() -> None:
    fp = _h("sha1", "certificate")
    colons = ":".join(fp[i:i + 2] for i in range(0, 40, 2)).upper()
    misp = {"Event": {"info": "c", "Attribute": [{"type": "x509-fingerprint-sha1", "value": colons, "to_ids": True}]}}
    stix = {"type": "bundle", "objects": [
        {"type": "indicator", "id": "indicator--c", "pattern": f"[x509-certificate:hashes.'SHA-1' = '{fp}']"}]}
    otx = {"id": "p", "name": "n", "tags": [], "indicators": [{"indicator": fp, "type": "SSLCertFingerprint"}]}
    for body, fmt in ((misp, "misp"), (stix, "stix"), (otx, "json")):
        assert [(r["kind"], r["value"]) for r in load(json.dumps(body).encode(), fmt, conf=70).table.to_pylist()] == [
            ("x509", fp)], fmt


@pytest.mark.parametrize(("body", "fmt"), [
    ({"Event": {"info": "x", "Attribute": "not a list"}}, "misp"),
    ({"Event": {"info": "x", "Attribute": [{"type": "domain", "value": "a.example", "to_ids": True, "Tag": 5}]}}, "misp"),
    ({"Event": {"info": "x", "Object": [True]}}, "misp"),
    ({"name": "w", "type": "cidr", "list": [["10.0.0.0/8"]], "matching_attributes": [["ip-src"]]}, "misp_warninglist"),
])
def test_a_malformed_structure_is_a_feed_error_not_an_escape(tmp_path: Path, body: object, fmt: str) -> None:
    data = json.dumps(body).encode()
    with pytest.raises(FeedError, match=f"{fmt}: the body does not have the {fmt} layout"):
        load(data, fmt, conf=70)
    (tmp_path / "feed.json").write_bytes(data)
    f = Feed(FeedOptions(name="f", path=str(tmp_path / "feed.json"), format=fmt))  # type: ignore[arg-type]
    assert f.refresh(0) is False and f.state.error is not None and "layout" in f.state.error


def test_defanged_indicators_are_refanged_but_real_urls_are_never_rewritten() -> None:
    body = b"""# analyst export, defanged as CyberChef / ioc-fanger write them
hxxp://login-update[.]example/verify.php
hxxps[:]//pay[.]example/a
bad-domain[.]example
198.51.100[.]7
ops[at]bad-domain[.]example
http://ok.example/a[.]b
"""
    out = load(body, "plain", conf=70)
    assert [(r["kind"], r["value"]) for r in out.table.to_pylist()] == [
        ("url", "http://login-update.example/verify.php"), ("url", "https://pay.example/a"),
        ("domain", "bad-domain.example"), ("ip", "198.51.100.7"), ("email", "ops@bad-domain.example"),
        ("url", "http://ok.example/a[.]b")]
