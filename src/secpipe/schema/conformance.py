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

Guarantees: the check reads only; it is deterministic; it is bounded in depth (objects nest at
most :data:`MAX_DEPTH` levels, the schema's recursive objects such as ``process.parent_process``
are not followed further).
"""

from __future__ import annotations

import collections
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from secpipe.schema.ocsf import ocsf

#: deepest object level checked (event attributes are level 0)
MAX_DEPTH = 6


def _object_attributes(type_name: str | None) -> dict[str, Any] | None:
    obj = ocsf()["objects"].get(type_name or "")
    return None if obj is None else obj["attributes"]  # type: ignore[no-any-return]


def _check(attrs: dict[str, Any], row: dict[str, Any], path: str, profiles: set[str], depth: int,
           out: collections.Counter[str]) -> None:  # fmt: skip
    for name, spec in attrs.items():
        prof = spec.get("profile")
        if prof and prof not in profiles:
            continue  # a profile's attribute: required only where the event applies the profile
        v = row.get(name)
        p = f"{path}{name}"
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
        sub = _object_attributes(spec.get("type"))
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
        _check(spec["attributes"], r, "", profiles, 0, out)
        if r.get("type_uid") != (r.get("class_uid") or 0) * 100 + (r.get("activity_id") or 0):
            out["type_uid != class_uid*100+activity_id"] += 1
        if r.get("class_uid") != spec["uid"]:
            out["class_uid mismatch"] += 1
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
