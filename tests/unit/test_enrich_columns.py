"""Nested-field writing helpers used by every enrichment (set_fields, append_lists, labels)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest

from secpipe.formats import get
from secpipe.schema.ocsf import SchemaError, validate_batch
from secpipe.transforms.enrich._columns import add_labels, append_lists, field_values, set_fields


def _batch() -> pa.RecordBatch:
    recs = [{"eventTime": "2026-01-01T00:00:00Z", "eventSource": "s3.amazonaws.com", "eventName": "GetObject",
             "sourceIPAddress": ip, "eventID": str(i),
             "resources": [{"ARN": f"arn:{i}:{j}"} for j in range(i)] or None}
            for i, ip in enumerate(["1.1.1.1", "ec2.amazonaws.com", "2001:db8::1"])]
    return get("cloudtrail").decode(json.dumps({"Records": recs}).encode(), "t").batches[0]


def test_set_fields_merges_into_existing_structs() -> None:
    b = _batch()
    out = set_fields(b, "api_activity", {"src_endpoint.location.country": pa.array(["AU", None, "JP"]),
                                         "src_endpoint.autonomous_system.number": pa.array([13335, None, None], pa.int64())})
    assert validate_batch("api_activity", out.schema) == []
    rows = out.to_pylist()
    ep = rows[0]["src_endpoint"]  # other endpoint fields the format sets (e.g. type) are kept as they were
    assert {k: ep[k] for k in ("ip", "domain", "location", "autonomous_system")} == {
        "ip": "1.1.1.1", "domain": None, "location": {"country": "AU"}, "autonomous_system": {"number": 13335}}
    assert {k: v for k, v in ep.items() if k not in ("ip", "domain", "location", "autonomous_system")} == {
        k: v for k, v in b.column("src_endpoint").to_pylist()[0].items() if k not in ("ip", "domain")}
    assert rows[1]["src_endpoint"]["location"] is None and rows[1]["src_endpoint"]["domain"] == "ec2.amazonaws.com"
    assert out.schema.field("src_endpoint").type.field("autonomous_system").type.field("number").type == pa.int32()
    with pytest.raises(SchemaError, match="not an OCSF attribute"):
        set_fields(b, "api_activity", {"src_endpoint.galaxy": pa.array(["x", "y", "z"])})


def test_list_element_paths_and_values() -> None:
    b = _batch()
    vals, rows = field_values(b, "resources[].uid")
    assert vals.to_pylist() == ["arn:1:0", "arn:2:0", "arn:2:1"] and rows.tolist() == [1, 2, 2]
    out = set_fields(b, "api_activity", {"resources[].criticality": pa.array(["high", None, "low"])})
    assert [[r.get("criticality") for r in x["resources"] or []] for x in out.to_pylist()] == [[], ["high"], [None, "low"]]
    sliced = b.slice(1)
    out = set_fields(sliced, "api_activity", {"resources[].criticality": pa.array(["a", "b", "c"])})
    assert [[r["criticality"] for r in x["resources"]] for x in out.to_pylist()] == [["a"], ["b", "c"]]
    assert field_values(b, "nothing.here") is None and field_values(b, "src_endpoint.nope") is None


def test_append_lists_unifies_struct_types_and_slices() -> None:
    a = pa.array([[{"name": "x"}], None, [{"name": "y"}]], pa.list_(pa.struct([("name", pa.string())])))
    c = pa.array([None, [{"name": "z", "value": "v"}], [{"name": "w", "value": "q"}]],
                 pa.list_(pa.struct([("name", pa.string()), ("value", pa.string())])))
    assert append_lists(a, c).to_pylist() == [[{"name": "x", "value": None}], [{"name": "z", "value": "v"}],
                                              [{"name": "y", "value": None}, {"name": "w", "value": "q"}]]
    assert append_lists(a.slice(1), c.slice(1)).to_pylist()[1] == [{"name": "y", "value": None},
                                                                   {"name": "w", "value": "q"}]
    assert append_lists(None, c) is c


def test_add_labels_keeps_existing() -> None:
    b = add_labels(_batch(), "api_activity", np.array([0, 2, 0]), pa.array(["a", "b", "c"]))
    b = add_labels(b, "api_activity", np.array([0]), pa.array(["d"]))
    assert [r["metadata"].get("labels") for r in b.to_pylist()] == [["a", "c", "d"], None, ["b"]]


def test_all_three_stages_on_real_panther_cloudtrail(real: Path, tmp_path: Path) -> None:
    from secpipe.transforms.enrich.geoip import build_stage as geo
    from secpipe.transforms.enrich.intel.stage import build_stage as intel
    from secpipe.transforms.enrich.lookup import build_stage as lookup

    d = get("cloudtrail").decode((real / "panther-analysis/extracted/cloudtrail.json").read_bytes(), "panther")
    (tmp_path / "a.csv").write_text("account_id,account_name,environment\n123456789012,prod,prod\n")
    stages = [
        intel("i", {"type": "threat_intel", "background_refresh": False,
                    "feeds": [{"name": "f", "path": str(real / "threat-intel/abusech-sslbl/sslipblacklist.csv")}]}),
        geo("g", {"type": "geoip", "city": str(real / "maxmind-db/test-data/GeoIP2-City-Test.mmdb"),
                  "asn": str(real / "maxmind-db/test-data/GeoLite2-ASN-Test.mmdb")}),
        lookup("l", {"type": "lookup", "path": str(tmp_path / "a.csv"), "key": "account_id",
                     "field": "cloud.account.uid", "set": {"cloud.account.name": "account_name"}, "labels": ["environment"]}),
    ]
    total = 0
    for b in d.batches:
        cls = "authentication" if b.column("class_uid")[0].as_py() == 3002 else "api_activity"
        outs = [b]
        for st in stages:
            outs = [o for x in outs for o in st.process(x)]
        assert outs[0].num_rows == b.num_rows
        assert validate_batch(cls, outs[0].schema) == []
        total += outs[0].num_rows
    assert total == d.events - len(d.dead)
