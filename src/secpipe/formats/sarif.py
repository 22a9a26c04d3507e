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
``tool.extensions[].rules``; a hierarchical ``ruleId`` such as ``CA5350/md5`` by its leading
components, §3.27.5) -> ``finding_info.analytic`` (uid, name, desc from
shortDescription/fullDescription, type Rule) and ``affected_code[0].rule``; result message
(``message.text``, else by its ``id`` the rule's ``messageStrings``, else its tool component's
``globalMessageStrings``, SARIF §3.11.7; with ``arguments``, ``{n}`` placeholders filled and ``{{``/``}}``
read as the braces they escape) -> ``message``; each location with a file -> an ``affected_code`` entry, in order
(a result lists several when it must be corrected at each, §3.27.12; its uid is made from the first) (``file.path`` from
``artifactLocation.uri`` or ``run.artifacts[index]``, lines, columns: in a line/column region an
absent ``endLine`` is ``startLine`` and an absent ``startColumn`` 1, SARIF §3.30.5-§3.30.7); tool driver name,
version (``version`` or ``semanticVersion``) and organization -> ``metadata.product`` and
``finding_info.product``; fingerprints and partialFingerprints (a value wrapped as
``{"value": ...}``, as Black Duck writes it, read as its string) -> ``finding_info.uid``
(first fingerprint value, else rule|file|partial values, else rule|file|line|ordinal; a uid
two results of a run share gets ``|file:line:column``, then ``#<occurrence>``) and
``finding_info.tags``; rule ``properties.tags`` -> ``finding_info.types``; CVE-looking rule ids
(Trivy SARIF; an id beginning with one, as Grype's ``<CVE id>-<package>`` and Checkov's
``<CVE id>_<package>@<version>``: that id) ->
``vulnerabilities[0].cve.uid``, a GHSA id the same way -> ``advisory`` (its CWE in ``related_cwes``); a rule
whose id names neither but one of whose tags is a CVE id (govulncheck: GO- rules tagged with their CVE aliases)
-> that CVE, the rule's id in ``related_vulnerabilities``; a rule's CWE (see :mod:`._sarif_ids`) -> ``cwe`` (``cve.cwe``
beside a CVE); a result with neither a CVE nor a CWE -> ``advisory`` (uid the rule id, title its short
description, ``src_url`` its ``helpUri``): OCSF 1.8.0 wants just one of advisory, cve, cwe per
vulnerability, and the rule is what such a finding answers to. A result naming no rule, CVE or
CWE (gitleaks 7, sarif-sdk's Static Driver Verifier) has a vulnerability of no identity.

OCSF conformance: a location's file is a source file, so ``file.type_id`` is 1 (Regular File);
a result with no file location (only logical locations, e.g. Contrast, FxCop engine errors) gets
no ``affected_code`` (OCSF requires its ``file``; the rule stays in ``finding_info.analytic``);
the first location's first logical location (§3.33: the namespace, type, function ... a result is on; what it
does not give itself taken from ``run.logicalLocations[index]``) -> a ``resources`` entry, type its ``kind``,
name its ``fullyQualifiedName`` (else ``name``), and it stands for the file in the uid of a result with none
(two results on two functions never share one);
``cve`` is emitted only with a CVE id (its required ``uid``).

Severity: a numeric ``security-severity`` rule/result property (CodeQL, Trivy; a severity word
there, as Semgrep's rules write it, stands for its band) gives CVSS
bands (>=9 Critical, >=7 High, >=4 Medium, >0 Low, 0 Informational); so does Qodana's own severity,
``qodanaSeverity`` (Critical, High, Moderate, Low, Info) in the result's properties or its rule's
``defaultConfiguration.parameters``, read after ``security-severity`` (Qodana's ``level`` is a coarser
copy: ``note`` for both Moderate and Info); otherwise ``level`` (result; when absent,
``none`` for a result whose ``kind`` is not ``fail`` (pass, open, review, informational,
notApplicable), else the level its invocation's ``ruleConfigurationOverrides`` give its rule (§3.20.5, §3.51;
:mod:`._sarif_config`), else the rule's ``defaultConfiguration.level``, else ``warning``, as SARIF
§3.27.10 says): error High, warning Medium, note Low, none Informational. Suppressed results
(``suppressions`` non-empty and none of them ``underReview`` or ``rejected``: such a request does
not suppress, SARIF §3.35.3) get status Suppressed (3), ``baselineState: absent`` and ``kind: pass``
(the rule was evaluated and the target conforms, §3.27.9) Resolved (4), else New (1). ``time`` is the run's invocation end/start
time (receipt time, labelled, when absent or Go's zero time ``0001-01-01T00:00:00Z``, an unset one). Result keys not placed (codeFlows,
relatedLocations, properties ...) stay in ``unmapped``; a secret scanner's result (gitleaks, Nosey Parker,
Kingfisher ...: :data:`_SECRET_SCANNERS`) holds ``[REDACTED:<rule id>]`` in place of its snippet text and its
``properties.offender`` there and in ``raw_data`` (:mod:`._found_secrets`: the secret found; ``metadata.uid`` is still
the hash of the result as received), as does a Semgrep secret rule's (a ``secrets`` segment in its rule id, as the
registry's ``generic.secrets.*``: Semgrep's SARIF carries no other mark of one; its snippet is the matched lines).
The run's ``versionControlProvenance`` (the repositories it analyzed, §3.14.18)
-> ``resources`` of each of its findings: type ``repository``, name and uid ``repositoryUri``,
``data`` the entry's other properties (``revisionId``, ``branch``, ``revisionTag`` ...) as JSON.

Decoding: with the native extension (``_fast``) each run's results are walked once in Rust into
field columns; without it (or when a result is irregular) msgspec decodes them into structs
(:func:`struct_fields`); both feed one builder. Rule references are resolved once per distinct
reference, messages formatted once per distinct (message, rule) pair. A line or column number
beyond OCSF's int32 is left null.

Modules: the SARIF objects read (:mod:`._sarif_model`), a run's context (:mod:`._sarif_run`), the field columns
of its results (:mod:`._sarif_fields`), what their rules say (:mod:`._sarif_rules`), where they are
(:mod:`._sarif_code`, :mod:`._sarif_uris`), their identity and weakness (:mod:`._sarif_ids`), how its rules and
notifications were configured (:mod:`._sarif_config`), the run's notifications (:mod:`._sarif_notifications`); this module decodes a log and builds each run's findings.

A run's invocations' notifications of level error, and an invocation whose ``executionSuccessful`` is
false, are **Scan Activity (6007)** events, activity Error, status Failure (:mod:`._sarif_notifications`): a run that
failed does not read as a clean scan.

Dead letters: a log whose ``version`` is not 2.1.0 (SARIF 2.0.0 sarif-sdk spec examples, the
1.0 format) is dead-lettered whole with the reason and how to convert it; so is a result of the
wrong JSON shape, and an external property file (top-level ``results``, no ``runs``: its
results belong to the log that references it). A 2.1.0 log whose ``runs`` is null (SARIF
§3.13.4: the tool failed before any run) or absent holds no result: nothing is stored and
nothing is dead-lettered. Such a log is recognized by its ``$schema`` and ``version``.
"""

from __future__ import annotations

import re
from typing import Any

import msgspec
import pyarrow as pa

from secpipe import _compute as pc
from secpipe.formats import _fast
from secpipe.formats import _found_secrets as found_secrets
from secpipe.formats._findings import (
    RESOURCES,
    Distinct,
    ReportFormat,
    S,
    captions,
    compact,
    distinct_uids,
    either,
    json_texts,
    nest,
    nonempty,
    only_where,
    or_null,
    paused_gc,
    record_bytes,
    reject_distinct,
    report_time,
    score_severity_ids,
    singleton_list,
    unmapped_items,
)
from secpipe.formats._sarif_code import (
    affected_code,
    all_affected_code,
    artifact_uris,
    distinct_map,
    location_paths,
    logical,
)
from secpipe.formats._sarif_fields import native_fields, struct_fields
from secpipe.formats._sarif_ids import fallback_uids, fingerprints
from secpipe.formats._sarif_model import (
    HEAD,
    LOG,
    TYPED_LOG,
    Component,
    Head,
    Log,
    Message,
    Result,
    Tool,
    TypedRun,
)
from secpipe.formats._sarif_notifications import run_notifications
from secpipe.formats._sarif_rules import level_severity_id, messages, per_rule, result_cwes, rule_groups
from secpipe.formats._sarif_run import RunCtx
from secpipe.formats.base import (
    Decoded,
    Strict,
    base_columns,
    const,
    decode_strict,
    event_uids,
    not_utf8,
    to_batch,
)

_SARIF_SCHEMA = re.compile(rb'"\$schema"\s*:\s*"[^"]*sarif[^"]*"', re.IGNORECASE)
#: secret scanners writing SARIF (driver names lower case, letters only): their results' snippet text (gitleaks 8: the
#: secret; 7: the line holding it) and gitleaks 7's properties.offender are the secrets found
_SECRET_SCANNERS = frozenset({"gitleaks", "betterleaks", "noseyparker", "kingfisher", "trufflehog", "detectsecrets",
                              "ggshield", "secretlint"})
_SCANNER_NAME = re.compile(r"[^a-z]")
#: a snippet's text (after its other simple members) or an offender property, as JSON text
_FOUND_SECRET = found_secrets.value_after(
    rb'"offender"\s*:\s*|"snippet"\s*:\s*\{(?:\s*"[A-Za-z]+"\s*:\s*(?:' + found_secrets.STRING + rb'|\{[^{}]*\})\s*,)*'
    rb'\s*"text"\s*:\s*')
_ANALYTIC_TYPE = 1  # OCSF analytic.type_id Rule


class Sarif(ReportFormat):
    """SARIF 2.1.0 static-analysis logs."""

    name = "sarif"
    report_type = Head
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
        if b'"$schema"' in h and b'"version"' in h and _SARIF_SCHEMA.search(h):  # a log without runs
            return 90
        return 0

    def decode(self, data: bytes, source: str) -> Decoded:
        """Decode one SARIF log: compacted once, then read as a whole log (the version check
        reads the same decode; only a log that does not fit the 2.1.0 shape is read again
        for its version alone)."""
        with paused_gc():
            try:
                compacted = compact(data)
            except msgspec.DecodeError as exc:
                return self.dead(f"not {self.what}: {exc}", source, data)
            orig, data = data, compacted
            try:
                log: Log | None = LOG.decode(data)
                invalid = None
            except msgspec.DecodeError as exc:
                log, invalid = None, exc
            if log is None:
                try:
                    version = HEAD.decode(data).version
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
            return self.map_report(log, data, source, orig)

    def map_report(self, log: Log, data: bytes, source: str, orig: bytes | None = None) -> Decoded:
        """Map one decoded SARIF 2.1.0 log (``data`` is its compact bytes, ``orig`` as it came) into findings."""
        if log.runs is None and log.results is not None:
            return self.dead("a SARIF external property file, not a SARIF log: its results belong to the log "
                             "that references it (`externalPropertyFileReferences`); send that log", source, data)
        out = Decoded()
        typed: list[TypedRun] | None = None
        tried = False
        for ri, run in enumerate(log.runs or []):
            if run.invocations:  # what the run says went wrong in it
                tool = run.tool or Tool()
                drv = tool.driver or Component()
                out.extend(run_notifications(self.name, drv.name or self.product, drv.organization or drv.name or self.vendor,
                                             drv.version or drv.semanticVersion, run.invocations, ri, source,
                                             [drv, *(tool.extensions or [])]))  # fmt: skip
            res: list[Any] = run.results or []  # msgspec.Raw slices of the compact log
            out.events += len(res)
            if not res:
                continue
            if _fast.available():
                raws = record_bytes(res)
                native = native_fields(raws)
                if native is not None:
                    f, msgs = native
                    out.batches.append(self._batch(RunCtx(run), ri, list(range(len(raws))), raws, f, msgs))
                    continue
            if not tried:
                tried = True
                try:
                    typed = TYPED_LOG.decode(data).runs
                except msgspec.DecodeError:  # some result has an unknown key or a wrong type: isolate it below
                    typed = None
            trs = typed[ri].results if typed is not None and ri < len(typed) else None
            if trs is not None and len(trs) == len(res):
                st = Strict(trs, [None] * len(res), res, [(source, i) for i in range(len(res))])
                ords = list(range(len(res)))
            else:
                raws = [bytes(r) for r in res]
                st = decode_strict(raws, [(source, i) for i in range(len(raws))], Result, out, self.name, "a SARIF result")
                pos = {id(r): i for i, r in enumerate(raws)}
                ords = [pos[id(r)] for r in st.raws]
            if any(not_utf8(bytes(r)) is not None for r in st.raws):
                # the native path refuses the log whole when a result of the right shape is no UTF-8
                # (raw_data's check, before the message is read): the same here
                whole = data if orig is None else orig
                return self.dead(not_utf8(whole) or "not valid UTF-8 (a JSON document must be UTF-8, RFC 8259)",
                                 source, whole)  # fmt: skip
            distinct = {"message": Distinct([r.message for r in st.recs], Message | None, "message")}
            st, distinct, kept = reject_distinct(st, distinct, out, self.name, "a SARIF result")
            if kept is not None:
                ords = [ords[i] for i in kept]
            if st.recs:
                raws = record_bytes(st.raws)
                out.batches.append(self._batch(RunCtx(run), ri, ords, raws, struct_fields(st), distinct["message"]))
        return out

    def _batch(self, run: RunCtx, ri: int, ords: list[int], raws: list[bytes], f: dict[str, Any],
               msgs: Distinct) -> pa.RecordBatch:
        """The findings of one run from its result field columns (see :func:`struct_fields`, :func:`native_fields`)."""
        n = len(raws)
        cls = "application_security_posture_finding"
        group, rules = rule_groups(run, f)
        per = per_rule(run, rules)
        take = pa.array(group, pa.int32())
        rid_arr = per["rid"].take(take)
        # §3.27.10: no level and a kind other than "fail" (pass, open, review, ...) -> "none", else the level
        # the result's invocation overrides its rule's with, else the rule's default level, else "warning"
        not_fail = pc.fill_null(pc.and_(nonempty(f["kind"]), pc.not_equal(f["kind"], "fail")), False)
        default = per["level"].take(take)
        if (over := run.override_levels(rules, group, raws)) is not None:
            default = either(over, default)
        levels = either(f["level"], pc.if_else(not_fail, pa.scalar("none", S), default))
        levels = pc.fill_null(or_null(levels), "warning")
        sev = distinct_map(levels, lambda lv: level_severity_id(lv), pa.int32())
        scores = pc.coalesce(f["score"], per["score"].take(take))
        if scores.null_count < n:
            sev = pc.if_else(scores.is_null(), sev, score_severity_ids(scores))
        drv = run.driver
        pre = f"{drv.name}\0{ri}\0"
        ctx = [pre + str(i) for i in ords]
        stored, unmapped = raws, f["unmapped"]
        scanner = _SCANNER_NAME.sub("", (drv.name or "").lower())
        if scanner in _SECRET_SCANNERS:  # the secrets found stay out of the lake
            stored, unmapped = found_secrets.hide(raws, unmapped, (b'"snippet"', b'"offender"'), _FOUND_SECRET,
                                                  rid_arr.to_pylist())
        elif scanner.startswith("semgrep"):  # a Semgrep secret rule's snippet is the matched line, secret and all
            rids = rid_arr.to_pylist()
            rows = [i for i, r in enumerate(rids) if r and "secrets" in r.split(".")]
            if rows:
                stored, unmapped = found_secrets.hide(raws, unmapped, (b'"snippet"',), _FOUND_SECRET, rids, rows)
        cols = base_columns(
            cls, kind=self.name, product=self.product, vendor=self.vendor, uids=event_uids(self.name, raws, ctx),
            times_ms=const(report_time(run.time), n, pa.int64()), raws=stored, activity_id=1,
            severity_id=sev,
        )  # fmt: skip
        version = drv.version or drv.semanticVersion
        cols["metadata.product.name"] = const(drv.name or self.product, n, S)
        cols["metadata.product.vendor_name"] = const(drv.organization or drv.name or self.vendor, n, S)
        cols["metadata.product.version"] = const(version, n, S)
        cols["metadata.log_name"] = const(self.name, n, S)
        paths = either(location_paths(run, f["uri"], f["base"]), artifact_uris(run, f["artifact"]))
        construct, construct_kind = logical(run, f)
        # a result on a namespace, type or function alone (FxCop, Roslyn, Contrast ...) is told apart by that construct
        place = either(paths, construct)
        short = per["short"].take(take)
        full = per["full"].take(take)
        rule_names = either(per["name"].take(take), rid_arr)
        ruled = pc.or_(pc.is_valid(rid_arr), pc.is_valid(rule_names))
        first_fp, partial, tags = fingerprints(f["fingerprints"], f["partialFingerprints"])
        uid = first_fp
        if uid.null_count:
            # partial fingerprints identify a result only with its rule and file (CodeQL's line hash
            # is the same for every rule matching one line, and for equal lines in two files)
            by_partial = pc.binary_join_element_wise(rid_arr, place, partial, "|", null_handling="replace",
                                                     null_replacement="None")  # fmt: skip
            uid = either(uid, pc.if_else(partial.is_valid(), by_partial, pa.scalar(None, S)))
        if uid.null_count:
            uid = either(uid, fallback_uids(rid_arr, place, f["startLine"], ri, ords))
        # producers repeat fingerprints across results (Flawfinder hashes the line text, gitleaks'
        # partial fingerprints are the commit's): a shared uid gets the result's location
        where = pc.binary_join_element_wise(paths, f["startLine"].cast(S), f["startColumn"].cast(S), ":",
                                            null_handling="replace", null_replacement="None")  # fmt: skip
        if construct.null_count < n:  # ... and the construct it is on (two members on one line)
            where = pc.if_else(construct.is_valid(), pc.binary_join_element_wise(where, construct, "|"), where)
        uid = distinct_uids(uid, where)
        suppressed = f["suppressed"]
        # a result that is gone from the baseline, or of kind "pass" (the rule was evaluated and the
        # target conforms, §3.27.9: CIS-CAT and other compliance tools report them), is Resolved
        gone = pc.or_kleene(pc.equal(f["baselineState"], "absent"), pc.equal(f["kind"], "pass"))
        status_id = pc.if_else(suppressed, 3, pc.if_else(pc.fill_null(gone, False), 4, 1))
        status_id = status_id.cast(pa.int32())
        if f.get("locations") is None:  # one location a result at most: its first is its affected code
            affected = singleton_list(affected_code(paths, f, rid_arr, rule_names, short), paths.is_valid())
        else:  # every location of a result is where it occurred (SARIF §3.27.12): one affected_code each
            offsets, locs = f["locations"]
            affected = all_affected_code(run, offsets, locs, rid_arr, rule_names, short)
        named = per["cve"].take(take)  # the CVE or GHSA id the rule id is or begins with
        cwe, cwe_cap = result_cwes(run, f["taxa"], f["props"], per, take)
        none_s = pa.scalar(None, S)
        # a cve's uid is a CVE id: a GitHub advisory id (GHSA-...) is the finding's advisory, its weakness in related_cwes
        ghsa = pc.fill_null(pc.starts_with(pc.utf8_upper(named), "GHSA-"), False)
        cve = pc.if_else(ghsa, none_s, named)
        # OCSF 1.8.0: just one of advisory / cve / cwe per vulnerability: beside a CVE, its weakness is cve.cwe
        has_cve = cve.is_valid()
        on_cve = pc.if_else(has_cve, cwe, none_s)
        alone = pc.if_else(pc.or_(has_cve, ghsa), none_s, cwe)
        on_adv = pc.if_else(ghsa, cwe, none_s)
        # neither: the rule is the advisory the finding answers to (its id, title and help link)
        adv = pc.if_else(ghsa, named, pc.if_else(pc.or_(has_cve, cwe.is_valid()), none_s, rid_arr))
        vuln = nest({
            "title": short,
            "desc": full,
            "severity": captions(cls, "severity_id", sev),
            "cve": only_where(nest({"uid": cve, "cwe": only_where(nest({"uid": on_cve, "caption": cwe_cap}), on_cve)}), cve),
            "cwe": only_where(nest({"uid": alone, "caption": cwe_cap}), alone),
            "advisory": only_where(nest({"uid": adv, "title": short, "src_url": per["url"].take(take),
                                         "related_cwes": singleton_list(nest({"uid": on_adv, "caption": cwe_cap}), on_adv.is_valid())}),
                                   adv),  # fmt: skip
            "references": per["references"].take(take),
            "related_vulnerabilities": per["related"].take(take),
            "affected_code": affected,
        })  # fmt: skip
        message = messages(run, msgs, group, rules)
        cols.update({
            "status_id": status_id,
            "status": captions(cls, "status_id", status_id),
            "message": message,
            "finding_info.uid": uid,
            # a result naming no rule (gitleaks 7: "AWS Access Key secret detected") is titled by its message
            "finding_info.title": pc.coalesce(short, rid_arr, message),
            "finding_info.desc": full,
            "finding_info.types": per["types"].take(take),
            "finding_info.tags": tags,
            "finding_info.src_url": per["url"].take(take),
            "finding_info.product.name": const(drv.name, n, S),
            "finding_info.product.version": const(version, n, S),
            "finding_info.product.vendor_name": const(drv.organization, n, S),
            "finding_info.analytic.uid": rid_arr,
            "finding_info.analytic.name": rule_names,
            "finding_info.analytic.desc": short,
            # a Rule only where the result names its rule (an analytic needs a name or uid, OCSF 1.8.0)
            "finding_info.analytic.type_id": pc.if_else(ruled, pa.scalar(_ANALYTIC_TYPE, pa.int32()), pa.scalar(None, pa.int32())),
            "finding_info.analytic.type": pc.if_else(ruled, "Rule", pa.scalar(None, S)),
            "vulnerabilities": singleton_list(vuln),
            # the result's kind (fail, pass, open, review, ...: §3.27.9) has no OCSF attribute (it
            # decides level and status above): kept as given
            "unmapped": unmapped_items(unmapped, _kind_items(f["kind"])),
        })  # fmt: skip
        if (off := run.disabled(rules, group, raws)) is not None:  # a rule the configuration disabled (_sarif_config)
            cols["finding_info.analytic.state_id"] = pc.if_else(off, pa.scalar(2, pa.int32()), pa.scalar(None, pa.int32()))
            cols["finding_info.analytic.state"] = pc.if_else(off, pa.scalar("Suppressed", S), pa.scalar(None, S))
        if construct.null_count < n:  # the construct each result is on, then the run's repositories
            repos = run.repos or []
            cols["resources"] = pa.array([[{"type": k, "name": q, "uid": None, "labels": None, "data": None}, *repos]
                                          if q else run.repos
                                          for q, k in zip(construct.to_pylist(), construct_kind.to_pylist(), strict=True)],
                                         RESOURCES)  # fmt: skip
        elif run.repos:  # the repositories the run analyzed (versionControlProvenance)
            cols["resources"] = pa.array([run.repos] * n, RESOURCES)
        return to_batch(cls, cols)


def _kind_items(kinds: pa.Array) -> pa.Array:
    """``"kind":<value>`` items for ``unmapped`` (null where a result has none)."""
    if kinds.null_count == len(kinds):
        return kinds
    return pc.binary_join_element_wise('"kind":', json_texts(kinds), "")


__all__ = ["Sarif"]
