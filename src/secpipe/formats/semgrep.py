"""Semgrep JSON reports (``semgrep --json``, ``semgrep scan --json``, ``semgrep ci --json``).

A report is ``{"version", "results": [...], "errors": [...], "paths": {...}, ...}``; each
``results[]`` entry is one rule match (``check_id``, ``path``, ``start`` / ``end`` {line, col,
offset}, ``extra`` {message, severity, metadata, fingerprint, is_ignored, lines, metavars ...}).
Like the same match in ``semgrep --sarif`` (which the sarif format reads), each one is an
**Application Security Posture Finding (2007)**:

- ``check_id`` -> ``finding_info.analytic`` (uid and name, type Rule) and ``affected_code[0].rule``;
  ``path`` and the start / end line and column -> ``affected_code[0]`` (only with a path: OCSF
  requires the file); ``extra.message`` -> ``message``, ``finding_info.title`` and the
  vulnerability's title; ``metadata.source`` (the rule's registry page) -> ``finding_info.src_url``;
  ``metadata.references`` -> the vulnerability's ``references``; ``metadata.category`` and
  ``vulnerability_class`` -> ``finding_info.types``; ``metadata.confidence`` (LOW, MEDIUM, HIGH) ->
  ``confidence_id``.
- Identity (OCSF 1.8.0: just one of advisory / cve / cwe per vulnerability): a Supply Chain rule's
  ``metadata.sca-vuln-database-identifier`` that is a CVE id -> ``cve.uid`` (the rule's CWE as
  ``cve.cwe``), a GHSA id -> ``advisory``; else the first CWE of ``metadata.cwe`` (a string or a
  list of ``"CWE-79: Improper Neutralization ..."``) -> ``cwe`` (uid, caption); else the rule is the
  ``advisory`` (uid ``check_id``, ``src_url`` the rule's page), as for a SARIF result.
- A Supply Chain match's dependency (``extra.sca_info.dependency_match.found_dependency``: package, version,
  ecosystem, ``lockfile_path``; early reports' ``name`` / ``namespace``) -> the vulnerability's
  ``affected_packages[0]``, its ``fixed_in_version`` the version the rule's ``sca-fix-versions`` names for it
  (only a batch holding such a match builds the column).
- ``extra.fingerprint`` -> ``finding_info.uid`` (Semgrep's own; OSS Semgrep 1.4x+ writes ``requires
  login`` there: then ``check_id|path|line:col``); a uid two matches share gets ``|path:line``.
- Severity: ERROR High, WARNING Medium, INFO Low (the levels Semgrep's SARIF gives them: error,
  warning, note), and the newer CRITICAL / HIGH / MEDIUM / LOW as named; INVENTORY / EXPERIMENT
  Informational. ``extra.is_ignored`` (a ``nosemgrep`` comment) -> status Suppressed, else New.

The report has no scan time: the receipt time and its label; ``version`` -> ``metadata.product.version``.
``raw_data`` is the match's JSON; its keys other than check_id, path, start and end (``extra``
whole: metavars, lines, fix, dataflow traces ...) stay in ``unmapped``.

``errors`` (a rule Semgrep could not parse, a configuration it could not load: semgrep-interfaces
``cli_output.atd``, ``cli_error``) are no findings, but a scan that failed must not read as a clean one: each error of
level ``error`` is a **Scan Activity (6007)** (:mod:`._scan_errors`), activity Error (6), status Failure, severity
Medium, ``message`` its ``message`` (else ``long_msg``, ``short_msg``, its type), ``status_detail`` its type (a
name, or the name heading a ``[name, details]`` variant), ``status_code`` its ``code``; ``scan.type`` Unknown (the
report does not say what started the scan). Its other keys (``rule_id``, ``path``, ``spans``, ``help`` ...) stay in
``unmapped``, the error's JSON in ``raw_data``. A ``warn`` or ``info`` error (a file parsed in part, a timeout on
one file) is no failure of the scan and is not stored.

Dead letters: a document that is not a JSON object with a ``results`` list whole; one match or error of the
wrong shape alone. Recognized by a match's ``check_id``
beside its ``extra`` object and ``start`` position, or the ``paths.scanned`` of a report without one, or (a report
without ``paths``: Semgrep before 0.3x, as semgrep/semgrep#2128 shows one) the first error's integer ``code``
and ``type``. ``paths.skipped`` (``--verbose``): one Scan Activity of the targets not scanned, each kept with its
reason (:mod:`._semgrep_paths`).

A secret rule's match keeps the secret it found out of the lake, as gitleaks' leaks and GitLab secret
detection's findings do (:mod:`._found_secrets`): Semgrep writes the matched source text into the match
(``extra.lines``, each metavariable's bound ``abstract_content`` and ``propagated_value.svalue_abstract_content``,
a rendered ``fix``, a dataflow trace's ``content``), and a Secrets rule binds the secret itself to a
metavariable (``$REGEX``, focused on), which the message may quote. A match is a secret finding by what Semgrep
itself writes: a rule whose ``metadata.technology`` names ``secrets`` (what marks a Secrets rule, Semgrep's
"Semgrep Secrets rule structure"; the registry's ``generic.secrets.*`` rules too), ``metadata.product: secrets``
or a ``metadata.secret_type`` (Semgrep Secrets' rules), a ``validation_state`` other than ``NO_VALIDATOR``
(``CONFIRMED_VALID`` / ``CONFIRMED_INVALID`` / ``VALIDATION_ERROR``: a secret validator ran; OSS Semgrep writes
``NO_VALIDATOR`` on every match, cli_output.atd's ``validation_state``) or a ``secrets`` segment in its rule id.
Those strings hold ``"[REDACTED:<rule id>]"`` in ``raw_data`` and ``unmapped`` (OSS Semgrep's ``"requires
login"`` stands), and each bound value of 4 or more characters is that mask in the message, wherever it is stored
(``message``, titles, ``extra.message``); ``metadata.uid`` stays the hash of the match as received.
"""

from __future__ import annotations

import functools
import re
from typing import Any

import msgspec
import pyarrow as pa

from secpipe import _compute as pc
from secpipe.formats import _found_secrets as found_secrets
from secpipe.formats._findings import (
    ReportFormat,
    S,
    captions,
    distinct_uids,
    nest,
    only_where,
    singleton_list,
    str_lists,
)
from secpipe.formats._scan_errors import level_severity, scan_errors
from secpipe.formats._semgrep_paths import skipped_scan
from secpipe.formats.base import (
    DeadLetter,
    Decoded,
    base_columns,
    const,
    event_uids,
    int32_or_none,
    strs,
    to_batch,
)


class _Pos(msgspec.Struct, gc=False):
    line: int | None = None
    col: int | None = None


class _Meta(msgspec.Struct, gc=False):
    # a rule's metadata is free-form (custom rules write strings, lists or objects): read leniently
    cwe: Any = None
    references: Any = None
    category: Any = None
    vulnerability_class: Any = None
    confidence: Any = None
    source: Any = None
    sca_id: Any = msgspec.field(name="sca-vuln-database-identifier", default=None)
    sca_fix: Any = msgspec.field(name="sca-fix-versions", default=None)  # [{package: version}]
    technology: Any = None
    product: Any = None
    secret_type: Any = None


class _Extra(msgspec.Struct, gc=False):
    message: str | None = None
    severity: str | None = None
    fingerprint: str | None = None
    is_ignored: bool | None = None
    metadata: _Meta | None = None
    sca_info: Any = None  # a Supply Chain match's dependency (read leniently: see _package)
    validation_state: Any = None


class _Match(msgspec.Struct, gc=False):
    check_id: str | None = None
    path: str | None = None
    start: _Pos | None = None
    end: _Pos | None = None
    extra: _Extra | None = None


class _Error(msgspec.Struct, gc=False):
    """One ``errors[]`` entry (semgrep-interfaces ``cli_output.atd``: ``cli_error``); read leniently."""

    code: Any = None
    level: Any = None
    type: Any = None  # a name, or [name, details] (PartialParsing, PatternParseError ...)
    message: Any = None
    long_msg: Any = None
    short_msg: Any = None


class _Report(msgspec.Struct):
    results: list[msgspec.Raw]
    version: str | None = None
    errors: list[msgspec.Raw] | None = None
    paths: msgspec.Raw = msgspec.Raw(b"null")  # read only where it lists skipped targets (:mod:`._semgrep_paths`)



_CLS = "application_security_posture_finding"
_MAPPED = frozenset({"check_id", "path", "start", "end"})
#: Semgrep's severities -> OCSF severity_id (ERROR/WARNING/INFO as its SARIF levels error/warning/note)
_SEVERITY = {"ERROR": 4, "WARNING": 3, "INFO": 2, "CRITICAL": 5, "HIGH": 4, "MEDIUM": 3, "LOW": 2,
             "INVENTORY": 1, "EXPERIMENT": 1}  # fmt: skip
_CONFIDENCE = {"LOW": 1, "MEDIUM": 2, "HIGH": 3}
_CWE = re.compile(r"^\s*CWE-0*(\d+)\s*(?::\s*(.+?))?\s*$", re.IGNORECASE)
_CVE = re.compile(r"^CVE-\d{4}-\d{4,}$")
_GHSA = re.compile(r"^GHSA(?:-[23456789cfghjmpqrvwx]{4}){3}$")
_NO_FP = frozenset({"", "requires login"})
_NO_EXTRA = _Extra()
_NO_META = _Meta()
_NO_POS = _Pos()
#: validation states a secret validator writes (NO_VALIDATOR is on every OSS match)
_VALIDATED = frozenset({"CONFIRMED_VALID", "CONFIRMED_INVALID", "VALIDATION_ERROR"})
#: the matched source text in a match (its string value; group 1 the text before it); OSS's "requires login" stays.
#: A key is a quote not escaped (checked after it: a pattern opening with a literal scans fast) before its name and a colon
_SOURCE_TEXT = re.compile(rb'("(?<!\\")(?:lines|abstract_content|svalue_abstract_content|fix|content)"\s*:\s*)'
                          rb'(?!"requires login")' + found_secrets.STRING)
_SOURCE_KEYS = (b'"lines"', b'"abstract_content"', b'"svalue_abstract_content"', b'"fix"', b'"content"')
#: a metavariable's bound text (its own or its propagated value's), as a JSON string token: the name and its closing
#: quote (a quote in a string is escaped) before a colon
_BOUND = re.compile(rb'abstract_content"\s*:\s*(' + found_secrets.STRING + rb')')  # (svalue_abstract_content's too)
_MESSAGE = re.compile(rb'("(?<!\\")message"\s*:\s*)(' + found_secrets.STRING + rb')')


def _texts(value: Any) -> list[str]:
    """A metadata value as its strings (a string alone, or a list's strings)."""
    if isinstance(value, str):
        return [value]
    return [v for v in value if isinstance(v, str)] if isinstance(value, list) else []


@functools.lru_cache(maxsize=4096)
def _cwe_of(text: str) -> tuple[str, str | None] | None:
    """(``CWE-<n>``, caption) of one CWE text (a rule's texts repeat: parsed once each)."""
    m = _CWE.match(text)
    return (f"CWE-{m.group(1)}", m.group(2)) if m else None


def _cwe(meta: _Meta) -> tuple[str | None, str | None]:
    """(``CWE-<n>``, caption) of a rule's first CWE."""
    for c in _texts(meta.cwe):
        got = _cwe_of(c)
        if got:
            return got
    return None, None


_PACKAGES = pa.list_(pa.struct([("name", S), ("version", S), ("package_manager", S), ("path", S),
                                  ("fixed_in_version", S)]))  # fmt: skip


def _package(e: _Extra, meta: _Meta) -> dict[str, Any] | None:
    """A Supply Chain match's affected package: ``sca_info.dependency_match.found_dependency`` (package,
    version, ecosystem, its lockfile), the fixed version its rule's ``sca-fix-versions`` names for it; None
    without a name and version (OCSF requires both)."""
    match = e.sca_info.get("dependency_match") if isinstance(e.sca_info, dict) else None
    dep = match.get("found_dependency") if isinstance(match, dict) else None
    if not isinstance(match, dict) or not isinstance(dep, dict):
        return None
    name, version = dep.get("package") or dep.get("name"), dep.get("version")  # (early: name, namespace)
    if not isinstance(name, str) or not isinstance(version, str) or not name or not version:
        return None
    fixes = meta.sca_fix if isinstance(meta.sca_fix, list) else []
    fixed = next((v for f in fixes if isinstance(f, dict) for k, v in f.items() if k == name and isinstance(v, str)), None)
    lock = dep.get("lockfile_path") or match.get("lockfile")
    eco = dep.get("ecosystem") or dep.get("namespace")
    return {"name": name, "version": version, "package_manager": eco if isinstance(eco, str) else None,
            "path": lock if isinstance(lock, str) else None, "fixed_in_version": fixed}


def _with_field(struct: pa.StructArray, name: str, values: pa.Array) -> pa.StructArray:
    """``struct`` with one more field."""
    fields = [struct.field(i) for i in range(struct.type.num_fields)]
    return pa.StructArray.from_arrays([*fields, values], names=[*(f.name for f in struct.type), name])


def _secret_rule(rule: str | None, meta: _Meta) -> bool:
    """Whether a rule is a secret rule by its metadata or id (see the module docstring)."""
    return (any(t.lower() == "secrets" for t in _texts(meta.technology)) or meta.product == "secrets"
            or bool(meta.secret_type) or (rule is not None and "secrets" in rule.split(".")))  # fmt: skip


def _secret_rows(ms: list[_Match], extras: list[_Extra], metas: list[_Meta]) -> list[int]:
    """The matches of a secret rule (each rule judged once), or with a secret validator's verdict."""
    rules: dict[str | None, bool] = {}
    out = []
    for i, (m, e, meta) in enumerate(zip(ms, extras, metas, strict=True)):
        rule = rules.get(m.check_id)
        if rule is None:
            rule = rules[m.check_id] = _secret_rule(m.check_id, meta)
        if rule or e.validation_state in _VALIDATED:
            out.append(i)
    return out


def _bound(raw: bytes) -> list[str]:
    """A match's metavariables' bound texts (4 characters or more), longest first."""
    if b'abstract_content"' not in raw:  # (no metavariable bound: the scan is skipped)
        return []
    out = {t for m in _BOUND.finditer(raw) if len(t := msgspec.json.decode(m.group(1), type=str)) >= 4}
    return sorted(out, key=len, reverse=True)


def _hide_secrets(ms: list[_Match], messages: list[str | None], rows: list[int], raws: list[bytes],
                  unmapped: pa.Array) -> tuple[list[str | None], list[bytes], pa.Array]:
    """The secret matches' (``rows``) found secrets out of their messages, raw JSON and unmapped JSON."""
    rules = [m.check_id for m in ms]
    stored, unmapped = found_secrets.hide(raws, unmapped, _SOURCE_KEYS, _SOURCE_TEXT, rules, rows)
    messages, um = list(messages), None
    for i in rows:
        was = messages[i]
        if not was:
            continue
        mask = f"[REDACTED:{rules[i] or 'secret'}]"
        now = was
        for value in _bound(raws[i]):
            now = now.replace(value, mask)
        if now == was:
            continue
        messages[i] = now

        def swap(mt: re.Match[bytes], was: str = was, now: str = now) -> bytes:
            same = msgspec.json.decode(mt.group(2)) == was
            return mt.group(1) + msgspec.json.encode(now) if same else mt.group(0)

        stored[i] = _MESSAGE.sub(swap, stored[i])
        um = um if um is not None else unmapped.to_pylist()
        if um[i] is not None:
            um[i] = _MESSAGE.sub(swap, um[i].encode()).decode()
    return messages, stored, (unmapped if um is None else pa.array(um, unmapped.type))


def _word(value: Any) -> str:
    return value.upper() if isinstance(value, str) else ""


class Semgrep(ReportFormat):
    """Semgrep JSON reports."""

    name = "semgrep"
    report_type = _Report
    #: compacted, checked (also as UTF-8) and its matches split in one native pass (:func:`split_report`:
    #: msgspec's compaction and its decode of the whole report took ~54k instructions a 3.3 KB match, this
    #: ~23k); a report that pass does not decide takes the whole-report path
    split_key = "results"
    split_type = _Report
    what = "a Semgrep JSON report"
    description = "Semgrep JSON report (semgrep --json) -> Application Security Posture Finding (2007) per match"  # fmt: skip
    framing = "document"
    product = "Semgrep"
    vendor = "Semgrep"

    def sniff(self, head: bytes) -> int:
        """Recognize a match's ``check_id`` beside its ``extra`` and ``start``, or an empty report's paths."""
        h = head[:65536]
        if not h.lstrip().startswith(b"{") or b'"results"' not in h:
            return 0
        if b'"check_id"' in h and _EXTRA.search(h) and _START.search(h):
            return 88
        if _EMPTY.search(h):
            return 85
        # a report without paths (Semgrep before 0.3x; a scan that failed early): its first error is a cli_error
        first = _FIRST_ERROR.search(h)
        return 80 if first is not None and _ERROR_CODE.search(first[1]) and _ERROR_TYPE.search(first[1]) else 0

    def map_report(self, report: _Report, data: bytes, source: str) -> Decoded:
        """Map each match, then each error; one of the wrong shape is dead-lettered alone."""
        out = self.map_each(report.results, _Match, _MAPPED, "a Semgrep match", source,
                            lambda recs, raws, unmapped: self._batch(recs, raws, unmapped, report.version))
        failed = [e for e in report.errors or () if _failed(e)]
        if failed:
            out.extend(self.map_each(failed, _Error, _ERROR_MAPPED, "a Semgrep error", source,
                                     lambda recs, raws, unmapped: self._errors(recs, raws, unmapped, report.version)))
        if b'"skipped"' in bytes(report.paths):  # --verbose: the targets not scanned
            got = skipped_scan(self.name, self.product, self.vendor, report.paths, bytes(data), version=report.version,
                               detections=len(report.results), failed=bool(failed))  # fmt: skip
            if isinstance(got, str):
                out.dead.append(DeadLetter(got, source, 0, bytes(report.paths), self.name))
                out.events += 1
            elif got is not None:
                out.batches.append(got)
                out.events += 1
        return out

    def _errors(self, es: list[_Error], raws: list[bytes], unmapped: pa.Array, version: str | None) -> pa.RecordBatch:
        """The report's errors as Scan Activity (6007), activity Error, status Failure (:mod:`._scan_errors`)."""
        kinds = [_error_type(e.type) for e in es]
        return scan_errors(self.name, self.product, self.vendor, raws, version=version, unmapped=unmapped,
                           severity=[level_severity(e.level) for e in es], detail=kinds,
                           code=[str(e.code) if isinstance(e.code, int) and not isinstance(e.code, bool) else None
                                 for e in es],
                           message=[next((t for t in (e.message, e.long_msg, e.short_msg) if isinstance(t, str) and t), k)
                                    for e, k in zip(es, kinds, strict=True)])  # fmt: skip

    def _batch(self, ms: list[_Match], raws: list[bytes], unmapped: pa.Array, version: str | None) -> pa.RecordBatch:  # fmt: skip
        n = len(ms)
        extras = [m.extra or _NO_EXTRA for m in ms]
        metas = [e.metadata or _NO_META for e in extras]
        sev = pa.array([_SEVERITY.get((e.severity or "").upper(), 0) for e in extras], pa.int32())
        messages = [e.message for e in extras]
        stored = raws
        secret = _secret_rows(ms, extras, metas)
        if secret:  # a secret rule's matches: the secret found stays out of the lake
            messages, stored, unmapped = _hide_secrets(ms, messages, secret, raws, unmapped)
        cols = base_columns(_CLS, kind=self.name, product=self.product, vendor=self.vendor, uids=event_uids(self.name, raws),
                            times_ms=pa.nulls(n, pa.int64()), raws=stored, activity_id=1, severity_id=sev)  # fmt: skip
        if version:
            cols["metadata.product.version"] = const(version, n, S)
        starts = [m.start or _NO_POS for m in ms]
        ends = [m.end or _NO_POS for m in ms]
        files = strs([m.path or None for m in ms])
        has_file = files.is_valid()
        rule = strs([m.check_id for m in ms])
        title = strs(messages)
        url = strs([mt.source if isinstance(mt.source, str) else None for mt in metas])
        cwes = [_cwe(mt) for mt in metas]
        cwe, cwe_cap = strs([c[0] for c in cwes]), strs([c[1] for c in cwes])
        sca = [mt.sca_id if isinstance(mt.sca_id, str) else "" for mt in metas]
        cve = strs([s if s and _CVE.match(s) else None for s in sca])
        ghsa = strs([s if s and _GHSA.match(s) else None for s in sca])
        none = pa.scalar(None, S)
        has_cve = cve.is_valid()
        on_cve = pc.if_else(has_cve, cwe, none)
        alone = pc.if_else(pc.or_(has_cve, ghsa.is_valid()), none, cwe)
        adv = pc.coalesce(ghsa, pc.if_else(pc.or_(has_cve, cwe.is_valid()), none, rule))
        code = nest({
            "file.path": files,
            "file.name": strs([f.rsplit("/", 1)[-1] if f else None for f in files.to_pylist()]),
            "file.type_id": pc.if_else(has_file, pa.scalar(1, pa.int32()), pa.scalar(None, pa.int32())),
            "file.type": pc.if_else(has_file, pa.scalar("Regular File", S), none),
            "start_line": pa.array([int32_or_none(p.line) for p in starts], pa.int32()),
            "end_line": pa.array([int32_or_none(p.line) for p in ends], pa.int32()),
            "start_column": pa.array([int32_or_none(p.col) for p in starts], pa.int32()),
            "end_column": pa.array([int32_or_none(p.col) for p in ends], pa.int32()),
            "rule.uid": rule,
            "rule.name": rule,
        })  # fmt: skip
        vuln = nest({
            "title": title,
            "severity": captions(_CLS, "severity_id", sev),
            "references": str_lists([_texts(mt.references) or None for mt in metas]),
            "cve": only_where(nest({"uid": cve, "title": title,
                                    "cwe": only_where(nest({"uid": on_cve, "caption": cwe_cap}), on_cve)}), cve),  # fmt: skip
            "cwe": only_where(nest({"uid": alone, "caption": cwe_cap}), alone),
            "advisory": only_where(nest({"uid": adv, "title": pc.coalesce(title, adv), "src_url": url}), adv),
            "affected_code": singleton_list(code, has_file),
        })  # fmt: skip
        if any(e.sca_info for e in extras):  # Supply Chain matches: the dependency each found
            pkgs = [_package(e, mt) for e, mt in zip(extras, metas, strict=True)]
            vuln = _with_field(vuln, "affected_packages", pa.array([[p] if p else None for p in pkgs], _PACKAGES))
        fp = strs([e.fingerprint if e.fingerprint not in _NO_FP else None for e in extras])
        at = strs([f"{p.line}:{p.col}" for p in starts])
        uid = pc.coalesce(fp, pc.binary_join_element_wise(pc.fill_null(rule, "None"), pc.fill_null(files, "None"), at, "|"))  # fmt: skip
        where = pc.binary_join_element_wise(pc.fill_null(files, "None"), strs([str(p.line) for p in starts]), ":")  # fmt: skip
        status = pa.array([3 if e.is_ignored else 1 for e in extras], pa.int32())
        conf = pa.array([_CONFIDENCE.get(_word(mt.confidence)) for mt in metas], pa.int32())
        ruled = rule.is_valid()
        cols.update({
            "status_id": status,
            "status": captions(_CLS, "status_id", status),
            "confidence_id": conf,
            "confidence": captions(_CLS, "confidence_id", conf),
            "message": title,
            "finding_info.uid": distinct_uids(uid, where),
            "finding_info.title": title,
            "finding_info.src_url": url,
            "finding_info.types": str_lists([_texts(mt.category) + _texts(mt.vulnerability_class) or None for mt in metas]),
            "finding_info.product.name": const(self.product, n, S),
            "finding_info.analytic.uid": rule,
            "finding_info.analytic.name": rule,
            "finding_info.analytic.type_id": pc.if_else(ruled, pa.scalar(1, pa.int32()), pa.scalar(None, pa.int32())),
            "finding_info.analytic.type": pc.if_else(ruled, pa.scalar("Rule", S), none),
            "vulnerabilities": singleton_list(vuln),
            "unmapped": unmapped,
        })  # fmt: skip
        return to_batch(_CLS, cols)


#: an error's keys placed (the rest stay in ``unmapped``)
_ERROR_MAPPED = frozenset({"code", "level", "type", "message"})


class _Level(msgspec.Struct, gc=False):
    level: Any = None


_LEVEL = msgspec.json.Decoder(_Level)


def _failed(raw: msgspec.Raw) -> bool:
    """Whether an error is a failure of the scan: level error (or none given); a warning or info (a file parsed
    in part, a timeout on one file) is not. One of the wrong shape is (it is dead-lettered with its reason)."""
    try:
        level = _LEVEL.decode(raw).level
    except msgspec.DecodeError:
        return True
    return not isinstance(level, str) or level.lower() == "error"


def _error_type(value: Any) -> str | None:
    """An error's type name: the string, or the name heading a ``[name, details]`` variant."""
    if isinstance(value, list) and value:
        value = value[0]
    return value if isinstance(value, str) and value else None


_EXTRA = re.compile(rb'"extra"\s*:\s*\{')
_START = re.compile(rb'"start"\s*:\s*\{\s*"(?:line|col|offset)"\s*:')
_EMPTY = re.compile(rb'"paths"\s*:\s*\{\s*(?:"_comment"\s*:\s*"[^"]*"\s*,\s*)?"scanned"\s*:')
#: the first ``errors[]`` object's keys before any nested one; a cli_error has an integer ``code`` (its exit code)
#: and a ``type`` (a name, or ``[name, details]``)
_FIRST_ERROR = re.compile(rb'"errors"\s*:\s*\[\s*\{([^{}]*)')
_ERROR_CODE = re.compile(rb'"code"\s*:\s*\d')
_ERROR_TYPE = re.compile(rb'"type"\s*:\s*[\["]')

__all__ = ["Semgrep"]
