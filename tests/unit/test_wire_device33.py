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
import pytest

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
ACCESS, ACCESS2, ACCESS3 = [(CASES / "holdout" / "elastic-apache-access-basic.log").read_text().splitlines()[i]
                             for i in (1, 3, 7)]
FALCO = (CASES / "holdout" / "elastic-falco-alerts.log").read_text().splitlines()[0]


def _doc(message: str, path: str, **more: Any) -> dict[str, Any]:
    return {**FILEBEAT, "message": message, "log": {"offset": 0, "file": {"path": path}}, "host": HOST, **more}


UID = "5c1d3f9e-2b7a-4c8e-9f0d-1a2b3c4d5e6f"
POD_LOG = f"/var/log/pods/default_web-7d9f_{UID}/web/0.log"
#: Vector's kubernetes_logs source's event (its FieldsSpec defaults, src/sources/kubernetes_logs/pod_metadata_annotator.rs:
#: kubernetes.pod_node_name, pod_uid, container_name, container_image, and container_id as Kubernetes'
#: ContainerStatus writes it, <runtime>://<id>; the pod's log file as file)
VECTOR = {"file": POD_LOG, "kubernetes": {
    "container_id": "containerd://9656db3bb358c7f5a0a2d2e1b6d5b3f4e2a1c0d9e8f7a6b5c4d3e2f1a0b9c8d7",
    "container_image": "httpd:2.4", "container_name": "web", "pod_name": "web-7d9f", "pod_namespace": "default",
    "pod_node_name": "node-1", "pod_uid": UID, "pod_ip": "10.1.2.3", "pod_labels": {"app": "web"}},
    "message": ACCESS3, "source_type": "kubernetes_logs", "stream": "stdout", "timestamp": "2023-11-20T14:37:56.612Z"}


@pytest.fixture(scope="module")
def stored(tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[dict[str, Any]]]:
    """The rows of one _bulk request of the documents (the access lines', each another line, by the file it came from)."""
    data = tmp_path_factory.mktemp("data")
    docs = [_doc(ACCESS, "/var/log/apache2/access.log"), _doc(ACCESS2, "/var/log/containers/web.log", **CONTAINER),
            _doc(FALCO, "/var/log/falco/events.json"), VECTOR]
    body = b"".join(b'{"create":{"_index":"filebeat-8.11.0"}}\n' + orjson.dumps(d) + b"\n" for d in docs)
    answer = _post(data, "/_bulk", body, "application/x-ndjson")
    assert answer.json()["errors"] is False
    return {"access": {r["metadata"]["log_source"]: r for r in _rows(data, "http_activity")},
            "falco": _rows(data, "detection_finding")}  # type: ignore[dict-item]


def test_access_line_device_is_the_ecs_host_with_its_name_and_id(stored: dict) -> None:
    # the hostname is ECS host.hostname (what the hostname command returns), the name host.name (here an FQDN)
    row = stored["access"]["/var/log/apache2/access.log"]
    device = row["device"]
    assert (device["hostname"], device["name"], device["uid"]) == ("web-01", HOST["name"], HOST["id"])
    assert device["type_id"] == 0
    assert not [k for k in check_rows("http_activity", [row]) if ADDRESS_ONLY not in k]  # (the client: an address)


def test_container_of_the_line_is_the_ecs_container(stored: dict) -> None:
    container = stored["access"]["/var/log/containers/web.log"]["device"]["container"]
    assert container["uid"] == CONTAINER["container"]["id"] and container["name"] == "web"
    assert container["image"]["name"] == "httpd:2.4" and container["runtime"] == "containerd"
    assert container["pod_uuid"] == CONTAINER["kubernetes"]["pod"]["uid"]


def test_a_device_of_another_host_is_the_records_own(stored: dict) -> None:
    # the Falco alert names its device (the container's host 97ade2b595f0): not the shipper's machine
    (row,) = stored["falco"]
    assert row["device"]["hostname"] == "97ade2b595f0"
    assert "uid" not in row["device"] and "name" not in row["device"]
    assert orjson.loads(row["unmapped"])["host"]["id"] == HOST["id"]  # kept with the envelope


def test_vector_kubernetes_logs_metadata_is_the_device_and_its_container(stored: dict) -> None:
    row = stored["access"][POD_LOG]
    assert row["device"]["hostname"] == "node-1"
    container = row["device"]["container"]
    assert container["uid"] == "9656db3bb358c7f5a0a2d2e1b6d5b3f4e2a1c0d9e8f7a6b5c4d3e2f1a0b9c8d7"
    assert container["runtime"] == "containerd" and container["pod_uuid"] == UID
    assert container["name"] == "web" and container["image"]["name"] == "httpd:2.4"

