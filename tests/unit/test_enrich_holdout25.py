"""Holdout sweep round 25: threat-intel feeds (see tests/cases/enrich_feeds/SOURCE.md, "Round 25 (feeds)").

- URLhaus and ThreatFox CSV exports (real excerpts quoted in muchdogesec/feeds2stix's READMEs):
  each row's comma-separated ``tags`` are labels of its indicator (they were dropped: only the
  ``threat``/``malware_printable`` column was kept), ``None`` is no tag; ThreatFox's ``ioc_id`` is the ref.
- OpenCTI's STIX export (OpenCTI's own stream test data): indicators carry ``detection``/``score``
  in OpenCTI's property extension (older exports as ``x_opencti_detection``/``x_opencti_score``).
  Detection off means "not for detection" (OpenCTI's MISP connector sets it from ``to_ids``): skipped,
  as MISP ``to_ids: false`` is; the score stands in for a missing STIX ``confidence``.
"""

from __future__ import annotations

import ipaddress
import json
from pathlib import Path

import pyarrow as pa
import pytest

from secpipe.formats.base import to_batch
from secpipe.transforms.enrich.intel.loaders import FeedError, load, sniff
from secpipe.transforms.enrich.intel.stage import ThreatIntelStage
from secpipe.transforms.enrich.intel.stix import OPENCTI_EXTENSION
from secpipe.transforms.enrich.options import ThreatIntelOptions
from tests.unit.holdout_support import redact_lines

CASES = Path(__file__).resolve().parents[1] / "cases" / "enrich_feeds"
T0 = 1_790_000_000.0


def _stage(path: Path, clock: float = T0) -> ThreatIntelStage:
    opts = ThreatIntelOptions.model_validate({"feeds": [{"name": path.stem, "path": str(path)}],
                                              "background_refresh": False})
    return ThreatIntelStage("intel", opts, clock=lambda: clock)


def test_urlhaus_csv_rows_keep_their_tags_as_labels() -> None:
    body = (CASES / "urlhaus-csv-recent.csv").read_bytes()
    assert sniff(body) == "abusech_csv"
    out = load(body, "auto", conf=70)
    rows = out.table.to_pylist()
    assert out.skipped == 0 and len(rows) == 10 and {r["kind"] for r in rows} == {"url"}
    got = {r["value"]: r["labels"] for r in rows}
    assert got["http://182.126.120.150:58801/i"] == ["malware_download", "32-bit", "elf", "mips", "Mozi"]
    assert got["http://117.216.147.208:50583/bin.sh"] == ["malware_download", "32-bit", "elf", "mips"]
    # "None" in the tags column is no tag
    assert got["https://pub-462189601a584e8fad4889d4ed31f4f4.r2.dev/Zoom%20Setup.exe"] == ["malware_download"]


def test_a_urlhaus_match_reports_the_tags() -> None:
    n = 2
    batch = to_batch("http_activity", {
        "class_uid": pa.array([4002] * n, pa.int32()), "time": pa.array([int(T0 * 1000)] * n, pa.int64()),
        "metadata.uid": pa.array(["h0", "h1"]),
        "http_request.url.url_string": pa.array(["http://27.37.27.82:43810/i", "http://27.37.27.82:43810/j"])})
    ev, fi = _stage(CASES / "urlhaus-csv-recent.csv").process(batch)
    enr = [r["enrichments"] for r in ev.to_pylist()]
    assert enr[1] is None and len(enr[0]) == 1
    assert enr[0][0]["name"] == "http_request.url.url_string" and enr[0][0]["value"] == "http://27.37.27.82:43810/i"
    assert json.loads(enr[0][0]["data"])["labels"] == ["malware_download", "32-bit", "elf", "mips", "Mozi"]
    assert fi.num_rows == 1


def test_threatfox_csv_tags_and_ioc_id() -> None:
    out = load((CASES / "threatfox-csv-full.csv").read_bytes(), "auto", conf=70)
    assert out.skipped == 0  # the closing "# Number of entries" line is a comment
    got = [(r["kind"], r["value"], r["confidence"], r["labels"], r["ref"]) for r in out.table.to_pylist()]
    assert got[0] == ("url", "http://rocheholding.top/rudolph/five/fre.php", 75,
                      ["Loki Password Stealer (PWS)", "lokibot"], "1301611")
    assert got[1] == ("ip", "8.134.12.90", 100, ["Cobalt Strike", "CobaltStrike", "cs-watermark-987654321"], "1301610")
    assert got[4] == ("ip", "8.223.20.63", 100, ["Cobalt Strike", "CobaltStrike"], "1301606")


def test_json_records_take_tags_as_a_list_or_a_comma_string() -> None:
    # the ThreatFox API answers tags as a list (or null); the exports as one comma-separated string
    api = {"query_status": "ok", "data": [
        {"id": "12", "ioc": "198.51.100.4:443", "ioc_type": "ip:port", "malware_printable": "Cobalt Strike",
         "confidence_level": 75, "tags": None},
        {"id": "13", "ioc": "c2.example.test", "ioc_type": "domain", "malware_printable": "QakBot",
         "confidence_level": 100, "tags": ["qakbot", "QakBot", "obama271"]}]}
    rows = load(json.dumps(api).encode(), "auto", conf=50).table.to_pylist()
    assert [(r["value"], r["labels"], r["ref"]) for r in rows] == [
        ("198.51.100.4", ["Cobalt Strike"], "12"), ("c2.example.test", ["QakBot", "qakbot", "obama271"], "13")]
    export = {"1301610": [{"ioc_value": "198.51.100.5:7777", "ioc_type": "ip:port", "malware_printable": "Cobalt Strike",
                           "tags": "CobaltStrike,cs-watermark-987654321"}]}
    assert load(json.dumps(export).encode(), "auto", conf=50).table.column("labels").to_pylist() == [
        ["Cobalt Strike", "CobaltStrike", "cs-watermark-987654321"]]


def test_opencti_stream_export_revoked_and_detection_off() -> None:
    body = (CASES / "opencti-stream-indicators.json").read_bytes()
    out = load(body, "auto", conf=70)  # both indicators are revoked
    assert out.table.num_rows == 0 and out.skipped == 2
    doc = json.loads(body)
    assert [o["extensions"][OPENCTI_EXTENSION]["detection"] for o in doc] == [True, False]
    for o in doc:
        o["revoked"] = False
    out = load(json.dumps(doc).encode(), "auto", conf=70)
    # the first (detection on) loads with its STIX confidence; the second (detection off) does not
    assert [(r["kind"], r["value"], r["confidence"], r["ref"]) for r in out.table.to_pylist()] == [
        ("domain", "www.xolod-teplo.ru", 75, "indicator--86d9fae0-300e-54a8-9b7e-041e303406ad")]
    assert out.skipped == 1


def test_opencti_custom_properties_and_score_without_confidence() -> None:
    base = {"type": "indicator", "spec_version": "2.1", "pattern_type": "stix", "valid_from": "2026-01-01T00:00:00Z"}
    objs = [
        {**base, "id": "indicator--a", "pattern": "[ipv4-addr:value = '198.51.100.7']", "x_opencti_score": 90,
         "x_opencti_detection": True},
        {**base, "id": "indicator--b", "pattern": "[ipv4-addr:value = '198.51.100.8']", "x_opencti_score": 20,
         "x_opencti_detection": False},
        {**base, "id": "indicator--c", "pattern": "[domain-name:value = 'c2.example.test']",
         "extensions": {OPENCTI_EXTENSION: {"extension_type": "property-extension", "score": 40}}},
        # pycti: the custom property wins over the extension
        {**base, "id": "indicator--d", "pattern": "[domain-name:value = 'd.example.test']", "x_opencti_score": 99,
         "extensions": {OPENCTI_EXTENSION: {"score": 50, "detection": True}}},
    ]
    out = load(json.dumps({"type": "bundle", "id": "bundle--1", "objects": objs}).encode(), "auto", conf=70)
    assert [(r["ref"], r["confidence"]) for r in out.table.to_pylist()] == [
        ("indicator--a", 90), ("indicator--c", 40), ("indicator--d", 99)]
    assert out.skipped == 1


# --------------------------------------------------------------------------------------
# protect (redact): secret formats as their issuers document them, and real log lines
# that hold base64 but no secret. Every value below is a documentation example or made
# of our own characters in the issuer's documented shape; none is a live credential.
# --------------------------------------------------------------------------------------

ISSUER_FORMATS = {
    # Microsoft's SAS example (Azure Storage docs): the signature is URL-encoded base64
    "azure_sas": ("GET https://myaccount.blob.core.windows.net/sascontainer/sasblob.txt?sv=2015-04-05"
                  "&st=2015-04-29T22%3A18%3A26Z&se=2015-04-30T02%3A23%3A26Z&sr=b&sp=rw&sip=168.1.5.60-168.1.5.70"
                  "&spr=https&sig=Z%2FRHIX5Xcg0Mq2rqI3OlWTjEg2tYkboXr1P9ZUXDtkk%3D HTTP/1.1 200",
                  "Z%2FRHIX5Xcg0Mq2rqI3OlWTjEg2tYkboXr1P9ZUXDtkk%3D"),
    # Google API keys: "AIza" + 35 characters
    "gcp_api_key": ("GET /maps/api/geocode/json?address=Paris&key=AIzaSyDaGmWKa4JsXZ-HjGw7ISLn_3namBGewQe HTTP/1.1",
                    "AIzaSyDaGmWKa4JsXZ-HjGw7ISLn_3namBGewQe"),
    # Google OAuth client secrets ("GOCSPX-" + 28) and a service-account key file's private_key (Google's
    # documented JSON key layout, the PEM body here our own characters)
    "gcp_oauth_secret": ("created OAuth client 1234.apps.googleusercontent.com secret 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",
                         "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"),
    "gcp_sa_key": ('{"type": "service_account", "project_id": "p", "private_key_id": "0123456789abcdef0123456789abcdef01234567",'
                   ' "private_key": "-----BEGIN PRIVATE KEY-----\\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7\\n'
                   '-----END PRIVATE KEY-----\\n", "client_email": "sa@p.iam.gserviceaccount.com"}',
                   "MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7"),
    # Stripe's documented test key, a restricted live key and a webhook signing secret
    "stripe_key": ("curl https://api.stripe.com/v1/charges -u sk_test_4eC39HqLyjWDarjtT1zdp7dc: -d amount=2000",
                   "sk_test_4eC39HqLyjWDarjtT1zdp7dc"),
    "stripe_rk": ("stripe: using key rk_live_51Hq2xQAbCdEfGhIjKlMnOpQrStUvWx0123 for refunds",
                  "rk_live_51Hq2xQAbCdEfGhIjKlMnOpQrStUvWx0123"),
    "stripe_whsec": ("webhook endpoint secret whsec_0123456789abcdefABCDEF0123456789ab loaded", "whsec_0123456789abcdefABCDEF0123456789ab"),
    # Slack app-level tokens (xapp-<n>-<app id>-<number>-<hex>)
    "slack_token": ("SLACK_APP_TOKEN=xapp-1-A0123456789-1234567890123-" + "0123456789abcdef" * 4,
                    "xapp-1-A0123456789-1234567890123-" + "0123456789abcdef" * 4),
    # Slack's browser session cookie (xoxd-, URL-encoded), and the publish tokens of npm ("npm_" + 36), PyPI
    # (macaroons "pypi-AgEIcHlwaS5vcmc...") and Docker Hub ("dckr_pat_") as CI logs echo them
    "slack_cookie": ("Cookie: d=xoxd-Ab1Cd2Ef3Gh4%2FIj5Kl6Mn7Op8%3D; d-s=1700000000", "xoxd-Ab1Cd2Ef3Gh4%2FIj5Kl6Mn7Op8%3D"),
    "npm_token": ("//registry.npmjs.org/:_authToken npm_Ab1Cd2Ef3Gh4Ij5Kl6Mn7Op8Qr9St0Uv1Wx2 written",
                  "npm_Ab1Cd2Ef3Gh4Ij5Kl6Mn7Op8Qr9St0Uv1Wx2"),
    "pypi_token": ("twine upload -u __token__ -p pypi-AgEIcHlwaS5vcmcCJDAwMDAwMDAwLTAwMDAtMDAwMC0wMDAwLTAwMDAwMDAwMDAwMAACKlsz dist/*",
                   "pypi-AgEIcHlwaS5vcmcCJDAwMDAwMDAwLTAwMDAtMDAwMC0wMDAwLTAwMDAwMDAwMDAwMAACKlsz"),
    "docker_token": ("docker login -u ci -p dckr_pat_Ab1Cd2Ef3Gh4Ij5Kl6Mn7Op8Qr9 registry", "dckr_pat_Ab1Cd2Ef3Gh4Ij5Kl6Mn7Op8Qr9"),
    # GitLab feed tokens (glft-) and legacy runner registration tokens (GR1348941...), routable PATs
    "gitlab_token": ("GET /dashboard/projects.atom?feed_token=glft-Ab1Cd2Ef3Gh4Ij5Kl6Mn", "glft-Ab1Cd2Ef3Gh4Ij5Kl6Mn"),
    "gitlab_runner": ("gitlab-runner register --registration-token GR1348941Ab1Cd2Ef3Gh4Ij5Kl6Mn --executor docker",
                      "GR1348941Ab1Cd2Ef3Gh4Ij5Kl6Mn"),
    # RFC 7617's Basic credentials example and RFC 6750's bearer token example, in a request log and in
    # the headers of an OPA-Envoy decision log
    "http_basic": ("GET /protected HTTP/1.1\r\nAuthorization: Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==\r\n",
                   "QWxhZGRpbjpvcGVuIHNlc2FtZQ=="),
    "http_bearer": ('{"headers":{":method":"GET","authorization":"Bearer mF_9.B5f-4.1JqM","user-agent":"curl/8.7.1"}}',
                    "mF_9.B5f-4.1JqM"),
    "gitlab_routable": ("PRIVATE-TOKEN: glpat-Ab1Cd2Ef3Gh4Ij5Kl6Mn7Op8Qr9St0Uv1Wx2.01.1b0i7m3vz sent",
                        "Ab1Cd2Ef3Gh4Ij5Kl6Mn7Op8Qr9St0Uv1Wx2.01.1b0i7m3vz"),
}


_redact = redact_lines


def test_issuer_documented_secret_formats_are_redacted() -> None:
    lines = [line for line, _ in ISSUER_FORMATS.values()]
    msgs, raws, kinds = _redact(lines)
    for (name, (_line, secret)), msg, raw in zip(ISSUER_FORMATS.items(), msgs, raws, strict=True):
        assert secret not in msg and secret not in raw, (name, msg)
        assert "[REDACTED:" in msg, name
    assert sorted(set(kinds)) == ["azure_sas", "docker_token", "gcp_api_key", "gcp_oauth_secret", "gitlab_token",
                                  "http_auth", "npm_token", "private_key", "pypi_token", "slack_token", "stripe_key"]
    assert msgs[0].endswith("&spr=https&sig=[REDACTED:azure_sas] HTTP/1.1 200")  # the SAS fields around it stay
    assert msgs[-1] == "PRIVATE-TOKEN: [REDACTED:gitlab_token] sent"  # the routable token's .xx.xxxxxxxxx tail too
    # a publishable Stripe key is public by design; a Basic challenge holds no credentials; npm's config variables
    assert _redact(["Stripe.setPublishableKey('pk_live_51Hq2xQAbCdEfGhIjKlMnOpQrStUvWx0123')",
                    'HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: Basic realm="WallyWorld"',
                    "npm_config_cache=/home/runner/.npm npm_package_name=secpipe-ui"])[2] == []


def test_real_log_lines_with_base64_ids_and_public_keys_stay(real: Path) -> None:
    holdout = CASES.parent / "holdout"
    lines = [
        # GitLab system hook key_create: the user's OpenSSH *public* key
        next(x for x in (holdout / "gitlab_system_hooks.jsonl").read_text().splitlines() if '"key_create"' in x),
        # GitHub webhook: GraphQL node ids
        (holdout / "content_reference.created.payload.json").read_text(),
        # GitHub audit log (Elastic sample): hashed_token names a token by its SHA-256
        (holdout / "elastic-github-api-request-events.log").read_text().splitlines()[0],
        # OPA decision log: the bundle revision
        (holdout / "decision-logs-legacy-revision.json").read_text(),
        # CloudTrail lookup-events answer: the pagination token
        (holdout / "aws-docs-lookup-events-insight.json").read_text(),
        # EKS audit event (Panther): the caller's key id in user.extra.accessKeyId, pretty-printed JSON
        next(x for x in (real / "panther-analysis/extracted/k8s_audit.jsonl").read_text().splitlines()
             if "accessKeyId" in x),
        # MalwareBazaar record: the sample's ssdeep fuzzy hash (blocksize:hash:hash)
        next(x for x in (CASES / "malwarebazaar-recent-api.json").read_text().splitlines() if '"ssdeep"' in x),
        # Snyk report: a data: URI's base64 content in an advisory
        next(x for x in (real / "snyk-to-html/test-report.json").read_text().splitlines() if ";base64," in x),
    ]
    msgs, raws, kinds = _redact(lines)
    assert kinds == []
    assert msgs == lines and raws == lines


def test_geoip2_enterprise_as_city_fills_the_autonomous_system_from_traits(tmp_path: Path) -> None:
    # Records of MaxMind's GeoIP2-Enterprise-Test source data (IPv4-mapped networks, written here as an
    # IPv4 database by round 24's MaxMind DB writer): the ISP data of an Enterprise record sits in traits
    from secpipe.transforms.enrich.geoip import GeoIPStage
    from secpipe.transforms.enrich.options import GeoIPOptions
    from tests.unit.test_enrich_holdout24 import _ip_batch, _mmdb

    recs = json.loads((CASES / "maxmind-enterprise-test-excerpt.json").read_text())
    nets = {}
    for item in recs:
        ((net, rec),) = item.items()
        addr, bits = net.removeprefix("::").split("/")
        nets[str(ipaddress.ip_network(f"{addr}/{int(bits) - 96}", strict=False))] = rec  # MaxMind's writer masks
    db = tmp_path / "GeoIP2-Enterprise-Test.mmdb"
    _mmdb(db, "GeoIP2-Enterprise", nets)
    st = GeoIPStage("geo", GeoIPOptions(city=str(db)))
    eps = [r["src_endpoint"] for r in st.process(_ip_batch(["74.209.24.5", "67.43.156.1", "81.2.69.161"]))[0].to_pylist()]
    got = [(e["location"]["country"], e["location"]["city"], (e.get("autonomous_system") or {}).get("number"),
            (e.get("autonomous_system") or {}).get("name")) for e in eps]
    assert got == [("US", "Chatham", 14671, "FairPoint Communications"), ("BT", None, 35908, None),
                   ("GB", "London", None, None)]  # London's record names an ISP but no AS
    assert eps[0]["location"]["provider"] == "GeoIP2-Enterprise"


def test_malwarebazaar_api_records_load_every_hash_with_signature_and_tags() -> None:
    # MalwareBazaar get_recent answer (demisto/content test data): each sample by SHA-256, SHA-1 and MD5;
    # only the SHA-256 was loaded (the CSV export already loaded all three)
    out = load((CASES / "malwarebazaar-recent-api.json").read_bytes(), "auto", conf=70)
    rows = out.table.to_pylist()
    assert out.skipped == 0 and {r["kind"] for r in rows} == {"hash"}
    assert [r["value"] for r in rows] == [
        "7c483138404aad6662938e6e4c100ad9b18ec636011b2dcd96607016d918c938", "dcaaaa0c25b9fc9e66153cca4013d8ac70da4592",
        "705d000c1a2292d80495cd13ee172711",
        "7f24588c2d42a6f125ccc6b41da4c6f0000f018553086731f2b823b2fe95cab6", "0b2c9a972418cc934ea2603f3456c6617fb8972d",
        "dbd86d62de3767f089f488e718399c1c"]
    assert {tuple(r["labels"]) for r in rows} == {("TrickBot", "exe")}  # signature, then the tags not repeated


def test_an_event_with_the_md5_of_a_bazaar_api_sample_matches(tmp_path: Path) -> None:
    from tests.unit.test_enrich_holdout24 import _file_batch

    ev, fi = _stage(CASES / "malwarebazaar-recent-api.json").process(
        _file_batch(["705d000c1a2292d80495cd13ee172711", "00000000000000000000000000000000"]))
    obs = [[(o["name"], o["value"]) for o in r["observables"] or []] for r in ev.to_pylist()]
    assert obs == [[("file.hashes[].value", "705d000c1a2292d80495cd13ee172711")], []]
    assert fi.num_rows == 1


def test_autonomous_system_indicators_from_stix_and_misp(tmp_path: Path) -> None:
    # MISP's STIX 2.1 export writes an AS attribute as "[autonomous-system:number = '174']" (the number
    # quoted, labels misp:type="AS"; misp-stix's export tests); other producers write the integer, and
    # MISP's STIX import reads "number AND name" for its asn object. MISP events carry type "AS".
    stix = {"type": "bundle", "id": "bundle--1", "objects": [
        {"type": "indicator", "spec_version": "2.1", "id": "indicator--as1", "pattern": "[autonomous-system:number = '174']",
         "pattern_type": "stix", "pattern_version": "2.1", "valid_from": "2025-10-10T00:00:00Z",
         "labels": ['misp:type="AS"', 'misp:category="Network activity"', 'misp:to_ids="True"']},
        {"type": "indicator", "spec_version": "2.1", "id": "indicator--as2", "pattern_type": "stix",
         "pattern": "[autonomous-system:number = 197869 AND autonomous-system:name = 'CIRCL']",
         "valid_from": "2024-10-25T16:22:00Z"},
        {"type": "indicator", "spec_version": "2.1", "id": "indicator--as3", "pattern_type": "stix",
         "pattern": "[autonomous-system:name = 'CIRCL']", "valid_from": "2024-10-25T16:22:00Z"}]}
    out = load(json.dumps(stix).encode(), "auto", conf=70)
    assert [(r["kind"], r["value"], r["ref"]) for r in out.table.to_pylist()] == [
        ("asn", "174", "indicator--as1"), ("asn", "197869", "indicator--as2")]
    assert out.skipped == 1  # a name alone names no number to match
    misp = {"Event": {"info": "bulletproof hosting", "Attribute": [
        {"type": "AS", "value": "AS64500", "to_ids": True, "uuid": "m1"},
        {"type": "AS", "value": "64501", "to_ids": True, "uuid": "m2"},
        {"type": "sha384", "value": "38b060a751ac96384cd9327eb1b1e36a21fdb71114be07434c0cc7bf63f6e1da274edebfe76f65fbd51ad2f14898b95b", "to_ids": True, "uuid": "m3"}]}}
    got = load(json.dumps(misp).encode(), "misp", conf=70).table.to_pylist()
    assert [(r["kind"], r["value"]) for r in got] == [
        ("asn", "64500"), ("asn", "64501"),
        ("hash", "38b060a751ac96384cd9327eb1b1e36a21fdb71114be07434c0cc7bf63f6e1da274edebfe76f65fbd51ad2f14898b95b")]
    (tmp_path / "as.json").write_text(json.dumps(stix))
    n = 2
    batch = to_batch("network_activity", {
        "class_uid": pa.array([4001] * n, pa.int32()), "time": pa.array([int(T0 * 1000)] * n, pa.int64()),
        "metadata.uid": pa.array(["a0", "a1"]), "src_endpoint.ip": pa.array(["198.51.100.1", "198.51.100.2"]),
        "src_endpoint.autonomous_system.number": pa.array([174, 3356], pa.int32())})
    ev, fi = _stage(tmp_path / "as.json").process(batch)
    assert [[(o["name"], o["value"], o["type_id"]) for o in r["observables"] or []] for r in ev.to_pylist()] == [
        [("src_endpoint.autonomous_system.number", "174", 99)], []]
    assert fi.num_rows == 1


def test_otx_pulse_csv_download_kinds_come_from_the_otx_type() -> None:
    body = (CASES / "otx-pulse-export.csv").read_bytes()
    out = load(body, "auto", conf=70)
    assert [(r["kind"], r["value"]) for r in out.table.to_pylist()] == [
        ("url", "http://search.webstie.net/"),
        ("hash", "b214c7a127cb669a523791806353da5c5c04832f123a0a6df118642eee1632a3"),
        ("hash", "b20327c03703ebad191c0ba025a3f26494ff12c5908749e33e71589ae1e1f6b3"),
        ("hash", "7fd526e1a190c10c060bac21de17d2c90eb2985633c9ab74020a2b78acd8a4c8"),
        ("hash", "b4e3b2a1f1e343d14af8d812d4a29440940b99aaf145b5699dfe277b5bfb8405"),
        ("domain", "dns.domain-resolve.org"), ("domain", "search.webstie.net")]
    assert out.skipped == 0
    # an import hash is MD5-shaped hex but names no file: the OTX type keeps it out, as in OTX's JSON
    more = body + b"FileHash-IMPHASH,f34d5f2d4577ed6d9ceec516c1f5a744,\nFileHash-PEHASH,9f057d94c9b77d6286073dc5b5c382bcba67a3b2,\n"
    more += b"CVE,CVE-2021-44228,\nIPv4,198.51.100.7,C2 server\n"
    out = load(more, "auto", conf=70)
    assert out.table.num_rows == 8 and out.skipped == 3
    assert out.table.to_pylist()[-1]["description"] == "C2 server"


def test_a_misp_feed_hashes_csv_is_refused_not_loaded_as_md5_indicators(real: Path) -> None:
    # MISP feeds publish hashes.csv beside manifest.json: md5(attribute value),event uuid — a lookup index.
    # It sniffed as an abuse.ch CSV and loaded every line as a file MD5 (730 bogus indicators here).
    from secpipe.transforms.enrich.intel.feeds import Feed
    from secpipe.transforms.enrich.intel.loaders import load_misp_feed
    from secpipe.transforms.enrich.options import FeedOptions

    feed_dir = real / "threat-intel/pymisp/feed-derived"
    body = (feed_dir / "hashes.csv").read_bytes()
    with pytest.raises(FeedError, match=r"this is a MISP feed hashes.csv .* use `format: misp_feed`"):
        load(body, "auto", conf=70)
    f = Feed(FeedOptions(name="h", path=str(feed_dir / "hashes.csv")))
    assert f.refresh(0) is False and f.state.error is not None and "hashes.csv" in f.state.error
    assert load_misp_feed(feed_dir, 70).table.num_rows > 0  # the feed directory itself loads
    # an abuse.ch list of MD5s with a second column is still a feed
    ok = b"# md5,family\nd41d8cd98f00b204e9800998ecf8427e,X\n"
    assert load(ok, "auto", conf=70).table.num_rows == 1


def test_url_indicators_match_whatever_case_and_default_port_the_event_spells_the_host_with() -> None:
    # RFC 3986 6.2.2/6.2.3: scheme and host are case-insensitive, :443 is https's default port and an empty
    # path is "/"; the path stays case-sensitive. A proxy or an EDR logs the same URL another way than URLhaus.
    listed = "https://pub-462189601a584e8fad4889d4ed31f4f4.r2.dev/Zoom%20Setup.exe"
    seen = ["HTTPS://PUB-462189601a584e8fad4889d4ed31f4f4.R2.dev:443/Zoom%20Setup.exe",
            "https://pub-462189601a584e8fad4889d4ed31f4f4.r2.dev/zoom%20setup.exe", "http://27.37.27.82:43810/i"]
    n = len(seen)
    batch = to_batch("http_activity", {
        "class_uid": pa.array([4002] * n, pa.int32()), "time": pa.array([int(T0 * 1000)] * n, pa.int64()),
        "metadata.uid": pa.array([f"h{i}" for i in range(n)]), "http_request.url.url_string": pa.array(seen)})
    ev, fi = _stage(CASES / "urlhaus-csv-recent.csv").process(batch)
    assert [[o["value"] for o in r["observables"] or []] for r in ev.to_pylist()] == [
        [listed], [], ["http://27.37.27.82:43810/i"]]
    assert fi.num_rows == 2
    # and a feed URL without a path or with a capitalised host matches the event's form
    body = b"# id,dateadded,url,url_status,last_online,threat,tags,urlhaus_link,reporter\n" \
           b'"1","2026-09-12 20:23:25","http://Pagos-Banc0.xyz","online","","malware_download","exe","",""\n'
    assert load(body, "abusech_csv", conf=70).table.column("value").to_pylist() == ["http://pagos-banc0.xyz/"]


def test_a_threatfox_export_with_a_sha3_384_ioc_loads_instead_of_refusing_the_feed() -> None:
    # ThreatFox's ioc_type sha3_384_hash was an unknown kind: the whole export was refused (FeedError)
    sha3 = "92a35f47a11a47233092a04d5159a0054931efe3a48c6df926d5a03260fb80edb4b4a7fd1bc935e1bd70a7a849b53018"
    export = {"1301700": [{"ioc_value": sha3, "ioc_type": "sha3_384_hash", "threat_type": "payload",
                           "malware_printable": "TrickBot", "confidence_level": 100, "tags": "exe,TrickBot"}],
              "1301610": [{"ioc_value": "8.134.12.90:7777", "ioc_type": "ip:port", "malware_printable": "Cobalt Strike",
                           "confidence_level": 100, "tags": "CobaltStrike,cs-watermark-987654321"}]}
    rows = load(json.dumps(export).encode(), "auto", conf=50).table.to_pylist()
    assert [(r["kind"], r["value"], r["ref"], r["labels"]) for r in rows] == [
        ("hash", sha3, "1301700", ["TrickBot", "exe"]),
        ("ip", "8.134.12.90", "1301610", ["Cobalt Strike", "CobaltStrike", "cs-watermark-987654321"])]


def test_a_threatfox_ioc_type_with_no_kind_here_is_skipped_not_a_feed_error() -> None:
    export = {"1": [{"ioc_value": "C:\\\\Users\\\\Public\\\\x.exe", "ioc_type": "file_path", "malware_printable": "X"}],
              "2": [{"ioc_value": "evil.example", "ioc_type": "domain", "malware_printable": "X"}]}
    out = load(json.dumps(export).encode(), "auto", conf=50)
    assert [(r["kind"], r["value"]) for r in out.table.to_pylist()] == [("domain", "evil.example")] and out.skipped == 1
    # a team list's own kind stays checked: a typo names the entry and the kinds
    with pytest.raises(FeedError, match=r"entry 0: kind 'domian'"):
        load(json.dumps([{"value": "evil.example", "kind": "domian"}]).encode(), "json", conf=50)


def test_urlhaus_api_recent_urls_and_payloads_answers_load() -> None:
    # The URLhaus API's urls/recent and payloads/recent answers ({"query_status", "urls"|"payloads": [...]}),
    # written in that documented layout with rows of the URLhaus CSV excerpt; "tags": null occurs there.
    urls = {"query_status": "ok", "urls": [
        {"id": 3786237, "urlhaus_reference": "https://urlhaus.abuse.ch/url/3786237/",
         "url": "http://182.126.120.150:58801/i", "url_status": "online", "host": "182.126.120.150",
         "date_added": "2026-02-26 12:05:20 UTC", "threat": "malware_download",
         "blacklists": {"spamhaus_dbl": "not listed", "surbl": "not listed"}, "reporter": "geenensp", "larted": "true",
         "tags": ["32-bit", "elf", "mips", "Mozi"]},
        {"id": 3786229, "urlhaus_reference": "https://urlhaus.abuse.ch/url/3786229/",
         "url": "https://pub-462189601a584e8fad4889d4ed31f4f4.r2.dev/Zoom%20Setup.exe", "url_status": "online",
         "host": "pub-462189601a584e8fad4889d4ed31f4f4.r2.dev", "date_added": "2026-02-26 11:26:09 UTC",
         "threat": "malware_download", "reporter": "juroots", "larted": "false", "tags": None}]}
    rows = load(json.dumps(urls).encode(), "auto", conf=70).table.to_pylist()
    assert [(r["kind"], r["value"], r["ref"], r["labels"]) for r in rows] == [
        ("url", "http://182.126.120.150:58801/i", "3786237", ["malware_download", "32-bit", "elf", "mips", "Mozi"]),
        ("url", "https://pub-462189601a584e8fad4889d4ed31f4f4.r2.dev/Zoom%20Setup.exe", "3786229", ["malware_download"])]
    payloads = {"query_status": "ok", "payloads": [
        {"md5_hash": "705d000c1a2292d80495cd13ee172711",
         "sha256_hash": "7c483138404aad6662938e6e4c100ad9b18ec636011b2dcd96607016d918c938", "file_type": "exe",
         "file_size": "442368", "signature": "TrickBot", "firstseen": "2021-10-03 12:32:56",
         "urlhaus_download": "https://urlhaus-api.abuse.ch/v1/download/7c48/", "virustotal": None}]}
    rows = load(json.dumps(payloads).encode(), "auto", conf=70).table.to_pylist()
    assert sorted((r["kind"], r["value"], tuple(r["labels"])) for r in rows) == [
        ("hash", "705d000c1a2292d80495cd13ee172711", ("TrickBot",)),
        ("hash", "7c483138404aad6662938e6e4c100ad9b18ec636011b2dcd96607016d918c938", ("TrickBot",))]
