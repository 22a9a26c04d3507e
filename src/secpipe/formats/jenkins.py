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
import pyarrow as pa

from secpipe.formats import _cicd as c
from secpipe.formats.base import DeadLetter, Decoded, RecordFormat, Records


class _Cause(msgspec.Struct, gc=False):
    userId: str | None = None
    userName: str | None = None
    shortDescription: str | None = None


class _Action(msgspec.Struct, gc=False):
    causes: list[_Cause] | None = None


class _Scm(msgspec.Struct, gc=False):
    url: str | None = None
    branch: str | None = None
    commit: str | None = None


class _Build(msgspec.Struct, gc=False):
    number: int | None = None
    phase: str | None = None
    status: str | None = None
    full_url: str | None = None
    url: str | None = None
    timestamp: int | None = None
    duration: int | None = None
    queue_id: int | None = None
    scm: _Scm | None = None


class _Rec(msgspec.Struct, gc=False):
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

    @c.gc_paused
    def map_records(self, recs: Records) -> Decoded:
        """Map builds to Scheduled Job Activity."""
        out = Decoded(dead=list(recs.dead), events=recs.events)
        if not recs.raws:
            return out
        idx, typed, tops = c.decode_batch(recs, _Rec, "a Jenkins build record", out, self.name)
        keep: list[int] = []
        facts: list[tuple[Any, ...]] = []
        keep_tops: list[dict[str, msgspec.Raw]] = []
        for i, r, top in zip(idx, typed, tops, strict=True):
            f = _facts(r)
            if f is None:
                src, off = recs.locs[i]
                out.dead.append(DeadLetter(
                    "not a Jenkins build: expected number + result/building (JSON API) or build.number/phase "
                    "(Notification plugin)", src, off, recs.raws[i], self.name))  # fmt: skip
                continue
            keep.append(i)
            facts.append(f)
            keep_tops.append(top)
        if keep:
            out.batches.append(_batch(self, [recs.raws[i] for i in keep], facts, keep_tops))
        return out


def _facts(r: _Rec) -> tuple[Any, ...] | None:
    """(job, desc, user, number, started, duration, result, phase, finished, activity, state) of a build."""
    b = r.build
    if b is not None and b.number is not None:
        phase = (b.phase or "").upper()
        job = r.name or job_from_url(b.full_url or b.url)
        return (job, r.display_name, None, b.number, b.timestamp, b.duration, (b.status or "").upper() or None,
                phase or None, phase in ("COMPLETED", "FINALIZED"), _PHASE_ACT.get(phase, 99), _PHASE_STATE.get(phase, 99))  # fmt: skip
    if r.number is not None and (r.result is not None or r.building is not None or r.timestamp is not None):
        job = r.fullName or job_from_url(r.url) or (r.fullDisplayName or "").rsplit(" #", 1)[0] or None
        user = None
        for a in r.actions or ():
            if a is not None and a.causes:
                user = next((cz.userId for cz in a.causes if cz.userId), None)
                if user:
                    break
        building = bool(r.building)
        return (job, r.fullDisplayName or r.displayName, user, r.number, r.timestamp, r.duration, r.result,
                "BUILDING" if building else "COMPLETED", not building, 6 if building else 2, 3 if building else 4)  # fmt: skip
    return None


def _batch(fmt: Jenkins, raws: list[bytes], facts: list[tuple[Any, ...]], tops: list[dict[str, msgspec.Raw]]) -> Any:
    """Columns of Scheduled Job Activity from the per-build facts (one comprehension per field)."""
    (jobs, descs, users, numbers, started, durations, results, phases, finished, acts, states) = (
        list(col) for col in zip(*facts, strict=True)
    )
    status = [_STATUS.get(x) if x else None for x in results]
    cols = {
        "job.name": jobs,
        "job.desc": descs,
        "job.user.name": users,
        "job.last_run_time": started,
        "job.run_state_id": states,
        "job.run_state": [c.RUN_STATE.get(x, "Other") for x in states],
        "status_id": status,
        "status": [c.STATUS.get(x) if x else None for x in status],
        "status_detail": results,
        "duration": [d if f and d else None for d, f in zip(durations, finished, strict=True)],
        "metadata.correlation_uid": [f"{j}#{n}" if j else str(n) for j, n in zip(jobs, numbers, strict=True)],
        "metadata.event_code": phases,
        "unmapped": [c.unmapped_pop(t, _MAPPED) for t in tops],
    }
    times = [s + (d or 0) if s is not None and f else s for s, d, f in zip(started, durations, finished, strict=True)]
    sev = pa.array([_SEV.get(x or "", 1) for x in results], pa.int32())
    return c.columns_batch("scheduled_job_activity", fmt=fmt, raws=raws, times=times, activity=acts, severity=sev, columns=cols)
