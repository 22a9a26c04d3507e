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
version -> ``affected_packages[0]`` (``Go``, ``fixed_version`` as ``fixed_in_version``). A called
trace's frames run from the vulnerable symbol to the entry point in the scanned code (govulncheck's
protocol): its last frame's position, the call site in that code, is an ``affected_code`` entry
(one per call site of the event's findings), and the trace read from the entry point to the symbol
is the ``dependency_chain``; the findings stay whole in ``raw_data`` (the event's findings as a
JSON array). govulncheck rates no severity (Unknown) and writes no time: the receipt time and its
label; the scanner version goes to ``metadata.product.version``, the database and scan level of
``config`` to ``unmapped``. An OSV entry no finding names (a vulnerability of a required module
whose affected versions the scan ruled out) holds no event.

Dead letters: a document that is not a stream (or array) of JSON messages whole; a finding or OSV
entry of the wrong shape alone. A scan that found nothing holds no event. Recognized by the
``config`` message naming the scanner govulncheck.

The stream is typed in one msgspec call, its findings (compacted natively) in another with their traces
kept raw: each distinct trace is typed once and what it tells kept by its text (findings repeat call paths).
"""

from __future__ import annotations

import re
from typing import Any

import msgspec
import numpy as np
import pyarrow as pa

from secpipe import _compute as pc
from secpipe.formats import _fast
from secpipe.formats._findings import (
    STR_LIST,
    S,
    captions,
    compact,
    distinct_uids,
    nest,
    offsets_of,
    only_where,
    paused_gc,
    singleton_list,
    str_lists,
    struct_lists,
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
    int32_or_none,
    parse_times,
    strs,
    to_batch,
)


class _Position(msgspec.Struct, gc=False):
    filename: str | None = None
    line: int | None = None
    column: int | None = None


class _Frame(msgspec.Struct, gc=False):
    module: str | None = None
    version: str | None = None
    package: str | None = None
    function: str | None = None
    receiver: str | None = None
    position: _Position | None = None


class _Finding(msgspec.Struct, gc=False):
    osv: str | None = None
    fixed_version: str | None = None
    trace: list[_Frame] | None = None


class _Head(msgspec.Struct, gc=False):
    """A finding with its trace kept raw: typed once a distinct trace (:func:`_facts_of`), findings repeating
    call paths (every finding of one module, a symbol's findings beside its package's)."""

    osv: str | None = None
    fixed_version: str | None = None
    trace: msgspec.Raw = msgspec.Raw(b"")


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
_IS_CVE = _CVE.match
_MESSAGE = msgspec.json.Decoder(_Message)
_MESSAGES = msgspec.json.Decoder(list[msgspec.Raw])
_STREAM = msgspec.json.Decoder(list[_Message])
_FINDING = msgspec.json.Decoder(_Finding)
_FINDINGS = msgspec.json.Decoder(list[_Finding])
_HEADS = msgspec.json.Decoder(list[_Head])
_TRACE_LISTS = msgspec.json.Decoder(list[list[_Frame] | None])
_ENC = msgspec.json.Encoder()
_LEVELS = ("required", "imported", "called")  # a trace's depth: module, package, symbol


def _symbol(t: _Frame) -> str:
    """A frame's function as govulncheck names it (``package.Receiver.function``)."""
    return ".".join(x for x in (t.package, t.receiver, t.function) if x)


#: (level, called symbol, call chain, call site, module, version) a trace tells (:func:`_facts_of`)
Facts = tuple[int, str | None, str | None, tuple[str, int | None, int | None] | None, str | None, str | None]
#: the facts of a trace by its compact JSON: findings repeat call paths
_TRACES: dict[bytes, Facts] = {}
_TRACES_MAX = 4096


def _facts_of(trace: list[_Frame] | None) -> Facts:
    """What a finding's trace tells: its level (module, package, symbol: the first frame's depth), and for a
    called one the symbol, the call chain and the call site; the module and version the finding names (the
    first frame's). A called trace's frames run from the vulnerable symbol to the entry point in the scanned
    code: the chain is read the other way, and the call site is the last frame's position (govulncheck: valid
    where its line is > 0)."""
    top = (trace or [_Frame()])[0]
    level = 2 if top.function else 1 if top.package else 0
    if level != 2 or not trace:
        return level, None, None, None, top.module, top.version
    pos = trace[-1].position
    site = (pos.filename, pos.line, pos.column) if pos is not None and pos.filename and (pos.line or 0) > 0 else None
    return (level, _symbol(trace[0]), " -> ".join(_symbol(t) for t in reversed(trace) if t.function), site,
            top.module, top.version)  # fmt: skip


def _whole(data: bytes) -> list[_Message] | None:
    """Every message of a stream in one msgspec pass, or None when one of them does not decode (the
    caller then reads them one by one, dead-lettering only the bad ones). A stream written one
    object after another with a newline between (as govulncheck writes it) is read as an array: a raw
    newline is never inside a JSON string, so ``}\\n{`` is always between two messages."""
    body = data.removeprefix(BOM)
    if body[:64].lstrip()[:1] == b"{":  # (whitespace around the messages is whitespace in the array)
        body = _fast.objects_array(body) or b"[" + body.replace(b"}\n{", b"},{") + b"]"
    try:
        return _STREAM.decode(body)
    except msgspec.DecodeError:
        return None


Found = tuple["_Head | _Finding", bytes, Facts]


def _findings(found: list[tuple[int, Any]], source: str, out: Decoded, name: str) -> list[Found]:
    """The stream's findings, each with its compact JSON (the finding's raw data and identity whatever the
    stream's layout) and what its trace tells: all compacted and decoded in one pass each, else (one of the
    wrong shape) one by one, a bad one dead-lettered alone."""
    raws = _fast.compact_each([raw for _i, raw in found])  # (valid JSON: the stream decoded)
    try:
        if raws is not None:
            whole = b"[" + b",".join(raws) + b"]"
            got = _by_trace(whole, raws)
            if got is not None:
                return got
        else:
            whole = msgspec.json.format(b"[" + b",".join(raw for _i, raw in found) + b"]", indent=-1)
            raws = list(map(bytes, _MESSAGES.decode(whole)))
        return [(f, r, _facts_of(f.trace)) for f, r in zip(_FINDINGS.decode(whole), raws, strict=True)]
    except msgspec.DecodeError:
        pass
    got = []
    for i, raw in found:
        try:
            one = compact(bytes(raw))
            f = _FINDING.decode(one)
            got.append((f, one, _facts_of(f.trace)))
        except msgspec.DecodeError as exc:
            out.dead.append(DeadLetter(f"not a govulncheck finding: {exc}", source, i, bytes(raw), name))
    return got


def _one_trace(raw: bytes, key: bytes) -> bool:
    """Whether a finding's compact JSON (no key escaped) names its trace once: its first ``"trace":`` is
    followed by the trace msgspec kept (the last) and no other comes after it (a search of the finding's
    few bytes around its trace, not of its whole text)."""
    if not key:
        return True
    at = raw.find(b'"trace":')
    return raw.startswith(key, at + 8) and raw.find(b'"trace":', at + 8 + len(key)) < 0


def _by_trace(whole: bytes, raws: list[bytes]) -> list[Found] | None:
    """The findings (``whole``: their compact JSON array) with their traces kept raw, each distinct trace
    typed once (:data:`_TRACES`, across streams too); None where that could read a finding otherwise than
    its whole typed decode: a finding naming ``trace`` twice (msgspec keeps the last, where the typed
    decode refuses a first of the wrong shape: :func:`_one_trace`, where no key is escaped); raises
    ``msgspec.DecodeError`` for a finding or trace of the wrong shape."""
    heads = _HEADS.decode(whole)
    keys = [bytes(h.trace) for h in heads]
    if (b"\\" in whole and b"\\u" in whole) or not all(map(_one_trace, raws, keys)):  # (a memchr for "\\" first)
        return None
    new = [k for k in dict.fromkeys(keys) if k and k not in _TRACES]
    if len(_TRACES) + len(new) > _TRACES_MAX:
        _TRACES.clear()
        new = [k for k in dict.fromkeys(keys) if k]
    for k, trace in zip(new, _TRACE_LISTS.decode(b"[" + b",".join(new) + b"]"), strict=True):
        _TRACES[k] = _facts_of(trace)
    none = _facts_of(None)
    return [(h, r, _TRACES[k] if k else none) for h, r, k in zip(heads, raws, keys, strict=True)]


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
        """Decode one stream: its OSV entries by id, its findings grouped by OSV id and module version
        (no reference cycles are made: the collector is paused, :func:`paused_gc`)."""
        with paused_gc():
            return self._decode(bytes(data), source)

    def _decode(self, data: bytes, source: str) -> Decoded:
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
        found: list[tuple[int, Any]] = []  # (message number, raw finding)
        for i, m in enumerate(msgs):
            if m.config is not None:
                config = m.config
            if m.osv is not None:
                osvs[m.osv.id] = m.osv
            if len(m.finding):
                found.append((i, m.finding))
        groups: dict[tuple[str | None, str | None, str | None], list[Found]] = {}
        for x in _findings(found, source, out, self.name):
            groups.setdefault((x[0].osv, x[2][4], x[2][5]), []).append(x)
        out.events = len(groups) + len(out.dead)
        if groups:
            out.batches.append(self._batch(config, osvs, groups))
        return out

    def _batch(self, config: _Config, osvs: dict[Any, _Osv],
               by: dict[tuple[str | None, str | None, str | None], list[Found]]) -> pa.RecordBatch:
        """One event per group of findings (``by``: OSV id, module and version -> the findings)."""
        groups, n = list(by.values()), len(by)
        fs, top, sites, raws = _deepest(groups)
        cols = base_columns(_CLS, kind=self.name, product=self.product, vendor=self.vendor, uids=event_uids(self.name, raws),
                            times_ms=pa.nulls(n, pa.int64()), raws=raws, activity_id=1, severity_id=0)  # fmt: skip
        cols["metadata.product.version"] = const(config.scanner_version, n, S)
        entries = [osvs.get(f.osv) or _Osv(id=f.osv) for f in fs]
        named = [_named(o) for o in entries]
        cve = strs([x[0] for x in named])
        ids = strs([f.osv for f in fs])
        adv = pc.if_else(cve.is_valid(), pa.scalar(None, S), ids)
        title = pc.coalesce(strs([o.summary for o in entries]), ids)
        desc = strs([o.details for o in entries])
        created, modified = parse_times([o.published for o in entries]), parse_times([o.modified for o in entries])
        modules, versions = strs([key[1] for key in by]), strs([key[2] for key in by])  # (the groups' own)
        fixed = strs([f.fixed_version for f in fs])
        pkg = nest({"name": modules, "version": versions, "package_manager": const("Go", n, S), "fixed_in_version": fixed})
        vuln = nest({
            "title": title,
            "desc": desc,
            "severity": captions(_CLS, "severity_id", const(0, n, pa.int32())),
            "references": _references(entries),
            "related_vulnerabilities": pa.array([x[1] for x in named], STR_LIST),
            "is_fix_available": fixed.is_valid(),
            "cve": only_where(nest({"uid": cve, "title": title, "desc": desc, "created_time": created,
                                    "modified_time": modified}), cve),  # fmt: skip
            "advisory": only_where(nest({"uid": adv, "title": title, "desc": desc, "created_time": created,
                                         "modified_time": modified}), adv),  # fmt: skip
            "affected_packages": singleton_list(pkg, pc.and_(modules.is_valid(), versions.is_valid())),
            "affected_code": _affected_code(sites),
            "dependency_chain": strs([x[2] for x in top]),
        })  # fmt: skip
        levels = [_LEVELS[x[0]] for x in top]
        called = [x[1] for x in top]
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


def _deepest(groups: list[list[Found]]) -> tuple[list[_Head | _Finding], list[Facts], list[list[Any]], list[bytes]]:
    """Each group's deepest finding and its facts (:func:`_facts_of`), the group's call sites and its raw
    data (its findings as a JSON array); a group of one finding (most) without the general steps."""
    fs: list[_Head | _Finding] = []
    top, sites, raws = [], [], []
    for g in groups:
        if len(g) == 1:
            f, r, x = g[0]
            fs.append(f)
            top.append(x)
            sites.append([x[3]] if x[3] else [])
            raws.append(b"[" + r + b"]")
            continue
        k = max(range(len(g)), key=lambda k, g=g: g[k][2][0])  # type: ignore[misc]
        fs.append(g[k][0])
        top.append(g[k][2])
        sites.append(list(dict.fromkeys(x[2][3] for x in g if x[2][3])))
        raws.append(b"[" + b",".join(x[1] for x in g) + b"]")
    return fs, top, sites, raws


def _named(o: _Osv) -> tuple[str | None, list[str] | None]:
    """An entry's CVE (the first among its id and aliases) and its other ids (each once, in order; those
    beside the CVE, or beside its own id without one): one pass, the pattern tried only on what starts as
    a CVE id does."""
    oid, aliases = o.id, o.aliases
    if aliases and len(aliases) == 1 and oid and aliases[0] and aliases[0] != oid:  # (most: a GO- id, a CVE)
        every = [oid, aliases[0]]
    else:
        every = list(dict.fromkeys(filter(None, (oid, *aliases)))) if aliases else [oid] if oid else []
    for x in every:
        if x[:4] == "CVE-" and _IS_CVE(x):
            return x, [i for i in every if i != x] or None
    return None, [i for i in every if i != oid] or None


def _references(entries: list[_Osv]) -> pa.Array:
    """``vulnerabilities[].references``: each entry's reference URLs (none -> null), from the flat list
    of them where every one has a URL (as OSV requires), else row by row."""
    refs = [o.references or () for o in entries]
    urls = [r.url for rs in refs for r in rs]
    if not all(urls):
        return str_lists([[r.url for r in rs if r.url] for rs in refs])
    lens = np.fromiter(map(len, refs), np.int32, len(refs))
    return pa.ListArray.from_arrays(offsets_of(lens), strs(urls), mask=pa.array(lens == 0))


def _affected_code(sites: list[list[tuple[str, int | None, int | None]]]) -> pa.Array:
    """``vulnerabilities[].affected_code`` of each group: its call sites in the scanned code."""
    flat = [s for row in sites for s in row]
    paths = [p for p, _l, _c in flat]
    return struct_lists([len(row) for row in sites], {
        "file.name": strs([p.rsplit("/", 1)[-1] for p in paths]),
        "file.path": strs(paths),
        "file.type_id": const(1, len(flat), pa.int32()),
        "file.type": const("Regular File", len(flat), S),
        "start_line": pa.array([int32_or_none(ln) for _p, ln, _c in flat], pa.int32()),
        "start_column": pa.array([int32_or_none(c) for _p, _l, c in flat], pa.int32()),
    })  # fmt: skip


_HEAD = re.compile(rb'^(?:\xef\xbb\xbf)?\s*\[?\s*\{\s*"config"\s*:\s*\{[^{}]*"scanner_name"\s*:\s*"govulncheck"')

__all__ = ["Govulncheck"]
