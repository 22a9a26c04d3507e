"""Falco alerts (session 32): a connection printed as ``fd.name`` only (both ends as evidence endpoints), a file's
``fd.name`` (the evidence file), and alerts in a node's container log (CRI headers).

Falco's stock network rules (``Contact K8S API Server From Container``, ``Unexpected outbound connection
destination``...) print ``connection=%fd.name``, so ``output_fields`` hold the socket's tuple and no
``fd.cip``/``fd.sip``. The tuple is written by libsinsp (falcosecurity/libs ``userspace/libsinsp/utils.cpp``,
``ipv4tuple_to_string`` / ``ipv6tuple_to_string``: ``%s:%s->%s:%s``, client first, IPv6 by ``inet_ntop``
without brackets, a port as its service name with ``-R`` name resolution). The alerts below are written from
those sources and Falco's ``json_output`` shape, not captured; the file alert is the first line of Elastic's
Falco pipeline test (tests/cases/holdout/elastic-falco-alerts.log, SOURCE.md there); its file alerts print
``file=%fd.name``, kept as the evidence's file.
"""

from __future__ import annotations

import json
from pathlib import Path

from secpipe import formats
from secpipe.schema.conformance import check_rows

HOLDOUT = Path(__file__).resolve().parents[1] / "cases" / "holdout" / "elastic-falco-alerts.log"


def _alert(fields: dict) -> dict:
    return {"hostname": "node-1", "output": "Notice Unexpected connection to K8s API Server from container",
            "priority": "Notice", "rule": "Contact K8S API Server From Container", "source": "syscall",
            "tags": ["T1565", "container", "k8s", "maturity_stable", "mitre_discovery", "network"],
            "time": "2024-05-07T18:54:19.341081180Z", "output_fields": fields}


def _endpoints(alerts: list[dict]) -> list[tuple]:
    body = "\n".join(json.dumps(a) for a in alerts).encode()
    d = formats.get("falco").decode(body, "t")
    assert not d.dead
    rows = [r for b in d.batches for r in b.to_pylist()]
    return [(e["src_endpoint"] and (e["src_endpoint"]["ip"], e["src_endpoint"]["port"]),
             e["dst_endpoint"] and (e["dst_endpoint"]["ip"], e["dst_endpoint"]["port"]))
            for e in (r["evidences"][0] for r in rows)]


def test_connection_tuple_gives_both_ends() -> None:
    assert _endpoints([
        _alert({"fd.name": "10.42.1.30:42244->10.43.0.1:443", "proc.cmdline": "kubectl auth can-i --list"}),
        _alert({"fd.name": "fd00::5:51000->2001:db8::1:443"}),  # IPv6, unbracketed
        _alert({"fd.name": "10.42.1.30:42244->10.43.0.1:https"}),  # a port resolved to its service name
    ]) == [(("10.42.1.30", 42244), ("10.43.0.1", 443)), (("fd00::5", 51000), ("2001:db8::1", 443)),
           (("10.42.1.30", 42244), ("10.43.0.1", None))]


def test_printed_ends_win_and_other_fds_give_none() -> None:
    printed = _alert({"fd.name": "10.0.0.1:1->10.0.0.2:2", "fd.cip": "192.0.2.1", "fd.cport": 5400,
                      "fd.sip": "198.51.100.2", "fd.sport": 5700})
    unix = _alert({"fd.name": "ffff9a3b8e4c1000->ffff9a3b8e4c2800 /run/containerd/containerd.sock"})
    server = _alert({"fd.name": "0.0.0.0:8080"})  # a listening socket: no peer
    file_alert = json.loads(HOLDOUT.read_text().splitlines()[0])  # fd.name /etc/shadow
    assert _endpoints([printed, unix, server, file_alert]) == [
        (("192.0.2.1", 5400), ("198.51.100.2", 5700)), (None, None), (None, None), (None, None)]


def test_file_fd_name_is_the_evidence_file() -> None:
    d = formats.get("falco").decode(HOLDOUT.read_bytes(), "t")
    [batch] = d.batches
    rows = batch.to_pylist()
    assert not [k for k in check_rows("detection_finding", rows) if ".file" in k]  # the file object conforms
    files = [r["evidences"][0]["file"] for r in rows]
    assert files[0] == {"path": "/etc/shadow", "name": "shadow", "type_id": 0, "type": "Unknown"}
    printed = [json.loads(x)["output_fields"].get("fd.name") for x in HOLDOUT.read_text().splitlines()]
    assert [f and f["path"] for f in files] == printed and None in printed  # an execve alert prints no fd.name
    typed = _alert({"fd.name": "/var/run/docker.sock", "fd.type": "unix"})
    got = formats.get("falco").decode(json.dumps(typed).encode(), "t").batches[0].to_pylist()[0]
    assert got["evidences"][0]["file"] == {"path": "/var/run/docker.sock", "name": "docker.sock", "type_id": 5,
                                           "type": "Local Socket"}


def test_a_node_container_log_of_the_falco_pod_is_read() -> None:
    # /var/log/containers/falco-*.log under containerd / CRI-O: each line behind the runtime's
    # "<time> <stream> <F|P> " header (kubelet's parseCRILog); Falco's own stderr log line is no alert
    alerts = HOLDOUT.read_text().splitlines()[:2]
    body = "".join([f"2024-05-07T18:54:19.{i}41081180Z stdout F {a}\n" for i, a in enumerate(alerts)] +
                   ["2024-05-07T18:54:20.000000001Z stderr F Tue May  7 18:54:20 2024: Falco initialized\n"]).encode()
    assert formats.detect(body) is formats.get("falco")
    d = formats.get("falco").decode(body, "t")
    assert not d.dead and d.events == 2
    assert [r["finding_info"]["title"] for b in d.batches for r in b.to_pylist()] == [
        json.loads(a)["rule"] for a in alerts]
