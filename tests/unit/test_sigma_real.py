"""SigmaHQ rules over real events (panther-analysis samples), expectations set by reading both.

Each case names a SigmaHQ rule, a sample record (Records[] index of the CloudTrail file, line
index of NDJSON) and whether it must match; the comment says why (rule condition vs event).
"""

from __future__ import annotations

import json
from pathlib import Path

import msgspec
import pytest
from typer.testing import CliRunner

from secpipe import formats
from secpipe.cli.main import _register, app
from secpipe.detect.sigma import load_rules
from secpipe.detect.sigma.correlation import CorrelationEngine

CT = "panther-analysis/extracted/cloudtrail.json"
K8S = "panther-analysis/extracted/k8s_audit.jsonl"
GH = "panther-analysis/extracted/github_audit.jsonl"
AWS = "sigmahq-sigma/rules/cloud/aws/cloudtrail/"
CASES = [
    # requestParameters|contains Suspended: VersioningConfiguration.Status Suspended, PutBucketVersioning on s3
    (AWS + "aws_disable_bucket_versioning.yml", CT, 220, True),
    (AWS + "aws_disable_bucket_versioning.yml", CT, 224, True),
    (AWS + "aws_disable_bucket_versioning.yml", CT, 213, False),  # Status Enabled
    (AWS + "aws_disable_bucket_versioning.yml", CT, 227, False),  # eventSource ec2, empty requestParameters
    # userAgent contains TruffleHog on sts GetCallerIdentity
    (AWS + "aws_sts_getcalleridentity_trufflehog.yml", CT, 248, True),
    (AWS + "aws_sts_getcalleridentity_trufflehog.yml", CT, 31, False),  # aws-cli user agent
    # UpdateLoginProfile on iam.amazonaws.com
    (AWS + "aws_update_login_profile.yml", CT, 17, True),
    (AWS + "aws_update_login_profile.yml", CT, 258, True),
    (AWS + "aws_vpc_flow_logs_deleted.yml", CT, 260, True),  # if present under this name, DeleteFlowLogs
    # verb create, objectRef.resource pods, objectRef.subresource exec
    ("sigmahq-sigma/rules/application/kubernetes/audit/kubernetes_audit_exec_into_container.yml", K8S, 30, True),
    ("sigmahq-sigma/rules/application/kubernetes/audit/kubernetes_audit_exec_into_container.yml", K8S, 0, False),
    # action org.add_member
    ("sigmahq-sigma/rules/application/github/audit/github_new_org_member.yml", GH, 18, True),
    ("sigmahq-sigma/rules/application/github/audit/github_new_org_member.yml", GH, 0, False),
]


def _record(real: Path, sample: str, idx: int) -> tuple[str, bytes]:
    path = real / sample
    if sample.endswith(".json"):
        rec = json.loads(path.read_text())["Records"][idx]
        return "cloudtrail", msgspec.json.encode({"Records": [rec]})
    line = path.read_text().splitlines()[idx]
    return ("k8s_audit" if "k8s" in sample else "github"), line.encode()


@pytest.mark.parametrize(("rule", "sample", "idx", "expected"), CASES)
def test_sigmahq_rule_on_real_event(real: Path, rule: str, sample: str, idx: int, expected: bool) -> None:
    path = real / rule
    if not path.exists():
        path = real / rule.replace("aws_vpc_flow_logs_deleted", "aws_cloudtrail_vpc_flow_logs_deleted")
    rs = load_rules([path])
    assert not rs.unsupported
    fmt, body = _record(real, sample, idx)
    dec = formats.get(fmt).decode(body, sample)
    assert not dec.dead
    hit = any(rs.matches(b).num_rows for b in dec.batches)
    assert hit is expected


def test_rules_check_supports_all_sigmahq(real: Path) -> None:
    _register()
    out = CliRunner().invoke(app, ["rules", "check", "--json", str(real / "sigmahq-sigma/rules")])
    res = json.loads(out.stdout)
    assert res["total"] == 66 and res["supported"] >= 0.95 * res["total"], res["unsupported"]


def test_hunt_writes_findings_once(real: Path, tmp_path: Path) -> None:
    _register()
    r = CliRunner()
    data = tmp_path / "d"
    assert r.invoke(app, ["ingest", "--data", str(data), str(real / CT)]).exit_code == 0
    rules = str(real / AWS / "aws_update_login_profile.yml")
    first = json.loads(r.invoke(app, ["hunt", "--rules", rules, "--data", str(data), "--json"]).stdout)
    assert first["hits"] == {"055fb148-60f8-462d-ad16-26926ce050f1": 3}  # records 17, 258, 259
    r.invoke(app, ["hunt", "--rules", rules, "--data", str(data), "--json"])
    q = r.invoke(app, ["query", "--data", str(data), "--format", "json", "select count(*) AS n from detection_finding"])
    assert '"n": 3' in q.stdout or '"n":3' in q.stdout


CORR = """
title: base
id: 11111111-2222-4333-8444-000000000001
name: login_profile
status: test
logsource: {product: aws, service: cloudtrail}
detection:
  sel: {eventName: UpdateLoginProfile}
  condition: sel
level: low
---
title: many login profile updates
id: 11111111-2222-4333-8444-000000000002
status: test
correlation:
  type: event_count
  rules: [login_profile]
  group-by: [recipientAccountId]
  timespan: 3650d
  condition: {gte: 2}
level: high
"""


def test_correlation_state_survives_restart(real: Path, tmp_path: Path) -> None:
    rule = tmp_path / "c.yml"
    rule.write_text(CORR)
    rs = load_rules([rule])
    assert len(rs.correlations) == 1
    state = tmp_path / "state" / "sigma" / "s.json"
    clock = lambda: 1_600_000_000.0  # noqa: E731 — injected clock: windows are not expired by wall time
    for i, expect_fire in ((17, False), (258, True)):
        eng = CorrelationEngine(rs, state, clock=clock)  # a fresh engine per event: a restart in between
        fmt, body = _record(real, CT, i)
        b = formats.get(fmt).decode(body, "t").batches[0]
        out = eng.process(b, rs.matches(b))
        assert (out is not None) is expect_fire
    assert out.column("finding_info").field("related_events_count")[0].as_py() == 2
