"""The ``compliance`` transform in the stream: config-built, real events, findings in the lake."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from secpipe.config.models import check
from secpipe.detect.compliance.catalog import load_controls
from secpipe.detect.compliance.report import build_report, violations_of
from secpipe.errors import ConfigError
from secpipe.formats import get
from secpipe.runtime.pipeline import Pipeline
from secpipe.runtime.topology import build_stages
from secpipe.store.query import run

CASE = Path(__file__).resolve().parents[1] / "cases" / "compliance_report"


def _stages(data_dir: Path, **opts):
    cfg, errors = check({"data_dir": str(data_dir), "sources": {"edge": {"type": "http"}},
                         "transforms": {"comp": {"type": "compliance", "inputs": ["edge"], **opts}}})
    assert errors == [], errors
    return build_stages(cfg)


def test_stream_findings_reach_the_lake_and_the_report(data_dir, real):
    (stage,) = _stages(data_dir)
    pipe = Pipeline(data_dir, [stage])
    pipe.submit(get("cloudtrail").decode((CASE / "cloudtrail.json").read_bytes(), "case"))
    pipe.submit(get("k8s_audit").decode((real / "falco/test/trace_files/k8s_audit/exec_pod.json").read_bytes(), "falco"))
    pipe.flush()
    _, rows = run(data_dir, "SELECT compliance.control, finding_info.related_events[1].uid FROM compliance_finding ORDER BY 1")
    assert rows == [("cis-aws-4.10", "99fcfd068c39300e9eb56732f6f81cac"), ("cis-aws-4.3", "d35a6b464746d5ef37a5e48d771974e7"),
                    ("k8s-1-exec-attach", run(data_dir, "SELECT metadata.uid FROM api_activity "
                                                        "WHERE metadata.log_name = 'k8s_audit'")[1][0][0])]
    # The report over the lake (nothing evaluated now) shows what the stream stored.
    rep = build_report(data_dir, "k8s", load_controls(), violations_of(None), generated_at=dt.datetime(2026, 1, 1, tzinfo=dt.UTC))
    statuses = {r["control"]: r["status"] for r in rep["controls"]}
    assert statuses["k8s-1-exec-attach"] == "fail" and statuses["k8s-2-privileged-pod"] == "pass"


def test_pack_selection_and_errors(data_dir):
    (stage,) = _stages(data_dir, packs=["k8s"])
    assert {c.pack for c in stage.controls} == {"k8s"}
    out = stage.process(get("cloudtrail").decode((CASE / "cloudtrail.json").read_bytes(), "case").batches[0])
    assert len(out) == 1, "the CloudTrail controls are not loaded"
    with pytest.raises(ConfigError, match=r"transforms\.comp\.packs: unknown pack\(s\) iso"):
        _stages(data_dir, packs=["iso"])
    _, errors = check({"transforms": {"c": {"type": "compliance", "pack": ["k8s"]}}})
    assert any("transforms.c.pack" in str(e) for e in errors)
