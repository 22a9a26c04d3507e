"""Jenkins Audit Trail plugin log files (``LogFileAuditLogger``, ``LogFileDailyRotationAuditLogger``),
read by :mod:`secpipe.formats.jenkins_log`.

What the plugin writes (jenkinsci/audit-trail-plugin): each line is the time as
``SimpleDateFormat("MMM d, yyyy h:mm:ss,SSS aa")`` (the Jenkins server's local time, no zone:
taken as UTC, as BSD syslog times are), the logger's separator (a space by default, configurable,
often empty) and one message:

- a request whose URI matched the plugin's pattern (``AuditTrailFilter``): ``<uri>[ (<queued task
  url>)] by <user id or address>[ from <address>]`` -> API Activity (6003): ``api.operation`` the
  URI's last step (``configSubmit``, ``doDelete``, ``createItem``, ``build`` ...), activity from it
  (create/delete/update words, else Other), ``actor.user.name``, ``src_endpoint.ip`` (brackets of
  an IPv6 address dropped), the job of a ``/job/...`` URI as ``resources[0]`` (type ``job``), the
  URI as ``http_request.url.path``;
- a build started (``AuditTrailRunListener.onStarted``): ``<job url> #<n> <causes>[, Parameters:[...]]``
  and finalized: ``<full display name> <causes>[, Parameters:[...]] on node <node> started at
  <ISO time> completed in <ms>ms completed: <RESULT>`` (newer versions: ``on <node>[;<node>...]``,
  the nodes a Pipeline ran on) -> Scheduled Job Activity (1006) as
  :mod:`~secpipe.formats.jenkins_log`'s lines: Start / Update with the result as status (SUCCESS
  Success, FAILURE/UNSTABLE/ABORTED Failure, NOT_BUILT Other), ``duration``, the job's full name
  (``folder/job``) and ``metadata.correlation_uid`` ``<job>#<n>`` (the build id jenkins and
  jenkins_log write), the user of a ``Started by user <name>`` cause as ``job.user.name``;
- a login (``AuthenticationAuditListener``): ``Successful login for user '<u>'``, ``Failed login
  attempt for user '<u>'``, ``Logout for user '<u>'`` -> Authentication (3002) Logon / Logoff;
- any other message (credentials or script usage, ...) -> Base Event (0) with the message; a line
  without the time (the further lines of a message holding newlines, or a damaged line) is
  dead-lettered by :mod:`~secpipe.formats.jenkins_log`.

Time: the line's, read in the server's zone when the file tells it (see :func:`decode`). The
plugin's Syslog logger sends the same messages without the time: :mod:`.syslog` maps them with
:func:`messages`; its Elasticsearch logger posts them in JSON documents with an ``@timestamp``:
:mod:`.jenkins` maps those with :func:`documents`.

``unmapped`` keeps what no field takes (``uri`` extra, causes, parameters, node). Identity:
the line's bytes (its time has milliseconds); a verbatim repeat in the same file is hashed with
its ordinal so it stays its own event.

Columnar (as :mod:`~secpipe.formats.jenkins_log`'s console lines): the file's lines are matched
with Arrow's ``extract_regex`` (RE2) once per message kind, the times computed with numpy from
the clock's fields, and each class's batch assembled from those columns. What needs Python (a
URI's job and operation, a cause's user, an address) is worked out once per distinct value
(:func:`_per_value`): a log repeats its URIs, users and addresses. Per-line Python matching was
~36k lines a CPU-second; this is the format's 50k floor's way (see docs/performance.md).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any
from urllib.parse import unquote

import numpy as np
import pyarrow as pa

from secpipe import _compute as pc
from secpipe.formats import _cicd
from secpipe.formats._text import group, json_string, with_rest
from secpipe.formats.base import DeadLetter, Decoded, base_columns, const, event_uids, parse_times, to_batch

S = pa.string()
_I32 = pa.int32()
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_MONTH = "(?P<mon>" + "|".join(_MONTHS) + ")"
_CLOCK = r" (?P<d>\d{1,2}), (?P<y>\d{4}) (?P<h>\d{1,2}):(?P<mi>\d\d):(?P<s>\d\d),(?P<ms>\d{3}) (?P<ap>[AP]M) ?"
#: the SimpleDateFormat time opening every line, then the separator and the message
AUDIT_LINE = re.compile(_MONTH + _CLOCK + r"(?P<msg>.*)", re.S)  # a message of several lines (a logged script) is one
#: bytes form for sniffing a head
AUDIT_HEAD = re.compile(AUDIT_LINE.pattern.encode())
#: the same time, for RE2 (``extract_regex``): group ``head`` is the time and the separator
_HEAD = "^(?P<head>" + _MONTH + _CLOCK + ")"
_MONTH_NAMES = pa.array(_MONTHS, S)
# The messages (RE2, whole message; ``pp`` tells "Parameters:[]" from no parameters: RE2 gives
# a group that took no part as "")
_REQUEST = r"^(?P<uri>/.*?)(?: \((?P<task>[^()]*)\))? by (?P<user>\S+)(?: from (?P<ip>\S+))?$"
_STARTED = r"^(?P<url>(?:job/[^/]+/)+) ?#(?P<n>\d+) (?P<causes>.*?)(?P<pp>, Parameters:\[(?P<params>.*)\])?$"
_FINALIZED = (
    r"^(?P<name>.+?) #(?P<n>\d+) (?P<causes>.*?)(?P<pp>, Parameters:\[(?P<params>.*)\])? on (?:node )?(?P<node>.*?) "
    r"started at (?P<started>\S+) completed in (?P<dur>\d+)ms completed: (?P<result>[A-Z_]+)$"
)
_LOGIN = r"^(?P<what>Successful login|Failed login attempt|Logout) for user '(?P<user>.*)'$"
_USER_CAUSE = re.compile(r"(?:^|, )Started by user (?P<user>.+?)(?=, |$)")
_IP = re.compile(r"^\[?(?P<ip>[0-9A-Fa-f.:]+)\]?$")
_RESULT_STATUS = {"SUCCESS": 1, "FAILURE": 2, "UNSTABLE": 2, "ABORTED": 2, "NOT_BUILT": 99}
_RESULT_SEVERITY = {"FAILURE": 4, "UNSTABLE": 3, "ABORTED": 3}
_CREATE = ("create", "build", "copy", "new", "add")
_DELETE = ("delete", "dodelete", "wipeout", "dowipeoutworkspace", "remove")
_UPDATE = ("configsubmit", "submit", "enable", "disable", "toggle", "update", "rename", "dorename", "stop",
           "cancel", "quietdown", "restart", "safe", "exit", "reload", "install", "upload", "disconnect",
           "launch", "offline", "online", "script")  # fmt: skip


def is_audit_log(head: bytes) -> bool:
    """Whether ``head`` opens with an Audit Trail log file line."""
    return AUDIT_HEAD.match(head) is not None


def _activity(op: str) -> int:
    low = op.lower()
    if low.startswith(_DELETE):
        return 4
    if low.startswith(_CREATE):
        return 1
    if low.startswith(_UPDATE):
        return 3
    return 99


def _job_of_url(path: str) -> str | None:
    """``/job/folder/job/name/configSubmit`` or ``job/folder/job/name/`` -> ``folder/name``: the
    step after each ``job`` step (a job may itself be named ``job``; a ``view/<name>`` pair is skipped)."""
    steps = path.strip("/").split("/")
    names: list[str] = []
    i = 0
    while i < len(steps) - 1:
        if steps[i] == "job":
            names.append(_unquote(steps[i + 1]))
        elif names:
            break  # past the job: the operation (or a build number, a page)
        elif steps[i] != "view":
            i += 1  # a prefix before the first job (``/me/my-views``)
            continue
        i += 2
    return "/".join(names) or None


def _unquote(name: str) -> str:
    return unquote(name) if "%" in name else name


def decode(lines: pa.Array, offs: pa.Array, source: str, kind: str, product: str, vendor: str, out: Decoded) -> None:
    """Map an Audit Trail log file's lines (strings, no newline) into ``out``'s batches.

    A line without the plugin's time is dead-lettered alone: it cannot be told from a damaged line
    (the plugin writes a message holding newlines as it is, so its further lines have no time either).

    The lines' times are the server's local time; a finalized build's line also gives the build's
    start in UTC (``started at``) and its duration, so the first such line tells the server's
    offset (rounded to 15 minutes), applied to every line of the file; without one, UTC."""
    st = pc.extract_regex(lines, _HEAD)
    ok = pc.is_valid(st)
    if ok.false_count:
        bad = pc.invert(ok)
        for line, off in zip(lines.filter(bad).to_pylist(), offs.filter(bad).to_pylist(), strict=True):
            out.dead.append(DeadLetter("Jenkins Audit Trail log line without the plugin's time "
                                       "('MMM d, yyyy h:mm:ss,SSS AM|PM')", source, off, line.encode(), kind))
        lines, st = lines.filter(ok), st.filter(ok)
    if not len(lines):
        return
    msg = pc.struct_field(with_rest(lines, st, "head", "msg"), "msg")
    local = _local_ms(st)
    fin = pc.extract_regex(msg, _FINALIZED)
    offset = _offset(local, fin, pc.is_valid(fin))
    times = local if not offset else pc.subtract(local, pa.scalar(offset, pa.int64()))
    _emit(msg, fin, times, lines, (kind, product, vendor), out)


def documents(msgs: list[str], times: list[int | None], raws: list[bytes], kind: str, product: str, vendor: str,
              out: Decoded) -> None:  # fmt: skip
    """Map the plugin's Elasticsearch logger's documents into ``out``'s batches: its
    ``ElasticSearchSender`` posts each message a log file line holds (after the time) as
    ``{"message": <message>, "@timestamp": "yyyy-MM-dd'T'HH:mm:ssZ"}``; ``times`` are those (ms),
    ``raws`` the documents (``raw_data``; a verbatim repeat, its second the same, is its own event)."""
    _emit(pa.array(msgs, S), None, pa.array(times, pa.int64()), pa.array(raws, pa.binary()).cast(S),
          (kind, product, vendor), out)  # fmt: skip


def _emit(msg: pa.Array, fin: pa.Array | None, times: pa.Array, raws: pa.Array, source: tuple[str, str, str],
          out: Decoded) -> None:  # fmt: skip
    """Each class's batch of the messages (:func:`messages`, the rest Base Events): ``raws`` (text)
    are the lines or documents they came in, ``source`` the format's (kind, product, vendor)."""
    kind, product, vendor = source
    idents = _idents(raws.cast(pa.binary()).to_pylist(), raws)
    for cls, pick, columns, act, sev in messages(msg, fin, base=True):
        take = pa.array(pick)
        base = base_columns(cls, uids=event_uids(kind, [idents[i] for i in pick.tolist()]), times_ms=times.take(take),
                            raws=raws.take(take), activity_id=act, severity_id=sev, kind=kind, product=product,
                            vendor=vendor)  # fmt: skip
        base.update(columns)
        out.batches.append(to_batch(cls, base))


def messages(msg: pa.Array, fin: pa.Array | None = None, *, base: bool = False) -> list[tuple[str, np.ndarray, dict[str, pa.Array], Any, Any]]:
    """The Audit Trail messages (the text after a log file line's time, or a syslog message the
    plugin's Syslog logger sent) by OCSF class: [(class, the rows, their columns, activity_id,
    severity_id)] for build starts and ends, requests and logins, and (``base``) the rest as Base
    Events. ``fin``: the finalized-build matches, when the caller has them."""
    fin = pc.extract_regex(msg, _FINALIZED) if fin is None else fin
    sta = pc.extract_regex(msg, _STARTED)
    req = pc.extract_regex(msg, _REQUEST)
    log = pc.extract_regex(msg, _LOGIN)
    is_fin = pc.fill_null(pc.is_valid(fin), False)
    is_job = pc.fill_null(pc.or_(is_fin, pc.is_valid(sta)), False)
    is_req = pc.fill_null(pc.and_not(pc.is_valid(req), is_job), False)
    is_log = pc.fill_null(pc.and_not(pc.and_not(pc.is_valid(log), is_job), is_req), False)
    kinds = [
        ("scheduled_job_activity", is_job, lambda f: _jobs(f(msg), f(fin), f(sta), f(is_fin))),
        ("api_activity", is_req, lambda f: _requests(f(msg), f(req))),
        ("authentication", is_log, lambda f: _logins(f(msg), f(log))),
    ]
    if base:
        is_base = pc.invert(pc.or_(pc.or_(is_job, is_req), is_log))
        kinds.append(("base_event", is_base, lambda f: ({"message": f(msg)}, pa.scalar(0, _I32), 1)))
    out = []
    for cls, mask, build in kinds:
        if not pc.any(mask).as_py():
            continue
        pick = np.flatnonzero(mask.to_numpy(zero_copy_only=False))
        take = pa.array(pick)

        def f(arr: pa.Array, take: pa.Array = take) -> pa.Array:
            return arr.take(take)

        columns, act, sev = build(f)
        out.append((cls, pick, columns, act, sev))
    return out


def _local_ms(st: pa.StructArray) -> pa.Array:
    """Epoch ms of each line's clock read as UTC (null for a date or clock that does not exist)."""

    def num(name: str) -> np.ndarray:
        return pc.cast(pc.struct_field(st, name), pa.int64()).to_numpy()

    mon = pc.index_in(pc.struct_field(st, "mon"), value_set=_MONTH_NAMES).to_numpy() + 1
    pm = pc.equal(pc.struct_field(st, "ap"), "PM").to_numpy(zero_copy_only=False)
    h = num("h") % 12 + np.where(pm, 12, 0)
    ms, valid = epoch_ms(num("y"), mon, num("d"), h, num("mi"), num("s"), num("ms"))
    return pa.array(ms, pa.int64(), mask=~valid)


def epoch_ms(y: np.ndarray, mo: np.ndarray, d: np.ndarray, h: np.ndarray, mi: np.ndarray, s: np.ndarray,
             ms: np.ndarray) -> tuple[np.ndarray, np.ndarray]:  # fmt: skip
    """(epoch ms of UTC date-times given by their fields, whether each exists), vectorized: the
    proleptic Gregorian calendar's day number (H. Hinnant's ``days_from_civil``), years 1-9999."""
    leap = (y % 4 == 0) & ((y % 100 != 0) | (y % 400 == 0))
    mdays = _MONTH_DAYS[np.clip(mo, 1, 12)] + ((mo == 2) & leap)
    valid = (y >= 1) & (mo >= 1) & (mo <= 12) & (d >= 1) & (d <= mdays) & (h <= 23) & (mi <= 59) & (s <= 59)
    yy = y - (mo <= 2)
    era = yy // 400
    yoe = yy - era * 400
    doy = (153 * (mo + np.where(mo > 2, -3, 9)) + 2) // 5 + d - 1
    days = era * 146097 + yoe * 365 + yoe // 4 - yoe // 100 + doy - 719468
    return ((days * 24 + h) * 60 + mi) * 60_000 + s * 1000 + ms, valid


_MONTH_DAYS = np.array([0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31], np.int64)
_QUARTER = 900_000  # zone offsets are whole quarter hours


def _offset(local: pa.Array, fin: pa.Array, is_fin: pa.Array) -> int | None:
    """The server's zone offset (ms) from the first finalized build line with a time: its local
    time against the UTC start it gives plus its duration."""
    if not is_fin.true_count:
        return None
    first = pc.index(pc.and_(is_fin, pc.is_valid(local)), True).as_py()
    if first < 0:
        return None
    started = _cicd.iso_ms(fin[first]["started"].as_py())
    if started is None:
        return None
    diff = local[first].as_py() - (started + int(fin[first]["dur"].as_py()))
    return round(diff / _QUARTER) * _QUARTER if abs(diff) <= 14 * 3_600_000 else None


def _idents(raws: list[bytes], lines: pa.Array) -> list[bytes]:
    """What each line's ``metadata.uid`` hashes: its bytes, a verbatim repeat's with its ordinal."""
    if pc.count_distinct(lines).as_py() == len(raws):
        return raws
    seen: dict[bytes, int] = {}
    idents = []
    for raw in raws:
        k = seen.get(raw, 0)
        seen[raw] = k + 1
        idents.append(raw if k == 0 else raw + b"\0repeat %d" % k)
    return idents


def _per_value(col: pa.Array, fn: Callable[[str], tuple[Any, ...]], types: tuple[pa.DataType, ...]) -> list[pa.Array]:
    """``fn`` of each distinct value of ``col`` (null stays null), as one array per result field."""
    enc = pc.dictionary_encode(col)
    results = [fn(v) for v in enc.dictionary.to_pylist()]
    return [pa.array([r[i] for r in results], t).take(enc.indices) for i, t in enumerate(types)]


def _requests(msg: pa.Array, req: pa.Array) -> tuple[dict[str, pa.Array], pa.Array, int]:
    n = len(msg)
    op, path, job, act = _per_value(pc.struct_field(req, "uri"), _uri, (S, S, S, _I32))
    ip, host = _per_value(group(req, "ip"), _address, (S, S))
    task = group(req, "task")
    cols = {
        "message": msg, "api.operation": op, "api.service.name": const("Jenkins", n), "actor.user.name": pc.struct_field(req, "user"),
        "src_endpoint.ip": ip, "src_endpoint.hostname": host, "src_endpoint.type_id": const(0, n, _I32),
        "src_endpoint.type": const("Unknown", n), "http_request.url.path": path, "resources": _job_resources(job),
        "unmapped": pc.binary_join_element_wise('{"queued_task": ', json_string(task), "}", ""),
    }  # fmt: skip
    return cols, act, 1


def _uri(uri: str) -> tuple[str, str, str | None, int]:
    """(operation, path, job, activity_id) of a request URI."""
    path = uri.split("?", 1)[0]
    op = next((x for x in reversed(path.split("/")) if x), uri)
    return op, path, _job_of_url(uri) if "/job/" in uri else None, _activity(op)


def _address(value: str) -> tuple[str | None, str | None]:
    """(ip, hostname) of a request's ``from`` (an IPv6 address in brackets, or a name)."""
    ip = _IP.match(value)
    return (ip["ip"], None) if ip else (None, value)


def _job_resources(job: pa.Array) -> pa.Array:
    """``resources``: one ``job`` item where ``job`` is set, else null."""
    has = pc.is_valid(job).to_numpy(zero_copy_only=False)
    offsets = np.zeros(len(job) + 1, np.int32)
    np.cumsum(has, out=offsets[1:])
    names = job.filter(pa.array(has))
    items = pa.StructArray.from_arrays([const("job", len(names)), names, pa.nulls(len(names), S)], names=["type", "name", "uid"])
    return pa.ListArray.from_arrays(pa.array(offsets), items, mask=pa.array(~has))


def _logins(msg: pa.Array, log: pa.Array) -> tuple[dict[str, pa.Array], pa.Array, int]:
    n = len(msg)
    what = pc.struct_field(log, "what")
    failed = pc.equal(what, "Failed login attempt")
    cols = {
        "message": msg, "user.name": pc.struct_field(log, "user"), "service.name": const("Jenkins", n),
        "status_id": pc.if_else(failed, pa.scalar(2, _I32), pa.scalar(1, _I32)), "status": pc.if_else(failed, "Failure", "Success"),
    }  # fmt: skip
    return cols, pc.if_else(pc.equal(what, "Logout"), pa.scalar(2, _I32), pa.scalar(1, _I32)), 1


def _jobs(msg: pa.Array, fin: pa.Array, sta: pa.Array, is_fin: pa.Array) -> tuple[dict[str, pa.Array], pa.Array, pa.Array]:
    """Build starts (``sta``) and ends (``fin``), in line order."""
    (name_job,) = _per_value(pc.struct_field(fin, "name"), _display_job, (S,))
    (url_job,) = _per_value(pc.struct_field(sta, "url"), lambda u: (_job_of_url(u) or u,), (S,))
    job = pc.if_else(is_fin, name_job, url_job)

    def either(name: str) -> pa.Array:
        return pc.if_else(is_fin, pc.struct_field(fin, name), pc.struct_field(sta, name))

    causes, number = either("causes"), either("n")
    params = pc.if_else(pc.equal(either("pp"), ""), pa.scalar(None, S), either("params"))
    (user,) = _per_value(causes, _cause_user, (S,))
    result = group(fin, "result")
    status = pc.if_else(is_fin, pc.fill_null(_RESULT_STATUS_IDS.take(pc.index_in(result, value_set=_RESULTS)), 99),
                        pa.scalar(None, _I32))  # a result this table does not know: Other
    started = group(fin, "started")
    extra = pc.binary_join_element_wise('{"causes": ', json_string(causes), "", "")
    extra = pc.coalesce(pc.binary_join_element_wise(extra, ', "parameters": ', json_string(params), "", ""), extra)
    ends = pc.binary_join_element_wise(extra, ', "node": ', json_string(group(fin, "node")), ', "started_at": ',
                                       json_string(started), "}", "")  # fmt: skip
    none = pa.scalar(None, S)
    cols = {
        "message": msg, "job.name": job,
        "metadata.correlation_uid": pc.binary_join_element_wise(job, number, "#"), "job.user.name": user,
        "status_id": status, "status": pc.if_else(is_fin, _STATUS_NAMES.take(pc.index_in(status, value_set=_STATUS_IDS)), none),
        "status_detail": result, "duration": _milliseconds(group(fin, "dur")),
        "job.run_state_id": pc.if_else(is_fin, pa.scalar(4, _I32), pa.scalar(3, _I32)),
        "job.run_state": pc.if_else(is_fin, "Stopped", "Running"), "job.last_run_time": parse_times(started),
        "unmapped": pc.coalesce(ends, pc.binary_join_element_wise(extra, "}", "")),
    }  # fmt: skip
    sev = pc.fill_null(_RESULT_SEVERITY_IDS.take(pc.index_in(result, value_set=_RESULTS)), 1)
    return cols, pc.if_else(is_fin, pa.scalar(2, _I32), pa.scalar(6, _I32)), sev


def _milliseconds(text: pa.Array) -> pa.Array:
    """A ``completed in <n>ms`` as int64; a count past int64 (a damaged line) is no value, the line
    keeping it, rather than the cast failing the file."""
    ok = pc.fill_null(pc.match_substring_regex(text, r"^\d{1,18}$"), False)
    return pc.if_else(ok, text, pa.scalar(None, S)).cast(pa.int64())


def _display_job(name: str) -> tuple[str]:
    """A finalized build's full display name (``folder » job``) -> its full name (``folder/job``)."""
    return ("/".join(p.strip() for p in name.split(" » ")),)


def _cause_user(causes: str) -> tuple[str | None]:
    user = _USER_CAUSE.search(causes)
    return (user["user"] if user else None,)


_RESULTS = pa.array(list(_RESULT_STATUS), S)
_RESULT_STATUS_IDS = pa.array(list(_RESULT_STATUS.values()), _I32)
_RESULT_SEVERITY_IDS = pa.array([_RESULT_SEVERITY.get(r) for r in _RESULT_STATUS], _I32)
_STATUS_IDS = pa.array(list(_cicd.STATUS), _I32)
_STATUS_NAMES = pa.array(list(_cicd.STATUS.values()), S)
