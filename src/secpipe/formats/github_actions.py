"""GitHub Actions REST API answers: workflow runs and jobs, as CI/CD audits archive them.

Accepted input: what ``gh api``, ``curl`` and exporters write from the Actions REST API
(``components/schemas`` ``workflow-run`` and ``job`` of GitHub's REST API description):
- ``GET /repos/{owner}/{repo}/actions/runs`` (and ``.../workflows/{id}/runs``): a page
  ``{"total_count": N, "workflow_runs": [run, ...]}``; ``GET .../actions/runs/{run_id}``: one run;
- ``GET .../actions/runs/{run_id}/jobs`` (and ``.../attempts/{n}/jobs``): a page
  ``{"total_count": N, "jobs": [job, ...]}``; ``GET .../actions/jobs/{job_id}``: one job;
- pages back to back or one a line (``gh api --paginate``), runs or jobs one a line, arrays of them.
A run has ``workflow_id`` and ``run_number``, a job ``run_id`` (and ``steps``, ``run_url``);
a record with neither, or whose fields have the wrong JSON types, is dead-lettered with the reason.

Class: **Scheduled Job Activity (1006)**, mapped as the ``workflow_run`` / ``workflow_job``
webhooks are (:func:`secpipe.formats._github_map._run`), so one run seen by both routes queries
alike: ``job.name`` the workflow's name (a run's ``name``, a job's ``workflow_name``; else the
job's ``name``, the workflow file's name, the object's kind and id), ``job.desc`` the run's ``display_title`` (a job's own ``name``), ``job.file``
the workflow file (``path``, without the ``@ref`` a called workflow's path carries),
``job.created_time`` / ``job.last_run_time`` from ``created_at`` / ``run_started_at``
(``started_at``), run state and activity from ``status`` (the webhooks' tables: an answer has
no ``action``, its status says what the run is at), ``conclusion`` -> ``status_id`` (success,
neutral, skipped Success; failure, cancelled, timed_out, ... Failure) and ``status_detail``.
``triggering_actor`` (who started or re-ran it; else ``actor``) is ``actor.user``, ``actor``
(whose push or schedule the run is) ``job.user.name``; an organization owning the repository is
``metadata.tenant_uid``. ``metadata.correlation_uid`` is the run id (a job's ``run_id``),
``metadata.original_event_uid`` the object's own id, ``metadata.event_code`` the webhook's kind.
A job's ``started_at`` / ``completed_at`` are also ``start_time`` / ``end_time``. Time:
``completed_at``, else ``updated_at``, ``started_at``, ``created_at``. The repository,
``head_branch``, ``head_sha``, steps and the other keys stay in ``unmapped`` (the class has no
resources); ``raw_data`` is the run or job object.

Volume: a page holds up to 100 objects; a page is split into its items by one raw decode (no
Python object is made of an item), then all items are typed in one msgspec call, their
``unmapped`` JSON is cut out natively (:class:`~secpipe.formats._findings.CheckedTopFormat`) and
they are mapped a column at a time.
"""

from __future__ import annotations

import re
from typing import Any

import msgspec
import pyarrow as pa

from secpipe.formats import _cicd as c
from secpipe.formats import _fast
from secpipe.formats._findings import CheckedTopFormat, TopLevel
from secpipe.formats._github_map import (
    _FAIL_CONCLUSIONS,
    _RUN_ACTIVITY,
    _RUN_STATE,
    _RUN_STATE_CAPTION,
    _USER_TYPE,
)
from secpipe.formats.base import BOM, Records, _compact, _utf8_only


class _User(msgspec.Struct, gc=False):
    login: str | None = None
    id: int | None = None
    type: str | None = None


class _Repo(msgspec.Struct, gc=False):
    owner: _User | None = None


class _Object(msgspec.Struct, gc=False):
    """A workflow run or a job, the fields the mapping reads (typed: a wrong type dead-letters it)."""

    id: int | None = None
    run_id: int | None = None
    workflow_id: int | None = None
    run_number: int | None = None
    name: str | None = None
    workflow_name: str | None = None
    display_title: str | None = None
    path: str | None = None
    status: str | None = None
    conclusion: str | None = None
    created_at: str | None = None
    updated_at: str | None = None
    run_started_at: str | None = None
    started_at: str | None = None
    completed_at: str | None = None
    actor: _User | None = None
    triggering_actor: _User | None = None
    repository: _Repo | None = None


class _Page(msgspec.Struct, gc=False):
    workflow_runs: list[msgspec.Raw] | None = None
    jobs: list[msgspec.Raw] | None = None


_PAGE = msgspec.json.Decoder(_Page)
_MAPPED = frozenset({"id", "run_id", "name", "workflow_name", "display_title", "path", "status", "conclusion",
                     "created_at", "run_started_at", "started_at", "completed_at", "actor", "triggering_actor"})  # fmt: skip
_OK_CONCLUSIONS = frozenset({"success", "neutral", "skipped"})
#: a page's list key (its items are then runs or jobs); searched in a compact page's first bytes
_PAGE_KEY = re.compile(rb'"(?:workflow_runs|jobs)":\[')
#: a key only a webhook payload or an audit-log event has at the top (never a run or job object's)
_NOT_API = re.compile(rb'(?<!\\)"(?:action|sender|workflow_run|workflow_job|hook_id)"\s*:')
#: a page's first key up to its list (``total_count`` first, as the API writes it, or the list alone)
_PAGE_HEAD = re.compile(rb'\{\s*(?:"total_count"\s*:\s*\d+\s*,\s*)?"(workflow_runs|jobs)"\s*:\s*\[')
_RUNS = re.compile(rb'"workflow_runs"\s*:\s*\[')
_JOBS = re.compile(rb'"jobs"\s*:\s*\[')


def _status(conclusion: str | None) -> int | None:
    if conclusion is None:
        return None
    return 1 if conclusion in _OK_CONCLUSIONS else 2 if conclusion in _FAIL_CONCLUSIONS else 99


def _file(path: str | None) -> dict[str, Any] | None:
    """``job.file`` of a workflow path (``.github/workflows/ci.yml``; ``...@refs/heads/main`` for a called one)."""
    path = path.split("@", 1)[0] if path else None
    if not path:
        return None
    return {"path": path, "name": path.rsplit("/", 1)[-1] or None, "type_id": 1, "type": "Regular File"}


def _items(page: bytes) -> list[bytes] | None:
    """The items of a page, compact, or None when ``page`` is no page (a list key holding something
    else, or not JSON: the general split then maps or dead-letters it as a record)."""
    try:
        items = _PAGE.decode(page)
        found = items.workflow_runs if items.workflow_runs is not None else items.jobs
        return None if found is None else [_compact(bytes(r)) for r in found]
    except (msgspec.DecodeError, RecursionError):
        return None


class GitHubActions(CheckedTopFormat):
    """GitHub Actions REST API workflow runs and jobs (pages or single objects)."""

    name = "github_actions"
    record_type = _Object
    mapped = _MAPPED
    what = "a GitHub Actions workflow run or job"
    invalid_reason = ("not a GitHub Actions workflow run or job: no `id` with `workflow_id` and `run_number` (a run) "
                      "or `run_id` (a job)")  # fmt: skip
    description = "GitHub Actions REST API workflow runs and jobs (actions/runs, .../jobs) -> Scheduled Job Activity (1006)"
    framing = "lines"
    product = "GitHub"
    vendor = "GitHub"

    def sniff(self, head: bytes) -> int:
        """A ``workflow_runs`` array of runs, a ``jobs`` array of jobs, or a run or job object, and
        none of the top-level keys of a webhook or audit-log event (a ``workflow_run`` webhook
        holds the same run object under ``workflow_run``, with ``action`` and ``sender``)."""
        h = head[:16384]
        if _NOT_API.search(h):
            return 0
        if m := _RUNS.search(h):  # a run's keys, or an empty page (the list closed at once)
            return 90 if b'"workflow_id"' in h or b'"run_number"' in h or h[m.end():].lstrip()[:1] == b"]" else 0
        job = b'"run_id"' in h and b'"run_url"' in h and b'"steps"' in h
        if _JOBS.search(h):
            return 90 if job else 0
        if job or (b'"workflow_id"' in h and b'"run_number"' in h and b'"head_sha"' in h):
            return 88
        return 0

    def split_records(self, data: bytes, source: str) -> Records:
        """The runs or jobs of the document: a page gives its items (an empty page none: no
        event, no dead letter), other records are runs or jobs themselves."""
        one = self._one_page(data, source)
        if one is not None:
            return one
        recs = super().split_records(data, source)  # pages back to back or one a line, runs or jobs
        if not any(_PAGE_KEY.search(r, 0, 4096) for r in recs.raws):
            return recs
        raws: list[bytes] = []
        locs: list[tuple[str, int]] = []
        for raw, loc in zip(recs.raws, recs.locs, strict=True):
            items = _items(raw) if _PAGE_KEY.search(raw, 0, 4096) else None
            raws += [raw] if items is None else items
            locs += [loc] * (1 if items is None else len(items))
        return Records(raws, locs, recs.dead, len(raws) + len(recs.dead))

    def _one_page(self, data: bytes, source: str) -> Records | None:
        """The items of a document that is one page (the common case: one answer a file, pretty
        as api.github.com writes it), split natively where the extension is; None for anything else.
        An item that is not UTF-8 is dead-lettered alone."""
        text = data.removeprefix(BOM).lstrip()
        m = _PAGE_HEAD.match(text) if text[:1] == b"{" else None
        if m is None:
            return None
        key = m.group(1).decode()
        items = _fast.split_envelope(text, key, (), strict=True)
        if items is None:
            items = _fast.split_envelope(_compact(text), key, ())
        if items is None:
            items = _items(text)  # without the extension (the same items, each made compact)
        if items is None:
            return None
        raws, idx, dead = _utf8_only(items, list(range(len(items))), [], source, self.name)
        return Records(raws, [(source, i) for i in idx], dead, len(items))

    def is_valid(self, rec: _Object) -> bool:
        """An id, and a run's workflow id and number or a job's run id."""
        return rec.id is not None and (rec.run_id is not None or (rec.workflow_id is not None and rec.run_number is not None))

    def map_top(self, objs: list[_Object], top: TopLevel, raws: list[bytes]) -> pa.RecordBatch:
        sid = c.sid
        jobs = [o.run_id is not None for o in objs]
        states = [o.status for o in objs]
        run_states = [_RUN_STATE.get(s or "", 99) for s in states]
        statuses = [_status(o.conclusion) for o in objs]
        who = [o.triggering_actor or o.actor for o in objs]
        kinds = [_USER_TYPE.get(u.type, (99, u.type)) if u is not None and u.type else (None, None) for u in who]
        owners = [o.repository.owner if o.repository is not None else None for o in objs]
        files = [_file(o.path) for o in objs]
        cols: dict[str, Any] = {
            # OCSF requires job.name: an object naming neither workflow nor job is named by its file, else its id
            "job.name": [o.workflow_name or o.name or (f["name"] if f else f"{'workflow_job' if j else 'workflow_run'} {o.id}")
                         for o, j, f in zip(objs, jobs, files, strict=True)],  # fmt: skip
            "job.desc": [o.display_title or (o.name if j else None) for o, j in zip(objs, jobs, strict=True)],
            "job.file": files,
            "job.created_time": [c.iso_ms(o.created_at) for o in objs],
            "job.last_run_time": [c.first_time(o.run_started_at, o.started_at) for o in objs],
            "job.run_state_id": run_states,
            "job.run_state": [s if r == 99 else _RUN_STATE_CAPTION[r] for s, r in zip(states, run_states, strict=True)],
            "job.user.name": [o.actor.login if o.actor is not None else None for o in objs],
            "actor.user.name": [u.login if u is not None else None for u in who],
            "actor.user.uid": [sid(u.id) if u is not None else None for u in who],
            "actor.user.type_id": [k[0] for k in kinds],
            "actor.user.type": [k[1] for k in kinds],
            "status_id": statuses,
            "status": [c.STATUS.get(s) if s else None for s in statuses],
            "status_detail": [o.conclusion for o in objs],
            "start_time": [c.iso_ms(o.started_at) if j else None for o, j in zip(objs, jobs, strict=True)],
            "end_time": [c.iso_ms(o.completed_at) if j else None for o, j in zip(objs, jobs, strict=True)],
            "metadata.tenant_uid": [w.login if w is not None and w.type == "Organization" else None for w in owners],
            "metadata.event_code": ["workflow_job" if j else "workflow_run" for j in jobs],
            "metadata.correlation_uid": [sid(o.run_id if j else o.id) for o, j in zip(objs, jobs, strict=True)],
            "metadata.original_event_uid": [sid(o.id) for o in objs],
            "unmapped": top.unmapped,
        }
        times = [c.first_time(o.completed_at, o.updated_at, o.started_at, o.created_at) for o in objs]
        return c.columns_batch(
            "scheduled_job_activity", fmt=self, raws=raws, times=times,
            activity=[_RUN_ACTIVITY.get(s or "", 99) for s in states], severity=1, columns=cols, checked=True,
        )  # fmt: skip
