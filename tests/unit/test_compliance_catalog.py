"""Compliance packs: catalog shape, real framework identifiers, finding builder, report, HTML.

The report tests store real CloudTrail events (Panther's corpus) in a lake and add
compliance findings built for chosen events, so statuses and evidence are checked
independently of the Sigma engine (the rule tests and the golden report use the engine).
"""

from __future__ import annotations

import datetime as dt
import re
from html.parser import HTMLParser
from pathlib import Path

import pyarrow as pa
import pytest

from secpipe.detect.compliance.catalog import FRAMEWORKS, ComplianceError, controls_for, load_controls
from secpipe.detect.compliance.findings import compliance_findings
from secpipe.detect.compliance.html import chart_svg, render_html
from secpipe.detect.compliance.report import build_report, timeline, violations_of
from secpipe.formats import get
from secpipe.runtime.pipeline import Pipeline
from secpipe.schema.ocsf import validate_batch
from secpipe.store.lake import Lake

ID_FORMATS = {
    "cis-aws": r"^4\.([1-9]|1[0-5])$",  # CIS AWS Foundations v3.0.0 section 4 (Monitoring) 4.1-4.15
    "pci-dss": r"^([1-9]|1[0-2])(\.\d+){1,3}$",  # PCI DSS v4.0 requirement numbers
    "hipaa": r"^164\.312\([a-e]\)(\(\d\)(\((i|ii|iii|iv)\))?)?$",  # 45 CFR 164.312 paragraphs
    "nist-800-53": r"^(AC|AU|CM|IA|RA|SA|SC|SI)-\d+(\(\d+\))?$",
    "soc2": r"^CC[1-9]\.[1-9]$",
    "k8s": r"^K8S-\d$",
    "cicd": r"^CICD-\d$",
}

# The CIS AWS Foundations Benchmark v3.0.0 monitoring controls, by number.
CIS_V3 = {
    "4.1": "Ensure unauthorized API calls are monitored",
    "4.2": "Ensure management console sign-in without MFA is monitored",
    "4.3": "Ensure usage of the 'root' account is monitored",
    "4.4": "Ensure IAM policy changes are monitored",
    "4.5": "Ensure CloudTrail configuration changes are monitored",
    "4.6": "Ensure AWS Management Console authentication failures are monitored",
    "4.7": "Ensure disabling or scheduled deletion of customer created CMKs is monitored",
    "4.8": "Ensure S3 bucket policy changes are monitored",
    "4.9": "Ensure AWS Config configuration changes are monitored",
    "4.10": "Ensure security group changes are monitored",
    "4.11": "Ensure Network Access Control Lists (NACL) changes are monitored",
    "4.12": "Ensure changes to network gateways are monitored",
    "4.13": "Ensure route table changes are monitored",
    "4.14": "Ensure VPC changes are monitored",
    "4.15": "Ensure AWS Organizations changes are monitored",
}


@pytest.fixture(scope="module")
def controls():
    return load_controls()


def test_every_control_maps_to_every_framework_with_real_ids(controls):
    assert {c.pack for c in controls} == {"cis-aws", "k8s", "cicd"}
    for c in controls:
        for fw in ("pci-dss", "hipaa", "nist-800-53", "soc2", c.pack):
            ids = c.frameworks.get(fw)
            assert ids, f"{c.id} has no {fw} mapping"
            for i in ids:
                assert re.match(ID_FORMATS[fw], i), f"{c.id}: {fw} id {i!r} is not a {fw} identifier"
        assert c.rules and all(r.path.is_file() for r in c.rules)


def test_cis_numbering_is_v3(controls):
    cis = {c.frameworks["cis-aws"][0]: c.title for c in controls_for("cis-aws", controls)}
    assert cis == CIS_V3


def test_frameworks_are_documented(controls):
    readme = (Path(__file__).resolve().parents[2] / "rules" / "compliance" / "README.md").read_text()
    for name in FRAMEWORKS:
        assert f"`{name}`" in readme
    for c in controls:
        assert f"`{c.id}`" in readme, f"{c.id} missing from rules/compliance/README.md"


def test_unknown_framework_is_an_error(controls):
    with pytest.raises(ComplianceError, match="use one of: cis-aws, pci-dss"):
        controls_for("iso27001", controls)


def test_bad_pack_block_names_the_file_and_key(tmp_path):
    (tmp_path / "x.yml").write_text(
        "title: t\nid: 1\nlogsource: {product: aws}\ndetection: {s: {a: 1}, condition: s}\n"
        "compliance: {control: c-1, title: T, pack: cis-aws, frameworks: {iso: ['1']}, data: [{class: api_activity}]}\n"
    )
    with pytest.raises(ComplianceError, match=r"x\.yml: unknown framework\(s\) iso"):
        load_controls(tmp_path)
    (tmp_path / "x.yml").write_text("title: t\ncompliance: {control: c-1, pack: cis-aws}\n")
    with pytest.raises(ComplianceError, match=r"x\.yml: compliance\.title: Field required"):
        load_controls(tmp_path)


# ---------------------------------------------------------------------------------------


@pytest.fixture
def ct_lake(real, data_dir):
    """A lake holding Panther's CloudTrail test events; returns (data_dir, api_activity batch)."""
    dec = get("cloudtrail").decode((real / "panther-analysis/extracted/cloudtrail.json").read_bytes(), "t")
    pipe = Pipeline(data_dir)
    pipe.submit(dec)
    pipe.flush()
    api = next(b for b in dec.batches if b.column("class_uid")[0].as_py() == 6003)
    return data_dir, api


def _matches(control, batch, rows):
    uids = batch.column("metadata").field("uid").take(rows)
    times = batch.column("time").take(rows)
    return pa.table({"rule_id": [control.rules[0].id] * len(rows), "event_uid": uids, "event_time": times,
                     "event_class": ["api_activity"] * len(rows)})


def by_id(controls, cid):
    return next(c for c in controls if c.id == cid)


def test_compliance_finding_is_valid_ocsf(controls, ct_lake):
    _, api = ct_lake
    root = by_id(controls, "cis-aws-4.3")
    f = compliance_findings(controls, _matches(root, api, [0, 1]), 1_800_000_000_000)
    assert validate_batch("compliance_finding", f.schema) == []
    r = f.to_pylist()[0]
    assert r["class_uid"] == 2003 and r["type_uid"] == 200301 and r["severity"] == "High"
    assert r["compliance"]["control"] == "cis-aws-4.3"
    assert r["compliance"]["status"] == "Fail" and r["compliance"]["status_id"] == 3
    assert "PCI DSS 10.2.1.2" in r["compliance"]["requirements"] and "HIPAA 164.312(b)" in r["compliance"]["requirements"]
    assert "CIS AWS 4.3" in r["compliance"]["requirements"] and "SOC 2 CC6.1" in r["compliance"]["requirements"]
    assert r["finding_info"]["related_events"] == [{"uid": api.column("metadata").field("uid")[0].as_py()}]
    assert r["time"] == api.column("time")[0].as_py()
    again = compliance_findings(controls, _matches(root, api, [0, 1]), 1)
    assert again.column("metadata").field("uid").equals(f.column("metadata").field("uid"))
    unknown = pa.table({"rule_id": ["not-a-pack-rule"], "event_uid": ["x"], "event_time": [1], "event_class": ["api_activity"]})
    assert compliance_findings(controls, unknown, 1) is None


def test_report_statuses_evidence_and_merge(controls, ct_lake):
    data_dir, api = ct_lake
    root, sg = by_id(controls, "cis-aws-4.3"), by_id(controls, "cis-aws-4.10")
    stored = compliance_findings(controls, _matches(root, api, [3, 4]), 1)
    lake = Lake(data_dir / "lake")
    lake.append(stored)
    lake.flush()
    # Evaluated now: one finding already stored (same uid) plus one new, and one for 4.10.
    fresh = pa.concat_tables([_matches(root, api, [4, 5]), _matches(sg, api, [6])])
    evaluated = violations_of(compliance_findings(controls, fresh, 2))
    now = dt.datetime(2026, 11, 29, 8, 0, tzinfo=dt.UTC)
    rep = build_report(data_dir, "cis-aws", controls, evaluated, generated_at=now)
    rows = {r["control"]: r for r in rep["controls"]}
    uid = api.column("metadata").field("uid").to_pylist()
    assert rows["cis-aws-4.3"]["status"] == "fail" and rows["cis-aws-4.3"]["violations"] == 3
    assert set(rows["cis-aws-4.3"]["evidence"]) == {uid[3], uid[4], uid[5]}
    assert rows["cis-aws-4.10"]["evidence"] == [uid[6]]
    assert rows["cis-aws-4.1"]["status"] == "pass" and rows["cis-aws-4.1"]["violations"] == 0
    assert rep["summary"] == {"controls": 15, "pass": 13, "fail": 2, "no data": 0, "violations": 4}
    assert rep["generated_at"] == "2026-11-29T08:00:00Z"
    k8s = build_report(data_dir, "k8s", controls, evaluated, generated_at=now)
    assert {r["status"] for r in k8s["controls"]} == {"no data"}
    hipaa = build_report(data_dir, "hipaa", controls, evaluated, generated_at=now)
    reqs = {q["requirement"]: q for q in hipaa["requirements"]}
    assert reqs["164.312(a)(2)(i)"]["status"] == "fail"  # root use (4.3) maps there
    assert reqs["164.312(e)(1)"]["status"] == "fail"  # security group change (4.10)
    assert reqs["164.312(d)"]["status"] == "pass"  # 4.2 / 4.6 have data, no violations


def test_timeline_buckets_fill_gaps():
    day = 86_400_000
    t0 = int(dt.datetime(2026, 11, 1, tzinfo=dt.UTC).timestamp() * 1000)
    tl = timeline([t0, t0 + 2 * day, t0 + 2 * day + 5])
    assert tl == {"bucket": "day", "series": [{"start": "2026-11-01", "violations": 1},
                                              {"start": "2026-11-02", "violations": 0},
                                              {"start": "2026-11-03", "violations": 2}]}
    assert timeline([t0, t0 + 200 * day])["bucket"] == "week"
    long = timeline([t0, t0 + 800 * day])
    assert long["bucket"] == "month" and long["series"][0] == {"start": "2026-11-01", "violations": 1}
    assert len(long["series"]) == 27


class _Doc(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.attrs: list[tuple[str, str | None]] = []
        self.bars = 0
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        self.attrs.extend(attrs)
        if tag == "rect" and dict(attrs).get("fill") == "#9b1c1c":
            self.bars += 1

    def handle_data(self, data):
        self.text.append(data)


def test_html_is_self_contained_and_escaped(controls, ct_lake):
    data_dir, api = ct_lake
    ev = violations_of(compliance_findings(controls, _matches(by_id(controls, "cis-aws-4.3"), api, [0, 1, 2]), 1))
    rep = build_report(data_dir, "pci-dss", controls, ev, generated_at=dt.datetime(2026, 11, 29, tzinfo=dt.UTC))
    rep["description"] = "<script>alert(1)</script>"
    page = render_html(rep)
    doc = _Doc()
    doc.feed(page)
    assert "script" not in doc.tags and "link" not in doc.tags and "img" not in doc.tags
    assert not [v for k, v in doc.attrs if k in ("src", "href")]
    assert "svg" in doc.tags and doc.bars == sum(1 for p in rep["timeline"]["series"] if p["violations"])
    text = " ".join(doc.text)
    assert "<script>alert(1)</script>" in text  # shown as text, not markup
    assert "PCI DSS v4.0" in text and "FAIL" in text and "NO DATA" in text and "10.2.1.2" in text
    assert "No violations recorded." in chart_svg({"bucket": "day", "series": []})
