"""Jenkins console logs, read line by line, keeping build id, stage and result; and the Audit
Trail plugin's log files (a document whose first line opens with the plugin's time, ``Nov 10,
2024 2:29:30,662 PM``: requests, logins and build starts/ends, see :mod:`._jenkins_audit`).

Input: a build's console text (``$JENKINS_HOME/jobs/<job>/builds/<n>/log``, or
``/job/<job>/<n>/consoleText``). Every non-blank line is one event. The build id is
``<job>#<n>``, taken from the source: a ``jenkins-build=<job>#<n>`` hint, or a path/URL of
either layout (folders included); without one it is the file name. The stage is tracked
through Pipeline markers: ``[Pipeline] { (Build)`` opens stage "Build" and
``[Pipeline] // stage`` closes it, back to the stage around it (stages nest: a parallel stage's
branches run their stages inside it; a branch's own ``{ (Branch: NAME)`` marker is no stage); lines
outside a stage have none. ``Finished: SUCCESS|FAILURE|UNSTABLE|ABORTED|NOT_BUILT`` gives the result.
Timestamper prefixes (``[2024-05-01T10:00:00.123Z] `` or ``10:00:00 ``; a clock time followed by
two spaces as the console page shows it and users copy it) give the time, ANSI
colour codes and Jenkins' hidden console notes (``ESC[8mha:////...ESC[0m``) are removed from
``message`` (``raw_data`` keeps the line as read).

OCSF class: Scheduled Job Activity (1006), as for ``jenkins`` build results (same
``metadata.correlation_uid`` build id, so a build's result and its log lines join). The
``Started by ...`` line (or its translation: a localized Jenkins writes its cause lines in its
language, see :data:`_STARTED_L10N`) is activity Start; the ``Finished:`` line is Update with the
result as status (SUCCESS Success, else Failure/Other) and ``status_detail``; other lines
are Other. Lines starting ``ERROR``/``FATAL`` are severity High, ``WARNING`` Medium.
``unmapped`` holds ``{"stage": ..., "line": n}``; ``metadata.uid`` hashes build id, line
number and text, so repeated identical lines in one log stay distinct events while a
re-read of the same log collapses.

Columnar path: lines are split, cleaned, matched and stage-filled with Arrow kernels
(``extract_regex``, ``fill_null_forward``) over the whole document; framing is
``document`` because the stage of a line depends on the lines before it.
"""

from __future__ import annotations

import re

import numpy as np
import pyarrow as pa

from secpipe import _compute as pc
from secpipe.formats import _fast, _jenkins_audit
from secpipe.formats._text import group, json_string, text_lines
from secpipe.formats.base import Decoded, Format, base_columns, event_uids, parse_times, to_batch
from secpipe.formats.jenkins import job_of_path

S = pa.string()
_I32 = pa.int32()

def _folders(job: str) -> str:
    """``folder/jobs/name`` (a ``$JENKINS_HOME`` path's folders, or a hint written so) -> ``folder/name``."""
    return job.replace("/jobs/", "/").replace("/job/", "/")


#: (pattern, how its ``job`` part reads as the job's full name: a ``/job/`` URL percent-encodes
#: each name, as the jenkins format's build URLs do)
_SRC_PATTERNS = (
    (re.compile(r"jenkins-build=(?P<job>[^#;&]+)#(?P<n>\d+)"), _folders),
    (re.compile(r"jobs/(?P<job>.+?)/builds/(?P<n>\d+)/log"), _folders),
    (re.compile(r"(?:^|/)job/(?P<job>.+?)/(?P<n>\d+)/(?:consoleText|consoleFull|console|logText/progressiveText)"),
     job_of_path),
)
_TS = r"^(?:\[(?P<iso>\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:?\d\d)?)\] |(?P<hms>\d\d:\d\d:\d\d)  ?)?(?P<text>.*)$"
_NOTE = r"\x1b\[8mha:[^\x1b]*\x1b\[0m"
_ANSI = r"\x1b\[[0-9;]*[A-Za-z]"
_RESULT = r"^Finished: (?P<result>SUCCESS|FAILURE|UNSTABLE|ABORTED|NOT_BUILT)\s*$"
_STAGE_OPEN = r"^\[Pipeline\] \{ \((?P<stage>.*)\)\s*$"
_STAGE_CLOSE = r"^\[Pipeline\] // stage\s*$"
#: a build's cause line (its first) in Jenkins' other languages: the ``Cause.UserIdCause``,
#: ``UpstreamCause`` and ``RemoteCause`` short descriptions of core's hudson/model message
#: catalogues (de, fr, es, ja, pt_BR) and the SCM and timer trigger causes of hudson/triggers (de,
#: pt_BR: ``Iniciado pelo temporizador``, ``Iniciado por uma mudança no SCM``; pt_BR's remote cause
#: with a note is ``Hospedeiro remoto {0} iniciado com a nota: {1}``). The it and ru catalogues
#: translate no cause: such a Jenkins writes English. English ``Started by `` is matched apart
#: (starts_with, no regex a line).
_STARTED_L10N = (
    r"^(?:Gestartet durch |Build wurde (?:durch eine SCM-Änderung|zeitgesteuert) ausgelöst|"
    r"Démarré (?:par |à distance par )|Lanzada por |(?:ユーザー|上流プロジェクト|リモートホスト).*が実行|"
    r"Iniciado (?:pelo |por uma mudança no SCM)|Hospedeiro remoto .* iniciado com a nota: )"
)
_L10N_MARKS = (b"Gestartet durch ", "ausgelöst".encode(), "Démarré ".encode(), b"Lanzada por ", "が実行".encode(),
               b"Iniciado p", b" iniciado com a nota: ")  # fmt: skip
_RESULTS = pa.array(["SUCCESS", "FAILURE", "UNSTABLE", "ABORTED", "NOT_BUILT"], S)
_RESULT_STATUS = pa.array([1, 2, 2, 2, 99], _I32)


def _stage_marks(opened: pa.Array, closed: pa.Array) -> pa.Array:
    """The stage each marker line leaves the log in (``""`` none), null on other lines (filled
    forward by the caller). Stages nest: ``// stage`` returns to the enclosing one (a parallel
    stage's branches close theirs inside it, and the lines after them are still the parent's).
    A parallel branch's ``{ (Branch: NAME)`` is no stage (it is closed by a bare ``}``, which
    closes any block): its lines stay in the stage around it. One step per marker line."""
    marks: list[str | None] = [None] * len(opened)
    stack: list[str] = []
    at_open = pc.indices_nonzero(pc.is_valid(opened)).to_numpy()
    at_close = pc.indices_nonzero(closed).to_numpy()
    names = opened.take(pa.array(at_open)).to_pylist() if len(at_open) else []
    events = sorted([(int(i), name) for i, name in zip(at_open, names, strict=True)] + [(int(i), None) for i in at_close])
    for i, name in events:
        if name is None:
            if stack:
                stack.pop()
        elif not name.startswith("Branch: "):
            stack.append(name)
        marks[i] = stack[-1] if stack else ""
    return pa.array(marks, S)


def build_id(source: str) -> tuple[str, str | None]:
    """(job, build number) from a source hint, a builds/ path or a /job/ URL."""
    for pat, job_name in _SRC_PATTERNS:
        m = pat.search(source)
        if m:
            return job_name(m.group("job")), m.group("n")
    stem = source.rsplit("/", 1)[-1] or source
    return stem, None


class JenkinsLog(Format):
    """Jenkins console log lines."""

    name = "jenkins_log"
    description = ("Jenkins console logs, one event per line with build id, stage and result -> Scheduled Job Activity; "
                   "Audit Trail plugin log files -> API Activity / Authentication / Scheduled Job Activity")
    framing = "document"
    product = "Jenkins"
    vendor = "Jenkins"

    def sniff(self, head: bytes) -> int:
        """``Started by`` / ``[Pipeline]`` / ``Running as SYSTEM`` / ``Building in workspace`` lines, or
        a build's first line (any ``Started by`` cause, ``Branch indexing``, ``Replayed #n``, ...)."""
        h = head[:8192]
        # a line-anchored regex search tries every position: run it only when the literal it
        # needs is there (most heads that are no Jenkins log have none of them)
        if (b"Started by " in h or b"Running as SYSTEM" in h or b"[Pipeline] " in h) and re.search(
            rb"(?m)^(?:\[[^\]]+\] |\d\d:\d\d:\d\d )?(Started by (user|timer|an SCM|upstream|GitHub|remote)|Running as SYSTEM|\[Pipeline\] )", h
        ):  # fmt: skip
            return 85
        if _jenkins_audit.is_audit_log(h.lstrip(b"\xef\xbb\xbf")):
            return 80  # an Audit Trail plugin log file (see _jenkins_audit)
        if b"Building " in h and re.search(rb"(?m)^Building (in workspace|remotely on) ", h):
            return 80
        if re.match(rb"(?m)(?:\[[^\]]+\] |\d\d:\d\d:\d\d )?(Started by \S|Branch indexing\r?$|Branch event\r?$|Replayed #\d|"
                    rb"Restarted from build #\d|Obtained Jenkinsfile from |Push event to branch )", h) or (
                re.match(_STARTED_L10N.encode(), h) and re.search(rb"(?m)^Finished: [A-Z_]+\r?$|^(?:Running as SYSTEM|Rodando como SISTEMA)\r?$", h)):
            return 75  # the first line of a build's console (multibranch, replay, restart, any trigger cause)
        return 0

    def decode(self, data: bytes, source: str) -> Decoded:
        """Decode one console log."""
        out = Decoded()
        raw, offs = text_lines(data, source, self.name, "console log", out)
        if not len(raw):
            return out
        lines = raw.cast(S)
        if _jenkins_audit.AUDIT_LINE.match(lines[0].as_py()):  # an Audit Trail plugin log file
            _jenkins_audit.decode(lines, offs, source, self.name, self.product, self.vendor, out)
            return out
        out.batches.append(self._batch(lines, raw, offs, source))
        return out

    def _batch(self, lines: pa.Array, raw: pa.Array, offs: pa.Array, source: str) -> pa.RecordBatch:
        n = len(lines)
        job, number = build_id(source)
        bid = f"{job}#{number}" if number else job
        ts = pc.extract_regex(lines, _TS)
        text = pc.replace_substring_regex(pc.replace_substring_regex(group(ts, "text"), _NOTE, ""), _ANSI, "")
        times = parse_times(group(ts, "iso"))
        result = group(pc.extract_regex(text, _RESULT), "result")
        is_result = pc.is_valid(result)
        opened = group(pc.extract_regex(text, _STAGE_OPEN), "stage")
        closed = pc.fill_null(pc.match_substring_regex(text, _STAGE_CLOSE), False)
        stage = pc.fill_null_forward(_stage_marks(opened, closed))
        stage = pc.if_else(pc.fill_null(pc.equal(stage, ""), False), pa.scalar(None, S), stage)
        started = pc.fill_null(pc.starts_with(text, "Started by "), False)
        if _fast.contains_any(raw.buffers()[2], _L10N_MARKS):  # a localized Jenkins: its cause lines too
            started = pc.or_(started, pc.fill_null(pc.match_substring_regex(text, _STARTED_L10N), False))
        act = pc.if_else(is_result, pa.scalar(2, _I32), pc.if_else(started, pa.scalar(6, _I32), pa.scalar(99, _I32)))
        sev = pc.if_else(pc.fill_null(pc.match_substring_regex(text, r"^(ERROR|FATAL)\b"), False), pa.scalar(4, _I32),
                         pc.if_else(pc.fill_null(pc.match_substring_regex(text, r"^WARNING\b"), False), pa.scalar(3, _I32), pa.scalar(1, _I32)))  # fmt: skip
        status = _RESULT_STATUS.take(pc.index_in(result, value_set=_RESULTS))
        line_no = pa.array(np.arange(1, n + 1))
        ident = [b"%s\0%d\0%s" % (bid.encode(), o, r) for o, r in zip(offs.to_pylist(), raw.to_pylist(), strict=True)]
        cols = base_columns(
            "scheduled_job_activity", kind=self.name, product=self.product, vendor=self.vendor,
            uids=event_uids(self.name, ident), times_ms=times, raws=None, activity_id=act, severity_id=sev,
        )  # fmt: skip
        none = pa.scalar(None, S)
        members = pc.binary_join_element_wise('{"line":', line_no.cast(S), "", "")
        with_stage = pc.binary_join_element_wise(members, ',"stage":', json_string(stage), "}", "")
        cols.update(
            {
                "raw_data": lines,
                "message": text,
                "job.name": pa.array([job] * n, S),
                "job.run_state_id": pc.if_else(is_result, pa.scalar(4, _I32), pa.scalar(3, _I32)),
                "job.run_state": pc.if_else(is_result, "Stopped", "Running"),
                "metadata.correlation_uid": pa.array([bid] * n, S),
                "status_id": status,
                "status": pc.if_else(pc.equal(status, 1), "Success", pc.if_else(pc.equal(status, 2), "Failure", pc.if_else(is_result, "Other", none))),
                "status_detail": result,
                "unmapped": pc.coalesce(with_stage, pc.binary_join_element_wise(members, "}", "")),
            }
        )
        return to_batch("scheduled_job_activity", cols)
