"""Sigma detections of the twenty-ninth round: every ATT&CK tactic a rule tags in ``attacks``.

Rules: SigmaHQ's, as /work/shared/data/real/sigmahq-sigma keeps them (SigmaHQ/sigma at 8eaafff1f2).
Events: Panther's CloudTrail test records (panther-analysis/extracted/cloudtrail.json).
"""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa

from secpipe import formats
from secpipe.detect.sigma import findings, load_rules
from secpipe.schema.conformance import check_rows

S3BROWSER = "sigmahq-sigma/rules/cloud/aws/cloudtrail/aws_iam_s3browser_user_or_accesskey_creation.yml"


def _cloudtrail(real: Path, event: str, agent: str) -> dict:
    """Panther's CreateAccessKey record whose caller wrote ``agent`` (the aws-sdk-go one), as logged."""
    recs = json.loads((real / "panther-analysis/extracted/cloudtrail.json").read_text())["Records"]
    return next(r for r in recs if r["eventName"] == event and r["userAgent"].startswith(agent))


def test_multi_tactic_rule_finding_holds_each_tactic_technique_pair(real: Path) -> None:
    rs = load_rules([real / S3BROWSER])
    rec = _cloudtrail(real, "CreateAccessKey", "aws-sdk-go-v2")
    # S3 Browser's user agent as Permiso's GUI-vil report (the rule's reference) quotes it
    hit = dict(rec, userAgent="S3 Browser 9.5.5 https://s3browser.com")
    body = json.dumps({"Records": [hit, rec]}).encode()
    (batch,) = formats.get("cloudtrail").decode(body, "t").batches
    (f,) = pa.Table.from_batches([findings(rs, batch, rs.matches(batch))]).to_pylist()  # not the aws-sdk-go call
    pairs = {(a["tactic"]["uid"], a["technique"]["uid"], (a["sub_technique"] or {}).get("uid")) for a in f["attacks"]}
    # tags: privilege-escalation, execution, persistence, initial-access, stealth; t1059.009, t1078.004
    tactics = {"TA0004", "TA0002", "TA0003", "TA0001", "TA0005"}
    assert pairs == {(t, s[:5], s) for t in tactics for s in ("T1059.009", "T1078.004")}
    assert len(f["attacks"]) == 10 and f["finding_info"]["attacks"] == f["attacks"]
    assert not check_rows("detection_finding", [f])
