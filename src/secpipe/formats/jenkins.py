"""Jenkins build results as JSON: the JSON API (``/job/<name>/<n>/api/json``) and the
Notification plugin payload (``{name, url, build: {number, phase, status, ...}}``).

Input: one object, an array or NDJSON. A record is a build when it has ``number`` with
``result``/``building``/``timestamp`` (API) or ``build.number``/``build.phase`` (plugin);
anything else is dead-lettered.

OCSF class: Scheduled Job Activity (1006). A Jenkins build is a run of a job that a
scheduler (Jenkins' queue and executors) starts on a trigger; OCSF has no CI class, and this
is the class whose ``job`` object (name, run state, owner, times) fits a build, the same
choice as GitHub workflow runs and GitLab pipelines, so all CI runs query alike.
- ``job.name`` = job full name (from ``name``, ``fullName`` or the build URL),
  ``job.desc`` = ``fullDisplayName``/``display_name``, ``job.user.name`` = the user
  who started it (cause ``userId``), ``job.last_run_time`` = build start;
- activity: plugin phase QUEUED -> Create, STARTED -> Start, COMPLETED/FINALIZED -> Update;
  API: ``building`` -> Start, else Update. ``job.run_state``: Queued / Running / Stopped.
- status: SUCCESS -> Success; FAILURE, UNSTABLE, ABORTED -> Failure; NOT_BUILT -> Other;
  the Jenkins result word is ``status_detail``. severity: FAILURE High, UNSTABLE/ABORTED
  Medium, otherwise Informational.
- ``metadata.correlation_uid`` = ``<job>#<number>`` (the same build id ``jenkins_log``
  writes), ``duration`` in ms; the plugin's ``build`` object (SCM, parameters, artifacts)
  stays in ``unmapped`` (the class has no resources).
Time: build start ``timestamp`` (ms) plus ``duration`` once the build is finished.
"""

from __future__ import annotations

import re
from typing import Any

import msgspec

from secpipe.formats import _cicd as c
from secpipe.formats.base import DeadLetter, Decoded, RecordFormat, Records


class _Cause(msgspec.Struct):
    userId: str | None = None
    userName: str | None = None
    shortDescription: str | None = None


class _Action(msgspec.Struct):
    causes: list[_Cause] | None = None


class _Scm(msgspec.Struct):
    url: str | None = None
    branch: str | None = None
    commit: str | None = None


class _Build(msgspec.Struct):
    number: int | None = None
    phase: str | None = None
    status: str | None = None
    full_url: str | None = None
    url: str | None = None
    timestamp: int | None = None
    duration: int | None = None
    queue_id: int | None = None
    scm: _Scm | None = None


class _Rec(msgspec.Struct):
    # JSON API
    klass: str | None = msgspec.field(default=None, name="_class")
    number: int | None = None
    id: str | None = None
    result: str | None = None
    building: bool | None = None
    timestamp: int | None = None
    duration: int | None = None
    fullDisplayName: str | None = None
    displayName: str | None = None
    fullName: str | None = None
    url: str | None = None
    builtOn: str | None = None
    actions: list[_Action | None] | None = None
    # Notification plugin
    name: str | None = None
    display_name: str | None = None
    build: _Build | None = None


_REC = msgspec.json.Decoder(_Rec)
_PHASE_ACT = {"QUEUED": 1, "STARTED": 6, "COMPLETED": 2, "FINALIZED": 2}
_PHASE_STATE = {"QUEUED": 2, "STARTED": 3, "COMPLETED": 4, "FINALIZED": 4}
_STATUS = {"SUCCESS": 1, "FAILURE": 2, "UNSTABLE": 2, "ABORTED": 2, "NOT_BUILT": 99}
_SEV = {"FAILURE": 4, "UNSTABLE": 3, "ABORTED": 3}
_JOB_URL = re.compile(r"(?:^|/)job/(.+?)/(\d+)/?$")
_MAPPED = frozenset({"_class", "number", "id", "result", "building", "timestamp", "duration", "fullDisplayName",
                     "displayName", "fullName", "url", "name", "display_name"})  # fmt: skip


def job_from_url(url: str | None) -> str | None:
    """``.../job/folder/job/name/42/`` -> ``folder/name``."""
    if not url:
        return None
    m = _JOB_URL.search(url.split("?", 1)[0])
    return m.group(1).replace("/job/", "/") if m else None


class Jenkins(RecordFormat):
    """Jenkins build results (JSON API and Notification plugin)."""

    name = "jenkins"
    description = "Jenkins build results: JSON API /job/x/N/api/json and Notification plugin payloads -> Scheduled Job Activity"
    framing = "document"
    product = "Jenkins"
    vendor = "Jenkins"

    def sniff(self, head: bytes) -> int:
        """``_class`` of a Jenkins run, or a notification ``build`` with ``phase``."""
        h = head[:65536]
        if b'"_class"' in h and (b"hudson.model." in h or b"org.jenkinsci.plugins.workflow" in h) and b'"number"' in h:
            return 92
        if b'"build"' in h and b'"phase"' in h and b'"number"' in h:
            return 88
        return 0

    def map_records(self, recs: Records) -> Decoded:
        """Map builds to Scheduled Job Activity."""
        out = Decoded(dead=list(recs.dead), events=recs.events)
        if not recs.raws:
            return out
        idx, typed, tops = c.decode_each(recs, _REC, "a Jenkins build record", out, self.name)
        g = c.Group()
        for i, r, top in zip(idx, typed, tops, strict=True):
            mapped = _map(r, top)
            if mapped is None:
                src, off = recs.locs[i]
                out.dead.append(DeadLetter(
                    "not a Jenkins build: expected number + result/building (JSON API) or build.number/phase "
                    "(Notification plugin)", src, off, recs.raws[i], self.name))  # fmt: skip
                continue
            row, when, act, sev = mapped
            g.add(i, row, when, act, sev)
        if g.idx:
            c.emit({"scheduled_job_activity": g}, self, recs, out)
        return out


def _map(r: _Rec, top: dict[str, msgspec.Raw]) -> tuple[dict[str, Any], int | None, int, int] | None:
    b = r.build
    if b is not None and b.number is not None:
        phase = (b.phase or "").upper()
        result = (b.status or "").upper() or None
        job = r.name or job_from_url(b.full_url or b.url)
        number, started, duration = b.number, b.timestamp, b.duration
        act, state = _PHASE_ACT.get(phase, 99), _PHASE_STATE.get(phase, 99)
        desc = r.display_name
        user = None
        finished = phase in ("COMPLETED", "FINALIZED")
    elif r.number is not None and (r.result is not None or r.building is not None or r.timestamp is not None):
        result = r.result
        job = r.fullName or job_from_url(r.url) or (r.fullDisplayName or "").rsplit(" #", 1)[0] or None
        number, started, duration = r.number, r.timestamp, r.duration
        act, state = (6, 3) if r.building else (2, 4)
        desc = r.fullDisplayName or r.displayName
        causes = [cz for a in (r.actions or []) if a and a.causes for cz in a.causes]
        user = next((cz.userId for cz in causes if cz.userId), None)
        finished = not r.building
        phase = "BUILDING" if r.building else "COMPLETED"
    else:
        return None
    status = _STATUS.get(result or "") if result else None
    row = {
        "job.name": job,
        "job.desc": desc,
        "job.user.name": user,
        "job.last_run_time": started,
        "job.run_state_id": state,
        "job.run_state": c.RUN_STATE.get(state, "Other"),
        "status_id": status,
        "status": c.STATUS.get(status) if status else None,
        "status_detail": result,
        "duration": duration if finished and duration else None,
        "metadata.correlation_uid": f"{job}#{number}" if job else str(number),
        "metadata.event_code": phase or None,
        "unmapped": c.unmapped_of(top, _MAPPED),
    }
    when = started + (duration or 0) if started is not None and finished else started
    return row, when, act, _SEV.get(result or "", 1)
