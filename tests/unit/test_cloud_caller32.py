"""A caller's address that is no IP address is not put in ``src_endpoint.ip`` (OCSF ``ip_t``), and one written with
its port is split into ``ip`` and ``port``; what is not placed stays in ``unmapped``.

- Entra ID sign-ins (Azure Monitor): a ``callerIpAddress``/``properties.ipAddress`` in CIDR form (``10.0.0.0/24``)
  went into ``src_endpoint.ip``. OCSF's network_endpoint has no CIDR attribute (``subnet_uid`` is a virtual
  subnet's identifier, ``subnet_t`` only on ``device``/``whois``/``osint``): it is kept in ``unmapped``, where
  ``callerIpAddress`` was dropped as mapped. The record: Elastic's signinlogs pipeline test (the first line of
  tests/cases/holdout/elastic-azure-signinlogs.log) with both addresses replaced by a network.
- Azure Storage resource logs: ``callerIpAddress`` is "the IP address of the requester, including the port number"
  (Azure Monitor's StorageBlobLogs reference): ``10.50.0.204:38208`` -> ip and port. The record is built from that
  reference's columns and the resource-log schema (time, resourceId, category, operationName, callerIpAddress...).
- Google Cloud Audit Logs: ``requestMetadata.callerIp`` is ``private`` or ``gce-internal-ip`` for callers Google
  redacts (the AuditLog RequestMetadata reference): no address, kept in ``unmapped.protoPayload``. The record:
  tests/cases/holdout/elastic-gke-k8s-nonmatching-resourcename.log with its callerIp so redacted.
"""

from __future__ import annotations

import orjson

from secpipe import formats
from tests.unit.test_formats_holdout import CASES, _rows


def _decode(doc: dict) -> dict:
    data = orjson.dumps(doc)
    fmt = formats.detect(data)
    assert fmt is not None and fmt.name == "k8s_audit"
    d = fmt.decode(data, "x")
    assert not d.dead
    (row,) = _rows(d)
    return row


def test_signin_from_a_network_keeps_it_unmapped() -> None:
    doc = orjson.loads((CASES / "elastic-azure-signinlogs.log").read_bytes().splitlines()[0])
    doc["callerIpAddress"] = doc["properties"]["ipAddress"] = "10.0.0.0/24"
    row = _decode(doc)
    assert row["class_uid"] == 3002 and row["user"]["name"] == "test@elastic.co"
    assert row["src_endpoint"]["ip"] is None and row["src_endpoint"]["type_id"] == 0  # Unknown: no address
    kept = orjson.loads(row["unmapped"])
    assert kept["callerIpAddress"] == "10.0.0.0/24" and kept["properties"]["ipAddress"] == "10.0.0.0/24"
    doc["callerIpAddress"] = "81.2.69.144"  # one of the two an address: that one
    row = _decode(doc)
    assert row["src_endpoint"]["ip"] == "81.2.69.144" and "callerIpAddress" not in orjson.loads(row["unmapped"])


def test_storage_caller_address_with_its_port() -> None:
    doc = {"time": "2023-12-12T12:12:19.1357605Z",
           "resourceId": "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg/providers/"
                         "Microsoft.Storage/storageAccounts/acct/blobServices/default",
           "category": "StorageWrite", "operationName": "PutBlob", "operationVersion": "2022-11-02",
           "statusCode": 201, "statusText": "Success", "callerIpAddress": "10.50.0.204:38208",
           "identity": {"type": "AccountKey"}, "location": "eastus"}  # fmt: skip
    row = _decode(doc)
    assert (row["src_endpoint"]["ip"], row["src_endpoint"]["port"]) == ("10.50.0.204", 38208)
    assert "callerIpAddress" not in orjson.loads(row["unmapped"])
    for given, ip, port in (("[2001:db8::1]:443", "2001:db8::1", 443), ("2001:db8::1", "2001:db8::1", None),
                            ("10.0.0.0/24", None, None), ("<Redacted>:62289", None, None), ("10.1.2.3:99999", None, None)):
        row = _decode(doc | {"callerIpAddress": given})
        assert (row["src_endpoint"]["ip"], row["src_endpoint"].get("port")) == (ip, port), given
        assert ("callerIpAddress" in orjson.loads(row["unmapped"])) is (ip is None), given


def test_gcp_redacted_caller_is_no_address() -> None:
    doc = orjson.loads((CASES / "elastic-gke-k8s-nonmatching-resourcename.log").read_bytes())
    doc["protoPayload"]["requestMetadata"]["callerIp"] = "gce-internal-ip"
    row = _decode(doc)
    assert row["src_endpoint"]["ip"] is None and row["src_endpoint"]["type_id"] == 0
    kept = orjson.loads(row["unmapped"])["protoPayload"]["requestMetadata"]
    assert kept == {"callerIp": "gce-internal-ip"}  # (callerSuppliedUserAgent placed)
