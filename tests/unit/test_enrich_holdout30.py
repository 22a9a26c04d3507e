"""Holdout sweep round 30: headerless CSV feeds (Bambenek Consulting's C2 master feeds); delimited text lists.

Bambenek's feeds (``c2-dommasterlist.txt``, ``c2-ipmasterlist.txt``, ``dga-feed.txt``) are CSV without a header,
under ``##`` comment lines: ``indicator,description,time,manual page``. Samples: certtools/intelmq's parser test
files (see tests/cases/enrich_feeds/SOURCE.md). Three things went wrong with them: a feed of one row (the domain
sample; a short list on a quiet day) was refused (Arrow's reader counts no columns in one line without a line
end), the manual page's URL was each indicator's label, and a row whose description holds unquoted commas (the
necurs row) was rejected, its IP lost.

Text lists whose lines are tab- or ``|``-separated fields with the indicator not first: DataPlane.org's reports
(``ASN  |  ASname  |  saddr  |  utc  |  category``) and netlab 360's DGA list (``family<TAB>domain<TAB>start<TAB>end``)
loaded nothing (every line skipped: its first token, an AS number or a family, is no IOC).
"""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pytest

from secpipe.transforms.enrich.intel.loaders import load

CASES = Path(__file__).parent.parent / "cases" / "enrich_feeds"


def _rows(name: str) -> tuple[list[dict], int]:
    out = load((CASES / name).read_bytes(), "auto", conf=80, labels=["bambenek"])
    return out.table.select(["kind", "value", "labels", "description"]).to_pylist(), out.skipped


def test_a_bambenek_feed_of_one_row_loads_it_with_its_description() -> None:
    rows, skipped = _rows("bambenek-c2-dommasterlist.txt")
    assert rows == [{"kind": "domain", "value": "sfkh21okrrnlu.com", "labels": ["bambenek"],
                     "description": "Domain used by shiotob/urlzone/bebloh"}]
    assert skipped == 0


def test_a_row_whose_description_holds_commas_keeps_its_leading_indicator() -> None:
    rows, skipped = _rows("bambenek-c2-ipmasterlist.txt")
    assert [(r["kind"], r["value"]) for r in rows] == [("ip", "213.247.47.190"), ("ip", "64.183.187.20")]
    assert rows[0]["description"] == "IP used by shiotob/urlzone/bebloh C&C"
    assert all(r["labels"] == ["bambenek"] for r in rows)  # never the manual page's URL
    assert skipped == 0


@pytest.mark.parametrize("body", [b"198.51.100.7,443\n", b"198.51.100.7,443"])
def test_a_headerless_csv_of_one_row_is_that_indicator(body: bytes) -> None:
    out = load(body, "abusech_csv", conf=70)
    assert out.table.column("value").to_pylist() == ["198.51.100.7"]


def test_a_headerless_family_column_is_still_the_label() -> None:
    body = b"198.51.100.7,443,2021-01-01 10:00:00,Dridex\n203.0.113.9,8080,2021-01-02 10:00:00,Cobalt Strike\n"
    out = load(body, "abusech_csv", conf=70)
    assert out.table.column("labels").to_pylist() == [["Dridex"], ["Cobalt Strike"]]
    assert out.table.column("description").to_pylist() == [None, None]


def test_dataplane_reports_give_the_source_address_of_each_entry() -> None:
    out = load((CASES / "dataplane-sshpwauth.txt").read_bytes(), "auto", conf=60)
    assert out.table.select(["kind", "value"]).to_pylist() == [
        {"kind": "ip", "value": "170.239.104.183"}, {"kind": "ip", "value": "117.21.224.121"},
        {"kind": "ip", "value": "1.2.3.4"}]  # the last one's AS name holds "|" itself
    assert out.skipped == 0


def test_netlab_dga_list_gives_its_domains_not_the_family_names() -> None:
    out = load((CASES / "netlab360-dga.txt").read_bytes(), "auto", conf=60)
    assert out.table.column("value").to_pylist() == ["difficultdress.net", "example.com"] and out.skipped == 0


def test_space_separated_lines_still_take_their_first_token_only() -> None:
    body = (b"ExitNode 0011BD2485AD45D984EC4159C88FC066E5E3300E\nPublished 2024-01-01 10:00:00\n"
            b"ExitAddress 198.51.100.7 2024-01-01 10:05:00\n")
    assert load(body, "plain", conf=60).table.select(["kind", "value"]).to_pylist() == [
        {"kind": "ip", "value": "198.51.100.7"}]


def test_dns_answers_and_the_proxies_of_a_request_are_matched(tmp_path: Path) -> None:
    """An A record's address in a DNS response (``answers[].rdata``: dnsmasq's ``reply NAME is ADDR``) and the
    proxies of an X-Forwarded-For list (``src_endpoint.intermediate_ips``) are matched by default: a name resolving to
    a listed C2 address, a request relayed by a listed proxy. The lines: round 28's dnsmasq sample (Wazuh decoder
    examples) and Elastic's nginx access lines with address lists (round 26)."""
    from secpipe import formats
    from secpipe.transforms.enrich.intel.stage import ThreatIntelStage
    from secpipe.transforms.enrich.options import ThreatIntelOptions

    feed = tmp_path / "team.json"
    feed.write_text(json.dumps([{"value": "35.162.12.228"}, {"value": "204.246.1.1"}]))
    opts = ThreatIntelOptions.model_validate({"feeds": [{"name": "team", "path": str(feed)}],
                                              "background_refresh": False})
    stage = ThreatIntelStage("intel", opts)
    seen = []
    for case in ("dns_syslog28/queries.log", "holdout/elastic-nginx-access-with-host.log"):
        data = (CASES.parent / case).read_bytes()
        fmt = formats.detect(data[:65536])
        assert fmt is not None
        for batch in fmt.decode(data, case).batches:
            for out in stage.process(batch):
                seen += [(o["name"], o["value"], o["type_id"]) for r in out.to_pylist()
                         for o in r.get("observables") or [] if r["class_uid"] != 2004]
    assert sorted(set(seen)) == [("answers[].rdata", "35.162.12.228", 2),
                                 ("src_endpoint.intermediate_ips[]", "204.246.1.1", 2)]


def test_internationalized_names_match_in_either_form(tmp_path: Path) -> None:
    """A feed may write an internationalized name in Unicode (an analyst's MISP attribute, a STIX ``domain-name``:
    RFC 5890 labels) while resolvers and proxies log its A-labels, and the other way round. Both sides are compared
    as A-labels: IANA's IDN test names (``пример.испытание`` = ``xn--e1afmkfd.xn--80akhbyknj4f``, ``例子.测试`` =
    ``xn--fsqu00a.xn--0zwm56d``) and RFC 3492's ``bücher`` (``xn--bcher-kva``). Unicode names were skipped as no IOC,
    so none of these matched."""
    from secpipe.formats.base import to_batch
    from secpipe.transforms.enrich.intel.stage import ThreatIntelStage
    from secpipe.transforms.enrich.options import ThreatIntelOptions

    out = load("пример.испытание\nhttp://例子.测试/login\nxn--bcher-kva.example\n".encode(), "plain", conf=70)
    assert out.table.select(["kind", "value"]).to_pylist() == [
        {"kind": "domain", "value": "xn--e1afmkfd.xn--80akhbyknj4f"},
        {"kind": "url", "value": "http://xn--fsqu00a.xn--0zwm56d/login"},
        {"kind": "domain", "value": "xn--bcher-kva.example"}] and out.skipped == 0
    stix = {"type": "bundle", "id": "bundle--1", "objects": [{
        "type": "indicator", "spec_version": "2.1", "id": "indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f",
        "created": "2024-01-01T00:00:00.000Z", "modified": "2024-01-01T00:00:00.000Z", "pattern_type": "stix",
        "pattern": "[domain-name:value = 'пример.испытание']", "valid_from": "2024-01-01T00:00:00Z"}]}
    assert load(json.dumps(stix).encode(), "stix", conf=70).table.column("value").to_pylist() == [
        "xn--e1afmkfd.xn--80akhbyknj4f"]

    feed = tmp_path / "idn.txt"
    feed.write_text("пример.испытание\nhttp://例子.测试/login\nxn--bcher-kva.example\n", encoding="utf-8")
    opts = ThreatIntelOptions.model_validate({"feeds": [{"name": "idn", "path": str(feed), "format": "plain"}],
                                              "background_refresh": False})
    stage = ThreatIntelStage("intel", opts)
    dns = to_batch("dns_activity", {
        "class_uid": pa.array([4003] * 3, pa.int32()), "time": pa.array([1_700_000_000_000] * 3, pa.int64()),
        "metadata.uid": pa.array(["d0", "d1", "d2"]),
        "query.hostname": pa.array(["www.xn--e1afmkfd.xn--80akhbyknj4f", "Bücher.example", "example.org"])})
    web = to_batch("http_activity", {
        "class_uid": pa.array([4002], pa.int32()), "time": pa.array([1_700_000_000_000], pa.int64()),
        "metadata.uid": pa.array(["h0"]), "http_request.url.url_string": pa.array(["http://例子.测试/login"])})
    got = [[o["name"] for o in r.get("observables") or []]
           for b in (dns, web) for r in stage.process(b)[0].to_pylist()]
    assert got == [["query.hostname"], ["query.hostname"], [], ["http_request.url.url_string"]]


EICAR_SHA256 = "275a021bbfb6489e54d471899f7db9d1663fc695ec2fe2a2c4538aabf651fd0f"
EICAR_MD5 = "44d88612fea8a8f36de82e1278abb02f"


def test_artifact_hashes_are_the_hashes_of_a_payload_and_match_files(tmp_path: Path) -> None:
    """STIX 2.1's ``artifact`` (6.1) is a payload's bytes; its ``hashes`` identify that content as a file's do, and
    producers that share samples as artifacts write ``[artifact:hashes.'SHA-256' = '...']``. Those indicators were
    skipped (only ``file:hashes`` loaded). The hashes: EICAR's anti-malware test file, as eicar.org publishes them."""
    from secpipe.formats.base import to_batch
    from secpipe.transforms.enrich.intel.stage import ThreatIntelStage
    from secpipe.transforms.enrich.intel.stix_pattern import stix_pattern_terms
    from secpipe.transforms.enrich.options import ThreatIntelOptions

    both = f"[artifact:hashes.'SHA-256' = '{EICAR_SHA256}' AND artifact:hashes.MD5 = '{EICAR_MD5}']"
    assert stix_pattern_terms(both) == [("hash", EICAR_SHA256), ("hash", EICAR_MD5)]
    assert stix_pattern_terms(f"[artifact:hashes.MD5 = '{EICAR_MD5}' AND artifact:mime_type = 'text/plain']") is None
    bundle = {"type": "bundle", "id": "bundle--1", "objects": [{
        "type": "indicator", "spec_version": "2.1", "id": "indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f",
        "created": "2024-01-01T00:00:00.000Z", "modified": "2024-01-01T00:00:00.000Z", "pattern_type": "stix",
        "name": "EICAR test file", "pattern": both, "valid_from": "2024-01-01T00:00:00Z"}]}
    feed = tmp_path / "bundle.json"
    feed.write_text(json.dumps(bundle))
    opts = ThreatIntelOptions.model_validate({"feeds": [{"name": "samples", "path": str(feed)}],
                                              "background_refresh": False})
    stage = ThreatIntelStage("intel", opts)
    files = to_batch("file_activity", {
        "class_uid": pa.array([1001], pa.int32()), "time": pa.array([1_700_000_000_000], pa.int64()),
        "metadata.uid": pa.array(["f0"]), "file.hashes": pa.array([[{"algorithm_id": 1, "value": EICAR_MD5.upper()}]])})
    row = stage.process(files)[0].to_pylist()[0]
    assert [(o["name"], o["value"]) for o in row["observables"]] == [("file.hashes[].value", EICAR_MD5)]


@pytest.mark.parametrize(("body", "fmt"), [
    (b"{}", "stix"), (b"{}", "auto"),  # the empty page of oasis-open/cti-taxii-server (medallion's create_resource)
    (b'{"more": false}', "auto"), (b'{"more": false, "objects": []}', "auto"),
    (b'{"type": "bundle", "id": "bundle--44af6c39-c09b-49c5-9de2-394224b04982", "objects": []}', "stix"),
    (b'{"response": []}', "misp"), (b'{"response": []}', "auto"),  # a MISP restSearch (last: 1d) with no new event
])
def test_a_feed_that_lists_nothing_now_is_an_empty_feed_not_a_refresh_error(tmp_path: Path, body: bytes,
                                                                             fmt: str) -> None:
    """A TAXII 2.1 collection or a MISP search with nothing (new) in it answers an empty document: the feed is
    empty, with no error. It was 'the body parsed to no indicators' (or 'no indicator object (None x1)'), so a
    feed that started empty failed startup under on_error: fail."""
    from secpipe.transforms.enrich.intel.feeds import Feed
    from secpipe.transforms.enrich.options import FeedOptions

    path = tmp_path / "page.json"
    path.write_bytes(body)
    feed = Feed(FeedOptions(name="taxii", path=str(path), format=fmt))
    feed.refresh(0)
    assert feed.state.error is None
    assert feed.state.table is not None and feed.state.table.num_rows == 0


def test_a_json_document_of_no_known_shape_is_still_refused(tmp_path: Path) -> None:
    from secpipe.transforms.enrich.intel.feeds import Feed
    from secpipe.transforms.enrich.options import FeedOptions

    path = tmp_path / "error.json"
    path.write_bytes(b'{"title": "Unauthorized", "http_status": "401"}')  # a TAXII error message
    for fmt in ("auto", "stix"):
        feed = Feed(FeedOptions(name="taxii", path=str(path), format=fmt))
        feed.refresh(0)
        assert feed.state.error and feed.state.table is None


def test_a_list_saved_with_semicolons_gives_its_indicators() -> None:
    """Excel's "CSV" where the list separator is ';' (de-DE, fr-FR: as round 27's asset inventory) writes ``IOC;note``;
    those lines were skipped (no whitespace before the ';', so neither a note nor a first token)."""
    body = "Indikator;Kommentar\r\n198.51.100.7;Botnetz C2\r\nevil.example;Phishing (Zahlungsdienst)\r\n".encode("cp1252")
    out = load(body, "auto", conf=70)
    assert out.table.select(["kind", "value"]).to_pylist() == [
        {"kind": "ip", "value": "198.51.100.7"}, {"kind": "domain", "value": "evil.example"}]
    assert out.skipped == 1  # the header


def test_a_hosts_file_gives_its_names_never_its_sink_or_loopback_addresses() -> None:
    """hpHosts' hosts file (tab-separated: ``127.0.0.1<TAB>localhost #IPv4``, ``::1<TAB>localhost # IPv6``, then
    ``127.0.0.1<TAB>bad.host``): the names past the sink address are the indicators, never 127.0.0.1 or ::1 (which
    every local health check would then match)."""
    out = load((CASES / "hphosts-hosts.txt").read_bytes(), "auto", conf=60)
    assert out.table.select(["kind", "value"]).to_pylist() == [
        {"kind": "domain", "value": "example.com"}, {"kind": "domain", "value": "example.invalid"}]
    assert out.skipped == 2  # the localhost lines


def test_the_abuseipdb_blacklist_answer_loads_with_its_confidence_scores() -> None:
    """AbuseIPDB APIv2 ``GET /api/v2/blacklist`` (Accept: application/json): ``{"meta": {"generatedAt"}, "data":
    [{"ipAddress", "countryCode", "abuseConfidenceScore", "lastReportedAt"}]}`` (docs.abuseipdb.com, the blacklist
    endpoint's example entries). It was refused ('no `value`'): the address is ``ipAddress``."""
    answer = {"meta": {"generatedAt": "2020-09-24T19:54:11+00:00"}, "data": [
        {"ipAddress": "5.188.10.179", "countryCode": "RU", "abuseConfidenceScore": 100,
         "lastReportedAt": "2020-09-24T19:17:02+00:00"},
        {"ipAddress": "185.222.209.14", "countryCode": "NL", "abuseConfidenceScore": 75,
         "lastReportedAt": "2020-09-24T19:17:02+00:00"}]}
    out = load(json.dumps(answer).encode(), "auto", conf=50)
    assert out.table.select(["kind", "value", "confidence"]).to_pylist() == [
        {"kind": "ip", "value": "5.188.10.179", "confidence": 100},
        {"kind": "ip", "value": "185.222.209.14", "confidence": 75}]


def test_a_recorded_future_risk_list_takes_each_rows_risk_as_its_confidence() -> None:
    """Recorded Future's risk lists (``Name,Risk,RiskString,EvidenceDetails``; Elastic's ti_recordedfuture test
    sample): ``Risk`` (0-99) is the row's own score; every row had the feed's one confidence."""
    out = load((CASES / "recordedfuture-ip-risklist.csv").read_bytes(), "auto", conf=50)
    assert out.table.select(["kind", "value", "confidence"]).to_pylist() == [
        {"kind": "ip", "value": "1.128.3.4", "confidence": 99},
        {"kind": "ip", "value": "2a02:cf40:add:4002:91f2:a9b2:e09a:6fc6", "confidence": 68}]


def _indicator(**kw: object) -> bytes:
    ind = {"type": "indicator", "spec_version": "2.1", "id": "indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f",
           "created": "2024-01-01T00:00:00.000Z", "modified": "2024-01-01T00:00:00.000Z", "pattern_type": "stix",
           "pattern": "[ipv4-addr:value = '198.51.100.7']", "valid_from": "2024-01-01T00:00:00Z", **kw}
    return json.dumps({"type": "bundle", "id": "bundle--44af6c39-c09b-49c5-9de2-394224b04982", "objects": [ind]}).encode()


@pytest.mark.parametrize(("given", "confidence"), [
    ("High", 85), ("Med", 50), ("Low", 15), ("None", 0),  # STIX 2.1 Appendix A.1's values for the scale's words
    ("85", 85), (150, 100), (-5, 0), (True, 70), ("unknown", 70)])
def test_an_odd_stix_confidence_is_read_or_defaulted_never_a_feed_error(given: object, confidence: int) -> None:
    """STIX's confidence is an integer 0-100; producers that write the None/Low/Med/High scale's word, a number as
    text or a value out of range refused the whole bundle (int('High'): ValueError) or kept 150."""
    out = load(_indicator(confidence=given), "stix", conf=70)
    assert out.table.column("confidence").to_pylist() == [confidence]


def test_an_indicators_kill_chain_phases_are_labels() -> None:
    """STIX 2.1 indicator ``kill_chain_phases`` (4.7: the spec's example phase of the Lockheed Martin kill chain)
    were dropped; they say where in an intrusion the indicator is seen."""
    phases = [{"kill_chain_name": "lockheed-martin-cyber-kill-chain", "phase_name": "reconnaissance"},
              {"kill_chain_name": "mitre-attack", "phase_name": "command-and-control"}]
    out = load(_indicator(indicator_types=["malicious-activity"], kill_chain_phases=phases), "stix", conf=70)
    assert out.table.column("labels").to_pylist() == [
        ["malicious-activity", "lockheed-martin-cyber-kill-chain:reconnaissance", "mitre-attack:command-and-control"]]


def test_what_an_indicator_indicates_names_its_matches(real: Path) -> None:
    """A bundle relates an indicator to the malware, actor or campaign it ``indicates`` (STIX 2.1 4.7.2): that name
    is what an analyst reads a match as, and it was dropped. The OASIS examples (threat-intel/oasis-cti-stix2-json-schemas):
    the Poison Ivy file hash, Operation Omega's indicator, APT1's (a threat actor, a tool) and Poison Ivy's report."""
    base = real / "threat-intel" / "oasis-cti-stix2-json-schemas"
    labels = [load((base / name).read_bytes(), "stix", conf=70).table.column("labels").to_pylist()
              for name in ("examples-stix2.0-history/malware-indicator-for-file-hash.json",
                           "examples/indicator-to-campaign-relationship.json")]
    assert labels == [[["malicious-activity", "Poison Ivy"]], [["malicious-activity", "Operation Omega"]]]
    apt1 = load((base / "examples/threat-reports/apt1.json").read_bytes(), "stix", conf=70).table
    named = {v: ls for v, ls in zip(apt1.column("value").to_pylist(), apt1.column("labels").to_pylist(), strict=True)}
    assert any("Ugly Gorilla" in ls for ls in named.values())
    assert any("HUC Packet Transmit Tool (HTRAN)" in ls for ls in named.values())


def test_benign_rows_of_a_csv_export_are_no_indicators() -> None:
    """GreyNoise's fields (docs.greynoise.io, GNQL: ``ip``, ``classification`` malicious/suspicious/unknown/benign,
    ``actor`` "the benign actor the device has been associated with, such as Shodan, Censys, GoogleBot") exported as
    CSV: a benign row (a search engine's or Shodan's scanner) is skipped and counted, as the JSON path and Maltiverse's
    ``whitelist`` already were; it was loaded as an indicator, so Googlebot's crawls would match."""
    body = (b"ip,classification,first_seen,last_seen,actor,tags\n"
            b'198.51.100.7,malicious,2024-01-01,2024-01-02,unknown,"SSH Bruteforcer,Telnet Scanner"\n'
            b'203.0.113.9,benign,2024-01-01,2024-01-02,Shodan.io,"Shodan.io,Web Crawler"\n'
            b"192.0.2.5,unknown,2024-01-01,2024-01-02,unknown,\n")
    out = load(body, "auto", conf=70)
    assert out.table.column("value").to_pylist() == ["198.51.100.7", "192.0.2.5"] and out.skipped == 1


def _paged_server(pages: dict[str, dict], param: str, seen: list[tuple[str, str]]):  # type: ignore[no-untyped-def]
    """A local HTTP server answering ``pages[<the request's query parameter param>]``; ``seen`` records (that
    parameter, the Accept header) of each request."""
    import http.server
    import threading
    import urllib.parse

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - the http.server hook
            query = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(self.path).query))
            seen.append((query.get(param, ""), self.headers.get("Accept", "")))
            body = json.dumps(pages[query.get(param, "")]).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/taxii+json;version=2.1")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def test_a_taxii_collection_is_read_past_its_first_page() -> None:
    """TAXII 2.1 Get Objects answers one page at a time (3.7 envelope: ``more`` and ``next``; 3.4 the ``next`` URL
    parameter asks for the following page), as the reference server medallion pages by its configured limit. Only
    the first page was loaded: a collection larger than the page limit silently lost the rest. And a TAXII server
    is asked for its media type (5.4) when the feed is ``format: stix``."""
    from secpipe.transforms.enrich.intel.feeds import Feed
    from secpipe.transforms.enrich.options import FeedOptions

    def ind(n: int, ip: str) -> dict:
        return json.loads(_indicator(id=f"indicator--00000000-0000-4000-8000-00000000000{n}",
                                     pattern=f"[ipv4-addr:value = '{ip}']"))["objects"][0]

    pages = {"": {"more": True, "next": "page-2", "objects": [ind(1, "198.51.100.7")]},
             "page-2": {"more": True, "next": "page-3", "objects": [ind(2, "203.0.113.9")]},
             "page-3": {"more": False, "objects": [ind(3, "192.0.2.5")]}}
    seen: list[tuple[str, str]] = []
    server = _paged_server(pages, "next", seen)
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/api1/collections/91a7b528/objects/?added_after=2024-01-01T00:00:00Z"
        feed = Feed(FeedOptions(name="taxii", url=url, format="stix"))
        assert feed.refresh(0) and feed.state.error is None
    finally:
        server.shutdown()
    assert feed.state.table is not None
    assert sorted(feed.state.table.column("value").to_pylist()) == ["192.0.2.5", "198.51.100.7", "203.0.113.9"]
    assert [n for n, _a in seen] == ["", "page-2", "page-3"]
    assert all(a.startswith("application/taxii+json;version=2.1") for _n, a in seen)


def test_an_otx_subscribed_pulses_feed_is_read_past_its_first_page() -> None:
    """AlienVault OTX's API pages its answers (``/api/v1/pulses/subscribed``: ``{"count", "next": "<url of the next
    page>", "results": [pulse, ...]}``, as the OTX SDK's ``walkapi`` follows them); only the first page's pulses were
    loaded. The pulses: the OTX pulse layout of round 24's sample (name, tags, indicators with OTX types)."""
    from secpipe.transforms.enrich.intel.feeds import Feed
    from secpipe.transforms.enrich.options import FeedOptions

    def pulse(n: int, ip: str) -> dict:
        return {"id": f"5f0c{n}", "name": f"pulse {n}", "tags": ["c2"], "malware_families": [],
                "indicators": [{"indicator": ip, "type": "IPv4", "is_active": 1}]}

    seen: list[tuple[str, str]] = []
    pages: dict[str, dict] = {}
    server = _paged_server(pages, "page", seen)
    base = f"http://127.0.0.1:{server.server_address[1]}/api/v1/pulses/subscribed"
    pages.update({"": {"count": 3, "next": f"{base}?page=2", "results": [pulse(1, "198.51.100.7")]},
                  "2": {"count": 3, "next": f"{base}?page=3", "results": [pulse(2, "203.0.113.9")]},
                  # a link off the feed's host is not followed: the feed's headers carry its API key
                  "3": {"count": 3, "next": "http://198.51.100.1/collect", "results": [pulse(3, "192.0.2.5")]}})
    try:
        feed = Feed(FeedOptions(name="otx", url=base, headers={"X-OTX-API-KEY": "k"}, timeout=2))
        assert feed.refresh(0) and feed.state.error is None
    finally:
        server.shutdown()
    assert feed.state.table is not None
    assert sorted(feed.state.table.column("value").to_pylist()) == ["192.0.2.5", "198.51.100.7", "203.0.113.9"]
    assert [n for n, _a in seen] == ["", "2", "3"]


@pytest.mark.parametrize("body", [
    b"- value: 198.51.100.7\n  kind: ip\n  labels: [c2]\n",  # the team list layout of the enrich options' docs
    b"# SOC list\nindicators:\n  - value: 198.51.100.7\n    labels: [c2]\n",
    b"---\n- {value: 198.51.100.7, labels: [c2]}\n"])
def test_a_yaml_team_list_served_without_its_extension_is_read_as_yaml(body: bytes) -> None:
    """A YAML team list fetched from a URL (or a path) without ``.yaml``/``.yml`` was sniffed as a plain list: every
    line skipped, no indicator and no error."""
    out = load(body, "auto", conf=70)
    assert out.table.select(["kind", "value", "labels"]).to_pylist() == [
        {"kind": "ip", "value": "198.51.100.7", "labels": ["c2"]}]


def test_the_evidence_of_a_firewall_finding_is_matched(tmp_path: Path) -> None:
    """A Detection Finding keeps what it saw in ``evidences[]`` (a FortiGate UTM web filter block or app-control hit:
    the connection, the host, the URL; a GuardDuty finding's remote address; a Falco alert's connection). Its
    addresses, hosts, URLs and hashes were not matched at all. The lines: elastic/integrations' fortinet_fortigate
    test log, as round 28's syslog test reads them."""
    from secpipe import formats
    from secpipe.transforms.enrich.intel.stage import ThreatIntelStage
    from secpipe.transforms.enrich.options import ThreatIntelOptions

    lines = (Path(__file__).parents[1] / "cases" / "holdout" / "elastic-fortinet-utm.log").read_text().splitlines()[2:]
    feed = tmp_path / "team.json"
    feed.write_text(json.dumps([{"value": "67.43.156.14"}, {"value": "elastic.co"}]))
    stage = ThreatIntelStage("intel", ThreatIntelOptions.model_validate(
        {"feeds": [{"name": "team", "path": str(feed)}], "background_refresh": False}))
    got = []
    for batch in formats.get("syslog").decode("\n".join(lines).encode(), "test").batches:
        out = stage.process(batch)
        assert len(out) == 1  # the findings are enriched; no finding is made of a finding
        got += [sorted((o["name"], o["value"]) for o in r.get("observables") or []) for r in out[0].to_pylist()]
    assert got == [[("evidences[].dst_endpoint.hostname", "elastic.co")], [("evidences[].dst_endpoint.ip", "67.43.156.14")]]
