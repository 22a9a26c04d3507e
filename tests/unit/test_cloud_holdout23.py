"""Real samples secpipe was not developed against, round 23: cloud, runtime, infrastructure and
CI/CD logs (``tests/cases/holdout``, see its SOURCE.md).

Expectations are written from the source documents and the format specifications (Google's
AuditLog proto, Azure's AKS resource logs), not from secpipe's output.

Regressions covered: a GKE audit record's caller address (``requestMetadata.callerIp``, the
proto's JSON name) was not read (only ``callerIP``, as a Panther test wrote it), and nothing of
the AuditLog payload the mapping does not place (``response``, ``request``, ...) reached
``unmapped``; an AKS ``kube-audit-admin`` record whose ``properties.log`` is the Event as an
object (as a shipper that decoded the JSON string leaves it) was stored as an Azure Monitor
record, its Event only in ``unmapped``.
"""

from __future__ import annotations

import json

from tests.unit.test_formats_holdout import CASES, _auto, _rows


def test_elastic_kubernetes_audit_mixed_stream() -> None:
    """Elastic's Kubernetes audit_logs pipeline test: three Events, a GKE LogEntry, an AKS record."""
    name, d = _auto("elastic-k8s-audit-mixed.log")
    assert name == "k8s_audit" and not d.dead and d.events == 5
    rows = _rows(d)
    assert {r["class_uid"] for r in rows} == {6003}
    by = {r["metadata"]["product"]["name"]: [] for r in rows}
    for r in rows:
        by[r["metadata"]["product"]["name"]].append(r)
    assert sorted((k, len(v)) for k, v in by.items()) == [("Google Cloud Audit Logs", 1), ("Kubernetes", 4)]
    # the AKS record (category kube-audit-admin): its Event, an object in properties.log, is the event
    aks = next(r for r in by["Kubernetes"] if r["api"]["operation"] == "update")
    assert aks["actor"]["user"]["name"] == "aksService" and aks["src_endpoint"]["ip"] == "67.43.156.1"
    assert aks["resources"][0]["name"] == "elastic-agent-cluster-test" and aks["resources"][0]["uid"] == "12345678"
    assert aks["time"] == 1759213415091  # requestReceivedTimestamp 2025-09-30T06:23:35.091134Z
    # the GKE LogEntry: callerIp is the source address
    (gke,) = by["Google Cloud Audit Logs"]
    assert gke["src_endpoint"]["ip"] == "67.43.156.1" and gke["http_request"]["user_agent"] == "gke-master-healthcheck"
    assert gke["actor"]["user"]["name"] == "system:gke-master-healthcheck"
    assert gke["api"]["operation"] == "io.k8s.get" and gke["status_id"] == 1
    assert gke["cloud"]["project_uid"] == "elastic-siem"


def test_gke_audit_denied_anonymous_request_keeps_its_response() -> None:
    """GCP audit pipeline test: an anonymous ``io.k8s.get`` of ``HNAP1`` refused (status 7)."""
    name, d = _auto("elastic-gke-k8s-nonmatching-resourcename.log")
    assert name == "k8s_audit" and not d.dead
    (r,) = _rows(d)
    assert r["src_endpoint"]["ip"] == "192.168.1.1" and r["http_request"]["user_agent"] == "Mozilla/5.0"
    assert r["status_id"] == 2 and r["status_code"] == "7"  # google.rpc.Code 7 PERMISSION_DENIED
    assert r["authorizations"] == [{"decision": "denied", "policy": {"name": "io.k8s.get", "desc": None}}]
    assert r["resources"][0]["name"] == "HNAP1" and r["time"] == 1619189227535
    extra = json.loads(r["unmapped"])
    # the payload's response (a SubjectAccessReview) is not placed: kept, and nothing placed is repeated
    assert extra["protoPayload"] == {"response": {
        "@type": "authorization.k8s.io/v1.SubjectAccessReview",
        "metadata": {"managedFields": [{"apiVersion": "authorization.k8s.io/v1", "fieldsType": "FieldsV1",
                                        "fieldsV1": {"f:spec": {"f:nonResourceAttributes": {".": {}, "f:path": {},
                                                                                            "f:verb": {}}}},
                                        "manager": "kube-scheduler", "operation": "Update"}]}}}
    assert extra["receiveTimestamp"] == "2021-04-23T14:47:31.948229350Z"


def test_gke_payload_members_not_placed_stay_unmapped() -> None:
    """AuditLog members beside the placed ones (requestAttributes, principalSubject, status details,
    an authorization's resourceAttributes) are kept in unmapped.protoPayload."""
    from secpipe import formats

    doc = {"insertId": "x1", "timestamp": "2024-01-02T03:04:05Z", "resource": {"type": "k8s_cluster"},
           "protoPayload": {"@type": "type.googleapis.com/google.cloud.audit.AuditLog", "serviceName": "k8s.io",
                            "methodName": "io.k8s.core.v1.secrets.get", "resourceName": "core/v1/namespaces/a/secrets/b",
                            "authenticationInfo": {"principalEmail": "u@example.com", "principalSubject": "user:u@example.com"},
                            "authorizationInfo": [{"granted": True, "permission": "p", "resourceAttributes": {"name": "b"}}],
                            "requestMetadata": {"callerIp": "10.1.2.3", "requestAttributes": {"time": "t"}},
                            "status": {"code": 5, "message": "not found", "details": [{"x": 1}]}}}  # fmt: skip
    d = formats.get("k8s_audit").decode(json.dumps(doc).encode(), "src")
    (r,) = _rows(d)
    assert r["src_endpoint"]["ip"] == "10.1.2.3" and r["status_detail"] == "not found"
    assert json.loads(r["unmapped"])["protoPayload"] == {
        "authenticationInfo": {"principalSubject": "user:u@example.com"},
        "authorizationInfo": [{"granted": True, "permission": "p", "resourceAttributes": {"name": "b"}}],
        "requestMetadata": {"requestAttributes": {"time": "t"}},
        "status": {"details": [{"x": 1}]}}  # fmt: skip


def test_alertmanager_payload_from_a_proxy_with_empty_identifiers() -> None:
    """kubegems/alertproxy's documented input: Alertmanager's payload re-serialized from Go structs,
    so absent values are "" (fingerprint, generatorURL, groupKey, version) or null."""
    name, d = _auto("kubegems-alertproxy-payload.json")
    assert name == "alertmanager" and not d.dead
    (r,) = _rows(d)
    assert r["class_uid"] == 2004 and r["status"] == "New"  # firing
    assert r["time"] == 1666694656375  # startsAt 2022-10-25T18:44:16.375635254+08:00
    assert r["finding_info"]["desc"] == "kubegems test alert message"  # annotations.message
    # an empty fingerprint names no alert: the finding's uid (required) is the event's own
    assert r["finding_info"]["uid"] == r["metadata"]["uid"] and r["metadata"]["original_event_uid"] is None
    assert r["finding_info"]["src_url"] is None and r["metadata"]["correlation_uid"] is None
    assert r["metadata"]["log_version"] is None
    assert {"name": "gems_alertname", "value": "kubegems-test-alert"} in r["finding_info"]["tags"]


def _lambda_sqs(*bodies: str) -> bytes:
    """A Lambda event of an SQS trigger (AWS Lambda developer guide, "Using Lambda with Amazon SQS")."""
    return json.dumps({"Records": [
        {"messageId": f"059f36b4-87a3-44ab-83d2-66197553858{i}", "receiptHandle": "AQEBwJnKyrHigUMZj6rYigCgxlaS3SLy0a",
         "body": b, "attributes": {"ApproximateReceiveCount": "1", "SentTimestamp": "1545082649183",
                                   "SenderId": "AIDAIENQZJOLO23YVJ4VO", "ApproximateFirstReceiveTimestamp": "1545082649185"},
         "messageAttributes": {}, "md5OfBody": "e4e68fb7bd0e697a0ae8f1bb342846b3", "eventSource": "aws:sqs",
         "eventSourceARN": "arn:aws:sqs:us-east-2:123456789012:my-queue", "awsRegion": "us-east-2"}
        for i, b in enumerate(bodies)]}).encode()  # fmt: skip


def test_cloudtrail_in_lambda_sns_and_sqs_events() -> None:
    """aws-to-slack's GuardDuty test: a Lambda SNS event whose notification carries the EventBridge
    event of a CloudTrail record (ArchiveFindings). The same record reaching a Lambda through SQS
    (the EventBridge event as the body, or the SNS notification as the body) is the same event."""
    from secpipe import formats

    name, d = _auto("aws-to-slack-sns-eventbridge-cloudtrail.json")
    assert name == "cloudtrail" and not d.dead and d.events == 1
    (r,) = _rows(d)
    assert r["api"]["operation"] == "ArchiveFindings" and r["api"]["service"]["name"] == "guardduty.amazonaws.com"
    assert r["metadata"]["original_event_uid"] == "6c9e7ce6-6558-4f86-8e32-def7502d7fd5"
    assert r["src_endpoint"]["ip"] == "202.91.207.179" and r["time"] == 1670067391000  # 2022-12-03T11:36:31Z
    assert r["actor"]["user"]["uid"] == "AROAUDN2TOUFEGQMHUTAQ:example@test.com"
    assert r["cloud"]["region"] == "ap-southeast-2"
    packet = json.loads((CASES / "aws-to-slack-sns-eventbridge-cloudtrail.json").read_bytes())
    sns = packet["Records"][0]["Sns"]
    ct = formats.get("cloudtrail")
    body = _lambda_sqs(sns["Message"], json.dumps(sns), "not json")
    assert formats.detect(body[:65536]) is ct
    d2 = ct.decode(body, "sqs")
    rows = _rows(d2)
    assert d2.events == 3 and len(rows) == 2
    assert {x["metadata"]["uid"] for x in rows} == {r["metadata"]["uid"]}  # one event whichever route
    (dead,) = d2.dead
    assert dead.reason == "SQS message body is not a CloudTrail JSON record"


def test_jenkins_finished_phase_is_the_finalization() -> None:
    """openstack-infra/zmq-event-publisher (Phase.java: STARTED, COMPLETED, FINISHED; borrowed from
    the Notification plugin, whose older versions named the last phase so too): its FINISHED
    message is the build's end, as the Notification plugin's FINALIZED."""
    from secpipe import formats

    def msg(phase: str, status: str | None) -> dict[str, object]:
        build = {"number": 2357, "url": "job/Build_VM/2357/", "phase": phase, "full_url": "http://ci:8080/job/Build_VM/2357/",
                 "node_name": "", "parameters": {"index": "36"}}  # fmt: skip
        if status:
            build["status"] = status
        return {"name": "Build_VM", "url": "job/Build_VM/", "build": build}

    doc = "\n".join(json.dumps(msg(p, s)) for p, s in
                    (("STARTED", None), ("COMPLETED", "FAILURE"), ("FINISHED", "FAILURE"))).encode()  # fmt: skip
    d = formats.get("jenkins").decode(doc, "zmq")
    assert not d.dead
    rows = {r["metadata"]["event_code"]: r for r in _rows(d)}
    fin, done = rows["FINISHED"], rows["COMPLETED"]
    assert fin["activity_id"] == done["activity_id"] == 2  # Update, not Other
    assert fin["job"]["run_state"] == done["job"]["run_state"] == "Stopped"
    assert fin["status"] == "Failure" and fin["metadata"]["correlation_uid"] == "Build_VM#2357"
    assert rows["STARTED"]["job"]["run_state"] == "Running"


def test_falco_pod_log_keeps_alerts_only() -> None:
    """The Falco blog's k8saudit-ovh walkthrough: ``kubectl logs`` of a Falco pod, Falco's own
    startup log lines (stderr, asctime stamps) then JSON alerts of the k8s_audit plugin source."""
    name, d = _auto("falco-website-k8saudit-ovh-console.log")
    assert name == "falco"
    assert not d.dead and d.events == 3  # 7 log lines, 3 alerts
    rows = _rows(d)
    assert [r["finding_info"]["title"] for r in rows] == ["Disallowed K8s User"] * 3
    r = rows[1]
    assert r["metadata"]["log_source"] == "k8s_audit" and r["severity_id"] == 3  # Warning: Medium
    assert r["time"] == 1739178957508  # 2025-02-10T09:15:57.508657000Z
    assert r["device"]["hostname"] == "my-pool-1-node-921b61"
    assert r["resources"] == [{"type": "events", "name": "my-pool-1.18051c0a88716868", "namespace": None, "uid": None}]
    (ev,) = r["evidences"]
    assert ev["actor"]["user"]["name"] == "yacht" and ev["api"]["operation"] == "patch"


def test_falco_log_lines_iso_time_and_text_alerts() -> None:
    """falco_logger's ISO 8601 stamp (time_format_iso_8601: ``%FT%T%z``) is a log line too; a text
    alert (json_output: false; nanosecond time, then the priority) is still dead-lettered with its hint."""
    from secpipe import formats

    doc = (b"2025-02-10T09:15:35+0000: Falco version: 0.40.0 (x86_64)\n"
           b'{"output":"x","priority":"Notice","rule":"R","source":"syscall","time":"2025-02-10T09:15:36.000000000Z"}\n'
           b"2025-02-10T09:15:37.123456789+0000: Warning Sensitive file opened (file=/etc/shadow)\n")  # fmt: skip
    d = formats.get("falco").decode(doc, "x")
    assert d.events == 2 and len(_rows(d)) == 1
    (dead,) = d.dead
    assert dead.offset == doc.index(b"2025-02-10T09:15:37") and "json_output" in dead.reason


def test_cisco_messages_without_pri_take_the_mnemonic_severity() -> None:
    """Elastic's ASA hostnames test: ASA messages as a file or a PRI-less relay keeps them. Cisco's
    %FAC-SEV-MNEMONIC carries the severity (levels 0-7, syslog's); without <PRI> it is the event's."""
    from secpipe import formats

    name, d = _auto("elastic-asa-hostnames.log")
    assert name == "syslog" and not d.dead
    rows = sorted(_rows(d), key=lambda r: r["time"])
    assert [r["time"] for r in rows] == [1307224792000, 1570702896000]  # 2011-06-04T21:59:52, 2019-10-10T10:21:36
    assert [r["device"]["hostname"] for r in rows] == ["MYHOSTNAME", "localhost"]
    assert {r["metadata"]["event_code"] for r in rows} == {"ASA-6-302021"}
    assert [(r["severity_id"], r["metadata"]["log_level"]) for r in rows] == [(1, "info")] * 2  # 6 informational
    doc = (b"000123: *Mar  1 00:00:15.123: %SYS-5-CONFIG_I: Configured from console by vty0\n"
           b"<166>Jun 26 2026 20:54:29: %ASA-4-733100: [ x ] drop rate-1 exceeded\n")  # fmt: skip
    ios, pri = _rows(formats.get("syslog").decode(doc, "x"))
    assert (ios["severity_id"], ios["metadata"]["log_level"]) == (2, "notice")  # 5 notifications
    assert (pri["severity_id"], pri["metadata"]["log_level"]) == (1, "info")  # <166>: local4.info, the PRI's


def test_gitlab_audit_events_api_details_without_event_type() -> None:
    """GitLab's Audit events API (GET /audit_events): older events say what happened only in
    ``details`` (``custom_message``, ``add``, ``change`` with ``from``/``to``); the newest carries
    ``event_type``. Every event needs an operation (OCSF requires ``api.operation``)."""
    name, d = _auto("gitlab-audit-events-api.json")
    assert name == "gitlab" and not d.dead
    rows = {r["metadata"]["original_event_uid"]: r for r in _rows(d)}
    assert len(rows) == 4
    # "add": "group": a group was added (created)
    assert rows["2"]["api"]["operation"] == "add group" and rows["2"]["activity_name"] == "Create"
    # "change": "email address" from/to: an update
    assert rows["3"]["api"]["operation"] == "email address" and rows["3"]["activity_name"] == "Update"
    # custom_message "Project archived": its verb ends the sentence
    assert rows["1"]["api"]["operation"] == "Project archived" and rows["1"]["activity_name"] == "Update"
    assert rows["4"]["api"]["operation"] == "audit_events_streaming_instance_headers_create"
    assert rows["4"]["activity_name"] == "Create"
    assert rows["1"]["actor"]["user"] == {**rows["1"]["actor"]["user"], "name": "Administrator", "uid": "1",
                                          "email_addr": "admin@example.com"}
    assert rows["2"]["time"] == 1566931004162  # 2019-08-27T18:36:44.162Z
    assert rows["2"]["src_endpoint"]["ip"] == "127.0.0.1"
    assert json.loads(rows["3"]["unmapped"])["details"]["from"] == "hello@flightjs.com"  # from/to kept


def test_jenkins_console_clock_stamps_with_two_spaces() -> None:
    """A Pipeline console log with ``timestamps {}`` as the console page shows it (and a public
    demo-ci-go build log has it): ``HH:mm:ss`` then two spaces, then the line. The line's text is
    the message, and an ``ERROR``/``WARNING`` line keeps its severity."""
    from secpipe import formats

    doc = (b"Started by an SCM change\n[Pipeline] stage\n[Pipeline] { (Push Image to GHCR)\n[Pipeline] sh\n"
           b"20:07:37   > git rev-parse --resolve-git-dir /var/jenkins_home/workspace/demo-ci-go-pipeline/.git # timeout=10\n"
           b"20:08:20  WARNING! Your password will be stored unencrypted in /var/jenkins_home/.docker/config.json.\n"
           b"20:08:21  ERROR: script returned exit code 1\n"
           b"[Pipeline] }\n[Pipeline] // stage\nFinished: FAILURE\n")  # fmt: skip
    d = formats.get("jenkins_log").decode(doc, "job/demo-ci-go-pipeline/7/consoleText")
    rows = {r["unmapped"]: r for r in _rows(d)}
    git, warn, err = (rows[f'{{"line":{n},"stage":"Push Image to GHCR"}}'] for n in (5, 6, 7))
    assert git["message"] == " > git rev-parse --resolve-git-dir /var/jenkins_home/workspace/demo-ci-go-pipeline/.git # timeout=10"
    assert warn["message"].startswith("WARNING! Your password") and warn["severity_id"] == 3
    assert err["message"] == "ERROR: script returned exit code 1" and err["severity_id"] == 4
    assert err["metadata"]["correlation_uid"] == "demo-ci-go-pipeline#7"
