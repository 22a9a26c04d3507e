"""Round 30 of the holdout sweep, wire side (samples and sources: tests/cases/wire_holdout/SOURCE.md).

- An OpenTelemetry log record whose body a specific format reads (a Falco alert, a Kubernetes
  audit event, a CloudTrail record) kept its event but lost its resource: ``host.name``,
  ``cloud.*``, ``k8s.*``, ``service.name`` were nowhere in the lake (the generic path keeps them
  in ``unmapped``). They are now on its events (``device``, ``cloud`` where the record left them
  empty, the whole resource in ``unmapped``), on ``POST /v1/logs``, a Kafka topic, a file of the Collector's ``file`` exporter and a WAL replay.
- A Splunk HEC event of a specific format lost its envelope's ``host``, ``source``, ``index`` and
  ``fields`` (the Splunk OTel Collector puts a record's resource there); kept the same way.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import httpx
import orjson

from secpipe.formats._context import Context, hint, split
from secpipe.runtime.service import Service
from secpipe.server.app import create_app
from secpipe.server.auth import TokenStore
from secpipe.server.http import AppContext, Limits
from secpipe.store.query import run

CASES = Path(__file__).parents[1] / "cases"
HOLDOUT = CASES / "holdout"
#: elastic/integrations' Falco alert and Kubernetes audit event (tests/cases/holdout/SOURCE.md)
FALCO = (HOLDOUT / "elastic-falco-alerts.log").read_text().splitlines()[0]
K8S = (HOLDOUT / "elastic-k8s-audit-mixed.log").read_text().splitlines()[0]
#: the resource the Collector's resourcedetection (system, ec2) and k8sattributes processors give a
#: log read on an EKS node (attribute names: the OpenTelemetry semantic conventions)
RESOURCE = {
    "service.name": "falco", "host.name": "ip-10-0-1-7.eu-west-1.compute.internal", "host.id": "i-0abc1234def567890",
    "cloud.provider": "aws", "cloud.platform": "aws_eks", "cloud.region": "eu-west-1",
    "cloud.availability_zone": "eu-west-1a", "cloud.account.id": "123456789012", "k8s.cluster.name": "prod-eu",
    "k8s.namespace.name": "falco", "k8s.pod.name": "falco-x2x9k", "k8s.pod.uid": "4f0b5e5c-5d3a-4d43-9a57-6f2c1a1e2b3c",
    "container.id": "9656db3bb358", "k8s.node.name": "ip-10-0-1-7.eu-west-1.compute.internal",
}  # fmt: skip


def _request(*bodies: Any, resource: dict[str, str] = RESOURCE) -> bytes:
    attrs = [{"key": k, "value": {"stringValue": v}} for k, v in resource.items()]
    records = [{"timeUnixNano": "1715108059341081180",
                "body": {"stringValue": b} if isinstance(b, str) else {"kvlistValue": {"values": b}}} for b in bodies]
    return orjson.dumps({"resourceLogs": [{"resource": {"attributes": attrs},
                                           "scopeLogs": [{"logRecords": records}]}]})  # fmt: skip


def _post(data_dir: Path, *requests: bytes, kind: str = "application/json") -> list[httpx.Response]:
    svc = Service(data_dir)
    tokens = TokenStore(data_dir)
    token = tokens.create("otel", "ingest")
    app = create_app(AppContext(service=svc, tokens=tokens, limits=Limits()))

    async def send() -> list[httpx.Response]:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
            return [await client.post("/v1/logs", content=r, headers={
                "Authorization": f"Bearer {token}", "Content-Type": kind}) for r in requests]  # fmt: skip

    try:
        return asyncio.run(send())
    finally:
        svc.close()


def _rows(data_dir: Path, table: str) -> list[dict[str, Any]]:
    cols, rows = run(data_dir, f"select * from {table} order by time")
    return [dict(zip(cols, r, strict=True)) for r in rows]


def test_otlp_falco_and_k8s_audit_records_keep_their_resource(tmp_path: Path) -> None:
    answers = _post(tmp_path, _request(FALCO, K8S))
    assert [a.status_code for a in answers] == [200] and answers[0].json() == {}
    (falco,) = _rows(tmp_path, "detection_finding")
    (audit,) = _rows(tmp_path, "api_activity")
    # the alert names its device itself (the container's host name): it stays, the node's is not
    # mixed in (it is in the resource kept in unmapped)
    assert falco["device"]["hostname"] == "97ade2b595f0" and "uid" not in falco["device"]
    assert audit["device"]["hostname"] == RESOURCE["host.name"] and audit["device"]["uid"] == "i-0abc1234def567890"
    assert audit["device"]["container"]["pod_uuid"] == RESOURCE["k8s.pod.uid"]
    for row in (falco, audit):
        assert row["cloud"]["provider"] == "aws" and row["cloud"]["region"] == "eu-west-1"
        assert row["cloud"]["zone"] == "eu-west-1a" and row["cloud"]["account"]["uid"] == "123456789012"
        assert orjson.loads(row["unmapped"])["resource"]["attributes"] == RESOURCE
        assert "cloud" in row["metadata"]["profiles"]
    # the format's own unmapped keys are kept beside the resource
    assert orjson.loads(audit["unmapped"])["level"] == "Metadata"


def test_otlp_protobuf_request_keeps_the_resource(tmp_path: Path) -> None:
    # binary protobuf, the otlphttp exporter's default encoding (the official opentelemetry-proto classes)
    from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest

    req = ExportLogsServiceRequest()
    rl = req.resource_logs.add()
    for k, v in RESOURCE.items():
        rl.resource.attributes.add(key=k).value.string_value = v
    rec = rl.scope_logs.add().log_records.add(time_unix_nano=1715108059341081180)
    rec.body.string_value = K8S
    (answer,) = _post(tmp_path, req.SerializeToString(), kind="application/x-protobuf")
    assert answer.status_code == 200
    (row,) = _rows(tmp_path, "api_activity")
    assert row["device"]["hostname"] == RESOURCE["host.name"] and row["cloud"]["zone"] == "eu-west-1a"
    assert orjson.loads(row["unmapped"])["resource"]["attributes"] == RESOURCE


def test_a_record_that_names_its_cloud_keeps_it(tmp_path: Path) -> None:
    # a CloudTrail record (map body, as the Collector's json_parser leaves it) of another account
    # and region than the collector's: its cloud is its own, the collector's is not mixed in
    record = orjson.loads((CASES / "wire_holdout" / "elastic-cloudtrail-console-login.log").read_bytes().splitlines()[0])

    def kv(obj: dict[str, Any]) -> list[dict[str, Any]]:
        return [{"key": k, "value": _any(v)} for k, v in obj.items()]

    def _any(v: Any) -> dict[str, Any]:
        if isinstance(v, dict):
            return {"kvlistValue": {"values": kv(v)}}
        if isinstance(v, bool):
            return {"boolValue": v}
        return {"stringValue": v} if isinstance(v, str) else {"intValue": v} if isinstance(v, int) else {}

    _post(tmp_path, _request(kv(record)))
    (row,) = _rows(tmp_path, "authentication")
    assert row["cloud"]["region"] == record["awsRegion"]
    assert row["cloud"].get("account") is None and row["cloud"].get("zone") is None
    # nor is the collector's host its device
    assert "device" not in row
    assert orjson.loads(row["unmapped"])["resource"]["attributes"]["k8s.cluster.name"] == "prod-eu"


def test_records_of_two_resources_in_one_request(tmp_path: Path) -> None:
    other = RESOURCE | {"host.name": "node-b", "host.id": "i-0b", "k8s.pod.name": "falco-b"}
    a, b = orjson.loads(_request(K8S)), orjson.loads(_request(K8S.replace("abcde12345", "fghij67890"), resource=other))
    (answer,) = _post(tmp_path, orjson.dumps({"resourceLogs": a["resourceLogs"] + b["resourceLogs"]}))
    assert answer.status_code == 200
    rows = _rows(tmp_path, "api_activity")
    assert sorted(r["device"]["hostname"] for r in rows) == sorted([RESOURCE["host.name"], "node-b"])


def test_context_is_replayed_from_the_wal(tmp_path: Path) -> None:
    # the context is in the source the WAL keeps: a replay after an unclean stop stamps the same events
    from secpipe.store.wal import WAL, WalRecord, now_ms

    ctx = Context(fields={"device.hostname": "node-7", "cloud.region": "eu-west-1"},
                  unmapped={"resource": {"attributes": {"service.name": "kube-apiserver"}}})  # fmt: skip
    wal = WAL(tmp_path / "wal")
    wal.sync(wal.append(WalRecord("k8s_audit", "otlp:otel" + hint(ctx), now_ms(), K8S.encode())))
    wal.close()
    svc = Service(tmp_path)
    svc.close()
    (row,) = _rows(tmp_path, "api_activity")
    assert row["device"]["hostname"] == "node-7" and row["cloud"]["region"] == "eu-west-1"
    assert orjson.loads(row["unmapped"])["resource"]["attributes"] == {"service.name": "kube-apiserver"}


def test_context_hint_round_trip_and_damage() -> None:
    ctx = Context(fields={"device.hostname": "h"}, unmapped={"resource": {"attributes": {"a": ";ctx="}}})
    assert split("otlp:x;host=h" + hint(ctx) + ";repeats=0:1") == ("otlp:x;host=h;repeats=0:1", ctx)
    assert split("otlp:x;ctx=!!!") == ("otlp:x;ctx=!!!", None)
    assert split("otlp:x;ctx=e30") == ("otlp:x", Context())  # {}


# Splunk HEC: an event of a specific format lost its envelope's host, source, index and fields. The
# OpenTelemetry Collector's splunk_hec exporter (opentelemetry-collector-contrib
# exporter/splunkhecexporter/logdata_to_splunk.go, mapLogRecordToSplunkEvent) puts a record's body
# in `event`, its resource's host.name in `host` and the other resource and record attributes in
# `fields` by their OTel names (what the Splunk OTel Collector's Kubernetes chart sends).


def _hec(data_dir: Path, body: bytes) -> httpx.Response:
    svc = Service(data_dir)
    tokens = TokenStore(data_dir)
    token = tokens.create("hec", "ingest")
    app = create_app(AppContext(service=svc, tokens=tokens, limits=Limits()))

    async def send() -> httpx.Response:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
            return await client.post("/services/collector/event", content=body,
                                     headers={"Authorization": f"Splunk {token}"})  # fmt: skip

    try:
        return asyncio.run(send())
    finally:
        svc.close()


def test_hec_envelope_of_a_kubernetes_audit_event_keeps_its_fields(tmp_path: Path) -> None:
    fields = {k: v for k, v in RESOURCE.items() if k not in ("host.name", "service.name")}
    envelope = {"time": 1741069338.819, "host": RESOURCE["host.name"], "source": "/var/log/kubernetes/audit.log",
                "sourcetype": "kube:apiserver-audit", "index": "k8s", "event": K8S, "fields": fields}  # fmt: skip
    # a second event with no envelope fields (falcosidekick's splunk output): as before
    plain = {"sourcetype": "kube:apiserver-audit", "event": K8S.replace("abcde12345", "fghij67890")}
    answer = _hec(tmp_path, orjson.dumps(envelope) + orjson.dumps(plain))
    assert answer.json() == {"text": "Success", "code": 0}
    rows = {r["metadata"]["original_event_uid"]: r for r in _rows(tmp_path, "api_activity")}
    row = rows["abcde12345"]
    assert row["device"]["hostname"] == RESOURCE["host.name"] and row["device"]["uid"] == "i-0abc1234def567890"
    assert row["cloud"]["region"] == "eu-west-1" and row["cloud"]["account"]["uid"] == "123456789012"
    hec = orjson.loads(row["unmapped"])["hec"]
    assert hec == {"host": RESOURCE["host.name"], "source": "/var/log/kubernetes/audit.log", "index": "k8s",
                   "fields": fields}  # fmt: skip
    assert "hec" not in orjson.loads(rows["fghij67890"]["unmapped"])
    assert rows["fghij67890"]["device"] is None


def test_kafka_otlp_message_keeps_the_resource_and_replays_it() -> None:
    # the Collector's kafka exporter writes one request a message (encoding otlp_json); the poll's
    # WAL record keeps each record's context, so a replay stamps the same events
    from secpipe.sources.kafka_batch import Message, decode_messages, replay

    msgs = [Message("otlp_logs", 0, 7, _request(FALCO, K8S), None, 1715108059341)]
    dec, wal = decode_messages(msgs, lambda topic: "auto")
    assert not dec.dead
    for got in (dec, replay(wal[0].body)):
        rows = {r["class_name"]: r for b in got.batches for r in b.to_pylist()}
        assert rows["API Activity"]["device"]["hostname"] == RESOURCE["host.name"]
        assert rows["Detection Finding"]["cloud"]["account"]["uid"] == "123456789012"
        assert orjson.loads(rows["Detection Finding"]["unmapped"])["resource"]["attributes"] == RESOURCE
        assert rows["API Activity"]["metadata"]["loggers"][0]["event_uid"] == "otlp_logs-0@7"
def test_collector_file_exporter_output_keeps_the_resource(tmp_path: Path) -> None:
    # the Collector's file exporter writes one request a line; `secpipe ingest --format auto` reads it
    from typer.testing import CliRunner

    from secpipe.cli.main import _register, app

    _register()
    path = tmp_path / "logs.json"
    path.write_bytes(_request(FALCO, K8S) + b"\n")
    got = CliRunner().invoke(app, ["ingest", "--format", "auto", "--data", str(tmp_path / "d"), str(path)])
    assert got.exit_code == 0, got.output
    (falco,) = _rows(tmp_path / "d", "detection_finding")
    assert falco["cloud"]["account"]["uid"] == "123456789012"
    assert orjson.loads(falco["unmapped"])["resource"]["attributes"]["k8s.pod.name"] == "falco-x2x9k"




# GitLab webhook signing tokens (gitlab-org/gitlab!230944, behind the webhook_signing_token flag):
# with a signing token (whsec_<base64 of 32 bytes>) GitLab sends the Standard Webhooks headers:
# webhook-id (= Idempotency-Key), webhook-timestamp, webhook-signature "v1,<base64 HMAC-SHA256 of
# {webhook-id}.{timestamp}.{body}>". A hook with only a signing token (no secret token) was refused
# 401 (no X-Gitlab-Token) and could not be set up at all without a secret token.
PUSH = (CASES / "cicd" / "gitlab_push.json").read_bytes()  # GitLab's push event example (cicd/SOURCE.md)
SIGNING = "whsec_" + __import__("base64").b64encode(b"k" * 32).decode()


def _gitlab(data_dir: Path, requests: list[dict[str, str]], body: bytes = PUSH, *, token: str | None = None,
            signing: str | None = SIGNING) -> list[httpx.Response]:  # fmt: skip
    from secpipe.config.models import PipelineConfig

    svc = Service(data_dir)
    cfg = PipelineConfig.model_validate({"ingest": {"webhooks": {"gitlab": {"token": token, "signing_token": signing}}}})
    app = create_app(AppContext(service=svc, tokens=TokenStore(data_dir), limits=Limits(), extras={"config": cfg}))

    async def send() -> list[httpx.Response]:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
            return [await client.post("/v1/webhooks/gitlab", content=body,
                                      headers={"X-Gitlab-Event": "Push Hook", "Content-Type": "application/json", **h})
                    for h in requests]  # fmt: skip

    try:
        return asyncio.run(send())
    finally:
        svc.close()


def _signed(wid: str, at: int, body: bytes = PUSH, key: bytes = b"k" * 32) -> dict[str, str]:
    import base64
    import hashlib
    import hmac

    sig = base64.b64encode(hmac.new(key, f"{wid}.{at}.".encode() + body, hashlib.sha256).digest()).decode()
    return {"webhook-id": wid, "webhook-timestamp": str(at), "webhook-signature": f"v1,{sig}", "Idempotency-Key": wid}


def test_gitlab_hook_with_a_signing_token(tmp_path: Path) -> None:
    import time

    now = int(time.time())
    good = _signed("a1b2c3d4-0000-4000-8000-000000000001", now)
    rotated = good | {"webhook-signature": "v1,bm90IHRoaXMgb25l " + good["webhook-signature"]}  # several entries
    answers = _gitlab(tmp_path, [
        good,
        rotated,  # the same delivery again: a duplicate
        _signed("a1b2c3d4-0000-4000-8000-000000000002", now - 3600),  # an hour old: replayed
        good | {"webhook-id": "a1b2c3d4-0000-4000-8000-000000000003", "Idempotency-Key": "x"},  # not what was signed
        {"X-Gitlab-Token": "anything"},  # no signature at all
    ])  # fmt: skip
    assert answers[0].status_code == 200 and answers[0].json()["accepted"] == 1
    assert answers[1].json() == {"status": "duplicate", "delivery": good["webhook-id"]}
    assert [a.status_code for a in answers[2:]] == [401, 401, 401]
    assert "5 minutes" in answers[2].text and "invalid webhook-signature" in answers[3].text
    cols, rows = run(tmp_path, "select count(*) from dead_letter")
    assert rows == [(0,)]  # strangers' bodies are not kept


def test_gitlab_hook_with_both_tokens_needs_both(tmp_path: Path) -> None:
    import time

    good = _signed("b1", int(time.time()))
    answers = _gitlab(tmp_path, [good, good | {"X-Gitlab-Token": "s3cret", "Idempotency-Key": "b2"}], token="s3cret")
    assert [a.status_code for a in answers] == [401, 200]


def test_gitlab_signing_token_must_be_whsec() -> None:
    import pytest
    from pydantic import ValidationError

    from secpipe.config.models import PipelineConfig

    with pytest.raises(ValidationError, match="whsec_"):
        PipelineConfig.model_validate({"ingest": {"webhooks": {"gitlab": {"signing_token": "plain"}}}})


# Falcosidekick's OTLP logs output (falcosecurity/falcosidekick outputs/otlp_logs.go, OTLPLogsPost:
# otelslog logger "falco", Info(output, "priority", "source", "rule", "hostname", "tags" joined by
# commas, "timestamp" = Go's time.String()). Its records were detected whole as Falco alerts (the
# sniffer took the attributes' rule/priority keys for an alert's) and dead-lettered: "not a Falco alert".
def _sidekick_request() -> bytes:
    alert = orjson.loads(FALCO)
    attrs = {"priority": alert["priority"], "source": alert["source"], "rule": alert["rule"],
             "hostname": alert["hostname"], "tags": ",".join(alert["tags"]),
             "timestamp": "2024-05-07 18:54:19.34108118 +0000 UTC"}  # fmt: skip
    record = {"timeUnixNano": "1715108060000000000", "severityNumber": 9, "severityText": "INFO",
              "body": {"stringValue": alert["output"]},
              "attributes": [{"key": k, "value": {"stringValue": v}} for k, v in attrs.items()]}  # fmt: skip
    return orjson.dumps({"resourceLogs": [{"resource": {"attributes": [
        {"key": "service.name", "value": {"stringValue": "falcosidekick"}}]},
        "scopeLogs": [{"scope": {"name": "falco"}, "logRecords": [record]}]}]})  # fmt: skip


def test_falcosidekick_otlp_logs_are_falco_alerts(tmp_path: Path) -> None:
    (answer,) = _post(tmp_path, _sidekick_request())
    assert answer.json() == {}
    (row,) = _rows(tmp_path, "detection_finding")
    alert = orjson.loads(FALCO)
    assert row["severity"] == "Medium" and row["finding_info"]["title"] == alert["rule"]
    assert row["finding_info"]["types"] == alert["tags"] and row["metadata"]["log_source"] == "syscall"
    assert row["time_dt"].isoformat() == "2024-05-07T18:54:19.341000+00:00"  # the alert's, not the send time
    assert row["device"]["hostname"] == alert["hostname"] and row["message"] == alert["output"]
    assert orjson.loads(row["unmapped"])["resource"]["attributes"] == {"service.name": "falcosidekick"}


def test_otlp_record_with_rule_and_priority_attributes_is_not_taken_for_an_alert(tmp_path: Path) -> None:
    # an application's record whose attributes happen to be called rule and priority (a WAF's): stored
    # whole as a generic event, where it was dead-lettered as a Falco alert without a rule
    attrs = [{"key": "rule", "value": {"stringValue": "942100"}}, {"key": "priority", "value": {"stringValue": "critical"}}]
    req = {"resourceLogs": [{"scopeLogs": [{"logRecords": [{"timeUnixNano": "1715108060000000000",
           "body": {"stringValue": "SQL injection attempt blocked"}, "attributes": attrs}]}]}]}  # fmt: skip
    (answer,) = _post(tmp_path, orjson.dumps(req))
    assert answer.json() == {}
    cols, rows = run(tmp_path, "select message from base_event")
    assert rows == [("SQL injection attempt blocked",)]


def test_otlp_file_records_without_a_body_are_kept(tmp_path: Path) -> None:
    # a record's body is optional (OTel log data model); in a Collector file-exporter file such
    # records were left out without a word (no format name came back for them)
    from secpipe.sources.files import read_documents

    req = {"resourceLogs": [{"scopeLogs": [{"logRecords": [
        {"timeUnixNano": "1700000000000000000", "eventName": "device.app.lifecycle",
         "attributes": [{"key": "android.state", "value": {"stringValue": "created"}}]}]}]}]}  # fmt: skip
    path = tmp_path / "logs.json"
    path.write_bytes(orjson.dumps(req) + b"\n")
    docs = list(read_documents(str(path)))
    assert [d.fmt.name for d in docs if d.fmt is not None] == ["json"]


# The Collector's elasticsearch exporter in its otel mapping mode (its golden otel document,
# tests/cases/wire_holdout/otel-es-exporter-golden-logs.ndjson line 1) on _bulk: a document whose
# body json_parser made a map (a CloudTrail record) was detected whole as CloudTrail and
# dead-lettered ("CloudTrail record without eventName/eventSource"); one whose attributes are called
# rule and priority was detected whole as a Falco alert and dead-lettered.
GOLDEN = orjson.loads((CASES / "wire_holdout" / "otel-es-exporter-golden-logs.ndjson").read_bytes().splitlines()[0])
TRAIL = orjson.loads((CASES / "wire_holdout" / "elastic-cloudtrail-console-login.log").read_bytes())


def test_es_exporter_otel_documents_are_read_by_what_they_wrap() -> None:
    from secpipe.server.shipped import shipped_lines

    structured = GOLDEN | {"body": {"structured": TRAIL}}
    waf = GOLDEN | {"attributes": {"rule": "942100", "priority": "critical"}}
    line = GOLDEN | {"body": {"text": (HOLDOUT / "elastic-system-auth.log").read_text().splitlines()[3]}}
    names, docs = shipped_lines([None] * 4, [orjson.dumps(d) for d in (structured, waf, line, GOLDEN)])
    assert names == ["cloudtrail", "json", "syslog", "json"]
    assert orjson.loads(bytes(docs[0])) == TRAIL and orjson.loads(docs[1]) == waf


def test_es_exporter_cloudtrail_document_on_bulk(tmp_path: Path) -> None:
    svc = Service(tmp_path)
    tokens = TokenStore(tmp_path)
    token = tokens.create("es", "ingest")
    app = create_app(AppContext(service=svc, tokens=tokens, limits=Limits()))
    body = b'{"create":{"_index":"logs-generic.otel-default"}}\n' + orjson.dumps(GOLDEN | {"body": {"structured": TRAIL}})

    async def send() -> httpx.Response:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
            return await client.post("/_bulk", content=body + b"\n", headers={
                "Authorization": f"Bearer {token}", "Content-Type": "application/x-ndjson"})  # fmt: skip

    try:
        answer = asyncio.run(send())
    finally:
        svc.close()
    assert answer.json()["errors"] is False
    (row,) = _rows(tmp_path, "authentication")
    assert row["user"]["name"] == "JaneDoe" and row["cloud"]["region"] == "us-east-2"
    # its resource kept as on POST /v1/logs (a record naming its cloud gets no device of the shipper)
    assert orjson.loads(row["unmapped"])["resource"]["attributes"] == GOLDEN["resource"]["attributes"]
    assert "device" not in row
