"""GitHub Actions REST API answers: workflow runs and jobs, as CI/CD audits archive them.

Accepted input: what ``gh api``, ``curl`` and exporters write from the Actions REST API
(``components/schemas`` ``workflow-run`` and ``job`` of GitHub's REST API description):
- ``GET /repos/{owner}/{repo}/actions/runs`` (and ``.../workflows/{id}/runs``): a page
  ``{"total_count": N, "workflow_runs": [run, ...]}``; ``GET .../actions/runs/{run_id}``: one run;
- ``GET .../actions/runs/{run_id}/jobs`` (and ``.../attempts/{n}/jobs``): a page
  ``{"total_count": N, "jobs": [job, ...]}``; ``GET .../actions/jobs/{job_id}``: one job;
- pages back to back or one a line (``gh api --paginate``), runs or jobs one a line, arrays of them;
- the gh CLI's JSON of them: ``gh run list --json <fields>`` (an array of runs, cli/cli's ``RunFields``:
  ``databaseId``, ``workflowDatabaseId``, ``number``, ``displayTitle``, ``createdAt``...) and ``gh run
  view --json jobs`` (``{"jobs": [...]}``, a job's ``url`` naming its run), each read as the REST
  object it renders (msgspec's path).
A run has ``workflow_id`` and ``run_number``, a job ``run_id`` (and ``steps``, ``run_url``);
a record with neither, or whose fields have the wrong JSON types, is dead-lettered with the reason.
A page holding a lone surrogate escape (legal JSON, RFC 8259 §8.2, but no Unicode text; msgspec refuses
the whole page for it) is read with U+FFFD in its place, as every JSON document is.

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

Volume: a page holds up to 100 objects (~6 KB a run); one native pass compacts a pretty page and
cuts out its items (:func:`~secpipe.formats._fast.compact_doc`), then one native walk of the items
(:func:`~secpipe.formats._fast.extract`) gives every typed field as an Arrow column, the ``unmapped``
JSON (every key but the mapped ones, sorted: the unmapped keys the mapping also reads, a run's
``workflow_id``, ``run_number``, ``updated_at`` and the repository's owner, are read and kept there
in the same walk, ``Spec.keep``), ``raw_data`` and the uids. The batch is then made a column at a time with Arrow
kernels (the few distinct values of ``path``, ``status``, ``conclusion`` and the user types looked up
once each). A batch the walk declines (a value of another JSON type, a duplicate or escaped key,
text that is not UTF-8) or holding a record that is neither run nor job takes msgspec's path
(:class:`~secpipe.formats._findings.CheckedTopFormat`), which dead-letters exactly the bad records
and maps the others with the same columns.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import msgspec
import numpy as np
import pyarrow as pa

from secpipe import _compute as pc
from secpipe._arrays import from_numpy, nonempty
from secpipe.formats import _cicd as c
from secpipe.formats import _fast
from secpipe.formats._findings import CheckedTopFormat, TopLevel, paused_gc
from secpipe.formats._github_map import (
    _FAIL_CONCLUSIONS,
    _RUN_ACTIVITY,
    _RUN_STATE,
    _RUN_STATE_CAPTION,
    _USER_TYPE,
)
from secpipe.formats._uids import uid_prefix
from secpipe.formats.base import (
    BOM,
    UNREADABLE,
    DeadLetter,
    Decoded,
    Records,
    _compact,
    _utf8_only,
    base_columns,
    const,
    event_uids,
    lone_surrogates_mended,
    string_column,
    to_batch,
)


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
    # the gh CLI's names of the same fields (``gh run list --json``, ``gh run view --json jobs``)
    databaseId: int | None = None
    workflowDatabaseId: int | None = None
    number: int | None = None
    workflowName: str | None = None
    displayTitle: str | None = None
    createdAt: str | None = None
    updatedAt: str | None = None
    startedAt: str | None = None
    completedAt: str | None = None
    url: str | None = None


class _Page(msgspec.Struct, gc=False):
    workflow_runs: list[msgspec.Raw] | None = None
    jobs: list[msgspec.Raw] | None = None


_PAGE = msgspec.json.Decoder(_Page)
_MAPPED = frozenset({"id", "run_id", "name", "workflow_name", "display_title", "path", "status", "conclusion",
                     "created_at", "run_started_at", "started_at", "completed_at", "actor", "triggering_actor"})  # fmt: skip
#: the gh CLI's fields the mapping reads (cli/cli ``pkg/cmd/run/shared``: ``RunFields``; a job's)
_GH_MAPPED = frozenset({"databaseId", "workflowDatabaseId", "number", "name", "workflowName", "displayTitle", "status",
                        "conclusion", "createdAt", "updatedAt", "startedAt", "completedAt"})  # fmt: skip
#: a gh CLI job's ``url`` (``https://github.com/o/r/actions/runs/<run id>/job/<job id>``)
_GH_JOB_URL = re.compile(r"/actions/runs/(\d+)/job/\d+")
_OK_CONCLUSIONS = frozenset({"success", "neutral", "skipped"})
#: a page's list key (its items are then runs or jobs); searched in a compact page's first bytes
_PAGE_KEY = re.compile(rb'"(?:workflow_runs|jobs)":\[')
#: a key only a webhook payload or an audit-log event has at the top (never a run or job object's)
_NOT_API = re.compile(rb'(?<!\\)"(?:action|sender|workflow_run|workflow_job|hook_id)"\s*:')
#: a page's first key up to its list (``total_count`` first, as the API writes it, or the list alone)
_PAGE_HEAD = re.compile(rb'\{\s*(?:"total_count"\s*:\s*\d+\s*,\s*)?"(workflow_runs|jobs)"\s*:\s*\[')
_RUNS = re.compile(rb'"workflow_runs"\s*:\s*\[')
#: a page's list key in a record as written (a line the split dead-lettered: compact or not)
_PAGE_AT = re.compile(rb'"(?:workflow_runs|jobs)"\s*:\s*\[')
_JOBS = re.compile(rb'"jobs"\s*:\s*\[')
_CLASS = "scheduled_job_activity"
#: the walk's spec: all of ``_Object``'s typed fields, ``triggering_actor`` also whole (an object without a
#: login is still the actor: msgspec's path reads it so); ``unmapped`` is every key but the mapped ones,
#: sorted, the unmapped keys the mapping reads (``_READ``) included: the walk keeps them there
_TYPED = _fast.struct_spec(_Object)
#: (and the gh CLI's fields, ``url`` a REST object's too: walked so that the walk refuses a value of another type
#: where msgspec's path does, as for every field of ``_Object``, and kept in ``unmapped``)
_READ = ("workflow_id", "run_number", "updated_at", "repository", *sorted((_GH_MAPPED - _MAPPED) | {"url"}))
_SPEC = _fast.Spec((*(p for p in _TYPED if p[0].split(".")[0] in (*_MAPPED, *_READ)), ("triggering_actor.@", _fast.RAW)),
                   (), (), keep=_READ)  # fmt: skip
_UID_PREFIX = uid_prefix("github_actions")


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


def _page_items(page: bytes) -> list[msgspec.Raw] | None:
    """The items of a page (msgspec's views), None when its list key holds something else."""
    items = _PAGE.decode(page)
    return items.workflow_runs if items.workflow_runs is not None else items.jobs


def _items(page: bytes) -> list[bytes] | None:
    """The items of a page, compact, or None when ``page`` is no page (a list key holding something
    else, or not JSON: the general split then maps or dead-letters it as a record)."""
    try:
        found = _page_items(page)
        return None if found is None else [_compact(bytes(r)) for r in found]
    except UNREADABLE:
        return None


class GitHubActions(CheckedTopFormat):
    """GitHub Actions REST API workflow runs and jobs (pages or single objects)."""

    name = "github_actions"
    record_type = _Object
    mapped = _MAPPED | _GH_MAPPED
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
        if b'"databaseId"' in h and (b'"workflowDatabaseId"' in h or (b'"steps"' in h and _GH_JOB_URL.search(h.decode("latin-1")))):
            return 88  # the gh CLI's runs (``gh run list --json``) or jobs (``gh run view --json jobs``)
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
        pages = [d for d in recs.dead if _PAGE_AT.search(d.raw, 0, 4096)]  # refused: for a lone surrogate?
        if not pages and not any(_PAGE_KEY.search(r, 0, 4096) for r in recs.raws):
            return recs
        raws: list[bytes] = []
        locs: list[tuple[str, int]] = []
        dead = [d for d in recs.dead if not _PAGE_AT.search(d.raw, 0, 4096)]
        for raw, loc in zip(recs.raws, recs.locs, strict=True):
            page = _PAGE_KEY.search(raw, 0, 4096) is not None
            items = _items(raw) if page else None
            if page and items is None and (got := self._past_surrogates(raw, loc[0])) is not None:
                self._add(got, loc, raws, locs, dead)
                continue
            raws += [raw] if items is None else items
            locs += [loc] * (1 if items is None else len(items))
        for refused in pages:
            got = self._past_surrogates(refused.raw, refused.source)
            if got is None:
                dead.append(refused)
            else:
                self._add(got, (refused.source, refused.offset), raws, locs, dead)
        return Records(raws, locs, dead, len(raws) + len(dead))

    @staticmethod
    def _add(got: tuple[list[bytes], list[int], list[DeadLetter]], loc: tuple[str, int], raws: list[bytes],
             locs: list[tuple[str, int]], dead: list[DeadLetter]) -> None:
        """A page's items (:meth:`_past_surrogates`) added at the page's place, its dead letters too."""
        raws += got[0]
        locs += [loc] * len(got[0])
        dead += [DeadLetter(d.reason, d.source, loc[1], d.raw, d.format) for d in got[2]]

    def _past_surrogates(self, page: bytes, source: str) -> tuple[list[bytes], list[int], list[DeadLetter]] | None:
        """The items of a page msgspec refused for lone surrogate escapes (legal JSON, RFC 8259
        §8.2: a title cut inside an emoji), read with U+FFFD in their place as every JSON document is
        (:func:`~secpipe.formats.base.lone_surrogates_mended`: a run is stored whatever its title holds);
        None for any other page."""
        mended = lone_surrogates_mended(page)
        items = None if mended is None else _items(mended)
        # (an item that is not UTF-8 either is dead-lettered, as the split dead-letters one)
        return None if items is None else _utf8_only(items, list(range(len(items))), [], source, self.name)

    def _one_page(self, data: bytes, source: str) -> Records | None:
        """The items of a document that is one page (the common case: one answer a file, pretty
        as api.github.com writes it), split natively where the extension is; None for anything else.
        An item that is not UTF-8 is dead-lettered alone."""
        text = data.removeprefix(BOM).lstrip()
        m = _PAGE_HEAD.match(text) if text[:1] == b"{" else None
        if m is None:
            return None
        key = m.group(1).decode()
        items = _fast.split_envelope(text, key, (), strict=True)  # a compact page
        if items is None and (doc := _fast.compact_doc(text, key, utf8=True)) is not None and doc[1] is not None:
            # a pretty page, compacted and split in one pass, its text checked UTF-8 there (in the CPU cache:
            # ~0.2 us a run less than the items' check below), so each item is
            return Records(doc[1], [(source, i) for i in range(len(doc[1]))], [], len(doc[1]))
        if items is None and (doc := _fast.compact_doc(text, key)) is not None:
            items = doc[1]  # (a page holding text that is not UTF-8: its items checked one by one below)
        if items is None:
            items = _items(text)  # without the extension (the same items, each made compact)
        if items is None:
            got = self._past_surrogates(text, source)
            return None if got is None else Records(got[0], [(source, i) for i in got[1]], got[2], len(got[0]) + len(got[2]))
        raws, idx, dead = _utf8_only(items, list(range(len(items))), [], source, self.name)
        return Records(raws, [(source, i) for i in idx], dead, len(items))

    def is_valid(self, rec: _Object) -> bool:
        """An id, and a run's workflow id and number or a job's run id (the gh CLI's names too)."""
        rec = _rest(rec)
        return rec.id is not None and (rec.run_id is not None or (rec.workflow_id is not None and rec.run_number is not None))

    def map_records(self, recs: Records) -> Decoded:
        """The native walks' batch (:func:`_walked`), else msgspec's path (:meth:`map_top`)."""
        with paused_gc():
            batch = _walked(recs.raws) if recs.raws else None
        if batch is None:
            return super().map_records(recs)
        return Decoded(batches=[batch], dead=list(recs.dead), events=recs.events)

    def map_top(self, objs: list[_Object], top: TopLevel, raws: list[bytes]) -> pa.RecordBatch:
        objs = [_rest(o) for o in objs]
        return _batch(_object_fields(objs), top.unmapped, event_uids(self.name, raws), string_column(raws, checked=True))


def _rest(o: _Object) -> _Object:
    """A gh CLI run or job (``databaseId``...) as the REST API's object of it: a run's ``startedAt`` is
    its ``run_started_at``; a job (no ``workflowDatabaseId``) has its run's id in its ``url``."""
    if o.databaseId is None or o.id is not None:
        return o
    run = _GH_JOB_URL.search(o.url or "") if o.workflowDatabaseId is None else None
    return msgspec.structs.replace(
        o, id=o.databaseId, run_id=int(run.group(1)) if run else None, workflow_id=o.workflowDatabaseId,
        run_number=o.number, workflow_name=o.workflowName if run else None, display_title=o.displayTitle,
        name=o.name or o.workflowName, created_at=o.createdAt, updated_at=o.updatedAt,
        run_started_at=None if run else o.startedAt, started_at=o.startedAt if run else None, completed_at=o.completedAt,
    )  # fmt: skip


def _walked(raws: list[bytes]) -> pa.RecordBatch | None:
    """The batch of the records from the native walk, or None: the walk declined a record
    (see :func:`_fast.extract`), or one is neither run nor job (msgspec's path dead-letters it)."""
    cols = _fast.extract(raws, _SPEC, whole=True, uid_prefix=_UID_PREFIX)
    if cols is None or cols.raw is None:
        return None
    f = dict(cols.strings)
    if not _all_valid(f):
        return None
    f["triggering_actor"] = _objects(f.pop("triggering_actor.@"))
    return _batch(f, cols.unmapped, cols.uids, cols.raw)


def _all_valid(f: dict[str, pa.Array]) -> bool:
    """Every record has an id, and a run id (a job) or a workflow id and run number (a run): see
    :meth:`GitHubActions.is_valid` (from the null counts alone when a page holds jobs or runs only)."""
    if f["id"].null_count:
        return False
    if not f["run_id"].null_count or not (f["workflow_id"].null_count or f["run_number"].null_count):
        return True
    run = pc.and_(pc.is_valid(f["workflow_id"]), pc.is_valid(f["run_number"]))
    return bool(pc.all(pc.or_(pc.is_valid(f["run_id"]), run)).as_py())


def _objects(raw: pa.Array) -> pa.Array:
    """Per row: the raw JSON text is an object (not absent, not ``null``): its first byte, ``{``."""
    if raw.null_count == len(raw):
        return const(False, len(raw))
    if raw.null_count:
        return pc.fill_null(pc.starts_with(raw, "{"), False)
    offsets = np.frombuffer(raw.buffers()[1], np.int32, len(raw) + 1, raw.offset * 4)
    return from_numpy(np.frombuffer(raw.buffers()[2], np.uint8)[offsets[:-1]] == ord("{"))


def _object_fields(objs: list[_Object]) -> dict[str, pa.Array]:
    """The columns :func:`_batch` reads, from msgspec's records (ids as text: numbers past int64 kept)."""
    f = {k: pa.array([getattr(o, k) for o in objs], pa.string()) for k in _TEXTS}
    f |= {k: pa.array([c.sid(getattr(o, k)) for o in objs], pa.string()) for k in ("id", "run_id")}
    for who in ("actor", "triggering_actor"):
        users = [getattr(o, who) for o in objs]
        f[who + ".login"] = pa.array([u.login if u is not None else None for u in users], pa.string())
        f[who + ".id"] = pa.array([c.sid(u.id) if u is not None else None for u in users], pa.string())
        f[who + ".type"] = pa.array([u.type if u is not None else None for u in users], pa.string())
    f["triggering_actor"] = pa.array([o.triggering_actor is not None for o in objs], pa.bool_())
    owners = [o.repository.owner if o.repository is not None else None for o in objs]
    f["repository.owner.login"] = pa.array([w.login if w is not None else None for w in owners], pa.string())
    f["repository.owner.type"] = pa.array([w.type if w is not None else None for w in owners], pa.string())
    return f


_TEXTS = ("name", "workflow_name", "display_title", "path", "status", "conclusion", "created_at", "updated_at",
          "run_started_at", "started_at", "completed_at")  # fmt: skip


def _batch(f: dict[str, pa.Array], unmapped: pa.Array, uids: pa.Array, raw: pa.Array) -> pa.RecordBatch:
    """The Scheduled Job Activity batch of records' field columns (keyed by record path). A batch
    of runs alone or jobs alone (a page) takes no kernel for a choice its rows all make alike."""
    n = len(raw)
    jobs = pc.is_valid(f["run_id"])
    kind = _pick(jobs, _JOB, _RUN)
    uid = _text(f["id"])
    path = _distinct(f["path"])
    file_path, file_name, file_type_id, file_type = _files(path)

    def unnamed() -> pa.Array:  # OCSF requires job.name: an object naming neither workflow nor job is named by its file, else its id
        return _pick(pc.is_valid(file_path), file_name, pc.binary_join_element_wise(kind, uid, " "))

    state = _distinct(f["status"])
    conclusion = _distinct(f["conclusion"])
    tri = f["triggering_actor"]
    who = {k: _pick(tri, f["triggering_actor." + k], f["actor." + k]) for k in ("login", "id", "type")}
    kinds = _distinct(who["type"])
    started, completed, created = _ms(f["started_at"]), _ms(f["completed_at"]), _ms(f["created_at"])
    files = {  # the file's fields together (a path without a name, ``dir/``, keeps its null name)
        "job.file.path": file_path,
        "job.file.name": file_name,
        "job.file.type_id": file_type_id,
        "job.file.type": file_type,
    } if file_path.null_count < n else {}  # fmt: skip
    cols = {
        "job.name": _or(f["workflow_name"], f["name"], unnamed),
        "job.desc": _or(f["display_title"], lambda: _pick(jobs, f["name"], pa.nulls(n, pa.string()))),
        **files,
        "job.created_time": created,
        "job.last_run_time": _first(_ms(f["run_started_at"]), lambda: started),
        "job.run_state_id": _each(state, _run_state, pa.int32()),
        "job.run_state": _each(state, _run_state_caption, pa.string()),
        "job.user.name": f["actor.login"],
        "actor.user.name": who["login"],
        "actor.user.uid": _text(who["id"]),
        "actor.user.type_id": _each(kinds, lambda t: _USER_TYPE.get(t, (99, t))[0] if t else None, pa.int32()),
        "actor.user.type": _each(kinds, lambda t: _USER_TYPE.get(t, (99, t))[1] if t else None, pa.string()),
        "status_id": _each(conclusion, _status, pa.int32()),
        "status": _each(conclusion, lambda x: c.STATUS.get(s) if (s := _status(x)) else None, pa.string()),
        "status_detail": f["conclusion"],
        "start_time": _pick(jobs, started, pa.nulls(n, pa.int64())),
        "end_time": _pick(jobs, completed, pa.nulls(n, pa.int64())),
        "metadata.tenant_uid": _pick(_equal(f["repository.owner.type"], "Organization"), f["repository.owner.login"],
                                     pa.nulls(n, pa.string())),  # fmt: skip
        "metadata.event_code": kind,
        "metadata.correlation_uid": _pick(jobs, _text(f["run_id"]), uid),
        "metadata.original_event_uid": uid,
        "unmapped": unmapped,
    }
    base = base_columns(
        _CLASS, kind=GitHubActions.name, product=GitHubActions.product, vendor=GitHubActions.vendor, uids=uids,
        times_ms=_first(completed, lambda: _ms(f["updated_at"]), lambda: started, lambda: created), raws=raw,
        activity_id=_activity(state), severity_id=1,
    )  # fmt: skip
    return to_batch(_CLASS, base | {k: _typed(k, v) for k, v in cols.items() if v.null_count < len(v) or k in files})


_JOB, _RUN = pa.scalar("workflow_job"), pa.scalar("workflow_run")


def _pick(cond: pa.Array, yes: pa.Array | pa.Scalar, no: pa.Array | pa.Scalar) -> pa.Array:
    """``if_else(cond, yes, no)``; no kernel when ``cond`` (no null) holds alike in every row."""
    if cond.null_count == 0 and cond.true_count in (0, len(cond)):
        got = yes if cond.true_count else no
        return const(got.as_py(), len(cond), got.type) if isinstance(got, pa.Scalar) else got
    return pc.if_else(cond, yes, no)


def _equal(col: pa.Array, value: str) -> pa.Array:
    """Per row: ``col`` holds ``value`` (false where null)."""
    same = pc.equal(col, value)
    return pc.fill_null(same, False) if same.null_count else same


def _or(first: pa.Array, *rest: pa.Array | Callable[[], pa.Array]) -> pa.Array:
    """Python's ``a or b or ...`` a row of text columns: the first non-empty text, else the last
    column's (a callable gives its column, called only when a row needs it)."""
    out = first
    for col in rest:
        if out.null_count == len(out):
            out = col() if callable(col) else col
            continue
        full = nonempty(out)
        if full.true_count == len(out):
            break
        out = _pick(full, out, col() if callable(col) else col)
    return out


def _first(first: pa.Array, *rest: Callable[[], pa.Array]) -> pa.Array:
    """``coalesce`` of columns, a later one made only when a row needs it."""
    out = first
    for col in rest:
        if not out.null_count:
            break
        out = col() if out.null_count == len(out) else pc.coalesce(out, col())
    return out


def _distinct(col: pa.Array) -> pa.DictionaryArray:
    """``col`` as its distinct values (null one of them) and each row's index into them."""
    return pc.dictionary_encode(col, null_encoding="encode")


def _each(col: pa.DictionaryArray, fn: Callable[[Any], Any], type_: pa.DataType | None) -> pa.Array:
    """``fn`` of each row's value, called once a distinct value (the column made at once when one is all)."""
    return _each_of(col, [fn(v) for v in col.dictionary.to_pylist()], type_)


def _each_of(col: pa.DictionaryArray, values: list[Any], type_: pa.DataType | None) -> pa.Array:
    """Each row's value of ``values`` (one a distinct value of ``col``, in its dictionary's order)."""
    if len(values) == 1:
        return const(values[0], len(col), type_)
    return pa.array(values, type_).take(col.indices)


def _files(path: pa.DictionaryArray) -> tuple[pa.Array, pa.Array, pa.Array, pa.Array]:
    """``job.file``'s path, name, type_id and type columns (:func:`_file` of each distinct path, once)."""
    files = [_file(p) for p in path.dictionary.to_pylist()]
    return tuple(_each_of(path, [f and f[k] for f in files], t) for k, t in _FILE_FIELDS)  # type: ignore[return-value]


_FILE_FIELDS = (("path", pa.string()), ("name", pa.string()), ("type_id", pa.int32()), ("type", pa.string()))


def _activity(state: pa.DictionaryArray) -> pa.Array | int:
    """Each row's activity id (from its status: the webhooks' table), one int when the rows share
    it (a page's runs are all completed: ``base_columns`` then makes its caption once)."""
    ids = [_RUN_ACTIVITY.get(s or "", 99) for s in state.dictionary.to_pylist()]
    return ids[0] if len(ids) == 1 else pa.array(ids, pa.int32()).take(state.indices)


def _ms(col: pa.Array) -> pa.Array:
    """Times (:func:`~secpipe.formats._cicd.iso_ms`) of a text column: GitHub's own form by the native
    parser ``iso_ms`` itself tries first (called directly: ~7 us a page's column less), the rest by ``iso_ms``."""
    if col.null_count == len(col):
        return pa.nulls(len(col), pa.int64())
    if (got_all := _fast.iso_ms_column(col)) is not None:
        return got_all  # each value in GitHub's form: the column in one native pass (~0.4 us a value less)
    iso, values = c.iso_ms, col.to_pylist()
    native = c._iso_native()
    got = [iso(v) for v in values] if native is None else list(map(native, values))
    if None in got:
        got = [iso(v) if ms is None else ms for ms, v in zip(got, values, strict=True)]
    return pa.array(got, pa.int64())


def _typed(path: str, col: pa.Array) -> pa.Array:
    """``col`` as the OCSF type of ``path`` (objects as they are: conformed with the batch)."""
    type_ = c._type(_CLASS, path)
    return col if type_ is None or col.type == type_ else col.cast(type_)


def _run_state(status: str | None) -> int:
    return _RUN_STATE.get(status or "", 99)


def _run_state_caption(status: str | None) -> str | None:
    state = _run_state(status)
    return status if state == 99 else _RUN_STATE_CAPTION[state]


def _text(ids: pa.Array) -> pa.Array:
    """Ids as text (the walks' int64 columns: as :func:`~secpipe.formats._cicd.sid` writes them)."""
    if ids.type == pa.string():
        return ids
    if ids.null_count == len(ids):
        return pa.nulls(len(ids), pa.string())
    text = _fast.int_text_column(ids)  # the cast's text, natively (~9 us a page's column less)
    return ids.cast(pa.string()) if text is None else text
