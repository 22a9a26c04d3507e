"""Zeek's smb_files, smb_mapping, dce_rpc, files, ntlm, smtp, x509, weird and intel logs as their OCSF classes
(secpipe.formats._zeek_more), each record kept whole in unmapped.

Real records (tests/cases/zeek_more, sources in its SOURCES.md): Elastic's Zeek integration's pipeline tests (Zeek's
JSON writer), VAST's export of the M57 dataset (records nested, ISO times without a zone) and the OCSF project's
Corelight samples (``_path``, ISO times, printed over lines).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import msgspec

from secpipe import formats
from secpipe.schema.conformance import check_rows
from secpipe.schema.ocsf import class_name_of

CASES = Path(__file__).resolve().parents[1] / "cases" / "zeek_more"


def _rows(body: bytes, fmt: str = "json") -> list[dict[str, Any]]:
    dec = formats.get(fmt).decode(body, "t")
    assert not dec.dead, dec.dead
    return [r for b in dec.batches for r in b.to_pylist()]


def _case(name: str) -> list[dict[str, Any]]:
    return _rows((CASES / name).read_bytes())


def _one(rows: list[dict[str, Any]], **record: Any) -> dict[str, Any]:
    """The row whose original record (unmapped) has these keys and values."""
    (row,) = [r for r in rows if all(json.loads(r["unmapped"]).get(k) == v for k, v in record.items())]
    return row


def test_smb_files_and_mappings_are_smb_activity_with_their_share() -> None:
    rows = _case("elastic-zeek-logs.json")
    opened = _one(rows, action="SMB::FILE_OPEN")
    assert (opened["class_uid"], opened["activity_name"], opened["share"], opened["share_type"]) == (
        4006, "File Open", "\\\\admin-pc\\ADMIN$", "File")
    assert opened["file"] == {"name": "PSEXESVC.exe", "uid": None, "size": 0, "type_id": 0, "type": "Unknown",
                              **dict.fromkeys(("modified_time", "accessed_time", "created_time"), 1507565599607)}
    assert (opened["src_endpoint"]["ip"], opened["dst_endpoint"]["port"], opened["connection_info"]["uid"]) == (
        "192.168.10.31", 445, "C9YAaEzWLL62yWMn5")
    tree = _one(rows, share_type="DISK")
    assert (tree["class_uid"], tree["activity_name"], tree["share_type_id"], tree.get("file")) == (4006, "Other", 1, None)
    vast = _case("tenzir-m57-zeek-more.json")
    assert (_one(vast, share_type="PIPE")["share_type"], _one(vast, share_type="PIPE")["share"]) == (
        "Pipe", "\\\\VINYARDSONGS-DC.vinyardsongs.com\\IPC$")
    share_root = _one(vast, action="SMB::FILE_OPEN")["file"]  # its times as ISO text without a zone (UTC)
    assert (share_root["name"], share_root["modified_time"], share_root["created_time"]) == (
        "<share_root>", 1607614259163, 1607614259163)


def test_dce_rpc_is_network_activity_its_call_kept_in_unmapped() -> None:
    for name, op in (("elastic-zeek-logs.json", "BrowserrQueryOtherDomains"), ("tenzir-m57-zeek-more.json", "ept_map")):
        r = _one(_case(name), operation=op)  # VAST's rtt "254.0us" (no field of the mapping) does not matter
        assert (r["class_uid"], r["activity_name"], r["app_protocol_name"]) == (4001, "Traffic", "dce_rpc")
        assert r["dst_endpoint"]["port"] in (445, 135) and r["connection_info"]["uid"].startswith("C")


def test_files_are_network_file_activity_from_sender_to_receiver_with_hashes() -> None:
    r = _one(_case("elastic-zeek-logs.json"), fuid="FMkioa222mEuM2RuQ9")
    assert (r["class_uid"], r["activity_name"], r["app_protocol_name"]) == (4010, "Download", "SSL")  # is_orig F
    # before Zeek 5 a file names its hosts: the responder sent it (is_orig F), the originator is the source
    assert (r["src_endpoint"]["ip"], r["dst_endpoint"]["ip"]) == ("10.178.98.102", "35.199.178.4")
    assert (r["file"]["uid"], r["file"]["mime_type"], r["file"]["size"]) == ("FMkioa222mEuM2RuQ9", "application/pkix-cert", 947)
    assert [(h["algorithm"], h["value"][:8]) for h in r["file"]["hashes"]] == [("MD5", "79e4a984"), ("SHA-1", "a8985d3a")]
    # Zeek 5+ names the file's connection (uid, id) instead of its hosts
    (zeek5,) = _case("zeek-doc-files.json")
    assert (zeek5["activity_name"], zeek5["src_endpoint"], zeek5["dst_endpoint"]["ip"]) == (
        "Download", {"ip": "192.168.4.76", "port": 46378}, "31.3.245.133")
    assert (zeek5["connection_info"]["uid"], zeek5["file"]["uid"], zeek5["file"]["hashes"]) == (
        "C5bLoe2Mvxqhawzqqd", "FEEsZS1w0Z0VJIb5x4", None)
    vast = _one(_case("tenzir-m57-zeek-more.json"), fuid="FhEFqzHx1hVpkhWci")  # no hosts; duration "0.0ns"
    assert (vast["class_uid"], vast["file"]["size"], len(vast["file"]["hashes"])) == (4010, 51, 2)


def test_ntlm_is_an_ntlm_logon_of_the_user_to_the_server_it_names() -> None:
    r = _one(_case("elastic-zeek-logs.json"), username="JeffV")
    assert (r["class_uid"], r["activity_name"], r["auth_protocol"], r["auth_protocol_id"]) == (3002, "Logon", "NTLM", 1)
    assert r["user"] == {"name": "JeffV", "domain": "contoso.local"}
    assert r["src_endpoint"]["hostname"] == "ybaARon55QykXrgu"
    assert {k: r["dst_endpoint"][k] for k in ("ip", "name", "hostname", "domain")} == {
        "ip": "192.168.10.31", "name": "VICTIM-PC", "hostname": "Victim-PC.contoso.local", "domain": "contoso.local"}
    assert r["status_id"] == 0  # no success field: Unknown
    vast = _one(_case("tenzir-m57-zeek-more.json"), username="maggie.simpson")  # conn_id nested
    assert (vast["status"], vast["src_endpoint"]["ip"], vast["user"]["domain"]) == ("Success", "10.12.14.101", "PETAL-STARS")


def test_smtp_is_email_activity_with_headers_and_envelope() -> None:
    first, second = sorted(_case("ocsf-examples-smtp.json"), key=lambda r: r["time"])
    assert (first["class_uid"], first["activity_name"], first["protocol_name"]) == (4009, "Send", "SMTP")
    assert first["email"] == {
        "from": "info <richq@resultslifecoaching.com.au>", "to": ["Warren Lutze <estimating@beenleighinterior.com.au>"],
        "cc": None, "reply_to": None, "message_uid": "<0d64537c-c0aa-4573-b69a-aee01a03efc4@local>",
        "subject": "RE: Lot 49 Green Road Estate, Regents Park", "smtp_from": "richq@resultslifecoaching.com.au",
        "smtp_to": ["estimating@beenleighinterior.com.au"]}
    assert (first["smtp_hello"], first["status_detail"], first["direction_id"]) == (
        "localhost", "250 OK id=1jQdTE-00052K-Gx", 0)
    assert (first["device"]["hostname"], first["dst_endpoint"]["port"]) == ("sensor", 25)
    assert second["email"]["from"] == '"Fred Smith" <martin.tor@4salet.com>'
    # a session Zeek saw the greeting of only (STARTTLS): no message, the greeting kept
    tls = _one(_case("elastic-zeek-logs.json"), helo="EXAMPLE.COM")
    assert (tls["class_uid"], tls["email"], tls["status_detail"]) == (4009, None, "220 2.0.0 SMTP server ready")


def test_x509_keeps_the_certificate_serial_validity_and_names() -> None:
    corelight = _case("ocsf-examples-x509.json")[0]  # validity as ISO-8601 text
    cert = corelight["tls"]["certificate"]
    assert (corelight["class_uid"], corelight["activity_id"]) == (4001, 99)
    assert (cert["serial_number"], cert["version"], cert["issuer"]) == (
        "0C34C0B2A945152AF38D0281A8A02B41", "3", "CN=DigiCert Cloud Services CA-1,O=DigiCert Inc,C=US")
    assert (cert["created_time"], cert["expiration_time"]) == (1719446400000, 1750982399000)
    assert cert["fingerprints"] == [{"value": "73556d5e0b4f40194c79d8f803708069c0f3653f306315c314919e9e4fe34d18",
                                     "algorithm_id": 3, "algorithm": "SHA-256"}]
    assert corelight["tls"]["sans"] == [{"name": "ecs.office.com", "type": "DNS"}]
    zeek = _one(_case("elastic-zeek-logs.json"), id="FxZ6gZ3YR6vFlIocq3")  # Zeek's JSON writer: epoch seconds
    assert (zeek["tls"]["certificate"]["serial_number"], zeek["tls"]["certificate"]["created_time"]) == (
        "2D00003299D7071DB7D1708A42000000003299", 1500572828000)
    assert [s["name"] for s in zeek["tls"]["sans"]] == json.loads(zeek["unmapped"])["san.dns"]
    vast = [r for r in _case("tenzir-m57-zeek-more.json") if r.get("tls")]  # "certificate": {...} nested
    assert [(r["tls"]["certificate"]["serial_number"], r["tls"]["certificate"]["expiration_time"]) for r in vast] == [
        ("0FD9082ED1DED61FFBDAD4088EEDD543", 1654898399000)]


def test_noticed_weird_and_intel_are_detection_findings_with_their_evidence() -> None:
    rows = _case("elastic-zeek-logs.json")
    # a weird Zeek only logged (notice false: Weird::actions' ACTION_LOG): what it saw of a connection
    logged = _one(rows, name="dns_unmatched_reply")
    assert (logged["class_uid"], logged["activity_id"], logged["activity_name"], logged["severity_id"]) == (
        4001, 99, "dns_unmatched_reply", 1)
    assert (logged["src_endpoint"]["ip"], logged["dst_endpoint"]["port"]) == ("192.168.1.1", 53)
    alone = _one(rows, name="non_ip_packet_in_ethernet")  # a weird of no connection
    assert (alone["class_uid"], alone["src_endpoint"]) == (4001, None)
    # the same row as Zeek writes it where its action raised a notice too (notice T: weird.zeek's ACTION_NOTICE*)
    noticed = json.loads(logged["unmapped"]) | {"notice": True}
    (weird,) = _rows(msgspec.json.encode(noticed))
    assert (weird["class_uid"], weird["activity_name"], weird["severity_id"]) == (2004, "Create", 0)
    assert (weird["finding_info"]["title"], weird["finding_info"]["analytic"]["name"]) == ("dns_unmatched_reply",) * 2
    assert weird["finding_info"]["uid"] == weird["metadata"]["uid"]
    (ev,) = weird["evidences"]
    assert (ev["src_endpoint"]["ip"], ev["dst_endpoint"]["port"]) == ("192.168.1.1", 53)
    intel = _one(rows, **{"seen.indicator": "eve@malcorp.com"})
    info = intel["finding_info"]
    assert (info["title"], info["desc"], info["types"], info["data_sources"]) == (
        "eve@malcorp.com", "Conn::IN_RESP", ["Intel::EMAIL"], ["ETPRO Rep: AbusedTLD Score: 127"])
    assert intel["evidences"][0]["dst_endpoint"]["ip"] == "89.160.20.156"
    vast = _one(_case("tenzir-m57-zeek-more.json"), name="bad_HTTP_request")
    assert (vast["class_uid"], vast["src_endpoint"]["ip"]) == (4001, "87.251.64.137")  # nested "id": {...}, logged


def test_tunnel_ntp_and_radius_rows_are_their_classes() -> None:
    rows, vast = _case("elastic-zeek-logs.json"), _case("tenzir-m57-zeek-more.json")
    http = _one(rows, tunnel_type="Tunnel::HTTP")
    assert (http["class_uid"], http["activity_name"], http["protocol_name"], http["dst_endpoint"]["port"]) == (
        4014, "Open", "HTTP", 8080)
    assert _one(vast, tunnel_type="Tunnel::GRE")["protocol_name"] == "GRE"
    client, server = sorted(_case("zeek-docs-ntp.json"), key=lambda r: r["time"])
    assert (client["class_uid"], client["activity_name"], client["stratum_id"], client["precision"]) == (
        4013, "Client Synchronization", 0, 0)  # mode 3; stratum 0 unspecified; precision 1 s = 2^0
    assert (server["activity_name"], server["version"], server["stratum"], server["precision"]) == (
        "Server Response", "4", "Secondary Server", -24)  # 5.96e-08 s = 2^-24
    assert (server["delay"], server["dispersion"]) == (9, 21)  # root delay 0.0092 s, dispersion 0.0212 s
    ok, failed = _one(rows, username="John.McGuirk"), _one(rows, username="alice.williams")
    assert (ok["class_uid"], ok["auth_protocol"], ok["auth_protocol_id"], ok["user"]["name"], ok["status"]) == (
        3002, "RADIUS", 10, "John.McGuirk", "Success")
    assert (failed["status_id"], failed["dst_endpoint"]["port"]) == (2, 1812)
    assert (_one(vast, result="unknown")["status_id"], _one(vast, result="unknown").get("user")) == (0, None)


def test_sip_mysql_socks_rows_are_network_activity_and_signatures_findings() -> None:
    rows = _case("elastic-zeek-apps.json")
    # a SIP request has an HTTP request's method and uri: without _path it was taken for http.log (HTTP Activity)
    scan = _one(rows, user_agent="friendly-scanner")
    assert (scan["class_uid"], scan["activity_name"], scan["app_protocol_name"], scan.get("http_request")) == (
        4001, "Traffic", "sip", None)
    assert _one(rows, method="REGISTER")["dst_endpoint"] == {"ip": "74.63.41.218", "port": 5060}
    assert [_one(rows, **k)["app_protocol_name"] for k in ({"cmd": "query"}, {"request_p": 443})] == ["mysql", "socks"]
    sig = _one(rows, sig_id="my-second-sig")
    assert (sig["class_uid"], sig["finding_info"]["title"], sig["finding_info"]["desc"]) == (
        2004, "my-second-sig", "89.160.20.156: TCP traffic")  # an empty sub_msg adds nothing
    assert sig["evidences"][0]["dst_endpoint"] == {"ip": "89.160.20.156", "port": 445}


def test_analyzer_violations_are_failed_network_activity() -> None:
    dpd = _one(_case("elastic-zeek-apps.json"), analyzer="DCE_RPC")
    assert (dpd["class_uid"], dpd["activity_id"], dpd["app_protocol_name"], dpd["status"]) == (4001, 99, "DCE_RPC", "Failure")
    assert dpd["status_detail"].endswith("DCE_RPC_Header:rpc_vers")
    vast = _case("tenzir-m57-zeek-more.json")
    old, new = _one(vast, analyzer="HTTP"), _one(vast, analyzer_name="HTTP")  # dpd.log; Zeek 6.1's analyzer.log
    assert [(r["status_detail"], r["connection_info"]["uid"]) for r in (old, new)] == [
        ("not a http request line", "CWRjLsw4qcfKQfbF2"), ("not a http request line", "Cqp7rtziLijlnrxYf")]


def test_smb_commands_inventories_and_known_certificates() -> None:
    rows = _case("elastic-zeek-apps.json")
    cmd = _one(rows, command="NT_CREATE_ANDX")
    assert (cmd["class_uid"], cmd["command"], cmd["status"], cmd["dialect"], cmd["share"]) == (
        4006, "NT_CREATE_ANDX", "Success", "SMB1", "\\\\JSRVR20\\IPC$")
    assert (cmd["file"]["name"], cmd["connection_info"]["uid"]) == ("\\browser", "CbT8mpAXseu6Pt4R7")
    sw = _one(rows, software_type="HTTP::BROWSER")
    assert (sw["class_uid"], sw["activity_name"], sw["device"]["ip"]) == (5020, "Log", "192.168.4.25")
    assert sw["package"] == {"name": "Windows-Update-Agent", "version": "10.0.10011.16384"}
    cert = _one(rows, serial="98D0AD47D748CDD6")
    assert (cert["class_uid"], cert["dst_endpoint"], cert["tls"]["certificate"]["serial_number"]) == (
        4001, {"ip": "192.168.4.1", "port": 443}, "98D0AD47D748CDD6")
    service = _one(rows, port_proto="udp")
    assert (service["class_uid"], service["device"]["ip"]) == (5001, "192.168.4.1")
    # known_hosts.log (Known::HostsInfo: ts, host) is told by its #path only; built from Elastic's first record
    tsv = b"#separator \\x09\n#path\tknown_hosts\n#fields\tts\thost\n#types\ttime\taddr\n1609636766.260073\t192.168.4.25\n"
    (host,) = _rows(tsv, "zeek_tsv")
    assert (host["class_uid"], host["device"]) == (5001, {"ip": "192.168.4.25", "type_id": 0, "type": "Unknown"})
    # conn_long.log (corelight/zeek-long-connections: Conn::Info records of connections still open) as conn.log's
    conn = json.loads((Path(__file__).resolve().parents[1] / "cases" / "zeek_tsv" / "zeek-docs-conn.json").read_text().splitlines()[0])
    (long,) = _rows(msgspec.json.encode({"_path": "conn_long", **conn}))
    assert (long["class_uid"], long["connection_info"]["uid"]) == (4001, conn["uid"])
    # notice_alarm.log holds Notice::Info records (the notices with ACTION_ALARM): as notice.log's
    alarm = {"_path": "notice_alarm", "ts": 1507565439.130425, "note": "ATTACK::Lateral_Movement", "msg": "m",
             "src": "192.168.10.31", "dst": "192.168.10.30", "p": 445, "actions": ["Notice::ACTION_ALARM"]}
    (finding,) = _rows(msgspec.json.encode(alarm))
    assert (finding["class_uid"], finding["finding_info"]["title"]) == (2004, "ATTACK::Lateral_Movement")


def test_corelight_conn_keeps_the_countries_of_its_endpoints() -> None:
    (r,) = _case("ocsf-examples-conn.json")
    assert (r["class_uid"], r["activity_name"], r["connection_info"]["direction"]) == (4001, "Close", "Outbound")
    assert (r["dst_endpoint"]["location"], r["src_endpoint"].get("location")) == ({"country": "DE"}, None)


def test_ssl_log_of_bro_2_0_keeps_its_issuer_and_validity() -> None:
    # before Bro 2.3 ssl.log named the issuer issuer_subject and held the validity (x509.log came later)
    (r,) = _rows((CASES / "zeek-btest-ssl-basic-ssl-bro20.log").read_bytes(), "zeek_tsv")
    cert = r["tls"]["certificate"]
    assert (cert["issuer"], cert["created_time"], cert["expiration_time"]) == (
        "CN=Google Internet Authority,O=Google Inc,C=US", 1334102677000, 1365639277000)
    assert (r["class_uid"], r["activity_id"], r["tls"]["sni"]) == (4001, 0, "ssl.gstatic.com")  # no established: Unknown


def test_dhcp_log_of_bro_2_2_is_the_acknowledged_lease_between_its_endpoints() -> None:
    # Bro 2.0-2.5 logged a lease on the server's DHCPACK (main.bro's dhcp_ack), one connection a row
    (r,) = _rows((CASES / "zeek-btest-dhcp-bro22.log").read_bytes(), "zeek_tsv")
    assert (r["class_uid"], r["activity_name"], r["lease_dur"]) == (4004, "Ack", 900)
    assert (r["src_endpoint"]["ip"], r["src_endpoint"]["port"], r["src_endpoint"]["mac"]) == ("128.2.6.189", 68,
                                                                                               "90:b1:1c:99:49:29")
    assert (r["dst_endpoint"]["ip"], r["dst_endpoint"]["port"]) == ("128.2.6.152", 67)


def test_zeek_test_baselines_are_read_as_zeek_logs_without_their_masked_times() -> None:
    # btest-diff's banner above the header, #open/#close and every time masked by diff-remove-timestamps: the
    # file was no format's (dead-lettered whole), and a masked ts or times.* each row's dead letter
    for name, count in (("zeek-btest-smb2-smb_mapping.log", 2), ("zeek-btest-smb2-smb_files.log", 3)):
        data = (CASES / name).read_bytes()
        assert (fmt := formats.detect(data[:65536])) is not None and fmt.name == "zeek_tsv", name
        rows = _rows(data, "zeek_tsv")
        assert [r["class_uid"] for r in rows] == [4006] * count
        assert all(r["metadata"]["labels"] == ["secpipe:time_from_receipt"] for r in rows)
        assert all("ts" not in json.loads(r["unmapped"]) and "XXXX" not in r["unmapped"] for r in rows)
    mapping = _rows((CASES / "zeek-btest-smb2-smb_mapping.log").read_bytes(), "zeek_tsv")
    assert [r["share_type"] for r in mapping] == ["File", "Pipe"]
    # the ASCII writer escapes a backslash as \\ (zeek's ODesc::AddBytes): the share is the JSON writer's \\host\share
    assert [r["share"] for r in mapping] == ["\\\\10.0.0.12\\smb2", "\\\\10.0.0.12\\IPC$"]
    assert json.loads(mapping[0]["unmapped"])["path"] == "\\\\10.0.0.12\\smb2"
    # an escaped backslash before "x41" is a backslash and the text x41, not the byte 0x41
    tsv = b"#separator \\x09\n#fields\tts\tuid\tid.orig_h\tid.resp_h\tpath\tshare_type\n#types\ttime\tstring\taddr\taddr\tstring\tstring\n"
    (row,) = _rows(tsv + b"1.5\tC1\t10.0.0.1\t10.0.0.2\t\\\\\\\\h\\\\x41\\x24\tDISK\n", "zeek_tsv")
    assert row["share"] == "\\\\h\\x41$"
    # x509.log of the ssl test (its validity masked too): the certificates' serial numbers kept
    x509 = _rows((CASES / "zeek-btest-ssl-basic-x509.log").read_bytes(), "zeek_tsv")
    assert [(r["tls"]["certificate"]["serial_number"], r["tls"]["certificate"]["expiration_time"]) for r in x509] == [
        ("36F5DA5300000000505E", None), ("0B6771", None)]
    assert [s["name"] for s in x509[0]["tls"]["sans"]] == ["*.gstatic.com", "gstatic.com", "*.metric.gstatic.com"]
    # any other text in a time column is still the row's dead letter
    bad = (CASES / "zeek-btest-smb2-smb_mapping.log").read_bytes().replace(b"XXXXXXXXXX.XXXXXX\tCHh", b"yesterday\tCHh", 1)
    dec = formats.get("zeek_tsv").decode(bad, "t")
    assert [d.reason for d in dec.dead] == ["Zeek TSV log line 10: ts: b'yesterday' is no time"]


def test_a_log_of_another_shape_or_type_stays_a_base_event() -> None:
    # a weird name given as a number (no Zeek writer does): that record stays Base, whole; its neighbour is mapped
    recs = [msgspec.json.decode(x) for x in (CASES / "elastic-zeek-logs.json").read_bytes().splitlines()]
    weirds = [r for r in recs if "peer" in r]
    weirds[0]["name"] = 7
    rows = _rows(b"\n".join(msgspec.json.encode(r) for r in weirds))
    assert sorted((r["class_uid"], json.loads(r["unmapped"])["peer"]) for r in rows) == [(0, "worker-6"), (4001, "ens3f1-4")]


def test_stored_events_conform_to_their_classes() -> None:
    # what these logs cannot give: an endpoint's name or uid (Zeek names endpoints by address); x509.log names
    # no connection nor TLS version; a file Zeek saw no name of (files.log: filename is optional), or no hosts of
    # (VAST's export), a session whose message Zeek did not see (STARTTLS), a RADIUS request naming no user
    allowed = ("constraint at_least_one ['name', 'uid'] none present", "required tls.version missing",
               "constraint at_least_one ['dst_endpoint', 'src_endpoint'] none present", "required file.name missing",
               "required src_endpoint missing", "required email missing", "required user missing")
    seen = set()
    for path in sorted(CASES.glob("*.json")):
        for b in formats.get("json").decode(path.read_bytes(), "t").batches:
            cls = class_name_of(b.column("class_uid")[0].as_py())
            seen.add(cls)
            problems = check_rows(cls, b.to_pylist())
            assert [p for p in problems if not p.endswith(allowed)] == [], (path.name, problems)
    assert seen == {"smb_activity", "network_activity", "network_file_activity", "authentication", "email_activity",
                    "detection_finding", "tunnel_activity", "ntp_activity", "software_info", "inventory_info"}
