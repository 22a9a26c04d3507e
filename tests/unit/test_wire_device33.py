"""The host a shipper names is the device of the events it shipped, by ECS: its name and id too (session 33).

Filebeat's and Elastic Agent's documents name the host they read a line on with ECS ``host`` (what
``add_host_metadata``, in Filebeat's default configuration, writes: ``host.name``, ``host.hostname``,
``host.id`` the machine id, ``host.os.*``, ``host.architecture``) and the container with ECS ``container``
(``add_docker_metadata`` / ``add_kubernetes_metadata``: ``container.id``, ``container.name``,
``container.image.name``, ``container.runtime``, ``kubernetes.pod.uid``). Only ``device.hostname`` was kept
in its OCSF place, and not at all for a line whose device the line itself (or the shipper's host hint) gave:
now ECS ``host.name`` is OCSF ``device.name``, ``host.id`` ``device.uid``, the container ``device.container``,
for the events that name no device and those whose device is that host (its hostname the shipper's); a
device of another hostname (a Falco alert's container host, a relayed syslog line) is left as the record has
it. Documents: the Filebeat 8.11 filestream document of tests/cases/wire_holdout/filebeat-filestream-auth.ndjson
(round 25) with the fields of Beats' exported ``host`` / ``container`` processor fields (values invented)
around Elastic's Apache access and Falco pipeline test lines (tests/cases/holdout).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import orjson

from secpipe.schema.conformance import check_rows
from tests.unit.holdout_support import ADDRESS_ONLY
from tests.unit.test_wire_context31 import _post
from tests.unit.test_wire_holdout30 import _rows

CASES = Path(__file__).parents[1] / "cases"
FILEBEAT = json.loads((CASES / "wire_holdout" / "filebeat-filestream-auth.ndjson").read_bytes().splitlines()[0])
HOST = {"id": "ce6b0fcce8894499b8d28e4ca4855cc9", "containerized": False, "hostname": "web-01",
        "name": "web-01.example.com", "architecture": "x86_64",
        "os": {"platform": "ubuntu", "family": "debian", "version": "22.04.3 LTS (Jammy Jellyfish)",
               "kernel": "5.15.0-88-generic", "name": "Ubuntu", "type": "linux"}}
CONTAINER = {"container": {"id": "9656db3bb358c7f5a0a2d2e1b6d5b3f4e2a1c0d9e8f7a6b5c4d3e2f1a0b9c8d7", "name": "web",
                           "image": {"name": "httpd:2.4"}, "runtime": "containerd"},
             "kubernetes": {"pod": {"uid": "5c1d3f9e-2b7a-4c8e-9f0d-1a2b3c4d5e6f", "name": "web-7d9f"},
                            "container": {"name": "web"}, "namespace": "default", "node": {"name": "node-1"}}}
ACCESS = (CASES / "holdout" / "elastic-apache-access-basic.log").read_text().splitlines()[1]
FALCO = (CASES / "holdout" / "elastic-falco-alerts.log").read_text().splitlines()[0]


def _doc(message: str, path: str, **more: Any) -> dict[str, Any]:
    return {**FILEBEAT, "message": message, "log": {"offset": 0, "file": {"path": path}}, "host": HOST, **more}


def _bulk(tmp_path: Path, docs: list[dict[str, Any]]) -> None:
    body = b"".join(b'{"create":{"_index":"filebeat-8.11.0"}}\n' + orjson.dumps(d) + b"\n" for d in docs)
    answer = _post(tmp_path, "/_bulk", body, "application/x-ndjson")
    assert answer.json()["errors"] is False


def test_access_line_device_is_the_ecs_host_with_its_name_and_id(tmp_path: Path) -> None:
    _bulk(tmp_path, [_doc(ACCESS, "/var/log/apache2/access.log")])
    (row,) = _rows(tmp_path, "http_activity")
    device = row["device"]
    assert (device["hostname"], device["name"], device["uid"]) == ("web-01.example.com", HOST["name"], HOST["id"])
    assert device["type_id"] == 0
    assert not [k for k in check_rows("http_activity", [row]) if ADDRESS_ONLY not in k]  # (the client: an address)


def test_container_of_the_line_is_the_ecs_container(tmp_path: Path) -> None:
    _bulk(tmp_path, [_doc(ACCESS, "/var/log/containers/web.log", **CONTAINER)])
    (row,) = _rows(tmp_path, "http_activity")
    container = row["device"]["container"]
    assert container["uid"] == CONTAINER["container"]["id"] and container["name"] == "web"
    assert container["image"]["name"] == "httpd:2.4" and container["runtime"] == "containerd"
    assert container["pod_uuid"] == CONTAINER["kubernetes"]["pod"]["uid"]


def test_a_device_of_another_host_is_the_records_own(tmp_path: Path) -> None:
    # the Falco alert names its device (the container's host 97ade2b595f0): not the shipper's machine
    _bulk(tmp_path, [_doc(FALCO, "/var/log/falco/events.json")])
    (row,) = _rows(tmp_path, "detection_finding")
    assert row["device"]["hostname"] == "97ade2b595f0"
    assert "uid" not in row["device"] and "name" not in row["device"]
    assert orjson.loads(row["unmapped"])["host"]["id"] == HOST["id"]  # kept with the envelope


def test_vector_kubernetes_logs_metadata_is_the_device_and_its_container(tmp_path: Path) -> None:
    # Vector's kubernetes_logs source (its FieldsSpec defaults, src/sources/kubernetes_logs/pod_metadata_annotator.rs):
    # kubernetes.pod_node_name, pod_uid, container_name, container_image, and container_id as Kubernetes'
    # ContainerStatus writes it, <runtime>://<id>; the pod's log file as file
    uid = "5c1d3f9e-2b7a-4c8e-9f0d-1a2b3c4d5e6f"
    log = f"/var/log/pods/default_web-7d9f_{uid}/web/0.log"
    doc = {"file": log, "kubernetes": {
        "container_id": "containerd://9656db3bb358c7f5a0a2d2e1b6d5b3f4e2a1c0d9e8f7a6b5c4d3e2f1a0b9c8d7",
        "container_image": "httpd:2.4", "container_name": "web", "pod_name": "web-7d9f", "pod_namespace": "default",
        "pod_node_name": "node-1", "pod_uid": uid, "pod_ip": "10.1.2.3", "pod_labels": {"app": "web"}},
        "message": ACCESS, "source_type": "kubernetes_logs", "stream": "stdout", "timestamp": "2023-11-20T14:37:56.612Z"}
    _bulk(tmp_path, [doc])
    (row,) = _rows(tmp_path, "http_activity")
    assert row["device"]["hostname"] == "node-1" and row["metadata"]["log_source"] == log
    container = row["device"]["container"]
    assert container["uid"] == "9656db3bb358c7f5a0a2d2e1b6d5b3f4e2a1c0d9e8f7a6b5c4d3e2f1a0b9c8d7"
    assert container["runtime"] == "containerd" and container["pod_uuid"] == uid
    assert container["name"] == "web" and container["image"]["name"] == "httpd:2.4"
