"""A few Kubernetes audit events mapped value by value (the audit webhook's small EventLists).

The API server's webhook backend POSTs an EventList as its batch fills or its wait ends, often a
handful of events; the HTTP route decodes each body alone. :func:`secpipe.formats.k8s_audit._ocsf`
builds its columns with ~200 Arrow kernel calls whatever the number of events (each ~3-30 us on a
one-row array, the RE2 ones ~100 us: they compile their pattern at every call), ~4.5 ms for one
event. :func:`api_activity` makes the same API Activity batch of up to :data:`SMALL_ROWS` events
from the native walk's columns in Python (the field columns the walk gives are kept as they are,
the derived ones built from Python values, the nested ones by the same Arrow constructors over
them). The rare cases stay on the columnar path: a record that is no Event (dead letters,
EventLists one a line) and OpenShift OAuth logins (:func:`api_activity` returns None).
Guarantee: the same batches (tests/unit/test_k8s_audit_small.py compares the two paths over the
real samples one, two and three events a call).
"""

from __future__ import annotations

import functools
import re
from typing import Any

import msgspec
import numpy as np
import pyarrow as pa

from secpipe.formats import _fast
from secpipe.formats import k8s_audit as _k
from secpipe.formats.base import const, parse_times, small_base_columns, string_column, to_batch

__all__ = ["api_activity"]

_S = pa.string()
_I32 = pa.int32()
_ENC = msgspec.json.Encoder()
#: Python's re of the columnar path's RE2 patterns (bytes for the raw annotations: one byte a ``.``,
#: as RE2 reads a binary column)
_DECISION = re.compile(_k._DECISION_RE)
_REASON = re.compile(_k._REASON_RE)
_BINDING = re.compile(_k._BINDING_RE)
_OAUTH = "authentication.openshift.io/decision"
_DECIDED = {"allow": "allowed", "forbid": "denied"}
_STREAMS = frozenset({"exec", "attach", "portforward"})
_NO_DECISION = pa.list_(pa.struct([("decision", _S)]))


def _list(col: tuple[np.ndarray, np.ndarray | None], items: list[Any]) -> list[list[Any] | None]:
    """A LIST path of the walk (offsets, null mask) over its items' values, as Python lists."""
    offsets, mask = col
    bounds = offsets.tolist()
    nulls = [False] * (len(bounds) - 1) if mask is None else mask.tolist()
    return [None if null else items[a:b] for a, b, null in zip(bounds, bounds[1:], nulls, strict=False)]


def _text(v: str | None) -> str | None:
    """A string as msgspec encodes it (JSON string literal), None for None."""
    return None if v is None else _ENC.encode(v).decode()


def _obj(items: list[tuple[str | None, str | None]], present: bool | None = None) -> str | None:
    """One row of :func:`secpipe._arrays.json_object`: ``{"key":value,...}`` of the items that are
    not None (key None: members copied as they are); None without any (or where ``present`` is false)."""
    parts: list[str] = []
    for key, value in items:
        if value is not None:
            sep = "," if parts else ""
            parts.append(sep + value if key is None else f'{sep}"{key}":{value}')
    valid = bool(parts) if present is None else present
    return "{" + "".join(parts) + "}" if valid else None


def _or(a: str | None, b: str | None) -> str | None:
    return a if a else b


def _annotation(raw: str | None, pattern: re.Pattern[bytes]) -> str | None:
    """One annotation's value (JSON-unescaped; empty as none) of a raw annotations object (``_k._annotation``)."""
    m = None if raw is None else pattern.search(raw.encode())
    if m is None:
        return None
    value = m["v"].decode()
    if "\\" in value:
        value = _k._QUOTED.decode(('"' + value + '"').encode())
    return value or None


def api_activity(cols: _fast.Columns, objects: _fast.Columns, raws: list[bytes]) -> pa.RecordBatch | None:
    """The API Activity batch of a few audit Events (``cols``, ``objects``: the native walks of
    ``raws`` with :data:`~secpipe.formats.k8s_audit._SPEC` and ``_OBJECTS``), as the columnar path
    makes it; None where that path must decide (a record that is no Event, an OAuth login)."""
    s = cols.strings
    v = {k: a.to_pylist() for k, a in s.items() if "[]" not in k}
    n = len(raws)
    if any(k not in (None, "Event") or not (a or b or c)
           for k, a, b, c in zip(v["kind"], v["auditID"], v["verb"], v["requestURI"], strict=True)):
        return None
    ann = v["annotations"]
    if any(a is not None and _OAUTH in a for a in ann):
        return None
    ref_text = objects.strings["objectRef"].to_pylist()
    has_ref = [t is not None and t != "null" for t in ref_text]
    groups = _list(cols.lists["user.groups[]"], s["user.groups[].@"].to_pylist())
    ips = _list(cols.lists["sourceIPs[]"], s["sourceIPs[].@"].to_pylist())
    extras = cols.unmapped.to_pylist()
    verbs, subs = v["verb"], v["objectRef.subresource"]
    codes, words = v["responseStatus.code"], v["responseStatus.status"]

    unmapped = []
    for i in range(n):
        ref = _obj([(k, _text(v[f"objectRef.{k}"][i])) for k in _k._REF_FIELDS], has_ref[i])
        status, reason, details = words[i], v["responseStatus.reason"][i], v["responseStatus.details"][i]
        rest = _obj([("status", _text(status)), ("reason", _text(reason)), ("details", details)],
                    bool(status) or bool(reason) or details is not None)
        items: list[tuple[str | None, str | None]] = [(k, v[k][i]) for k in _k._UNMAPPED]
        items += [("objectRef", ref), ("user", _obj([("extra", v["user.extra"][i])])), ("responseStatus", rest),
                  (None, None if extras[i] is None else extras[i][1:-1])]  # fmt: skip
        unmapped.append(_obj(items))

    stamps = parse_times(pa.array([*v["requestReceivedTimestamp"], *v["stageTimestamp"],
                                   *(_or(a, b) for a, b in zip(v["timestamp"], v["p_event_time"], strict=True))],
                                  _S)).to_pylist()  # fmt: skip
    start, end, other = stamps[:n], stamps[n : 2 * n], stamps[2 * n :]
    activity = [_k._VERB_ACTIVITY.get(verb, 99) if verb is not None else 99 for verb in verbs]
    activity = [1 if verb == "get" and res == "pods" and sub in _STREAMS else act
                for act, verb, res, sub in zip(activity, verbs, v["objectRef.resource"], subs, strict=True)]  # fmt: skip
    failed = [c >= 400 if c is not None else w == "Failure" for c, w in zip(codes, words, strict=True)]
    has_status = [c is not None or w in ("Success", "Failure") for c, w in zip(codes, words, strict=True)]
    base = small_base_columns(
        "api_activity", kind=_k.K8sAudit.name, product=_k.K8sAudit.product, vendor=_k.K8sAudit.vendor,
        uids=cols.uids if cols.uids is not None else _k.event_uids(_k.K8sAudit.name, raws),
        times=[a if a is not None else b if b is not None else c for a, b, c in zip(start, end, other, strict=True)],
        activity=tuple(activity), severity=(1,) * n,
    )  # fmt: skip
    base["raw_data"] = cols.raw if cols.raw is not None else string_column(list(raws))
    first = [x[0] if x else None for x in ips]
    decided, authz = _authorizations(ann, n)
    uris = [None if u is None else u.partition("?") for u in v["requestURI"]]
    base.update({
        "start_time": pa.array(start, pa.int64()),
        "end_time": pa.array(end, pa.int64()),
        "status_id": _few(tuple((2 if f else 1) if h else 0 for f, h in zip(failed, has_status, strict=True)), _I32),
        "status": _few(tuple(("Failure" if f else "Success") if h else "Unknown"
                             for f, h in zip(failed, has_status, strict=True)), _S),  # fmt: skip
        "status_code": _few(tuple(None if c is None else str(c) for c in codes), _S),
        "status_detail": pa.array([_or(a, b) for a, b in zip(v["responseStatus.message"], v["responseStatus.reason"],
                                                             strict=True)], _S),  # fmt: skip
        "metadata.original_event_uid": s["auditID"],
        "metadata.log_version": s["apiVersion"],
        "metadata.event_code": s["verb"],
        "actor.user.name": s["user.username"],
        "actor.user.uid": s["user.uid"],
        "actor.user.groups": _groups(tuple(tuple(x) if x else None for x in groups)),
        "src_endpoint.ip": pa.array(first, _S),
        "src_endpoint.intermediate_ips": _few(tuple(tuple(x[1:]) if x and len(x) > 1 else None for x in ips), _k._STR_LIST),
        "src_endpoint.type_id": _few(tuple(0 if ip is None else None for ip in first), _I32),
        "src_endpoint.type": _few(tuple("Unknown" if ip is None else None for ip in first), _S),
        "http_request.user_agent": s["userAgent"],
        "http_request.url.path": pa.array([None if u is None else u[0] for u in uris], _S),
        "http_request.url.query_string": _few(tuple(u[2] or None if u else None for u in uris), _S),
        "api.operation": s["verb"],
        "api.service.name": const("kube-apiserver", n),
        "api.request.uid": s["auditID"],
        "api.group.name": s["objectRef.apiGroup"],
        "api.version": s["objectRef.apiVersion"],
        "resources": _resources(v, has_ref, n),
        "authorizations": authz,
        "action_id": _few(tuple(1 if d == "allowed" else 2 if d == "denied" else 0 for d in decided), _I32),
        "action": _few(tuple("Allowed" if d == "allowed" else "Denied" if d == "denied" else "Unknown" for d in decided), _S),
        "unmapped": pa.array(unmapped, _S),
    })  # fmt: skip
    return to_batch("api_activity", base)


def _authorizations(ann: list[str | None], n: int) -> tuple[list[str | None], pa.Array]:
    """(each event's decision, the authorizations column) as ``_k._authorizations`` makes them."""
    words = [_annotation(a, _DECISION) for a in ann]
    if all(w is None for w in words):
        return words, pa.nulls(n, _NO_DECISION)
    decided = [None if w is None else _DECIDED.get(w, w) for w in words]
    reasons = [_annotation(a, _REASON) for a in ann]
    return decided, _authorized(tuple(decided), tuple(reasons))


@functools.lru_cache(maxsize=1024)
def _authorized(decided: tuple[str | None, ...], reasons: tuple[str | None, ...]) -> pa.Array:
    """The authorizations column of these decisions and reasons (made once each: most repeat)."""
    n = len(decided)
    bindings = [None if r is None else (m["v"] if (m := _BINDING.search(r)) else None) for r in reasons]
    entry = pa.StructArray.from_arrays(
        [pa.array(decided, _S), pa.StructArray.from_arrays([pa.array(bindings, _S), pa.array(reasons, _S)],
                                                           names=["name", "desc"])], names=["decision", "policy"])  # fmt: skip
    mask = pa.array([d is None for d in decided], pa.bool_())
    return pa.ListArray.from_arrays(pa.array(np.arange(n + 1, dtype=np.int32)), entry, mask=mask)


@functools.lru_cache(maxsize=4096)
def _few(values: tuple[Any, ...], type_: pa.DataType) -> pa.Array:
    """A column of these values (made once each: statuses, codes, actions repeat from call to call)."""
    return pa.array(values, type_)


@functools.lru_cache(maxsize=1024)
def _groups(groups: tuple[tuple[str, ...] | None, ...]) -> pa.Array:
    """actor.user.groups of these users' groups (null where none), as ``_k._named`` makes it (made once each)."""
    return pa.array([[{"name": g} for g in x] if x else None for x in groups], _k._GROUPS)


def _resources(v: dict[str, list[Any]], has_ref: list[bool], n: int) -> pa.Array:
    """resources as ``_k._resources`` makes them: objectRef's one item, a create's object named by its response."""
    types, names, spaces, uids = [], [], [], []
    for i in range(n):
        if not has_ref[i]:
            continue
        res, sub, name, uid = (v[f"objectRef.{k}"][i] for k in ("resource", "subresource", "name", "uid"))
        made = made_uid = None
        if name is None and v["verb"][i] == "create" and v["responseObject"][i] is not None:
            obj = _k._created_one(v["responseObject"][i])
            meta = obj.metadata if obj is not None else None
            if meta is not None:
                made = meta.name if isinstance(meta.name, str) and meta.name else None
                made_uid = meta.uid if isinstance(meta.uid, str) and meta.uid else None
        types.append(f"{res}/{sub}" if res is not None and sub is not None else res)
        names.append(name if name is not None else made)
        spaces.append(v["objectRef.namespace"][i])
        uids.append(uid if uid is not None else made_uid if name is None else None)
    items = pa.StructArray.from_arrays([pa.array(x, _S) for x in (types, names, spaces, uids)],
                                       names=["type", "name", "namespace", "uid"])  # fmt: skip
    offsets = np.zeros(n + 1, np.int32)
    np.cumsum(has_ref, out=offsets[1:])
    return pa.ListArray.from_arrays(pa.array(offsets), items, type=_k._RES, mask=pa.array([not h for h in has_ref]))
