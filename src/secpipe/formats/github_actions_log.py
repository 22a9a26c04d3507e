"""GitHub Actions job logs, read line by line, keeping the job, step, group and level.

Input: the text ``GET /repos/{owner}/{repo}/actions/jobs/{job_id}/logs`` returns (``gh run view
--log`` without its columns), or a file of the run's log archive (``.../actions/runs/{id}/logs``:
``<n>_<job>.txt`` a job, ``<job>/<n>_<step>.txt`` a step). The runner opens every line with its
time, ``2024-08-18T10:24:40.0910700Z `` (UTC, 100 ns), then the text, where a workflow command the
runner writes as ``##[<command>]`` marks the line: ``##[group]<title>`` opens a collapsible group
and ``##[endgroup]`` closes it; ``##[error]``, ``##[warning]``, ``##[notice]`` and ``##[debug]``
annotate; ``##[command]`` echoes a command. Every non-blank line is one event.

OCSF class: Scheduled Job Activity (1006), as ``github_actions``' jobs and Jenkins' console lines
(``jenkins_log``): ``job.name`` the job's name (its ``Complete job name: <name>`` line, else the
archive's ``<job>`` of the file's path (``logs_<run id>/``, the archive's own folder, is none), else the
file's name), ``metadata.correlation_uid`` the job's id
where the source is the API's ``.../jobs/<id>/logs`` (a job of ``github_actions`` has it as
``metadata.original_event_uid``). ``message`` is the text without the ``##[command]`` marker nor
ANSI colours; ``raw_data`` the line. Severity: ``##[error]`` High, ``##[warning]`` Medium,
``##[notice]`` Low, else Informational (as ``jenkins_log`` reads ERROR and WARNING lines); a marker
with no text after it (``##[endgroup]``) is the message itself. The
runner's ``##[error]Process completed with exit code <n>.`` (a step failed) is status Failure
with the text as ``status_detail``. ``unmapped`` holds ``{"line": n, "step": ..., "group": ...,
"command": ...}``: the step is the title of the last group the runner opened for one (``Run
<action or script>``; ``Post job cleanup.`` the post steps), the group the one open at the line.
Time: the line's; a line without it has the receipt time (``metadata.labels``). ``metadata.uid``
hashes the job, the line's offset and text: identical lines of one log stay distinct events, a
re-read of the log collapses.

``gh run view --log`` (and ``--log-failed``) prints the lines of a run's jobs each behind its job's
and step's names, tab-separated (``build<TAB>Run tests<TAB>2024-...Z text``): those name each line's
job and step (gh's ``UNKNOWN STEP`` none: the step is then the runner's ``Run ...`` group's).

Columnar (as ``jenkins_log``): lines split, matched and filled forward with Arrow kernels over the
whole document; framing is ``document`` (a line's step depends on the lines before it).
"""

from __future__ import annotations

import re

import numpy as np
import pyarrow as pa

from secpipe import _compute as pc
from secpipe.formats._text import group, json_string, text_lines
from secpipe.formats.base import (
    BOM,
    Decoded,
    Format,
    base_columns,
    event_uids,
    parse_times,
    to_batch,
)

S = pa.string()
_I32 = pa.int32()
#: the runner's time (7 decimals; 0 to 9 read) opening a line, then the text
_LINE = r"^(?:(?P<job>[^\t]*)\t(?P<step>[^\t]*)\t)?(?P<iso>\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d{1,9})?Z) (?P<text>.*)$"
_COMMAND = r"^##\[(?P<cmd>[a-z]+)\](?P<rest>.*)$"
_ANSI = r"\x1b\[[0-9;]*[A-Za-z]"
_EXIT = r"^Process completed with exit code \d+\.$"
#: a head: its first line opens with the runner's time, and a line the runner writes follows
_HEAD_TIME = re.compile(rb"(?:[^\t\n]*\t[^\t\n]*\t)?\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d{1,9})?Z ")
_HEAD_MARKS = re.compile(
    rb"(?m)^(?:[^\t\n]*\t[^\t\n]*\t)?\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d{1,9})?Z (?:##\[(?:group|endgroup|error|warning|notice|command|debug|section)\]"
    rb"|Current runner version: '|Requested labels: |Job defined at: |Complete job name: |Post job cleanup\.|"
    rb"Waiting for a runner to pick up this job)"
)
#: (job id, job name) of a source: the API's URL, or the run log archive's ``<job>/<n>_<step>.txt`` / ``<n>_<job>.txt``
_SRC_API = re.compile(r"/actions/jobs/(?P<id>\d+)/logs")
_SRC_STEP = re.compile(r"(?:^|/)(?!logs_\d+/)(?P<job>[^/]+)/\d+_[^/]*\.txt$")  # not the archive's own folder
_SRC_JOB = re.compile(r"(?:^|/)\d+_(?P<job>[^/]+)\.txt$")
_LEVELS = pa.array(["error", "warning", "notice"], S)
_LEVEL_SEV = pa.array([4, 3, 2], _I32)


def job_of(source: str) -> tuple[str | None, str]:
    """(job id, job name as the source tells it: the archive's job, else the file's name)."""
    api = _SRC_API.search(source)
    m = _SRC_STEP.search(source) or _SRC_JOB.search(source)
    name = m.group("job") if m else (source.rsplit("/", 1)[-1] or source)
    return (api.group("id") if api else None), name


class GitHubActionsLog(Format):
    """GitHub Actions job logs (the runner's timestamped lines)."""

    name = "github_actions_log"
    description = ("GitHub Actions job logs (actions/jobs/{id}/logs, the run log archive's files), one event per line "
                   "with job, step, group and level -> Scheduled Job Activity")  # fmt: skip
    framing = "document"
    product = "GitHub Actions"
    vendor = "GitHub"

    def sniff(self, head: bytes) -> int:
        """The runner's time opening the first line, and a line only the runner writes
        (a ``##[...]`` workflow command, ``Current runner version``, ``Complete job name`` ...)."""
        h = head[:8192].removeprefix(BOM).lstrip(b"\r\n")
        if _HEAD_TIME.match(h) and _HEAD_MARKS.search(h):
            return 80
        return 0

    def decode(self, data: bytes, source: str) -> Decoded:
        """Decode one job's log (see the module docstring)."""
        out = Decoded()
        raw, offs = text_lines(data, source, self.name, "job log", out)
        if not len(raw):
            return out
        out.batches.append(self._batch(raw.cast(S), raw, offs, source))
        return out

    def _batch(self, lines: pa.Array, raw: pa.Array, offs: pa.Array, source: str) -> pa.RecordBatch:
        n = len(lines)
        job_id, job = job_of(source)
        st = pc.extract_regex(lines, _LINE)
        text = pc.coalesce(group(st, "text"), pc.if_else(pc.is_valid(st), "", lines))  # a line without the time: all text
        cmd_st = pc.extract_regex(text, _COMMAND)
        cmd = group(cmd_st, "cmd")
        message = pc.replace_substring_regex(pc.coalesce(group(cmd_st, "rest"), text), _ANSI, "")  # ``##[endgroup]`` itself
        named = pc.drop_null(pc.extract_regex(message, r"^Complete job name: (?P<job>.+)$"))
        if len(named):
            job = pc.struct_field(named, "job")[0].as_py()
        jobs = pc.fill_null(group(st, "job"), job)
        first = _firsts(jobs)  # a job's first line: no group or step of the job before it goes on
        opened = pc.if_else(pc.fill_null(pc.equal(cmd, "group"), False), message, pa.scalar(None, S))
        closed = pc.fill_null(pc.equal(cmd, "endgroup"), False)
        grp = _filled(pc.if_else(closed, "", opened), first)
        step_mark = pc.if_else(pc.fill_null(pc.starts_with(opened, "Run "), False), opened, pa.scalar(None, S))
        cleanup = pc.fill_null(pc.equal(message, "Post job cleanup."), False)
        step = _filled(pc.if_else(cleanup, "Post job cleanup", step_mark), first)
        gh_step = group(st, "step")  # ``gh run view --log``'s own step column (its UNKNOWN STEP none)
        if gh_step.null_count < n:
            gh_step = pc.if_else(pc.fill_null(pc.equal(gh_step, "UNKNOWN STEP"), False), pa.scalar(None, S), gh_step)
            step = pc.coalesce(gh_step, step)
        level = pc.index_in(cmd, value_set=_LEVELS)
        sev = pc.fill_null(_LEVEL_SEV.take(level), 1)
        failed = pc.fill_null(pc.and_(pc.equal(cmd, "error"), pc.match_substring_regex(message, _EXIT)), False)
        none = pa.scalar(None, S)
        bid = job_id or job
        ident = [b"%s\0%d\0%s" % (bid.encode(), o, r) for o, r in zip(offs.to_pylist(), raw.to_pylist(), strict=True)]
        cols = base_columns(
            "scheduled_job_activity", kind=self.name, product=self.product, vendor=self.vendor,
            uids=event_uids(self.name, ident), times_ms=parse_times(group(st, "iso")), raws=None, activity_id=99,
            severity_id=sev,
        )  # fmt: skip
        line_no = pa.array(np.arange(1, n + 1)).cast(S)
        members = pc.binary_join_element_wise(
            '{"line":', line_no, ',"step":', pc.fill_null(json_string(step), "null"), ',"group":',
            pc.fill_null(json_string(grp), "null"), ',"command":', pc.fill_null(json_string(cmd), "null"), "}", "",
        )  # fmt: skip
        cols.update({
            "raw_data": lines,
            "message": message,
            "job.name": jobs,
            "job.run_state_id": pa.array([3] * n, _I32),
            "job.run_state": pa.array(["Running"] * n, S),
            "metadata.correlation_uid": pa.array([job_id] * n, S),
            "status_id": pc.if_else(failed, pa.scalar(2, _I32), pa.scalar(None, _I32)),
            "status": pc.if_else(failed, "Failure", none),
            "status_detail": pc.if_else(failed, message, none),
            "unmapped": members,
        })  # fmt: skip
        return to_batch("scheduled_job_activity", cols)


def _firsts(jobs: pa.Array) -> pa.Array:
    """Per line: it is its job's first (the first line, or its job not the line before's)."""
    prev = pa.concat_arrays([pa.nulls(1, S), jobs.slice(0, len(jobs) - 1)])
    return pc.fill_null(pc.not_equal(jobs, prev), True)


def _filled(marks: pa.Array, first: pa.Array) -> pa.Array:
    """``marks`` (a title where one begins, ``""`` where it ends, null else) filled forward within
    a job: the open title at each line, null where none is."""
    marks = pc.if_else(pc.and_(first, pc.is_null(marks)), "", marks)
    filled = pc.fill_null_forward(marks)
    return pc.if_else(pc.fill_null(pc.equal(filled, ""), False), pa.scalar(None, S), filled)
