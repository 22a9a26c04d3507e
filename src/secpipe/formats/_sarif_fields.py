"""A run's SARIF results as field columns (for :mod:`.sarif`): the native walker's one pass
(:func:`native_fields`), else the msgspec structs' (:func:`struct_fields`), both giving the same columns."""

from __future__ import annotations

from typing import Any

import msgspec
import numpy as np
import pyarrow as pa

from secpipe import _compute as pc
from secpipe.formats import _fast
from secpipe.formats._findings import Distinct, strs
from secpipe.formats._sarif_ids import Fingerprints
from secpipe.formats._sarif_model import (
    LOC_INTS,
    NO_ART,
    NO_LOGICAL,
    NO_REF,
    REF_INTS,
    UNMAPPED,
    Message,
    PhysLoc,
    Region,
    Result,
)
from secpipe.formats._sarif_rules import SEVERITY_KEYS, result_props, security_severity
from secpipe.formats._sarif_run import LOG_FIELDS
from secpipe.formats.base import Strict, unmapped_from

_PHYS = "locations[].physicalLocation."
#: a location's logical locations (SARIF §3.28.4) and the properties of one that are read (§3.33)
_LOGICAL = "locations[].logicalLocations[]"
#: the native walker's spec of ``Result``: typed fields as columns, raw ones to ``unmapped``.
_SPEC = _fast.Spec(
    (("ruleId", _fast.STR), ("rule.id", _fast.STR), *((k, _fast.INT) for k in REF_INTS), ("level", _fast.STR),
     ("kind", _fast.STR), ("baselineState", _fast.STR), ("message", _fast.RAW), ("fingerprints", _fast.RAW),
     ("partialFingerprints", _fast.RAW), ("suppressions", _fast.RAW), ("properties", _fast.RAW), ("taxa", _fast.RAW),
     ("locations[]", _fast.LIST), (_PHYS + "artifactLocation.uri", _fast.STR), (_PHYS + "artifactLocation.uriBaseId", _fast.STR),
     (_PHYS + "artifactLocation.index", _fast.INT), *((_PHYS + "region." + k, _fast.INT) for k in LOC_INTS),
     (_LOGICAL, _fast.LIST), *((f"{_LOGICAL}.{k}", _fast.STR) for k in LOG_FIELDS), (_LOGICAL + ".index", _fast.INT)),
    UNMAPPED, tuple(f.encode_name for f in msgspec.structs.fields(Result)),
)  # fmt: skip
_FPS = msgspec.json.Decoder(list[Fingerprints | None])
_SUPPRESSIONS = msgspec.json.Decoder(list[list[Any] | None])


def native_fields(raws: list[bytes]) -> tuple[dict[str, Any], Distinct] | None:
    """A run's result field columns in one native pass, or None when the msgspec path must decide
    (no extension, an irregular result, a message, fingerprint or suppression of the wrong type)."""
    cols = _fast.extract(raws, _SPEC)
    if cols is None:
        return None
    s = cols.strings
    msgs = Distinct.from_column(s["message"], Message | None, "message")
    if msgs.errors:
        return None
    try:
        fps = _decode_column(s["fingerprints"], _FPS)
        pfps = _decode_column(s["partialFingerprints"], _FPS)
        sup = s["suppressions"]
        suppressed = pa.array([_suppressed(x) for x in _decode_column(sup, _SUPPRESSIONS)], pa.bool_()) if sup.null_count < len(sup) \
            else pa.repeat(pa.scalar(False), len(sup))
    except msgspec.DecodeError:
        return None
    f: dict[str, Any] = {k: s[k] for k in ("ruleId", "rule.id", *REF_INTS, "level", "kind", "baselineState")}
    offsets, _mask = cols.lists["locations[]"]
    first = pa.array(offsets[:-1], pa.int32(), mask=offsets[1:] == offsets[:-1])
    f["uri"] = s[_PHYS + "artifactLocation.uri"].take(first)
    f["base"] = s[_PHYS + "artifactLocation.uriBaseId"].take(first)
    f["artifact"] = s[_PHYS + "artifactLocation.index"].take(first)
    for k in LOC_INTS:
        f[k] = s[_PHYS + "region." + k].take(first)
    f["locations"] = None
    if len(s[_PHYS + "artifactLocation.uri"]) > int(np.count_nonzero(offsets[1:] > offsets[:-1])):  # 2+ in a result
        f["locations"] = (offsets, {"uri": s[_PHYS + "artifactLocation.uri"], "base": s[_PHYS + "artifactLocation.uriBaseId"],
                                    "artifact": s[_PHYS + "artifactLocation.index"],
                                    **{k: s[_PHYS + "region." + k] for k in LOC_INTS}})  # fmt: skip
    # the first location's first logical location: its items start at inner[first location]
    inner, _mask = cols.lists[_LOGICAL]
    at = np.minimum(offsets[:-1], len(inner) - 2)
    has = (offsets[1:] > offsets[:-1]) & (inner[at + 1] > inner[at])
    first_logical = pa.array(inner[at], pa.int32(), mask=~has)
    for k in (*LOG_FIELDS, "index"):
        f["logical." + k] = s[f"{_LOGICAL}.{k}"].take(first_logical)
    props = s["properties"]
    has = pc.fill_null(pc.match_substring_regex(props, "|".join(SEVERITY_KEYS)), False)
    score: list[float | None] = [None] * len(raws)
    if pc.any(has).as_py():
        for i in np.flatnonzero(has.to_numpy(zero_copy_only=False)).tolist():
            score[i] = security_severity(result_props(msgspec.Raw(props[i].as_py().encode())))
    f["score"] = pa.array(score, pa.float64())
    f["fingerprints"], f["partialFingerprints"], f["suppressed"] = fps, pfps, suppressed
    f["taxa"] = s["taxa"]
    f["props"] = props
    f["unmapped"] = cols.unmapped
    return f, msgs


#: suppression statuses that leave a result unsuppressed (SARIF 2.1.0 §3.35.3)
_NOT_SUPPRESSING = frozenset({"underReview", "rejected"})


def _suppressed(sups: list[Any] | None) -> bool:
    """Whether a result is suppressed: it has suppressions and none of them is ``underReview`` or
    ``rejected`` (a suppression under review or rejected does not suppress; sarif-tutorials,
    "Determining suppression status"). Logs of the 2.1.0 pre-release schemas rtm.1 to rtm.4 (also
    version "2.1.0") name that property ``state``: the SARIF SDK reads it as ``status`` (its
    PrereleaseCompatibilityTransformer), and so does this."""
    if not sups:
        return False
    return not any(isinstance(x, dict) and _status(x) in _NOT_SUPPRESSING for x in sups)


def _status(sup: dict[str, Any]) -> str | None:
    """A suppression's ``status`` (else ``state``) where it is text: another JSON value is no status (an object or
    a list, not hashable, raised TypeError and lost the log)."""
    got = sup.get("status", sup.get("state"))
    return got if isinstance(got, str) else None


def _decode_column(col: pa.Array, dec: msgspec.json.Decoder) -> list[Any]:
    """A column of raw JSON texts (null where absent) decoded in one call: one value per row."""
    if col.null_count == len(col):
        return [None] * len(col)
    joined = pc.binary_join_element_wise(pc.fill_null(col, "null"), pa.scalar(","), "")
    buf = joined.buffers()
    off = np.frombuffer(buf[1], np.int32, len(joined) + 1, joined.offset * 4)
    text = buf[2].to_pybytes()[off[0] : off[-1] - 1]
    return dec.decode(b"[" + text + b"]")  # type: ignore[no-any-return]


def struct_fields(st: Strict) -> dict[str, Any]:
    """The msgspec path's result field columns, as :func:`native_fields` gives them."""
    rs: list[Result] = st.recs
    refs = [r.rule or NO_REF for r in rs]
    f: dict[str, Any] = {"ruleId": strs([r.ruleId for r in rs]), "rule.id": strs([x.id for x in refs]),
                         "ruleIndex": _ref_ints([r.ruleIndex for r in rs]),
                         "rule.index": _ref_ints([x.index for x in refs]),
                         "rule.toolComponent.index": _ref_ints([x.toolComponent.index if x.toolComponent else None
                                                                for x in refs]),
                         "level": strs([r.level for r in rs]), "kind": strs([r.kind for r in rs]),
                         "baselineState": strs([r.baselineState for r in rs])}  # fmt: skip
    locs = [(r.locations[0].physicalLocation if r.locations and r.locations[0].physicalLocation else PhysLoc()) for r in rs]
    arts = [p.artifactLocation or NO_ART for p in locs]
    regions = [p.region or Region() for p in locs]
    logical = [r.locations[0].logicalLocations[0] if r.locations and r.locations[0].logicalLocations else NO_LOGICAL
               for r in rs]  # fmt: skip
    for k in LOG_FIELDS:
        f["logical." + k] = strs([getattr(g, k) for g in logical])
    f["logical.index"] = _ref_ints([g.index for g in logical])
    f["uri"] = strs([a.uri for a in arts])
    f["base"] = strs([a.uriBaseId for a in arts])
    f["artifact"] = _ref_ints([a.index for a in arts])
    for k in LOC_INTS:
        f[k] = pa.array([None if v is not None and not _MIN <= v <= _MAX else v for v in (getattr(g, k) for g in regions)],
                        pa.int64())  # fmt: skip
    f["locations"] = None
    if any(r.locations and len(r.locations) > 1 for r in rs):  # every location, as the native path gives them
        every = [loc.physicalLocation or PhysLoc() for r in rs for loc in r.locations or ()]
        at = [p.artifactLocation or NO_ART for p in every]
        reg = [p.region or Region() for p in every]
        f["locations"] = (np.cumsum([0, *(len(r.locations or ()) for r in rs)]),
                          {"uri": strs([a.uri for a in at]), "base": strs([a.uriBaseId for a in at]),
                           "artifact": _ref_ints([a.index for a in at]),
                           **{k: pa.array([None if v is not None and not _MIN <= v <= _MAX else v
                                           for v in (getattr(g, k) for g in reg)], pa.int64()) for k in LOC_INTS}})  # fmt: skip
    f["score"] = pa.array([security_severity(result_props(r.properties)) for r in rs], pa.float64())
    f["fingerprints"] = [r.fingerprints for r in rs]
    f["partialFingerprints"] = [r.partialFingerprints for r in rs]
    f["suppressed"] = pa.array([_suppressed(r.suppressions) for r in rs], pa.bool_())
    f["taxa"] = strs([bytes(r.taxa).decode() if r.taxa else None for r in rs])
    f["props"] = strs([bytes(r.properties).decode() if r.properties else None for r in rs])
    f["unmapped"] = unmapped_from(st, UNMAPPED)
    return f


_MIN, _MAX = -(2**63), 2**63 - 1


def _ref_ints(values: list[int | None]) -> pa.Array:
    """Indexes (rule, tool component, artifact) as int64; one beyond int64 indexes nothing: -2."""
    return pa.array([v if v is None or _MIN <= v <= _MAX else -2 for v in values], pa.int64())


__all__ = ["native_fields", "struct_fields"]
