"""Zeek x509.log: Corelight's hosts (``tx`` sent the certificate, ``rx`` got it) as the endpoints, every subject
alternative name typed. The Corelight record: tests/cases/zeek_more/ocsf-examples-x509.json (ocsf/examples)."""

from __future__ import annotations

from pathlib import Path

import msgspec

from secpipe import formats

CORELIGHT = Path(__file__).parents[1] / "cases" / "zeek_more" / "ocsf-examples-x509.json"


def _row(record: dict) -> dict:
    dec = formats.get("json").decode(msgspec.json.encode(record), "t")
    assert dec.dead == []
    (row,) = [r for b in dec.batches for r in b.to_pylist()]
    return row


def test_corelight_x509_hosts_are_the_endpoints() -> None:
    rec = msgspec.json.decode(CORELIGHT.read_bytes())
    server = _row(rec)  # host_cert true, client_cert false: tx the server
    assert (server["class_uid"], server["src_endpoint"]["ip"], server["dst_endpoint"]["ip"]) == (
        4001, "192.168.100.10", "52.123.249.188")
    client = _row(rec | {"client_cert": True, "host_cert": True, "tx": "192.168.100.10", "rx": "52.123.249.188"})
    assert (client["src_endpoint"]["ip"], client["dst_endpoint"]["ip"]) == ("192.168.100.10", "52.123.249.188")


def test_every_subject_alternative_name_is_kept_typed() -> None:
    # X509::Info's san.dns / san.uri / san.email / san.ip (Zeek's base/files/x509/main.zeek), as its JSON writer logs them
    rec = msgspec.json.decode(CORELIGHT.read_bytes()) | {
        "san.dns": ["ecs.office.com"], "san.ip": ["10.1.2.3"], "san.email": ["pki@example.com"], "san.uri": None}
    sans = _row(rec)["tls"]["sans"]
    assert sans == [{"name": "ecs.office.com", "type": "DNS"}, {"name": "10.1.2.3", "type": "IP Address"},
                    {"name": "pki@example.com", "type": "Email"}]


def test_corelight_suricata_alerts_are_detection_findings() -> None:
    # a suricata_corelight.log record: the fields of corelight/Chronicle's log-schemas/suricata_corelight.rst,
    # values as Corelight's documentation prints its example
    rec = {"_path": "suricata_corelight", "_system_name": "sensor.lan", "_write_ts": "2020-04-20T18:47:54.345633Z",
           "ts": "2020-04-20T18:47:54.339051Z", "uid": "CoO6zA3B7cX7KT6v07", "id.orig_h": "10.3.11.194",
           "id.orig_p": 50136, "id.resp_h": "203.0.113.98", "id.resp_p": 447, "suri_id": "SYy9Irj5XdH2",
           "service": "tls", "flow_id": 504752850478551, "tx_id": 0, "alert.action": "allowed", "alert.gid": 1,
           "alert.signature_id": 2810654, "alert.rev": 4,
           "alert.signature": "ETPRO POLICY Possibly Suspicious example.com SSL Cert",
           "alert.category": "A Network Trojan was detected", "alert.severity": 1,
           "community_id": "1:q5mSw5JpjV6tvM5dzM00Y0AQDlc="}
    row = _row(rec)
    info = row["finding_info"]
    assert (row["class_uid"], row["severity"], row["metadata"]["product"]["name"]) == (2004, "High", "Suricata")
    assert (info["title"], info["analytic"]["uid"], info["types"]) == (
        "ETPRO POLICY Possibly Suspicious example.com SSL Cert", "1:2810654:4", ["A Network Trojan was detected"])
    (ev,) = row["evidences"]
    assert (ev["src_endpoint"]["ip"], ev["dst_endpoint"]["port"]) == ("10.3.11.194", 447)
    low = _row({k: v for k, v in rec.items() if k != "_path"} | {"alert.severity": 3})  # no _path: by its keys
    assert (low["class_uid"], low["severity"]) == (2004, "Low")
