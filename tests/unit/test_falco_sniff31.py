"""Falco's sniffer claims an alert by its own top-level keys (rule, priority, output, output_fields), not a document
that holds such keys in a nested object.

Alerts: ../shared/data/real/falco (falcosecurity/falco test output, one alert a line as Falco's json_output writes
them), also as a JSON array, pretty-printed (jq), behind Falco's syslog header and in the data of a structured-mode
CloudEvent (Falcosidekick's CloudEvents output, CloudEvents 1.0 JSON format). The other documents are constructed:
an application's event with an ``alert: {rule, priority, output}`` object, a list of rule definitions (Falco rule
files' own keys ``rule``/``priority``/``output`` under ``items``) and a config with them two levels down.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from secpipe import formats

ALERTS = "falco/test/output_files/single_rule_with_cat_write.json"

NESTED = [
    {"timestamp": "2024-05-01T10:00:00Z", "host": "web-1",
     "alert": {"rule": "Disk almost full", "priority": "Warning", "output": "disk /var at 95%"}, "team": "ops"},
    {"kind": "RuleList", "items": [{"rule": "Write below etc", "priority": "ERROR", "output": "file=%fd.name",
                                    "output_fields": {}, "desc": "an attempt to write below /etc"}]},
    {"name": "cfg", "config": {"rules": [{"rule": "Terminal shell in container", "priority": "NOTICE",
                                          "output": "shell (user=%user.name)"}]}},
]


def _alerts(real: Path) -> list[dict]:
    return [json.loads(x) for x in (real / ALERTS).read_bytes().splitlines() if x.strip()]


def _wrapped(real: Path) -> dict[str, bytes]:
    alerts = _alerts(real)
    ce = {"specversion": "1.0", "type": "falco.rule.output.v1", "source": "falco.org", "id": "6a4e3c2d",
          "time": alerts[0]["time"], "datacontenttype": "application/json", "data": alerts[0]}
    return {
        "ndjson": (real / ALERTS).read_bytes(),
        "array": json.dumps(alerts).encode(),
        "pretty": json.dumps(alerts[0], indent=2).encode(),
        "syslog": b"".join(b"<12>Aug  4 16:17:57 node-1 falco[412]: " + json.dumps(a).encode() + b"\n" for a in alerts),
        "cloudevent": json.dumps(ce).encode(),
        "after_log_lines": b"Thu Aug  4 16:17:50 2016: Falco initialized [libs: 0.1 {driver]\n" + (real / ALERTS).read_bytes(),
    }


@pytest.mark.parametrize("shape", ["ndjson", "array", "pretty", "syslog", "cloudevent", "after_log_lines"])
def test_real_alerts_are_claimed(real: Path, shape: str) -> None:
    head = _wrapped(real)[shape]
    assert formats.get("falco").sniff(head) >= 80
    if shape != "syslog":  # a syslog stream is the syslog format's to claim (its score is higher)
        assert formats.detect(head) is formats.get("falco")


@pytest.mark.parametrize("doc", NESTED, ids=["alert_object", "rule_list", "config"])
def test_nested_rule_keys_are_no_alert(doc: dict) -> None:
    head = json.dumps(doc).encode()
    assert formats.get("falco").sniff(head) == 0
    assert formats.detect(head) is None  # secpipe ingest --format auto: unrecognized, not a Falco finding
    assert formats.detect(head, catch_all=True) is formats.get("json")  # a wire endpoint stores it as JSON


def test_a_data_object_is_an_alert_only_in_a_cloudevent(real: Path) -> None:
    alert = _alerts(real)[0]
    assert formats.get("falco").sniff(json.dumps({"id": "x", "data": alert}).encode()) == 0
    assert formats.get("falco").sniff(json.dumps({"specversion": "1.0", "id": "x", "data": alert}).encode()) >= 80
