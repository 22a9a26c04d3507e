"""trivy-operator / Starboard reports, session 32: every severity word they write maps to an OCSF
severity; every kind is read (samples: ``tests/cases/scanners31/SOURCES.md``, ``scanners32/SOURCES.md``)."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import yaml

from secpipe import formats
from secpipe.formats.base import Decoded
from secpipe.schema.conformance import check_rows

CASES = Path(__file__).resolve().parents[1] / "cases" / "scanners31"


def test_starboard_danger_checks_are_high() -> None:
    """Starboard's ConfigAuditReports carry Polaris' two levels, ``warning`` and ``danger`` (the one
    that blocks, its ``dangerCount`` beside ``warningCount``): danger is High (4), where it was Unknown."""
    doc = (CASES / "trivy-operator-configauditreportlist.json").read_bytes()
    d = formats.get("trivy").decode(doc, "x")
    rows = [r for b in d.batches for r in b.to_pylist()]
    assert len(rows) == 5 and {(r["severity_id"], r["severity"]) for r in rows} == {(4, "High")}
    assert {c["severity"] for r in rows for c in r["compliance"]["checks"]} == {"High"}
    assert {'"Severity":"danger"' in r["raw_data"] for r in rows} == {True}  # Starboard's word kept


HERE = Path(__file__).resolve().parents[1] / "cases" / "scanners32"


def _item(name: str) -> dict[str, Any]:
    """A trivy-operator docs / test-fixture listing (YAML) as ``kubectl get -o json`` prints the object."""
    item: dict[str, Any] = yaml.safe_load((HERE / name).read_text())
    bom = item["report"].get("components")
    if isinstance(bom, dict):  # (unquoted in the docs' YAML; a string in the CRD, as CycloneDX has it)
        bom["specVersion"] = str(bom["specVersion"])
    return item


def _decoded(doc: Any) -> tuple[Decoded, list[dict[str, Any]]]:
    data = json.dumps(doc, indent=2).encode()
    fmt = formats.detect(data)
    assert fmt is formats.get("trivy")
    d = fmt.decode(data, "x")
    rows = []
    for b in d.batches:
        got = b.to_pylist()
        assert not check_rows(got[0]["class_name"].lower().replace(" ", "_"), got)
        rows.extend(got)
    return d, rows


def test_sbom_report_is_an_inventory_not_a_dead_letter() -> None:
    """An SbomReport (its report.components a CycloneDX BOM) was dead-lettered as no trivy-operator report,
    and alone taken for a bare BOM by detection: it is read as the sbom format reads a BOM (an inventory
    holds no event, as a CycloneDX BOM without vulnerabilities), beside the List's other reports."""
    sbom, secrets = _item("trivy-operator-sbomreport.yaml"), _item("trivy-operator-exposedsecretreport.yaml")
    d, rows = _decoded(sbom)
    assert (d.events, d.dead, rows) == (0, [], [])
    cluster = copy.deepcopy(sbom) | {"kind": "ClusterSbomReport"}
    d, rows = _decoded({"apiVersion": "v1", "kind": "List", "items": [sbom, secrets, cluster]})
    assert not d.dead and d.events == 2 and [r["class_name"] for r in rows] == ["Data Security Finding"] * 2
    broken = copy.deepcopy(sbom)
    broken["report"]["components"] = "none"
    d, _ = _decoded(broken)
    assert [x.reason for x in d.dead] == ["not a trivy-operator report: SbomReport without report.components (its CycloneDX BOM)"]


def test_exposed_secret_report_docs_sample() -> None:
    d, rows = _decoded(_item("trivy-operator-exposedsecretreport.yaml"))
    assert not d.dead and len(rows) == 2
    assert [(r["data_security"]["pattern_match"], r["severity"], r["file"]["path"]) for r in rows] == [
        ("publishable_key: *****", "High", "/app/config/secret.yaml"), ("secret_key: *****", "High", "/app/config/secret.yaml")]  # fmt: skip
    w = rows[0]["resources"][0]
    assert (w["type"], w["name"], w["namespace"], w["labels"]) == (
        "ReplicaSet", "app-67b77f5965", "default", ["index.docker.io/myimagewithsecret:v1.2.3"])  # fmt: skip
    assert rows[0]["time"] == 1656512977000 and rows[0]["metadata"]["product"]["version"] == "0.66.0"  # updateTimestamp
    assert len({r["finding_info"]["uid"] for r in rows}) == 2  # one rule twice in one file: two findings


def test_rbac_assessment_report_envtest_fixture() -> None:
    d, [r] = _decoded(_item("trivy-operator-rbacassessmentreport-envtest.yaml"))
    assert not d.dead and r["class_name"] == "Compliance Finding" and r["compliance"]["control"] == "KSV113"
    assert (r["resources"][0]["type"], r["resources"][0]["name"], r["resources"][0]["namespace"]) == ("Role", "proxy", "default")
    assert (r["severity"], r["compliance"]["status"], r["status"]) == ("Medium", "Fail", "New")
    assert r["remediation"]["desc"] == "Manage namespace secrets are not allowed. Remove resource 'secrets' from role"
    assert "secpipe:time_from_receipt" in r["metadata"]["labels"]  # (the fixture has no timestamp)


def test_cluster_compliance_detail_report() -> None:
    """trivy-operator's ClusterComplianceDetailReport (before 0.9; its docs' listing, trimmed): each
    failed resource of a control's check one Compliance Finding, was dead-lettered (no kind read)."""
    d, rows = _decoded(_item("trivy-operator-clustercompliancedetailreport.yaml"))
    assert not d.dead and d.events == 5
    assert [(r["compliance"]["control"], r["compliance"]["checks"][0]["uid"], r["resources"][1]["name"]) for r in rows] == [
        ("1.12", "KSV037", "kube-system/replicaset-coredns-96cc4f57d"), ("1.12", "KSV037", "kube-system/replicaset-coredns-5789895cd"),
        ("1.12", "KSV037", "kube-system/daemonset-svclb-traefik"), ("4.0", None, "ResourceQuota"),
        ("1.11", "KSV036", "trivy-operator-itest/pod-nginx-jr99v")]  # fmt: skip
    r = rows[0]
    assert (r["compliance"]["status"], r["severity"], r["time"]) == ("Fail", "Medium", 1648364940000)  # updateTimestamp
    assert r["policy"]["name"] == "Namespace kube-system should not be used by users"
    assert r["policy"]["group"] == {"uid": "nsa-details", "name": "national security agency - kubernetes hardening guidance"}
    assert r["message"] == "ReplicaSet 'coredns-96cc4f57d' should not be set with 'kube-system' namespace"
    assert json.loads(r["unmapped"]) == {"objectType": "ReplicaSet"}


def test_starboard_kube_bench_and_kube_hunter_reports() -> None:
    """Starboard's CISKubeBenchReport and KubeHunterReport (its docs' listings), dead-lettered before (no
    kind read): kube-bench results as Compliance Findings of their node, kube-hunter's as Vulnerability
    Findings of the cluster; Starboard's own resource labels name the workload."""
    d, rows = _decoded(_item("starboard-ciskubebenchreport.yaml"))
    assert not d.dead and [(r["compliance"]["control"], r["compliance"]["status"], r["status"]) for r in rows] == [
        ("1.1.1", "Pass", "Resolved"), ("1.1.2", "Pass", "Resolved")]  # fmt: skip
    r = rows[0]
    assert (r["resources"][0]["type"], r["resources"][0]["name"], r["time"]) == ("Node", "kind-control-plane", 1621511638000)
    assert r["compliance"]["category"] == "Master Node Security Configuration" and r["metadata"]["product"]["version"] == "0.5.0"
    assert r["remediation"]["desc"].startswith("Run the below command") and r["severity"] == "Unknown"  # (kube-bench rates none)
    assert json.loads(r["unmapped"]) == {"node_type": "master", "scored": True, "section": "1.1"}
    warned = _item("starboard-ciskubebenchreport.yaml")
    warned["report"]["sections"][0]["tests"][0]["results"][1]["status"] = "WARN"  # (kube-bench's other words)
    warned["report"]["sections"][0]["tests"][0]["results"][0]["status"] = "INFO"
    _, rows = _decoded(warned)
    assert [(r["compliance"]["status_id"], r["compliance"]["status"]) for r in rows] == [(99, "INFO"), (2, "Warning")]
    d, [v] = _decoded(_item("starboard-kubehunterreport.yaml"))
    assert not d.dead and v["class_name"] == "Vulnerability Finding" and v["severity"] == "Low"
    assert v["vulnerabilities"][0]["advisory"]["uid"] == "CAP_NET_RAW Enabled"  # (vid None: its name)
    assert v["resources"][1]["name"] == "Local to Pod (cf63974f-26a4-43f7-9409-44102fc75900-sl7vq)"
    assert (v["resources"][0]["type"], v["resources"][0]["name"]) == ("Cluster", "cluster")
    assert v["message"] == "CAP_NET_RAW Enabled in Local to Pod (cf63974f-26a4-43f7-9409-44102fc75900-sl7vq)"
    assert json.loads(v["unmapped"]) == {"category": "Access Risk", "evidence": ""}


def test_reports_as_kubectl_get_o_yaml() -> None:
    """``kubectl get ... -o yaml`` (one report, a List, ``---``-separated reports) is read as its JSON is;
    a YAML alias (kubectl writes none; it would expand without bound), nesting past 64 levels (libyaml's
    parse of it grows with the square of the depth) and broken YAML are dead-lettered."""
    text = (HERE / "trivy-operator-exposedsecretreport.yaml").read_bytes()
    assert formats.detect(text) is formats.get("trivy")
    as_yaml = formats.get("trivy").decode(text, "x")
    as_json, _ = _decoded(_item("trivy-operator-exposedsecretreport.yaml"))
    assert [b.to_pylist() for b in as_yaml.batches] == [b.to_pylist() for b in as_json.batches]
    bench = (HERE / "starboard-ciskubebenchreport.yaml").read_bytes()
    listed = "apiVersion: v1\nkind: List\nitems:\n" + "".join(
        "- " + "\n  ".join(t.decode().splitlines()) + "\n" for t in (text, bench))  # fmt: skip
    for doc in (text + b"\n---\n" + bench, listed.encode()):
        d = formats.get("trivy").decode(doc, "x")
        assert not d.dead and sorted(r["class_name"] for b in d.batches for r in b.to_pylist()) == [
            "Compliance Finding", "Compliance Finding", "Data Security Finding", "Data Security Finding"]  # fmt: skip
    alias = text.replace(b"  secrets:\n  - category: Stripe", b"  secrets:\n  - &s\n    category: Stripe", 1) + b"  x: *s\n"
    assert formats.get("trivy").decode(alias, "x").dead[0].reason == (
        "not a trivy-operator report: a YAML alias (kubectl writes none): not read")  # fmt: skip
    deep = formats.get("trivy").decode(text + b"  x: " + b"[" * 200_000 + b"]" * 200_000 + b"\n", "x")  # (in ms)
    assert deep.dead[0].reason == "not a trivy-operator report: YAML nested deeper than 64 levels: not read"
    d = formats.get("trivy").decode(text + b"\n  summary: [unclosed\n", "x")
    assert len(d.dead) == 1 and d.dead[0].reason.startswith("not a trivy-operator report: not YAML: ")


def test_webhook_message_with_verb() -> None:
    """trivy-operator's webhook with webhookSendDeletedReports posts ``{"verb", "operatorObject"}``
    (pkg/webhook's WebhookMsg), which was dead-lettered (no apiVersion at its top): the report is read;
    on ``delete`` its findings are closed (activity Close, status Archived) as events of their own."""
    item = json.loads((Path(__file__).resolve().parents[1] / "cases" / "scanners31" /
                       "trivy-operator-vulnerabilityreportlist.json").read_bytes())["items"][0]  # fmt: skip
    plain, _ = _decoded(item)
    (upd, rows_u), (dele, rows_d) = (_decoded({"verb": v, "operatorObject": item}) for v in ("update", "delete"))
    assert not upd.dead and not dele.dead and len(rows_u) == len(rows_d) == 3
    assert [r["metadata"]["uid"] for r in rows_u] == [r["metadata"]["uid"] for b in plain.batches for r in b.to_pylist()]
    assert {(r["activity_id"], r["activity_name"], r["type_uid"], r["status_id"], r["status"]) for r in rows_d} == {
        (3, "Close", 200203, 5, "Archived")}  # fmt: skip
    assert not {r["metadata"]["uid"] for r in rows_d} & {r["metadata"]["uid"] for r in rows_u}
    assert [r["finding_info"]["uid"] for r in rows_d] == [r["finding_info"]["uid"] for r in rows_u]  # the same findings
