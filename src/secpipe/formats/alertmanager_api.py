"""Alertmanager API answers: ``GET /api/v2/alerts`` and ``GET /api/v2/alerts/groups`` (and API v1's).

``amtool``, Grafana's and Karma's exporters and ``curl .../api/v2/alerts`` write the alerts as
Alertmanager's API v2 (``api/v2/openapi.yaml``) defines them: a bare JSON array of
``gettableAlert`` objects (``labels``, ``annotations``, ``startsAt``, ``endsAt``, ``updatedAt``,
``generatorURL``, ``fingerprint``, ``receivers[].name``, ``status: {state, silencedBy,
inhibitedBy, mutedBy}``), or an array of ``alertGroup`` objects (``labels``, ``receiver``,
``alerts[]``) for ``/alerts/groups``. Each alert -> one Detection Finding (2004), mapped like a
webhook alert (:mod:`secpipe.formats.alertmanager`): ``labels.alertname`` -> analytic name and
title fallback, ``annotations.summary``/``description`` -> title/desc, ``labels.severity`` ->
``severity_id``, ``fingerprint`` -> ``finding_info.uid`` and ``metadata.original_event_uid``,
``generatorURL`` -> ``finding_info.src_url``, labels -> ``finding_info.tags``; the Kubernetes objects the
labels name (``namespace`` with ``pod``, ``container``, ``deployment``, ``statefulset``, ``daemonset``,
``replicaset``, ``job_name``, ``cronjob``, ``persistentvolumeclaim``, ``horizontalpodautoscaler``, ``resourcequota``,
``service``; Falcosidekick's ``k8s_ns_name``, ``k8s_pod_name``, ``container_name``...;
``node``) -> ``resources`` (type, name, namespace; :func:`k8s_resources`), as for the webhook's alerts.

What differs from the webhook: the API lists alerts that have not resolved (its filter drops
an alert whose ``endsAt`` has passed), so every alert is activity Create (1) and its ``endsAt``
is Alertmanager's expected expiry, not an end: it stays in ``unmapped`` with ``receivers``,
``status`` and ``updatedAt``. ``status.state``: ``active`` and ``unprocessed`` -> status New
(1), ``suppressed`` (silenced or inhibited) -> Suppressed (3); the state is ``status_detail``.
``updatedAt`` -> ``finding_info.modified_time`` and ``last_seen_time``; ``time`` = ``startsAt``.
A group's ``labels`` and ``receiver`` go to ``unmapped.group`` of its alerts.

API v1 (Alertmanager up to 0.26; removed in 0.27, still what older ``amtool`` and dashboards read):
the answer is wrapped as ``{"status": "success", "data": [...]}`` (``api/v1/api.go``'s
response, status first). ``/api/v1/alerts`` lists the same alert objects as v2 without
``updatedAt`` and with ``receivers`` as plain names; ``/api/v1/alerts/groups`` lists groups of
``labels``, ``groupKey`` and ``blocks[]`` (``routeOpts.receiver`` + ``alerts[]``). They are mapped
as the v2 answers (``metadata.log_name`` ``api/v1/alerts[/groups]``); a v1 group's labels, group
key and block receiver go to ``unmapped.group``.

The alerts a client posts to the API (``POST /api/v{1,2}/alerts``, v2's ``postableAlerts``: what
Prometheus sends, and falcosidekick's Alertmanager output) are the same array without
``fingerprint``, ``status``, ``receivers`` and ``updatedAt``: mapped the same way, status Unknown
(0: Alertmanager has not processed them yet); without ``startsAt`` (Alertmanager then takes its
receipt time) the time is the receipt's.

Identity: hash of the alert's bytes (and, for a group answer, the group's receiver and labels:
one alert routed to two receivers is listed in two groups, two findings) -- polling an unchanged
alert collapses, a changed one (new ``updatedAt``, state) is a new event. An element that is not
an alert object is dead-lettered with the reason; the other alerts go on.
"""

from __future__ import annotations

import re
from typing import Any

import msgspec
import pyarrow as pa

from secpipe import _compute as pc
from secpipe.formats._findings import (
    MEMO_ROWS,
    S,
    captions,
    compact,
    finding_base,
    kv_list,
    memo_columns,
    severity_list,
    strs,
)
from secpipe.formats.base import (
    SMALL_ROWS,
    DeadLetter,
    Decoded,
    Format,
    Strict,
    decode_strict,
    event_uids,
    parse_times,
    to_batch,
    unmapped_from,
)


class _ApiAlert(msgspec.Struct, forbid_unknown_fields=True, gc=False):
    labels: dict[str, Any] | None = None
    startsAt: str | None = None
    generatorURL: str | None = None
    fingerprint: str | None = None
    # kept raw for ``unmapped`` (annotations also read for summary/description)
    annotations: msgspec.Raw = msgspec.Raw(b"")
    endsAt: msgspec.Raw = msgspec.Raw(b"")
    receivers: msgspec.Raw = msgspec.Raw(b"")
    status: msgspec.Raw = msgspec.Raw(b"")
    updatedAt: msgspec.Raw = msgspec.Raw(b"")


_UNMAPPED = ("annotations", "endsAt", "receivers", "status", "updatedAt")


class _State(msgspec.Struct, gc=False):
    state: str | None = None


class Notes(msgspec.Struct, gc=False):
    """An alert's ``annotations`` as the mapping reads them (webhook and API alike)."""

    summary: Any = None
    description: Any = None
    message: Any = None


class _Group(msgspec.Struct, gc=False):
    alerts: list[msgspec.Raw] | None = None
    labels: dict[str, Any] | None = None
    receiver: Any = None


class _Block(msgspec.Struct, gc=False):
    alerts: list[msgspec.Raw] | None = None
    routeOpts: dict[str, Any] | None = None


class _V1Group(msgspec.Struct, gc=False):
    """An ``/api/v1/alerts/groups`` item: the alerts sit in per-route blocks."""

    blocks: list[_Block] | None = None
    labels: dict[str, Any] | None = None
    groupKey: Any = None


class _V1Answer(msgspec.Struct, gc=False):
    status: Any = None
    data: msgspec.Raw = msgspec.Raw(b"")


_ARRAY = re.compile(rb"(?:\xef\xbb\xbf)?[ \t\r\n]*\[")
_V1_HEAD = re.compile(rb'(?:\xef\xbb\xbf)?\s*\{\s*"status"\s*:\s*"success"\s*,\s*"data"\s*:\s*\[')
_V1 = msgspec.json.Decoder(_V1Answer)
_V1_GROUP = msgspec.json.Decoder(_V1Group)
_ITEMS = msgspec.json.Decoder(list[msgspec.Raw])
_KEYS = msgspec.json.Decoder(dict[str, msgspec.Raw])
_GROUP = msgspec.json.Decoder(_Group)
_STATE = msgspec.json.Decoder(_State | None)
_TIME = msgspec.json.Decoder(str | None)
_NOTES = msgspec.json.Decoder(Notes | None)
_ENC = msgspec.json.Encoder(order="sorted")
_STATUS = {"active": 1, "unprocessed": 1, "suppressed": 3}
_CLS = "detection_finding"


def looks_api(data: bytes) -> bool:
    """True when the document is an API answer: a JSON array (v2; the webhook is an object) or v1's
    ``{"status": "success", "data": [``."""
    return _ARRAY.match(data) is not None or _V1_HEAD.match(data) is not None  # no copy of the payload


#: a client's ``POST /api/v{1,2}/alerts`` body (API v2's ``postableAlerts``: ``labels`` required,
#: ``annotations``, ``startsAt``, ``endsAt``, ``generatorURL`` optional): its first alert opens with one of them
_POSTABLE = re.compile(rb'(?:\xef\xbb\xbf)?\s*\[\s*\{\s*"(?:labels|annotations|startsAt|endsAt|generatorURL)"\s*:\s*[{"]')


def sniff_api(head: bytes) -> bool:
    """Whether ``head`` starts an API alerts (or groups) answer whose items carry the alert keys,
    or a body of alerts posted to the API (labels and at least one other alert key)."""
    if not looks_api(head):
        return False
    h = head[:8192]
    if b'"labels"' not in h:
        return False
    keys = sum(k in h for k in (b'"fingerprint"', b'"startsAt"', b'"receivers"', b'"updatedAt"', b'"generatorURL"'))
    return keys >= 3 or (_POSTABLE.match(h) is not None and any(
        k in h for k in (b'"annotations"', b'"startsAt"', b'"endsAt"', b'"generatorURL"')))


def _loose(raw: bytes | msgspec.Raw, dec: msgspec.json.Decoder) -> tuple[Any, str | None]:
    """``raw`` decoded by ``dec`` (None for an absent value), or None and msgspec's reason."""
    if not raw:
        return None, None
    try:
        return dec.decode(raw), None
    except (msgspec.DecodeError, msgspec.ValidationError) as exc:
        return None, str(exc)


def read_fields(st: Strict, out: Decoded, fmt: str, what: str,
                fields: dict[str, msgspec.json.Decoder]) -> tuple[Strict, dict[str, list[Any]], list[int] | None]:
    """Each record's raw ``fields`` (struct attribute -> decoder) decoded (None where absent). A
    record one of them does not read is dead-lettered into ``out`` (``what: at `$.field`: why``,
    the first such field), the others go on: (the records kept, their values per field, the
    indices kept or None when all were)."""
    values: dict[str, list[Any]] = {f: [] for f in fields}
    bad: list[str | None] = []
    for rec in st.recs:
        why = None
        for f, dec in fields.items():
            v, w = _loose(getattr(rec, f), dec)
            values[f].append(v)
            if w and why is None:
                why = f"{what}: at `$.{f}`: {w}"
        bad.append(why)
    if not any(bad):
        return st, values, None
    keep = [k for k, b in enumerate(bad) if b is None]
    return st.reject(bad, out, fmt), {f: [vs[k] for k in keep] for f, vs in values.items()}, keep


def _group_ctx(*fields: tuple[str, Any]) -> bytes:
    return b'"group":' + _ENC.encode({k: v for k, v in fields if v})


def _group_parts(item: msgspec.Raw, v2: bool) -> tuple[list[tuple[bytes, list[msgspec.Raw]]] | None, str]:
    """A group's alerts with their ``unmapped.group`` text: a v2 ``alertGroup`` (``alerts``) or a
    v1 group (per-route ``blocks``); None and the reason when the item is neither."""
    if v2:
        grp, why = _loose(item, _GROUP)
        if grp is None or grp.alerts is None:
            return None, why or "no `alerts` array"
        return [(_group_ctx(("labels", grp.labels), ("receiver", grp.receiver)), grp.alerts)], ""
    v1, why = _loose(item, _V1_GROUP)
    if v1 is None or v1.blocks is None:
        return None, why or "no `blocks` array"
    return [(_group_ctx(("labels", v1.labels), ("groupKey", v1.groupKey), ("receiver", (b.routeOpts or {}).get("receiver"))),
             b.alerts or []) for b in v1.blocks], ""  # fmt: skip


def decode_api(fmt: Format, data: bytes, source: str) -> Decoded:
    """Map an ``/api/v{1,2}/alerts`` or ``/api/v{1,2}/alerts/groups`` answer."""
    api = "api/v2/alerts"
    try:
        doc = compact(data)  # canonical bytes: a re-indented answer is the same events
        if _V1_HEAD.match(data) is not None:
            api, doc = "api/v1/alerts", bytes(_V1.decode(doc).data)
        items = _ITEMS.decode(doc)
    except (msgspec.DecodeError, msgspec.ValidationError) as exc:
        return Decoded(dead=[DeadLetter(f"not an Alertmanager webhook payload nor API answer: invalid JSON: {exc}", source, 0, data,
                                        fmt.name)], events=1)  # fmt: skip
    out = Decoded()
    raws: list[bytes] = []
    locs: list[tuple[str, int]] = []
    groups: list[bytes | None] = []
    for i, item in enumerate(items):
        keys, _ = _loose(item, _KEYS)
        if keys is not None and "fingerprint" not in keys and ("alerts" in keys or "blocks" in keys):  # a group
            parts, reason = _group_parts(item, "alerts" in keys)
            if parts is None:
                out.events += 1
                out.dead.append(DeadLetter(f"not an Alertmanager alert group: {reason}", source, i, bytes(item), fmt.name))
                continue
            for ctx, alerts in parts:
                for a in alerts:  # offset: the alert's position in the answer
                    locs.append((source, len(raws)))
                    raws.append(bytes(a))
                    groups.append(ctx)
        else:
            locs.append((source, len(raws)))
            raws.append(bytes(item))
            groups.append(None)
    out.events += len(raws)
    if not raws:
        if not out.dead:
            out.dead.append(DeadLetter("not an Alertmanager API answer: an empty array holds no alert", source, 0, data,
                                       fmt.name))  # fmt: skip
            out.events = 1
        return out
    pos = {id(r): k for k, r in enumerate(raws)}
    st = decode_strict(raws, locs, _ApiAlert, out, fmt.name, "an Alertmanager API alert")
    groups = [groups[pos[id(r)]] for r in st.raws]
    st, got, keep = read_fields(st, out, fmt.name, "not an Alertmanager API alert",
                                {"status": _STATE, "updatedAt": _TIME, "annotations": _NOTES})  # fmt: skip
    if keep is not None:
        groups = [groups[k] for k in keep]
    if st.recs:
        states = [s.state if s is not None else None for s in got["status"]]
        notes = [n or Notes() for n in got["annotations"]]
        out.batches.append(_batch(fmt, st, states, got["updatedAt"], notes, groups, api))
    return out


def alert_columns(labels: list[dict[str, Any]], notes: list[Notes], starts: pa.Array) -> dict[str, pa.Array]:
    """The columns every alert finding takes from its labels, annotations and start (the
    Alertmanager webhook, its API answers and Prometheus's alerts answer alike): message,
    title and desc from ``summary``/``description`` (else ``message``) with ``alertname`` as
    the fallback, created and first-seen time, the labels as tags, the alertname as the Rule."""
    name, summary, desc = _alert_text(labels, notes)
    cols = {
        "message": pc.coalesce(summary, desc, name),
        "finding_info.title": pc.coalesce(summary, name) if summary.null_count else summary,
        "finding_info.desc": desc,
        "finding_info.created_time": starts,
        "finding_info.first_seen_time": starts,
        "finding_info.tags": kv_list(labels) if len(labels) > SMALL_ROWS else _few_tags(labels),
        "finding_info.analytic.name": name,
        "resources": k8s_resources(labels),
    }
    cols.update(_analytic_columns(name))
    return cols


#: the labels kube-state-metrics, cAdvisor and the Prometheus Operator's ServiceMonitors put on a series of a
#: namespaced Kubernetes object (kube-state-metrics ``docs/metrics``: ``kube_pod_*`` pod, ``..._container_*``
#: container, ``kube_deployment_*`` deployment, ``kube_job_*`` job_name ...; a ServiceMonitor's target labels:
#: namespace, service, pod, container), and the names Falcosidekick's Alertmanager output gives Falco's fields
#: (``outputs/alertmanager.go``: ``k8s.pod.name`` -> ``k8s_pod_name``) -> the object's kind, as OCSF
#: ``resources[].type``
_K8S_NAMESPACED = ((("pod", "k8s_pod_name"), "pod"), (("container", "container_name"), "container"),
                   (("deployment", "k8s_deployment_name"), "deployment"), (("statefulset",), "statefulset"),
                   (("daemonset",), "daemonset"), (("replicaset", "k8s_rs_name"), "replicaset"),
                   (("job_name",), "job"), (("cronjob",), "cronjob"),
                   (("persistentvolumeclaim",), "persistentvolumeclaim"),
                   (("horizontalpodautoscaler",), "horizontalpodautoscaler"), (("resourcequota",), "resourcequota"),
                   (("service", "k8s_svc_name"), "service"))  # fmt: skip
#: a key's labels, each slot's names in the order they are taken: the namespace, the node, the objects
_K8S_SLOTS = (("namespace", "k8s_ns_name"), ("node",), *(names for names, _ in _K8S_NAMESPACED))
_K8S_KEYS = frozenset(name for names in _K8S_SLOTS for name in names)
#: the labels without which an alert names no Kubernetes object (its namespace, its node)
_K8S_ANCHORS = frozenset(_K8S_SLOTS[0] + _K8S_SLOTS[1])
_RESOURCE = pa.list_(pa.struct([("type", S), ("name", S), ("namespace", S)]))


def _k8s_objects(key: tuple[str | None, ...]) -> list[dict[str, str | None]] | None:
    ns, node = key[0], key[1]
    found: list[dict[str, str | None]] = []
    if ns is not None:  # (without a namespace such a label is no Kubernetes object's: ``service`` is often a team's)
        found = [{"type": kind, "name": v, "namespace": ns}
                 for (_, kind), v in zip(_K8S_NAMESPACED, key[2:], strict=True) if v is not None]  # fmt: skip
        if not found:  # a namespace-wide alert (quota, a namespace's own state)
            found.append({"type": "namespace", "name": ns, "namespace": None})
    if node is not None:
        found.append({"type": "node", "name": node, "namespace": None})
    return found or None


_TAGS = pa.list_(pa.struct([("name", S), ("value", S)]))
_JSON = msgspec.json.Encoder(order="sorted")
_NONE: dict[str, Any] = {}


def _few_tags(labels: list[dict[str, Any]]) -> pa.Array:
    """:func:`~secpipe.formats._findings.kv_list` of a few alerts' labels (one alert a notification), in one
    conversion (kv_list's flat columns and nesting cost ~30 us a batch): the same values (a value that is no
    string as its JSON text) and an alert without labels null."""
    return pa.array([[{"name": k, "value": v if isinstance(v, str) else _JSON.encode(v).decode()} for k, v in (lb or _NONE).items()]
                     or None for lb in labels], _TAGS)  # fmt: skip


def _label(labels: dict[str, Any], names: tuple[str, ...]) -> str | None:
    for name in names:
        v = labels.get(name)
        if v is not None and v != "":
            return str(v)
    return None


def k8s_resources(labels: list[dict[str, Any]]) -> pa.Array:
    """``resources`` of each alert from the Kubernetes objects its labels name (made once a distinct set):
    the namespaced objects (:data:`_K8S_NAMESPACED`) in their ``namespace``, a namespace alone where no
    such object is named, the ``node``; null where the labels name none."""
    seen: dict[frozenset[tuple[str, str]], int] = {frozenset(): 0}
    idx = []
    for lb in labels:
        if _K8S_ANCHORS.isdisjoint(lb):  # (no namespace, no node: no object; most alerts outside Kubernetes)
            idx.append(0)
            continue
        # the Kubernetes labels it has, set (a few of the slots' ~20 names: made per alert, the slots per set)
        key = frozenset((k, str(v)) for k in _K8S_KEYS.intersection(lb) if (v := lb[k]) is not None and v != "")
        idx.append(seen.setdefault(key, len(seen)))
    if len(seen) == 1:
        return pa.nulls(len(labels), _RESOURCE)
    objects = [_k8s_objects(tuple(_label(dict(k), names) for names in _K8S_SLOTS)) for k in seen]
    return pa.array(objects, _RESOURCE).take(pa.array(idx, pa.int32()))


def _alert_text(labels: list[dict[str, Any]], notes: list[Notes]) -> tuple[pa.Array, pa.Array, pa.Array]:
    """(alertname, annotations' summary, description else message) of each alert, as strings."""
    name = strs([None if (v := lb.get("alertname")) is None else str(v) for lb in labels])
    summary = strs([None if x.summary is None else str(x.summary) for x in notes])
    desc = strs([str(x.description) if x.description is not None else None if x.message is None else str(x.message)
                 for x in notes])  # fmt: skip
    return name, summary, desc


def _analytic_columns(name: pa.Array) -> dict[str, pa.Array]:
    """A Rule only where the alert names it (an analytic needs a name or uid, OCSF 1.8.0)."""
    n = len(name)

    def build() -> dict[str, pa.Array]:
        named = pc.is_valid(name)
        return {"finding_info.analytic.type_id": pc.if_else(named, pa.scalar(1, pa.int32()), pa.scalar(None, pa.int32())),
                "finding_info.analytic.type": pc.if_else(named, "Rule", pa.scalar(None, S))}  # fmt: skip

    return memo_columns(("alertmanager.analytic", n), build) if not name.null_count and n <= MEMO_ROWS else build()


def _batch(fmt: Format, st: Strict, states: list[str | None], updated: list[str | None], notes: list[Notes],
           groups: list[bytes | None], api: str) -> pa.RecordBatch:
    al: list[_ApiAlert] = st.recs
    n = len(al)
    labels = [a.labels or {} for a in al]
    starts = parse_times(strs([a.startsAt for a in al]))
    upd = parse_times(strs(updated))
    ctx = [g.decode() if g else "" for g in groups]
    cols = finding_base(
        _CLS, kind=fmt.name, product=fmt.product, vendor=fmt.vendor, uids=event_uids(fmt.name, st.raws, ctx),
        times_ms=starts, raws=st.raws, activity_ids=[1] * n,
        severity=severity_list([None if (v := lb.get("severity")) is None else str(v) for lb in labels]),
    )  # fmt: skip
    fp = strs([a.fingerprint for a in al])
    status_id = pa.array([_STATUS.get((s or "").lower(), 0 if s is None else 99) for s in states], pa.int32())
    cols.update(alert_columns(labels, notes, starts))
    cols.update({
        "start_time": starts,
        "status_id": status_id,
        "status": captions(_CLS, "status_id", status_id),
        "status_detail": strs(states),
        "metadata.original_event_uid": fp,
        "metadata.log_name": pa.array([api + "/groups" if g else api for g in groups], S),
        "finding_info.uid": pc.coalesce(fp, cols["metadata.uid"]),
        "finding_info.last_seen_time": pc.coalesce(upd, starts),
        "finding_info.modified_time": upd,
        "finding_info.src_url": strs([a.generatorURL for a in al]),
    })  # fmt: skip
    cols["unmapped"] = unmapped_from(st, _UNMAPPED, groups if any(groups) else None)
    return to_batch(_CLS, cols)


__all__ = ["Notes", "alert_columns", "decode_api", "k8s_resources", "looks_api", "read_fields", "sniff_api"]
