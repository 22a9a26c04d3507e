"""Holdout sweep round 27: threat-intel feed bodies as analysts and Windows tools write them.

- Byte-order marks: Notepad/Excel "UTF-8" puts EF BB BF first and Windows PowerShell 5.1's ``Out-File``/``>``
  writes UTF-16LE with FF FE. The mark hid the first entry of a plain list, and a STIX bundle was sniffed as a
  plain list of nothing (the real OASIS example ``indicator-for-c2-ip-address.json``, saved both ways).
- Defanged indicators as ioc-fanger's tests spell them (ioc-fang/ioc-fanger ``tests/test_ioc_fanger.py``:
  ``juanita(at)example.com``, ``bob(@)example.com``, ``example\\.com``, ``bob@example(dot)com``), ``hxxp[://]``
  (its scheme was read before the bracket: ``http://]host``), and URLs whose scheme is real but whose host is
  defanged, as malware write-ups list them (a CyberDefenders "Malicious PowerShell Analysis" write-up's Emotet
  download URLs, ``https://admintk[.]com/wp-admin/L/``): they were kept as written and matched nothing.
- Microsoft Defender for Endpoint indicators (tests/cases/enrich_feeds/SOURCE.md, round 27): the portal's CSV
  (``IndicatorType,IndicatorValue,ExpirationTime,Action,...``) and the List Indicators API answer
  (``{"value": [...]}``, camelCase keys): kinds from ``indicatorType`` (``CertificateThumbprint`` is a
  certificate, not a file), ``expirationTime`` the expiry, ``Allowed`` entries no threat. Team lists take keys in
  any case and STIX/OTX type names (``ipv4-addr``, ``FileHash-MD5``).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from secpipe.transforms.enrich.intel.loaders import FeedError, load
from secpipe.transforms.enrich.lookup import build_stage
from tests.unit.test_enrich_lookup import ct_batch

CASES = Path(__file__).resolve().parents[1] / "cases" / "enrich_feeds"
STIX_C2 = "oasis-cti-stix2-json-schemas/examples/indicator-for-c2-ip-address.json"


def _rows(body: bytes, fmt: str = "auto") -> list[tuple[str, str]]:
    return [(r["kind"], r["value"]) for r in load(body, fmt, conf=70).table.to_pylist()]


@pytest.fixture
def intel(real: Path) -> Path:
    return real / "threat-intel"


def test_a_stix_bundle_saved_with_a_byte_order_mark_loads_its_indicator(intel: Path) -> None:
    text = (intel / STIX_C2).read_text()
    for body in (b"\xef\xbb\xbf" + text.encode(), text.encode("utf-16"), b"\xfe\xff" + text.encode("utf-16-be")):
        assert _rows(body) == [("ip", "10.0.0.0")]


def test_the_first_entry_of_a_list_with_a_byte_order_mark_is_kept(intel: Path) -> None:
    feodo = (intel / "abusech-feodotracker/ipblocklist.csv").read_bytes()
    assert _rows(b"\xef\xbb\xbf" + feodo) == _rows(feodo)
    iocs = "198.51.100.7\r\nbad-domain.example\r\n44d88612fea8a8f36de82e1278abb02f\r\n"
    want = [("ip", "198.51.100.7"), ("domain", "bad-domain.example"), ("hash", "44d88612fea8a8f36de82e1278abb02f")]
    assert _rows(b"\xef\xbb\xbf" + iocs.encode()) == want
    assert _rows(iocs.encode("utf-16")) == want  # PowerShell 5.1: Get-Content iocs.txt > list.txt


def test_a_body_that_does_not_decode_as_its_byte_order_mark_says_is_refused() -> None:
    with pytest.raises(FeedError, match="byte-order mark"):
        load(b"\xff\xfe\x00\xd8", "auto", conf=70)


def test_defanged_dots_and_ats_as_ioc_fanger_spells_them() -> None:
    body = "\n".join([
        "juanita(at)example.com", "bob(@)example.com", "bob@example(dot)com", "example\\.com", "www(.)example(.)com",
        "http[:]//example.org", "hXxps[:]//example.org/test?target=bad[@]test.com", "hxxp[://]login-update.example/a",
    ]).encode()
    assert _rows(body, "plain") == [
        ("email", "juanita@example.com"), ("email", "bob@example.com"), ("email", "bob@example.com"),
        ("domain", "example.com"), ("domain", "www.example.com"), ("url", "http://example.org/"),
        ("url", "https://example.org/test?target=bad@test.com"), ("url", "http://login-update.example/a")]


def test_urls_with_a_real_scheme_and_a_defanged_host_are_refanged() -> None:
    body = b"""Urls:

https://admintk[.]com/wp-admin/L/

https://www[.]hintup[.]com.br/wp-content/dE/

http://www[.]stmarouns[.]nsw.edu[.]au/paypal/b8G/

http://ok.example/a[.]b
"""
    assert _rows(body, "plain") == [
        ("url", "https://admintk.com/wp-admin/L/"), ("url", "https://www.hintup.com.br/wp-content/dE/"),
        ("url", "http://www.stmarouns.nsw.edu.au/paypal/b8G/"),
        ("url", "http://ok.example/a[.]b")]  # a real host: the URL stays as written


def test_defender_for_endpoint_indicator_csv_reads_type_expiry_and_allow_entries() -> None:
    # the portal's Import format (IndicatorType,IndicatorValue,ExpirationTime,Action,...): it was read as an abuse.ch
    # CSV, the certificate/allow entries as threats and the expiry dropped
    body = (CASES / "mde-indicators-sample.csv").read_bytes()
    for data in (body, b"\xef\xbb\xbf" + body.replace(b"\n", b"\r\n")):  # as Excel saves it
        out = load(data, "auto", conf=70)
        assert out.skipped == 1  # IpAddress 10.10.10.10, Action Allowed: an allow entry, no threat
        assert [(r["kind"], r["value"], r["valid_until"], r["description"]) for r in out.table.to_pylist()] == [
            ("hash", "deadbeafb263b10b284405889fb25dcc3bf1aebb", 1537099866244, "malware downloader"),
            ("hash", "deadbeafd034a66599407e2fa2ccaf15d11f1079fc0d012bb7b2b8ce66673689", None, "Red Team Activity"),
            ("url", "http://www.facebook.com/", 1537099866244, "malware downloader"),
            ("domain", "www.facebook.com", None, "Red Team Activity")]
    cert = b"IndicatorType,IndicatorValue,Action\nCertificateThumbprint,da39a3ee5e6b4b0d3255bfef95601890afd80709,Alert\n"
    assert _rows(cert) == [("x509", "da39a3ee5e6b4b0d3255bfef95601890afd80709")]


def test_defender_for_endpoint_list_indicators_answer() -> None:
    out = load((CASES / "mde-list-indicators.json").read_bytes(), "auto", conf=70)
    assert [(r["kind"], r["value"], r["valid_until"], r["ref"]) for r in out.table.to_pylist()] == [
        ("ip", "12.13.14.15", 1607731200000, "995"), ("hash", "220e7d15b0b3d7fac48f2bd61114db1022197f7f", 1607731200000, "996")]


def test_team_lists_with_capitalised_keys_and_stix_or_otx_type_names() -> None:
    # a list's type vocabulary was a feed error for the whole feed ("kind 'ipv4-addr' — use one of ...")
    body = b"""Value,Type,Expiration
198.51.100.7,ipv4-addr,2030-01-01T00:00:00Z
bad-domain.example,domain-name,
44d88612fea8a8f36de82e1278abb02f,FileHash-MD5,
"""
    out = load(body, "csv", conf=70)
    assert [(r["kind"], r["value"], r["valid_until"]) for r in out.table.to_pylist()] == [
        ("ip", "198.51.100.7", 1893456000000), ("domain", "bad-domain.example", None),
        ("hash", "44d88612fea8a8f36de82e1278abb02f", None)]
    assert _rows(b'[{"Indicator": "198.51.100.7", "Type": "IPv4"}]', "json") == [("ip", "198.51.100.7")]


def test_a_misp_attribute_search_names_each_indicators_event(intel: Path) -> None:
    # /attributes/restSearch answers {"response": {"Attribute": [...]}} (MISP app/Lib/Export/JsonExport.php), each
    # attribute naming its event in "Event" {id, info, uuid, org_id, orgc_id, distribution}; the indicators of
    # PyMISP's CIRCL event put that way came without the event's info as their description
    event = json.loads((intel / "pymisp/tests/57c4445b-c548-4654-af0b-4be3950d210f.json").read_bytes())["Event"]
    owner = {"org_id": "1", "distribution": "3", "id": "7", "info": event["info"], "orgc_id": "1", "uuid": event["uuid"]}
    answer = {"response": {"Attribute": [{**a, "event_id": "7", "Event": owner} for a in event["Attribute"]]}}
    by_search = load(json.dumps(answer).encode(), "auto", conf=70).table.to_pylist()
    by_event = load(json.dumps({"Event": event}).encode(), "misp", conf=70).table.to_pylist()
    assert [(r["kind"], r["value"]) for r in by_search] == [(r["kind"], r["value"]) for r in by_event]
    assert by_search and {r["description"] for r in by_search} == {"Ransomware - Xorist"}


def test_a_misp_event_search_that_matched_nothing_is_an_empty_feed() -> None:
    out = load(b'{"response": []}', "misp", conf=70)  # restSearch with last: 1d and no new event
    assert out.table.num_rows == 0 and out.skipped == 0


INVENTORY = """account_id,account_name,owner,environment
123456789012,prod-payments,alice@example.com,prod
210987654321,dév-bac-à-sable,bob@example.com,dev
"""


@pytest.mark.parametrize(("save_as", "body"), [
    # Excel's "CSV UTF-8", its "CSV" (the ANSI code page) where the list separator is ';' (de-DE, fr-FR, ...), its "Unicode Text"
    # (UTF-16LE, tab-separated), and the CR-only lines of Excel for Mac's "CSV (Macintosh)"
    ("csv utf-8", b"\xef\xbb\xbf" + INVENTORY.replace("\n", "\r\n").encode()),
    ("csv de-DE", INVENTORY.replace(",", ";").replace("\n", "\r\n").encode("cp1252")),
    ("unicode text", INVENTORY.replace(",", "\t").replace("\n", "\r\n").encode("utf-16")),
    ("csv macintosh", INVENTORY.replace("\n", "\r").encode()),
])
def test_an_asset_inventory_as_excel_saves_it(tmp_path: Path, save_as: str, body: bytes) -> None:
    # a ';' table was refused ("no column account_id — columns: account_id;account_name;..."), a UTF-16 or CR-only
    # one escaped as a bare csv.Error
    (tmp_path / "assets.csv").write_bytes(body)
    st = build_stage("assets", {"type": "lookup", "path": str(tmp_path / "assets.csv"), "key": "account_id",
                                "field": "cloud.account.uid", "set": {"cloud.account.name": "account_name"},
                                "labels": ["environment"]})
    rows = st.process(ct_batch([("192.0.2.1", "210987654321"), ("192.0.2.2", "123456789012")]))[0].to_pylist()
    assert [r["cloud"]["account"]["name"] for r in rows] == ["dév-bac-à-sable", "prod-payments"], save_as
    assert [r["metadata"]["labels"] for r in rows] == [["environment:dev"], ["environment:prod"]]


def test_a_maltiverse_collection_download_loads_by_type() -> None:
    # GET api.maltiverse.com/collection/<id>/download: a JSON list of IoC documents, each by its "type" (ip, hostname,
    # url, sample) under ip_addr / hostname / url / sha256 with a "classification" (as the Maltiverse API documents
    # its objects and its Netskope plugin reads them); an ip document had no key taken for its value, which refused
    # the whole feed ("entry 0: no `value`"), and a sample's type was "kind 'sample' — use one of ..."
    docs = [
        {"type": "ip", "ip_addr": "203.0.113.77", "classification": "malicious",
         "blacklist": [{"description": "Cobalt Strike C2", "source": "Maltiverse"}]},
        {"type": "hostname", "hostname": "c2.bad-domain.example", "classification": "suspicious"},
        {"type": "url", "url": "http://bad-domain.example/gate.php", "classification": "malicious"},
        {"type": "sample", "sha256": "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
         "md5": "d41d8cd98f00b204e9800998ecf8427e", "classification": "malicious"},
        {"type": "hostname", "hostname": "www.example.com", "classification": "whitelist"},
    ]
    out = load(json.dumps(docs).encode(), "auto", conf=70)
    assert [(r["kind"], r["value"]) for r in out.table.to_pylist()] == [
        ("ip", "203.0.113.77"), ("domain", "c2.bad-domain.example"), ("url", "http://bad-domain.example/gate.php"),
        ("hash", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
        ("hash", "d41d8cd98f00b204e9800998ecf8427e")]
    assert out.skipped == 1  # the whitelisted host
    # a URL document that also names its host's address is the URL
    url_doc = {"type": "url", "url": "http://bad-domain.example/x.exe", "hostname": "bad-domain.example",
               "ip": "203.0.113.9", "classification": "malicious"}
    assert _rows(json.dumps([url_doc]).encode()) == [("url", "http://bad-domain.example/x.exe")]


def test_an_adblock_filter_list_of_malware_hosts() -> None:
    # malware-filter's urlhaus-filter in Adblock Plus / AdGuard syntax (gitlab.com/malware-filter/urlhaus-filter,
    # its build script's header lines): '!' comments, '||host^' rules (a URL of a popular host as '||host/path^$all').
    # The header's comma sniffed the list as an abuse.ch CSV, and no rule was read.
    body = b"""! Title: Malicious URL Blocklist
! Updated: Mon, 01 Jan 2024 00:00:00 +0000
! Expires: 1 day (update frequency)
! Homepage: https://gitlab.com/malware-filter/urlhaus-filter
! License: https://gitlab.com/malware-filter/urlhaus-filter#license
! Source: https://urlhaus.abuse.ch/api/
||1.10.209.143^
||bad-domain.example^
||docs.google.com/uc?export=download&id=1a2b3c^$all
||c2.bad-domain.example^$all
"""
    out = load(body, "auto", conf=70)
    assert [(r["kind"], r["value"]) for r in out.table.to_pylist()] == [
        ("ip", "1.10.209.143"), ("domain", "bad-domain.example"), ("domain", "c2.bad-domain.example")]
    assert out.skipped == 1  # the URL on a host that is not itself bad


def test_a_team_list_in_the_windows_ansi_code_page() -> None:
    # Excel's plain "CSV" on a Western European Windows is Windows-1252: one accented description refused the whole
    # feed (a bare UnicodeDecodeError from the CSV reader; "not UTF-8 text" for a plain list with such a comment)
    body = "value,type,description\n198.51.100.7,ip,Serveur C2 signalé par le CERT\n".encode("cp1252")
    assert [(r["value"], r["description"]) for r in load(body, "auto", conf=70).table.to_pylist()] == [
        ("198.51.100.7", "Serveur C2 signalé par le CERT")]
    assert _rows("# Liste noire – mise à jour\n198.51.100.7\n".encode("cp1252")) == [("ip", "198.51.100.7")]
    with pytest.raises(FeedError, match="not UTF-8"):  # bytes that are no text stay refused
        load(bytes(range(256)), "plain", conf=70)
