"""High-risk deployment tagging against a real lake: Trivy findings + a detection + no review.

Expectations come from the inputs: the Trivy report ``alpine-39-high-critical`` holds 2
CRITICAL vulnerabilities for image ``ghcr.io/aquasecurity/trivy-test-images:alpine-39``; one
detection on ``nginx-deployment`` an hour before; the Kubernetes audit event (Falco sample
``create_deployment.json``, image set to that Trivy image) carries no review. Score =
2 x 25 + 1 x 10 + 20 = 80 -> severity Critical, tagged ``high-risk-deployment``.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pyarrow as pa

from secpipe import formats
from secpipe.respond.deploy_risk import build_stage, targets
from secpipe.respond.finding import FindingRow, findings_batch
from secpipe.respond.options import AlertOptions
from secpipe.respond.stage import AlertStage
from secpipe.runtime.pipeline import Pipeline
from secpipe.transforms.base import run_chain
from tests.integration.respond_peer import Peer

IMAGE = "ghcr.io/aquasecurity/trivy-test-images:alpine-39"


def k8s_event(real: Path, verb: str = "create", review: bool = False) -> pa.RecordBatch:
    ev = json.loads((real / "falco/test/trace_files/k8s_audit/create_deployment.json").read_text())
    ev["verb"] = verb
    ev["requestObject"]["spec"]["template"]["spec"]["containers"][0]["image"] = IMAGE
    if review:
        ev["requestObject"]["metadata"]["annotations"] = {"approved_by": "alice"}
    return formats.get("k8s_audit").decode(json.dumps(ev).encode(), "t").batches[0]


def lake(real: Path, data: Path, deploy_ms: int) -> None:
    p = Pipeline(data)
    trivy = (real / "trivy/alpine-39-high-critical.json.golden").read_bytes()
    p.submit(formats.get("trivy").decode(trivy, "t"))
    det = findings_batch([FindingRow("d-1", deploy_ms - 3600_000, 4, "Shell in container", "shell spawned", "shell",
                                     "sigma/shell", [], [{"type": "deployments", "name": "nginx-deployment"}])], 0)
    old = findings_batch([FindingRow("d-0", deploy_ms - 3 * 86400_000, 4, "Old", "old", "shell", "sigma/shell", [],
                                     [{"type": "deployments", "name": "nginx-deployment"}])], 0)
    from secpipe.formats.base import Decoded

    p.submit(Decoded(batches=[det, old], events=2))
    p.flush()


def test_deployment_scored_from_lake_and_routed(tmp_path: Path, real: Path) -> None:
    data = tmp_path / "data"
    batch = k8s_event(real)
    deploy_ms = batch.column("time")[0].as_py()
    lake(real, data, deploy_ms)
    risk = build_stage("risk", {"type": "deploy_risk", "lookback": "24h"}, data_dir=data)
    peer = Peer()
    os.environ["DR_HOOK"] = f"{peer.url}/hook"
    alerts = AlertStage("alerts", AlertOptions.model_validate({
        "type": "alert", "tick_seconds": 0.02, "receivers": {"sec": {"webhook": {"url_env": "DR_HOOK"}}},
        "route": {"receiver": "sec", "group_wait": "0s", "match": {"tags": "high-risk-deployment"}}}), data)
    alerts.start()
    try:
        out = run_chain([risk, alerts], batch)
        got = peer.wait(1)
    finally:
        alerts.close()
        peer.close()
        del os.environ["DR_HOOK"]
    assert out[0] is batch and len(out) == 2
    f = out[1].to_pylist()[0]
    assert f["class_uid"] == 2004 and f["risk_score"] == 80 and f["severity_id"] == 5
    assert f["finding_info"]["types"] == ["Deployment risk", "high-risk-deployment"]
    assert f["message"] == (f"Deployment of nginx-deployment: risk 80/100 — 2 open critical vulnerabilities in {IMAGE}; "
                            f"1 detection(s) on {IMAGE}, nginx-deployment in the last 24h; "
                            "no review or approval recorded for this deployment")
    details = json.loads(f["unmapped"])
    assert details["critical_vulns"] == 2 and details["high_vulns"] == 0 and details["detections"] == 1
    assert f["finding_info"]["related_events"] == [{"uid": batch.column("metadata")[0]["uid"].as_py()}]
    alert = got[0].json()["alerts"][0]
    assert alert["labels"]["severity"] == "critical" and alert["labels"]["image"] == IMAGE
    assert "high-risk-deployment" in alert["labels"]["tags"].split(",")


def test_review_lowers_score_and_non_deployments_pass(tmp_path: Path, real: Path) -> None:
    data = tmp_path / "data"
    risk = build_stage("risk", {"type": "deploy_risk"}, data_dir=data)
    reviewed = risk.process(k8s_event(real, review=True))
    f = reviewed[1].to_pylist()[0]
    assert f["risk_score"] == 0 and f["severity_id"] == 2 and f["finding_info"]["types"] == ["Deployment risk"]
    get = k8s_event(real, verb="get")
    assert risk.process(get) == [get]
    quiet = build_stage("risk", {"type": "deploy_risk", "min_score": 10}, data_dir=data)
    b = k8s_event(real, review=True)
    assert quiet.process(b) == [b]


def test_github_deployment_targets_from_real_payloads(real: Path) -> None:
    base = real / "octokit-webhooks/payload-examples/api.github.com"
    dep = json.loads((base / "deployment/payload.json").read_text())
    images, repo, names, reviewed = targets({"unmapped": json.dumps(dep), "resources": []})
    assert repo == "Codertocat/Hello-World" and images == [] and not reviewed
    review = json.loads((base / "deployment_review/requested.payload.json").read_text())
    assert targets({"unmapped": review})[3] is bool(review.get("reviewers") or review.get("review"))


def test_github_deployment_event_is_scored(tmp_path: Path, real: Path) -> None:
    body = (real / "octokit-webhooks/payload-examples/api.github.com/deployment/payload.json").read_bytes()
    batch = formats.get("github").decode(body, "t").batches[0]
    out = build_stage("risk", {"type": "deploy_risk"}, data_dir=tmp_path / "data").process(batch)
    assert len(out) == 2
    f = out[1].to_pylist()[0]
    assert f["risk_score"] == 20  # nothing in the lake; only the missing review
    assert f["finding_info"]["title"] == "Deployment risk 20: Codertocat/Hello-World"
    assert {"type": "repository", "name": "Codertocat/Hello-World"}.items() <= f["resources"][0].items()
    push = formats.get("github").decode(
        (real / "octokit-webhooks/payload-examples/api.github.com/push/payload.json").read_bytes(), "t").batches[0]
    assert build_stage("risk", {"type": "deploy_risk"}, data_dir=tmp_path / "data").process(push) == [push]


def test_gitlab_deployment_and_jenkins_deploy_stage(tmp_path: Path) -> None:
    cases = Path(__file__).resolve().parents[1] / "cases/cicd"
    risk = build_stage("risk", {"type": "deploy_risk"}, data_dir=tmp_path / "data")
    gl = formats.get("gitlab").decode((cases / "gitlab_deployment.json").read_bytes(), "t").batches[0]
    out = risk.process(gl)
    assert len(out) == 2 and out[1].to_pylist()[0]["finding_info"]["title"].endswith(": root/test-deployment-webhooks")
    log = (cases / "jenkins_console.log").read_text().replace("[Pipeline] { (Build)", "[Pipeline] { (Deploy to prod)")
    jb = formats.get("jenkins_log").decode(log.encode(), "t").batches[0]
    out = risk.process(jb)
    assert len(out) == 2 and out[1].num_rows == 1  # only the line that opens the deploy stage
    plain = formats.get("jenkins_log").decode((cases / "jenkins_console.log").read_bytes(), "t").batches[0]
    assert risk.process(plain) == [plain]
