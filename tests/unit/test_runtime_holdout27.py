"""Real samples secpipe was not developed against, round 27: cloud, Kubernetes, runtime and CI/CD
formats (``tests/cases/runtime27``, see its SOURCES.md).

Expectations are written from the source documents and the producers' own references, not from
secpipe's output.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from secpipe import formats
from secpipe.formats import cloudtrail
from secpipe.formats.base import Decoded
from tests.conftest import REAL
from tests.unit.native_support import same_both_ways
from tests.unit.test_formats_holdout import CASES as HOLDOUT
from tests.unit.test_formats_holdout import _rows

CASES = Path(__file__).resolve().parents[1] / "cases" / "runtime27"


def _auto(name: str) -> tuple[str, Decoded]:
    """(detected format name, decode) of a case file, as file ingest with ``--format auto`` does."""
    data = (CASES / name).read_bytes()
    fmt = formats.detect(data[:65536])
    assert fmt is not None, name
    return fmt.name, fmt.decode(data, name)


def test_falco_metrics_snapshot_is_a_base_event_not_a_finding() -> None:
    """Falco's metrics snapshot (falco-website "Falco Metrics": ``metrics.output_rule: true``
    writes rule ``Falco internal: metrics snapshot``, source ``internal``, through the alert
    outputs) is Falco's own health counters, not a detection: it was a Detection Finding titled
    after that rule. It is a Base Event of its host with Falco's version, its counters kept.

    Sample: falcosecurity/falco-website ``content/en/docs/concepts/metrics/_index.md`` (commit
    0fc3d3dde2), the first ``json`` example ("Base / Wrapper Fields"), re-serialised compact."""
    name, d = _auto("falco-website-metrics-snapshot.jsonl")
    assert name == "falco" and not d.dead and d.events == 1
    (snap,) = _rows(d)
    assert snap["class_uid"] == 0 and snap["severity_id"] == 1  # Informational
    assert snap["time"] == 1726240940545  # 2024-09-13T15:22:20.545718604Z
    assert snap["message"] == "Falco metrics snapshot"
    assert snap["device"]["hostname"] == "test"
    assert snap["metadata"]["product"]["version"] == "0.39.0"
    assert snap["metadata"]["log_source"] == "internal"
    counters = json.loads(snap["unmapped"])["output_fields"]
    assert counters["scap.n_drops_perc"] == 0.0 and counters["falco.num_evts"] == 537963


def test_falco_alerts_and_snapshots_in_one_stream_split_by_class() -> None:
    """A Falco json_output stream holds the snapshots among the alerts (elastic/integrations'
    Falco alerts after the docs' snapshot): the alerts stay Detection Findings, in their order."""
    data = (CASES / "falco-website-metrics-snapshot.jsonl").read_bytes() + (HOLDOUT / "elastic-falco-alerts.log").read_bytes()
    d = formats.get("falco").decode(data, "mixed")
    assert not d.dead and d.events == 8
    classes = [b.column("class_uid")[0].as_py() for b in d.batches]
    assert classes == [2004, 0]
    assert d.batches[0].num_rows == 7 and d.batches[1].num_rows == 1
    assert "Falco internal: metrics snapshot" not in d.batches[0].column("metadata").field("event_code").to_pylist()


def _cloudtrail_both_paths(name: str, monkeypatch: pytest.MonkeyPatch) -> list[list[dict]]:
    """The rows of a CloudTrail case as ingest maps it (the native walk where it is built), and
    as the msgspec path maps it (the native extraction declined)."""
    data = (CASES / name).read_bytes()
    fmt = formats.get("cloudtrail")
    assert formats.detect(data[:65536]) is fmt
    got = [_rows(fmt.decode(data, name))]
    with monkeypatch.context() as m:
        m.setattr(cloudtrail._fast, "extract", lambda *a, **kw: None)
        m.setattr(cloudtrail._fast, "extract_docs", lambda *a, **kw: None)
        got.append(_rows(fmt.decode(data, name)))
    return got


def test_cloudtrail_names_the_vpc_endpoint_and_the_callers_identity_provider(monkeypatch: pytest.MonkeyPatch) -> None:
    """The VPC endpoint a call came through (``vpcEndpointId``: network activity events, and any
    call made through an interface endpoint) is the source endpoint's uid; the identity provider
    of a web identity or SAML caller (``userIdentity.identityProvider``) or of the role session
    it assumed (``sessionContext.webIdFederationData.federatedProvider``: EKS IRSA pods, GitHub
    Actions OIDC) is ``actor.idp.name``, as the OCSF project's CloudTrail mapping (ocsf/examples
    "Event Dossier: Amazon CloudTrail") places them. Both were left in unmapped or dropped.

    Records: a network activity event from a public gist (gist.github.com/rami-wiz/
    b8ecdb99edbf5e7cfaf086409a704b01, "Allowed - Management"); the RegisterUsage (EKS) and
    MeterUsage (AMI, an empty ``webIdFederationData``) examples of awsdocs/aws-marketplace-user-guide-for-sellers
    ``doc_source/logging-aws-marketplace-api-calls-with-aws-cloudtrail.md``; the
    AssumeRoleWithWebIdentity example of awsdocs/iam-user-guide ``doc_source/cloudtrail-integration.md``
    (149cf97fe1; the page's JSON repaired: a missing comma, a trailing one)."""
    for rows in _cloudtrail_both_paths("aws-docs-cloudtrail-vpce-web-identity.json", monkeypatch):
        vpce, eks, ami, web = rows
        assert vpce["src_endpoint"]["uid"] == "vpce-03y53r4ukkkuygzg0"
        assert vpce["src_endpoint"]["ip"] == "10.0.141.54"
        assert "vpcEndpointId" not in json.loads(vpce["unmapped"])
        assert json.loads(vpce["unmapped"])["eventCategory"] == "NetworkActivity"
        assert [r["src_endpoint"]["uid"] for r in (eks, ami, web)] == [None] * 3
        assert eks["actor"]["idp"]["name"] == ("arn:aws:iam::123456789012:oidc-provider/oidc.eks.us-east-1.amazonaws.com"
                                               "/id/EXAMPLEFA1C58F08CDB049167EXAMPLE")
        assert web["actor"]["idp"]["name"] == "accounts.google.com"
        assert web["actor"]["user"]["type"] == "WebIdentityUser"
        assert vpce["actor"]["idp"] is None and ami["actor"]["idp"] is None


def test_snyk_rest_audit_log_items_with_a_content_action_are_recognized() -> None:
    """Snyk's REST audit-log items as elastic/integrations' Snyk audit_logs pipeline test receives
    them (``packages/snyk/data_stream/audit_logs/_dev/test/pipeline/test-snyk-audit.json``, the
    ``message`` texts, one a line): the project file events carry ``content.action`` in free
    text ("Retrieve files"), and any ``"action"`` key in the head made the sniff turn the whole
    file down (no format matched, all dead-lettered). Only a GitHub-style dotted action does."""
    name, d = _auto("elastic-snyk-audit-logs-rest.jsonl")
    assert name == "snyk_audit" and not d.dead and d.events == 17
    rows = _rows(d)
    files = [r for r in rows if r["metadata"]["event_code"].startswith("org.project.files.")]
    assert [r["activity_id"] for r in files] == [1, 2]  # create, access
    assert json.loads(files[1]["unmapped"])["content"]["action"] == "Retrieve files"
    assert rows[0]["actor"]["user"]["uid"] == "b4b324c4-a55c-4cd6-82b8-f96e3b3b8d85"
    assert rows[0]["time"] == 1713210441565  # 2024-04-15T19:47:21.565Z


def test_prometheus_api_error_answer_is_dead_lettered_as_such() -> None:
    """A failed ``/api/v1/alerts`` (or ``/rules``) fetch answers Prometheus's error envelope
    (prometheus/prometheus ``docs/querying/api.md``, "Format overview": ``status`` "error",
    ``errorType``, ``error``; ``web/api/v1/api.go`` writes a bad parameter as ``invalid parameter
    "<name>": <cause>``). It was refused as an unrecognized document (auto) or as a webhook payload
    without ``alerts``; it is told as the API's error with its type and message."""
    body = b'{"status":"error","errorType":"bad_data","error":"invalid parameter \\"query\\": 1:1: parse error: unexpected end of input"}'
    fmt = formats.detect(body)
    assert fmt is not None and fmt.name == "alertmanager"
    d = fmt.decode(body, "answer.json")
    assert not d.batches and d.events == 1 and len(d.dead) == 1
    why = d.dead[0].reason
    assert "API error answer" in why and "bad_data" in why and "parse error: unexpected end of input" in why


def test_grafana_legacy_webhook_notification_is_a_detection_finding() -> None:
    """Grafana's legacy (dashboard) alerting webhook (grafana/grafana ``docs/sources/alerting/
    notifications.md``, "Webhook"): one notification a POST, no ``alerts`` list, so it was refused
    (no format matched; as ``alertmanager`` "no `alerts`"). It is a Detection Finding of the alert
    rule: its name, id, URL, message and tags; state ``alerting`` is New, ``ok`` Resolved."""
    name, d = _auto("grafana-docs-legacy-webhook.json")
    assert name == "alertmanager" and not d.dead and d.events == 1
    (f,) = _rows(d)
    assert f["class_uid"] == 2004 and (f["activity_id"], f["status_id"], f["status_detail"]) == (1, 1, "alerting")
    info = f["finding_info"]
    assert info["title"] == info["analytic"]["name"] == "Panel Title alert" and info["analytic"]["uid"] == "1"
    assert info["uid"] == "1/1"  # orgId/ruleId: the rule's notifications are one finding
    assert info["desc"] == f["message"] == "Notification Message"
    assert info["src_url"].endswith("/d/hZ7BuVbWz/test-dashboard?fullscreen&edit&tab=alert&panelId=2&orgId=1")
    assert info["tags"] == [{"name": "tag name", "value": "tag value"}]
    assert f["metadata"]["product"]["name"] == "Grafana"
    assert "secpipe:time_from_receipt" in f["metadata"]["labels"]  # the payload has no time
    assert json.loads(f["unmapped"])["evalMatches"] == [{"value": 1, "metric": "Count", "tags": {}}]
    ok = (CASES / "grafana-docs-legacy-webhook.json").read_bytes().replace(b'"state":"alerting"', b'"state":"ok"')
    (back,) = _rows(formats.get("alertmanager").decode(ok, "ok.json"))
    assert (back["activity_id"], back["status_id"], back["status"]) == (3, 4, "Resolved")


def test_gitlab_job_hook_is_scheduled_job_activity_as_pipelines_are(monkeypatch: pytest.MonkeyPatch) -> None:
    """GitLab's job event (gitlabhq ``doc/user/project/integrations/webhook_events.md``, "Job
    events": ``object_kind`` build, the job's ``build_*`` fields at the top) was a generic API
    Activity "build" with the job, its status and pipeline left in unmapped; a pipeline hook is
    Scheduled Job Activity, as GitHub's ``workflow_job``. The job is the job run: its name, its
    stage and pipeline, status, run state and times, the pipeline id as correlation uid. Both
    decoders (one payload; 70, walked natively) give the same."""
    doc = json.loads((CASES / "gitlab-docs-job-hook.json").read_bytes())
    name, d = _auto("gitlab-docs-job-hook.json")
    assert name == "gitlab" and not d.dead
    (job,) = _rows(d)
    assert job["class_uid"] == 1006 and job["activity_id"] == 1  # created: Create
    assert job["job"]["name"] == "test" and job["job"]["desc"] == "gitlab-org/gitlab-test pipeline 2366, stage test"
    assert (job["job"]["run_state_id"], job["status_detail"], job.get("status_id")) == (1, "created", None)
    assert job["job"]["created_time"] == job["time"] == 1614048097886  # 2021-02-23T02:41:37.886Z
    assert job["metadata"]["correlation_uid"] == "2366"
    assert job["actor"]["user"]["full_name"] == "User"
    assert json.loads(job["unmapped"])["build_failure_reason"] == "script_failure"
    done = {**doc, "build_status": "failed", "build_started_at": "2021-02-23T02:41:38Z",
            "build_finished_at": "2021-02-23T02:43:01Z", "build_duration": 83.0}  # fmt: skip
    recs = [{**(done if i % 2 else doc), "build_id": 1977 + i} for i in range(70)]
    body = b"\n".join(json.dumps(r).encode() for r in recs)
    walked = same_both_ways("gitlab", body, monkeypatch, "job hooks")
    failed = [r for r in _rows(walked) if r["status_detail"] == "failed"]
    assert len(failed) == 35 and {r["class_uid"] for r in failed} == {1006}
    assert (failed[0]["status_id"], failed[0]["job"]["run_state_id"], failed[0]["duration"]) == (2, 4, 83000)
    assert failed[0]["time"] == 1614048181000 and failed[0]["job"]["last_run_time"] == 1614048098000


def test_jenkins_builds_of_a_tree_query_without_job_names_are_named() -> None:
    """``/job/<name>/api/json?tree=builds[number,result,timestamp,duration]`` (the Remote Access
    API's ``tree`` filter; the query many CI dashboards and scripts run) answers the builds
    without their job's name or URL: the events had no ``job.name``, which OCSF requires. Such a
    build is named by its number, and its correlation uid is the number alone."""
    body = (b'{"_class":"org.jenkinsci.plugins.workflow.job.WorkflowJob","builds":['
            b'{"_class":"org.jenkinsci.plugins.workflow.job.WorkflowRun","duration":5000,"number":12,"result":"FAILURE",'
            b'"timestamp":1700000000000},'
            b'{"_class":"org.jenkinsci.plugins.workflow.job.WorkflowRun","duration":0,"number":13,"result":null,'
            b'"timestamp":1700000600000}]}')  # fmt: skip
    fmt = formats.detect(body)
    assert fmt is not None and fmt.name == "jenkins"
    d = fmt.decode(body, "builds.json")
    assert not d.dead and d.events == 2
    done, running = _rows(d)
    assert [r["job"]["name"] for r in (done, running)] == ["build #12", "build #13"]
    assert done["metadata"]["correlation_uid"] == "12" and done["status"] == "Failure"


def test_gatekeeper_violation_lines_are_findings_and_denials_not_dropped() -> None:
    """OPA Gatekeeper's zap JSON lines (open-policy-agent/gatekeeper ``website/docs/audit.md``: the
    audit pod's ``violation_audited`` event; Azure's container-storage troubleshooting page: the
    webhook's ``--log-denies`` line for a pod Azure Policy's constraint denied) carry ``level``
    and ``msg``: the opa format took them for OPA's own server log and left them out, stored
    nowhere and dead-lettered nowhere (with auto-detection no format matched). The audit
    violation is a Compliance Finding of the object against the constraint; the admission denial
    is API Activity denied by that constraint for the requesting user."""
    name, d = _auto("gatekeeper-violation-lines.jsonl")
    assert name == "opa" and not d.dead and d.events == 2
    audit, deny = _rows(d)
    assert audit["class_uid"] == 2003 and audit["metadata"]["product"]["name"] == "Gatekeeper"
    assert audit["time"] == 1632889070307  # ts 1632889070.3075402
    assert (audit["compliance"]["control"], audit["compliance"]["status"]) == ("K8sContainerLimits", "Fail")
    assert audit["finding_info"]["title"] == "container <kube-scheduler> has no resource limits"
    assert audit["resources"] == [{"type": "Pod", "name": "kube-scheduler-kind-control-plane", "namespace": "kube-system",
                                   **{k: None for k in audit["resources"][0] if k not in ("type", "name", "namespace")}}]
    assert audit["metadata"]["correlation_uid"] == "2021-09-29T04:17:47Z"  # the audit run
    assert deny["class_uid"] == 6003 and (deny["action"], deny["status"]) == ("Denied", "Failure")
    assert deny["actor"]["user"]["name"] == "system:serviceaccount:kube-system:daemon-set-controller"
    auth = deny["authorizations"][0]
    assert auth["decision"] == "denied" and auth["policy"]["group"]["name"] == "K8sAzureV2NoPrivilege"
    assert deny["status_detail"].startswith("denied admission: Privileged container is not allowed: prereq")
    assert deny["resources"][0]["name"] == "azurecontainerstorage-prereq-gt58x"
    assert json.loads(deny["unmapped"])["hookType"] == "validation"


def test_gitlab_duration_past_int64_is_none_not_a_lost_batch(monkeypatch: pytest.MonkeyPatch) -> None:
    """A job or pipeline hook whose duration is a float past int64 milliseconds (``1e300``,
    valid JSON) raised OverflowError out of the mapping: the whole batch was lost. The duration
    is none; the events are kept (one payload each, and 70 walked natively)."""
    job = json.loads((CASES / "gitlab-docs-job-hook.json").read_bytes())
    pipe = json.loads((Path(__file__).resolve().parents[1] / "cases" / "cicd" / "gitlab_pipeline.json").read_bytes())
    job["build_duration"] = 1e300
    pipe["object_attributes"]["duration"] = 1e300
    for recs in ([job, pipe], [job, pipe] * 35):
        body = b"\n".join(json.dumps(r).encode() for r in recs)
        rows = _rows(same_both_ways("gitlab", body, monkeypatch, "duration 1e300"))
        assert len(rows) == len(recs) and {r["class_uid"] for r in rows} == {1006}
        assert all(r.get("duration") is None for r in rows)


def test_opa_bundle_without_revision_names_no_policy_version() -> None:
    """OPA's decision event writes a bundle's revision only when it has one (EventV1's
    ``revision`` is omitempty: a bundle built without ``--revision`` is ``{"authz": {}}``). The
    docs' decision (open-policy-agent/opa ``docs/docs/management-decision-logs.md``, shared
    sample) with its revision left out had ``policy.version`` "" (an empty string, not absent) in
    the policy and the authorization; it is none, and the revised one keeps ``authz@<rev>``."""
    doc = json.loads((REAL / "opa-docs" / "management-decision-logs.example1.json").read_bytes())
    bare = json.loads(json.dumps(doc))
    bare[0]["bundles"]["authz"].pop("revision")
    bare[0]["decision_id"] = "4ca636c1-55e4-417a-b1d8-4aceb67960d2"
    d = formats.get("opa").decode(json.dumps(doc + bare).encode(), "decisions.json")
    revised, unrevised = _rows(d)
    assert revised["policy"]["version"] == "authz@W3sibCI6InN5cy9jYXRhbG9nIiwicyI6NDA3MX1d"
    assert unrevised["policy"]["version"] is None
    assert unrevised["authorizations"][0]["policy"]["version"] is None


def test_k8s_event_without_request_uri_has_no_url_path(monkeypatch: pytest.MonkeyPatch) -> None:
    """Audit events that carry no ``requestURI`` (round 23's Panther-style IOC cases) got
    ``http_request.url.path`` "" (an empty string, not absent): the path was read from the
    parsed URI struct's child, which ignores the struct's nulls. Both decoders."""
    body = (HOLDOUT / "k8s_ioc_activity.jsonl").read_bytes()
    rows = _rows(same_both_ways("k8s_audit", body, monkeypatch, "k8s_ioc_activity"))
    without = [r for r in rows if '"requestURI"' not in r["raw_data"]]
    assert without and all((r.get("http_request") or {}).get("url") is None for r in without)
    with_uri = [r for r in rows if '"requestURI"' in r["raw_data"]]
    assert with_uri and all(r["http_request"]["url"]["path"].startswith("/api") for r in with_uri)


def test_github_check_run_takes_its_runs_time(monkeypatch: pytest.MonkeyPatch) -> None:
    """A check_run payload's check run names no updated/created time, only ``started_at`` and
    ``completed_at`` (octokit/webhooks payload examples): the events took the receipt time. A
    completed run is timed by its completion, a queued or running one by its start; one
    payload, and the eight examples together, on both decoders."""
    d = REAL / "octokit-webhooks" / "payload-examples" / "api.github.com" / "check_run"
    docs = {p.name: json.loads(p.read_bytes()) for p in sorted(d.glob("*.payload.json"))}
    assert len(docs) == 8
    (one,) = _rows(formats.get("github").decode(json.dumps(docs["rerequested.payload.json"]).encode(), "x"))
    assert one["time"] == 1525396492000  # completed_at 2018-05-04T01:14:52Z
    body = b"\n".join(json.dumps(x).encode() for x in docs.values())
    rows = _rows(same_both_ways("github", body, monkeypatch, "check_run examples"))
    assert len(rows) == 8 and not any("secpipe:time_from_receipt" in (r["metadata"].get("labels") or []) for r in rows)
    assert sorted({r["time"] for r in rows}) == [1525396492000, 1557933672000, 1607020047000]  # 2019-05-15T15:21:12Z, 2020-12-03T18:27:27Z


def test_github_comment_and_page_build_payloads_take_their_objects_time(monkeypatch: pytest.MonkeyPatch) -> None:
    """issue_comment, discussion_comment and commit_comment payloads (their main object is the
    ``comment``, not an object named after the event) and page_build (``build``) took the
    receipt time although the comment and the build carry ``updated_at``/``created_at``
    (octokit/webhooks payload examples). They take the object's time, on both decoders."""
    root = REAL / "octokit-webhooks" / "payload-examples" / "api.github.com"
    picked = {"issue_comment/created.payload.json": "comment", "discussion_comment/created.payload.json": "comment",
              "commit_comment/created.payload.json": "comment", "page_build/payload.json": "build"}  # fmt: skip
    docs = [json.loads((root / name).read_bytes()) for name in picked]
    body = b"\n".join(json.dumps(x).encode() for x in docs)
    rows = _rows(same_both_ways("github", body, monkeypatch, "comment/page_build examples"))
    assert len(rows) == len(docs)
    for row, doc, key in zip(rows, docs, picked.values(), strict=True):
        assert "secpipe:time_from_receipt" not in (row["metadata"].get("labels") or [])
        obj = doc[key]
        assert row["time"] == formats.base.parse_times([obj.get("updated_at") or obj["created_at"]])[0].as_py()


def test_github_status_and_star_payloads_take_their_top_level_time(monkeypatch: pytest.MonkeyPatch) -> None:
    """A commit status payload holds its time at the top (``updated_at``/``created_at``), a star
    its ``starred_at`` (null when the star is removed); neither has a main object with times, so
    they took the receipt time (octokit/webhooks payload examples). Both decoders."""
    root = REAL / "octokit-webhooks" / "payload-examples" / "api.github.com"
    status = json.loads((root / "status" / "payload.json").read_bytes())
    star = json.loads((root / "star" / "created.payload.json").read_bytes())
    unstar = json.loads((root / "star" / "deleted.payload.json").read_bytes())
    body = b"\n".join(json.dumps(x).encode() for x in (status, star, unstar))
    st, added, removed = _rows(same_both_ways("github", body, monkeypatch, "status/star examples"))
    parse = formats.base.parse_times
    assert st["time"] == parse([status["updated_at"]])[0].as_py()
    assert added["time"] == parse([star["starred_at"]])[0].as_py()
    assert unstar["starred_at"] is None and "secpipe:time_from_receipt" in removed["metadata"]["labels"]
