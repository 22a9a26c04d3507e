"""Amazon Data Firehose HTTP endpoint delivery against a real ``secpipe up`` (session 19).

No Firehose binary exists outside AWS: an httpx client sends exactly what the AWS guide's "HTTP
endpoint delivery request and response specifications" shows (protocol 1.0: the JSON body of
``requestId``, ``timestamp`` and base64 ``records[].data``; the ``X-Amz-Firehose-*`` headers;
the body gzip-compressed when the stream is set so) and checks the answer the spec requires.

The records hold what Firehose carries from a CloudWatch Logs subscription: each one envelope,
gzip-compressed as CloudWatch writes it, around real log events: CloudTrail records
(falcosecurity/falco's ``alice_start_instances.json``, elastic/integrations' IAM Identity Center
sign-in from tests/cases/holdout), EKS audit Events (falco's k8s_audit trace files) and OpenSSH
syslog lines (loghub, tests/cases/holdout); a ``CONTROL_MESSAGE`` (CloudWatch checking the
destination) among them.
"""

from __future__ import annotations

import base64
import gzip
import json
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.integration.wire_server import Server, start

CASES = Path(__file__).parents[1] / "cases" / "holdout"
T0 = 1765349740000


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    srv = start(tmp_path_factory.mktemp("firehose"), "server: {max_decompressed_bytes: 16777216}\n")
    yield srv
    srv.stop()


def _envelope(group: str, stream: str, messages: list[str], first: int = 0) -> dict[str, Any]:
    return {"messageType": "DATA_MESSAGE", "owner": "123456789012", "logGroup": group, "logStream": stream,
            "subscriptionFilters": ["to-firehose"],
            "logEvents": [{"id": str(36000000000000000000000000000000000000000000000000000000 + first + i),
                           "timestamp": T0 + i, "message": m} for i, m in enumerate(messages)]}  # fmt: skip


_CONTROL = {"messageType": "CONTROL_MESSAGE", "owner": "CloudwatchLogs", "logGroup": "", "logStream": "",
            "subscriptionFilters": [], "logEvents": [{"id": "", "timestamp": T0,
            "message": "CWL CONTROL MESSAGE: Checking health of destination Firehose."}]}  # fmt: skip


def _record(payload: bytes, *, gz: bool = True) -> dict[str, str]:
    return {"data": base64.b64encode(gzip.compress(payload) if gz else payload).decode()}


def _post(server: Server, records: list[dict[str, str]], *, path: str = "/v1/firehose", gz_body: bool = False,
          request_id: str | None = None, key: str | None = None, extra: dict[str, str] | None = None) -> httpx.Response:
    rid = request_id or str(uuid.uuid4())
    body = json.dumps({"requestId": rid, "timestamp": T0, "records": records}).encode()
    headers = {"Content-Type": "application/json", "X-Amz-Firehose-Protocol-Version": "1.0",
               "X-Amz-Firehose-Request-Id": rid,
               "X-Amz-Firehose-Source-Arn": "arn:aws:firehose:us-east-1:123456789012:deliverystream/secpipe",
               "X-Amz-Firehose-Access-Key": server.ingest if key is None else key,
               "X-Amz-Firehose-Common-Attributes": json.dumps({"commonAttributes": {"env": "dev"}}), **(extra or {})}
    if gz_body:
        body = gzip.compress(body)
        headers["Content-Encoding"] = "gzip"
    return httpx.post(server.url + path, content=body, headers=headers, timeout=60)


def _ok(r: httpx.Response, rid: str | None = None) -> None:
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "application/json"
    assert "content-encoding" not in r.headers  # the spec: the answer is never compressed
    body = r.json()
    assert set(body) == {"requestId", "timestamp"} and isinstance(body["timestamp"], int)
    assert body["requestId"] == (rid or r.request.headers["x-amz-firehose-request-id"])


def _cloudtrail(real: Path) -> list[dict[str, Any]]:
    alice = json.loads((real / "falco/test/trace_files/plugins/alice_start_instances.json").read_bytes())["Records"]
    signin = [json.loads(x) for x in (CASES / "elastic-cloudtrail-user-authentication.log").read_text().splitlines()]
    return [*alice, *signin]


def _k8s(real: Path) -> list[str]:
    out = []
    for f in sorted((real / "falco/test/trace_files/k8s_audit").glob("*.json")):
        out.extend(x for x in f.read_text().splitlines() if x.strip() and json.loads(x).get("kind") == "Event")
    return out  # fal_01_003.json's {"kind": 0} (a falco test of a bad event) left out


def test_cloudwatch_subscriptions_through_firehose(server: Server, real: Path) -> None:
    trail = _cloudtrail(real)
    audit = _k8s(real)
    lines = (CASES / "loghub_OpenSSH_head.log").read_text().splitlines()
    records = [
        _record(json.dumps(_CONTROL).encode()),
        _record(json.dumps(_envelope("aws-cloudtrail-logs", "123456789012_CloudTrail_us-east-1",
                                     [json.dumps(r) for r in trail])).encode()),
        *[_record(json.dumps(_envelope("/aws/eks/dev/cluster", "kube-apiserver-audit-0a1b", audit[i:i + 10], i)).encode())
          for i in range(0, len(audit), 10)],
        _record(json.dumps(_envelope("/var/log/secure", "i-0123456789abcdef0", lines, 500)).encode()),
    ]
    r = _post(server, records, gz_body=True)
    _ok(r)
    assert server.wait_rows("SELECT count(*) FROM api_activity WHERE api.operation = 'StartInstances'", 1) == 1
    signin = "SELECT count(*) FROM authentication WHERE metadata.product.name = 'CloudTrail'"
    assert server.wait_rows(signin, 1) == 1  # the IAM Identity Center sign-in: Authentication
    n_k8s = server.wait_rows("SELECT count(*) FROM api_activity WHERE metadata.product.name = 'Kubernetes'", len(audit))
    assert n_k8s == len(audit)
    sshd = server.wait_rows("SELECT (SELECT count(*) FROM authentication) + (SELECT count(*) FROM base_event)", len(lines))
    assert sshd >= len(lines)
    assert server.query("SELECT count(*) FROM dead_letter")[0][0] == 0  # the control message is no dead letter


def test_retry_does_not_store_twice(server: Server, real: Path) -> None:
    """Firehose retries a request it got no 200 for, with the same request id: answered 200 again,
    stored once. After a restart (the id forgotten) the records still collapse by event identity."""
    rec = _cloudtrail(real)[0]
    marked = dict(rec, eventID="7f1b6a3e-0000-4000-8000-firehose0001", eventName="StopInstances")
    rid = str(uuid.uuid4())
    records = [_record(json.dumps(_envelope("trail", "s", [json.dumps(marked)], 900)).encode())]
    sql = "SELECT count(*) FROM api_activity WHERE api.operation = 'StopInstances'"
    _ok(_post(server, records, request_id=rid), rid)
    assert server.wait_rows(sql, 1) == 1
    _ok(_post(server, records, request_id=rid), rid)  # the same attempt again
    _ok(_post(server, records), None)  # the same records under a new id: event identity
    flag = dict(rec, eventID="7f1b6a3e-0000-4000-8000-firehose0002", eventName="RebootInstances")
    _ok(_post(server, [_record(json.dumps(flag).encode(), gz=False)], path="/v1/firehose/cloudtrail"))
    assert server.wait_rows("SELECT count(*) FROM api_activity WHERE api.operation = 'RebootInstances'", 1) == 1
    assert server.query(sql)[0][0] == 1


def test_bad_records_are_dead_lettered_alone(server: Server, real: Path) -> None:
    rec = dict(_cloudtrail(real)[0], eventID="7f1b6a3e-0000-4000-8000-firehose0003", eventName="DescribeInstances")
    before = server.query("SELECT count(*) FROM dead_letter")[0][0]
    bomb = gzip.compress(b"{" + b" " * (20 << 20) + b"}")  # 20 MiB inflated: past max_decompressed_bytes (16 MiB)
    records = [{"data": "not base64!"}, {"data": base64.b64encode(bomb).decode()},
               _record(b"\x00\x01 not a log"), _record(json.dumps(rec).encode())]  # fmt: skip
    r = _post(server, records)
    _ok(r)
    assert server.wait_rows("SELECT count(*) FROM api_activity WHERE api.operation = 'DescribeInstances'", 1) == 1
    got = server.wait_rows("SELECT count(*) FROM dead_letter", before + 3)
    assert got == before + 3
    reasons = " ".join(row[0] for row in server.query("SELECT reason FROM dead_letter"))
    assert "not base64" in reasons and "max_decompressed_bytes" in reasons and "unrecognized" in reasons


def test_errors_answer_the_spec_shape(server: Server) -> None:
    rid = str(uuid.uuid4())
    r = _post(server, [], request_id=rid, key="sp_00000000_wrong")
    assert r.status_code == 401 and r.json()["requestId"] == rid and "errorMessage" in r.json()
    assert set(r.json()) == {"requestId", "timestamp", "errorMessage"}
    r = _post(server, [], request_id=rid, key="")  # a stream without an access key
    assert r.status_code == 401 and "access key" in r.json()["errorMessage"]
    # the token as Authorization (a proxy in front of secpipe) instead of the access key
    body = json.dumps({"requestId": rid, "timestamp": T0, "records": []}).encode()
    r = httpx.post(server.url + "/v1/firehose", content=body, headers={"Authorization": f"Bearer {server.ingest}",
                   "X-Amz-Firehose-Request-Id": rid})  # fmt: skip
    _ok(r, rid)
    before = server.query("SELECT count(*) FROM dead_letter")[0][0]
    r = httpx.post(server.url + "/v1/firehose", content=b'{"records": "x"}',
                   headers={"X-Amz-Firehose-Access-Key": server.ingest, "X-Amz-Firehose-Request-Id": rid})
    assert r.status_code == 400 and r.json()["requestId"] == rid and "Firehose" in r.json()["errorMessage"]
    assert server.wait_rows("SELECT count(*) FROM dead_letter", before + 1) == before + 1
    r = _post(server, [], path="/v1/firehose/no-such-format")
    assert r.status_code == 404 and "errorMessage" in r.json()
    r = _post(server, [], extra={"X-Amz-Firehose-Protocol-Version": "2.0"})
    assert r.status_code == 400 and "1.0" in r.json()["errorMessage"]


def test_raw_producer_records(server: Server, real: Path) -> None:
    """Records a producer put (PutRecord/PutRecordBatch): a text line each, NDJSON of several
    CloudTrail records in one, a JSON document with its newline delimiter; each stored under
    the format detected for it."""
    trail = _cloudtrail(real)
    lines = (CASES / "loghub_OpenSSH_head.log").read_text().splitlines()
    ndjson = "".join(json.dumps(dict(r, eventID=f"00000000-0000-4000-8000-{i:012d}", eventName=f"Raw{i}")) + "\n"
                     for i, r in enumerate(trail * 3)).encode()  # fmt: skip
    before = server.query("SELECT count(*) FROM dead_letter")[0][0]
    ssh = "SELECT (SELECT count(*) FROM authentication) + (SELECT count(*) FROM base_event)"
    had = server.query(ssh)[0][0]
    records = [_record((x + "\n").encode(), gz=False) for x in lines] + [_record(ndjson, gz=False)]
    _ok(_post(server, records))
    assert server.wait_rows("SELECT count(*) FROM api_activity WHERE api.operation LIKE 'Raw%'", 6) == 6
    assert server.wait_rows(ssh, had + len(lines)) == had + len(lines)
    assert server.query("SELECT count(*) FROM dead_letter")[0][0] == before


def _raw_post(server: Server, body: bytes, rid: str) -> httpx.Response:
    headers = {"Content-Type": "application/json", "X-Amz-Firehose-Protocol-Version": "1.0",
               "X-Amz-Firehose-Request-Id": rid, "X-Amz-Firehose-Access-Key": server.ingest}
    return httpx.post(server.url + "/v1/firehose", content=body, headers=headers, timeout=60)


def test_a_repeated_envelope_name_refuses_the_body(server: Server, real: Path) -> None:
    """RFC 8259 §4: names within an object SHOULD be unique; where they are not, "the behavior
    of software that receives such an object is unpredictable" (a decoder keeps the last
    ``records`` list and drops the first unseen). Such a body is refused whole, kept in the
    dead-letter store with why, answered 400 (Firehose retries, then backs the records up to S3);
    written with an escaped name too (``"rec\\u006frds"`` is the same name)."""
    rec = dict(_cloudtrail(real)[0], eventID="7f1b6a3e-0000-4000-8000-firehose0004", eventName="GetBucketAcl")
    first = json.dumps([_record(json.dumps(rec).encode())])
    for key in ('"records"', '"rec\\u006frds"'):
        rid = str(uuid.uuid4())
        before = server.query("SELECT count(*) FROM dead_letter")[0][0]
        body = f'{{"requestId": "{rid}", "timestamp": {T0}, "records": {first}, {key}: []}}'.encode()
        r = _raw_post(server, body, rid)
        assert r.status_code == 400 and r.json()["requestId"] == rid, r.text
        assert "'records' more than once" in r.json()["errorMessage"]
        assert server.wait_rows("SELECT count(*) FROM dead_letter", before + 1) == before + 1
        got = server.query("SELECT reason, raw FROM dead_letter WHERE reason LIKE '%more than once%' ORDER BY 1")
        assert any(raw == body.decode() for _, raw in got)
    rid = str(uuid.uuid4())
    r = _raw_post(server, f'{{"requestId": "{rid}", "requestId": "x", "timestamp": {T0}, "records": []}}'.encode(), rid)
    assert r.status_code == 400 and "'requestId' more than once" in r.json()["errorMessage"]
    assert server.query("SELECT count(*) FROM api_activity WHERE api.operation = 'GetBucketAcl'")[0][0] == 0


def test_a_record_naming_data_twice_is_dead_lettered_alone(server: Server, real: Path) -> None:
    trail = _cloudtrail(real)
    one = dict(trail[0], eventID="7f1b6a3e-0000-4000-8000-firehose0005", eventName="GetBucketPolicy")
    two = dict(trail[0], eventID="7f1b6a3e-0000-4000-8000-firehose0006", eventName="GetBucketTagging")
    kept = _record(json.dumps(one).encode())["data"]
    a, b = (_record(json.dumps(dict(two, eventName=n)).encode())["data"] for n in ("PutBucketAcl", "PutBucketPolicy"))
    rid = str(uuid.uuid4())
    before = server.query("SELECT count(*) FROM dead_letter")[0][0]
    body = (f'{{"requestId": "{rid}", "timestamp": {T0}, '
            f'"records": [{{"data": "{kept}"}}, {{"data": "{a}", "data": "{b}"}}]}}').encode()
    _ok(_raw_post(server, body, rid), rid)
    assert server.wait_rows("SELECT count(*) FROM api_activity WHERE api.operation = 'GetBucketPolicy'", 1) == 1
    assert server.wait_rows("SELECT count(*) FROM dead_letter", before + 1) == before + 1
    reason, raw = server.query("SELECT reason, raw FROM dead_letter WHERE reason LIKE 'record 1:%data%'")[0]
    assert "more than once" in reason and a in raw and b in raw
    ops = "SELECT count(*) FROM api_activity WHERE api.operation IN ('PutBucketAcl', 'PutBucketPolicy')"
    assert server.query(ops)[0][0] == 0
