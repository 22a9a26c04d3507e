"""What a SARIF run says went wrong in it (for :mod:`.sarif`): its invocations' notifications and failure.

A run's ``invocations[]`` (SARIF 2.1.0 §3.20) tell how the tool ran: ``toolExecutionNotifications`` (§3.20.21:
a file it could not parse, an analysis it could not finish; Semgrep's SARIF writes its errors there, CodeQL its
extraction problems) and ``toolConfigurationNotifications`` (§3.20.22: a rule it could not load), each a
``notification`` (§3.58) with a ``level`` (error, warning, note, none; absent: the level the invocation's
``notificationConfigurationOverrides`` give its ``descriptor``, else that descriptor's ``defaultConfiguration.level``
in its tool component's ``notifications``, else warning, §3.58.6: :mod:`._sarif_config`), a ``message`` and a
``descriptor``; ``executionSuccessful`` (§3.20.14) false when the tool failed. A run with such a failure
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
from secpipe.formats._sarif_config import default_level, descriptor_key, overrides
from secpipe.formats._sarif_model import Component
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


class _Levels:
    """The level of a notification that gives none (§3.58.6), in one invocation: see :mod:`._sarif_config`."""

    def __init__(self, comps: list[Component], inv: Any) -> None:
        self.comps = comps
        self.over = overrides(inv.notificationConfigurationOverrides, comps, "notifications")
        # whether a notification without a level of its own can be an error here (a list naming no "error" is skipped)
        self.may_fail = "error" in self.over.values() or any(
            default_level((ci, di), comps, "notifications") == "error"
            for ci, c in enumerate(comps) for di in range(len(c.notifications) if isinstance(c.notifications, list) else 0))

    def of(self, note: dict[str, Any]) -> Any:
        """The notification's level: its own, else its invocation's override, its descriptor's default, warning."""
        if "level" in note:
            return note["level"]
        key = descriptor_key(note.get("descriptor"), self.comps, "notifications")
        return self.over.get(key) if key in self.over else default_level(key, self.comps, "notifications") or "warning"

    def descriptor_id(self, ref: Any) -> str | None:
        """The id a notification's ``descriptor`` gives, else the id of the descriptor its index names."""
        if not isinstance(ref, dict):
            return None
        if isinstance(rid := ref.get("id"), str):
            return rid
        key = descriptor_key(ref, self.comps, "notifications")
        if key is None or not isinstance(key[1], int):
            return None
        d = self.comps[key[0]].notifications[key[1]]
        return d.get("id") if isinstance(d, dict) and isinstance(d.get("id"), str) else None


def run_notifications(kind: str, product: str, vendor: str | None, version: str | None, invocations: list[Any],
                      ri: int, source: str, comps: list[Component] | None = None) -> Decoded:  # fmt: skip
    """The Scan Activity events of one run's invocations (``invocations``: the run's ``_Invocation`` structs, their
    notification lists raw, see :class:`~secpipe.formats._sarif_model.Invocation`); ``ri`` the run's index in its log;
    ``comps`` the run's tool components (driver, then extensions), whose ``notifications`` describe them."""
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
        levels = _Levels(comps or [Component()], inv)
        for key in _LISTS:
            listed = getattr(inv, key)
            if not listed or b'"error"' not in bytes(listed) and not levels.may_fail:  # no error among them (CodeQL
                continue  # notes each file it read)
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
                level = levels.of(note)
                if level not in _FAILURES:
                    continue
                errors += level == "error"
                rid = levels.descriptor_id(note.get("descriptor"))
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
