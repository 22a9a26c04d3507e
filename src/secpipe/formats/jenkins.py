"""Jenkins build results as JSON: the JSON API (``/job/<name>/<n>/api/json``) and the
Notification plugin payload (``{name, url, build: {number, phase, status, ...}}``).

Input: one object, an array or NDJSON. A record is a build when it has ``number`` with
``result``/``building``/``timestamp`` (API) or ``build.number``/``build.phase`` (plugin);
anything else is dead-lettered. A job's own API document (``/job/x/api/json?depth=1``, or
``?tree=builds[...]``: ``builds``/``allBuilds``, else ``lastBuild``) and a folder's or the root's
(``jobs``, nested) are unwrapped to the builds they list; a build listed without its job's name
in it gets the job's ``fullName`` (``folder/job``). Builds listed as references only (``depth=0``: number and url) hold no
result and are not events; a document holding nothing else is dead-lettered with the query
that fetches the results. Blue Ocean REST API runs (``_class`` ``io.jenkins.blueocean...RunImpl``:
``id`` the build number, ``state`` QUEUED/RUNNING/FINISHED, ``result`` UNKNOWN until it ends,
``startTime`` ISO 8601, ``durationInMillis``; the job is the pipeline path of the run's own
``_links.self.href``, else ``pipeline``; a run naming neither is dead-lettered) are builds too, and so
are the Pipeline Stage View REST API's runs (``/job/x/N/wfapi/describe``, one run, and
``/job/x/wfapi/runs``, an array of them: ``id`` the build number, ``status`` from the plugin's
``StatusExt``, ``startTimeMillis``/``endTimeMillis``/``durationMillis``, ``stages``; the job is the
path of the run's ``_links.self.href``, a run without that link is dead-lettered).

OCSF class: Scheduled Job Activity (1006). A Jenkins build is a run of a job that a
scheduler (Jenkins' queue and executors) starts on a trigger; OCSF has no CI class, and this
is the class whose ``job`` object (name, run state, owner, times) fits a build, the same
choice as GitHub workflow runs and GitLab pipelines, so all CI runs query alike.
- ``job.name`` = job full name (from ``name``, ``fullName`` or the build URL, whose
  percent-encoded names are decoded: ``job/my%20job/`` is ``my job``; a build that names no
  job, as ``?tree=builds[number,result,timestamp,duration]`` lists them, is ``build #<n>``),
  ``job.desc`` = ``fullDisplayName``/``display_name``, ``job.user.name`` = the user
  who started it (cause ``userId``), ``job.last_run_time`` = build start;
- activity: plugin phase QUEUED -> Create, STARTED -> Start, COMPLETED/FINALIZED -> Update
  (FINISHED, the finalization as older plugin versions and the zmq-event-publisher name it, alike);
  API: ``building`` -> Start, else Update. ``job.run_state``: Queued / Running / Stopped.
- status: SUCCESS -> Success; FAILURE, UNSTABLE, ABORTED -> Failure; NOT_BUILT -> Other;
  the Jenkins result word is ``status_detail``. severity: FAILURE High, UNSTABLE/ABORTED
  Medium, otherwise Informational. A Stage View run's ``status`` reads alike (FAILED as FAILURE,
  NOT_EXECUTED as NOT_BUILT; IN_PROGRESS and PAUSED_PENDING_INPUT are a running build, no result);
  its ``stages`` (each stage's status, times and error) stay in ``unmapped``.
- ``metadata.correlation_uid`` = ``<job>#<number>`` (the same build id ``jenkins_log``
  writes), ``duration`` in ms; the plugin's ``build`` object (SCM, parameters, artifacts)
  stays in ``unmapped`` (the class has no resources).
Time: JSON API, Blue Ocean and Stage View: build start plus ``duration`` once the build is finished. The
Notification plugin sends each phase with that phase's own time in ``build.timestamp`` (its
``JobListener``: COMPLETED is start + duration already, FINALIZED the finalization time), which
is the event time; ``job.last_run_time`` is the start where the phase tells it (STARTED,
COMPLETED). Older plugin versions wrote the build's start as a string (``...ss.S+00:00``, ``S``
unpadded milliseconds) with the duration: read like the API's. A ``timestamp`` written as a float is
the same ms (truncated); Blue Ocean's ``startTime`` as an epoch number is seconds or ms (``_cicd.iso_ms``).

The Logstash plugin (``jenkinsci/logstash-plugin``) sends a build as ``{"data": <BuildData>, "message":
[<console lines>], "source": "jenkins", "source_host", "@buildTimestamp", "@timestamp", "@version"}``
(``AbstractLogstashIndexerDao.buildPayload``): one payload at the build's end (its notifier, the
``logstashSend`` step: the last lines of the console) or one a console line (its build wrapper, the
``logstash {}`` step). ``data`` (Gson of ``BuildData``) names the job (``fullProjectName``, else
``projectName``), the number (``buildNum``), ``result`` (null while the build runs: a running build),
``fullDisplayName`` and ``buildDuration`` (the time from the start to the send); ``@buildTimestamp`` is the
build start and ``@timestamp`` the send, the event time (both ``yyyy-MM-dd'T'HH:mm:ss[.SSS]Z``); the lines
are the ``message`` (joined by newlines), ``data`` (host, label, variables, test results) stays in
``unmapped``.

The Audit Trail plugin's Elasticsearch logger posts each audit message as ``{"message": <message>,
"@timestamp": "yyyy-MM-dd'T'HH:mm:ssZ"}`` (``ElasticSearchAuditLogger``): such documents (one, an
array, NDJSON: an index's export, a shipper's file) map as the plugin's log file lines do
(:mod:`._jenkins_audit`: requests API Activity, builds Scheduled Job Activity, logins Authentication,
other messages Base Events), at their ``@timestamp``; auto-detection knows them by a message of
those kinds.
"""

from __future__ import annotations

import functools
import re
from typing import Any
from urllib.parse import unquote

import msgspec
import pyarrow as pa

from secpipe.formats import _cicd as c
from secpipe.formats import _jenkins_audit
from secpipe.formats.base import DeadLetter, Decoded, RecordFormat, Records, TimeField


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
    timestamp: int | float | str | None = None
    duration: int | None = None
    queue_id: int | None = None
    scm: _Scm | None = None


class _Link(msgspec.Struct, gc=False):
    href: str | None = None


class _Links(msgspec.Struct, gc=False):
    self: _Link | None = None


class _Rec(msgspec.Struct, gc=False):
    # JSON API
    klass: str | None = msgspec.field(default=None, name="_class")
    number: int | None = None
    id: str | None = None
    result: str | None = None
    building: bool | None = None
    timestamp: int | float | None = None
    duration: int | None = None
    fullDisplayName: str | None = None
    displayName: str | None = None
    fullName: str | None = None
    url: str | None = None
    builtOn: str | None = None
    actions: list[_Action | None] | None = None
    # Blue Ocean REST API run (``/blue/rest/organizations/o/pipelines/p/runs/N/``)
    state: str | None = None
    startTime: TimeField = None
    durationInMillis: int | None = None
    pipeline: str | None = None
    causes: list[_Cause | None] | None = None
    links: _Links | None = msgspec.field(default=None, name="_links")
    # Pipeline Stage View REST API run (``/job/x/N/wfapi/describe``)
    status: str | None = None
    startTimeMillis: int | float | None = None
    durationMillis: int | None = None
    # Notification plugin
    name: str | None = None
    display_name: str | None = None
    build: _Build | None = None


#: FINISHED: the finalization phase as older Notification plugin versions and the
#: zmq-event-publisher plugin (``onFinalized``) name it
_PHASE_ACT = {"QUEUED": 1, "STARTED": 6, "COMPLETED": 2, "FINALIZED": 2, "FINISHED": 2}
_PHASE_STATE = {"QUEUED": 2, "STARTED": 3, "COMPLETED": 4, "FINALIZED": 4, "FINISHED": 4}
_ENDED = ("COMPLETED", "FINALIZED", "FINISHED")
#: FAILED and NOT_EXECUTED: the Stage View's words (``StatusExt``) for FAILURE and NOT_BUILT
_STATUS = {"SUCCESS": 1, "FAILURE": 2, "FAILED": 2, "UNSTABLE": 2, "ABORTED": 2, "NOT_BUILT": 99, "NOT_EXECUTED": 99}
_SEV = {"FAILURE": 4, "FAILED": 4, "UNSTABLE": 3, "ABORTED": 3}
_JOB_URL = re.compile(r"(?:^|/)job/(.+?)/(\d+)/?$")
_MAPPED = frozenset({"_class", "number", "id", "result", "building", "timestamp", "duration", "fullDisplayName",
                     "displayName", "fullName", "url", "name", "display_name", "state", "startTime",
                     "durationInMillis", "pipeline", "status", "startTimeMillis", "endTimeMillis",
                     "durationMillis"})  # fmt: skip


class _Container(msgspec.Struct, gc=False):
    """A job (``/job/x/api/json``: ``builds``, ``allBuilds``) or a folder/root (``jobs``) document."""

    number: Any = None
    build: Any = None
    fullName: str | None = None
    name: str | None = None
    url: str | None = None
    builds: list[msgspec.Raw] | None = None
    allBuilds: list[msgspec.Raw] | None = None
    lastBuild: msgspec.Raw = msgspec.Raw(b"")
    jobs: list[msgspec.Raw] | None = None


class _BuildRef(msgspec.Struct, gc=False):
    number: Any = None
    result: Any = None
    building: Any = None
    timestamp: Any = None
    url: Any = None
    fullDisplayName: Any = None
    fullName: Any = None


#: an Audit Trail message as the plugin's Elasticsearch documents hold it (``_jenkins_audit``'s
#: requests, build starts and ends, logins), the whole value of a ``message`` key
_AUDIT_MESSAGE = re.compile(
    rb'"message"\s*:\s*"(?:/[^"\s]*(?: \([^"()]*\))? by [^"\s]+(?: from [^"\s]+)?|(?:job/[^"/]+/)+ ?#\d+ [^"]*'
    rb"|(?:Successful login|Failed login attempt|Logout) for user '[^\"]*'|[^\"]* #\d+ [^\"]* completed: [A-Z_]+)\""
)
_CONTAINER = msgspec.json.Decoder(_Container)
_BUILD_REF = msgspec.json.Decoder(_BuildRef)
_CONTAINER_KEYS = (b'"builds"', b'"allBuilds"', b'"lastBuild"', b'"jobs"')
_JOB_URL_ONLY = re.compile(r"(?:^|/)job/(.+?)/?$")
_REFS_ONLY = ("a Jenkins job document whose builds are references only (number and url, no result): fetch it "
              "with ?depth=1 or ?tree=builds[number,url,result,building,timestamp,duration]")  # fmt: skip


def _job_builds(raw: bytes, parent: str | None = None, depth: int = 0) -> tuple[list[bytes], int] | None:
    """The build records inside a job/folder document, and how many builds it listed as mere
    references (no result, building flag or timestamp: nothing to report); None when ``raw``
    is not such a document (a build, a notification, anything else: mapped as it is).

    A job's builds are ``allBuilds``, else ``builds``, else its ``lastBuild`` (a listing such as
    ``tree=jobs[name,lastBuild[number,result,timestamp,duration]]``); a folder's are its
    ``jobs``' (a job's full name is ``folder/job``). A build that names no job (no url or
    display name in it) gets its job's full name as ``fullName``, the key a build record's job
    is read from; the others are kept byte for byte.
    """
    if depth > 8 or not any(k in raw for k in _CONTAINER_KEYS):
        return None
    try:
        doc = _CONTAINER.decode(raw)
    except (msgspec.DecodeError, msgspec.ValidationError):
        return None
    if doc.number is not None or doc.build is not None:
        return None
    builds = doc.allBuilds if doc.allBuilds is not None else doc.builds
    if builds is None and bytes(doc.lastBuild)[:1] == b"{":
        builds = [doc.lastBuild]
    if builds is None and doc.jobs is None:
        return None
    local = doc.name and (f"{parent}/{doc.name}" if parent else doc.name)
    job = doc.fullName or _job_of_url(doc.url) or local or None
    out: list[bytes] = []
    refs = 0
    for item in builds or ():
        text = bytes(item)
        try:
            ref = _BUILD_REF.decode(text)
        except (msgspec.DecodeError, msgspec.ValidationError):
            out.append(text)  # not a build object: dead-lettered with the mapping's reason
            continue
        if ref.result is None and ref.building is None and ref.timestamp is None:
            refs += 1
            continue
        if job and not (ref.url or ref.fullDisplayName or ref.fullName) and text[:1] == b"{" and text != b"{}":
            text = b'{"fullName":' + msgspec.json.encode(job) + b"," + text[1:]
        out.append(text)
    for sub in doc.jobs or ():
        got = _job_builds(bytes(sub), job, depth + 1)
        if got is not None:
            out.extend(got[0])
            refs += got[1]
    return out, refs


def job_of_path(path: str) -> str:
    """``folder/job/my%20job`` (the part of a URL after its first ``job/``) -> ``folder/my job``:
    Jenkins percent-encodes each name in its URLs (``Util.rawEncode``), a name never holds ``/``."""
    return "/".join(unquote(x) for x in path.split("/job/"))


def _job_of_url(url: str | None) -> str | None:
    """``.../job/folder/job/name/`` -> ``folder/name`` (a job's own URL, no build number)."""
    m = _JOB_URL_ONLY.search((url or "").split("?", 1)[0])
    return job_of_path(m.group(1)) if m else None


def job_from_url(url: str | None) -> str | None:
    """``.../job/folder/job/name/42/`` -> ``folder/name``. A build's URL is its job's plus the
    number: the job part is read once per job (cached), not once per build."""
    if not url:
        return None
    path = url.split("?", 1)[0]
    head, _, number = (path[:-1] if path.endswith("/") else path).rpartition("/")
    return _job_part(head) if number.isdecimal() and number.isascii() else None


@functools.lru_cache(maxsize=4096)
def _job_part(head: str) -> str | None:
    """The job of a build URL without its ``/<number>/`` (what :data:`_JOB_URL` reads)."""
    m = _JOB_URL.search(head + "/0")
    return job_of_path(m.group(1)) if m else None


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
        if b'"io.jenkins.blueocean.' in h and b'"state"' in h and b'"id"' in h:
            return 88  # Blue Ocean REST API runs
        if b'/wfapi/describe"' in h and b'"startTimeMillis"' in h and b'"status"' in h:
            return 88  # Pipeline Stage View REST API runs
        if b'"buildNum"' in h and b'"fullProjectName"' in h and b'"buildHost"' in h:
            return 88  # the Logstash plugin's payloads (``BuildData``: Gson writes its fields in this order)
        if b'"@timestamp"' in h and _AUDIT_MESSAGE.search(h):
            return 86  # the Audit Trail plugin's Elasticsearch documents
        return 0

    def split_records(self, data: bytes, source: str) -> Records:
        """Split one document; a job or folder document (JSON API with ``builds``, ``allBuilds``
        or ``jobs``) gives its builds as records (none for a job never built)."""
        recs = super().split_records(data, source)
        if not any(k in data for k in _CONTAINER_KEYS):
            return recs
        out = Records(dead=recs.dead, events=recs.events)
        for raw, loc in zip(recs.raws, recs.locs, strict=True):
            got = _job_builds(raw)
            if got is None:
                out.raws.append(raw)
                out.locs.append(loc)
                continue
            builds, refs = got
            if refs and not builds:
                out.dead.append(DeadLetter(_REFS_ONLY, loc[0], loc[1], raw, self.name))
                continue
            out.raws.extend(builds)
            out.locs.extend([loc] * len(builds))
            out.events += len(builds) - 1  # the document counted as one
        return out

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
        audit: list[tuple[int, _AuditDoc]] = []
        lines: list[str | None] = []
        for i, r, top in zip(idx, typed, tops, strict=True):
            f = _facts(r)
            text = None
            if f is None and (got := _logstash_facts(top)) is not None:
                f, text = got
            if f is None and (doc := _audit_doc(recs.raws[i])) is not None:
                audit.append((i, doc))
                continue
            if f is None:
                src, off = recs.locs[i]
                out.dead.append(DeadLetter(
                    "not a Jenkins build: expected number + result/building (JSON API), build.number/phase "
                    "(Notification plugin), a Blue Ocean run (id + state + pipeline or _links.self), a Stage "
                    "View run (status + _links.self to its job/N/wfapi/describe) or a Logstash plugin payload "
                    "(data.buildNum + @buildTimestamp)", src, off, recs.raws[i], self.name))  # fmt: skip
                continue
            keep.append(i)
            facts.append(f)
            keep_tops.append(top)
            lines.append(text)
        if keep:
            out.batches.append(_batch(self, [recs.raws[i] for i in keep], facts, keep_tops, lines))
        if audit:
            _jenkins_audit.documents([d.message for _, d in audit], [c.iso_ms(d.timestamp) for _, d in audit],
                                     [recs.raws[i] for i, _ in audit], self.name, self.product, self.vendor, out)  # fmt: skip
        return out


class _AuditDoc(msgspec.Struct, gc=False):
    """A document of the Audit Trail plugin's Elasticsearch logger (``ElasticSearchSender.getHttpPost``)."""

    message: str
    timestamp: str = msgspec.field(name="@timestamp")


_AUDIT_DOC = msgspec.json.Decoder(_AuditDoc)


def _audit_doc(raw: bytes) -> _AuditDoc | None:
    """``raw`` as an Audit Trail document (a ``message`` and an ``@timestamp``, both text), else None."""
    try:
        return _AUDIT_DOC.decode(raw)
    except msgspec.DecodeError:
        return None


#: the Notification plugin's older string ``timestamp``: SimpleDateFormat ``yyyy-MM-dd'T'HH:mm:ss.Sz``
#: with ``UTC`` written ``+00:00``; ``S`` is the millisecond count, unpadded (``.5`` is 5 ms)
_PLUGIN_TIME = re.compile(r"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)\.(\d{1,3})(Z|[+-]\d\d:?\d\d)")


def _plugin_times(b: _Build, phase: str) -> tuple[float | None, float | None]:
    """(build start, event time) of a Notification plugin payload.

    The plugin's ``JobListener`` sends each phase with its own time in ``build.timestamp`` (ms):
    QUEUED the time the build entered the queue, STARTED the build start, COMPLETED start +
    duration, FINALIZED the time of finalization; so the event time is the timestamp, and the start
    is known for STARTED and COMPLETED. Older plugin versions wrote the build's timestamp as a string
    with its ``duration``: that is the build start, and a finished build ends at start + duration.
    """
    ts = b.timestamp
    if isinstance(ts, str):
        m = _PLUGIN_TIME.fullmatch(ts.strip())
        start = c.iso_ms(f"{m.group(1)}{m.group(3)}") if m else c.iso_ms(ts)
        if m and start is not None:
            start += int(m.group(2))
        return start, _end(start, b.duration, phase in _ENDED)
    if ts is None:
        return None, None
    return {"STARTED": ts, "COMPLETED": ts - (b.duration or 0)}.get(phase), ts  # (a float: ms, truncated in the column)


def _end(start: float | None, duration: int | None, finished: bool) -> float | None:
    """A build's event time: its start, plus its duration once it is finished."""
    return start + (duration or 0) if start is not None and finished else start


def _facts(r: _Rec) -> tuple[Any, ...] | None:
    """(job, desc, user, number, started, duration, result, phase, finished, activity, state, time) of a build."""
    b = r.build
    if b is not None and b.number is not None:
        phase = (b.phase or "").upper()
        job = r.name or job_from_url(b.full_url or b.url)
        start, when = _plugin_times(b, phase)
        return (job, r.display_name, None, b.number, start, b.duration, (b.status or "").upper() or None,
                phase or None, phase in _ENDED, _PHASE_ACT.get(phase, 99), _PHASE_STATE.get(phase, 99),
                when)  # fmt: skip
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
                "BUILDING" if building else "COMPLETED", not building, 6 if building else 2, 3 if building else 4,
                _end(r.timestamp, r.duration, not building))  # fmt: skip
    if r.klass and "blueocean" in r.klass and r.id and r.id.isdigit() and (r.state or r.result):
        facts = _blue_facts(r)
        return facts if facts[0] else None  # a run naming no pipeline is no build of a known job
    if r.status and r.links and r.links.self and r.links.self.href:
        return _wfapi_facts(r, r.links.self.href)
    return None


_BLUE_HREF = re.compile(r"/pipelines/(.+?)/runs/\d+/?$")
#: Blue Ocean run state -> (phase, activity, run_state_id, finished)
_BLUE_STATE = {"QUEUED": ("QUEUED", 1, 2, False), "RUNNING": ("BUILDING", 6, 3, False),
               "PAUSED": ("BUILDING", 99, 3, False), "SKIPPED": ("COMPLETED", 2, 4, True),
               "NOT_BUILT": ("COMPLETED", 2, 4, True), "FINISHED": ("COMPLETED", 2, 4, True)}  # fmt: skip


def _blue_facts(r: _Rec) -> tuple[Any, ...]:
    """A Blue Ocean run: ``id`` is the build number, ``state`` the run state, ``result``
    UNKNOWN while it runs, ``startTime`` ISO 8601 with a ``+0100`` offset; its job is the
    pipeline path of its own link (``/pipelines/folder/pipelines/p/branches/b/runs/N/`` ->
    ``folder/p/b``), else ``pipeline``."""
    href = r.links.self.href if r.links and r.links.self else None
    m = _BLUE_HREF.search((href or "").split("?", 1)[0])
    job = re.sub(r"/(?:pipelines|branches)/", "/", m.group(1)) if m else r.pipeline
    user = next((cz.userId for cz in r.causes or () if cz is not None and cz.userId), None)
    phase, act, state, finished = _BLUE_STATE.get((r.state or "").upper(), ("COMPLETED", 2, 4, True))
    result = None if (r.result or "UNKNOWN").upper() == "UNKNOWN" else r.result
    start = c.iso_ms(r.startTime)
    return (job, r.fullDisplayName or r.displayName, user, int(r.id or 0), start, r.durationInMillis,
            result, phase, finished, act, state, _end(start, r.durationInMillis, finished))  # fmt: skip


#: a Stage View run still going: (phase, activity, run_state_id) as a Blue Ocean run's RUNNING/PAUSED
_WFAPI_RUNNING = {"IN_PROGRESS": ("BUILDING", 6, 3), "PAUSED_PENDING_INPUT": ("BUILDING", 99, 3)}


def _wfapi_facts(r: _Rec, href: str) -> tuple[Any, ...] | None:
    """A Pipeline Stage View run (``StatusExt``: SUCCESS, FAILED, UNSTABLE, ABORTED, NOT_EXECUTED,
    IN_PROGRESS, PAUSED_PENDING_INPUT). Its link names the job and the build number
    (``/jenkins/job/f/job/p/12/wfapi/describe`` -> ``f/p`` #12; ``id`` was the build's timestamp id
    before Jenkins 1.597); a stage's link (``.../12/execution/node/5/wfapi/describe``) or a job's is
    no build. A start of 0 is a run not started."""
    head = href.split("?", 1)[0].removesuffix("wfapi/describe")
    job = job_from_url(head) if len(head) < len(href) and "/execution/" not in head else None
    if not job:
        return None
    status = (r.status or "").upper()
    phase, act, state = _WFAPI_RUNNING.get(status, ("COMPLETED", 2, 4))
    finished = status not in _WFAPI_RUNNING
    start = r.startTimeMillis or None
    return (job, r.name, None, int(head.rstrip("/").rpartition("/")[2]), start, r.durationMillis,
            status if finished else None, phase, finished, act, state, _end(start, r.durationMillis, finished))  # fmt: skip


class _LogstashBuild(msgspec.Struct, gc=False):
    """The ``data`` of a Logstash plugin payload (``BuildData``), the fields mapped."""

    result: str | None = None
    projectName: str | None = None
    fullProjectName: str | None = None
    fullDisplayName: str | None = None
    url: str | None = None
    buildNum: int | None = None
    buildDuration: int | None = None


_LOGSTASH_BUILD = msgspec.json.Decoder(_LogstashBuild)
_LINES = msgspec.json.Decoder(list[str])
_TEXT = msgspec.json.Decoder(str)


def _logstash_facts(top: dict[str, msgspec.Raw]) -> tuple[tuple[Any, ...], str | None] | None:
    """A Logstash plugin payload's build facts (as :func:`_facts` gives them) and its console
    lines as one text; None when ``top`` is no such payload (no ``data`` with ``buildNum`` beside
    an ``@buildTimestamp``). The payload's own keys leave ``top`` (``data`` stays in it)."""
    if "data" not in top or "@buildTimestamp" not in top:
        return None
    try:
        d = _LOGSTASH_BUILD.decode(top["data"])
        start = c.iso_ms(_TEXT.decode(top["@buildTimestamp"]))
        sent = c.iso_ms(_TEXT.decode(top["@timestamp"])) if "@timestamp" in top else None
        lines = _LINES.decode(top["message"]) if "message" in top else None
    except (msgspec.DecodeError, msgspec.ValidationError):
        return None
    if d.buildNum is None:
        return None
    for k in ("message", "@buildTimestamp", "@timestamp"):
        top.pop(k, None)
    finished = d.result is not None
    job = d.fullProjectName or d.projectName or job_from_url(d.url)
    phase, act, state = ("COMPLETED", 2, 4) if finished else ("BUILDING", 6, 3)
    when = sent if sent is not None else _end(start, d.buildDuration, finished)
    return ((job, d.fullDisplayName, None, d.buildNum, start, d.buildDuration, d.result, phase, finished, act, state,
             when), "\n".join(lines) if lines else None)  # fmt: skip


_INT64_MIN, _INT64_MAX = -(2**63), 2**63 - 1


def _batch(fmt: Jenkins, raws: list[bytes], facts: list[tuple[Any, ...]], tops: list[dict[str, msgspec.Raw]],
           lines: list[str | None]) -> Any:
    """Columns of Scheduled Job Activity from the per-build facts (one comprehension per field)."""
    (jobs, descs, users, numbers, started, durations, results, phases, finished, acts, states, times) = (
        list(col) for col in zip(*facts, strict=True)
    )
    if any(v is not None and not _INT64_MIN <= v <= _INT64_MAX for v in (*started, *durations, *times)):
        # a time or duration beyond the int64 column (JSON ints have no bound, a float ms is truncated
        # into it): none, as iso_ms reads one
        started, durations, times = ([None if v is not None and not _INT64_MIN <= v <= _INT64_MAX else v
                                      for v in col] for col in (started, durations, times))  # fmt: skip
    status = [_STATUS.get(x) if x else None for x in results]
    cols = {
        # OCSF requires job.name: a build that names no job (``?tree=builds[number,result,...]``
        # without ``fullName`` or ``url``) is named by its number, as GitHub's runs by their id
        "job.name": [j or f"build #{n}" for j, n in zip(jobs, numbers, strict=True)],
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
        "message": lines,
        "unmapped": c.unmapped_rest(tops, _MAPPED),
    }
    sev = pa.array([_SEV.get(x or "", 1) for x in results], pa.int32())
    # raws are records of split_records: UTF-8 checked there (build items are value slices of such records)
    return c.columns_batch("scheduled_job_activity", fmt=fmt, raws=raws, times=times, activity=acts, severity=sev,
                           columns=cols, checked=True)  # fmt: skip
