"""Real samples secpipe was not developed against, second round (``tests/cases/holdout``, see its SOURCE.md).

As in ``test_formats_holdout.py``: each file is ingested by auto-detection and checked against
what the file itself holds and against the format's specification mapped to OCSF 1.8.0. The
expectations were written from the source documents and the schema, not from secpipe's output.

Regressions covered (each was wrong or missing on the real file): ``snyk container test --json``
``applications[]`` not stored; ``trivy k8s`` reports not recognized and Trivy license findings
dropped; GitHub audit-stream events whose action verb says nothing given activity Other instead
of their ``operation_type``; GitLab system hooks dead-lettered and streamed Git operations given
activity Other; EKS audit logs in CloudWatch Logs envelopes dead-lettered; Grafana Alerting's
webhook keys dropped; syslog ``Feb 29`` without a year rolled into March, rsyslog's "message
repeated N times" failures lost, PAM rhost names dropped, old ``sshd(pam_unix)`` lines and
macOS ``TAG[PID]`` without a colon not parsed.
"""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from secpipe import formats
from secpipe.formats import _fast
from tests.unit.native_support import same_both_ways
from tests.unit.test_formats_holdout import CASES, _auto, _rows

NATIVE = pytest.mark.skipif(not _fast.available(), reason="native extension not built (or SECPIPE_NATIVE=0)")


# --------------------------------------------------------------------------------------
# Snyk container
# --------------------------------------------------------------------------------------

SNYK_CONTAINER = "test-report-container-with-app-vulns.json"


def test_snyk_container_applications_are_findings() -> None:
    name, d = _auto(SNYK_CONTAINER)
    assert name == "snyk" and not d.dead
    rows = _rows(d)
    assert d.events == len(rows) == 2  # 1 OS package issue + 1 in the Go binary found in the image
    by_id = {r["finding_info"]["uid"].split("|")[0]: r for r in rows}
    os_pkg, app = by_id["SNYK-DEBIAN10-ZLIB-2976149"], by_id["SNYK-GOLANG-GOLANGORGXCRYPTOSSH-551923"]
    assert {r["finding_info"]["product"]["name"] for r in rows} == {"Snyk Container"}
    # the image project
    res = os_pkg["resources"][0]
    assert (res["name"], res["uid"]) == ("docker-image|vulnerable", "vulnerable:latest")
    assert json.loads(res["data"]) == {"org": "appsec-playground", "packageManager": "deb", "platform": "linux/amd64",
                                       "baseImage": "python:3.11.0b3-slim-buster"}  # fmt: skip
    assert os_pkg["severity_id"] == 5 and os_pkg["vulnerabilities"][0]["cve"]["uid"] == "CVE-2022-37434"
    assert os_pkg["vulnerabilities"][0]["is_fix_available"] is False
    # the application: its own project (targetFile the binary), its own package manager
    res = app["resources"][0]
    assert (res["name"], res["uid"]) == ("mymod", "vulnerable:latest")
    assert json.loads(res["data"]) == {"org": "appsec-playground", "packageManager": "gomodules", "targetFile": "/bin/gobin"}
    v = app["vulnerabilities"][0]
    assert app["severity_id"] == 4 and v["cve"]["uid"] == "CVE-2020-9283"
    pkg = v["affected_packages"][0]
    assert (pkg["name"], pkg["version"], pkg["fixed_in_version"]) == (
        "golang.org/x/crypto/ssh", "#c2843e01d9a2", "0.0.0-20200220183623-bac4c82f6975")  # fmt: skip
    assert v["is_exploit_available"] is True  # exploit: Functional
    assert "GHSA-ffhg-7mh4-33c4" in v["related_vulnerabilities"]


def test_snyk_container_array_of_images() -> None:
    """``snyk container test img1 img2 --json`` prints an array of image reports, each with applications."""
    doc = json.loads((CASES / SNYK_CONTAINER).read_text())
    other = copy.deepcopy(doc)
    other["path"], other["applications"][0]["path"] = "other:1", "other:1"
    other["applications"].append(copy.deepcopy(other["applications"][0]) | {"targetFile": "/usr/bin/x"})
    d = formats.get("snyk").decode(json.dumps([doc, other]).encode(), "src")
    assert not d.dead and d.events == 5
    where = sorted((r["resources"][0]["uid"], r["resources"][0]["name"]) for r in _rows(d))
    assert where == [("other:1", "docker-image|vulnerable"), ("other:1", "mymod"), ("other:1", "mymod"),
                     ("vulnerable:latest", "docker-image|vulnerable"), ("vulnerable:latest", "mymod")]  # fmt: skip


@NATIVE
def test_snyk_container_same_both_ways(monkeypatch: pytest.MonkeyPatch) -> None:
    doc = json.loads((CASES / SNYK_CONTAINER).read_text())
    docs = [doc]
    bad = copy.deepcopy(doc)
    bad["applications"][0]["vulnerabilities"][0]["severity"] = 7  # irregular: the msgspec path decides
    docs.append(bad)
    lic = copy.deepcopy(doc)
    lic["applications"][0]["vulnerabilities"].append({"type": "license", "id": "snyk:lic:golang:x:GPL-2.0",
                                                      "license": "GPL-2.0", "severity": "high", "title": "GPL-2.0 license",
                                                      "packageName": "x", "version": "1.0", "from": ["mymod@*", "x@1.0"]})  # fmt: skip
    docs.append(lic)
    for i, x in enumerate(docs):
        same_both_ways("snyk", json.dumps(x).encode(), monkeypatch, i)


# --------------------------------------------------------------------------------------
# Trivy: Kubernetes cluster scans, license scans
# --------------------------------------------------------------------------------------

K8S = "trivy-k8s-summary-zora.json"
LICENSES = "trivy-fs-licenses-devtron.json"


def test_trivy_k8s_summary_report() -> None:
    """``trivy k8s --report summary -f json``: ClusterName + Findings (no SchemaVersion), one entry per workload."""
    name, d = _auto(K8S)
    assert name == "trivy" and not d.dead
    rows = _rows(d)
    doc = json.loads((CASES / K8S).read_text())
    every = [(w["Namespace"], w["Kind"], w["Name"], r["Target"], v["VulnerabilityID"], v["PkgName"])
             for w in doc["Findings"] for r in w.get("Results", []) for v in r.get("Vulnerabilities", [])]  # fmt: skip
    assert d.events == len(rows) == len(every) == 10  # the error entry and the empty ones hold no finding
    got = sorted((r["resources"][0]["namespace"], r["resources"][0]["type"], r["resources"][0]["name"],
                  r["resources"][1]["name"], (r["vulnerabilities"][0]["cve"] or r["vulnerabilities"][0]["advisory"])["uid"],
                  r["vulnerabilities"][0]["affected_packages"][0]["name"]) for r in rows)  # fmt: skip
    assert got == sorted(every)
    assert {json.loads(r["resources"][0]["data"])["cluster"] for r in rows} == {"kind-kind"}
    assert all(r["metadata"]["log_version"] is None for r in rows)  # no SchemaVersion in the report
    api = next(r for r in rows if r["resources"][0]["type"] == "Pod")
    assert api["resources"][0]["namespace"] == "kube-system" and api["severity_id"] == 4
    assert api["resources"][1]["type"] == "gobinary" and api["vulnerabilities"][0]["cve"]["uid"] == "CVE-2022-41723"
    # a Debian LTS advisory id, no CVE: the vulnerability's advisory (OCSF 1.8.0: just one of advisory / cve / cwe)
    tz = next(r for r in rows if (r["vulnerabilities"][0]["advisory"] or {}).get("uid") == "DLA-3051-1")
    assert tz["vulnerabilities"][0]["cve"] is None
    assert tz["severity_id"] == 0  # UNKNOWN
    # one image in two workloads: two events
    assert len({r["metadata"]["uid"] for r in rows}) == len(rows)


def _k8s_all() -> dict[str, Any]:
    """``--report all``: ``Resources`` with a workload's misconfiguration and an image's vulnerability and secret."""
    doc = json.loads((CASES / K8S).read_text())
    misconf = {"Type": "Kubernetes Security Check", "ID": "KSV001", "AVDID": "AVD-KSV-0001",
               "Title": "Process can elevate its own privileges", "Description": "A program inside the container can elevate its own privileges.",
               "Message": "Container 'nginx' of Deployment 'web' should set 'securityContext.allowPrivilegeEscalation' to false",
               "Namespace": "builtin.kubernetes.KSV001", "Query": "data.builtin.kubernetes.KSV001.deny",
               "Resolution": "Set 'set containers[].securityContext.allowPrivilegeEscalation' to 'false'.", "Severity": "MEDIUM",
               "PrimaryURL": "https://avd.aquasec.com/misconfig/ksv001", "References": ["https://avd.aquasec.com/misconfig/ksv001"],
               "Status": "FAIL", "Layer": {}, "CauseMetadata": {"Provider": "Kubernetes", "Service": "general", "StartLine": 132, "EndLine": 143}}  # fmt: skip
    secret = {"RuleID": "aws-access-key-id", "Category": "AWS", "Severity": "CRITICAL", "Title": "AWS Access Key ID",
              "StartLine": 1, "EndLine": 1, "Match": "AWS_ACCESS_KEY_ID=********************"}  # fmt: skip
    web = {"Namespace": "default", "Kind": "Deployment", "Name": "web",
           "Metadata": {"ImageID": "sha256:abc", "RepoTags": ["nginx:1.25"], "RepoDigests": ["nginx@sha256:def"]},
           "Results": [{"Target": "Deployment/web", "Class": "config", "Type": "kubernetes", "Misconfigurations": [misconf]},
                       {"Target": "/app/.env", "Class": "secret", "Secrets": [secret]},
                       *doc["Findings"][2]["Results"]]}  # fmt: skip
    return {"ClusterName": "prod", "Resources": [web, {"Namespace": "x", "Kind": "Pod", "Name": "y", "Error": "boom"}]}


def test_trivy_k8s_all_report_misconfigurations_and_secrets() -> None:
    d = formats.get("trivy").decode(json.dumps(_k8s_all()).encode(), "src")
    assert not d.dead and d.events == 3
    by_class = {r["class_uid"]: r for r in _rows(d)}
    assert sorted(by_class) == [2002, 2003, 2006]
    for r in by_class.values():
        w = r["resources"][0]
        assert (w["type"], w["name"], w["namespace"], w["uid"], w["labels"]) == (
            "Deployment", "web", "default", "sha256:abc", ["nginx:1.25"])  # fmt: skip
        assert json.loads(w["data"]) == {"cluster": "prod", "repo_digests": ["nginx@sha256:def"]}
    m = by_class[2003]
    assert m["compliance"]["control"] == "KSV001" and m["compliance"]["status_id"] == 3
    assert m["resources"][1]["name"] == "Deployment/web"
    assert by_class[2006]["data_security"]["detection_pattern"] == "aws-access-key-id"


@NATIVE
def test_trivy_k8s_same_both_ways(monkeypatch: pytest.MonkeyPatch) -> None:
    docs = [json.loads((CASES / K8S).read_text()), _k8s_all()]
    odd = copy.deepcopy(docs[0])
    odd["Findings"][2]["Results"][0]["Vulnerabilities"][0]["CVSS"] = "not an object"  # irregular: msgspec path
    docs.append(odd)
    for i, x in enumerate(docs):
        same_both_ways("trivy", json.dumps(x).encode(), monkeypatch, i)


def test_trivy_license_scan() -> None:
    name, d = _auto(LICENSES)
    assert name == "trivy" and not d.dead
    rows = _rows(d)
    assert d.events == len(rows) == 5  # 1 vulnerability + 1 misconfiguration + 3 loose-file licenses
    lic = sorted((r for r in rows if r["finding_info"]["types"] == ["License"]), key=lambda r: r["message"])
    assert [r["compliance"]["control"] for r in lic] == ["Apache-2.0", "BSD-2-Clause", "BSD-2-Clause"]
    go = lic[0]
    assert go["class_uid"] == 2003 and go["severity_id"] == 2  # LOW
    assert (go["compliance"]["status_id"], go["compliance"]["status"]) == (1, "Pass")  # notice
    check = go["compliance"]["checks"][0]  # OCSF: a check status is the caption of its status_id
    assert (check["status_id"], check["status"]) == (1, "Pass")  # notice
    assert go["evidences"][0]["file"]["path"] == "vendor/github.com/jmespath/go-jmespath/LICENSE"
    assert go["finding_info"]["src_url"] == "https://spdx.org/licenses/Apache-2.0.html"
    assert json.loads(go["unmapped"]) == {"Confidence": 0.9285714285714286}
    assert go["resources"][1]["name"] == "Loose File License(s)"
    assert len({r["finding_info"]["uid"] for r in lic}) == 3


@pytest.mark.parametrize(("category", "status_id", "status"), [
    ("forbidden", 3, "Fail"), ("restricted", 3, "Fail"), ("reciprocal", 99, "reciprocal"),
    ("unknown", 99, "unknown"), ("permissive", 1, "Pass"), ("unencumbered", 1, "Pass"),
])  # fmt: skip
def test_trivy_license_category_status(category: str, status_id: int, status: str) -> None:
    doc = {"SchemaVersion": 2, "ArtifactName": "img", "ArtifactType": "container_image", "Results": [
        {"Target": "Java", "Class": "license", "Licenses": [
            {"Severity": "HIGH", "Category": category, "PkgName": "org.x:y", "FilePath": "", "Name": "GPL-3.0", "Confidence": 1,
             "Link": ""}]}]}  # fmt: skip
    (r,) = _rows(formats.get("trivy").decode(json.dumps(doc).encode(), "src"))
    assert (r["compliance"]["status_id"], r["compliance"]["status"]) == (status_id, status)
    assert r["message"] == "GPL-3.0 license in org.x:y" and r["evidences"] is None  # a package's license: no file
    assert r["finding_info"]["src_url"] is None


@NATIVE
def test_trivy_licenses_same_both_ways(monkeypatch: pytest.MonkeyPatch) -> None:
    doc = json.loads((CASES / LICENSES).read_text())
    extra = copy.deepcopy(doc)
    extra["Results"][-1]["Licenses"][0]["Text"] = "Permission is hereby granted"  # license-full: kept in unmapped
    extra["Results"][-1]["Licenses"][1]["NewKey"] = 1  # an unknown key: per-finding decode, kept in unmapped
    for i, x in enumerate((doc, extra)):
        d = same_both_ways("trivy", json.dumps(x).encode(), monkeypatch, i)
        assert not d.dead and d.events == 5


# --------------------------------------------------------------------------------------
# GitHub audit-log streaming
# --------------------------------------------------------------------------------------


def test_github_audit_stream_operation_type() -> None:
    """Audit-log streaming events (``@timestamp``, ``_document_id``, ``operation_type``) whose action verb says nothing."""
    name, d = _auto("github_audit_stream_sekoia.json")
    assert name == "github" and not d.dead
    rows = _rows(d)
    assert len(rows) == 4 and {r["class_uid"] for r in rows} == {6003}
    got = sorted((r["time"], r["api"]["operation"], r["activity_id"], r["metadata"]["original_event_uid"]) for r in rows)
    assert got == [
        (1685465626150, "org.block_user", 1, "aCjok7V1YYqP1c9IE6qbkg"),  # operation_type create
        (1685465627991, "org.unblock_user", 4, "gMzuZXn3m1ewbOR6RkNnLw"),  # operation_type remove
        (1685465630880, "org.block_user", 1, "UKmJTzlW7D2OvZ5F3GrpnA"),
        (1685465633434, "org.unblock_user", 4, "Ih4X_g0X7Ots5Mr6O-eozA"),
    ]
    r = rows[0]
    assert r["actor"]["user"]["name"] == "Admin" and r["actor"]["user"]["uid"] == "6123123"
    assert r["src_endpoint"]["location"]["country"] == "FR" and r["metadata"]["tenant_uid"] == "Test-org"
    assert json.loads(r["unmapped"])["blocked_user"] == "aaa"


@pytest.mark.parametrize(("action", "op", "activity"), [
    ("repo.destroy", "create", 4),  # the verb decides when it says something
    ("org.block_user", "access", 2), ("org.block_user", "modify", 3), ("org.block_user", "transfer", 3),
    ("org.block_user", "authentication", 99), ("org.block_user", None, 99),
])  # fmt: skip
def test_github_audit_activity_from_operation_type(action: str, op: str | None, activity: int) -> None:
    doc = {"@timestamp": 1685465626150, "_document_id": "x", "action": action, "actor": "a", "org": "o", "operation_type": op}
    (r,) = _rows(formats.get("github").decode(json.dumps(doc).encode(), "src"))
    assert r["activity_id"] == activity


# --------------------------------------------------------------------------------------
# syslog: BSD timestamps without a year (RFC 3164 section 4.1.2)
# --------------------------------------------------------------------------------------


def test_syslog_feb_29_without_year_is_in_a_leap_year() -> None:
    """A BSD timestamp has no year; ``Feb 29`` exists only in a leap year (strptime would roll it to
    Mar 1 of a common year), and an impossible date (explicit common year, Apr 31) is no time at all."""
    import calendar
    import datetime as dt

    lines = (b"<38>Feb 29 23:59:59 host sshd[99]: Connection closed by authenticating user root 198.51.100.4 port 22 [preauth]\n"
             b"<38>2025 Feb 29 23:59:59 host app: impossible date\n"
             b"<38>Apr 31 10:00:00 host app: no such day\n"
             b"<38>Jan 31 10:00:00 host app: an ordinary date\n")  # fmt: skip
    d = formats.get("syslog").decode(lines, "src")
    assert not d.dead and d.events == 4
    rows = {r["message"].split(" ", 1)[0]: r for r in _rows(d)}
    now = dt.datetime.now(dt.UTC)
    leap = next(y for y in range(now.year, now.year - 8, -1) if calendar.isleap(y) and dt.datetime(y, 2, 29, tzinfo=dt.UTC) <= now)
    assert rows["Connection"]["time_dt"] == dt.datetime(leap, 2, 29, 23, 59, 59, tzinfo=dt.UTC)
    for word in ("impossible", "no"):
        assert rows[word]["metadata"]["labels"] == ["secpipe:time_from_receipt"]  # receipt time, labelled
    assert rows["an"]["time_dt"].month == 1 and rows["an"]["time_dt"].day == 31


# --------------------------------------------------------------------------------------
# GitLab system hooks
# --------------------------------------------------------------------------------------

SYSTEM_HOOKS = "gitlab_system_hooks.jsonl"


def test_gitlab_system_hooks() -> None:
    """The payload examples of GitLab's "System hooks" documentation: every one is an event."""
    name, d = _auto(SYSTEM_HOOKS)
    assert name == "gitlab" and not d.dead
    rows = _rows(d)
    lines = (CASES / SYSTEM_HOOKS).read_text().splitlines()
    assert d.events == len(rows) == len(lines) == 15
    by_op = {r["metadata"]["event_code"]: r for r in rows if r["class_uid"] == 6003 and r["api"]["service"]["name"] == "GitLab system hooks"}
    assert len(by_op) == 13
    acts = {k: r["activity_id"] for k, r in by_op.items()}
    assert acts["project_create"] == 1 and acts["project_destroy"] == 4 and acts["project_transfer"] == 3
    assert acts["user_add_to_team"] == 1 and acts["user_remove_from_team"] == 4 and acts["user_rename"] == 3
    assert acts["key_create"] == 1 and acts["group_rename"] == 3 and acts["repository_update"] == 3
    assert acts["user_access_request_to_group"] == 1  # a request made (session 35; was Other)
    res = {k: [(x["type"], x["name"], x["uid"]) for x in r["resources"]] for k, r in by_op.items()}
    assert res["project_create"] == [("project", "jsmith/storecloud", "74")]
    assert res["user_add_to_team"] == [("project", "jsmith/storecloud", "74"), ("user", "johnsmith", "41")]
    assert res["group_create"] == [("group", "storecloud", "78")]  # group_create gives only the path
    assert res["group_rename"] == [("group", "parent-group/better-name", "64")]
    assert res["key_create"] == [("user", "root", None), ("key", None, "4")]
    # GitLab names who acted only in repository_update; elsewhere the actor is GitLab itself
    assert by_op["repository_update"]["actor"]["user"]["name"] == "John Smith"
    assert {r["actor"]["app_name"] for k, r in by_op.items() if k != "repository_update"} == {"GitLab"}
    assert by_op["key_create"]["time"] == 1408387516000  # "2014-08-18 18:45:16 UTC"
    assert by_op["repository_update"]["metadata"]["labels"] == ["secpipe:time_from_receipt"]  # it has no time
    assert json.loads(by_op["project_transfer"]["unmapped"])["old_path_with_namespace"] == "jsmith/overscore"
    # a blocked user's sign-in attempt: Authentication, Logon failed
    (auth,) = [r for r in rows if r["class_uid"] == 3002]
    assert (auth["activity_id"], auth["status_id"], auth["status_detail"]) == (1, 2, "blocked")
    assert (auth["user"]["name"], auth["user"]["uid"], auth["user"]["email_addr"]) == ("user4", "26", "user4@example.com")
    # updated_at 2018-01-15T04:52:06Z: the attempt counted on the account; created_at (2017-10-03) is
    # when the account was made (session 35; the sign-in was dated by it before)
    assert auth["time"] == 1515991926000
    # the tag_push system hook (event_name, no object_kind) is mapped as the tag_push webhook
    (tag,) = [r for r in rows if r["metadata"]["event_code"] == "tag_push"]
    assert tag["class_uid"] == 6003 and any(x["name"] == "refs/tags/v1.0.0" for x in tag["resources"])


@NATIVE
def test_gitlab_system_hooks_same_both_ways(monkeypatch: pytest.MonkeyPatch) -> None:
    data = (CASES / SYSTEM_HOOKS).read_bytes()
    for doc in (data, data * 5):  # 75 records: the native webhook walker declines (no object_kind), msgspec decides
        same_both_ways("gitlab", doc, monkeypatch, len(doc))


def test_gitlab_audit_stream_git_operations() -> None:
    """Streamed ``repository_git_operation`` audit events (SSH fetch, push, fetch by a deploy key)."""
    name, d = _auto("gitlab_audit_stream_git_ops.jsonl")
    assert name == "gitlab" and not d.dead
    rows = sorted(_rows(d), key=lambda r: r["time"])
    assert [(r["time"], r["activity_id"], r["actor"]["user"]["name"]) for r in rows] == [
        (1645597265283, 2, "Administrator"),  # git-upload-pack: a fetch reads
        (1645597388746, 3, "Administrator"),  # git-receive-pack: a push updates
        (1658814233662, 2, "deploy-key-name"),
    ]
    assert {r["api"]["operation"] for r in rows} == {"repository_git_operation"}
    assert {r["src_endpoint"]["ip"] for r in rows} == {"127.0.0.1"}
    assert rows[0]["resources"][0]["name"] == "example-group/example-project"


# --------------------------------------------------------------------------------------
# EKS audit logs through a CloudWatch Logs subscription
# --------------------------------------------------------------------------------------

EKS_CW = "eks_audit_cloudwatch_envelopes.jsonl"


def test_eks_audit_cloudwatch_envelopes() -> None:
    """Firehose/S3 lines of CloudWatch Logs envelopes: each log event's message is an audit Event;
    a CONTROL_MESSAGE holds none."""
    name, d = _auto(EKS_CW)
    assert name == "k8s_audit" and not d.dead
    rows = sorted(_rows(d), key=lambda r: r["time"])
    assert d.events == len(rows) == 2
    exec_pod, secret = rows
    assert exec_pod["api"]["operation"] == "create" and exec_pod["actor"]["user"]["name"] == "minikube-user"
    assert exec_pod["resources"][0]["type"] == "pods/exec" and exec_pod["time"] == 1540561114867
    assert (secret["resources"][0]["type"], secret["resources"][0]["name"]) == ("secrets", "example-secret")
    # the same Event read bare gives the same event (same uid: the envelope is transport only)
    bare = formats.get("k8s_audit").decode((CASES / "exec_pod.json").read_bytes(), "src")
    assert _rows(bare)[0]["metadata"]["uid"] == exec_pod["metadata"]["uid"]


def test_eks_audit_cloudwatch_envelope_bad_message() -> None:
    env = {"messageType": "DATA_MESSAGE", "logGroup": "/aws/eks/x/cluster", "logEvents": [
        {"id": "1", "timestamp": 1, "message": "not json"}, {"id": "2", "timestamp": 2, "message": '{"kind":"Event"}'}]}
    d = formats.get("k8s_audit").decode(json.dumps(env).encode(), "src")
    assert d.events == 2 and len(d.dead) == 2 and not d.batches  # bad JSON, and an Event with nothing of one


@NATIVE
def test_eks_audit_cloudwatch_same_both_ways(monkeypatch: pytest.MonkeyPatch) -> None:
    data = (CASES / EKS_CW).read_bytes()
    for doc in (data, data * 40):
        same_both_ways("k8s_audit", doc, monkeypatch, len(doc))


# --------------------------------------------------------------------------------------
# Grafana Alerting webhook contact point (Alertmanager payload + Grafana keys)
# --------------------------------------------------------------------------------------


def test_grafana_alerting_webhook() -> None:
    name, d = _auto("grafana_webhook_notifier.json")
    assert name == "alertmanager" and not d.dead
    rows = sorted(_rows(d), key=lambda r: r["time"])
    assert d.events == len(rows) == 2 and {r["class_uid"] for r in rows} == {2004}
    mem, cpu = rows
    assert {r["metadata"]["product"]["name"] for r in rows} == {"Grafana Alerting"}
    assert {r["metadata"]["product"]["vendor_name"] for r in rows} == {"Grafana Labs"}
    assert mem["time"] == 1634025063157  # startsAt 2021-10-12T09:51:03.157076+02:00
    assert mem["finding_info"]["analytic"]["name"] == "High memory usage" and mem["end_time"] is None
    assert mem["finding_info"]["uid"] == "c6eadffa33fcdf37" and cpu["finding_info"]["uid"] == "bc97ff14869b13e3"
    assert mem["message"] == "This alert was triggered for zone us-1" and mem["status_id"] == 1
    extra = json.loads(mem["unmapped"])
    assert extra["values"] == {"B": 44.23943737541908, "C": 1} and extra["silenceURL"].startswith("https://play.grafana.org/")
    hook = extra["webhook"]
    assert (hook["orgId"], hook["title"], hook["state"]) == (1, "[FIRING:2]  (blue)", "alerting")
    assert hook["message"].startswith("**Firing**") and hook["receiver"] == "My Super Webhook"


def test_prometheus_alertmanager_payload_stays_alertmanager() -> None:
    d = formats.get("alertmanager").decode((CASES / "exec_success.json").read_bytes(), "src")
    assert {r["metadata"]["product"]["name"] for r in _rows(d)} == {"Alertmanager"}


# --------------------------------------------------------------------------------------
# syslog: real daemon logs (Loghub)
# --------------------------------------------------------------------------------------


def _by_line(name: str) -> list[dict[str, Any]]:
    """Rows of a syslog case in line order (every line one event)."""
    lines = (CASES / name).read_bytes().splitlines()
    got, d = _auto(name)
    assert got == "syslog" and not d.dead and d.events == len(lines)
    rows = {r["raw_data"]: r for r in _rows(d)}
    return [rows[ln.decode()] for ln in lines]


def test_syslog_openssh_server_log() -> None:
    rows = _by_line("loghub_OpenSSH_head.log")
    auth = [(i, r["status_id"], (r["user"] or {}).get("name")) for i, r in enumerate(rows) if r["class_uid"] == 3002]
    assert auth == [(1, 2, "webmaster"), (4, 2, None), (5, 2, "webmaster"), (8, 2, "test9"), (11, 2, None), (12, 2, "test9"),
                    (14, 2, "root"), (15, 2, "root"), (16, 2, "root"), (18, 2, "root")]  # fmt: skip
    # (round 3) sshd's "PAM 5 more authentication failures; ..." summary: 5 failures from that host
    assert (rows[18]["count"], rows[18]["src_endpoint"]["hostname"]) == (5, "5.36.59.76.dynamic-dsl-ip.omantel.net.om")
    # PAM's rhost: an address, or the name sshd resolved
    assert rows[4]["src_endpoint"]["ip"] == "173.234.31.186"
    assert rows[11]["src_endpoint"]["hostname"] == "ec2-52-80-34-196.cn-north-1.compute.amazonaws.com.cn"
    assert rows[11]["src_endpoint"]["ip"] is None and rows[11]["is_remote"] is True
    # rsyslog's "message repeated 5 times: [ ...]" is 5 more failed logins
    rep = rows[16]
    assert (rep["count"], rep["src_endpoint"]["ip"], rep["src_endpoint"]["port"]) == (5, "5.36.59.76", 42393)
    assert rep["message"].startswith("message repeated 5 times")  # the line as written
    assert rows[15]["count"] is None
    assert all(r["device"]["hostname"] == "LabSZ" and r["actor"]["process"]["name"] == "sshd" for r in rows)


def test_syslog_linux_old_pam_lines() -> None:
    rows = _by_line("loghub_Linux_head.log")
    kinds = [(r["class_uid"], r["activity_id"]) for r in rows]
    assert kinds == [(3002, 1), (0, 0), (3002, 1), (3002, 1), (3002, 7), (3002, 7), (0, 0), (0, 0), (3002, 1), (3002, 1),
                     (3002, 2), (0, 0)]  # fmt: skip
    first, _, _, named, su_open, _, _, _, guest, sess, closed, _ = rows
    assert first["status_id"] == 2 and first["src_endpoint"]["ip"] == "218.188.2.4" and first["user"] is None
    assert named["user"]["name"] == "root" and named["src_endpoint"]["hostname"] == "220-135-151-1.hinet-ip.hinet.net"
    assert su_open["user"]["name"] == "cyrus" and su_open["status_id"] == 1
    assert guest["user"]["name"] == "guest" and guest["status_id"] == 2
    assert (sess["user"]["name"], sess["status_id"], closed["user"]["name"]) == ("test", 1, "test")
    assert first["actor"]["process"] == {"name": "sshd(pam_unix)", "pid": 19939}  # the tag as written


def test_syslog_macos_system_log() -> None:
    """macOS system.log: ``sandboxd[129] ([31211]): ...`` has no colon right after the PID."""
    rows = _by_line("loghub_Mac_head.log")
    assert [(r["actor"]["process"]["name"], r["actor"]["process"]["pid"]) for r in rows] == [
        ("kernel", 0), ("com.apple.CDScheduler", 43), ("QQ", 10018), ("sandboxd", 129), ("secd", 276)]  # fmt: skip
    assert rows[3]["message"] == "([31211]): com.apple.Addres(31211) deny network-outbound /private/var/run/mDNSResponder"
    assert {r["device"]["hostname"] for r in rows} == {"calvisitor-10-105-160-95"} and {r["class_uid"] for r in rows} == {0}


def test_trivy_repo_scan_keeps_the_repository() -> None:
    """``trivy repo`` reports name the repository in Metadata (RepoURL, Branch, Tags, Commit, Author,
    trivy ``pkg/types`` Metadata); they go to the artifact's ``data``. Values of another shape do not
    refuse the report."""
    doc = json.loads((CASES / LICENSES).read_text())
    doc["ArtifactType"] = "repository"
    doc["Metadata"] = {"RepoURL": "https://github.com/example/app", "Branch": "main", "Tags": ["v1.2.0"],
                       "Commit": "0123456789abcdef0123456789abcdef01234567", "CommitMsg": "release",
                       "Author": "Dev <dev@example.com>", "Committer": "GitHub <noreply@github.com>"}  # fmt: skip
    d = formats.get("trivy").decode(json.dumps(doc).encode(), "src")
    assert not d.dead and d.events == 5
    art = {json.dumps(r["resources"][0], sort_keys=True) for r in _rows(d)}
    (one,) = art
    data = json.loads(json.loads(one)["data"])
    assert data == {"repo_url": "https://github.com/example/app", "branch": "main", "tags": ["v1.2.0"],
                    "commit": "0123456789abcdef0123456789abcdef01234567", "author": "Dev <dev@example.com>"}  # fmt: skip
    doc["Metadata"]["Tags"] = "v1.2.0"  # not the documented list
    assert not formats.get("trivy").decode(json.dumps(doc).encode(), "src").dead


# --------------------------------------------------------------------------------------
# SonarQube security hotspots (Web API examples)
# --------------------------------------------------------------------------------------


def test_sonarqube_hotspots_search_example() -> None:
    name, d = _auto("sonarqube-hotspots-search-example.json")
    assert name == "sonarqube" and not d.dead
    rows = sorted(_rows(d), key=lambda r: r["finding_info"]["uid"])
    assert [r["finding_info"]["uid"] for r in rows] == ["hotspot-0", "hotspot-1", "hotspot-2"]
    code = [r["vulnerabilities"][0]["affected_code"][0] for r in rows]
    assert {c["file"]["path"] for c in code} == {"src/main/java/com/sonarsource/FourthClass.java"}
    assert [c["start_line"] for c in code] == [10, 11, 12]
    assert {(r["severity_id"], r["status_id"]) for r in rows} == {(2, 1)}  # LOW, TO_REVIEW
    assert rows[0]["time"] == 1577976190000  # 2020-01-02T15:43:10+0100


def test_sonarqube_hotspot_show_example() -> None:
    """``/api/hotspots/show``: one hotspot with its component, project and rule as objects."""
    name, d = _auto("sonarqube-hotspots-show-example.json")
    assert name == "sonarqube" and not d.dead
    (r,) = _rows(d)
    assert r["finding_info"]["uid"] == "AW9mgJw6eFC3pGl94Wrf" and r["finding_info"]["analytic"]["uid"] == "java:S4787"
    code = r["vulnerabilities"][0]["affected_code"][0]
    assert code["file"]["path"] == "src/main/java/com/sonarsource/FourthClass.java" and code["start_line"] == 10
    assert r["vulnerabilities"][0]["category"] == "others" and r["severity_id"] == 2 and r["status_id"] == 1
    assert r["resources"][0]["uid"] == "com.sonarsource:test-project"
    extra = json.loads(r["unmapped"])
    assert extra["ruleName"] == "rule-name" and len(extra["changelog"]) == 1 and extra["canChangeStatus"] is True


# --------------------------------------------------------------------------------------
# Snyk: cvssSources (per-version ratings) and EPSS
# --------------------------------------------------------------------------------------

SNYK_SOURCES = "test-sca-with-exploit-details.json"


def test_snyk_cvss_sources_and_epss() -> None:
    """Newer Snyk issues rate with ``cvssSources`` (``cvssScore`` is then the primary, possibly CVSS 4.0, score
    while ``CVSSv3`` is the 3.x vector: the pair must not be stored as one rating) and give ``epssDetails``."""
    name, d = _auto(SNYK_SOURCES)
    assert name == "snyk" and not d.dead
    by_id = {r["finding_info"]["uid"].split("|")[0]: r["vulnerabilities"][0] for r in _rows(d)}
    body = by_id["SNYK-JS-BODYPARSER-7926860"]["cve"]
    assert [(c["version"], c["base_score"], c["vendor_name"]) for c in body["cvss"]] == [
        ("4.0", 8.2, "Snyk"), ("3.1", 5.9, "Snyk"), ("3.1", 7.5, "NVD"), ("3.1", 7.5, "Red Hat")]  # fmt: skip
    assert body["cvss"][0]["vector_string"].startswith("CVSS:4.0/")
    assert body["epss"] == {"score": "0.00504", "percentile": 0.65211, "version": "v2025.03.14"}
    # no CVE: Snyk's advisory (OCSF 1.8.0 keeps ratings in cve only, so they stay in unmapped as given)
    adm_row = next(r for r in _rows(d) if r["finding_info"]["uid"].startswith("SNYK-JS-ADMZIP-1065796|"))
    adm = adm_row["vulnerabilities"][0]
    assert adm["cve"] is None and adm["advisory"]["uid"] == "SNYK-JS-ADMZIP-1065796"
    assert adm["advisory"]["related_cwes"] == [{"uid": "CWE-22"}]
    aside = json.loads(adm_row["unmapped"])
    assert (aside["CVSSv3"], aside["cvssScore"], aside["cvssDetails"]) == ("CVSS:3.1/AV:N/AC:H/PR:N/UI:N/S:U/C:H/I:H/A:N", 7.4, [])
    assert [(c["cvssVersion"], c["baseScore"]) for c in aside["cvssSources"]] == [("3.1", 7.4)] and "epssDetails" not in aside


@NATIVE
def test_snyk_cvss_sources_same_both_ways(monkeypatch: pytest.MonkeyPatch) -> None:
    doc = json.loads((CASES / SNYK_SOURCES).read_text())
    docs = [doc]
    odd = copy.deepcopy(doc)
    odd["vulnerabilities"][1]["cvssSources"][0]["baseScore"] = None  # a rating without a score is left out
    odd["vulnerabilities"][1]["epssDetails"] = {"probability": 0.5, "percentile": "n/a"}
    docs.append(odd)
    bad = copy.deepcopy(doc)
    bad["vulnerabilities"][0]["cvssSources"] = "not a list"  # a raw field of the wrong shape: msgspec decides
    docs.append(bad)
    for i, x in enumerate(docs):
        same_both_ways("snyk", json.dumps(x).encode(), monkeypatch, i)
