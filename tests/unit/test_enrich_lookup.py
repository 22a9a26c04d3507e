"""lookup stage: exact / prefix / glob / CIDR joins, list elements, labels, unmapped, hot reload."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

from secpipe.errors import ConfigError
from secpipe.formats import get
from secpipe.schema.ocsf import validate_batch
from secpipe.transforms.enrich.lookup import LookupStage, Matcher, build_stage, glob_regex
from secpipe.transforms.enrich.options import LookupOptions

ASSETS = """account_id,account_name,owner,team,environment,criticality,classification
123456789012,prod-payments,alice@example.com,payments,prod,high,confidential
210987654321,dev-sandbox,bob@example.com,platform,dev,low,internal
"""


def ct_batch(items: list[tuple[str, str]], resources: list[list[str]] | None = None) -> pa.RecordBatch:
    recs = []
    for i, (ip, acct) in enumerate(items):
        r: dict[str, Any] = {"eventTime": "2026-01-01T00:00:00Z", "eventSource": "s3.amazonaws.com",
                             "eventName": "GetObject", "sourceIPAddress": ip, "recipientAccountId": acct, "eventID": str(i)}
        if resources and resources[i]:
            r["resources"] = [{"ARN": a, "type": "AWS::S3::Object"} for a in resources[i]]
        recs.append(r)
    return get("cloudtrail").decode(json.dumps({"Records": recs}).encode(), "t").batches[0]


def test_exact_account_join_labels_and_unmapped(tmp_path: Path) -> None:
    (tmp_path / "assets.csv").write_text(ASSETS)
    st = build_stage("assets", {"type": "lookup", "path": str(tmp_path / "assets.csv"), "key": "account_id",
                                "field": "cloud.account.uid", "set": {"cloud.account.name": "account_name"},
                                "labels": ["environment", "criticality"], "unmapped": ["team", "owner"]})
    b = ct_batch([("1.1.1.1", "123456789012"), ("2.2.2.2", "210987654321"), ("3.3.3.3", "999")])
    out = st.process(b)[0]
    assert validate_batch("api_activity", out.schema) == []
    rows = out.to_pylist()
    assert [r["cloud"]["account"].get("name") for r in rows] == ["prod-payments", "dev-sandbox", None]
    assert sorted(rows[0]["metadata"]["labels"]) == ["criticality:high", "environment:prod"]
    assert rows[2]["metadata"].get("labels") is None
    assert json.loads(rows[0]["unmapped"])["assets"] == {"owner": "alice@example.com", "team": "payments"}
    assert rows[2]["unmapped"] == b.to_pylist()[2]["unmapped"]


def test_unmapped_merges_into_existing_json(tmp_path: Path) -> None:
    (tmp_path / "assets.csv").write_text(ASSETS)
    st = build_stage("a", {"type": "lookup", "path": str(tmp_path / "assets.csv"), "key": "account_id",
                           "field": "cloud.account.uid", "unmapped": ["team"]})
    recs = [{"eventTime": "2026-01-01T00:00:00Z", "eventSource": "s3.amazonaws.com", "eventName": "GetObject",
             "recipientAccountId": "123456789012", "requestParameters": {"bucketName": "b"}}]
    b = get("cloudtrail").decode(json.dumps({"Records": recs}).encode(), "t").batches[0]
    merged = json.loads(st.process(b)[0].to_pylist()[0]["unmapped"])
    assert merged["requestParameters"] == {"bucketName": "b"} and merged["a"] == {"team": "payments"}


def test_glob_on_resource_elements(tmp_path: Path) -> None:
    (tmp_path / "arns.yaml").write_text(
        "resources:\n"
        "  - {arn: 'arn:aws:s3:::prod-*', criticality: high, owner: data-team, tags: [pii, gdpr], environment: prod}\n"
        "  - {arn: 'arn:aws:s3:::*', criticality: low, owner: unknown, environment: dev}\n")
    st = build_stage("res", {"type": "lookup", "path": str(tmp_path / "arns.yaml"), "key": "arn", "match": "glob",
                             "field": "resources[].uid", "labels": ["environment"],
                             "set": {"resources[].criticality": "criticality", "resources[].owner.name": "owner",
                                     "resources[].labels": "tags"}})
    b = ct_batch([("1.1.1.1", "1"), ("2.2.2.2", "1"), ("3.3.3.3", "1")],
                 [["arn:aws:s3:::prod-data/k", "arn:aws:s3:::logs/k"], ["arn:aws:ec2:us-east-1:1:instance/i-1"], []])
    out = st.process(b)[0]
    assert validate_batch("api_activity", out.schema) == []
    rows = out.to_pylist()
    res = rows[0]["resources"]
    assert [(x["criticality"], x["owner"]["name"], x["labels"]) for x in res] == [
        ("high", "data-team", ["pii", "gdpr"]), ("low", "unknown", None)]
    assert res[0]["uid"] == "arn:aws:s3:::prod-data/k"  # existing fields are kept
    assert sorted(rows[0]["metadata"]["labels"]) == ["environment:dev", "environment:prod"]
    assert rows[1]["resources"][0].get("criticality") is None and rows[1]["metadata"].get("labels") is None
    assert rows[2]["resources"] is None


def test_cidr_most_specific_and_ipv6(tmp_path: Path) -> None:
    (tmp_path / "nets.json").write_text(json.dumps([
        {"cidr": "10.0.0.0/8", "zone": "corp"}, {"cidr": "10.1.0.0/16", "zone": "dc1"},
        {"cidr": "10.1.2.3/32", "zone": "bastion"}, {"cidr": "2001:db8::/32", "zone": "v6lab"}]))
    st = build_stage("nets", {"type": "lookup", "path": str(tmp_path / "nets.json"), "key": "cidr", "match": "cidr",
                              "field": "src_endpoint.ip", "labels": ["zone"]})
    b = ct_batch([("10.1.2.3", "1"), ("10.1.9.9", "1"), ("10.200.0.1", "1"), ("2001:db8:1::1", "1"), ("11.0.0.1", "1"),
                  ("ec2.amazonaws.com", "1")])
    labels = [r["metadata"].get("labels") for r in st.process(b)[0].to_pylist()]
    assert labels == [["zone:bastion"], ["zone:dc1"], ["zone:corp"], ["zone:v6lab"], None, None]


def test_prefix_longest_wins_and_case() -> None:
    m = Matcher(pa.array(["ghcr.io/acme/", "ghcr.io/acme/payments", "docker.io/"]), "prefix", case_sensitive=False)
    got = m.match(pa.array(["GHCR.io/acme/payments-api:1.2", "ghcr.io/acme/web:3", "quay.io/x", None, "docker.io/library/nginx"]))
    assert got.tolist() == [1, 0, -1, -1, 2]
    ex = Matcher(pa.array(["a", "b", "a"]), "exact", case_sensitive=True)
    assert ex.match(pa.array(["a", "A", "b", None])).tolist() == [0, -1, 1, -1]


def test_glob_regex() -> None:
    assert glob_regex("a*b?.c") == r"(?s)^a.*b.\.c$"
    assert glob_regex("x[!0-9]") == "(?s)^x[^0-9]$"
    m = Matcher(pa.array(["prod-*", "*-staging", "dev-[0-9]"]), "glob", case_sensitive=True)
    assert m.match(pa.array(["prod-eu", "api-staging", "dev-7", "dev-x", "prod-x-staging"])).tolist() == [0, 1, 2, -1, 0]


def test_hot_reload_and_bad_reload(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    p = tmp_path / "assets.csv"
    p.write_text(ASSETS)
    now = [0.0]
    st = LookupStage("a", LookupOptions(path=str(p), key="account_id", field="cloud.account.uid",
                                        set={"cloud.account.name": "account_name"}, check_every=5), clock=lambda: now[0])
    b = ct_batch([("1.1.1.1", "123456789012")])
    assert st.process(b)[0].to_pylist()[0]["cloud"]["account"]["name"] == "prod-payments"
    p.write_text(ASSETS.replace("prod-payments", "prod-payments-v2"))
    os.utime(p, ns=(1, 10**18))
    now[0] = 6
    assert st.process(b)[0].to_pylist()[0]["cloud"]["account"]["name"] == "prod-payments-v2"
    assert st.status()["reloads"] == 1
    p.write_text("account_id\n123\n")  # the `account_name` column is gone: keep the old table
    os.utime(p, ns=(1, 2 * 10**18))
    now[0] = 12
    with caplog.at_level("ERROR", logger="secpipe.enrich.lookup"):
        assert st.process(b)[0].to_pylist()[0]["cloud"]["account"]["name"] == "prod-payments-v2"
    assert "no column(s) account_name" in caplog.text and st.status()["error"]


def test_startup_errors_name_the_fix(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read lookup table"):
        build_stage("a", {"type": "lookup", "path": str(tmp_path / "none.csv"), "key": "k", "field": "cloud.account.uid"})
    (tmp_path / "t.yaml").write_text("just: [a, b]: c")
    with pytest.raises(ConfigError, match="does not parse"):
        build_stage("a", {"type": "lookup", "path": str(tmp_path / "t.yaml"), "key": "k", "field": "cloud.account.uid"})
