"""geoip stage against MaxMind's own test databases (../shared/data/real/maxmind-db).

Expected values are read from MaxMind's ``source-data/*.json`` (what each test network
resolves to). The broken-pointer database has no source JSON; its expected behaviour comes
from libmaxminddb's ``t/bad_pointers_t.c``: 1.1.1.16 has a data pointer into garbage, 1.1.1.32 a
corrupt search-tree pointer — both must leave that IP un-enriched without failing the batch.
"""

from __future__ import annotations

import ipaddress
import json
import shutil
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

from secpipe.errors import ConfigError
from secpipe.formats import get
from secpipe.schema.ocsf import validate_batch
from secpipe.transforms.enrich.geoip import GeoIPStage, build_stage
from secpipe.transforms.enrich.options import GeoIPOptions


def ct_batch(sources: list[str]) -> pa.RecordBatch:
    recs = [{"eventTime": "2026-01-01T00:00:00Z", "eventSource": "s3.amazonaws.com", "eventName": "GetObject",
             "sourceIPAddress": s, "eventID": str(i)} for i, s in enumerate(sources)]
    return get("cloudtrail").decode(json.dumps({"Records": recs}).encode(), "t").batches[0]


@pytest.fixture
def mm(real: Path) -> Path:
    return real / "maxmind-db"


def _disjoint(entries: list[dict[str, Any]]) -> list[tuple[str, dict[str, Any]]]:
    """(first address as text, record) of networks that overlap no other network of the file."""
    nets = [(ipaddress.ip_network(next(iter(e)), strict=False), next(iter(e.values()))) for e in entries]  # some keys have host bits
    out = []
    for i, (n, rec) in enumerate(nets):
        if any(j != i and m.version == n.version and m.overlaps(n) for j, (m, _r) in enumerate(nets)):
            continue
        addr = n.network_address
        if n.version == 6 and n.prefixlen >= 96 and int(addr) >> 32 == 0:
            addr = ipaddress.IPv4Address(int(addr))  # "::a.b.c.d/n" is IPv4 space in MaxMind DBs
        out.append((str(addr), rec))
    return out


def test_city_golden_from_source_json(mm: Path) -> None:
    cases = _disjoint(json.loads((mm / "source-data/GeoIP2-City-Test.json").read_text()))
    assert len(cases) > 100
    st = build_stage("geo", {"type": "geoip", "city": str(mm / "test-data/GeoIP2-City-Test.mmdb")})
    out = st.process(ct_batch([ip for ip, _r in cases]))[0]
    assert validate_batch("api_activity", out.schema) == []
    for (ip, rec), row in zip(cases, out.to_pylist(), strict=True):
        loc = row["src_endpoint"].get("location") or {}
        country = (rec.get("country") or rec.get("registered_country") or {}).get("iso_code")
        assert loc.get("country") == country, ip
        assert loc.get("city") == (rec.get("city") or {}).get("names", {}).get("en"), ip
        assert loc.get("continent") == (rec.get("continent") or {}).get("names", {}).get("en"), ip
        subs = rec.get("subdivisions") or [{}]
        assert loc.get("region") == subs[0].get("names", {}).get("en"), ip
        assert loc.get("postal_code") == (rec.get("postal") or {}).get("code"), ip
        want = rec.get("location") or {}
        if "latitude" in want:
            assert loc["lat"] == pytest.approx(want["latitude"]) and loc["long"] == pytest.approx(want["longitude"])
            assert loc["coordinates"] == pytest.approx([want["longitude"], want["latitude"]])
        if loc:
            assert loc["provider"] == "GeoIP2-City"
    # Each distinct IP is looked up once; a second batch is served from the cache.
    assert st.stats.lookups == len({ip for ip, _r in cases})
    st.process(ct_batch([ip for ip, _r in cases[:10]]))
    assert st.stats.lookups == len({ip for ip, _r in cases}) and st.stats.cache_hits == 10


def test_london_and_asn(mm: Path) -> None:
    st = build_stage("geo", {"type": "geoip", "city": str(mm / "test-data/GeoIP2-City-Test.mmdb"),
                             "asn": str(mm / "test-data/GeoLite2-ASN-Test.mmdb")})
    rows = st.process(ct_batch(["81.2.69.142", "1.128.0.1", "ec2.amazonaws.com", "192.0.2.1"]))[0].to_pylist()
    london = rows[0]["src_endpoint"]
    # GeoIP2-City-Test.json: 81.2.69.142/31 -> GB, London, England, 51.5142 / -0.0931
    assert london["location"]["country"] == "GB" and london["location"]["city"] == "London"
    assert london["location"]["region"] == "England"
    # GeoLite2-ASN-Test.json: 1.128.0.0/11 -> 1221 Telstra Pty Ltd
    assert rows[1]["src_endpoint"]["autonomous_system"] == {"number": 1221, "name": "Telstra Pty Ltd"}
    assert rows[1]["src_endpoint"]["location"] is None
    assert rows[2]["src_endpoint"].get("location") is None  # a hostname, not an IP
    assert rows[3]["src_endpoint"].get("autonomous_system") is None


def test_asn_golden_from_source_json(mm: Path) -> None:
    cases = _disjoint(json.loads((mm / "source-data/GeoLite2-ASN-Test.json").read_text()))
    st = build_stage("geo", {"type": "geoip", "asn": str(mm / "test-data/GeoLite2-ASN-Test.mmdb")})
    rows = st.process(ct_batch([ip for ip, _r in cases]))[0].to_pylist()
    for (ip, rec), row in zip(cases, rows, strict=True):
        asys = row["src_endpoint"].get("autonomous_system") or {}
        assert asys.get("number") == rec.get("autonomous_system_number"), ip
        assert asys.get("name") == rec.get("autonomous_system_organization"), ip


def test_anonymous_flags_as_labels(mm: Path) -> None:
    cases = _disjoint(json.loads((mm / "source-data/GeoIP2-Anonymous-IP-Test.json").read_text()))
    st = build_stage("geo", {"type": "geoip", "anonymous": str(mm / "test-data/GeoIP2-Anonymous-IP-Test.mmdb")})
    rows = st.process(ct_batch([ip for ip, _r in cases]))[0].to_pylist()
    for (ip, rec), row in zip(cases, rows, strict=True):
        want = {f"geoip:src_endpoint:{k.removeprefix('is_')}" for k, v in rec.items() if v is True}
        assert set(row["metadata"].get("labels") or []) == want, ip


def test_broken_pointer_database_never_fails_the_batch(mm: Path, caplog: pytest.LogCaptureFixture) -> None:
    st = build_stage("geo", {"type": "geoip", "city": str(mm / "test-data/MaxMind-DB-test-broken-pointers-24.mmdb")})
    b = ct_batch(["1.1.1.1", "1.1.1.16", "1.1.1.32", "2001:db8::1", "8.8.8.8"])
    with caplog.at_level("WARNING", logger="secpipe.enrich.geoip"):
        out = st.process(b)
    assert out[0].num_rows == 5
    assert st.stats.lookup_errors == 2
    assert "unreadable database records" in caplog.text
    assert all(r["src_endpoint"].get("location") is None for r in out[0].to_pylist())


def test_missing_and_corrupt_databases(tmp_path: Path, mm: Path) -> None:
    with pytest.raises(ConfigError, match="database not found"):
        build_stage("geo", {"type": "geoip", "city": str(tmp_path / "nope.mmdb")})
    bad = tmp_path / "bad.mmdb"
    bad.write_bytes(b"this is not a maxmind database" * 100)
    with pytest.raises(ConfigError, match="not a valid MaxMind DB"):
        build_stage("geo", {"type": "geoip", "city": str(bad)})
    # Degraded mode: events pass through; the database is picked up once it appears.
    now = [0.0]
    path = tmp_path / "city.mmdb"
    st = GeoIPStage("geo", GeoIPOptions(city=str(path), on_error="degrade", check_every=5), clock=lambda: now[0])
    b = ct_batch(["81.2.69.142"])
    assert st.process(b) == [b]
    shutil.copy(mm / "test-data/GeoIP2-City-Test.mmdb", path)
    now[0] = 6
    assert st.process(b)[0].to_pylist()[0]["src_endpoint"]["location"]["city"] == "London"


def test_reload_on_change_and_bad_replacement(tmp_path: Path, mm: Path) -> None:
    now = [0.0]
    path = tmp_path / "geo.mmdb"
    shutil.copy(mm / "test-data/GeoLite2-Country-Test.mmdb", path)
    st = GeoIPStage("geo", GeoIPOptions(city=str(path), check_every=5), clock=lambda: now[0])
    b = ct_batch(["81.2.69.142"])
    loc = st.process(b)[0].to_pylist()[0]["src_endpoint"]["location"]
    assert loc["country"] == "GB" and loc.get("city") is None and loc["provider"] == "GeoLite2-Country"
    tmp = tmp_path / "new.mmdb"
    shutil.copy(mm / "test-data/GeoIP2-City-Test.mmdb", tmp)
    tmp.replace(path)
    now[0] = 6
    assert st.process(b)[0].to_pylist()[0]["src_endpoint"]["location"]["city"] == "London"
    assert st.status()["databases"][0]["reloads"] == 1
    broken = tmp_path / "broken.mmdb"
    broken.write_bytes(b"\0" * 4096)
    broken.replace(path)
    now[0] = 12
    assert st.process(b)[0].to_pylist()[0]["src_endpoint"]["location"]["city"] == "London"  # kept the old reader
    assert "not a valid MaxMind DB" in st.status()["databases"][0]["error"]
