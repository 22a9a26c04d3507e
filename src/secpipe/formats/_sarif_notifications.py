"""What a SARIF run says of its own scan (for :mod:`.sarif`): its invocations' notifications and failure.

A run's ``invocations[]`` (SARIF 2.1.0 §3.20) tell how the tool ran: ``toolExecutionNotifications`` (§3.20.21:
a file it could not parse, an analysis it could not finish; Semgrep's SARIF writes its errors there, CodeQL its
extraction problems) and ``toolConfigurationNotifications`` (§3.20.22: a rule it could not load), each a
``notification`` (§3.58) with a ``level`` (error, warning, note, none; absent: warning, §3.58.6), a ``message``
and a ``descriptor``; ``executionSuccessful`` (§3.20.14) false when the tool failed. A run that failed must not
read as a clean scan, nor one that left files unscanned as a complete one, so (:mod:`._scan_errors`, which says
why this shape):

- each notification of level error, warning or note is a **Scan Activity (6007)**: an error activity Error, status
  Failure, severity Medium; a warning (a file parsed in part, a rule skipped) or a note activity Completed, status
  Success, severity Low / Informational. ``message`` its message (``text``, else ``markdown``, else its
  descriptor's id), ``status_detail`` its ``descriptor.id``, time its ``timeUtc`` (else the run's invocation
  time, else the receipt time, labelled); its other keys (``locations``: the file it is about, ``exception``,
  ``associatedRule`` ...) in ``unmapped``, the notification in ``raw_data``. A level other than SARIF's four is
  taken for an error (fail closed). Level ``none`` is no problem (CodeQL writes one for each file it extracted)
  and is not stored.
- an invocation with ``executionSuccessful`` false and no error notification of its own is one more such event,
  activity Error, status Failure: ``message`` its ``exitCodeDescription`` (else ``exitSignalName``, else that the
  tool reported a failed run), ``status_code`` its ``exitCode``, ``raw_data`` those keys.

Product, vendor and version are the run's tool driver's. A notification that is no object, or a notification list
that is no array, is dead-lettered alone with the reason. A list is read for its levels first in one decode, so a
list of thousands of level-none notifications (CodeQL's) is not decoded item by item.
"""

from __future__ import annotations

from typing import Any

import msgspec
import pyarrow as pa

from secpipe.formats._findings import report_time
from secpipe.formats._scan_errors import is_failure, level_severity, scan_errors
from secpipe.formats.base import DeadLetter, Decoded

_LISTS = ("toolExecutionNotifications", "toolConfigurationNotifications")
_PLACED = frozenset({"level", "message"})
_ANY = msgspec.json.Decoder()


class _Level(msgspec.Struct, gc=False):
    level: Any = "warning"  # §3.58.6: absent, a notification is a warning


_LEVELS = msgspec.json.Decoder(list[_Level])
_RAWS = msgspec.json.Decoder(list[msgspec.Raw])
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
    failed: list[bool] = []
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
            if not listed:
                continue
            try:  # the levels alone, in one decode (CodeQL lists a level-none notification per file it extracted)
                stored = [k for k, lv in enumerate(_LEVELS.decode(listed)) if lv.level != "none"]
            except msgspec.ValidationError:  # an item that is no object: each is looked at below
                stored = None
            if stored == []:
                continue
            try:
                items = _RAWS.decode(listed)
            except msgspec.ValidationError as exc:
                out.dead.append(DeadLetter(f"not a SARIF notification list: {exc} - at `$.runs[{ri}].invocations[{ii}]."
                                           f"{key}`", source, 0, bytes(listed), kind))  # fmt: skip
                continue
            for k in range(len(items)) if stored is None else stored:
                raw = items[k]
                note = _ANY.decode(raw)
                if not isinstance(note, dict):
                    out.dead.append(DeadLetter(f"not a SARIF notification (an object): `$.runs[{ri}].invocations[{ii}]."
                                               f"{key}[{k}]`", source, 0, bytes(raw), kind))  # fmt: skip
                    continue
                level = note.get("level", "warning")
                if level == "none":
                    continue
                failure = is_failure(level)
                errors += failure
                rule = note.get("descriptor")
                rid = rule.get("id") if isinstance(rule, dict) and isinstance(rule.get("id"), str) else None
                when = note.get("timeUtc")
                rest = {n: v for n, v in note.items() if n not in _PLACED}
                raws.append(bytes(raw))
                ctx.append(f"{product}\0{ri}\0{ii}\0{key}\0{k}")
                failed.append(failure)
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
            failed.append(True)
            sev.append(level_severity("error"))
            message.append(why or "the tool reported that its run failed (executionSuccessful false)")
            detail.append(None)
            code.append(str(inv.exitCode) if isinstance(inv.exitCode, int) and not isinstance(inv.exitCode, bool) else None)
            times.append(at)
            unmapped.append(None)
    out.events = len(raws) + len(out.dead)
    if raws:
        out.batches.append(scan_errors(kind, product, vendor, raws, ctx=ctx, severity=sev, message=message,
                                       detail=detail, code=code, failed=failed, times_ms=pa.array(times, pa.int64()),
                                       unmapped=pa.array(unmapped, pa.string()), version=version))  # fmt: skip
    return out


__all__ = ["run_notifications"]
