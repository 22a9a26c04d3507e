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

Time: the line's, read in the server's zone when the file tells it (see :func:`decode`).

``unmapped`` keeps what no field takes (``uri`` extra, causes, parameters, node). Identity:
the line's bytes (its time has milliseconds); a verbatim repeat in the same file is hashed with
its ordinal so it stays its own event.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import re
from typing import Any
from urllib.parse import unquote

from secpipe.formats import _cicd
from secpipe.formats.base import Decoded, event_uids

#: the SimpleDateFormat time opening every line, then the separator and the message
AUDIT_LINE = re.compile(
    r"(?P<mon>Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) (?P<d>\d{1,2}), (?P<y>\d{4}) "
    r"(?P<h>\d{1,2}):(?P<mi>\d\d):(?P<s>\d\d),(?P<ms>\d{3}) (?P<ap>[AP]M) ?(?P<msg>.*)",
    re.S,  # a message of several lines (a logged script) is one
)
#: bytes form for sniffing a head
AUDIT_HEAD = re.compile(AUDIT_LINE.pattern.encode())
_MONTHS = {
    m: i
    for i, m in enumerate(
        ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"), 1
    )
}
_REQUEST = re.compile(r"(?P<uri>/.*?)(?: \((?P<task>[^()]*)\))? by (?P<user>\S+)(?: from (?P<ip>\S+))?")
_STARTED = re.compile(
    r"(?P<url>(?:job/[^/]+/)+) ?#(?P<n>\d+) (?P<causes>.*?)(?:, Parameters:\[(?P<params>.*)\])?"
)
_FINALIZED = re.compile(
    r"(?P<name>.+?) #(?P<n>\d+) (?P<causes>.*?)(?:, Parameters:\[(?P<params>.*)\])? on (?:node )?(?P<node>.*?) "
    r"started at (?P<started>\S+) completed in (?P<dur>\d+)ms completed: (?P<result>[A-Z_]+)"
)
_LOGIN = re.compile(r"(?P<what>Successful login|Failed login attempt|Logout) for user '(?P<user>.*)'")
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
    """``/job/folder/job/name/configSubmit`` or ``job/folder/job/name/`` -> ``folder/name``."""
    steps = path.strip("/").split("/")
    names = [steps[i + 1] for i in range(len(steps) - 1) if steps[i] == "job"]
    return "/".join(_unquote(n) for n in names) or None


def _unquote(name: str) -> str:
    return unquote(name) if "%" in name else name


def decode(lines: list[re.Match[str]], kind: str, product: str, vendor: str, out: Decoded) -> None:
    """Map Audit Trail lines (their :data:`AUDIT_LINE` matches) into ``out``'s batches.

    The lines' times are the server's local time; a finalized build's line also gives the build's
    start in UTC (``started at``) and its duration, so the first such line tells the server's
    offset (rounded to 15 minutes), applied to every line of the file; without one, UTC."""
    mapped: list[tuple[str, dict[str, Any], int, int, bytes, bytes, int | None]] = []
    offset: int | None = None
    seen: dict[bytes, int] = {}
    for m in lines:
        h = int(m["h"]) % 12 + (12 if m["ap"] == "PM" else 0)
        local = _epoch_ms(int(m["y"]), _MONTHS[m["mon"]], int(m["d"]), h, int(m["mi"]), int(m["s"]), int(m["ms"]))
        cls, row, act, sev = _map(m["msg"])
        if offset is None and local is not None and row.get("job.last_run_time") is not None:
            diff = local - (row["job.last_run_time"] + row["duration"])
            if abs(diff) <= 14 * 3_600_000:
                offset = round(diff / _QUARTER) * _QUARTER
        raw = m.string.encode()
        k = seen.get(raw, 0)
        seen[raw] = k + 1
        mapped.append((cls, row, act, sev, raw, raw if k == 0 else raw + b"\0repeat %d" % k, local))
    groups: dict[
        str, tuple[list[dict[str, Any]], list[bytes], list[int | None], list[int], list[int], list[bytes]]
    ] = {}
    for cls, row, act, sev, raw, ident, local in mapped:
        g = groups.setdefault(cls, ([], [], [], [], [], []))
        g[0].append(row)
        g[1].append(raw)
        g[2].append(local - offset if local is not None and offset else local)
        g[3].append(act)
        g[4].append(sev)
        g[5].append(ident)
    for cls, (rows, raws, times, acts, sevs, idents) in groups.items():
        out.batches.append(_cicd.build_batch(
            cls, rows=rows, kind=kind, product=product, vendor=vendor, raws=raws, times=times, activity=acts,
            severity=sevs, uids=event_uids(kind, idents),
        ))  # fmt: skip


_QUARTER = 900_000  # zone offsets are whole quarter hours


def _epoch_ms(y: int, mo: int, d: int, h: int, mi: int, s: int, ms: int) -> int | None:
    day = _day_ms(y, mo, d)
    if day is None or h > 23 or mi > 59 or s > 59:
        return None
    return day + ((h * 60 + mi) * 60 + s) * 1000 + ms


@functools.lru_cache(maxsize=1024)
def _day_ms(y: int, mo: int, d: int) -> int | None:
    """Epoch ms of a day's midnight (UTC); None for no such date."""
    try:
        return (dt.date(y, mo, d) - _EPOCH).days * 86_400_000
    except ValueError:
        return None


_EPOCH = dt.date(1970, 1, 1)


def _map(msg: str) -> tuple[str, dict[str, Any], int, int]:
    """(class, leaves, activity_id, severity_id) of one message."""
    # each pattern only where its literal words are (a failed match of _FINALIZED's lazy groups
    # costs more than the whole of a request line's mapping)
    if " completed: " in msg and (f := _FINALIZED.fullmatch(msg)) is not None:
        return _build(f, msg, finalized=True)
    if msg.startswith("job/") and (s := _STARTED.fullmatch(msg)) is not None:
        return _build(s, msg, finalized=False)
    if " by " in msg and (r := _REQUEST.fullmatch(msg)) is not None:
        uri = r["uri"]
        op = next((x for x in reversed(uri.split("?", 1)[0].split("/")) if x), uri)
        ip = _IP.match(r["ip"] or "")
        job = _job_of_url(uri) if "/job/" in uri else None
        extra = {"queued_task": r["task"]} if r["task"] else None
        row = {
            "message": msg, "api.operation": op, "api.service.name": "Jenkins", "actor.user.name": r["user"],
            "src_endpoint.ip": ip["ip"] if ip else None,
            "src_endpoint.hostname": r["ip"] if r["ip"] and not ip else None, "src_endpoint.type_id": 0,
            "src_endpoint.type": "Unknown",
            "http_request.url.path": uri.split("?", 1)[0], "resources": _cicd.compact([_cicd.resource("job", job)]),
            "unmapped": json.dumps(extra).encode() if extra else None,
        }  # fmt: skip
        return "api_activity", row, _activity(op), 1
    if " for user '" in msg and (lg := _LOGIN.fullmatch(msg)) is not None:
        failed = lg["what"] == "Failed login attempt"
        row = {"message": msg, "user.name": lg["user"], "service.name": "Jenkins",
               "status_id": 2 if failed else 1, "status": "Failure" if failed else "Success"}  # fmt: skip
        return "authentication", row, 2 if lg["what"] == "Logout" else 1, 1
    return "base_event", {"message": msg}, 0, 1


def _build(m: re.Match[str], msg: str, *, finalized: bool) -> tuple[str, dict[str, Any], int, int]:
    if finalized:
        job = "/".join(p.strip() for p in m["name"].split(" » "))
    else:
        job = _job_of_url(m["url"]) or m["url"]
    causes = m["causes"]
    user = _USER_CAUSE.search(causes)
    extra: dict[str, Any] = {"causes": causes}
    if m["params"] is not None:
        extra["parameters"] = m["params"]
    row: dict[str, Any] = {
        "message": msg,
        "job.name": job,
        "metadata.correlation_uid": f"{job}#{m['n']}",
        "job.user.name": user["user"] if user else None,
    }
    if finalized:
        result = m["result"]
        status = _RESULT_STATUS.get(result, 99)
        extra.update({"node": m["node"], "started_at": m["started"]})
        row.update({
            "status_id": status, "status": _cicd.STATUS[status], "status_detail": result, "duration": int(m["dur"]),
            "job.run_state_id": 4, "job.run_state": "Stopped", "job.last_run_time": _cicd.iso_ms(m["started"]),
        })  # fmt: skip
    else:
        row.update({"job.run_state_id": 3, "job.run_state": "Running"})
    row["unmapped"] = json.dumps(extra, ensure_ascii=False).encode()
    sev = _RESULT_SEVERITY.get(m["result"], 1) if finalized else 1
    return "scheduled_job_activity", row, 2 if finalized else 6, sev
