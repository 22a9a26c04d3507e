"""Prometheus Alertmanager webhook payloads (``version: "4"``): one Detection Finding per alert.

Each ``alerts[]`` entry -> Detection Finding (2004). Status: ``firing`` -> activity Create (1),
status New (1); ``resolved`` -> activity Close (3), status Resolved (4) (the alert's own
``status``, else the payload's). ``time`` = ``endsAt`` for a resolved alert, else ``startsAt``;
``start_time``/``end_time`` = startsAt/endsAt (Alertmanager's "zero" time
``0001-01-01T00:00:00Z`` means not ended and is left null).

A start Alertmanager would not have (zero, empty or absent ``startsAt``: Go's zero ``time.Time``) is what
Alertmanager makes of it when it receives such an alert (``api/v2`` ``postAlertsHandler``, "Ensure StartsAt is
set"): the alert's ``endsAt`` where it has one, else the time it was received (secpipe's receipt time: ``time``,
with the ``secpipe:time_from_receipt`` label, ``start_time`` left null); ``unmapped.secpipe_startsAt`` says which
("endsAt" / "receipt"). A
``startsAt`` or ``endsAt`` given that is no time is refused as Alertmanager refuses it (its API answers 400
``bad_data``): that alert alone is dead-lettered with the reason (a time is not invented for it).

Mapping: ``labels.alertname`` -> ``finding_info.analytic.name`` and the title fallback;
``annotations.summary`` -> ``finding_info.title`` (``description`` -> ``finding_info.desc``,
``message``); ``labels.severity`` -> ``severity_id`` with the shared severity words (critical,
warning, info, page ...; anything else Unknown); ``fingerprint`` -> ``finding_info.uid`` and
``metadata.original_event_uid``; ``generatorURL`` -> ``finding_info.src_url``; every label ->
``finding_info.tags`` (name/value), and the Kubernetes objects the labels name (``pod``, ``container``,
``deployment``... in their ``namespace``; ``node``; kube-state-metrics' and the Prometheus Operator's label
names) -> ``resources`` (:func:`.alertmanager_api.k8s_resources`); ``groupKey`` -> ``metadata.correlation_uid`` (an empty
string, as proxies re-serializing the payload from Go structs write an absent one, counts as
absent: ``finding_info.uid`` is then the event's uid). The payload's
receiver, externalURL, groupLabels, commonAnnotations and truncatedAlerts go to
``unmapped.webhook``; the alert's annotations and other keys stay in ``unmapped``;
``raw_data`` is the alert's own JSON. A context value longer than 4 KiB encoded is kept whole in
the batch's first alert only, the others naming that event (``{"in_event": uid}``), and a groupKey
that long is kept there too, its SHA-256 the correlation uid: copied into every alert, a few MB of
context made gigabytes of rows.

Grafana Alerting's webhook contact point sends the same payload (``version`` "1") plus
``orgId``, ``title``, ``state`` and ``message`` (and per alert ``silenceURL``, ``dashboardURL``,
``panelURL``, ``values``, which stay in ``unmapped``): such a payload is mapped alike, with
product Grafana Alerting (vendor Grafana Labs) and those keys in ``unmapped.webhook``.

Grafana's legacy (dashboard) alerting webhook, one notification a POST without ``alerts``, is
mapped by :mod:`secpipe.formats._grafana_legacy`, a Detection Finding per notification.

Prometheus's own ``/api/v1/alerts`` answer (pending and firing alerts, before Alertmanager) is
read by :mod:`secpipe.formats.prometheus_alerts`.

The API answers (``/api/v2/alerts``, ``/api/v2/alerts/groups``: JSON arrays; API v1's
``{"status": "success", "data": [...]}``) are accepted by name and auto-detection too:
:mod:`secpipe.formats.alertmanager_api`.

An HTTP API error answer (``{"status": "error", "errorType": "bad_data", "error": "..."}``, as
Prometheus's ``/api/v1/*`` and Alertmanager's API v1 write a failed request) holds no alert: it is
recognized and dead-lettered with its error type and message, so the failed fetch is told as
such rather than as an unrecognized document.

Identity: hash of the group key, the alert ordinal and the alert bytes -- a retried delivery of
the same notification collapses, a later resolved notification is a new event. A payload
without ``alerts`` is dead-lettered.
"""

from __future__ import annotations

import hashlib
import re
from typing import Any

import msgspec
import pyarrow as pa

from secpipe import _compute as pc
from secpipe.formats import _fast
from secpipe.formats._findings import (
    MEMO_ROWS,
    ReportFormat,
    S,
    compact,
    finding_base,
    memo_columns,
    paused_gc,
    record_bytes,
    severity_list,
    strs,
    typed_records,
    unmapped_items,
    unmapped_with,
)
from secpipe.formats._grafana_legacy import decode_legacy, looks_legacy
from secpipe.formats.alertmanager_api import (
    Notes,
    alert_columns,
    decode_api,
    looks_api,
    sniff_api,
)
from secpipe.formats.base import (
    Decoded,
    Strict,
    const,
    event_uids,
    parse_times,
    string_column,
    to_batch,
    unmapped_from,
)
from secpipe.formats.prometheus_alerts import decode_prometheus, looks_prometheus, sniff_prometheus


class _Payload(msgspec.Struct):
    version: Any = None
    status: str | None = None
    receiver: str | None = None
    groupKey: str | None = None
    externalURL: str | None = None
    truncatedAlerts: int | None = None
    groupLabels: dict[str, Any] | None = None
    commonLabels: dict[str, Any] | None = None
    commonAnnotations: dict[str, Any] | None = None
    alerts: list[msgspec.Raw] | None = None
    # Grafana Alerting's webhook contact point adds these to the Alertmanager payload
    orgId: Any = None
    title: str | None = None
    state: str | None = None
    message: str | None = None


class _ApiError(msgspec.Struct, gc=False):
    status: str | None = None
    errorType: Any = None
    error: Any = None


_API_ERROR = msgspec.json.Decoder(_ApiError)
#: an API answer of a failed request (Prometheus's ``api/v1`` response: ``status`` written first)
_ERROR_HEAD = re.compile(rb'(?:\xef\xbb\xbf)?\s*\{\s*"status"\s*:\s*"error"\s*,')


def _api_error(data: bytes) -> str | None:
    """The dead-letter reason of an API error answer (see module docstring); None for anything else."""
    if _ERROR_HEAD.match(data[:64]) is None:
        return None
    try:
        ans = _API_ERROR.decode(data)
    except msgspec.DecodeError:
        return None
    if ans.status != "error" or ans.errorType is None and ans.error is None:
        return None
    return (f"a Prometheus/Alertmanager HTTP API error answer, no alerts (errorType {ans.errorType!r}: "
            f"{ans.error!r}): the request that fetched it failed; fetch the alerts again")


class _Alert(msgspec.Struct, forbid_unknown_fields=True, gc=False):
    status: str | None = None
    labels: dict[str, Any] | None = None
    startsAt: str | None = None
    endsAt: str | None = None
    generatorURL: str | None = None
    fingerprint: str | None = None
    annotations: msgspec.Raw = msgspec.Raw(b"")  # kept raw for ``unmapped``; summary/description read from it


class _TypedPayload(msgspec.Struct, gc=False):
    alerts: list[_Alert] | None = None


_TYPED = msgspec.json.Decoder(_TypedPayload)
#: The payload with its alerts typed, decoded in one call where the native split gives the alerts' bytes.
_FULL = msgspec.json.Decoder(msgspec.defstruct("_Full", [("alerts", list[_Alert] | None, None)], bases=(_Payload,), gc=False))
_NOTES = msgspec.json.Decoder(Notes)
_NOTES_LIST = msgspec.json.Decoder(list[Notes])
_NO_NOTES = Notes()
_NULL = msgspec.Raw(b"null")


def _notes(raw: msgspec.Raw) -> Notes:
    return _NOTES.decode(raw) if raw and raw != _NULL else _NO_NOTES


def _read_notes(st: Strict) -> tuple[list[Notes], list[str | None] | None]:
    """Every alert's annotations, decoded in one call, and None; when that fails, per alert
    its annotations (none where unreadable) and why those cannot be read, or None where they
    can. Unreadable: not a JSON object (``null`` reads as none), or a value msgspec cannot hold
    (a number beyond float64 such as ``1e400``), which raised out of the decode and lost the
    payload's other alerts."""
    raws = [a.annotations for a in st.recs]
    try:
        return _NOTES_LIST.decode(b"[" + b",".join([r if r and r != _NULL else b"{}" for r in raws]) + b"]"), None
    except msgspec.DecodeError:
        pass
    notes: list[Notes] = []
    bad: list[str | None] = []
    for r in raws:
        try:
            notes.append(_notes(r))
            bad.append(None)
        except msgspec.DecodeError as exc:
            why = str(exc)  # a value's own path, else the annotations are no object
            why = (why.replace("`$", "`$.annotations", 1) if "`$" in why
                   else f"{why} - at `$.annotations` (expected an object of strings)")  # fmt: skip
            notes.append(_NO_NOTES)
            bad.append(f"not an Alertmanager alert: {why}")
    return notes, bad


class _Types(msgspec.Struct, gc=False):
    """The alert fields the webhook payload (version 4, Alertmanager's ``notify/webhook``: Go's
    ``template.Alert``) gives as strings: ``status`` ("firing"/"resolved"), ``labels`` and
    ``annotations`` (``map[string]string``), ``startsAt``/``endsAt`` (RFC 3339), ``generatorURL``,
    ``fingerprint``. Decoded exactly, no number read as text (as :func:`~.base.decode_strict`'s
    fallback does for ids): a number there is no alert any Alertmanager or Grafana sent."""

    status: str | None = None
    labels: dict[str, str] | None = None
    annotations: dict[str, str] | None = None
    startsAt: str | None = None
    endsAt: str | None = None
    generatorURL: str | None = None
    fingerprint: str | None = None


_TYPES = msgspec.json.Decoder(list[_Types])
_ONE_TYPES = msgspec.json.Decoder(_Types)


def _wrong_types(raws: list[Any]) -> list[str | None] | None:
    """None when every alert's fields have the spec's types (one decode of them all); else per
    alert why it is refused (None where it is right)."""
    try:
        _TYPES.decode(b"[" + b",".join(raws) + b"]")
        return None
    except msgspec.DecodeError:
        pass
    bad: list[str | None] = []
    for r in raws:
        try:
            _ONE_TYPES.decode(r)
            bad.append(None)
        except msgspec.DecodeError as exc:
            bad.append(f"not an Alertmanager alert: {exc} (the webhook payload, version 4, gives an alert's status, "
                       "startsAt, endsAt, generatorURL, fingerprint and its labels' and annotations' values as strings)")
    return bad


def _times(al: list[_Alert]) -> tuple[pa.Array, pa.Array, list[str | None] | None]:
    """(starts, ends) in epoch ms, null where the alert gives none (absent, empty or zero: Go's zero
    ``time.Time``, ``0001-01-01T00:00:00Z``, is "not set"), and None, or per alert why it is refused: a
    start or end given that is no time (Alertmanager refuses such an alert: its JSON is no
    ``PostableAlert``, 400 ``bad_data``; taking the receipt time for it would invent one)."""
    n = len(al)
    start_at = [None if not (t := a.startsAt) or t.startswith(_ZERO) else t for a in al]
    end_at = [None if not (t := a.endsAt) or t.startswith(_ZERO) else t for a in al]
    starts = parse_times(strs(start_at))
    ends = parse_times(strs(end_at)) if any(end_at) else pa.nulls(n, pa.int64())  # firing alerts have none
    if starts.null_count == start_at.count(None) and ends.null_count == end_at.count(None):
        return starts, ends, None
    why: list[str | None] = [None] * n
    for key, given, got in (("endsAt", end_at, ends), ("startsAt", start_at, starts)):  # (the start's reason first)
        for i, (text, ms) in enumerate(zip(given, got.to_pylist(), strict=True)):
            if text is not None and ms is None:
                why[i] = (f"not an Alertmanager alert: {text[:64]!r} is no time - at `$.{key}` (an RFC 3339 time, "
                          "as Alertmanager writes it; it refuses an alert whose time it cannot read)")
    return starts, ends, why


def _alerts_of(typed: _TypedPayload) -> list[_Alert]:
    return typed.alerts or []


_ZERO = "0001-01-01"


_NO_LABELS: dict[str, Any] = {}


def _s(d: dict[str, Any] | None, k: str) -> str | None:
    v = (d or {}).get(k)
    return None if v is None else str(v)


def _unmapped(st: Strict, ctx: dict[str, Any], uid0: str) -> pa.Array:
    """``unmapped``: the alert's annotations (and unknown keys), then the payload context as ``webhook``
    (its long values in the batch's first alert only: :func:`_contexts`)."""
    if not ctx:
        return unmapped_from(st, ("annotations",))
    contexts = _contexts(ctx, uid0)
    if not any(st.extras):  # the common case: {"annotations":<raw>,"webhook":{...}} joined as bytes
        ends = [(b'{"webhook":' + c + b"}", b',"webhook":' + c + b"}") for c in contexts]
        first, rest = ends[0], ends[-1]
        rows = [b'{"annotations":' + a.annotations + (rest if i else first)[1] if a.annotations else (rest if i else first)[0]
                for i, a in enumerate(st.recs)]  # fmt: skip
        return string_column(rows, checked=True)
    col = unmapped_from(st, ("annotations",))
    if len(contexts) == 1:
        return unmapped_with(col, "webhook", ctx)
    items = [b'"webhook":' + contexts[0]] + [b'"webhook":' + contexts[1]] * (len(col) - 1)
    return unmapped_items(col, string_column(items, checked=True))


#: a payload-level value (commonAnnotations, groupLabels...) is written into each alert's
#: ``unmapped.webhook`` up to this size, encoded; a longer one is kept whole in the batch's first
#: alert and the others name that event (``{"in_event": <its metadata.uid>}``): a 3 MB
#: commonAnnotations sent with 1,000 alerts made 3 GB of rows, past Arrow's 2 GiB string column
#: (the whole payload was refused). Alertmanager's own contexts are a few hundred bytes.
_CTX_EACH = 4096


def _contexts(ctx: dict[str, Any], uid0: str) -> list[bytes]:
    """The encoded ``webhook`` context: one for every alert, or the first alert's and the others'."""
    whole = _ENC.encode(ctx)
    if len(whole) <= _CTX_EACH:
        return [whole]
    ref = {"in_event": uid0}
    return [whole, _ENC.encode({k: ref if len(_ENC.encode(v)) > _CTX_EACH else v for k, v in ctx.items()})]


_ENC = msgspec.json.Encoder(order="sorted")


class Alertmanager(ReportFormat):
    """Alertmanager webhook notifications."""

    name = "alertmanager"
    report_type = _Payload
    what = "an Alertmanager webhook payload"
    description = ("Prometheus Alertmanager webhook payload (v4), Alertmanager API alerts or Prometheus /api/v1/alerts "
                   "-> Detection Finding (2004) per alert")
    framing = "document"
    product = "Alertmanager"
    vendor = "Prometheus"

    def sniff(self, head: bytes) -> int:
        """Recognize the webhook envelope keys."""
        if sniff_prometheus(head):  # Prometheus's own /api/v1/alerts answer (prometheus_alerts)
            return 90
        if looks_api(head):  # an API alerts (or groups) answer: a v2 array, a v1 "data" array
            return 90 if sniff_api(head) else 0
        h = head[:8192]
        keys = sum(k in h for k in (b'"alerts"', b'"groupKey"', b'"receiver"', b'"commonLabels"', b'"startsAt"'))
        if keys >= 3:
            return 90
        if looks_legacy(h):  # Grafana's legacy alerting webhook (_grafana_legacy)
            return 85
        return 50 if _ERROR_HEAD.match(h) and b'"errorType"' in h else 0  # an API error answer: told as such

    def decode(self, data: bytes, source: str) -> Decoded:
        """Decode one webhook payload: where the native split gives the alerts' bytes, the compact
        payload is decoded once with its alerts typed; any payload that does not take that path
        (not JSON, an alert of the wrong shape, no extension) takes :class:`ReportFormat`'s."""
        why = _api_error(data)
        if why is not None:
            return self.dead(why, source, data)
        if looks_legacy(data):  # Grafana's legacy alerting webhook (_grafana_legacy)
            return decode_legacy(self, data, source)
        if looks_prometheus(data):  # Prometheus's /api/v1/alerts (prometheus_alerts)
            with paused_gc():
                return decode_prometheus(self, data, source)
        if looks_api(data):  # /api/v{1,2}/alerts or /api/v{1,2}/alerts/groups (alertmanager_api)
            with paused_gc():
                return decode_api(self, data, source)
        with paused_gc():
            full: Any  # a _Payload whose alerts are typed (_Alert)
            try:
                doc = compact(data)
                full = _FULL.decode(doc)
            except msgspec.DecodeError:
                full = None
            raws = None if full is None or not full.alerts else _fast.split_envelope(doc, "alerts", ())
            if full is None or raws is None or len(raws) != len(full.alerts):
                return super().decode(data, source)
            n = len(raws)
            return self._mapped(full, Strict(full.alerts, [None] * n, raws, [(source, i) for i in range(n)]),
                                list(range(n)), Decoded(events=n))  # fmt: skip

    def map_report(self, doc: _Payload, data: bytes, source: str) -> Decoded:
        """Decode one webhook payload."""
        if not doc.alerts:
            why = "not an Alertmanager webhook payload: no `alerts` (expected the webhook_config JSON, version 4)"
            return self.dead(why, source, data)
        out = Decoded(events=len(doc.alerts))
        st, ords = typed_records(data, _TYPED, _alerts_of, doc.alerts, source, _Alert, out, self.name,
                                 "an Alertmanager alert")  # fmt: skip
        return self._mapped(doc, st, ords, out)

    def _mapped(self, doc: _Payload, st: Strict, ords: list[int], out: Decoded) -> Decoded:
        """The typed alerts mapped into ``out``; an alert whose annotations are not an object, whose
        fields have another type than the webhook payload's, or whose start or end is no time, is
        dead-lettered."""
        notes, bad = _read_notes(st)
        wrong = _wrong_types(st.raws)
        if wrong is not None:  # (an alert refused for its annotations keeps that reason)
            bad = wrong if bad is None else [why or w for why, w in zip(bad, wrong, strict=True)]
        starts, ends, untimed = _times(st.recs)
        if untimed is not None:  # (an alert refused already keeps that reason)
            bad = untimed if bad is None else [why or w for why, w in zip(bad, untimed, strict=True)]
        if bad is not None:
            keep = [i for i, why in enumerate(bad) if why is None]
            st, ords, notes = st.reject(bad, out, self.name), [ords[i] for i in keep], [notes[i] for i in keep]
            at = pa.array(keep, pa.int64())
            starts, ends = starts.take(at), ends.take(at)
        if st.recs:
            out.batches.append(self._batch(doc, st, ords, notes, starts, ends))
        return out

    def _batch(
        self, doc: _Payload, st: Strict, ords: list[int], notes: list[Notes], starts: pa.Array, ends: pa.Array
    ) -> pa.RecordBatch:
        al: list[_Alert] = st.recs
        raws = record_bytes(st.raws)  # copied once: the native uids and raw_data borrow bytes
        n = len(al)
        cls = "detection_finding"
        resolved = tuple([(a.status or doc.status or "").lower() == "resolved" for a in al])
        ended = ends.null_count < n
        unstarted = None
        if starts.null_count:  # no start (zero or absent): the end, else the receipt time (Alertmanager's rule)
            unstarted = pc.is_null(starts)
            starts = pc.coalesce(starts, ends) if ended else starts
        last = pc.coalesce(ends, starts) if ended else starts
        times = pc.if_else(pa.array(resolved, pa.bool_()), last, starts) if any(resolved) else starts
        labels = [a.labels or _NO_LABELS for a in al]
        common = _s(doc.commonLabels, "severity")
        sev = severity_list([(None if (v := lb.get("severity")) is None else str(v)) or common for lb in labels])
        grafana = doc.orgId is not None or doc.state is not None and doc.title is not None
        cols = finding_base(
            cls, kind=self.name, product="Grafana Alerting" if grafana else self.product,
            vendor="Grafana Labs" if grafana else self.vendor,
            uids=event_uids(self.name, raws, [f"{doc.groupKey}\0{o}" for o in ords]), times_ms=times, raws=raws,
            activity_ids=[3 if r else 1 for r in resolved], severity=sev,
        )  # fmt: skip
        fp = strs([a.fingerprint or None for a in al])  # "" (a proxy's Go zero value) names no alert
        ctx = {"receiver": doc.receiver, "externalURL": doc.externalURL, "groupLabels": doc.groupLabels,
               "commonAnnotations": doc.commonAnnotations, "truncatedAlerts": doc.truncatedAlerts,
               "orgId": doc.orgId, "title": doc.title, "state": doc.state, "message": doc.message}  # fmt: skip
        ctx = {k: v for k, v in ctx.items() if v}
        group = doc.groupKey or None
        if group is not None and len(group) > _CTX_EACH:  # kept whole once (:func:`_contexts`), its digest in each row
            ctx["groupKey"] = group
            group = "sha256:" + hashlib.sha256(group.encode("utf-8", "surrogatepass")).hexdigest()
        cols["start_time"] = starts  # (null where the receipt time stands for it: ``time`` holds that, labelled)
        cols["end_time"] = ends
        cols.update(_status(resolved))
        cols.update(alert_columns(labels, notes, starts))
        cols.update({
            "metadata.original_event_uid": fp,
            "metadata.correlation_uid": const(group, n, S),
            "metadata.log_version": const(None if doc.version in (None, "") else str(doc.version), n, S),
            "finding_info.uid": pc.coalesce(fp, cols["metadata.uid"]) if fp.null_count else fp,
            "finding_info.last_seen_time": last,
            "finding_info.src_url": strs([a.generatorURL or None for a in al]),
        })  # fmt: skip
        cols["unmapped"] = _unmapped(st, ctx, cols["metadata.uid"][0].as_py())
        if unstarted is not None:  # which time stands for the start, said where the alert gave none
            taken = pc.if_else(pc.is_valid(starts), '"secpipe_startsAt":"endsAt"', '"secpipe_startsAt":"receipt"')
            cols["unmapped"] = unmapped_items(cols["unmapped"], pc.if_else(unstarted, taken, pa.scalar(None, S)))
        return to_batch(cls, cols)


def _status(resolved: tuple[bool, ...]) -> dict[str, pa.Array]:
    """status_id/status/status_detail of firing and resolved alerts (memoized for a small batch)."""

    def build() -> dict[str, pa.Array]:
        return {
            "status_id": pa.array([4 if r else 1 for r in resolved], pa.int32()),
            "status": strs(["Resolved" if r else "New" for r in resolved]),
            "status_detail": strs(["resolved" if r else "firing" for r in resolved]),
        }

    return memo_columns(("alertmanager.status", resolved), build) if len(resolved) <= MEMO_ROWS else build()


__all__ = ["Alertmanager"]
