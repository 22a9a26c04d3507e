"""Docker Engine events: ``docker events --format '{{json .}}'`` lines and the Engine API's ``GET /events`` stream.

Accepted input: the Engine API's ``EventMessage`` objects (API 1.22 and later; the CLI's ``json`` format
prints the same objects) one a line (JSON Lines, as both stream them), in a JSON array, or one pretty
printed (``curl --unix-socket /var/run/docker.sock http://-/events | jq``). An object has ``Type``
(builder, config, container, daemon, image, network, node, plugin, secret, service, volume), ``Action``,
``Actor`` (``ID``, ``Attributes``: a string map), ``scope`` (``local``, or ``swarm`` for cluster events),
``time`` (epoch s) and ``timeNano`` (epoch ns); container events also carry the deprecated ``status``
(= Action), ``id`` (= Actor.ID) and ``from`` (= the ``image`` attribute), which engines before API 1.22
wrote alone: such a record is read as the container event it describes. Podman's Docker-compatible API
writes the same objects. A record with neither ``Action`` nor ``status`` (text), or whose ``Type`` is not
text, is dead-lettered with the reason.

``docker compose events --json`` (Compose v2, ``cmd/compose/events.go``) writes the Engine's container events
of one project, one object a line, in its own lower-case keys (Go's ``json.Marshal`` of a map: sorted):
``action`` (the Engine's Action), ``attributes`` (Actor.Attributes without Compose's
``com.docker.compose.*`` labels), ``id`` (Actor.ID), ``service`` (the ``com.docker.compose.service``
label it read), ``time`` (RFC 3339 with the host's offset and nanoseconds: the event's timeNano) and
``type`` (``container``). Such an event is read as the Engine event it repeats: the ``service`` given back
as the ``com.docker.compose.service`` label (a container label as the Engine's own event has it), the
time from ``time`` (Compose v1's, documented as ``2015-11-20T18:01:03.615550``, has no offset: UTC). An
object with neither ``Action``, ``status`` nor ``action`` text is dead-lettered.

Classes (OCSF 1.8.0):
- **Process Activity (1007)** for a container's ``exec_create``, ``exec_start`` (Launch), ``exec_die``
  (Terminate, ``exitCode`` -> ``exit_code``) and ``exec_detach`` (Other): the Engine writes the command
  into the Action (``exec_start: sh -c id``: the action, ``": "``, the command and its arguments), which
  is ``process.cmd_line``; ``execID`` is ``process.uid``; the container is ``process.container``. A process
  started inside a running container is what Process Activity reports; the Engine does not say which
  client asked for it, so there is no ``actor`` (nothing invented).
- **Entity Management (3004)** for every other action on every object: the Engine API is the management
  interface of these objects, and each event is one action on one of them (Application Lifecycle was
  weighed for container start/stop: it needs an ``app`` product and has no object type, and images,
  volumes, networks, secrets or the daemon's reload have no lifecycle there; one class keeps every
  object's history in one table). ``entity``: ``type`` the Docker Type, ``type_id`` Other (no managed
  entity type of OCSF is a container, image or volume), ``uid`` Actor.ID, ``name`` the ``name`` attribute,
  ``data`` the attributes as JSON. Activity by action: create, install, pull, import, load Create;
  push, save, export, top Read; update, tag, untag, connect, disconnect, mount, unmount, reload
  Update; destroy, delete, remove, prune Delete; rename Move; enable / disable Enable / Disable;
  start Activate; stop, die Deactivate; pause Suspend; unpause Resume; any other (kill, restart, oom,
  health_status, attach, detach, commit, copy, resize ...) Other, named by the action.
  ``health_status: healthy`` (the status after a colon) keeps the status as ``status_detail``.

Both classes: the action word (before any ``": "``) is ``metadata.event_code``; ``scope`` stays
in ``unmapped`` (with any key the Engine adds later); a container's attributes give
``device.container`` (``uid`` Actor.ID, ``name``, ``image`` split into ``image.name`` and ``image.tag``, the
other attributes -- its labels, Docker Compose's ``com.docker.compose.*``, the kubelet's
``io.kubernetes.*`` -- as ``labels`` ``key=value``, sorted; ``io.kubernetes.pod.uid`` ``pod_uuid`` and
orchestrator Kubernetes where the kubelet's labels stand, Docker Swarm where ``com.docker.swarm.*``
do). The attributes the Engine sets for the event itself (``exitCode``, ``execDuration``, ``signal``,
``execID``, ``oldName``, Podman's ``containerExitCode``) are not labels. Time: ``timeNano`` (ms kept),
else ``time``; an event without either gets the receipt time and the ``secpipe:time_from_receipt``
label. Severity Informational: the Engine grades nothing. The Engine's events do not carry a
container's configuration (``--privileged``, bind mounts: ``docker inspect`` holds them); a named
volume's ``mount`` event names the container, ``destination`` and ``read/write`` (in ``entity.data``).

Written on the CI/CD helpers (:mod:`._cicd`): one msgspec decode of all records, a comprehension per
column; ``docker events`` streams a few events a second on a busy host.
"""

from __future__ import annotations

import re
from typing import Any

import msgspec
import pyarrow as pa

from secpipe.formats import _cicd as c
from secpipe.formats._findings import CheckedRecordFormat
from secpipe.schema.ocsf import enum_captions

#: the attributes the Engine (and Podman) set for the event itself, not labels of the object
_EVENT_KEYS = frozenset({"image", "name", "exitCode", "execDuration", "signal", "execID", "oldName", "containerExitCode"})
_MAPPED = frozenset({"Type", "Action", "Actor", "time", "timeNano", "status", "id", "from",
                     "type", "action", "service", "attributes"})  # fmt: skip
#: the label Compose names a container's service by (``api.ServiceLabel``); ``compose events`` gives it as ``service``
_SERVICE_LABEL = "com.docker.compose.service"
#: Entity Management activity_id by action (Other, 99, for the rest)
_ENTITY_ACTIVITY = {
    "create": 1, "install": 1, "pull": 1, "import": 1, "load": 1,
    "push": 2, "save": 2, "export": 2, "top": 2,
    "update": 3, "tag": 3, "untag": 3, "connect": 3, "disconnect": 3, "mount": 3, "unmount": 3, "reload": 3,
    "destroy": 4, "delete": 4, "remove": 4, "prune": 4,
    "rename": 5, "enable": 8, "disable": 9, "start": 10, "stop": 11, "die": 11, "pause": 12, "unpause": 13,
}  # fmt: skip
_EXEC_ACTIVITY = {"exec_create": 1, "exec_start": 1, "exec_die": 2}
_ENC = msgspec.json.Encoder()
#: a legacy event (API < 1.22) as the Engine's JSONMessage wrote it: status, id, from first, in that order
_LEGACY = re.compile(rb'\s*\[?\s*\{\s*"status"\s*:\s*"[^"\n]{1,200}"\s*,\s*"id"\s*:\s*"[^"\n]{1,200}"\s*,\s*"from"\s*:')
#: ``docker compose events --json``'s keys (any order: Compose v1 wrote a Python dict)
_COMPOSE_KEYS = (b'"action"', b'"attributes"', b'"service"', b'"id"', b'"time"')
_COMPOSE_TYPE = re.compile(rb'"type"\s*:\s*"container"')


class _Event(msgspec.Struct, gc=False):
    Type: Any = None  # noqa: N815 - the Engine's keys
    Action: Any = None  # noqa: N815
    Actor: Any = None  # noqa: N815
    time: Any = None
    timeNano: Any = None  # noqa: N815
    status: Any = None
    id: Any = None
    # ``from`` is a Python keyword: the legacy image reference
    from_: Any = msgspec.field(default=None, name="from")
    # ``docker compose events --json``
    type_: Any = msgspec.field(default=None, name="type")
    action: Any = None
    service: Any = None
    attributes: Any = None


def _text(v: Any) -> str | None:
    return v if type(v) is str and v else None


class _Facts:
    """One event's values, the legacy keys read where the current ones are missing."""

    __slots__ = ("action", "arg", "attrs", "kind", "uid", "when", "word")

    def __init__(self, e: _Event) -> None:
        if e.Action is None and e.status is None:  # docker compose events --json
            self._compose(e)
            return
        actor = e.Actor if isinstance(e.Actor, dict) else {}
        attrs = actor.get("Attributes")
        self.attrs: dict[str, str] = {k: v for k, v in attrs.items() if type(v) is str} if isinstance(attrs, dict) else {}
        self.kind: str = _text(e.Type) or "container"  # a legacy event (no Type) is a container's
        self.action: str = _text(e.Action) or e.status
        word, _, arg = self.action.partition(": ")
        self.word: str = word
        self.arg: str | None = arg or None
        self.uid = _text(actor.get("ID")) or _text(e.id)
        if e.Type is None and (image := _text(e.from_)) is not None:
            self.attrs.setdefault("image", image)
        ns, s = e.timeNano, e.time
        # timeNano is the Engine's int64 nanoseconds: one past it is none (time, seconds, is read instead)
        self.when = ns // 1_000_000 if type(ns) is int and 0 < ns < 2**63 else c.iso_ms(s) if type(s) in (int, float) else None

    def _compose(self, e: _Event) -> None:
        """An event of ``docker compose events --json``: its service as the container's label again."""
        attrs = e.attributes
        self.attrs = {k: v for k, v in attrs.items() if type(v) is str} if isinstance(attrs, dict) else {}
        if (service := _text(e.service)) is not None:
            self.attrs.setdefault(_SERVICE_LABEL, service)
        self.kind = _text(e.type_) or "container"
        self.action = e.action
        word, _, arg = self.action.partition(": ")
        self.word, self.arg = word, arg or None
        self.uid = _text(e.id)
        self.when = c.iso_ms(e.time) if type(e.time) is str else None


def _image(ref: str | None) -> tuple[str | None, str | None]:
    """(name, tag) of an image reference: the tag follows the last ``:`` after the last ``/`` (a
    registry's port is not one); a ``@digest`` is not part of the name."""
    if ref is None:
        return None, None
    ref = ref.partition("@")[0] or ref
    head, sep, tag = ref.rpartition(":")
    return (head, tag) if sep and "/" not in tag and head else (ref, None)


def _container(f: _Facts) -> dict[str, Any] | None:
    """``device.container`` of a container event, else None."""
    if f.kind != "container":
        return None
    a = f.attrs
    name, tag = _image(a.get("image"))
    labels = sorted(f"{k}={v}" for k, v in a.items() if k not in _EVENT_KEYS)
    k8s = any(k.startswith("io.kubernetes.") for k in a)
    swarm = any(k.startswith("com.docker.swarm.") for k in a)
    return {
        "uid": f.uid, "name": a.get("name"), "image.name": name, "image.tag": tag,
        "labels": labels or None, "pod_uuid": a.get("io.kubernetes.pod.uid"),
        "orchestrator": "Kubernetes" if k8s else "Docker Swarm" if swarm else None,
    }  # fmt: skip


class DockerEvents(CheckedRecordFormat):
    """Docker Engine events (``docker events`` JSON, ``GET /events``)."""

    name = "docker_events"
    record_type = _Event
    what = "a Docker Engine event"
    invalid_reason = ("not a Docker Engine event: no Action (or legacy status, or compose events' action) text, or a Type "
                      "that is not text")  # fmt: skip
    description = ("Docker Engine events (docker events --format '{{json .}}', Engine API GET /events, docker compose "
                   "events --json) -> Process Activity (exec) / Entity Management")  # fmt: skip
    framing = "lines"
    product = "Docker Engine"
    vendor = "Docker"

    def sniff(self, head: bytes) -> int:
        """An ``EventMessage``: ``"Type"``, ``"Action"`` and ``"Actor"`` keys with an ``"ID"``, or the
        legacy object opening as the Engine wrote it (``{"status": "...", "id": "...", "from": ...``: its
        struct's order); an object of ``docker compose events --json`` (its keys, type ``container``)."""
        h = head[:4096]
        if b'"Action"' in h and b'"Actor"' in h and b'"Type"' in h and b'"ID"' in h:
            return 90
        if _LEGACY.match(h):
            return 70
        if h.lstrip()[:1] in (b"{", b"[") and all(k in h for k in _COMPOSE_KEYS) and _COMPOSE_TYPE.search(h):
            return 80
        return 0

    def is_valid(self, rec: _Event) -> bool:
        """An Action (or the legacy status, or Compose's action) as text, and a Type (when given) as text."""
        if rec.Action is None and rec.status is None:
            return _text(rec.action) is not None and (rec.type_ is None or _text(rec.type_) is not None)
        act = rec.Action if rec.Action is not None else rec.status
        return type(act) is str and bool(act) and (rec.Type is None or _text(rec.Type) is not None)

    def map_valid(self, recs: list[Any], tops: list[dict[str, msgspec.Raw]], raws: list[bytes]) -> list[pa.RecordBatch]:
        """A batch a class: a container's exec events Process Activity, the others Entity Management."""
        facts = [_Facts(r) for r in recs]
        execs = [i for i, f in enumerate(facts) if f.kind == "container" and f.word.startswith("exec_")]
        taken = set(execs)
        rest = [i for i in range(len(facts)) if i not in taken]
        out = []
        for idx, batch in ((execs, self._processes), (rest, self._entities)):
            if idx:
                out.append(batch([facts[i] for i in idx], [tops[i] for i in idx], [raws[i] for i in idx]))
        return out

    def _common(self, fs: list[_Facts], tops: list[dict[str, msgspec.Raw]],
                activities: dict[str, int]) -> tuple[list[int], dict[str, Any]]:
        """(each event's activity_id by its action, Other where ``activities`` lacks it; the columns
        both classes share, an Other activity named by Docker's action)."""
        act = [activities.get(f.word, 99) for f in fs]
        conts = [_container(f) for f in fs]
        cols: dict[str, Any] = {
            "activity_name": [f.word if a == 99 else None for f, a in zip(fs, act, strict=True)],
            "metadata.event_code": [f.word for f in fs],
            # device.type_id is required (OCSF 1.8.0): Unknown, where the event names a container at all
            "device.type_id": [None if x is None else 0 for x in conts],
            "device.type": [None if x is None else "Unknown" for x in conts],
            "unmapped": c.unmapped_rest(tops, _MAPPED),
        }
        for key in ("uid", "name", "image.name", "image.tag", "labels", "pod_uuid", "orchestrator"):
            cols["device.container." + key] = [None if x is None else x[key] for x in conts]
        return act, cols

    def _processes(self, fs: list[_Facts], tops: list[dict[str, msgspec.Raw]], raws: list[bytes]) -> pa.RecordBatch:
        act, cols = self._common(fs, tops, _EXEC_ACTIVITY)
        cols.update({
            "process.cmd_line": [f.arg for f in fs],
            "process.uid": [f.attrs.get("execID") for f in fs],
            "process.container.uid": [f.uid for f in fs],
            "process.container.name": [f.attrs.get("name") for f in fs],
            "exit_code": [_int(f.attrs.get("exitCode")) if f.word == "exec_die" else None for f in fs],
        })  # fmt: skip
        return self._batch("process_activity", fs, raws, act, cols)

    def _entities(self, fs: list[_Facts], tops: list[dict[str, msgspec.Raw]], raws: list[bytes]) -> pa.RecordBatch:
        act, cols = self._common(fs, tops, _ENTITY_ACTIVITY)
        cols.update({
            "entity.type": [f.kind for f in fs],
            "entity.type_id": [99] * len(fs),
            "entity.uid": [f.uid for f in fs],
            "entity.name": [f.attrs.get("name") for f in fs],
            "entity.data": [_ENC.encode(f.attrs).decode() if f.attrs else None for f in fs],
            "status_detail": [f.arg for f in fs],
        })  # fmt: skip
        return self._batch("entity_management", fs, raws, act, cols)

    def _batch(self, cls: str, fs: list[_Facts], raws: list[bytes], act: list[int], cols: dict[str, Any]) -> pa.RecordBatch:
        names = cols.pop("activity_name")
        if any(n is not None for n in names):  # an Other activity named by Docker's action, the rest by OCSF's caption
            captions = enum_captions(cls, "activity_id", pa.array(act, pa.int32())).to_pylist()
            cols["activity_name"] = [n or cap for n, cap in zip(names, captions, strict=True)]
        return c.columns_batch(cls, fmt=self, raws=raws, times=[f.when for f in fs], activity=act, severity=1,
                               columns=cols, checked=True)  # fmt: skip


def _int(text: str | None) -> int | None:
    """An exit code attribute (decimal text) as an int32, else None."""
    if text is None or not text.lstrip("-").isdigit():
        return None
    v = int(text)
    return v if -(2**31) <= v < 2**31 else None


__all__ = ["DockerEvents"]
