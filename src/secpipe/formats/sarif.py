"""SARIF 2.1.0 logs from any tool (Semgrep, CodeQL, Snyk Code, Trivy, sarif-sdk converters ...).

One event per ``runs[].results[]`` entry, as **Application Security Posture Finding (2007)**.
Why that class: SARIF results are mostly code defects found by static analysis and linters
(a SQL injection sink, a null dereference, a line too long), not weaknesses of a deployed
system. OCSF 1.8.0 describes 2007 as the notification about "any bug, defect, deficiency,
exploit, vulnerability, weakness" with "specific code defects", and gives it
``vulnerabilities[].affected_code[]`` (file, start/end line and column, rule) -- the exact shape
of a SARIF location. Vulnerability Finding (2002) has no code location, and Detection
Finding (2004) is for runtime detections.

Mapping: rule (from ``ruleId``/``rule.id``/``ruleIndex``, resolved in ``tool.driver.rules`` or
``tool.extensions[].rules``) -> ``finding_info.analytic`` (uid, name, desc from
shortDescription/fullDescription, type Rule) and ``affected_code[0].rule``; result message
(``message.text`` or the rule's ``messageStrings[id]``, ``{n}`` placeholders filled from
``arguments``) -> ``message``; first location -> ``affected_code[0]`` (``file.path`` from
``artifactLocation.uri`` or ``run.artifacts[index]``, lines, columns); tool driver name,
version (``version`` or ``semanticVersion``) and organization -> ``metadata.product`` and
``finding_info.product``; fingerprints and partialFingerprints -> ``finding_info.uid``
(first fingerprint value, else first partial one, else rule|file|line|ordinal) and
``finding_info.tags``; rule ``properties.tags`` -> ``finding_info.types``; CVE-looking rule ids
(Trivy SARIF) -> ``vulnerabilities[0].cve.uid``.

Severity: a numeric ``security-severity`` rule/result property (CodeQL, Trivy) gives CVSS
bands (>=9 Critical, >=7 High, >=4 Medium, else Low); otherwise ``level`` (result, else the
rule's ``defaultConfiguration.level``, else ``warning``): error High, warning Medium, note Low,
none Informational. Suppressed results (``suppressions`` non-empty) get status Suppressed (3),
``baselineState: absent`` Resolved (4), else New (1). ``time`` is the run's invocation end/start
time (receipt time, labelled, when absent). Result keys not placed (codeFlows,
relatedLocations, properties ...) stay in ``unmapped``; locations after the first are kept
in ``raw_data``.

Dead letters: a log whose ``version`` is not 2.1.0 (SARIF 2.0.0 sarif-sdk spec examples, the
1.0 format) is dead-lettered whole with the reason and how to convert it; so is a JSON
document without ``runs`` and a result of the wrong JSON shape.
"""

from __future__ import annotations

import re
from typing import Any

import msgspec
import pyarrow as pa
import pyarrow.compute as pc

from secpipe.formats._findings import (
    Distinct,
    ReportFormat,
    S,
    captions,
    compact,
    nest,
    paused_gc,
    reject_distinct,
    score_severity_ids,
    severity_ids,
    singleton_list,
    str_lists,
    strs,
    struct_lists,
)
from secpipe.formats.base import (
    Decoded,
    Strict,
    base_columns,
    const,
    decode_strict,
    event_uids,
    parse_times,
    to_batch,
    unmapped_from,
)


class _Text(msgspec.Struct):
    text: str | None = None
    markdown: str | None = None


class _Cfg(msgspec.Struct):
    level: str | None = None


class _Rule(msgspec.Struct):
    id: str | None = None
    name: str | None = None
    shortDescription: _Text | None = None
    fullDescription: _Text | None = None
    helpUri: str | None = None
    defaultConfiguration: _Cfg | None = None
    messageStrings: dict[str, _Text] | None = None
    properties: dict[str, Any] | None = None


class _Component(msgspec.Struct):
    name: str | None = None
    version: str | None = None
    semanticVersion: str | None = None
    organization: str | None = None
    rules: list[_Rule] | None = None


class _Tool(msgspec.Struct):
    driver: _Component | None = None
    extensions: list[_Component] | None = None


class _ArtLoc(msgspec.Struct):
    uri: str | None = None
    index: int | None = None


class _Artifact(msgspec.Struct):
    location: _ArtLoc | None = None


class _Invocation(msgspec.Struct):
    startTimeUtc: str | None = None
    endTimeUtc: str | None = None


class _Run(msgspec.Struct):
    tool: _Tool | None = None
    results: list[msgspec.Raw] | None = None
    artifacts: list[_Artifact] | None = None
    invocations: list[_Invocation] | None = None


class _Log(msgspec.Struct):
    version: Any = None
    runs: list[_Run] | None = None


class _Head(msgspec.Struct):
    version: Any = None


class _Region(msgspec.Struct):
    startLine: int | None = None
    endLine: int | None = None
    startColumn: int | None = None
    endColumn: int | None = None


class _PhysLoc(msgspec.Struct):
    artifactLocation: _ArtLoc | None = None
    region: _Region | None = None


class _Location(msgspec.Struct):
    physicalLocation: _PhysLoc | None = None


class _Message(msgspec.Struct):
    text: str | None = None
    id: str | None = None
    arguments: list[Any] | None = None


class _ToolRef(msgspec.Struct):
    index: int | None = None


class _RuleRef(msgspec.Struct):
    id: str | None = None
    index: int | None = None
    toolComponent: _ToolRef | None = None


_R = msgspec.Raw
_NONE = msgspec.Raw(b"")


class _Result(msgspec.Struct, forbid_unknown_fields=True, gc=False):
    """Every SARIF 2.1.0 ``result`` property: mapped ones typed, the rest kept raw."""

    ruleId: str | None = None
    ruleIndex: int | None = None
    rule: _RuleRef | None = None
    level: str | None = None
    kind: str | None = None
    message: _R = _NONE  # decoded once per distinct message (see _batch)
    locations: list[_Location] | None = None
    fingerprints: dict[str, str] | None = None
    partialFingerprints: dict[str, str] | None = None
    suppressions: list[Any] | None = None
    baselineState: str | None = None
    properties: _R = _NONE
    analysisTarget: _R = _NONE
    guid: _R = _NONE
    correlationGuid: _R = _NONE
    occurrenceCount: _R = _NONE
    stacks: _R = _NONE
    codeFlows: _R = _NONE
    graphs: _R = _NONE
    graphTraversals: _R = _NONE
    relatedLocations: _R = _NONE
    rank: _R = _NONE
    attachments: _R = _NONE
    hostedViewerUri: _R = _NONE
    workItemUris: _R = _NONE
    provenance: _R = _NONE
    fixes: _R = _NONE
    taxa: _R = _NONE
    webRequest: _R = _NONE
    webResponse: _R = _NONE


_UNMAPPED = (
    "properties", "analysisTarget", "guid", "correlationGuid", "occurrenceCount", "stacks", "codeFlows", "graphs",
    "graphTraversals", "relatedLocations", "rank", "attachments", "hostedViewerUri", "workItemUris", "provenance",
    "fixes", "taxa", "webRequest", "webResponse",
)  # fmt: skip
_PROPS = msgspec.json.Decoder(dict[str, Any])


def _result_props(raw: msgspec.Raw) -> dict[str, Any] | None:
    """A result's properties, parsed only when they carry a security-severity."""
    return _PROPS.decode(raw) if raw and b"security-severity" in bytes(raw) else None


class _TypedRun(msgspec.Struct, gc=False):
    results: list[_Result] | None = None


class _TypedLog(msgspec.Struct, gc=False):
    """The log again with every result typed: one C call for all runs (no per-result join)."""

    runs: list[_TypedRun] | None = None


_LOG = msgspec.json.Decoder(_Log)
_HEAD = msgspec.json.Decoder(_Head)
_TYPED_LOG = msgspec.json.Decoder(_TypedLog)
_LEVEL_WORD = {"error": "high", "warning": "medium", "note": "low", "none": "informational"}
_PLACEHOLDER = re.compile(r"\{(\d+)\}")
_CVE = re.compile(r"^(CVE-\d{4}-\d+|GHSA-[\w-]+)$", re.IGNORECASE)
_NO_RULE = _Rule()


def _text(t: _Text | None) -> str | None:
    return None if t is None else (t.text or t.markdown or None)


def _fmt_message(msg: _Message | None, rule: _Rule) -> str | None:
    if msg is None:
        return None
    text = msg.text
    if text is None and msg.id and rule.messageStrings and msg.id in rule.messageStrings:
        text = _text(rule.messageStrings[msg.id])
    if text and msg.arguments:
        args = msg.arguments
        text = _PLACEHOLDER.sub(lambda m: str(args[int(m.group(1))]) if int(m.group(1)) < len(args) else m.group(0), text)
    return text


def _messages(msgs: Distinct, rules: list[_Rule]) -> pa.Array:
    """Result messages, formatted once per distinct (message, rule) pair."""
    pairs: dict[tuple[int, int], int] = {}
    firsts: list[tuple[_Message | None, _Rule]] = []
    idx = []
    for m, ru in zip(msgs.idx, rules, strict=True):
        key = (m, id(ru))
        j = pairs.get(key)
        if j is None:
            j = pairs[key] = len(firsts)
            firsts.append((msgs.values[m], ru))
        idx.append(j)
    return strs([_fmt_message(msg, ru) for msg, ru in firsts]).take(pa.array(idx, pa.int32()))


def _security_severity(*props: dict[str, Any] | None) -> float | None:
    for p in props:
        if p and "security-severity" in p:
            try:
                return float(p["security-severity"])
            except (TypeError, ValueError):
                continue
    return None


class _RunCtx:
    """Rule lookup tables and tool identity of one run."""

    def __init__(self, run: _Run) -> None:
        tool = run.tool or _Tool()
        self.driver = tool.driver or _Component()
        self.components = [self.driver, *(tool.extensions or [])]
        self.by_id: dict[str, _Rule] = {}
        for comp in reversed(self.components):
            for r in comp.rules or []:
                if r.id:
                    self.by_id[r.id] = r
        self.artifacts = [(a.location.uri if a.location else None) for a in run.artifacts or []]
        inv = run.invocations[0] if run.invocations else None
        self.time = (inv.endTimeUtc or inv.startTimeUtc) if inv else None

    def rule(self, res: _Result) -> _Rule:
        ref = res.rule
        idx = res.ruleIndex if res.ruleIndex is not None else (ref.index if ref else None)
        comp = self.driver
        if ref and ref.toolComponent and ref.toolComponent.index is not None:
            ci = ref.toolComponent.index + 1  # extensions follow the driver
            comp = self.components[ci] if 0 <= ci < len(self.components) else comp
        rid = res.ruleId or (ref.id if ref else None)
        if idx is not None and comp.rules and 0 <= idx < len(comp.rules):
            got = comp.rules[idx]
            # Producers disagree with themselves (Snyk Code's ruleIndex can point elsewhere):
            # the spec makes ruleId authoritative, so the index is trusted only when it agrees.
            if rid is None or got.id is None or got.id == rid or rid.split("/", 1)[0] == got.id:
                return got
        return self.by_id.get(rid, _NO_RULE) if rid else _NO_RULE

    def uri(self, loc: _ArtLoc | None) -> str | None:
        if loc is None:
            return None
        if loc.uri:
            return loc.uri
        if loc.index is not None and 0 <= loc.index < len(self.artifacts):
            return self.artifacts[loc.index]
        return None


_ANALYTIC_TYPE = 1  # OCSF analytic.type_id Rule


class Sarif(ReportFormat):
    """SARIF 2.1.0 static-analysis logs."""

    name = "sarif"
    report_type = _Head
    what = "a SARIF log"
    description = "SARIF 2.1.0 from any tool -> Application Security Posture Finding (2007); other versions dead-lettered"
    framing = "document"
    product = "SARIF"
    vendor = "OASIS"

    def sniff(self, head: bytes) -> int:
        """Recognize a SARIF log (any version: non-2.1.0 ones are dead-lettered with the reason)."""
        h = head[:8192]
        if b'"runs"' in h and (b"sarif" in h.lower() or b'"version"' in h):
            return 90
        return 0

    def decode(self, data: bytes, source: str) -> Decoded:
        """Decode one SARIF log: compacted once, then read as a whole log (the version check
        reads the same decode; only a log that does not fit the 2.1.0 shape is read again
        for its version alone)."""
        with paused_gc():
            try:
                data = compact(data)
            except msgspec.DecodeError as exc:
                return self.dead(f"not {self.what}: {exc}", source, data)
            try:
                log: _Log | None = _LOG.decode(data)
                invalid = None
            except msgspec.DecodeError as exc:
                log, invalid = None, exc
            if log is None:
                try:
                    version = _HEAD.decode(data).version
                except msgspec.DecodeError as exc:
                    return self.dead(f"not {self.what}: {exc}", source, data)
            else:
                version = log.version
            if version != "2.1.0":
                return self.dead(
                    f"SARIF version {version!r} is not supported: secpipe reads SARIF 2.1.0 only; convert the log "
                    "with the SARIF Multitool (`sarif transform --sarif-output-version Current`)", source, data)  # fmt: skip
            if log is None:
                return self.dead(f"not a SARIF log: invalid SARIF 2.1.0 structure: {invalid}", source, data)
            return self.map_report(log, data, source)

    def map_report(self, log: _Log, data: bytes, source: str) -> Decoded:
        """Map one decoded SARIF 2.1.0 log (``data`` is its compact bytes) into findings."""
        if log.runs is None:
            return self.dead("not a SARIF log: no `runs` array", source, data)
        out = Decoded()
        try:
            typed: list[_TypedRun] | None = _TYPED_LOG.decode(data).runs
        except msgspec.DecodeError:  # some result has an unknown key or a wrong type: isolate it below
            typed = None
        for ri, run in enumerate(log.runs or []):
            res: list[Any] = run.results or []  # msgspec.Raw slices of the compact log
            out.events += len(res)
            if not res:
                continue
            trs = typed[ri].results if typed is not None and ri < len(typed) else None
            if trs is not None and len(trs) == len(res):
                st = Strict(trs, [None] * len(res), res, [(source, i) for i in range(len(res))])
                ords = list(range(len(res)))
            else:
                raws = [bytes(r) for r in res]
                st = decode_strict(raws, [(source, i) for i in range(len(raws))], _Result, out, self.name, "a SARIF result")
                pos = {id(r): i for i, r in enumerate(raws)}
                ords = [pos[id(r)] for r in st.raws]
            msgs = {"message": Distinct([r.message for r in st.recs], _Message | None, "message")}
            st, msgs, kept = reject_distinct(st, msgs, out, self.name, "a SARIF result")
            if kept is not None:
                ords = [ords[i] for i in kept]
            if st.recs:
                out.batches.append(self._batch(_RunCtx(run), ri, ords, st, msgs["message"]))
        return out

    def _dead(self, why: str, source: str, data: bytes) -> Decoded:
        return self.dead(why, source, data)

    def _batch(self, run: _RunCtx, ri: int, ords: list[int], st: Strict, msgs: Distinct) -> pa.RecordBatch:
        rs: list[_Result] = st.recs
        raws = st.raws
        n = len(rs)
        cls = "application_security_posture_finding"
        rules = [run.rule(r) for r in rs]
        rule_ids = [r.ruleId or (r.rule.id if r.rule else None) or ru.id for r, ru in zip(rs, rules, strict=True)]
        levels = [r.level or (ru.defaultConfiguration.level if ru.defaultConfiguration else None) or "warning"
                  for r, ru in zip(rs, rules, strict=True)]  # fmt: skip
        sev = severity_ids([_LEVEL_WORD.get(lv, lv) for lv in levels])
        scores = pa.array([_security_severity(_result_props(r.properties), ru.properties) for r, ru in zip(rs, rules, strict=True)],
                          pa.float64())
        if scores.null_count < n:
            sev = pc.if_else(scores.is_null(), sev, score_severity_ids(scores))
        drv = run.driver
        ctx = [f"{drv.name}\0{ri}\0{i}" for i in ords]
        cols = base_columns(
            cls, kind=self.name, product=self.product, vendor=self.vendor, uids=event_uids(self.name, raws, ctx),
            times_ms=const(parse_times(strs([run.time]))[0].as_py(), n, pa.int64()), raws=raws, activity_id=1, severity_id=sev,
        )  # fmt: skip
        version = drv.version or drv.semanticVersion
        cols["metadata.product.name"] = strs([drv.name or self.product] * n)
        cols["metadata.product.vendor_name"] = strs([drv.organization or drv.name or self.vendor] * n)
        cols["metadata.product.version"] = strs([version] * n)
        cols["metadata.log_name"] = strs([self.name] * n)
        locs = [(r.locations[0].physicalLocation if r.locations and r.locations[0].physicalLocation else _PhysLoc()) for r in rs]
        regions = [p.region or _Region() for p in locs]
        paths = [run.uri(p.artifactLocation) for p in locs]
        short = strs([_text(ru.shortDescription) or ru.name for ru in rules])
        full = strs([_text(ru.fullDescription) for ru in rules])
        rule_names = strs([ru.name or rid for ru, rid in zip(rules, rule_ids, strict=True)])
        rid_arr = strs(rule_ids)
        fps = [r.fingerprints or {} for r in rs]
        pfps = [r.partialFingerprints or {} for r in rs]
        uid = [next(iter(f.values()), None) or next(iter(p.values()), None) or f"{rid}|{path}|{rg.startLine}|{ri}.{o}"
               for f, p, rid, path, rg, o in zip(fps, pfps, rule_ids, paths, regions, ords, strict=True)]  # fmt: skip
        status_id = pa.array([3 if r.suppressions else 4 if r.baselineState == "absent" else 1 for r in rs], pa.int32())
        code = nest({
            "file.path": strs(paths),
            "file.name": strs([p.rsplit("/", 1)[-1] if p else None for p in paths]),
            "start_line": pa.array([g.startLine for g in regions], pa.int32()),
            "end_line": pa.array([g.endLine for g in regions], pa.int32()),
            "start_column": pa.array([g.startColumn for g in regions], pa.int32()),
            "end_column": pa.array([g.endColumn for g in regions], pa.int32()),
            "rule.uid": rid_arr,
            "rule.name": rule_names,
            "rule.desc": short,
        })  # fmt: skip
        cves = strs([rid if rid and _CVE.match(rid) else None for rid in rule_ids])
        vuln = nest({
            "title": short,
            "desc": full,
            "severity": captions(cls, "severity_id", sev),
            "category": strs([r.kind for r in rs]),
            "cve.uid": cves,
            "references": str_lists([[ru.helpUri] if ru.helpUri else None for ru in rules]),
            "affected_code": singleton_list(code),
        })  # fmt: skip
        tag_lens, tag_names, tag_values = [], [], []
        for f, p in zip(fps, pfps, strict=True):
            tag_lens.append(len(f) + len(p))
            tag_names.extend(["fingerprint:" + k for k in f] + ["partialFingerprint:" + k for k in p])
            tag_values.extend([*f.values(), *p.values()])
        rule_types: dict[int, list[str] | None] = {}
        for ru in rules:
            if id(ru) not in rule_types:
                rule_types[id(ru)] = [str(t) for t in (ru.properties or {}).get("tags") or []] or None
        types = [rule_types[id(ru)] for ru in rules]
        cols.update({
            "status_id": status_id,
            "status": captions(cls, "status_id", status_id),
            "message": _messages(msgs, rules),
            "finding_info.uid": strs(uid),
            "finding_info.title": pc.coalesce(short, rid_arr),
            "finding_info.desc": full,
            "finding_info.types": pa.array(types, pa.list_(S)),
            "finding_info.tags": struct_lists(tag_lens, {"name": strs(tag_names), "value": strs(tag_values)}),
            "finding_info.src_url": strs([ru.helpUri for ru in rules]),
            "finding_info.product.name": strs([drv.name] * n),
            "finding_info.product.version": strs([version] * n),
            "finding_info.product.vendor_name": strs([drv.organization] * n),
            "finding_info.analytic.uid": rid_arr,
            "finding_info.analytic.name": rule_names,
            "finding_info.analytic.desc": short,
            "finding_info.analytic.type_id": pa.array([_ANALYTIC_TYPE] * n, pa.int32()),
            "finding_info.analytic.type": strs(["Rule"] * n),
            "vulnerabilities": singleton_list(vuln),
            "unmapped": unmapped_from(st, _UNMAPPED),
        })  # fmt: skip
        return to_batch(cls, cols)


__all__ = ["Sarif"]
