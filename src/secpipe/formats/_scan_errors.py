"""A scanner's own errors as Scan Activity events (for :mod:`.semgrep` and :mod:`.sarif`).

A report that holds only what a scanner could not do (a rule it could not parse, a file it could not read, a run
that failed) has no finding, and must not read as a clean scan: each error is a **Scan Activity (6007)**,
activity Error (6), status Failure, ``message`` what the scanner said, ``status_detail`` the kind of error it
names, ``status_code`` its code; severity by the scanner's level for it (:data:`LEVELS`: error Medium, warning
Low, info/note Informational: no finding's severity is known, and an error leaves code unscanned);
``scan.type`` Unknown (the report does not say what started the scan), ``scan.name`` the scanner.
"""

from __future__ import annotations

from typing import Any

import pyarrow as pa

from secpipe.formats._findings import S, captions, strs
from secpipe.formats.base import base_columns, const, event_uids, to_batch

_CLS, _ERROR, _FAILURE = "scan_activity", 6, 2
#: a scanner's level for an error (Semgrep's error / warn / info, SARIF's error / warning / note / none) -> severity_id
LEVELS = {"error": 3, "warn": 2, "warning": 2, "info": 1, "note": 1, "none": 1}


def level_severity(level: Any) -> int:
    """The severity_id of a level word (any case; Unknown, 0, for another value)."""
    return LEVELS.get(level.lower(), 0) if isinstance(level, str) else 0


def scan_errors(kind: str, product: str, vendor: str | None, raws: list[bytes], *, severity: list[int],
                message: list[str | None], detail: list[str | None], code: list[str | None], unmapped: pa.Array,
                times_ms: pa.Array | None = None, version: str | None = None, ctx: list[str] | None = None,
                ) -> pa.RecordBatch:  # fmt: skip
    """The Scan Activity batch of ``raws`` (each error's JSON, its ``raw_data``) from format ``kind``, scanner
    ``product``; ``times_ms`` null (or None) where the error has no time of its own (the receipt time, labelled);
    ``ctx`` each error's identity context (where in its report it sits)."""
    n = len(raws)
    cols = base_columns(_CLS, kind=kind, product=product, vendor=vendor, uids=event_uids(kind, raws, ctx),
                        times_ms=pa.nulls(n, pa.int64()) if times_ms is None else times_ms, raws=raws,
                        activity_id=_ERROR, severity_id=pa.array(severity, pa.int32()))  # fmt: skip
    failure = const(_FAILURE, n, pa.int32())
    cols.update({
        "metadata.product.version": const(version, n, S),
        "status_id": failure,
        "status": captions(_CLS, "status_id", failure),
        "status_code": strs(code),
        "status_detail": strs(detail),
        "message": strs(message),
        "scan.type_id": const(0, n, pa.int32()),
        "scan.type": const("Unknown", n, S),
        "scan.name": const(product, n, S),
        "unmapped": unmapped,
    })  # fmt: skip
    return to_batch(_CLS, cols)


__all__ = ["LEVELS", "level_severity", "scan_errors"]
