"""What a SARIF run says went wrong in it (for :mod:`.sarif`): its invocations' notifications and failure.

A run's ``invocations[]`` (SARIF 2.1.0 §3.20) tell how the tool ran: ``toolExecutionNotifications`` (§3.20.21:
a file it could not parse, an analysis it could not finish; Semgrep's SARIF writes its errors there, CodeQL its
extraction problems) and ``toolConfigurationNotifications`` (§3.20.22: a rule it could not load), each a
``notification`` (§3.58) with a ``level`` (error, warning, note, none; absent: warning, §3.58.6), a ``message``
and a ``descriptor``; ``executionSuccessful`` (§3.20.14) false when the tool failed. A run with such a failure
and no result must not read as a clean scan, so (:mod:`._scan_errors`):

- each notification of level error is a **Scan Activity (6007)**, activity Error, status Failure, severity
  Medium: ``message`` its message (``text``, else ``markdown``, else its descriptor's id), ``status_detail`` its
  ``descriptor.id``, time its ``timeUtc`` (else the run's invocation time, else the receipt time, labelled); its
  other keys (``locations``, ``exception``, ``associatedRule`` ...) in ``unmapped``, the notification in
  ``raw_data``. Warnings and notes are no failures of the run (Semgrep warns of a file it parsed in part, CodeQL
  notes each file it extracted) and are not stored.
- an invocation with ``executionSuccessful`` false and no error notification of its own is one more such event:
  ``message`` its ``exitCodeDescription`` (else ``exitSignalName``, else that the tool reported a failed run),
  ``status_code`` its ``exitCode``, ``raw_data`` those keys.

Product, vendor and version are the run's tool driver's. A notification that is no object, or a notification list
that is no array, is dead-lettered alone with the reason (in a list that names an error: one that names none holds no
failure and is not read further).
"""

from __future__ import annotations

from typing import Any

import msgspec
import pyarrow as pa

from secpipe.formats._findings import report_time
from secpipe.formats._scan_errors import level_severity, scan_errors
from secpipe.formats.base import DeadLetter, Decoded

_LISTS = ("toolExecutionNotifications", "toolConfigurationNotifications")
_FAILURES = frozenset({"error"})
_PLACED = frozenset({"level", "message"})
_ANY = msgspec.json.Decoder()
_EXIT_KEYS = ("executionSuccessful", "exitCode", "exitCodeDescription", "exitSignalName", "exitSignalNumber")


def _text(message: Any) -> str | None:
    if not isinstance(message, dict):
        return None
    return next((t for t in (message.get("text"), message.get("markdown")) if isinstance(t, str) and t), None)


def run_notifications(kind: str, product: str, vendor: str | None, version: str | None, invocations: list[Any],
                      ri: int, source: str) -> Decoded:  # fmt: skip
    """The Scan Activity events of one run's invocations (``invocations``: the run's ``_Invocation`` structs, their
    notification lists raw, see :class:`~secpipe.formats._sarif_model.Invocation`); ``ri`` the run's index in its log."""
    out = Decoded()
    raws: list[bytes] = []
    ctx: list[str] = []
    sev: list[int] = []
    message: list[str | None] = []
    detail: list[str | None] = []
    code: list[str | None] = []
    times: list[int | None] = []
    unmapped: list[str | None] = []
    for ii, inv in enumerate(invocations):
        at = report_time(inv.endTimeUtc or inv.startTimeUtc)
        errors = 0
        for key in _LISTS:
            listed = getattr(inv, key)
            if not listed or b'"error"' not in bytes(listed):  # no error among them (CodeQL notes each file it read)
                continue
            try:
                items = msgspec.json.decode(listed, type=list[msgspec.Raw])
            except msgspec.ValidationError as exc:
                out.dead.append(DeadLetter(f"not a SARIF notification list: {exc} - at `$.runs[{ri}].invocations[{ii}]."
                                           f"{key}`", source, 0, bytes(listed), kind))  # fmt: skip
                continue
            for k, raw in enumerate(items):
                note = _ANY.decode(raw)
                if not isinstance(note, dict):
                    out.dead.append(DeadLetter(f"not a SARIF notification (an object): `$.runs[{ri}].invocations[{ii}]."
                                               f"{key}[{k}]`", source, 0, bytes(raw), kind))  # fmt: skip
                    continue
                level = note.get("level", "warning")
                if level not in _FAILURES:
                    continue
                errors += level == "error"
                rule = note.get("descriptor")
                rid = rule.get("id") if isinstance(rule, dict) and isinstance(rule.get("id"), str) else None
                when = note.get("timeUtc")
                rest = {n: v for n, v in note.items() if n not in _PLACED}
                raws.append(bytes(raw))
                ctx.append(f"{product}\0{ri}\0{ii}\0{key}\0{k}")
                sev.append(level_severity(level))
                message.append(_text(note.get("message")) or rid)
                detail.append(rid)
                code.append(None)
                times.append((report_time(when) if isinstance(when, str) else None) or at)
                unmapped.append(msgspec.json.encode(rest).decode() if rest else None)
        if inv.executionSuccessful is False and not errors:
            said = {n: getattr(inv, n) for n in _EXIT_KEYS if getattr(inv, n) is not None}
            why = next((t for t in (inv.exitCodeDescription, inv.exitSignalName) if isinstance(t, str) and t), None)
            raws.append(msgspec.json.encode(said))
            ctx.append(f"{product}\0{ri}\0{ii}\0executionSuccessful")
            sev.append(level_severity("error"))
            message.append(why or "the tool reported that its run failed (executionSuccessful false)")
            detail.append(None)
            code.append(str(inv.exitCode) if isinstance(inv.exitCode, int) and not isinstance(inv.exitCode, bool) else None)
            times.append(at)
            unmapped.append(None)
    out.events = len(raws) + len(out.dead)
    if raws:
        out.batches.append(scan_errors(kind, product, vendor, raws, ctx=ctx, severity=sev, message=message,
                                       detail=detail, code=code, times_ms=pa.array(times, pa.int64()),
                                       unmapped=pa.array(unmapped, pa.string()), version=version))  # fmt: skip
    return out


__all__ = ["run_notifications"]
