"""Falco alerts: ``json_output`` lines (NDJSON file/stdout output) and the ``http_output`` payload.

Each alert -> Detection Finding (2004), activity Create, status New. Record framing: one alert
object (http_output POSTs one per request), a JSON array, or NDJSON lines; records from many
documents are mapped together in one columnar pass (:class:`RecordFormat`).

Shape (falcosecurity/falco ``userspace/engine/formats.cpp``): ``time``, ``rule``, ``priority``,
``source`` and ``hostname`` are always written; ``output`` (``json_include_output_property``),
``tags`` (``json_include_tags_property``), ``message`` (``json_include_message_property``: the
output without the time/priority prefix) and ``output_fields``
(``json_include_output_fields_property``) are each optional. Falcosidekick forwards the same
object plus ``uuid`` (and its custom fields inside ``output_fields``); its CloudEvents output
in structured mode wraps that object as ``data`` of an envelope (``specversion``, ``id``,
``source``, ``type`` ``falco.rule.output.v1``): the alert is taken from ``data`` (the envelope
attributes describe the transport, not the alert).

Mapping: ``rule`` -> ``finding_info.title`` and ``finding_info.analytic`` (name, type Rule);
``priority`` -> ``severity_id`` (Emergency Fatal, Alert/Critical Critical, Error High, Warning
Medium, Notice Low, Informational/Debug Informational); ``output`` (or ``message`` when the
output property is switched off) -> ``message`` and ``finding_info.desc``; ``tags`` ->
``finding_info.types``; ``time`` -> ``time``; ``uuid`` -> ``finding_info.uid`` and
``metadata.original_event_uid`` (the event uid otherwise); ``source`` (syscall, k8s_audit,
aws_cloudtrail ...) -> ``metadata.log_source`` and ``finding_info.analytic.category``;
``hostname`` -> ``device.hostname``. From ``output_fields``:
``container.id/name/image.repository/image.tag`` -> ``device.container``,
``k8s.ns.name``/``k8s.pod.name``/``k8s.pod.uid`` -> ``resources[0]`` (type ``pod``, only when
the alert has Kubernetes context); ``proc.name/cmdline/pid`` and ``user.name`` ->
``evidences[0].process``. Plugin sources: the k8saudit target (``ka.target.resource``/``name``/
``namespace``) -> ``resources[0]`` when there is no pod context; the acting user
(``ka.user.name``, ``ct.user``, ``okta.actor.name``, ``github.user``) ->
``evidences[0].actor.user.name``; the caller address (``ct.srcip``, ``okta.client.ip``, or a
syscall connection's ``fd.cip``) -> ``evidences[0].src_endpoint.ip`` (``fd.sip`` ->
``dst_endpoint.ip``); the call (``ka.verb``, ``ct.name``) -> ``evidences[0].api.operation``.
The whole ``output_fields`` object is kept verbatim as JSON in ``evidences[0].data``. Other
top-level keys stay in ``unmapped``.

An object without a ``rule`` string, or with neither ``priority`` nor ``output``, is not a
Falco alert and is dead-lettered.
"""

from __future__ import annotations

import re
from typing import Any

import msgspec
import pyarrow as pa
import pyarrow.compute as pc

from secpipe.formats._findings import (
    CheckedRecordFormat,
    S,
    nest,
    raw_json_col,
    severity_ids,
    singleton_list,
    str_lists,
    strs,
)
from secpipe.formats.base import (
    Decoded,
    Records,
    base_columns,
    event_uids,
    parse_times,
    to_batch,
    unmapped_json,
)


class _Alert(msgspec.Struct):
    rule: str | None = None
    priority: str | None = None
    output: str | None = None
    message: str | None = None
    time: str | None = None
    hostname: str | None = None
    source: str | None = None
    tags: list[str] | None = None
    uuid: str | None = None
    output_fields: dict[str, Any] | None = None


_FIELDS = msgspec.json.Decoder(list[dict[str, msgspec.Raw]])
_MAPPED = frozenset({"rule", "priority", "output", "message", "time", "hostname", "source", "tags", "uuid", "output_fields"})
#: Falco's priority names (falco_common.cpp), as Falco writes them and Falcosidekick lowercases them.
_PRIORITY = re.compile(
    rb'"rule" ?: ?"[^"]+"[^\n]*?"priority" ?: ?"(?i:emergency|alert|critical|error|warning|notice|informational|info|debug)"|'
    rb'"priority" ?: ?"(?i:emergency|alert|critical|error|warning|notice|informational|info|debug)"[^\n]*?"rule" ?: ?"[^"]+"'
)
_ACTOR = ("ka.user.name", "ct.user", "okta.actor.name", "github.user")
_SRC_IP = ("ct.srcip", "okta.client.ip", "fd.cip")
_OPERATION = ("ka.verb", "ct.name")


def _str(v: Any) -> str | None:
    return None if v is None or v == "<NA>" else str(v)


_TOP = msgspec.json.Decoder(dict[str, msgspec.Raw])


def _unwrap(raw: bytes) -> bytes:
    """The ``data`` object of a structured-mode CloudEvent, else the record itself."""
    if b'"specversion"' not in raw:
        return raw
    try:
        data = _TOP.decode(raw).get("data")
    except msgspec.DecodeError:  # not an object: left for the decoder to dead-letter
        return raw
    return bytes(data) if data is not None and bytes(data)[:1] == b"{" else raw


def _first(f: dict[str, Any], keys: tuple[str, ...]) -> str | None:
    for k in keys:
        v = _str(f.get(k))
        if v:
            return v
    return None


def _int(v: Any) -> int | None:
    try:
        return None if v is None else int(v)
    except (TypeError, ValueError):
        return None


class Falco(CheckedRecordFormat):
    """Falco runtime security alerts."""

    name = "falco"
    record_type = _Alert
    what = "a Falco alert"
    invalid_reason = "not a Falco alert: no `rule` with a `priority` or `output`"
    description = "Falco alerts (json_output NDJSON, http_output payload) -> Detection Finding (2004)"
    framing = "lines"
    product = "Falco"
    vendor = "Falcosecurity"

    def map_records(self, recs: Records) -> Decoded:
        """Map alert records, unwrapping Falcosidekick's structured CloudEvents first (done here,
        not in ``split_records``, so the wire edge keeps its one-array fast path)."""
        if any(b'"specversion"' in r for r in recs.raws):
            recs.raws = [_unwrap(r) for r in recs.raws]
        return super().map_records(recs)

    def sniff(self, head: bytes) -> int:
        """Recognize the alert keys."""
        h = head[:8192]
        rule, priority, output, fields = (k in h for k in (b'"rule"', b'"priority"', b'"output"', b'"output_fields"'))
        if rule + priority + output + fields >= 3:
            return 85
        return 80 if rule and priority and _PRIORITY.search(h) else 0  # both branches of _PRIORITY hold both keys

    def is_valid(self, rec: _Alert) -> bool:
        """A record must carry the format's identifying keys (``output`` may be switched off)."""
        return bool(rec.rule) and (rec.output is not None or rec.priority is not None)

    def map_valid(self, al: list[_Alert], tops: list[dict[str, msgspec.Raw]], raws: list[bytes]) -> pa.RecordBatch:
        n = len(al)
        cls = "detection_finding"
        uids = event_uids(self.name, raws)
        prio = strs([a.priority for a in al])
        cols = base_columns(
            cls, kind=self.name, product=self.product, vendor=self.vendor, uids=uids,
            times_ms=parse_times(strs([a.time for a in al])), raws=raws, activity_id=1, severity_id=severity_ids(prio),
        )  # fmt: skip
        of = [a.output_fields or {} for a in al]
        rule = strs([a.rule for a in al])
        output = strs([a.message if a.output is None else a.output for a in al])
        ns = strs([_str(f.get("k8s.ns.name")) for f in of])
        pod = strs([_str(f.get("k8s.pod.name")) for f in of])
        has_pod = pc.fill_null(pc.or_kleene(pc.is_valid(ns), pc.is_valid(pod)), False)
        ka_type = strs([_str(f.get("ka.target.resource")) for f in of])
        ka_name = strs([_str(f.get("ka.target.name")) for f in of])
        ka_ns = strs([_str(f.get("ka.target.namespace")) for f in of])
        has_ka = pc.or_(pc.or_(pc.is_valid(ka_type), pc.is_valid(ka_name)), pc.is_valid(ka_ns))
        res = nest({
            "type": pc.if_else(has_pod, pa.scalar("pod", S), ka_type),
            "name": pc.if_else(has_pod, pod, ka_name),
            "namespace": pc.if_else(has_pod, ns, ka_ns),
            "uid": strs([_str(f.get("k8s.pod.uid")) for f in of]),
        })  # fmt: skip
        raw_fields = [t.get("output_fields") for t in tops]
        evid = nest({
            "process.name": strs([_str(f.get("proc.name")) for f in of]),
            "process.cmd_line": strs([_str(f.get("proc.cmdline")) for f in of]),
            "process.pid": pa.array([_int(f.get("proc.pid")) for f in of], pa.int32()),
            "process.user.name": strs([_str(f.get("user.name")) for f in of]),
            "actor.user.name": strs([_first(f, _ACTOR) for f in of]),
            "src_endpoint.ip": strs([_first(f, _SRC_IP) for f in of]),
            "dst_endpoint.ip": strs([_str(f.get("fd.sip")) for f in of]),
            "api.operation": strs([_first(f, _OPERATION) for f in of]),
            "data": raw_json_col(raw_fields),
        })  # fmt: skip
        orig = strs([a.uuid for a in al])
        cols.update({
            "status_id": pa.array([1] * n, pa.int32()),
            "status": strs(["New"] * n),
            "message": output,
            "metadata.original_event_uid": orig,
            "metadata.log_source": strs([a.source for a in al]),
            "metadata.event_code": rule,
            "finding_info.uid": pc.coalesce(orig, strs(uids)),
            "finding_info.title": rule,
            "finding_info.desc": output,
            "finding_info.types": str_lists([a.tags for a in al]),
            "finding_info.analytic.name": rule,
            "finding_info.analytic.category": strs([a.source for a in al]),
            "finding_info.analytic.type_id": pa.array([1] * n, pa.int32()),
            "finding_info.analytic.type": strs(["Rule"] * n),
            "device.hostname": strs([a.hostname for a in al]),
            "device.container.uid": strs([_str(f.get("container.id")) for f in of]),
            "device.container.name": strs([_str(f.get("container.name")) for f in of]),
            "device.container.image.name": strs([_str(f.get("container.image.repository") or f.get("container.image")) for f in of]),
            "device.container.image.tag": strs([_str(f.get("container.image.tag")) for f in of]),
            "resources": singleton_list(res, pc.or_(has_pod, has_ka)),
            "evidences": singleton_list(evid),
            "unmapped": unmapped_json(tops, _MAPPED),
        })  # fmt: skip
        return to_batch(cls, cols)


__all__ = ["Falco"]
