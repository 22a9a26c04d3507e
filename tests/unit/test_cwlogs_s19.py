"""CloudWatch Logs envelopes (session 19).

- A Lambda function subscribed to a log group receives ``{"awslogs": {"data": "<base64 of the
  gzip-compressed envelope>"}}`` (the CloudWatch Logs guide's Lambda subscription example; the
  Lambda developer guide's "Using Lambda with CloudWatch Logs" event), and teams forward that
  event as is. It was recognized by no format (dead-lettered whole); now it is read wherever an
  envelope is (CloudTrail, EKS audit, syslog lines), detected by what its data holds, and its
  data inflates within ``_cwlogs.MAX_INFLATED`` (a gzip bomb is dead-lettered, never held).
- One reader (``_cwlogs.log_events``) serves the JSON formats and syslog (the same output as
  before: the session 17/18 tests stay as they were).
- An EKS audit envelope whose first Event opens with long annotations puts ``audit.k8s.io`` past
  the sniffed head; it is recognized by its escaped keys.

The log events are real: falcosecurity/falco's CloudTrail and k8s_audit trace files
(/work/shared/data/real), elastic/integrations' IAM Identity Center sign-in and loghub's OpenSSH
log (tests/cases/holdout, see SOURCE.md); the envelopes are the documented subscription shape
("Using CloudWatch Logs subscription filters") around them.
"""

from __future__ import annotations

import base64
import gzip
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from secpipe import formats
from secpipe.formats import _cwlogs

CASES = Path(__file__).parents[1] / "cases" / "holdout"

T0 = 1765349740000


def _envelope(messages: list[str], group: str = "/aws/eks/dev/cluster", stream: str = "kube-apiserver-audit-0a1b") -> dict[str, Any]:
    return {"messageType": "DATA_MESSAGE", "owner": "123456789012", "logGroup": group, "logStream": stream,
            "subscriptionFilters": ["to-firehose"],
            "logEvents": [{"id": str(36000000000000000000000000000000000000000000000000000000 + i),
                           "timestamp": T0 + i, "message": m} for i, m in enumerate(messages)]}  # fmt: skip


def test_eks_envelope_detected_when_apiversion_is_past_the_head(real: Path) -> None:
    """An Event whose ``annotations`` come first (falco's replicaset trace) puts ``audit.k8s.io``
    past the sniffed 4 KiB; the envelope was detected as nothing (``json`` on the wire). Its
    keys are in the message, escaped: ``\\"auditID\\"``."""
    event = (real / "falco/test/trace_files/k8s_audit/create_deployment.json").read_text().splitlines()[0]
    body = json.dumps(_envelope([event] * 3)).encode()
    assert b"audit.k8s.io" not in body[:4096]
    assert formats.detect(body[:65536]).name == "k8s_audit"
    d = formats.get("k8s_audit").decode(body, "t")
    uids = [u for b in d.batches for u in b.to_pylist()]
    assert not d.dead and len(uids) == 3
    assert len({r["metadata"]["uid"] for r in uids}) == 1  # three copies of one Event: one identity


def _lambda(envelope: dict[str, Any]) -> bytes:
    return json.dumps({"awslogs": {"data": base64.b64encode(gzip.compress(json.dumps(envelope).encode())).decode()}}).encode()


def _rows(name: str, data: bytes) -> tuple[list[dict[str, Any]], list[str]]:
    d = formats.get(name).decode(data, "lambda")
    return [r for b in d.batches for r in b.to_pylist()], [x.reason for x in d.dead]


def _trail(real: Path) -> list[str]:
    alice = json.loads((real / "falco/test/trace_files/plugins/alice_start_instances.json").read_bytes())["Records"]
    signin = (CASES / "elastic-cloudtrail-user-authentication.log").read_text().splitlines()
    return [json.dumps(r) for r in alice] + signin


def _audit(real: Path) -> list[str]:
    root = real / "falco/test/trace_files/k8s_audit"
    return [(root / f).read_text().splitlines()[0] for f in ("create_deployment.json", "create_secret.json", "delete_secret.json")]


@pytest.mark.parametrize("kind", ["cloudtrail", "k8s_audit", "syslog"])
def test_lambda_awslogs_event_reads_as_its_envelope(real: Path, kind: str) -> None:
    messages = {"cloudtrail": _trail(real), "k8s_audit": _audit(real),
                "syslog": (CASES / "loghub_OpenSSH_head.log").read_text().splitlines()}[kind]  # fmt: skip
    envelope = _envelope(messages, "/aws/lambda/forwarder" if kind == "syslog" else "g", "s")
    plain, wrapped = json.dumps(envelope).encode(), _lambda(envelope)
    assert formats.detect(wrapped[:65536]).name == kind
    want, dead = _rows(kind, plain)
    got, dead2 = _rows(kind, wrapped)
    assert dead == dead2 == [] and len(got) == len(messages)
    assert got == want  # the same events, the same identities (syslog: the log event ids, the log group)
    # Lambda events one a line, as a forwarder writes them; with a CONTROL_MESSAGE among them
    control = _lambda({"messageType": "CONTROL_MESSAGE", "owner": "CloudwatchLogs", "logGroup": "", "logStream": "",
                       "subscriptionFilters": [], "logEvents": []})  # fmt: skip
    many, dead3 = _rows(kind, b"\n".join([wrapped, control, _lambda(_envelope(messages[:1], "g", "s2"))]))
    assert dead3 == [] and len(many) == len(messages) + 1


@pytest.mark.parametrize("kind", ["cloudtrail", "k8s_audit", "syslog"])
def test_lambda_awslogs_bomb_and_bad_data_are_dead_lettered(real: Path, kind: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_cwlogs, "MAX_INFLATED", 1 << 20)
    bomb = json.dumps({"awslogs": {"data": base64.b64encode(gzip.compress(b" " * (4 << 20))).decode()}}).encode()
    bad = json.dumps({"awslogs": {"data": "bm90IGd6aXA="}}).encode()  # base64 of "not gzip"
    messages = {"cloudtrail": _trail(real), "k8s_audit": _audit(real),
                "syslog": (CASES / "loghub_OpenSSH_head.log").read_text().splitlines()[:3]}[kind]  # fmt: skip
    good = _lambda(_envelope(messages))
    rows, dead = _rows(kind, b"\n".join([good, bomb, bad]))
    assert len(rows) == len(messages)
    assert len(dead) == 2
    assert "exceeds" in dead[0] and "1048576" in dead[0] and "not gzip" in dead[1]


_EVENT = st.one_of(
    st.fixed_dictionaries({"id": st.text(max_size=8), "timestamp": st.integers(0, 2**53), "message": st.text(max_size=40)}),
    st.fixed_dictionaries({"id": st.text(max_size=8)}),  # no message: dead-lettered alone
    st.fixed_dictionaries({"message": st.integers()}),  # not a string: dead-lettered alone
)


@given(st.lists(_EVENT, max_size=6), st.sampled_from(["DATA_MESSAGE", "CONTROL_MESSAGE", "OTHER"]),
       st.sampled_from(["plain", "lambda", "answer"]))  # fmt: skip
@settings(max_examples=200, deadline=None)
def test_one_reader_for_json_formats_and_syslog(events: list[dict[str, Any]], kind: str, wrap: str) -> None:
    """What the JSON formats take from a record (``_messages``: each log event's message, a bad
    log event's JSON) is what syslog reads from it (``log_events(strict=False)``), whether the
    envelope comes plain, in a Lambda event, or as a Logs API answer."""
    env: dict[str, Any] = {"messageType": kind, "owner": "1", "logGroup": "g", "logStream": "s", "logEvents": events}
    if wrap == "answer":
        env = {"events": [dict({k: v for k, v in e.items() if k != "id"}, ingestionTime=1) for e in events]}
    raw = _lambda(env) if wrap == "lambda" else json.dumps(env).encode()
    found = _cwlogs.log_events(raw, strict=False)
    messages = _cwlogs._messages(raw)
    if wrap != "answer" and kind == "OTHER":
        assert found is None and messages is None
        return
    assert found is not None
    lenient = [e if isinstance(e, bytes) else e.message for e in found[0]]
    if messages is None:  # a strict reader refuses an answer one of whose log events is not the API's
        assert wrap == "answer" and any(not isinstance(e.get("message"), str) for e in env["events"])
        return
    assert messages == lenient
    want = [e["message"] for e in events if isinstance(e.get("message"), str)] if kind == "DATA_MESSAGE" or wrap == "answer" else []
    assert [m for m in messages if not isinstance(m, bytes)] == want


def test_is_control_reads_the_envelope_not_the_text() -> None:
    """Firehose skips CONTROL_MESSAGE envelopes (_cwlogs.is_control): only an envelope whose
    messageType says so, not a record that merely holds the words."""
    control = {"messageType": "CONTROL_MESSAGE", "owner": "CloudwatchLogs", "logGroup": "", "logStream": "",
               "subscriptionFilters": [], "logEvents": [{"id": "", "timestamp": T0,
                                                         "message": "CWL CONTROL MESSAGE: Checking health of destination Firehose."}]}  # fmt: skip
    assert _cwlogs.is_control(json.dumps(control).encode())
    assert not _cwlogs.is_control(json.dumps(_envelope(["CONTROL_MESSAGE"])).encode())
    assert not _cwlogs.is_control(json.dumps({"eventName": "PutObject", "requestParameters": {"key": "CONTROL_MESSAGE"}}).encode())
    assert not _cwlogs.is_control(b'{"messageType": "CONTROL_MESSAGE", "logEvents": [')  # cut short
    assert not _cwlogs.is_control(b'{"awslogs": {"data": "not base64 of gzip"}, "x": "CONTROL_MESSAGE"}')


def test_log_events_with_only_timestamp_and_message(real: Path) -> None:
    """Log events projected to their timestamp and message (``--query 'events[].{timestamp: timestamp, message:
    message}'``, a log group's events saved one a line), each message a real panther Kubernetes audit Event: read
    as those events, NDJSON or an array (session 27: they were dead-lettered as "not a Kubernetes audit event").
    An app record with other keys beside them is no log event and is left as it is."""
    lines = (real / "panther-analysis" / "extracted" / "k8s_audit.jsonl").read_text().splitlines()[:4]
    events = [{"timestamp": 1_700_000_000_000 + i, "message": line} for i, line in enumerate(lines)]
    fmt = formats.get("k8s_audit")
    for body in ("\n".join(json.dumps(e) for e in events), json.dumps(events)):
        assert formats.detect(body.encode()) is fmt
        dec = fmt.decode(body.encode(), "cw")
        assert dec.dead == [] and sum(b.num_rows for b in dec.batches) == len(lines)
        raws = [json.loads(r) for b in dec.batches for r in b.column("raw_data").to_pylist()]
        assert sorted(json.dumps(r, sort_keys=True) for r in raws) == sorted(json.dumps(json.loads(x), sort_keys=True) for x in lines)
    other = json.dumps({"timestamp": 1, "message": lines[0], "level": "info"})
    assert fmt.decode(other.encode(), "cw").dead  # its own record, not an audit Event
