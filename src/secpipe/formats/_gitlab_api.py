"""GitLab REST API pipelines and jobs: the objects ``GET /projects/:id/pipelines[/:pid]`` and
``GET /projects/:id/jobs`` (``/pipelines/:pid/jobs``, ``/jobs/:jid``) answer with.

What they are: CI dashboards, exporters and audits poll these endpoints instead of receiving
webhooks; a pipeline object has ``id``, ``iid``, ``project_id``, ``status``, ``source``, ``ref``,
``sha``, ``web_url`` (``<project URL>/-/pipelines/<id>``; before GitLab 13 ``.../pipelines/<id>``) and
its times, the single-pipeline answer adds ``user``, ``started_at``, ``finished_at``, ``duration``;
a job object has ``id``, ``name``, ``stage``, ``status``, ``failure_reason``, ``pipeline``
(``{id, project_id, ref, sha, status}``), ``user``, ``web_url`` (``.../-/jobs/<id>``), its times
and ``duration`` (seconds). Neither names an ``object_kind``: they are told apart by the link.

Mapping: Scheduled Job Activity (1006), as the pipeline and job webhooks are mapped, so a run seen
by both routes queries alike: ``job.name`` the pipeline's ``name`` (else ``<project path>
pipeline``, the path read from ``web_url``) or the job's ``name``; ``job.desc`` ``<source> on <ref>
(<sha>)`` for a pipeline, ``<project path> pipeline <id>, stage <stage>`` for a job; run state,
status (success Success, failed/canceled Failure; the word as ``status_detail``) and activity from
``status`` as the webhooks' (``failure_reason`` stays in ``unmapped``); ``job.created_time`` /
``job.last_run_time`` from ``created_at`` / ``started_at``; the triggering ``user`` as
``actor.user`` and ``job.user.name``; ``metadata.correlation_uid`` the pipeline id (a job's is its
pipeline's); ``duration`` in ms. Time: ``finished_at``, else ``updated_at`` (pipelines) /
``started_at``, else ``created_at``. Keys not placed stay in ``unmapped``.

Volume: one answer a poll, a page of 20-100 objects; records are read key by key from their
top-level raw maps, as the system hooks are.
"""

from __future__ import annotations

import re
from typing import Any

import msgspec

from secpipe.formats import _cicd as c

#: ``https://host/group/project/-/pipelines/47`` (``/pipelines/`` without ``-`` before GitLab 13) -> kind, project path
_LINK = re.compile(r"^https?://[^/]+/(.+?)(?:/-)?/(pipelines|jobs)/\d+/?$")
_KINDS = {"pipelines": "api_pipeline", "jobs": "api_job"}
_MAPPED = frozenset({"id", "name", "status", "ref", "sha", "source", "web_url", "user", "created_at", "updated_at",
                     "started_at", "finished_at", "duration"})  # fmt: skip
_JOB_MAPPED = _MAPPED | {"stage", "pipeline"}


def kind(web_url: str) -> str | None:
    """``api_pipeline`` / ``api_job`` for an API object's own link, else None."""
    m = _LINK.match(web_url)
    return _KINDS[m.group(2)] if m else None


def _v(top: dict[str, msgspec.Raw], key: str) -> Any:
    raw = top.get(key)
    if raw is None:
        return None
    try:
        return msgspec.json.decode(raw)
    except msgspec.DecodeError:  # a number past float64: none here, kept in raw_data
        return None


def _s(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _ms(seconds: Any) -> int | None:
    """A duration in seconds as ms (none where absent, zero or past the int64 column)."""
    if type(seconds) not in (int, float) or not seconds:
        return None
    ms = int(seconds * 1000)
    return ms if -(2**63) <= ms < 2**63 else None


def columns(tops: list[dict[str, msgspec.Raw]], kind: str,
            maps: Any) -> tuple[dict[str, Any], list[int | None], list[int]]:  # fmt: skip
    """Scheduled Job Activity leaves, times and activity ids of API pipelines or jobs (``kind``);
    ``maps``: the gitlab module, whose status tables the webhooks' mapping reads too."""
    job = kind == "api_job"
    status = [_s(_v(t, "status")) for t in tops]
    users = [u if isinstance(u := _v(t, "user"), dict) else {} for t in tops]
    paths = [m.group(1) if (m := _LINK.match(_s(_v(t, "web_url")) or "")) else None for t in tops]
    ids = [c.sid(_v(t, "id")) for t in tops]
    if job:
        pipes = [p if isinstance(p := _v(t, "pipeline"), dict) else {} for t in tops]
        pipeline = [c.sid(p.get("id")) for p in pipes]
        names = [_s(_v(t, "name")) or "job" for t in tops]  # OCSF requires job.name
        descs = [f"{path + ' ' if path else ''}pipeline {p}, stage {_s(_v(t, 'stage'))}" if p else None
                 for t, path, p in zip(tops, paths, pipeline, strict=True)]  # fmt: skip
    else:
        pipeline = ids
        names = [_s(_v(t, "name")) or (f"{path} pipeline" if path else "pipeline") for t, path in zip(tops, paths, strict=True)]
        descs = [f"{_s(_v(t, 'source')) or 'pipeline'} on {ref} ({_s(_v(t, 'sha')) or ''})" if (ref := _s(_v(t, "ref")))
                 else None for t in tops]  # fmt: skip
    later = "started_at" if job else "updated_at"
    times = [c.first_time(_v(t, "finished_at"), _v(t, later), _v(t, "created_at")) for t in tops]
    ok = [maps._OK.get(s or "") or None for s in status]
    usernames = [_s(u.get("username")) for u in users]
    cols: dict[str, Any] = {
        "job.name": names,
        "job.desc": descs,
        "job.run_state_id": [maps._PIPE_STATE.get(s or "", 99) for s in status],
        "job.run_state": [maps.run_state(s) for s in status],
        "job.created_time": [c.iso_ms(_v(t, "created_at")) for t in tops],
        "job.last_run_time": [c.iso_ms(_v(t, "started_at")) for t in tops],
        "job.user.name": usernames,
        "actor.user.name": usernames,
        "actor.user.full_name": [_s(u.get("name")) for u in users],
        "actor.user.uid": [c.sid(u.get("id")) for u in users],
        "status_id": ok,
        "status": [c.STATUS.get(x) if x else None for x in ok],
        "status_detail": status,
        "metadata.event_code": ["build" if job else "pipeline"] * len(tops),  # the webhooks' kinds
        "metadata.original_event_uid": ids,
        "metadata.correlation_uid": pipeline,
        "duration": [_ms(_v(t, "duration")) for t in tops],
        "unmapped": c.unmapped_rest(tops, _JOB_MAPPED if job else _MAPPED),  # (the mapped keys popped: last)
    }
    return cols, times, [maps._PIPE_ACTIVITY.get(s or "", 2) for s in status]
