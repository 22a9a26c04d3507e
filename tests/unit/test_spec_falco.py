"""Falco alert shapes from Falco's own writer and its docs, beyond the visible samples.

Sources (expected values written from these texts and the OCSF 1.8.0 schema):
- falcosecurity/falco ``userspace/engine/formats.cpp`` (``falco_formats::format_event``):
  ``time``, ``rule``, ``priority``, ``source``, ``hostname`` always; ``output``, ``tags``,
  ``message`` and ``output_fields`` each behind a ``json_include_*_property`` switch.
- falco.yaml docs: ``json_include_output_property`` ("whether or not to include the output
  property itself"), ``json_include_message_property`` (output without the time/priority prefix).
- plugin field names: k8saudit ``ka.user.name``/``ka.verb``/``ka.target.*``, okta
  ``okta.actor.name``/``okta.client.ip`` (falcosecurity/plugins README tables).
- Falcosidekick forwards the alert with an added ``uuid``.
"""

from __future__ import annotations

import json

from secpipe import formats
from secpipe.formats.base import Decoded
from tests.unit.spec_support import detected
from tests.unit.spec_support import rows as _rows


def _decode(doc: bytes) -> tuple[str | None, Decoded]:
    return detected(doc), formats.get("falco").decode(doc, "spec")


def test_output_property_switched_off_is_still_an_alert() -> None:
    # json_include_output_property: false, json_include_tags_property: false
    alert = {"hostname": "node-1", "priority": "Critical", "rule": "Terminal shell in container",
             "source": "syscall", "time": "2024-03-01T10:00:00.123456789Z",
             "output_fields": {"container.id": "0123456789ab", "proc.name": "bash", "proc.pid": 4242,
                               "evt.time": 1709287200123456789}}  # fmt: skip
    name, res = _decode(json.dumps(alert).encode())
    assert name == "falco" and not res.dead
    (r,) = _rows(res)
    assert r["class_uid"] == 2004 and r["severity_id"] == 5  # Critical -> Critical
    assert r["finding_info"]["title"] == "Terminal shell in container"
    assert r["time"] == 1709287200123
    assert r["message"] is None and r["finding_info"]["types"] is None
    assert r["evidences"][0]["container"]["uid"] == "0123456789ab"
    assert r["evidences"][0]["process"]["pid"] == 4242


def test_minimal_alert_with_every_optional_property_off() -> None:
    alert = b'{"hostname":"h","priority":"Notice","rule":"R","source":"syscall","time":"2024-03-01T10:00:00.000000000Z"}'
    name, res = _decode(alert)
    assert name == "falco"
    (r,) = _rows(res)
    assert r["severity_id"] == 2 and r["metadata"]["log_source"] == "syscall"


def test_message_property_stands_in_for_output() -> None:
    alert = {"hostname": "h", "priority": "Warning", "rule": "R", "source": "syscall", "tags": ["T1059"],
             "time": "2024-03-01T10:00:00.000000000Z", "message": "Shell spawned (user=root)", "output_fields": {}}
    (r,) = _rows(_decode(json.dumps(alert).encode())[1])
    assert r["message"] == "Shell spawned (user=root)" == r["finding_info"]["desc"]
    assert r["unmapped"] is None  # message is mapped, not left over


def test_k8saudit_plugin_alert() -> None:
    alert = {"hostname": "falco-0", "priority": "Warning", "rule": "Attach/Exec Pod", "source": "k8s_audit",
             "tags": ["k8s"], "time": "2024-03-01T10:00:00.000000000Z",
             "output": "10:00:00.000000000: Warning Attach/Exec to pod (user=alice pod=web ns=prod)",
             "output_fields": {"ka.user.name": "alice", "ka.target.resource": "pods", "ka.target.name": "web",
                               "ka.target.namespace": "prod", "ka.verb": "create", "ka.uri": "/api/v1/x"}}
    (r,) = _rows(_decode(json.dumps(alert).encode())[1])
    assert r["resources"] == [{"type": "pods", "name": "web", "namespace": "prod", "uid": None}]
    ev = r["evidences"][0]
    assert ev["actor"]["user"]["name"] == "alice" and ev["api"]["operation"] == "create"
    assert r["finding_info"]["analytic"]["category"] == "k8s_audit"


def test_okta_plugin_alert_forwarded_by_falcosidekick() -> None:
    alert = {"uuid": "4f3b2c1a-0000-4000-8000-000000000001", "output": "A user password has been reset",
             "priority": "notice", "rule": "User password reset by OKTA admin", "time": "2024-03-01T10:00:00Z",
             "source": "okta", "tags": ["okta"], "hostname": "falco-0",
             "output_fields": {"okta.actor.name": "admin@example.com", "okta.client.ip": "198.51.100.7",
                               "okta.target.user.name": "bob"}}
    (r,) = _rows(_decode(json.dumps(alert).encode())[1])
    assert r["severity_id"] == 2  # lowercased priority still maps (Notice -> Low)
    assert r["finding_info"]["uid"] == r["metadata"]["original_event_uid"] == "4f3b2c1a-0000-4000-8000-000000000001"
    ev = r["evidences"][0]
    assert ev["actor"]["user"]["name"] == "admin@example.com" and ev["src_endpoint"]["ip"] == "198.51.100.7"
    assert r["resources"] is None


def test_na_values_are_absent_and_not_an_alert_is_dead_lettered() -> None:
    good = {"priority": "Error", "rule": "R", "time": "2024-03-01T10:00:00Z", "source": "syscall", "hostname": "h",
            "output": "x", "output_fields": {"fd.cip": "<NA>", "fd.sip": "10.0.0.2", "container.id": "<NA>"}}
    res = formats.get("falco").decode(json.dumps(good).encode() + b'\n{"rule":"R"}\n{"output":"x"}\n', "spec")
    (r,) = _rows(res)
    assert r["severity_id"] == 4  # Error -> High
    assert r["evidences"][0]["src_endpoint"] is None and r["evidences"][0]["dst_endpoint"]["ip"] == "10.0.0.2"
    assert r["evidences"][0]["container"] is None  # "<NA>" id: no container object
    assert [d.reason for d in res.dead] == ["not a Falco alert: no `rule` with a `priority` or `output`"] * 2


def test_falcosidekick_cloudevents_structured_mode() -> None:
    # Falcosidekick's cloudevents output: the Falco payload is the event's ``data``
    alert = {"output": "This is a test from falcosidekick", "priority": "Debug", "rule": "Test rule",
             "time": "2024-03-01T10:00:00.123456789Z", "output_fields": {"proc.name": "falcosidekick"},
             "source": "falcosidekick", "tags": ["test", "example"], "hostname": "falcosidekick", "uuid": "u-1"}
    ce = {"specversion": "1.0", "id": "u-1", "source": "https://falco.org", "type": "falco.rule.output.v1",
          "time": "2024-03-01T10:00:00.123456789Z", "datacontenttype": "application/json", "data": alert}
    name, res = _decode(json.dumps(ce).encode())
    assert name == "falco"
    (r,) = _rows(res)
    assert r["finding_info"]["title"] == "Test rule" and r["severity_id"] == 1 and r["time"] == 1709287200123
    assert json.loads(r["raw_data"]) == alert
