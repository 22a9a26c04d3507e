"""Zeek's logs stored as their OCSF classes (secpipe.formats._zeek_classes), the record kept in unmapped.

Real logs (tests/cases/zeek_tsv, sources in its SOURCES.md): TSV conn, dns, http, ssl, ssh and
notice logs, Zeek's documentation's conn.log as JSON (no ``_path``: told by its keys) and the SANS
dns.log record of the Sigma holdout; the mapping follows the OCSF project's Zeek mappings.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import msgspec

from secpipe import formats
from secpipe.schema.conformance import check_rows
from secpipe.schema.ocsf import class_name_of

ZEEK = Path(__file__).resolve().parents[1] / "cases" / "zeek_tsv"
SANS = Path(__file__).resolve().parents[1] / "cases" / "sigma_holdout" / "sans-zeek-dns.json"


def _rows(body: bytes, fmt: str = "zeek_tsv") -> list[dict[str, Any]]:
    dec = formats.get(fmt).decode(body, "t")
    assert not dec.dead, dec.dead
    return [r for b in dec.batches for r in b.to_pylist()]


def _log(name: str) -> list[dict[str, Any]]:
    return _rows((ZEEK / name).read_bytes(), "json" if name.endswith(".json") else "zeek_tsv")


def test_conn_rows_are_network_activity_with_their_endpoints_and_traffic() -> None:
    (r,) = _log("brim-conn.log")
    assert (r["class_uid"], r["activity_name"], r["status_code"]) == (4001, "Close", "RSTR")  # RSTR: the responder reset
    assert r["metadata"]["product"] == {"name": "Zeek", "vendor_name": "Zeek"}
    assert r["metadata"]["log_name"] == "json"  # where product: zeek Sigma rules run
    assert (r["src_endpoint"]["ip"], r["src_endpoint"]["port"]) == ("10.164.94.120", 39681)
    assert (r["dst_endpoint"]["ip"], r["dst_endpoint"]["port"]) == ("10.47.3.155", 3389)
    conn = r["connection_info"]
    assert (conn["uid"], conn["protocol_name"], conn["protocol_num"], conn["flag_history"]) == (
        "C8Tful1TvM3Zf5x8fl", "tcp", 6, "ShADTdtr")
    assert (conn["direction_id"], conn["protocol_ver_id"]) == (0, 4)  # local_orig/local_resp unset: Unknown
    assert {k: r["traffic"][k] for k in ("bytes_out", "bytes_in", "packets_out", "packets_in", "bytes", "packets")} == {
        "bytes_out": 97, "bytes_in": 19, "packets_out": 10, "packets_in": 6, "bytes": 116, "packets": 16}
    assert (r["duration"], r["end_time"] - r["start_time"]) == (4, 4)  # 0.004266 s
    # the record as Zeek's JSON writer writes it stays whole
    assert json.loads(r["unmapped"])["id.orig_h"] == "10.164.94.120" and json.loads(r["unmapped"])["_path"] == "conn"
    assert r["raw_data"] == r["unmapped"]


def test_conn_json_records_without_path_are_told_by_their_keys() -> None:
    rows = _log("zeek-docs-conn.json")
    assert [(r["class_uid"], r["activity_name"], r["connection_info"]["protocol_name"], r["dst_endpoint"]["port"])
            for r in rows] == [(4001, "Close", "udp", 53), (4001, "Close", "tcp", 80)]
    # another JSON record of the same batch stays a Base Event
    body = (ZEEK / "zeek-docs-conn.json").read_bytes() + b'{"time": "2024-05-01T00:00:00Z", "message": "x", "uid": "a"}\n'
    assert sorted(r["class_uid"] for r in _rows(body, "json")) == [0, 4001, 4001]


def test_dns_rows_are_dns_activity_with_query_rcode_and_answers() -> None:
    rows = _log("zeek-ipv6-frag-dns.log")
    r = rows[0]
    assert (r["class_uid"], r["activity_name"]) == (4003, "Traffic")  # query and response seen
    assert r["query"] == {"hostname": "txtpadding_323.n1.netalyzr.icsi.berkeley.edu", "type": "TXT",
                          "class": "C_INTERNET", "packet_uid": 3903}
    assert (r["rcode_id"], r["rcode"]) == (0, "NoError")
    assert r["answers"] == [{"rdata": "This TXT record should be ignored", "ttl": 1}]
    assert r["connection_info"]["protocol_ver_id"] == 6
    (sans,) = _rows(SANS.read_bytes(), "json")
    assert [a["rdata"] for a in sans["answers"]] == ["vhost1.identityvector.com", "70.32.97.206"]
    assert [a["ttl"] for a in sans["answers"]] == [3600, 3600]
    assert sans["response_time"] - sans["query_time"] == 23  # rtt 0.0226 s


def test_http_rows_are_http_activity_with_the_url_zeek_builds() -> None:
    first, second = _log("zeek-ayiya-http.log")
    assert (first["class_uid"], first["activity_name"]) == (4002, "Get")
    url = first["http_request"]["url"]
    assert (url["hostname"], url["path"], url["url_string"]) == ("ipv6.google.com", "/", "http://ipv6.google.com/")
    assert (first["http_response"]["code"], first["http_response"]["message"]) == (200, "OK")
    assert first["http_request"]["user_agent"].startswith("Mozilla/5.0 (Macintosh")
    url = second["http_request"]["url"]
    assert (url["path"], url["query_string"][:10]) == ("/csi", "v=3&s=webh")
    assert url["url_string"].startswith("http://ipv6.google.com/csi?v=3&s=webhp")
    assert second["http_request"]["referrer"] == "http://ipv6.google.com/"


def test_ssl_rows_are_network_activity_with_tls() -> None:
    rows = _log("brim-ssl.log")
    assert {r["class_uid"] for r in rows} == {4001}
    r = rows[0]
    assert (r["tls"]["version"], r["tls"]["sni"], r["tls"]["cipher"]) == (
        "TLSv12", "login.live.com", "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384")
    assert r["tls"]["certificate"]["issuer"] == "CN=DigiCert SHA2 Secure Server CA,O=DigiCert Inc,C=US"
    assert [x["activity_name"] for x in rows] == ["Traffic"] * 3 + ["Fail"] + ["Traffic"] * 3  # established F
    (vpn,) = _log("corelight-openvpn-ssl.log")
    assert (vpn["tls"]["ja3_hash"]["value"], vpn["tls"]["ja3_hash"]["algorithm_id"]) == ("c81fc162549590f0e836b538fe5bfdd7", 1)
    assert vpn["tls"]["ja3s_hash"]["value"] == "15af977ce25de452b96affa2addb1036"


def test_ssh_rows_are_ssh_activity_with_the_logged_direction() -> None:
    first, second = _log("cleek-ssh.log")
    assert (first["class_uid"], first["activity_name"], first["protocol_ver"]) == (4007, "Traffic", "2")  # auth unset
    assert (first["connection_info"]["direction_id"], second["connection_info"]["direction_id"]) == (1, 0)
    assert first["src_endpoint"]["ip"] == "140.249.20.119"


def test_notice_rows_are_detection_findings_with_their_evidence() -> None:
    (r,) = _log("corelight-netsupport-notice.log")
    assert (r["class_uid"], r["activity_name"]) == (2004, "Create")
    assert r["finding_info"]["title"] == "NetSupport::C2_Traffic_Observed"
    assert r["finding_info"]["desc"].startswith("NetSupport (potential malware) C2 between")
    assert r["finding_info"]["uid"] == r["metadata"]["uid"]
    (ev,) = r["evidences"]
    assert (ev["src_endpoint"]["ip"], ev["dst_endpoint"]["ip"], ev["dst_endpoint"]["port"]) == (
        "192.168.100.146", "45.134.174.143", 443)


def test_kerberos_and_ftp_records_and_a_nested_conn_id() -> None:
    http, ftp, krb = _log("tenzir-m57-zeek.json")  # VAST's export: no _path, conn_id nested as "id": {...}
    assert (http["class_uid"], http["src_endpoint"]["ip"], http["http_request"]["url"]["url_string"]) == (
        4002, "128.14.134.170", "http://198.71.247.91/")
    assert (ftp["class_uid"], ftp["activity_name"], ftp["command"], ftp["codes"], ftp["status_code"]) == (
        4008, "Other", "PASV", [227], "227")
    assert ftp["dst_endpoint"] == {"ip": "143.166.11.10", "port": 21}
    assert (krb["class_uid"], krb["activity_name"], krb["auth_protocol"], krb["service"]["name"]) == (
        3002, "Authentication Ticket", "Kerberos", "krbtgt/NM")
    assert krb["user"] == {"name": None, "domain": "NM"}  # client "/NM": a realm, no principal name
    # the password Zeek logs has no OCSF attribute: in unmapped (and raw_data) only
    assert "IEUser@" in ftp["unmapped"]
    assert "IEUser@" not in str({k: v for k, v in ftp.items() if k not in ("unmapped", "raw_data")})


def test_rdp_and_dhcp_records_and_auto_detection_of_corelight_records() -> None:
    for name in ("ocsf-examples-rdp.json", "tenzir-dhcp.json"):  # _path first (Corelight); uids and no ts-first uid
        data = (ZEEK / name).read_bytes()
        assert (fmt := formats.detect(data[:65536])) is not None and fmt.name == "json", name
    first, second = _log("ocsf-examples-rdp.json")
    assert (first["class_uid"], first["activity_name"], first["user"]["name"], first["status"]) == (
        4005, "Traffic", "Administrator", "Success")
    assert (first["protocol_ver"], first["status_detail"], first["device"]["hostname"]) == ("HYBRID", "encrypted", "sensor")
    assert (second["src_endpoint"]["hostname"], second["user"]["name"], second["status_id"]) == ("bty", "rooty", 0)
    rows = _log("tenzir-dhcp.json")
    assert [(r["class_uid"], r["activity_name"]) for r in rows] == [(4004, "Request"), (4004, "Request"), (4004, "Inform")]
    assert rows[0]["src_endpoint"] == {"ip": None, "port": None, "mac": "00:1a:e9:9d:53:b7", "hostname": "Wii",
                                       "domain": None}
    assert rows[1]["src_endpoint"]["ip"] == "192.168.0.3"


def test_a_log_of_another_shape_or_a_mistyped_record_stays_a_base_event() -> None:
    # the btest log written under the name ssh with its own columns (no connection) stays Base
    assert {r["class_uid"] for r in _log("zeek-ascii-binary-ssh.log")} == {0}
    # a port given as text (no Zeek writer does): that record stays Base, whole; its neighbour is mapped
    recs = [msgspec.json.decode(line) for line in (ZEEK / "zeek-docs-conn.json").read_bytes().splitlines()]
    recs[0]["id.orig_p"] = "36844"
    rows = _rows(b"\n".join(msgspec.json.encode(x) for x in recs), "json")
    assert sorted((r["class_uid"], json.loads(r["unmapped"])["uid"]) for r in rows) == [
        (0, "CMdzit1AMNsmfAIiQc"), (4001, "C5bLoe2Mvxqhawzqqd")]


def test_stored_events_conform_to_their_classes() -> None:
    # what no Zeek log can give: an endpoint's name or uid (Zeek names endpoints by address) and the
    # certificate's serial number (in x509.log, not ssl.log)
    # certificate's serial number (in x509.log, not ssl.log); a Kerberos AS request may name no principal
    allowed = ("constraint at_least_one ['name', 'uid'] none present", "required tls.certificate.serial_number missing")
    for path in sorted(ZEEK.glob("*")):
        if path.suffix not in (".log", ".json"):
            continue
        dec = formats.get("json" if path.suffix == ".json" else "zeek_tsv").decode(path.read_bytes(), "t")
        for b in dec.batches:
            problems = check_rows(class_name_of(b.column("class_uid")[0].as_py()), b.to_pylist())
            assert [p for p in problems if not p.endswith(allowed)] == [], (path.name, problems)


def test_threat_intel_matches_zeek_addresses_names_and_fingerprints(tmp_path: Path) -> None:
    from secpipe.transforms.enrich.intel.stage import ThreatIntelStage
    from secpipe.transforms.enrich.options import ThreatIntelOptions

    feed = tmp_path / "team.json"
    feed.write_text(json.dumps([{"value": v} for v in ("45.134.174.143", "api.ipify.org", "vhost1.identityvector.com")]
                               + [{"value": "c81fc162549590f0e836b538fe5bfdd7", "kind": "ja3"}]))
    opts = ThreatIntelOptions.model_validate({"feeds": [{"name": "team", "path": str(feed)}], "background_refresh": False})
    stage = ThreatIntelStage("intel", opts)
    seen = set()
    for name, fmt in (("corelight-netsupport-notice.log", "zeek_tsv"), ("brim-ssl.log", "zeek_tsv"),
                      ("corelight-openvpn-ssl.log", "zeek_tsv"), ("sans", "json")):
        data = SANS.read_bytes() if name == "sans" else (ZEEK / name).read_bytes()
        for batch in formats.get(fmt).decode(data, name).batches:
            for out in stage.process(batch):
                seen |= {(o["name"], o["value"]) for r in out.to_pylist() for o in r.get("observables") or []
                         if r["class_uid"] != 2004 or r["metadata"]["product"]["name"] == "Zeek"}
    assert {("evidences[].dst_endpoint.ip", "45.134.174.143"), ("tls.sni", "api.ipify.org"),
            ("answers[].rdata", "vhost1.identityvector.com"), ("tls.ja3_hash.value", "c81fc162549590f0e836b538fe5bfdd7")
            } <= seen, seen


def test_objects_without_their_required_attribute_are_left_out() -> None:
    # records written from Zeek's SSL::Info and DNS::Info field docs (version "SSL/TLS version that the server
    # chose" and query are &optional): a client hello the server never answered names the server only by its
    # SNI, a DNS message without a question has no query
    base = {"ts": 1598992772.249387, "uid": "CUs6Sq3qciVfv4hbr7", "id.orig_h": "10.9.1.101", "id.orig_p": 49815,
            "id.resp_h": "52.109.8.20"}
    recs = [{"_path": "ssl", **base, "id.resp_p": 443, "server_name": "nexusrules.officeapps.live.com", "resumed": False,
             "established": False},
            {"_path": "dns", **base, "id.resp_p": 53, "proto": "udp", "trans_id": 0, "rcode": 1, "rcode_name": "FORMERR",
             "AA": False, "TC": False, "RD": False, "RA": False, "Z": 0, "rejected": False}]
    ssl, dns = sorted(_rows(b"\n".join(msgspec.json.encode(r) for r in recs), "json"), key=lambda r: r["class_uid"])
    assert (ssl["class_uid"], ssl["activity_name"], ssl["tls"]) == (4001, "Fail", None)
    assert ssl["dst_endpoint"]["hostname"] == "nexusrules.officeapps.live.com"  # still matched by domain indicators
    assert (dns["class_uid"], dns["query"], dns["rcode"]) == (4003, None, "FormError")
    for r, cls in ((ssl, "network_activity"), (dns, "dns_activity")):
        assert [p for p in check_rows(cls, [r]) if "['name', 'uid']" not in p] == []


def test_a_tsv_file_of_several_logs_stores_each_its_own_way() -> None:
    # cat conn.log ssh.log: the conn row as Network Activity, the rows of the log of another shape as the
    # json format's Base Events (its time-less rows stamped with the receipt time and labelled)
    body = (ZEEK / "brim-conn.log").read_bytes() + (ZEEK / "zeek-ascii-binary-ssh.log").read_bytes()
    rows = _rows(body)
    assert sorted((r["class_uid"], r["metadata"]["product"]["name"]) for r in rows) == [
        (0, "Generic JSON")] * 3 + [(4001, "Zeek")]
    assert all(r["metadata"].get("labels") == ["secpipe:time_from_receipt"] for r in rows if r["class_uid"] == 0)
    (conn,) = [r for r in rows if r["class_uid"] == 4001]
    assert (conn["time"], conn["metadata"].get("labels")) == (1521911721255, None)
