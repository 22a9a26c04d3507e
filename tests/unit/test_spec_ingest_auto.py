"""`secpipe ingest --format auto` over one file per spec shape: each is detected, stored in its
OCSF class, and none is dead-lettered (shapes from the sources cited in tests/unit/test_spec_*.py)."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

from tests.helpers import ingest, query

SHAPES: dict[str, tuple[bytes, str, int]] = {
    # falco json_output with the output property switched off (formats.cpp)
    "falco.json": (b'{"hostname":"n1","priority":"Critical","rule":"Terminal shell in container","source":"syscall",'
                   b'"time":"2024-03-01T10:00:00.123456789Z","output_fields":{"proc.name":"bash"}}\n', "detection_finding", 1),
    # OPA decision-log plugin upload: gzip JSON array, ad-hoc query without path
    "opa.json.gz": (gzip.compress(json.dumps([{"decision_id": "d1", "query": "data.x.allow", "labels": {"id": "i"},
                                               "timestamp": "2024-03-01T10:00:00Z"}]).encode()), "api_activity", 1),
    # k8s webhook EventList whose items carry no kind/apiVersion
    "k8s.json": (json.dumps({"kind": "EventList", "apiVersion": "audit.k8s.io/v1", "metadata": {}, "items": [
        {"level": "Metadata", "auditID": "a1", "stage": "ResponseComplete", "requestURI": "/api/v1/pods", "verb": "list",
         "user": {"username": "u"}, "responseStatus": {"metadata": {}, "code": 200},
         "requestReceivedTimestamp": "2024-03-01T10:00:00.000000Z", "stageTimestamp": "2024-03-01T10:00:00.100000Z"}]}).encode(),
        "api_activity", 1),
    # the k8s log backend's legacy format (apiserver audit.EventString)
    "audit-legacy.log": (b'2024-03-01T10:00:00.1Z AUDIT: id="l1" stage="ResponseComplete" ip="10.0.0.1" method="get" '
                         b'user="admin" groups="<none>" as="<self>" asgroups="<lookup>" user-agent="k" '
                         b'namespace="default" uri="/api/v1/namespaces/default/pods/p" response="200"\n', "api_activity", 1),
    # Cisco IOS without PRI, and bare CEF lines
    "cisco.log": (b"52: router1: *Mar  1 2024 00:01:23.456 UTC: %SYS-5-CONFIG_I: Configured from console by vty0\n"
                  b"53: router1: *Mar  1 2024 00:01:24.000 UTC: %LINK-3-UPDOWN: Interface Gi0/1, changed state to down\n",
                  "base_event", 2),
    "cef.log": (b"CEF:0|Vendor|Product|1.0|100|Port scan|7|rt=1709287200123 src=10.0.0.1\n", "base_event", 1),
    # a multibranch build's console
    "console.log": (b"Branch indexing\n[Pipeline] { (Build)\n+ make\n[Pipeline] // stage\nFinished: SUCCESS\n",
                    "scheduled_job_activity", 5),
}  # fmt: skip


def test_every_shape_is_detected_and_stored(tmp_path: Path) -> None:
    src = tmp_path / "in"
    src.mkdir()
    for name, (body, _, _) in SHAPES.items():
        (src / name).write_bytes(body)
    summary = ingest(tmp_path / "data", src)
    want: dict[str, int] = {}
    for _, cls, n in SHAPES.values():
        want[cls] = want.get(cls, 0) + n
    assert summary["dead_letter"] == 0 and summary["stored"] == want
    got = query(tmp_path / "data", "SELECT metadata.event_code AS c FROM base_event ORDER BY c")
    assert [r["c"] for r in got] == ["100", "LINK-3-UPDOWN", "SYS-5-CONFIG_I"]
