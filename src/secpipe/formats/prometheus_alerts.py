"""Prometheus's own alerts answers, ``GET /api/v1/alerts`` and ``/api/v1/rules``: one Detection Finding per active alert.

What it is (Prometheus HTTP API, ``web/api/v1/api.go``): ``{"status": "success", "data":
{"alerts": [...]}}``, each alert ``labels``, ``annotations``, ``state`` (``pending``: its
expression holds but not yet for the rule's ``for``; ``firing``), ``activeAt`` (when it became
active), ``value`` (the sample value, a string) and, while a ``keep_firing_for`` holds it,
``keepFiringSince``. It is what ``curl prometheus:9090/api/v1/alerts`` and ``promtool``-based
exports write, and the only view of alerts still pending, which Alertmanager never receives.

Mapping (as the Alertmanager formats do, :mod:`secpipe.formats.alertmanager_api`): Detection
Finding (2004), activity Create (1); ``time``, ``start_time``, created and first-seen time =
``activeAt``; status New (1) for both states, the state in ``status_detail``; ``labels.alertname``
-> analytic (Rule) name and the title fallback; ``annotations.summary``/``description`` (else
``message``) -> title/desc; ``labels.severity`` -> ``severity_id``; labels -> ``finding_info.tags``;
``metadata.product`` Prometheus, ``metadata.log_name`` ``api/v1/alerts``. ``annotations``,
``state``, ``value`` and ``keepFiringSince`` stay in ``unmapped``.

Grafana Alerting's Prometheus-compatible ``/api/prometheus/grafana/api/v1/alerts`` (and
``/rules``) answers in this shape with Grafana's instance states (``eval.State``: Alerting,
Pending, Recovering, Normal, NoData, Error, a reason in parentheses after it) and also lists
instances that are not active: Alerting, Pending and Recovering are New (1) as Prometheus's firing
and pending; Normal is Resolved (4), activity Close (3), as an Alertmanager resolved alert; NoData
and Error stay Other (99); Go's zero time (``0001-01-01T00:00:00Z``: an instance never active) is
no ``activeAt`` (the event takes its receipt time).

``finding_info.uid`` is the label set's fingerprint as Prometheus's ``model.LabelSet.Fingerprint``
computes it (FNV-1a 64 over the sorted names and values, each followed by byte 0xff; 16 hex
digits), which is the ``fingerprint`` Alertmanager gives the same alert: a pending alert seen
here and its later notification share the finding uid (unless Prometheus adds external labels
on the way). Why by hand: it is eight lines, and the prometheus client for Python does not expose it.

``GET /api/v1/rules`` (``{"status", "data": {"groups": [{"name", "file", "rules": [...]}]}}``,
``web/api/v1/api.go``): an alerting rule (``"type": "alerting"``) lists its active alerts in
``alerts``, each of the ``/api/v1/alerts`` shape (Prometheus adds the rule's name as the
``alertname`` label): those are mapped the same way, ``metadata.log_name`` ``api/v1/rules``; a
recording rule, or an alerting rule with none active, holds no alert. A group or rule of another
shape is dead-lettered alone; an answer with no active alert is dead-lettered as for the alerts.

Identity: hash of the alert's bytes: polling an unchanged alert collapses (the same alert read in
both answers too); a new value or state is a new event. An element that is not an alert object is
dead-lettered with the reason.
"""

from __future__ import annotations

import re
from typing import Any

import msgspec
import pyarrow as pa

from secpipe.formats._findings import S, captions, compact, finding_base, severity_list, strs
from secpipe.formats.alertmanager_api import Notes, alert_columns, read_fields
from secpipe.formats.base import (
    DeadLetter,
    Decoded,
    Format,
    decode_strict,
    event_uids,
    parse_times,
    to_batch,
    unmapped_from,
)


class _Alert(msgspec.Struct, forbid_unknown_fields=True, gc=False):
    labels: dict[str, Any] | None = None
    activeAt: str | None = None
    # kept raw for ``unmapped`` (annotations also read for summary/description, state for status)
    annotations: msgspec.Raw = msgspec.Raw(b"")
    state: msgspec.Raw = msgspec.Raw(b"")
    value: msgspec.Raw = msgspec.Raw(b"")
    keepFiringSince: msgspec.Raw = msgspec.Raw(b"")


_UNMAPPED = ("annotations", "state", "value", "keepFiringSince")


class _Data(msgspec.Struct, gc=False):
    alerts: list[msgspec.Raw] | None = None
    groups: list[msgspec.Raw] | None = None  # /api/v1/rules: each group read alone (_Group)


class _Group(msgspec.Struct, gc=False):
    rules: list[msgspec.Raw] | None = None  # each rule read alone (_Rule)


class _Rule(msgspec.Struct, gc=False):
    type: Any = None
    alerts: list[msgspec.Raw] | None = None


class _Answer(msgspec.Struct, gc=False):
    status: Any = None
    data: _Data | None = None


#: an object opening with Prometheus's response keys (``status`` first as Prometheus writes it;
#: ``data`` first as its documentation prints it, keys sorted)
_HEAD = re.compile(rb'(?:\xef\xbb\xbf)?\s*\{\s*"(?:status|data)"\s*:')
_DATA_OBJECT = re.compile(rb'"data"\s*:\s*\{')  # Alertmanager's API v1 answers hold an array there
_ANSWER = msgspec.json.Decoder(_Answer)
_STATE = msgspec.json.Decoder(str | None)
_NOTES = msgspec.json.Decoder(Notes | None)
_GROUP = msgspec.json.Decoder(_Group)
_RULE = msgspec.json.Decoder(_Rule)
_CLS = "detection_finding"
_API = "api/v1/alerts"
_RULES_API = "api/v1/rules"


def sniff_prometheus(head: bytes) -> bool:
    """Whether ``head`` starts an ``/api/v1/alerts`` answer (``activeAt`` is Prometheus's own key:
    Alertmanager's alerts have ``startsAt``)."""
    h = head[:8192]
    return looks_prometheus(h) and ((b'"activeAt"' in h and b'"labels"' in h) or _rules_head(h))


def _rules_head(h: bytes) -> bool:
    """An ``/api/v1/rules`` answer's head: groups of rules, each with its ``query`` (written before
    its alerts: a rule's ``type`` comes last, past a long alerts list)."""
    return b'"groups"' in h and b'"rules"' in h and b'"query"' in h


def looks_prometheus(data: bytes) -> bool:
    """Whether a document given as this format is a Prometheus alerts answer (what
    :func:`decode_prometheus` reads; an empty one too): Prometheus's response keys, ``data``
    holding ``alerts``, none of the Alertmanager webhook's envelope keys."""
    h = data[:8192]
    return (_HEAD.match(h) is not None and _DATA_OBJECT.search(h) is not None
            and (b'"alerts"' in h or _rules_head(h))
            and b'"groupKey"' not in h and b'"receiver"' not in h)  # fmt: skip


def fingerprint(labels: dict[str, Any]) -> str:
    """Prometheus's ``LabelSet.Fingerprint`` of ``labels``, as 16 hex digits (see module docstring)."""
    h = 0xCBF29CE484222325
    for name in sorted(labels):
        for part in (name.encode(), str(labels[name]).encode()):
            for b in part + b"\xff":
                h = ((h ^ b) * 0x100000001B3) & 0xFFFFFFFFFFFFFFFF
    return f"{h:016x}"


def _rule_alerts(groups: list[msgspec.Raw], source: str, fmt: str, out: Decoded) -> list[bytes]:
    """The alerts of an ``/api/v1/rules`` answer's alerting rules, in order; a group or rule of
    another shape is dead-lettered alone (a recording rule holds none)."""
    raws: list[bytes] = []
    for gi, g in enumerate(groups):
        try:
            rules = _GROUP.decode(g).rules or []
        except msgspec.DecodeError as exc:
            out.dead.append(DeadLetter(f"not a Prometheus rule group: {exc} (group {gi})", source, gi, bytes(g), fmt))
            out.events += 1
            continue
        for ri, r in enumerate(rules):
            try:
                rule = _RULE.decode(r)
            except msgspec.DecodeError as exc:
                why = f"not a Prometheus rule: {exc} (group {gi}, rule {ri})"
                out.dead.append(DeadLetter(why, source, gi, bytes(r), fmt))
                out.events += 1
                continue
            if rule.type != "recording":
                raws.extend(bytes(a) for a in rule.alerts or ())
    return raws


def decode_prometheus(fmt: Format, data: bytes, source: str) -> Decoded:
    """Map an ``/api/v1/alerts`` answer, or the alerts of an ``/api/v1/rules`` answer."""
    try:
        ans = _ANSWER.decode(compact(data))  # canonical bytes: a re-indented answer is the same events
    except (msgspec.DecodeError, msgspec.ValidationError) as exc:
        why = f"not a Prometheus /api/v1/alerts or /api/v1/rules answer: {exc}"
        return Decoded(dead=[DeadLetter(why, source, 0, data, fmt.name)], events=1)
    out = Decoded()
    body = ans.data or _Data()
    rules = body.alerts is None and body.groups is not None
    api = _RULES_API if rules else _API
    raws = _rule_alerts(body.groups or [], source, fmt.name, out) if rules else [bytes(a) for a in body.alerts or ()]
    if not raws:
        if out.dead:
            return out
        why = f"a Prometheus /{api} answer without alerts (status {ans.status!r}): nothing was active"
        return Decoded(dead=[DeadLetter(why, source, 0, data, fmt.name)], events=1)
    out.events += len(raws)
    st = decode_strict(raws, [(source, i) for i in range(len(raws))], _Alert, out, fmt.name, "a Prometheus alert")
    st, got, _keep = read_fields(st, out, fmt.name, "not a Prometheus alert", {"state": _STATE, "annotations": _NOTES})
    if st.recs:
        out.batches.append(_batch(fmt, st.recs, st, got["state"], [n or Notes() for n in got["annotations"]], api))
    return out


_ZERO = "0001-01-01"
#: Grafana Alerting's instance states (``eval.State``, a reason in parentheses after it: "Alerting
#: (NoData)", "Normal (MissingSeries)"), as its Prometheus-compatible API lists them
_ACTIVE = ("firing", "pending", "alerting", "recovering")


def _status_id(state: str | None) -> int:
    """New (1) for an active alert (Prometheus's firing/pending; Grafana's Alerting, Pending and
    Recovering, which its API reports as firing, pending and recovering rules), Resolved (4) for
    Grafana's Normal (an instance whose condition no longer holds, or never held), Unknown (0)
    without a state, else Other (99: Grafana's NoData and Error, kept in ``status_detail``)."""
    if state is None:
        return 0
    word = state.split(" (", 1)[0].strip().lower()
    return 1 if word in _ACTIVE else 4 if word == "normal" else 99


def _batch(fmt: Format, al: list[_Alert], st: Any, states: list[str | None], notes: list[Notes],
           api: str) -> pa.RecordBatch:  # fmt: skip
    n = len(al)
    labels = [a.labels or {} for a in al]
    # Go's zero time (Grafana's instance that was never active): no time (the receipt's is taken)
    active = parse_times(strs([None if a.activeAt is None or a.activeAt.startswith(_ZERO) else a.activeAt
                               for a in al]))
    status_ids = [_status_id(s) for s in states]
    cols = finding_base(
        _CLS, kind=fmt.name, product="Prometheus", vendor="Prometheus", uids=event_uids(fmt.name, st.raws),
        times_ms=active, raws=st.raws, activity_ids=[3 if s == 4 else 1 for s in status_ids],
        severity=severity_list([None if (v := lb.get("severity")) is None else str(v) for lb in labels]),
    )  # fmt: skip
    status_id = pa.array(status_ids, pa.int32())
    cols.update(alert_columns(labels, notes, active))
    cols.update({
        "start_time": active,
        "status_id": status_id,
        "status": captions(_CLS, "status_id", status_id),
        "status_detail": strs(states),
        "metadata.log_name": pa.array([api] * n, S),
        "finding_info.uid": strs([fingerprint(lb) for lb in labels]),
    })  # fmt: skip
    cols["unmapped"] = unmapped_from(st, _UNMAPPED)
    return to_batch(_CLS, cols)


__all__ = ["decode_prometheus", "fingerprint", "looks_prometheus", "sniff_prometheus"]
