"""govulncheck JSON output (``govulncheck -json ./...``, protocol v1): a stream of messages.

govulncheck writes one JSON object a message, back to back (pretty-printed, not one a line; some
pipelines save them as a JSON array): ``config`` (scanner, version, database, scan level),
``progress``, ``SBOM``, an ``osv`` message per vulnerability entry relevant to the scanned modules,
and ``finding`` messages, each one vulnerability (``osv`` id) found at one level, told by its
``trace``: a required module (module and version), an imported package (and package), or a
called symbol (and function, with the source position of each frame).

One **Vulnerability Finding (2002)** per vulnerability and module version found: the findings of
an OSV id for one module version are one event, at the deepest level found (symbol: "called",
package: "imported", module: "required", in ``finding_info.types``; govulncheck reports only the
called ones as affecting the code, naming the called function, which ``message`` gives). The OSV
entry gives title (``summary``, else the id), desc (``details``), times, ``references``, the CVE
among its ``aliases`` (``cve.uid``; without one the GO- id is the ``advisory``, OCSF 1.8.0 allowing
one of advisory / cve / cwe) and the other ids as ``related_vulnerabilities``; the module at its
version -> ``affected_packages[0]`` (``Go``, ``fixed_version`` as ``fixed_in_version``). The call
frames stay in ``raw_data`` (the event's findings as a JSON array): Vulnerability Finding has no code
location. govulncheck rates no severity (Unknown) and writes no time: the receipt time and its
label; the scanner version goes to ``metadata.product.version``, the database and scan level of
``config`` to ``unmapped``. An OSV entry no finding names (a vulnerability of a required module
whose affected versions the scan ruled out) holds no event.

Dead letters: a document that is not a stream (or array) of JSON messages whole; a finding or OSV
entry of the wrong shape alone. A scan that found nothing holds no event. Recognized by the
``config`` message naming the scanner govulncheck.
"""

from __future__ import annotations

import re
from typing import Any

import msgspec
import pyarrow as pa

from secpipe import _compute as pc
from secpipe.formats._findings import (
    STR_LIST,
    S,
    captions,
    compact,
    distinct_uids,
    nest,
    only_where,
    singleton_list,
    str_lists,
)
from secpipe.formats.base import (
    BOM,
    DeadLetter,
    Decoded,
    Format,
    base_columns,
    concatenated_objects,
    const,
    event_uids,
    parse_times,
    strs,
    to_batch,
)


class _Frame(msgspec.Struct, gc=False):
    module: str | None = None
    version: str | None = None
    package: str | None = None
    function: str | None = None
    receiver: str | None = None


class _Finding(msgspec.Struct, gc=False):
    osv: str | None = None
    fixed_version: str | None = None
    trace: list[_Frame] | None = None


class _Ref(msgspec.Struct, gc=False):
    url: str | None = None


class _Osv(msgspec.Struct, gc=False):
    id: str | None = None
    aliases: list[str] | None = None
    summary: str | None = None
    details: str | None = None
    published: str | None = None
    modified: str | None = None
    references: list[_Ref] | None = None


class _Config(msgspec.Struct, gc=False):
    scanner_name: str | None = None
    scanner_version: str | None = None
    db: str | None = None
    db_last_modified: str | None = None
    go_version: str | None = None
    scan_level: str | None = None


class _Message(msgspec.Struct, gc=False):
    config: _Config | None = None
    osv: _Osv | None = None
    finding: msgspec.Raw = msgspec.Raw(b"")  # (kept raw: decoded below, its bytes the finding's raw data)


_CLS = "vulnerability_finding"
_CVE = re.compile(r"^CVE-\d{4}-\d{4,}$")
_MESSAGE = msgspec.json.Decoder(_Message)
_MESSAGES = msgspec.json.Decoder(list[msgspec.Raw])
_STREAM = msgspec.json.Decoder(list[_Message])
_FINDING = msgspec.json.Decoder(_Finding)
_ENC = msgspec.json.Encoder()
_LEVELS = ("required", "imported", "called")  # a trace's depth: module, package, symbol


def _level(f: _Finding) -> int:
    top = (f.trace or [_Frame()])[0]
    return 2 if top.function else 1 if top.package else 0


def _where(f: _Finding) -> tuple[str | None, str | None]:
    """(module, version) a finding names (the trace's first frame)."""
    top = (f.trace or [_Frame()])[0]
    return top.module, top.version


def _whole(data: bytes) -> list[_Message] | None:
    """Every message of a stream in one msgspec pass, or None when one of them does not decode (the
    caller then reads them one by one, dead-lettering only the bad ones). A stream written one
    object after another with a newline between (as govulncheck writes it) is read as an array: a raw
    newline is never inside a JSON string, so ``}\\n{`` is always between two messages."""
    body = data.removeprefix(BOM).strip()
    if body[:1] == b"{":
        body = b"[" + body.replace(b"}\n{", b"},{") + b"]"
    try:
        return _STREAM.decode(body)
    except msgspec.DecodeError:
        return None


def _messages(data: bytes) -> list[bytes] | None:
    """The stream's messages (back to back, or one JSON array of them), or None when it is neither."""
    body = data.removeprefix(BOM).lstrip()
    if body[:1] == b"[":
        try:
            msgs = [bytes(r) for r in _MESSAGES.decode(body)]
        except msgspec.DecodeError:
            return None
    else:
        msgs = concatenated_objects(body)
    return msgs or None


class Govulncheck(Format):
    """govulncheck -json message streams."""

    name = "govulncheck"
    description = "govulncheck -json -> Vulnerability Finding (2002) per vulnerability and module version"
    framing = "document"
    product = "govulncheck"
    vendor = "Go"

    def sniff(self, head: bytes) -> int:
        """Recognize the ``config`` message naming govulncheck."""
        return 90 if _HEAD.match(head[:65536]) else 0

    def decode(self, data: bytes, source: str) -> Decoded:
        """Decode one stream: its OSV entries by id, its findings grouped by OSV id and module version."""
        data = bytes(data)
        out = Decoded()
        msgs = _whole(data)
        if msgs is None:
            parts = _messages(data)
            if parts is None:
                return Decoded(dead=[DeadLetter("not a govulncheck JSON stream: not JSON messages back to back or an array",
                                                source, 0, data, self.name)], events=1)  # fmt: skip
            msgs = []
            for i, raw in enumerate(parts):
                try:
                    msgs.append(_MESSAGE.decode(raw))
                except msgspec.DecodeError as exc:
                    out.dead.append(DeadLetter(f"not a govulncheck message: {exc}", source, i, raw, self.name))
        config, osvs = _Config(), {}
        groups: dict[tuple[str | None, str | None, str | None], list[tuple[_Finding, bytes]]] = {}
        for i, m in enumerate(msgs):
            if m.config is not None:
                config = m.config
            if m.osv is not None:
                osvs[m.osv.id] = m.osv
            if len(m.finding):
                raw = bytes(m.finding)
                try:
                    raw = compact(raw)  # (the finding's raw data and identity whatever the stream's layout)
                    f = _FINDING.decode(raw)
                except msgspec.DecodeError as exc:
                    out.dead.append(DeadLetter(f"not a govulncheck finding: {exc}", source, i, raw, self.name))
                    continue
                groups.setdefault((f.osv, *_where(f)), []).append((f, raw))
        out.events = len(groups) + len(out.dead)
        if groups:
            out.batches.append(self._batch(config, osvs, list(groups.values())))
        return out

    def _batch(self, config: _Config, osvs: dict[Any, _Osv], groups: list[list[tuple[_Finding, bytes]]]) -> pa.RecordBatch:
        n = len(groups)
        deepest = [max(g, key=lambda x: _level(x[0])) for g in groups]
        fs = [f for f, _r in deepest]
        raws = [b"[" + b",".join(r for _f, r in g) + b"]" for g in groups]
        cols = base_columns(_CLS, kind=self.name, product=self.product, vendor=self.vendor, uids=event_uids(self.name, raws),
                            times_ms=pa.nulls(n, pa.int64()), raws=raws, activity_id=1, severity_id=0)  # fmt: skip
        cols["metadata.product.version"] = const(config.scanner_version, n, S)
        entries = [osvs.get(f.osv) or _Osv(id=f.osv) for f in fs]
        every = [list(dict.fromkeys(x for x in (o.id, *(o.aliases or ())) if x)) for o in entries]
        cve = strs([next((x for x in e if _CVE.match(x)), None) for e in every])
        ids = strs([f.osv for f in fs])
        adv = pc.if_else(cve.is_valid(), pa.scalar(None, S), ids)
        primary = pc.coalesce(cve, ids).to_pylist()
        title = pc.coalesce(strs([o.summary for o in entries]), ids)
        desc = strs([o.details for o in entries])
        created, modified = parse_times([o.published for o in entries]), parse_times([o.modified for o in entries])
        where = [_where(f) for f in fs]
        modules, versions = strs([w[0] for w in where]), strs([w[1] for w in where])
        fixed = strs([f.fixed_version for f in fs])
        pkg = nest({"name": modules, "version": versions, "package_manager": const("Go", n, S), "fixed_in_version": fixed})
        vuln = nest({
            "title": title,
            "desc": desc,
            "severity": captions(_CLS, "severity_id", const(0, n, pa.int32())),
            "references": str_lists([[r.url for r in o.references or () if r.url] for o in entries]),
            "related_vulnerabilities": pa.array([[x for x in e if x != p] or None for e, p in zip(every, primary, strict=True)],
                                                STR_LIST),  # fmt: skip
            "is_fix_available": fixed.is_valid(),
            "cve": only_where(nest({"uid": cve, "title": title, "desc": desc, "created_time": created,
                                    "modified_time": modified}), cve),  # fmt: skip
            "advisory": only_where(nest({"uid": adv, "title": title, "desc": desc, "created_time": created,
                                         "modified_time": modified}), adv),  # fmt: skip
            "affected_packages": singleton_list(pkg, pc.and_(modules.is_valid(), versions.is_valid())),
        })  # fmt: skip
        levels = [_LEVELS[_level(f)] for f in fs]
        called = [".".join(x for x in (t.package, t.receiver, t.function) if x) if (t := (f.trace or [_Frame()])[0]).function
                  else None for f in fs]  # fmt: skip
        at = pc.binary_join_element_wise(pc.fill_null(modules, "None"), pc.fill_null(versions, "None"), "@")
        base = pc.binary_join_element_wise(pc.fill_null(ids, "None"), at, " in ")
        suffix = pc.binary_join_element_wise(" (called: ", strs(called), ")", "")  # (null where no symbol is called)
        message = pc.coalesce(pc.binary_join_element_wise(base, suffix, ""), base)
        status = const(1, n, pa.int32())
        db = _ENC.encode({k: v for k, v in (("db", config.db), ("db_last_modified", config.db_last_modified),
                                             ("go_version", config.go_version), ("scan_level", config.scan_level)) if v})  # fmt: skip
        cols.update({
            "status_id": status,
            "status": captions(_CLS, "status_id", status),
            "message": message,
            "finding_info.uid": distinct_uids(pc.binary_join_element_wise(pc.fill_null(ids, "None"), at, "|")),
            "finding_info.title": title,
            "finding_info.desc": desc,
            "finding_info.created_time": created,
            "finding_info.modified_time": modified,
            "finding_info.types": pa.array([["Vulnerability", lv] for lv in levels], STR_LIST),
            "finding_info.product.name": const(self.product, n, S),
            "finding_info.product.version": const(config.scanner_version, n, S),
            "vulnerabilities": singleton_list(vuln),
            "unmapped": const(db.decode() if db != b"{}" else None, n, S),
        })  # fmt: skip
        return to_batch(_CLS, cols)


_HEAD = re.compile(rb'^(?:\xef\xbb\xbf)?\s*\[?\s*\{\s*"config"\s*:\s*\{[^{}]*"scanner_name"\s*:\s*"govulncheck"')

__all__ = ["Govulncheck"]
