"""Findings Trivy set aside: a result's ``ExperimentalModifiedFindings`` (``--show-suppressed``).

Trivy (0.51+, ``pkg/types/finding.go``, ``pkg/result/filter.go``, ``pkg/vex``) takes a finding that a
VEX statement (``--vex``: OpenVEX, CycloneDX, CSAF, a VEX repository or an OCI attestation) or an
ignore file (``.trivyignore``, ``.trivyignore.yaml``, ``--ignore-policy``, ``--ignore-unlikely-affected``)
suppresses out of its result's ``Vulnerabilities`` / ``Misconfigurations`` / ``Secrets`` /
``Licenses`` and, with ``--show-suppressed``, writes it to the result's ``ExperimentalModifiedFindings``
as ``{Type, Status, Statement, Source, Finding}``: ``Type`` vulnerability, misconfiguration, secret or
license; ``Status`` ignored (an ignore file) or the VEX status (not_affected, fixed; Trivy's enum also
has affected, under_investigation and unknown); ``Statement`` the VEX justification or the ignore
entry's statement; ``Source`` the VEX document or ignore file; ``Finding`` the finding as it would
have been reported.

Each entry is stored as the finding it holds, mapped by :class:`~secpipe.formats.trivy.Trivy` as one
of its result (same class, columns, resources and time), then: ``status_id`` Resolved (4) for a VEX
``fixed`` (the product holds the fix), else Suppressed (3), as for Grype's ignored matches;
``status_code`` the Status word; ``status_detail`` the Statement; ``unmapped.ModifiedFinding`` the
entry's Type, Status, Statement and Source; ``raw_data`` the whole entry (statement and finding);
``metadata.uid`` the hash of the entry in its result's context (its artifact or workload, target,
result and entry ordinals, marked as a modified finding), so a suppressed finding is never the event
of the same finding reported. An entry of another shape (no object, ``Type`` unknown, ``Finding`` no
object) is dead-lettered alone with the reason, as a list of them that is no list. This runs on a report
the caller decoded (its broken parts, as a ``trivy k8s`` report's, left out already), and only on one
that holds the key.
"""

from __future__ import annotations

from dataclasses import dataclass

import msgspec
import pyarrow as pa

from secpipe.formats._findings import captions, compact, raw_data, strs, unmapped_items
from secpipe.formats.base import BOM, DeadLetter, event_uids

#: a modified finding's Type -> the result list its Finding belongs to
_LISTS = {"vulnerability": "Vulnerabilities", "misconfiguration": "Misconfigurations", "secret": "Secrets",
          "license": "Licenses"}  # fmt: skip
_K8S = ("Resources", "Findings")  # `trivy k8s`: the results are each resource's

_OBJECT = msgspec.json.Decoder(dict[str, msgspec.Raw])
_LIST = msgspec.json.Decoder(list[msgspec.Raw] | None)


class _Entry(msgspec.Struct):
    Type: str
    Status: str | None = None
    Statement: str | None = None
    Source: str | None = None
    Finding: msgspec.Raw = msgspec.Raw(b"null")


_ENTRY = msgspec.json.Decoder(_Entry)


@dataclass(frozen=True)
class Modified:
    """One entry: its compact bytes, what it says, and its identity context."""

    raw: bytes
    entry: _Entry
    context: str


def split(data: bytes, source: str, fmt: str) -> tuple[bytes | None, list[Modified], list[DeadLetter]]:
    """The report ``data`` (one the caller decoded) rewritten with each modified finding as the one
    finding of a result of its own (``trivy k8s``: of a resource of its own; the report's other keys as
    they are), the entries in that order, and the entries dead-lettered."""
    top = _OBJECT.decode(data.removeprefix(BOM))  # (as it came: each entry is compacted alone below)
    k8s = next((k for k in _K8S if k in top), None) if "Results" not in top else None
    owners = (_LIST.decode(top[k8s]) or []) if k8s else [b"{}"]
    head = "\0".join(_text(top, k) for k in ("ClusterName", "ArtifactName", "ArtifactID", "CreatedAt"))
    parts: list[msgspec.Raw] = []
    mods: list[Modified] = []
    dead: list[DeadLetter] = []
    for wi, w in enumerate(owners):
        fields = _OBJECT.decode(w) if k8s else top
        results = _LIST.decode(fields.get("Results") or b"null") or []
        where = f"{head}\0{wi}\0" + "/".join(_text(fields, k) for k in ("Namespace", "Kind", "Name"))
        for ri, r in enumerate(results):
            res = _OBJECT.decode(r)
            try:
                entries = _LIST.decode(res.get("ExperimentalModifiedFindings") or b"null") or []
            except msgspec.DecodeError as exc:  # (a value of another JSON type: its entries are none)
                dead.append(DeadLetter(f"not Trivy's modified findings ({exc})", source, ri,
                                       bytes(res["ExperimentalModifiedFindings"]), fmt))  # fmt: skip
                continue
            for j, e in enumerate(entries):
                e = msgspec.Raw(compact(bytes(e)))  # (canonical: identity and raw_data as from a compact report)
                got = _entry(e)
                if isinstance(got, str):
                    dead.append(DeadLetter(f"not a Trivy modified finding ({got})", source, j, bytes(e), fmt))
                    continue
                one = {k: res[k] for k in ("Target", "Class", "Type") if k in res} | {_LISTS[got.Type]: [got.Finding]}
                part = msgspec.json.encode({k: v for k, v in fields.items() if k != "Results"} | {"Results": [one]}
                                           if k8s else one)  # fmt: skip
                target = _text(res, "Target")
                mods.append(Modified(bytes(e), got, f"{where}\0{target}\0{ri}\0modified\0{j}"))
                parts.append(msgspec.Raw(part))
    if not parts:
        return None, [], dead
    rest = {k: v for k, v in top.items() if k not in ("Results", *_K8S)}
    return msgspec.json.encode(rest | {k8s or "Results": parts}), mods, dead


def _text(fields: dict[str, msgspec.Raw], key: str) -> str:
    """A member's JSON, compact (for an identity context: the same however the report was printed)."""
    return compact(bytes(fields.get(key) or b'""')).decode()


def _entry(raw: msgspec.Raw) -> _Entry | str:
    """One entry, or why it is none."""
    try:
        e = _ENTRY.decode(raw)
    except msgspec.DecodeError as exc:
        return str(exc)
    if e.Type not in _LISTS:
        return f"Type {e.Type!r} is none of {', '.join(_LISTS)}"
    if not bytes(e.Finding).startswith(b"{"):
        return "its Finding is no object"
    return e


def columns(kind: str, cls: str, mods: list[Modified], have: dict[str, pa.Array]) -> dict[str, pa.Array]:
    """What the entries ``mods`` (one per row) change in the columns ``have`` of their findings."""
    words = [m.entry.Status for m in mods]
    sid = pa.array([4 if (w or "").lower() == "fixed" else 3 for w in words], pa.int32())
    told = [msgspec.json.encode({"Type": m.entry.Type, "Status": m.entry.Status, "Statement": m.entry.Statement,
                                 "Source": m.entry.Source}).decode() for m in mods]  # fmt: skip
    raws = [m.raw for m in mods]
    return {
        "status_id": sid,
        "status": captions(cls, "status_id", sid),
        "status_code": strs(words),
        "status_detail": strs([m.entry.Statement or None for m in mods]),
        "unmapped": unmapped_items(have["unmapped"], strs(['"ModifiedFinding":' + t for t in told])),
        "raw_data": raw_data(raws),
        "metadata.uid": event_uids(kind, raws, [m.context for m in mods]),
    }


__all__ = ["Modified", "columns", "split"]
