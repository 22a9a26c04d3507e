"""``docker compose events --json`` -> the Engine events it repeats (Entity Management / Process Activity).

Input: a real capture, tests/cases/docker_events/excitoon_compose_events.jsonl (see SOURCE.md), and the form
docker/compose's ``docs/reference/compose_events.md`` documents. The keys and their meaning are Compose v2's
``cmd/compose/events.go`` (``json.Marshal`` of time, type, service, id, action, attributes) and
``pkg/compose/events.go`` (attributes without ``com.docker.compose.*``, service from that label, time from
timeNano); the expected values were read from the lines, not from the mapping.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

from secpipe import formats
from secpipe.formats.docker_events import DockerEvents
from secpipe.schema.ocsf import validate_batch

CASES = Path(__file__).parent.parent / "cases" / "docker_events"
BASE = "3a46fc4dfdc0ea3bb2aaa7b9aca0a9d1a465fe9dfef167d171130107b313afc5"
DEP = "388c1521e2b2a7f0111a5d885ef4919a26d64f290506c32124e08e09f5c506a0"
#: docker/compose docs/reference/compose_events.md, the documented --json object (as printed there)
DOC = b"""{
    "time": "2015-11-20T18:01:03.615550",
    "type": "container",
    "action": "create",
    "id": "213cf7...5fc39a",
    "service": "web",
    "attributes": {
      "name": "application_web_1",
      "image": "alpine:edge"
    }
}
"""


def _ms(iso: str) -> int:
    return int(dt.datetime.fromisoformat(iso).timestamp() * 1000)


def _rows(dec) -> list[dict]:
    out = []
    for b in dec.batches:
        assert validate_batch(b.column("class_name")[0].as_py().lower().replace(" ", "_"), b.schema) == []
        out.extend(b.to_pylist())
    return out


def test_compose_events_are_the_engine_events_they_repeat() -> None:
    data = (CASES / "excitoon_compose_events.jsonl").read_bytes()
    fmt = formats.detect(data[:65536])
    assert fmt is not None and fmt.name == "docker_events"
    dec = fmt.decode(data, "compose")
    assert dec.dead == [] and dec.events == 9
    rows = _rows(dec)
    assert {r["class_uid"] for r in rows} == {3004}
    got = [(r["metadata"]["event_code"], r["activity_id"], r["activity_name"]) for r in rows]
    assert got == [("create", 1, "Create"), ("destroy", 4, "Delete"), ("rename", 5, "Move"), ("attach", 99, "attach"),
                   ("start", 10, "Activate"), ("die", 11, "Deactivate"), ("kill", 99, "kill"),
                   ("stop", 11, "Deactivate"), ("die", 11, "Deactivate")]  # fmt: skip
    create, rename, die, kill, die137 = rows[0], rows[2], rows[5], rows[6], rows[8]
    assert create["time"] == _ms("2025-04-19T01:21:43.082+00:00")  # +03:00 applied, ns cut to ms
    assert create["entity"]["type"] == "container" and create["entity"]["uid"] == BASE
    assert create["entity"]["name"] == "bd8c2b47dec4_compose-demo-base-1"
    cont = create["device"]["container"]
    assert cont["uid"] == BASE and cont["image"]["name"] == "base" and cont["image"].get("tag") is None
    assert cont["labels"] == ["com.docker.compose.service=base"]  # the service, as the Engine's label
    assert json.loads(rename["entity"]["data"])["oldName"] == "/bd8c2b47dec4_compose-demo-base-1"
    assert json.loads(die["entity"]["data"])["exitCode"] == "0"
    assert json.loads(kill["entity"]["data"])["signal"] == "15" and kill["entity"]["uid"] == DEP
    assert json.loads(die137["entity"]["data"])["exitCode"] == "137"
    assert die137["time"] == _ms("2025-04-19T01:21:44.927+00:00")
    assert all(r.get("unmapped") is None for r in rows)  # every key Compose writes is mapped
    assert {r["metadata"]["product"]["name"] for r in rows} == {"Docker Engine"}


def test_documented_compose_event_is_read_and_detected() -> None:
    fmt = formats.detect(DOC)
    assert fmt is not None and fmt.name == "docker_events"
    (ev,) = _rows(DockerEvents().decode(DOC, "doc"))
    assert ev["activity_id"] == 1 and ev["entity"]["uid"] == "213cf7...5fc39a"
    assert ev["time"] == _ms("2015-11-20T18:01:03.615+00:00")  # no offset written: UTC
    cont = ev["device"]["container"]
    assert (cont["name"], cont["image"]["name"], cont["image"]["tag"]) == ("application_web_1", "alpine", "edge")
    assert cont["labels"] == ["com.docker.compose.service=web"]


def test_compose_exec_is_a_process_launch() -> None:
    # the Engine's exec_start Action (command after ": ") as Compose passes it on (event.Status = Action)
    line = json.loads((CASES / "excitoon_compose_events.jsonl").read_bytes().splitlines()[4])
    line["action"] = "exec_start: sh -c id"
    line["attributes"]["execID"] = "e1"
    (ev,) = _rows(DockerEvents().decode(json.dumps(line).encode(), "x"))
    assert ev["class_uid"] == 1007 and ev["activity_id"] == 1 and ev["process"]["cmd_line"] == "sh -c id"
    assert ev["process"]["uid"] == "e1" and ev["process"]["container"]["uid"] == BASE


def test_bad_compose_lines_are_dead_lettered_and_the_rest_goes_on() -> None:
    lines = (CASES / "excitoon_compose_events.jsonl").read_bytes().splitlines(keepends=True)
    bad = [b'{"attributes":{},"id":"x","service":"s","time":"2025-04-19T04:21:43+03:00","type":"container"}\n',
           b'{"action":7,"id":"x","type":"container"}\n', b'{"action":"start","type":["container"]}\n']  # fmt: skip
    dec = DockerEvents().decode(b"".join(lines[:3] + bad + lines[3:]), "mixed")
    assert dec.events == 12 and sum(b.num_rows for b in dec.batches) == 9
    assert {d.raw.strip() for d in dec.dead} == {x.strip() for x in bad}
    assert all("no Action" in d.reason for d in dec.dead)


def test_other_lowercase_json_is_not_taken_for_compose() -> None:
    # the same keys without type "container" (another tool's audit record) are not a compose event
    assert DockerEvents().sniff(b'{"action":"login","attributes":{},"id":"1","service":"web","time":"x","type":"user"}') == 0
