"""Falco alerts: ``json_output`` lines (NDJSON file/stdout output) and the ``http_output`` payload.

Each alert -> Detection Finding (2004), activity Create, status New. Record framing: one alert
object (http_output POSTs one per request), a JSON array, or NDJSON lines; records from many
documents are mapped together in one columnar pass (:class:`RecordFormat`).

Mapping: ``rule`` -> ``finding_info.title`` and ``finding_info.analytic`` (name, type Rule);
``priority`` -> ``severity_id`` (Emergency Fatal, Alert/Critical Critical, Error High, Warning
Medium, Notice Low, Informational/Debug Informational); ``output`` -> ``message`` and
``finding_info.desc``; ``tags`` -> ``finding_info.types``; ``time`` -> ``time``; ``uuid`` ->
``finding_info.uid`` and ``metadata.original_event_uid`` (the event uid otherwise);
``source`` (syscall, k8s_audit, aws_cloudtrail ...) -> ``metadata.log_source`` and
``finding_info.analytic.category``; ``hostname`` -> ``device.hostname``. From
``output_fields``: ``container.id/name/image.repository/image.tag`` -> ``device.container``,
``k8s.ns.name``/``k8s.pod.name``/``k8s.pod.uid`` -> ``resources[0]`` (type ``pod``, only when
the alert has Kubernetes context); ``proc.name/cmdline/pid`` and ``user.name`` ->
``evidences[0].process``; the whole ``output_fields`` object is kept verbatim as JSON in
``evidences[0].data``. Other top-level keys stay in ``unmapped``.

An object without ``rule`` and ``output`` is not a Falco alert and is dead-lettered.
"""

from __future__ import annotations

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
    time: str | None = None
    hostname: str | None = None
    source: str | None = None
    tags: list[str] | None = None
    uuid: str | None = None
    output_fields: dict[str, Any] | None = None


_FIELDS = msgspec.json.Decoder(list[dict[str, msgspec.Raw]])
_MAPPED = frozenset({"rule", "priority", "output", "time", "hostname", "source", "tags", "uuid", "output_fields"})


def _str(v: Any) -> str | None:
    return None if v is None or v == "<NA>" else str(v)


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
    invalid_reason = "not a Falco alert: no `rule` and `output`"
    description = "Falco alerts (json_output NDJSON, http_output payload) -> Detection Finding (2004)"
    framing = "lines"
    product = "Falco"
    vendor = "Falcosecurity"

    def sniff(self, head: bytes) -> int:
        """Recognize the alert keys."""
        h = head[:8192]
        keys = sum(k in h for k in (b'"rule"', b'"priority"', b'"output"', b'"output_fields"'))
        return 85 if keys >= 3 else 0

    def is_valid(self, rec: _Alert) -> bool:
        """A record must carry the format's identifying keys."""
        return bool(rec.rule) and rec.output is not None

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
        output = strs([a.output for a in al])
        ns = strs([_str(f.get("k8s.ns.name")) for f in of])
        pod = strs([_str(f.get("k8s.pod.name")) for f in of])
        has_pod = pc.or_kleene(pc.is_valid(ns), pc.is_valid(pod))
        res = nest({"type": pa.array(["pod"] * n, S), "name": pod, "namespace": ns,
                    "uid": strs([_str(f.get("k8s.pod.uid")) for f in of])})  # fmt: skip
        raw_fields = [t.get("output_fields") for t in tops]
        evid = nest({
            "process.name": strs([_str(f.get("proc.name")) for f in of]),
            "process.cmd_line": strs([_str(f.get("proc.cmdline")) for f in of]),
            "process.pid": pa.array([_int(f.get("proc.pid")) for f in of], pa.int32()),
            "process.user.name": strs([_str(f.get("user.name")) for f in of]),
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
            "resources": singleton_list(res, has_pod),
            "evidences": singleton_list(evid),
            "unmapped": unmapped_json(tops, _MAPPED),
        })  # fmt: skip
        return to_batch(cls, cols)


__all__ = ["Falco"]
