"""Holdout sweep round 26: threat-intel feeds (see tests/cases/enrich_feeds/SOURCE.md, "Round 26 (feeds)").

- CrowdSec decisions (a LAPI ``GET /v1/decisions`` answer quoted in Apache James' CrowdSec README, a
  decisions stream from pycrowdsec's tests): a decision's ``duration`` is the Go duration it has left
  when LAPI answered (negative once expired), so it expires at fetch time + duration; ``until``
  (CrowdSec's Decision model) is an absolute end; ``simulated`` decisions are never enforced.
- STIX qualifiers as the OASIS reference matcher reads them: ``WITHIN n SECONDS`` holds for one
  observation (it was refused with every other qualifier), ``REPEATS n`` needs n, ``START``/``STOP``
  bounds the observation time.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pyarrow as pa
import pytest

from secpipe.formats.base import to_batch
from secpipe.transforms.enrich.intel.loaders import load, sniff, stix_pattern_terms
from secpipe.transforms.enrich.intel.stage import ThreatIntelStage
from secpipe.transforms.enrich.intel.vendor import go_duration_ms
from secpipe.transforms.enrich.options import ThreatIntelOptions

CASES = Path(__file__).resolve().parents[1] / "cases" / "enrich_feeds"
T0 = 1_790_000_000.0
T0_MS = int(T0 * 1000)


def _stage(path: Path, clock: float = T0) -> ThreatIntelStage:
    opts = ThreatIntelOptions.model_validate({"feeds": [{"name": path.stem, "path": str(path)}],
                                              "background_refresh": False})
    return ThreatIntelStage("intel", opts, clock=lambda: clock)


def _src_ips(*ips: str) -> pa.RecordBatch:
    n = len(ips)
    return to_batch("network_activity", {
        "class_uid": pa.array([4001] * n, pa.int32()), "time": pa.array([T0_MS] * n, pa.int64()),
        "metadata.uid": pa.array([f"n{i}" for i in range(n)]), "src_endpoint.ip": pa.array(list(ips))})


def test_go_durations_as_crowdsec_writes_them() -> None:
    assert go_duration_ms("3h59m50.276482904s") == ((3 * 60 + 59) * 60 + 50) * 1000 + 276
    assert go_duration_ms("-37m7.335622172s") == -(37 * 60 + 7) * 1000 - 335
    assert go_duration_ms("167h59m") == (167 * 60 + 59) * 60_000
    assert go_duration_ms("0") == 0
    assert go_duration_ms("4 hours") is None and go_duration_ms("1d") is None and go_duration_ms(None) is None


def test_a_lapi_decision_expires_when_its_remaining_duration_runs_out() -> None:
    body = (CASES / "crowdsec-lapi-decisions.json").read_bytes()
    assert sniff(body) == "json"
    row = load(body, "auto", conf=60, fetched_ms=T0_MS).table.to_pylist()[0]
    assert (row["kind"], row["value"], row["labels"], row["ref"]) == ("ip", "1.2.3.4", ["manual 'ban' from 'localhost'"], "4")
    assert row["valid_until"] == T0_MS + 14_390_276
    # without the fetch time the relative duration cannot be placed: no expiry (as before)
    assert load(body, "auto", conf=60).table.column("valid_until").to_pylist() == [None]


def test_a_decisions_file_counts_the_duration_from_when_it_was_written(tmp_path: Path) -> None:
    feed = tmp_path / "crowdsec.json"
    feed.write_bytes((CASES / "crowdsec-lapi-decisions.json").read_bytes())
    os.utime(feed, (T0, T0))
    hit = _stage(feed, clock=T0 + 3600).process(_src_ips("1.2.3.4", "1.2.3.5"))[0].to_pylist()
    assert [r["enrichments"] is not None for r in hit] == [True, False]
    later = _stage(feed, clock=T0 + 4 * 3600).process(_src_ips("1.2.3.4"))[0].to_pylist()
    assert later[0].get("enrichments") is None  # 3h59m50s after the file was written, the ban is over


def test_a_stream_decision_that_had_expired_when_fetched_never_matches() -> None:
    body = (CASES / "crowdsec-stream-expired.json").read_bytes()
    out = load(body, "auto", conf=60, fetched_ms=T0_MS)
    rows = out.table.to_pylist()
    # only "new" decisions are indicators; this one's duration was already negative
    assert [(r["value"], r["valid_until"]) for r in rows] == [("18.22.10.20", T0_MS - 2_227_335)]


def test_until_and_simulated_fields_of_the_decision_model() -> None:
    # crowdsecurity/crowdsec pkg/models/decision.go: `until` "the date until the decisions must be active",
    # `simulated` "true if the decision result from a scenario in simulation mode" (never enforced)
    body = (b'[{"duration": "3h59m", "origin": "crowdsec", "scenario": "crowdsecurity/ssh-bf", "scope": "Ip",'
            b' "type": "ban", "value": "198.51.100.7", "until": "2026-09-25T14:00:00Z"},'
            b' {"duration": "3h59m", "origin": "crowdsec", "scenario": "crowdsecurity/ssh-bf", "scope": "Ip",'
            b' "type": "ban", "value": "198.51.100.8", "simulated": true}]')
    out = load(body, "json", conf=60, fetched_ms=T0_MS)
    assert [(r["value"], r["valid_until"]) for r in out.table.to_pylist()] == [("198.51.100.7", 1_790_344_800_000)]
    assert out.skipped == 1


# Verdicts of the OASIS reference matcher (oasis-open/cti-pattern-matcher, stix2matcher/test/v21/
# test_temporal_qualifiers.py) on one observation, with its person names swapped for addresses: WITHIN holds
# for a single observation ("[person:name = 'bob'] WITHIN .0001 SECONDS" matches), WITHIN 0 is an error,
# "WITHIN 1 second" and a negative window do not parse, REPEATS n needs n observations, START/STOP bounds the
# observation time.
@pytest.mark.parametrize(("pattern", "expected"), [
    ("[ipv4-addr:value = '198.51.100.2'] WITHIN 1 SECONDS", [("ip", "198.51.100.2")]),
    ("[ipv4-addr:value = '198.51.100.2'] WITHIN .0001 SECONDS", [("ip", "198.51.100.2")]),
    ("([ipv4-addr:value = '198.51.100.1'] OR [domain-name:value = 'darlene.example']) WITHIN 1 SECONDS",
     [("ip", "198.51.100.1"), ("domain", "darlene.example")]),
    # the qualifier binds to the observation before it; the AND still needs two observations
    ("[ipv4-addr:value = '198.51.100.1'] AND [ipv4-addr:value = '198.51.100.3'] WITHIN 1 SECONDS", None),
    ("([ipv4-addr:value = '198.51.100.1'] AND [ipv4-addr:value = '198.51.100.3']) WITHIN 6 SECONDS", None),
    ("[ipv4-addr:value = '198.51.100.1'] WITHIN 0 SECONDS", None),
    ("[ipv4-addr:value = '198.51.100.1'] WITHIN 1 second", None),
    ("[ipv4-addr:value = '198.51.100.1'] WITHIN -123.367 SECONDS", None),
    ("[ipv4-addr:value = '198.51.100.1'] REPEATS 2 TIMES", None),
    ("[ipv4-addr:value = '198.51.100.1'] REPEATS 1 TIMES", [("ip", "198.51.100.1")]),
    ("[ipv4-addr:value = '198.51.100.2'] START t'1994-11-29T13:37:57Z' STOP t'1994-11-29T13:37:58Z'", None),
    ("[ipv4-addr:value = '198.51.100.2'] START t'1994-11-29T13:37:58Z'", None),
    # the STIX 2.1 patterning examples' time-window pattern: FOLLOWEDBY and MATCHES, never one value
    ("[process:command_line MATCHES '^.+>-add GlobalSign.cer -c -s -r localMachine Root$'] FOLLOWEDBY "
     "[process:command_line MATCHES'^.+>-add GlobalSign.cer -c -s -r localMachineTrustedPublisher$'] WITHIN 300 SECONDS",
     None),
])
def test_stix_qualifiers_as_the_reference_matcher_reads_them(pattern: str, expected: list[tuple[str, str]] | None) -> None:
    assert stix_pattern_terms(pattern) == expected


def test_an_indicator_with_a_within_window_matches_the_one_event(tmp_path: Path) -> None:
    bundle = {"type": "bundle", "id": "bundle--1", "objects": [
        {"type": "indicator", "spec_version": "2.1", "id": "indicator--1", "created": "2026-01-01T00:00:00Z",
         "modified": "2026-01-01T00:00:00Z", "pattern_type": "stix", "valid_from": "2026-01-01T00:00:00Z",
         "pattern": "[ipv4-addr:value = '198.51.100.2'] WITHIN 300 SECONDS"}]}
    feed = tmp_path / "within.json"
    feed.write_text(json.dumps(bundle))
    rows = _stage(feed).process(_src_ips("198.51.100.2", "198.51.100.3"))[0].to_pylist()
    assert [r["enrichments"] is not None for r in rows] == [True, False]


# Authorization schemes issuers document for their API tokens (RFC 7235 token68 credentials), each line as the
# issuer's documentation shows the header (example values); all passed unredacted before (the ApiKey one only
# as a generic secret when its base64 happened to pass the entropy test).
AUTH_SCHEMES = {
    # Splunk HEC docs: "Authorization: Splunk <hec_token>", a GUID
    "splunk": ('curl -H "Authorization: Splunk 12345678-1234-1234-1234-1234567890AB" '
               "https://hec.example.com:8088/services/collector/event -d '{\"event\": \"hello world\"}'",
               "12345678-1234-1234-1234-1234567890AB"),
    # Elasticsearch docs: "Authorization: ApiKey <api-key>", base64 of id:api_key
    "elastic": ('curl -H "Authorization: ApiKey VnVhQ2ZHY0JDZGJrUW0tZTVhT3g6dWkybHAyYXhUTm1zeWFrdzl0dk5udw==" '
                "http://localhost:9200/_cluster/health", "VnVhQ2ZHY0JDZGJrUW0tZTVhT3g6dWkybHAyYXhUTm1zeWFrdzl0dk5udw=="),
    # Django REST framework's TokenAuthentication docs
    "drf": ("curl -X GET http://127.0.0.1:8000/api/example/ -H 'Authorization: Token 9944b09199c62bcf9418ad846dd0e4bbdfc6ee4b'",
            "9944b09199c62bcf9418ad846dd0e4bbdfc6ee4b"),
    # PagerDuty REST API v2: "Authorization: Token token=<key>"
    "pagerduty": ('curl -H "Authorization: Token token=y_NbAkKc66ryYTWUXYEu" https://api.pagerduty.com/users',
                  "y_NbAkKc66ryYTWUXYEu"),
    # Discord API reference: "Authorization: Bot <token>"
    "discord": ("Authorization: Bot MTk4NjIyNDgzNDcxOTI1MjQ4.Cl2FMQ.ZnCjm1XVW7vRze4b7Cq4se7kKWs",
                "MTk4NjIyNDgzNDcxOTI1MjQ4.Cl2FMQ.ZnCjm1XVW7vRze4b7Cq4se7kKWs"),
    # Dynatrace API tokens (dt0c01.<public part>.<secret part>)
    "dynatrace": ("Authorization: Api-Token dt0c01.ST2EY72KQINMH574WMNVI7YN.G3DFPBEJYMODIDAEX454M7YWBUVEFOWKPRVMWFASS64NFH52PX6BNDVFFM572RZM",
                  "G3DFPBEJYMODIDAEX454M7YWBUVEFOWKPRVMWFASS64NFH52PX6BNDVFFM572RZM"),
    # Opsgenie API: "Authorization: GenieKey <api key>"
    "opsgenie": ("Authorization: GenieKey eb243592-faa2-4ba2-a551q-1afdf565c889", "eb243592-faa2-4ba2-a551q-1afdf565c889"),
    # Okta API tokens: "Authorization: SSWS <token>"
    "okta": ('{"headers":{"authorization":"SSWS 00QCjAl4MlV-WPXM4tY0HmjFx-vbGua1ZUxU3aAZy9","accept":"application/json"}}',
             "00QCjAl4MlV-WPXM4tY0HmjFx-vbGua1ZUxU3aAZy9"),
}


def test_issuer_authorization_schemes_are_redacted() -> None:
    from tests.unit.test_enrich_holdout25 import _redact

    msgs, raws, kinds = _redact([line for line, _ in AUTH_SCHEMES.values()])
    for (name, (_line, secret)), msg, raw in zip(AUTH_SCHEMES.items(), msgs, raws, strict=True):
        assert secret not in msg and secret not in raw, (name, msg)
    assert set(kinds) == {"http_auth"} and len(kinds) == len(AUTH_SCHEMES)
    assert msgs[0].startswith('curl -H "Authorization: Splunk [REDACTED:http_auth]" https://hec.example.com:8088/')
    # prose after the same words is no credential (no 16-character run with a digit)
    prose = ["authorization: token expired for session 42", "Authorization: Bot detected on /login",
             "WWW-Authenticate: Negotiate", "authorization=token missing"]
    assert _redact(prose)[2] == [] and _redact(prose)[0] == prose


def test_a_misp_malware_sample_attribute_is_its_md5() -> None:
    # MISP/misp-stix tests/test_events.py: the malware-sample attribute ("filename|md5" of the sample MISP holds;
    # the same file object's md5 attribute carries that MD5), to_ids set as MISP sets it for samples
    event = {"Event": {"uuid": "a6ef17d6-91cb-4a05-b10b-2f045daf874c", "info": "MISP-STIX-Converter test event",
                       "threat_level_id": "1", "Attribute": [
                           {"uuid": "2ea3a395-6b9f-4927-bc85-b33310f0b1bf", "type": "malware-sample",
                            "category": "Payload delivery", "value": "oui|8764605c6f388c89096b534d33565802",
                            "to_ids": True, "timestamp": "1603642920", "comment": "Malware Sample test attribute"}]}}
    out = load(json.dumps(event).encode(), "auto", conf=50)
    rows = out.table.to_pylist()
    assert out.skipped == 0
    assert [(r["kind"], r["value"], r["confidence"], r["ref"]) for r in rows] == [
        ("hash", "8764605c6f388c89096b534d33565802", 90, "2ea3a395-6b9f-4927-bc85-b33310f0b1bf")]


def test_indicators_match_the_other_ocsf_objects_that_hold_them(tmp_path: Path) -> None:
    # a process's executable (OCSF process.file.hashes), a TLS server name (tls.sni), an e-mail's links
    # (email.urls) and Reply-To (email.reply_to): where EDR, Zeek/Suricata TLS and mail logs put them
    feed = tmp_path / "team.json"
    feed.write_text(json.dumps([{"value": "8764605c6f388c89096b534d33565802"}, {"value": "c2.example.net"},
                                {"value": "http://198.51.100.23/gate.php"}, {"value": "reply@phish.example"}]))
    st = _stage(feed)
    proc = to_batch("process_activity", {
        "class_uid": pa.array([1007, 1007], pa.int32()), "time": pa.array([T0_MS] * 2, pa.int64()),
        "metadata.uid": pa.array(["p0", "p1"]), "process.file.hashes": pa.array(
            [[{"algorithm_id": 1, "value": "8764605C6F388C89096B534D33565802"}], [{"algorithm_id": 1, "value": "0" * 32}]])})
    tls = to_batch("network_activity", {
        "class_uid": pa.array([4001], pa.int32()), "time": pa.array([T0_MS], pa.int64()),
        "metadata.uid": pa.array(["t0"]), "tls.sni": pa.array(["C2.example.net"])})
    mail = to_batch("email_activity", {
        "class_uid": pa.array([4009], pa.int32()), "time": pa.array([T0_MS], pa.int64()),
        "metadata.uid": pa.array(["m0"]), "email.reply_to": pa.array(["Reply@phish.example"]),
        "email.urls": pa.array([[{"url_string": "http://198.51.100.23/gate.php"}]])})
    got = []
    for batch in (proc, tls, mail):
        for r in st.process(batch)[0].to_pylist():
            got.append(sorted((o["name"], o["value"]) for o in r.get("observables") or []))
    assert got == [[("process.file.hashes[].value", "8764605c6f388c89096b534d33565802")], [],
                   [("tls.sni", "c2.example.net")],
                   [("email.reply_to", "reply@phish.example"), ("email.urls[].url_string", "http://198.51.100.23/gate.php")]]


def test_a_geoip2_ip_risk_database_serves_the_anonymous_flags(tmp_path: Path) -> None:
    # records of MaxMind's GeoIP2-IP-Risk-Test source data (maxmind/MaxMind-DB): the IP Risk database carries the
    # anonymizer flags next to its risk score; it was refused as "no anonymous data"
    from secpipe.transforms.enrich.geoip import GeoIPStage
    from secpipe.transforms.enrich.options import GeoIPOptions
    from tests.unit.test_enrich_holdout24 import _ip_batch, _mmdb

    recs = {"6.1.2.1/32": {"ip_risk": 75, "is_anonymous": True, "is_anonymous_vpn": True,
                           "provider_name": "Test VPN Service", "anonymizer_confidence": 95,
                           "network_last_seen": "2025-01-15"},
            "11.1.2.3/32": {"is_anonymous": True, "is_public_proxy": True, "provider_name": "ProxyCorp",
                            "network_last_seen": "2025-01-10"},
            "21.1.2.4/32": {"ip_risk": 45, "is_anonymous": True, "is_residential_proxy": True,
                            "provider_name": "ResidentialNet"}}
    db = tmp_path / "GeoIP2-IP-Risk-Test.mmdb"
    _mmdb(db, "GeoIP2-IP-Risk", recs)
    st = GeoIPStage("geo", GeoIPOptions(anonymous=str(db)))
    rows = st.process(_ip_batch(["6.1.2.1", "11.1.2.3", "21.1.2.4", "198.51.100.1"]))[0].to_pylist()
    labels = [sorted(x for x in (r["metadata"].get("labels") or []) if x.startswith("geoip:")) for r in rows]
    assert labels == [["geoip:src_endpoint:anonymous", "geoip:src_endpoint:anonymous_vpn"],
                      ["geoip:src_endpoint:anonymous", "geoip:src_endpoint:public_proxy"],
                      ["geoip:src_endpoint:anonymous", "geoip:src_endpoint:residential_proxy"], []]


# MISP's CSV export of attributes, in the layout Citizen Lab publishes its MISP indicators with (README of
# citizenlab/malware-indicators: uuid, event_id, category, type, value, comment, to_ids, date; their data is
# CC BY-NC-SA, so the rows here are written with documentation-range values) and MISP's longer default with
# object and tag columns. It was refused whole at its first type with no kind ("whois-registrant-email"),
# and its to_ids=0 context rows were loaded as indicators.
MISP_CSV = b"""uuid,event_id,category,type,value,comment,to_ids,date
5bec8d6d-6cc8-4aef-b8c9-171c8064ab0b,140,Network activity,domain,"c2.example.org","",1,20181114
5bec8d7b-b658-4050-8b3c-45cc8064ab0b,140,Network activity,ip-dst,"198.51.100.23","exploit server",1,20190920
5d76c6d3-0658-494c-afb4-61de8064ab0b,140,Network activity,url,"http://c2.example.org/S5gDoN","",0,20190909
5d76c9b2-5654-4b42-a28f-61dc8064ab0b,140,Attribution,whois-registrant-email,"registrant@example.net","",0,20190909
5d76dfaf-574c-4253-b1f1-67578064ab0b,140,Artifacts dropped,sha256,"0d2ee9ade24163613772fdda201af985d852ab506e3d3e7f07fb3fa8b0853560","payload",1,20190909
5d892cd4-fba0-4c21-90d9-0b328064ab0b,140,Network activity,user-agent,"hots scot","user agent",1,20190923
"""
MISP_CSV_LONG = (b"uuid,event_id,category,type,value,comment,to_ids,date,object_relation,attribute_tag,object_uuid,"
                 b"object_name,object_meta-category\n"
                 b'"6a0e2f44-1b2c-4d5e-8f90-a1b2c3d4e5f6","7","Network activity","ip-dst|port","203.0.113.9|8443","",'
                 b'"1","20240102","","tlp:white,misp-galaxy:malpedia=""Cobalt Strike""","","",""\n'
                 b'"6a0e2f44-1b2c-4d5e-8f90-a1b2c3d4e5f7","7","Payload delivery","filename|md5",'
                 b'"invoice.doc|8764605c6f388c89096b534d33565802","","1","20240102","filename","","9b1e...","file","file"\n')


def test_misp_csv_exports_follow_the_to_ids_and_type_rules() -> None:
    assert sniff(MISP_CSV) == "csv"
    for fmt in ("auto", "csv", "misp"):
        out = load(MISP_CSV, fmt, conf=50, labels=["citizenlab"])
        rows = out.table.to_pylist()
        assert [(r["kind"], r["value"], r["ref"]) for r in rows] == [
            ("domain", "c2.example.org", "5bec8d6d-6cc8-4aef-b8c9-171c8064ab0b"),
            ("ip", "198.51.100.23", "5bec8d7b-b658-4050-8b3c-45cc8064ab0b"),
            ("hash", "0d2ee9ade24163613772fdda201af985d852ab506e3d3e7f07fb3fa8b0853560",
             "5d76dfaf-574c-4253-b1f1-67578064ab0b")], fmt
        assert out.skipped == 1 and rows[0]["labels"] == ["citizenlab"]  # the user-agent; to_ids=0 rows are context
    long = load(MISP_CSV_LONG, "auto", conf=50).table.to_pylist()
    assert [(r["kind"], r["value"], r["labels"]) for r in long] == [
        ("ip", "203.0.113.9", ["tlp:white", 'misp-galaxy:malpedia="Cobalt Strike"']),
        ("hash", "8764605c6f388c89096b534d33565802", None)]


def test_the_tor_exit_list_loads_its_exit_addresses_not_relay_fingerprints() -> None:
    # the Tor Project's exit list (TorDNSEL "exit-addresses", check.torproject.org/exit-addresses) in its
    # documented layout, documentation-range addresses: ExitNode <relay fingerprint>, Published, LastStatus,
    # then ExitAddress <ip> <date> <time> per address. Nothing loaded before (each line fell back to its
    # first token, the keyword).
    body = b"""@type tordnsel 1.0
Downloaded 2024-01-30 13:02:00
ExitNode FE39F07EBE7870DCE124AB30DF3ABD0700A43F75
Published 2024-01-30 00:10:50
LastStatus 2024-01-30 10:00:00
ExitAddress 198.51.100.231 2024-01-30 10:21:54
ExitAddress 198.51.100.232 2024-01-30 10:21:55
ExitNode 23B49521BDC4588C7CCF3C38E552504118326B66
Published 2024-01-30 05:44:30
LastStatus 2024-01-30 11:00:00
ExitAddress 2001:db8::64 2024-01-30 11:30:06
"""
    assert sniff(body) == "plain"
    out = load(body, "auto", conf=60, labels=["tor-exit"])
    assert [(r["kind"], r["value"], r["labels"]) for r in out.table.to_pylist()] == [
        ("ip", "198.51.100.231", ["tor-exit"]), ("ip", "198.51.100.232", ["tor-exit"]),
        ("ip", "2001:db8::64", ["tor-exit"])]
    assert out.skipped == 8  # the header, the relays' ExitNode/Published/LastStatus lines


def test_a_misp_event_shared_for_context_only_is_an_empty_feed_not_a_refresh_error(tmp_path: Path) -> None:
    # an event whose attributes all have to_ids off, as Citizen Lab's "Endless Mayfly" MISP export (md5 and
    # ip-dst attributes, to_ids false; written here with documentation-range values): the refresh failed with
    # "the body parsed to no indicators — check `format`"
    ev = {"response": [{"Event": {"info": "context only", "threat_level_id": "2", "Attribute": [
        {"type": "md5", "category": "Payload delivery", "to_ids": False, "value": "5b920c6cd1d8de54463f07965b8c43f3"},
        {"type": "ip-dst", "category": "Network activity", "to_ids": False, "value": "198.51.100.223"}],
        "Object": []}}]}
    feed = tmp_path / "event.json"
    feed.write_text(json.dumps(ev))
    out = load(feed.read_bytes(), "auto", conf=50)
    assert out.table.num_rows == 0 and out.skipped == 2
    from secpipe.transforms.enrich.intel.feeds import Feed
    from secpipe.transforms.enrich.options import FeedOptions

    f = Feed(FeedOptions(name="ctx", path=str(feed)))
    assert f.refresh(T0_MS) and f.state.error is None and f.state.skipped == 2


def test_crowdsec_alerts_with_and_without_decisions() -> None:
    # CrowdSec's LAPI test alerts (crowdsecurity/crowdsec pkg/apiserver/tests): an alert's decisions are
    # its indicators; alerts whose decisions are null (here from a simulated and a live ssh-bf alert) were
    # refused as "entry 0: no value" and are now skipped and counted
    one = load((CASES / "crowdsec-alert-sample.json").read_bytes(), "auto", conf=60, fetched_ms=T0_MS)
    assert [(r["kind"], r["value"], r["labels"], r["ref"], r["valid_until"]) for r in one.table.to_pylist()] == [
        ("ip", "127.0.0.1", ["crowdsecurity/test"], "1", T0_MS + 3_600_000)]
    none = load((CASES / "crowdsec-alerts-minibulk-simul.json").read_bytes(), "auto", conf=60)
    assert none.table.num_rows == 0 and none.skipped == 2


def test_zipped_and_gzipped_feed_downloads_load_as_the_file_they_hold(tmp_path: Path, monkeypatch) -> None:
    # abuse.ch serves its full dumps zipped (URLhaus csv.txt, ThreatFox full.csv, MalwareBazaar full.zip): such a
    # body was refused as "not UTF-8 text"; here round 25's real URLhaus csv_recent export, zipped and gzipped
    import gzip
    import io
    import zipfile

    from secpipe.transforms.enrich.intel import loaders
    from secpipe.transforms.enrich.intel.loaders import FeedError

    csv_body = (CASES / "urlhaus-csv-recent.csv").read_bytes()
    plain = load(csv_body, "auto", conf=70).table.to_pylist()
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("csv.txt", csv_body)
    zipped = buf.getvalue()
    assert load(zipped, "auto", conf=70).table.to_pylist() == plain
    assert load(gzip.compress(csv_body), "auto", conf=70, name="csv.txt.gz").table.to_pylist() == plain
    feed = tmp_path / "urlhaus.zip"
    feed.write_bytes(zipped)
    st = _stage(feed)
    assert st.store.status()[0]["indicators"] == len(plain)
    # refused with the reason: several files, a damaged archive, a truncated gzip, a body that expands too far
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("a.csv", csv_body)
        zf.writestr("b.csv", csv_body)
    for body, reason in ((buf.getvalue(), "holds 2 files"), (zipped[:200], "does not open"),
                         (gzip.compress(csv_body)[:300], "does not decompress")):
        with pytest.raises(FeedError, match=reason):
            load(body, "auto", conf=70)
    monkeypatch.setattr(loaders, "MAX_UNPACKED", 1000)
    with pytest.raises(FeedError, match="expands past 1000 bytes"):
        load(gzip.compress(b"\n" * 100_000), "auto", conf=70)
    with pytest.raises(FeedError, match="expands past 1000 bytes"):
        load(zipped, "auto", conf=70)


def test_a_stix_indicator_counts_at_its_latest_version(real: Path) -> None:
    # OASIS's indicator-for-c2-ip-address example and a later version of it (same id, modified advanced,
    # revoked: STIX 2.1 3.6 versioning), as a TAXII match[version]=all answer or a stream carries both: the
    # earlier version loaded and kept matching after the revocation
    bundle = json.loads((real / "threat-intel/oasis-cti-stix2-json-schemas/examples/indicator-for-c2-ip-address.json")
                        .read_text())
    first = bundle["objects"][0]
    revoked = {**first, "modified": "2016-01-01T00:00:00.000Z", "revoked": True}
    for objs in ([first, revoked], [revoked, first]):
        out = load(json.dumps({**bundle, "objects": objs}).encode(), "stix", conf=50)
        assert out.table.num_rows == 0 and out.skipped == 2
    renamed = {**first, "modified": "2016-01-01T00:00:00Z", "pattern": "[ipv4-addr:value = '10.0.0.1']"}
    out = load(json.dumps({**bundle, "objects": [renamed, first]}).encode(), "stix", conf=50)
    assert out.table.column("value").to_pylist() == ["10.0.0.1"] and out.skipped == 1


def test_cscli_decisions_raw_csv_reads_scope_value_and_expiration() -> None:
    # `cscli decisions list -o raw` as crowdsecurity/crowdsec's cscli prints it (header and "%v" columns in
    # cmd/crowdsec-cli decisions: ip is "<scope>:<value>", expiration the Go duration left), documentation-range
    # values. It was sniffed as an abuse.ch CSV and loaded nothing ("Ip:198.51.100.1" is no address).
    body = b"""id,source,ip,reason,action,country,as,events_count,expiration,simulated,alert_id
1,crowdsec,Ip:198.51.100.1,crowdsecurity/http-probing,ban,US,64500 EXAMPLE,4,1h0m0s,false,10
2,crowdsec,Range:198.51.100.0/24,crowdsecurity/http-probing,ban,DE,64501 OTHER,4,3h0m0s,true,11
3,cscli,Country:XX,manual 'ban' from 'localhost',ban,,,1,3h59m50s,false,12
4,crowdsec,Ip:2001:db8::4,crowdsecurity/ssh-bf,ban,FR,64502 THIRD,6,-30m0s,false,13
"""
    assert sniff(body) == "csv"
    out = load(body, "auto", conf=60, fetched_ms=T0_MS)
    assert [(r["value"], r["valid_until"], r["labels"], r["ref"]) for r in out.table.to_pylist()] == [
        ("198.51.100.1", T0_MS + 3_600_000, ["crowdsecurity/http-probing"], "1"),
        ("2001:db8::4", T0_MS - 1_800_000, ["crowdsecurity/ssh-bf"], "4")]
    assert out.skipped == 2  # the simulated range decision and the Country decision


@pytest.mark.parametrize("answer", [
    {"query_status": "no_result"}, {"query_status": "no_result", "data": []}, {"query_status": "no_results"},
    {"query_status": "ok", "data": "Your search did not yield any results"}, {"query_status": "illegal_auth_key"},
    {"query_status": "hash_not_found", "data": []}])
def test_an_abusech_api_answer_without_entries_is_refused_with_its_status(answer: dict) -> None:
    # the answers abuse.ch's ThreatFox / URLhaus / MalwareBazaar APIs give when nothing matches or the Auth-Key is
    # wrong (as their clients' tests record them): refused naming the status, not "expected a list of entries"
    from secpipe.transforms.enrich.intel.loaders import FeedError

    with pytest.raises(FeedError, match=f"query_status '{answer['query_status']}'"):
        load(json.dumps(answer).encode(), "auto", conf=50)
