"""OCSF 1.8.0 conformance of stored events: what a validator of the lake would report.

Design: events are checked as the rows a reader of the Parquet lake sees (``to_pylist`` of a
class table), walking the class's attributes in the compiled schema (:func:`secpipe.schema.ocsf.ocsf`)
and, recursively, the attributes of every present object and list item. A problem is a short
message naming the dotted path (list items are not indexed, so messages group):

- ``required <path> missing``: a required attribute absent (null or an empty list) from the event
  or from an object that is present. Profile attributes (``cloud``, ``osint``, ``device`` ...)
  count only when the event lists the profile in ``metadata.profiles``.
- ``<path>=<v> not in enum``: an ``*_id`` value outside its enum.
- ``<path>=<v> caption '<x>' != '<caption>'``: an enum's sibling (``type`` of ``type_id``)
  that is not the enum caption while the id is not 99 (Other, where the source's word belongs).
- ``type_uid != class_uid*100+activity_id`` and ``class_uid mismatch``.
- ``<path> constraint at_least_one [a, b] none present`` / ``... just_one [..] <k> present``:
  the ``constraints`` of the class and of every present object (OCSF validator semantics, with
  absent meaning null or an empty list).
- ``<path> present without profile <p>``: an attribute of a profile the event does not list
  (the OCSF validator reports it as an unknown attribute); ``metadata.profiles lists <p>, not
  a profile of the class``.
- ``observables.name <n> is not an attribute`` (the name must be a dotted path of the class,
  with the listed profiles), and ``unmapped is not a JSON object``.

Guarantees: the check reads only; it is deterministic; it is bounded in depth (objects nest at
most :data:`MAX_DEPTH` levels, the schema's recursive objects such as ``process.parent_process``
are not followed further).
"""

from __future__ import annotations

import collections
import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from secpipe.schema.ocsf import ocsf

#: deepest object level checked (event attributes are level 0)
MAX_DEPTH = 6


def _is_attribute(spec: dict[str, Any], name: str, profiles: set[str]) -> bool:
    """Whether dotted ``name`` is an attribute path below class/object ``spec`` (with ``profiles``)."""
    head, _, rest = name.partition(".")
    attr = spec["attributes"].get(head)
    if attr is None or (attr.get("profile") and attr["profile"] not in profiles):
        return False
    if not rest:
        return True
    sub = ocsf()["objects"].get(attr.get("type") or "")
    return sub is not None and _is_attribute(sub, rest, profiles)


def _event_checks(spec: dict[str, Any], r: dict[str, Any], profiles: set[str], out: collections.Counter[str]) -> None:
    """What concerns the event as a whole: type_uid, class_uid, profiles, observables, unmapped."""
    if r.get("type_uid") != (r.get("class_uid") or 0) * 100 + (r.get("activity_id") or 0):
        out["type_uid != class_uid*100+activity_id"] += 1
    if r.get("class_uid") != spec["uid"]:
        out["class_uid mismatch"] += 1
    for prof in sorted(profiles - set(spec.get("profiles") or ())):
        out[f"metadata.profiles lists {prof}, not a profile of the class"] += 1
    for obs in r.get("observables") or ():
        name = (obs or {}).get("name")
        if name is not None and not _is_attribute(spec, name, profiles):
            out[f"observables.name {name} is not an attribute"] += 1
    unmapped = r.get("unmapped")
    if unmapped is not None:
        try:
            ok = isinstance(json.loads(unmapped), dict) if isinstance(unmapped, str) else isinstance(unmapped, dict)
        except ValueError:
            ok = False
        if not ok:
            out["unmapped is not a JSON object"] += 1


def _absent(v: Any) -> bool:
    return v is None or v == []


def _constraints(item: dict[str, Any], row: dict[str, Any], path: str, out: collections.Counter[str]) -> None:
    where = path.rstrip(".") or "event"
    for kind, keys in (item.get("constraints") or {}).items():
        have = sum(not _absent(row.get(k)) for k in keys)
        if kind == "at_least_one" and have == 0:
            out[f"{where} constraint at_least_one {keys} none present"] += 1
        elif kind == "just_one" and have != 1:
            out[f"{where} constraint just_one {keys} {have} present"] += 1
        elif kind not in ("at_least_one", "just_one"):
            out[f"{where} constraint {kind} unknown"] += 1


def _check(item: dict[str, Any], row: dict[str, Any], path: str, profiles: set[str], depth: int,
           out: collections.Counter[str]) -> None:  # fmt: skip
    _constraints(item, row, path, out)
    for name, spec in item["attributes"].items():
        v = row.get(name)
        p = f"{path}{name}"
        prof = spec.get("profile")
        if prof and prof not in profiles:
            # a profile's attribute: required only where the event applies the profile, and
            # present only there (a validator filters it out and reports the key as unknown)
            if not _absent(v):
                out[f"{p} present without profile {prof}"] += 1
            continue
        if spec.get("requirement") == "required" and (v is None or v == []):
            out[f"required {p} missing"] += 1
        if v is None:
            continue
        enum = spec.get("enum")
        if enum and name.endswith("_id") and isinstance(v, int):
            item = enum.get(str(v))
            if item is None:
                out[f"{p}={v} not in enum"] += 1
            else:
                sib = spec.get("sibling")
                word = row.get(sib) if sib else None
                if word is not None and v != 99 and word != item["caption"]:
                    out[f"{p}={v} caption {word!r} != {item['caption']!r}"] += 1
        sub = ocsf()["objects"].get(spec.get("type") or "")
        if sub is not None and depth < MAX_DEPTH:
            for it in v if isinstance(v, list) else [v]:
                if isinstance(it, dict):
                    _check(sub, it, p + ".", profiles, depth + 1, out)


def check_rows(class_name: str, rows: Iterable[dict[str, Any]]) -> collections.Counter[str]:
    """The problems of events of ``class_name`` (rows as ``Table.to_pylist`` gives them), counted."""
    spec = ocsf()["classes"].get(class_name)
    out: collections.Counter[str] = collections.Counter()
    if spec is None:
        out["unknown class"] += 1
        return out
    for r in rows:
        profiles = set((r.get("metadata") or {}).get("profiles") or ())
        _check(spec, r, "", profiles, 0, out)
        _event_checks(spec, r, profiles, out)
    return out


def check_lake(data: Path) -> dict[tuple[str, str, str], int]:
    """Problems of every class table under ``<data>/lake``, keyed by (class, product name, message)."""
    import pyarrow.parquet as pq

    found: dict[tuple[str, str, str], int] = {}
    lake = Path(data) / "lake"
    for cdir in sorted(p for p in lake.iterdir() if p.is_dir()):
        for row in pq.read_table(cdir).to_pylist():
            product = str((((row.get("metadata") or {}).get("product")) or {}).get("name"))
            for msg, n in check_rows(cdir.name, [row]).items():
                key = (cdir.name, product, msg)
                found[key] = found.get(key, 0) + n
    return found


__all__ = ["MAX_DEPTH", "check_lake", "check_rows"]
