"""A ``trivy k8s`` report whose damage is inside one Kubernetes resource: mend it, keep the rest.

A ``trivy k8s --format json`` report (``ClusterName`` with ``Resources`` or ``Findings``) holds the
scans of many resources; one value of the wrong JSON type inside one of them (``Vulnerabilities``
an object, a ``Target`` number, a resource that is no object) made msgspec refuse the whole
report, and every resource's findings were dead-lettered with it. :func:`mend` runs only after
that refusal (no cost for a report that decodes) and finds the smallest broken part:

- a result (``Resources[i].Results[j]``) that does not fit the result type is dead-lettered alone
  and replaced by ``{}`` (no finding), so the other results keep their position (their finding
  uids hash the result's ordinal, as in the unbroken report);
- a resource whose own fields do not fit (Namespace, Kind, Name, Metadata, Error, a ``Results``
  that is no list) is dead-lettered whole, its results with it (they have no resource to name),
  and replaced by ``{"Results": [{}, ...]}`` of as many results when its ``Results`` is a list.

Each dead letter holds the part's compact bytes and msgspec's reason with the part's path in
the report (``$.Resources[1].Results[0].Vulnerabilities``). A report broken outside its resources
(ClusterName, CreatedAt, ``Resources`` no list), or still refused once mended, is not mended:
the caller keeps its dead letter for the whole report.
"""

from __future__ import annotations

from typing import Any

import msgspec

_OBJECT = msgspec.json.Decoder(dict[str, msgspec.Raw])
_LIST = msgspec.json.Decoder(list[msgspec.Raw])
_KEYS = ("Resources", "Findings")  # `--report all` and `--report summary`

#: a broken part: (reason with its path, its bytes, the resource's index)
Broken = tuple[str, bytes, int]


def _at(exc: msgspec.DecodeError, path: str) -> str:
    """msgspec's reason with its ``$`` (the part decoded alone) replaced by the part's path."""
    text = str(exc)
    return text.replace("- at `$", f"- at `{path}", 1) if "- at `$" in text else f"{text} - at `{path}`"


def _object(fields: dict[str, msgspec.Raw]) -> bytes:
    return b"{" + b",".join(msgspec.json.encode(k) + b":" + bytes(v) for k, v in fields.items()) + b"}"


def _resource(raw: msgspec.Raw, path: str, index: int, workload: msgspec.json.Decoder,
              result: msgspec.json.Decoder, broken: list[Broken]) -> bytes:
    """One resource as it decodes, or mended (see the module docstring)."""
    try:
        workload.decode(raw)
        return bytes(raw)
    except msgspec.DecodeError as exc:
        whole = exc
    try:
        fields = _OBJECT.decode(raw)
        results = _LIST.decode(fields["Results"]) if fields.get("Results", b"null") != b"null" else []
    except (msgspec.DecodeError, KeyError):
        broken.append((_at(whole, path), bytes(raw), index))
        return b"{}"
    kept, before = [], len(broken)
    for j, r in enumerate(results):
        try:
            result.decode(r)
            kept.append(bytes(r))
        except msgspec.DecodeError as exc:
            broken.append((_at(exc, f"{path}.Results[{j}]"), bytes(r), index))
            kept.append(b"{}")
    if "Results" in fields and results:
        fields["Results"] = msgspec.Raw(b"[" + b",".join(kept) + b"]")
    mended = _object(fields)
    try:
        workload.decode(mended)
    except msgspec.DecodeError as exc:  # the resource's own fields: the resource goes, its results with it
        del broken[before:]
        broken.append((_at(exc, path), bytes(raw), index))
        return b'{"Results":[' + b",".join([b"{}"] * len(results)) + b"]}"
    return mended


def mend(data: bytes, report: msgspec.json.Decoder, workload: msgspec.json.Decoder,
         result: msgspec.json.Decoder) -> tuple[bytes, list[Broken]] | None:
    """The compact k8s report ``data`` with its broken results and resources left out, and those
    parts; None when ``data`` is no k8s report, decodes as it is, or is broken elsewhere."""
    try:
        top: dict[str, Any] = _OBJECT.decode(data)
        if "ClusterName" not in top or "Results" in top:
            return None
        lists = {k: _LIST.decode(top[k]) for k in _KEYS if k in top and top[k] != b"null"}
    except msgspec.DecodeError:
        return None
    broken: list[Broken] = []
    for key, items in lists.items():
        parts = [_resource(w, f"$.{key}[{i}]", i, workload, result, broken) for i, w in enumerate(items)]
        top[key] = msgspec.Raw(b"[" + b",".join(parts) + b"]")
    if not broken:
        return None
    mended = _object(top)
    try:
        report.decode(mended)
    except msgspec.DecodeError:
        return None
    return mended, broken
