"""What a scanner says of its own scan, as Scan Activity events (for :mod:`.semgrep` and :mod:`.sarif`).

A report holds, beside its findings, what the scanner could not do: a rule it could not parse, a run that failed
(Semgrep's ``errors`` of level ``error``; SARIF's notifications of level ``error``, an invocation whose
``executionSuccessful`` is false), and what it did only in part while the scan still succeeded: a file it parsed in
part or gave up on after a timeout, a rule it skipped (Semgrep's ``warn`` and ``info``: "only an error if strict is
set", "nothing may be wrong", semgrep-interfaces ``semgrep_output_v1.atd`` ``error_severity``; SARIF's ``warning``
and ``note``, §3.58.6). Neither is a finding (no weakness of the code is known), and neither may be dropped: a
report with no finding must not read as a clean scan when the scan failed, nor as a complete one when files went
unscanned (a coverage gap a security engineer has to see even when the scan "succeeded").

So each is one **Scan Activity (6007)** event (OCSF 1.8.0: "the start, completion, and results of a scan job"):

- a failure (level error): activity **Error** (6, "the scan could not be completed due to an internal error"),
  status **Failure**;
- a warning or note (warn / info): activity **Completed** (2), status **Success**: the scan ran to its end, and
  ``status_detail`` / ``message`` say what it left out or only partly read. Error does not fit it (the scan
  completed), and a finding does not either.

One event per error or notification, not one per scan summing them: each names its own file, rule and reason (the
path, spans or locations stay in ``unmapped``), so "which files were not scanned, and why" is one query, and a
report sent twice collapses by uid; a per-scan summary would need a list of files OCSF 1.8.0's Scan Activity has no
attribute for (``num_skipped_items`` is a count, and a warning does not always mean a whole file was skipped).

Columns: ``message`` what the scanner said, ``status_detail`` the kind it names, ``status_code`` its code;
severity by the scanner's level (:data:`LEVELS`: error Medium, warning Low, info/note Informational: no finding's
severity is known, and a gap leaves code unscanned); ``scan.type`` Unknown (the report does not say what started
the scan), ``scan.name`` the scanner. A SARIF notification of level ``none`` (no problem: CodeQL writes one for each
file it extracted) is not stored.
"""

from __future__ import annotations

from typing import Any

import pyarrow as pa

from secpipe.formats._findings import S, captions, strs
from secpipe.formats.base import base_columns, const, event_uids, to_batch

_CLS = "scan_activity"
_COMPLETED, _ERROR = 2, 6  # activity_id
_SUCCESS, _FAILURE = 1, 2  # status_id
#: a scanner's level for an error (Semgrep's error / warn / info, SARIF's error / warning / note / none) -> severity_id
LEVELS = {"error": 3, "warn": 2, "warning": 2, "info": 1, "note": 1, "none": 1}


#: the levels of no failure (Semgrep's warn / info, SARIF's warning / note / none)
_NOT_FAILED = frozenset({"warn", "warning", "info", "note", "none"})


def is_failure(level: Any) -> bool:
    """Whether a level word (any case) is a failure of the scan: any but warn / warning / info / note / none, so an
    unknown or absent level is one (fail closed: a scan is not taken for complete on a word not understood)."""
    return not (isinstance(level, str) and level.lower() in _NOT_FAILED)


def level_severity(level: Any) -> int:
    """The severity_id of a level word (any case; Unknown, 0, for another value)."""
    return LEVELS.get(level.lower(), 0) if isinstance(level, str) else 0


def scan_errors(kind: str, product: str, vendor: str | None, raws: list[bytes], *, severity: list[int],
                message: list[str | None], detail: list[str | None], code: list[str | None], unmapped: pa.Array,
                failed: list[bool] | None = None, times_ms: pa.Array | None = None, version: str | None = None,
                ctx: list[str] | None = None) -> pa.RecordBatch:  # fmt: skip
    """The Scan Activity batch of ``raws`` (each error's JSON, its ``raw_data``) from format ``kind``, scanner
    ``product``: where ``failed`` (all when None) activity Error, status Failure, else activity Completed, status
    Success (see the module docstring); ``times_ms`` null (or None) where the error has no time of its own (the
    receipt time, labelled); ``ctx`` each error's identity context (where in its report it sits)."""
    n = len(raws)
    if failed is None or all(failed):
        activity: pa.Array | int = _ERROR
        status = const(_FAILURE, n, pa.int32())
    else:
        activity = pa.array([_ERROR if f else _COMPLETED for f in failed], pa.int32())
        status = pa.array([_FAILURE if f else _SUCCESS for f in failed], pa.int32())
    cols = base_columns(_CLS, kind=kind, product=product, vendor=vendor, uids=event_uids(kind, raws, ctx),
                        times_ms=pa.nulls(n, pa.int64()) if times_ms is None else times_ms, raws=raws,
                        activity_id=activity, severity_id=pa.array(severity, pa.int32()))  # fmt: skip
    cols.update({
        "metadata.product.version": const(version, n, S),
        "status_id": status,
        "status": captions(_CLS, "status_id", status),
        "status_code": strs(code),
        "status_detail": strs(detail),
        "message": strs(message),
        "scan.type_id": const(0, n, pa.int32()),
        "scan.type": const("Unknown", n, S),
        "scan.name": const(product, n, S),
        "unmapped": unmapped,
    })  # fmt: skip
    return to_batch(_CLS, cols)


__all__ = ["LEVELS", "is_failure", "level_severity", "scan_errors"]
