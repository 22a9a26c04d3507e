"""The targets a Semgrep scan skipped (``paths.skipped`` of a Semgrep JSON report), for :mod:`.semgrep`.

``semgrep --json --verbose`` lists every target it did not scan under ``paths.skipped`` (semgrep-interfaces
``semgrep_output_v1.atd``: ``scanned_and_skipped`` = ``scanned`` (paths) and ``skipped`` (``skipped_target``:
``path``, ``reason`` -- ``semgrepignore_patterns_match``, ``exceeded_size_limit``,
``analysis_failed_parser_or_internal_error``, ``cli_exclude_flags_match`` ... --, ``details``, ``rule_id``: none
for a target skipped for every rule; Semgrep's ``target_manager.py`` adds ``size_limit_bytes`` for a file over
the size limit). Without ``--verbose`` the list is absent (a ``_comment`` says so) and nothing is stored.

A report that lists skipped targets gives one **Scan Activity (6007)**, activity Completed (2): the scan ended
and these targets were not covered. ``num_files`` the scanned paths, ``num_skipped_items`` the skipped ones,
``num_detections`` the report's matches; status Failure where the report holds an error of level ``error``
(each also its own Scan Activity, :mod:`._scan_errors`), else Success; severity Informational, or Low where a
target was skipped because Semgrep failed on it (``analysis_failed_parser_or_internal_error``: code that should
have been scanned was not); ``message`` the counts; ``scan.type`` Unknown and ``scan.name`` the scanner as for
the errors. OCSF has no place for a list of files left out: each skipped target stays, as Semgrep wrote it (its
reason with it), in ``unmapped.skipped``. ``raw_data`` is the report's ``paths`` object; ``metadata.uid`` its hash
in the context of the whole report's digest (one summary a report; the same report redelivered collapses).
A ``paths`` whose ``skipped`` is not a list of objects with a ``path`` is dead-lettered with the reason (the
report's matches and errors are stored as ever).
"""

from __future__ import annotations

import hashlib
from typing import Any

import msgspec
import pyarrow as pa

from secpipe.formats._findings import S, captions
from secpipe.formats.base import base_columns, const, event_uids, to_batch

_CLS, _COMPLETED = "scan_activity", 2
#: the skip reason that means Semgrep failed on a target it meant to scan
_FAILED_ON = "analysis_failed_parser_or_internal_error"


class _Skipped(msgspec.Struct, gc=False):
    path: str
    reason: Any = None


class _Paths(msgspec.Struct, gc=False):
    scanned: list[msgspec.Raw] | None = None
    skipped: list[msgspec.Raw] | None = None


_PATHS = msgspec.json.Decoder(_Paths)
_SKIPPED = msgspec.json.Decoder(list[_Skipped])


def skipped_scan(kind: str, product: str, vendor: str | None, paths: msgspec.Raw, report: bytes, *,
                 version: str | None, detections: int, failed: bool) -> pa.RecordBatch | str | None:  # fmt: skip
    """The Scan Activity of a report's skipped targets (see the module docstring); None when it lists none; the
    reason, when ``paths`` is not Semgrep's shape."""
    raw = bytes(paths)
    try:
        got = _PATHS.decode(raw)
        listed = _SKIPPED.decode(b"[" + b",".join(bytes(s) for s in got.skipped or ()) + b"]")
    except msgspec.DecodeError as exc:  # ValidationError is one
        return f"not a Semgrep paths object (scanned / skipped targets): {exc}"
    if not listed:
        return None
    skipped = [msgspec.json.decode(bytes(s)) for s in got.skipped or ()]
    scanned = len(got.scanned or ())
    status = 2 if failed else 1
    severity = 2 if any(s.reason == _FAILED_ON for s in listed) else 1
    ctx = "report sha256:" + hashlib.sha256(report).hexdigest()
    cols = base_columns(_CLS, kind=kind, product=product, vendor=vendor, uids=event_uids(kind, [raw], [ctx]),
                        times_ms=pa.nulls(1, pa.int64()), raws=[raw], activity_id=_COMPLETED, severity_id=severity)  # fmt: skip
    status_col = const(status, 1, pa.int32())
    cols.update({
        "metadata.product.version": const(version, 1, S),
        "status_id": status_col,
        "status": captions(_CLS, "status_id", status_col),
        "message": const(f"{product} scanned {scanned} targets and skipped {len(listed)}", 1, S),
        "num_files": const(scanned, 1, pa.int32()),
        "num_skipped_items": const(len(listed), 1, pa.int32()),
        "num_detections": const(detections, 1, pa.int32()),
        "scan.type_id": const(0, 1, pa.int32()),
        "scan.type": const("Unknown", 1, S),
        "scan.name": const(product, 1, S),
        "unmapped": pa.array([msgspec.json.encode({"skipped": skipped}).decode()], S),
    })  # fmt: skip
    return to_batch(_CLS, cols)


__all__ = ["skipped_scan"]
