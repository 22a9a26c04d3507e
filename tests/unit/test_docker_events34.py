"""Docker Engine events (``docker events --format '{{json .}}'``, ``GET /events``) -> Entity Management / Process Activity.

Inputs are the real captures of tests/cases/docker_events (see SOURCE.md); expected values were read
from those events and from the Engine API's EventMessage schema, not from the mapping.
"""

from __future__ import annotations

import json
from pathlib import Path

from secpipe import formats
from secpipe.formats.docker_events import DockerEvents
from secpipe.schema.ocsf import validate_batch

CASES = Path(__file__).parent.parent / "cases" / "docker_events"
NGINX = "24bf2d53a1b275b15cbf541c30869cb8190fabb893aee1c0171e59cf7469e4a5"
BRIDGE = "737c13c1b3d9356562154d1a329212b0bdcfe41b58fced5e623ad869907e60e4"


def _rows(dec, cls_uid: int) -> list[dict]:
    out = []
    for b in dec.batches:
        if b.column("class_uid")[0].as_py() == cls_uid:
            assert validate_batch(b.column("class_name")[0].as_py().lower().replace(" ", "_"), b.schema) == []
            out.extend(b.to_pylist())
    return out


def test_container_and_network_events_are_entity_management() -> None:
    data = (CASES / "dunod_chapitre5_events.jsonl").read_bytes()
    dec = DockerEvents().decode(data, "dunod")
    assert dec.dead == [] and dec.events == 6
    rows = _rows(dec, 3004)
    assert len(rows) == 6
    got = [(r["metadata"]["event_code"], r["activity_id"], r["activity_name"], r["entity"]["type"]) for r in rows]
    assert got == [("kill", 99, "kill", "container"), ("die", 11, "Deactivate", "container"),
                   ("disconnect", 3, "Update", "network"), ("stop", 11, "Deactivate", "container"),
                   ("connect", 3, "Update", "network"), ("start", 10, "Activate", "container")]  # fmt: skip
    kill, die, disc = rows[0], rows[1], rows[2]
    assert kill["time"] == 1648398130307 and kill["type_uid"] == 300499 and kill["severity_id"] == 1
    assert kill["entity"]["uid"] == NGINX and kill["entity"]["name"] == "nginx" and kill["entity"]["type_id"] == 99
    assert json.loads(kill["entity"]["data"])["signal"] == "3"
    cont = kill["device"]["container"]
    assert cont["uid"] == NGINX and cont["name"] == "nginx" and cont["image"]["name"] == "nginx"
    assert cont["image"].get("tag") is None  # "nginx": no tag written
    assert cont["labels"] == ["maintainer=NGINX Docker Maintainers <docker-maint@nginx.com>"]  # not signal/name/image
    assert kill["device"]["type_id"] == 0
    assert json.loads(kill["unmapped"]) == {"scope": "local"}
    assert json.loads(die["entity"]["data"])["exitCode"] == "0" and die["time"] == 1648398130355
    # a network event names its network; the container it concerns stays in the attributes
    assert disc["entity"]["uid"] == BRIDGE and disc["entity"]["name"] == "bridge" and disc["device"] is None
    assert json.loads(disc["entity"]["data"]) == {"container": NGINX, "name": "bridge", "type": "bridge"}
    assert {r["metadata"]["log_name"] for r in rows} == {"docker_events"}
    assert rows[0]["metadata"]["product"] == {"name": "Docker Engine", "vendor_name": "Docker"}


def test_exec_create_is_a_process_launch_in_the_container() -> None:
    dec = DockerEvents().decode((CASES / "agebhar1_exec_create.json").read_bytes(), "agebhar1")
    assert dec.dead == [] and dec.events == 1
    (ev,) = _rows(dec, 1007)
    assert ev["activity_id"] == 1 and ev["activity_name"] == "Launch" and ev["type_uid"] == 100701
    assert ev["metadata"]["event_code"] == "exec_create"
    assert ev["time"] == 1716193837175
    proc = ev["process"]
    assert proc["cmd_line"] == "kill -SIGUSR1 1 "  # as the Engine wrote the command
    assert proc["uid"] == "0a80c6af28b8af28fa660b0a78e35bb97984d45f9b0ac7eed73ef962cab29771"
    cid = "b1345d99815e09581672b9549bb7189444451c3b0a2a02ff7f7f9ed84ac8fa4d"
    assert proc["container"]["uid"] == cid and proc["container"]["name"] == "sd-nginx-1"
    cont = ev["device"]["container"]
    assert (cont["image"]["name"], cont["image"]["tag"]) == ("docker.io/nginx", "1.25.5-alpine3.19")
    assert "com.docker.compose.project=sd" in cont["labels"] and "com.docker.compose.service=nginx" in cont["labels"]
    assert not any(x.startswith(("execID=", "image=", "name=")) for x in cont["labels"])
    assert cont["labels"] == sorted(cont["labels"])


def test_exec_die_terminates_with_its_exit_code() -> None:
    # the agebhar1 event as the Engine reports the same exec's end (daemon/exec.go: exec_die, exitCode)
    doc = json.loads((CASES / "agebhar1_exec_create.json").read_bytes())
    doc["Action"] = doc["status"] = "exec_die"
    doc["Actor"]["Attributes"]["exitCode"] = "137"
    dec = DockerEvents().decode(json.dumps(doc).encode(), "x")
    (ev,) = _rows(dec, 1007)
    assert ev["activity_id"] == 2 and ev["activity_name"] == "Terminate" and ev["exit_code"] == 137
    assert ev["process"].get("cmd_line") is None


def test_legacy_event_is_a_container_event() -> None:
    # Docker Remote API v1.19's GET /events example: status, id, from and time only
    line = b'{"status": "create", "id": "dfdf82bd3881","from": "base:latest", "time":1374067924}\n'
    dec = DockerEvents().decode(line, "legacy")
    (ev,) = _rows(dec, 3004)
    assert ev["activity_id"] == 1 and ev["entity"]["type"] == "container" and ev["entity"]["uid"] == "dfdf82bd3881"
    assert ev["time"] == 1374067924000 and ev["metadata"].get("labels") is None
    assert ev["device"]["container"]["image"]["name"] == "base" and ev["device"]["container"]["image"]["tag"] == "latest"


def test_bad_lines_are_dead_lettered_and_the_rest_goes_on() -> None:
    lines = (CASES / "dunod_chapitre5_events.jsonl").read_bytes().splitlines(keepends=True)
    bad = [b'{"Type":"container","Actor":{"ID":"x"},"time":1}\n', b'{"Type":"container","Action":\n']
    data = b"".join(lines[:2] + bad + lines[2:])
    dec = DockerEvents().decode(data, "mixed")
    assert dec.events == 8 and sum(b.num_rows for b in dec.batches) == 6
    assert len(dec.dead) == 2
    reasons = sorted(d.reason for d in dec.dead)
    assert any("no Action" in r for r in reasons)
    assert {d.raw.strip() for d in dec.dead} == {x.strip() for x in bad}
    assert all(d.format == "docker_events" and d.source == "mixed" for d in dec.dead)


def test_auto_detection_takes_both_captures_and_the_legacy_form() -> None:
    heads = [(CASES / name).read_bytes()[:4096] for name in ("dunod_chapitre5_events.jsonl", "agebhar1_exec_create.json")]
    heads.append(b'{"status": "create", "id": "dfdf82bd3881","from": "base:latest", "time":1374067924}\n')
    for head in heads:
        fmt = formats.detect(head)
        assert fmt is not None and fmt.name == "docker_events", head[:80]
    # the legacy keys elsewhere in an object (another tool's JSON) are not a Docker event
    assert DockerEvents().sniff(b'{"id": "1", "status": "ok", "from": "a@b.c", "time": 1}') == 0


def test_mutated_events_keep_the_contract() -> None:
    # every JSON mutation kind over both captures: nothing raises, every record is stored or dead-lettered
    import random

    from tests.unit import mutate

    rng = random.Random(3405)
    found = []
    for name in ("dunod_chapitre5_events.jsonl", "agebhar1_exec_create.json"):
        data = (CASES / name).read_bytes()
        for kind in sorted(mutate.JSON_MUTATIONS):
            for _ in range(12):
                got = mutate.json_mutation(kind)(data, rng)
                if got is not None and (bad := mutate.problems(got[0], "docker_events", both_paths=False)):
                    found.append((name, kind, bad, got[0][:300]))
    assert found == []


def test_a_time_nano_past_int64_gives_way_to_time() -> None:
    """The exec_create capture with ``timeNano`` (the Engine's int64 nanoseconds) past int64 (json-key seed 3322 round
    7583 made it 10**30): its milliseconds overflowed the time column, an OverflowError out of the mapping (the
    whole input lost). Such a timeNano is none; ``time`` (seconds) gives the event's time."""
    doc = json.loads((CASES / "agebhar1_exec_create.json").read_bytes())
    for ns in (10**30, 2**63):
        dec = DockerEvents().decode(json.dumps(dict(doc, timeNano=ns)).encode(), "agebhar1")
        assert dec.dead == [] and dec.events == 1
        (ev,) = _rows(dec, 1007)
        assert ev["time"] == doc["time"] * 1000
