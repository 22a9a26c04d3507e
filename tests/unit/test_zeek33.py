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
