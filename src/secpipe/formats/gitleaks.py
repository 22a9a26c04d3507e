"""Gitleaks JSON reports (``gitleaks detect|git|dir --report-format json``, gitleaks 8; gitleaks 7's too).

A report is a JSON array of leaks. Gitleaks 8 writes ``RuleID``, ``Description``, ``File``,
``StartLine`` / ``EndLine`` / ``StartColumn`` / ``EndColumn``, ``Secret``, ``Match`` (and ``Line``,
or ``Context`` in early 8.x), ``Commit``, ``Author``, ``Email``, ``Date``, ``Message``, ``Tags``,
``Entropy``, ``Fingerprint``; gitleaks 7 ``rule``, ``file``, ``lineNumber``, ``offender``, ``line``,
``commit``, ``author``, ``email``, ``date``, ``commitMessage``, ``repo``, ``leakURL``, ``tags``.
Like the same leak in ``gitleaks --report-format sarif`` (which the sarif format reads), each one
is an **Application Security Posture Finding (2007)**:

- ``RuleID`` (7: ``rule``) -> ``finding_info.analytic`` (uid and name, type Rule), ``affected_code[0].rule``
  and the vulnerability's ``advisory`` (uid; title the ``Description``): a leak names no CVE or CWE;
  ``Description`` (else the rule) -> ``finding_info.title`` and the vulnerability's title;
  ``message`` is "<title> in <file>".
- ``File`` and the lines and columns (7: ``lineNumber``) -> ``affected_code[0]`` (only with a file:
  OCSF requires it); the commit's ``Author`` / ``Email`` -> its ``owner`` (name, email_addr).
- ``Fingerprint`` -> ``finding_info.uid``; without one (gitleaks 7, ``gitleaks dir``, early 8.x),
  gitleaks' own form ``<commit>:<file>:<rule>:<line>`` (``<file>:<rule>:<line>`` without a commit);
  a uid two leaks share gets ``|file:line``. ``Tags`` -> the ``finding_info.tags`` pair ``tags`` (joined).
- Severity: Unknown (gitleaks rates no leak). Status New. A report has no scan time: the receipt time
  and its label (``Date`` is the commit's, kept in ``unmapped`` with the commit and its message).

The secret a leak reports is kept out of the lake: ``Secret``, ``Match``, ``Line`` and ``Context``
(7: ``offender`` and ``line``) hold ``"[REDACTED:<rule>]"`` in ``raw_data`` and ``unmapped``
(:mod:`._found_secrets`; ``metadata.uid`` is still the hash of the leak as received). Keys not
placed stay in ``unmapped``.

Dead letters: a document that is not a JSON array whole; one leak of the wrong shape alone. An
empty array is not recognized (it names no format). Recognized by a first leak with ``RuleID`` and
``StartLine`` (7: ``offender`` and ``lineNumber``).
"""

from __future__ import annotations

import re

import msgspec
import pyarrow as pa

from secpipe import _compute as pc
from secpipe.formats import _fast
from secpipe.formats import _found_secrets as found_secrets
from secpipe.formats._findings import (
    ReportFormat,
    S,
    captions,
    distinct_uids,
    kv_list,
    nest,
    only_where,
    paused_gc,
    singleton_list,
)
from secpipe.formats.base import Decoded, base_columns, const, event_uids, int32_or_none, strs, to_batch


class _Leak(msgspec.Struct, gc=False):
    RuleID: str | None = None  # noqa: N815 (gitleaks' keys)
    Description: str | None = None  # noqa: N815
    File: str | None = None  # noqa: N815
    StartLine: int | None = None  # noqa: N815
    EndLine: int | None = None  # noqa: N815
    StartColumn: int | None = None  # noqa: N815
    EndColumn: int | None = None  # noqa: N815
    Author: str | None = None  # noqa: N815
    Email: str | None = None  # noqa: N815
    Tags: list[str] | None = None  # noqa: N815
    Fingerprint: str | None = None  # noqa: N815
    Commit: str | None = None  # noqa: N815
    # gitleaks 7
    rule: str | None = None
    file: str | None = None
    lineNumber: int | None = None  # noqa: N815
    author: str | None = None
    email: str | None = None
    commit: str | None = None
    tags: str | None = None


_CLS = "application_security_posture_finding"
_MAPPED = frozenset({"RuleID", "Description", "File", "StartLine", "EndLine", "StartColumn", "EndColumn", "Author",
                     "Email", "Tags", "Fingerprint", "rule", "file", "lineNumber", "author", "email"})  # fmt: skip
#: the keys holding the secret found (8: Secret, Match, Line, Context; 7: offender, line), as a compact record
#: writes them (the records and their unmapped JSON are compact)
_KEYS = (b'"Secret":', b'"Match":', b'"Line":', b'"Context":', b'"offender":', b'"line":')


def _uid(k: _Leak, rule: str | None, path: str | None, line: int | None) -> str:
    """The leak's fingerprint, else gitleaks' own form of one (commit:file:rule:line)."""
    if k.Fingerprint:
        return k.Fingerprint
    commit = k.Commit or k.commit
    return ":".join(str(x) for x in ((commit,) if commit else ()) + (path, rule, line))


def _tags(k: _Leak) -> dict[str, str] | None:
    """The leak's tags as one ``tags`` pair (gitleaks 8 lists them, 7 joins them with commas)."""
    tags = ", ".join(t for t in k.Tags if t) if k.Tags is not None else (k.tags or "").strip()
    return {"tags": tags} if tags else None


class Gitleaks(ReportFormat):
    """Gitleaks JSON reports."""

    name = "gitleaks"
    report_type = list[msgspec.Raw]
    what = "a Gitleaks JSON report"
    description = "Gitleaks JSON report (--report-format json, 8 and 7) -> Application Security Posture Finding (2007) per leak"  # fmt: skip
    framing = "document"
    product = "Gitleaks"
    vendor = "Gitleaks"

    def sniff(self, head: bytes) -> int:
        """Recognize a first leak with ``RuleID`` and ``StartLine`` (gitleaks 7: ``offender`` and ``lineNumber``)."""
        h = head[:65536]
        return 88 if _HEAD8.match(h) or _HEAD7.match(h) else 0

    def decode(self, data: bytes, source: str) -> Decoded:
        """Decode one report: compacted, checked (also as UTF-8) and split into its leaks in one native pass; a
        report that pass does not decide takes :class:`ReportFormat`'s path (which dead-letters it as ever where it
        is not a JSON array)."""
        got = _fast.compact_doc(data, "", utf8=True)
        if got is None or got[1] is None:
            return super().decode(data, source)
        with paused_gc():
            return self.map_report(got[1], got[0], source)  # type: ignore[arg-type]

    def map_report(self, leaks: list[msgspec.Raw], data: bytes, source: str) -> Decoded:
        """Map each leak; one of the wrong shape is dead-lettered alone."""
        keys = tuple(k for k in _KEYS if _fast.contains_any(data, (k,)))  # (one SIMD search a key: most are absent)
        return self.map_each(leaks, _Leak, _MAPPED, "a Gitleaks leak", source,
                             lambda ks, raws, unmapped: self._batch(ks, raws, unmapped, keys))

    def _batch(self, ks: list[_Leak], raws: list[bytes], unmapped: pa.Array, keys: tuple[bytes, ...]) -> pa.RecordBatch:
        n = len(ks)
        rules = [k.RuleID or k.rule for k in ks]
        paths = [k.File or k.file or None for k in ks]
        starts = [k.StartLine if k.StartLine is not None else k.lineNumber for k in ks]
        stored, unmapped = found_secrets.hide_keys(raws, unmapped, keys, rules)
        sev = const(0, n, pa.int32())
        cols = base_columns(_CLS, kind=self.name, product=self.product, vendor=self.vendor, uids=event_uids(self.name, raws),
                            times_ms=pa.nulls(n, pa.int64()), raws=stored, activity_id=1, severity_id=sev)  # fmt: skip
        rule, files = strs(rules), strs(paths)
        has_file = files.is_valid()
        title = pc.coalesce(strs([k.Description or None for k in ks]), rule)
        none = pa.scalar(None, S)
        authors = strs([k.Author or k.author or None for k in ks])
        emails = strs([k.Email or k.email or None for k in ks])
        code = nest({
            "file.path": files,
            "file.name": strs([f.rsplit("/", 1)[-1] if f else None for f in paths]),
            "file.type_id": pc.if_else(has_file, pa.scalar(1, pa.int32()), pa.scalar(None, pa.int32())),
            "file.type": pc.if_else(has_file, pa.scalar("Regular File", S), none),
            "start_line": pa.array([int32_or_none(x) for x in starts], pa.int32()),
            "end_line": pa.array([int32_or_none(k.EndLine if k.EndLine is not None else s) for k, s in zip(ks, starts, strict=True)], pa.int32()),  # fmt: skip
            "start_column": pa.array([int32_or_none(k.StartColumn) for k in ks], pa.int32()),
            "end_column": pa.array([int32_or_none(k.EndColumn) for k in ks], pa.int32()),
            "rule.uid": rule,
            "rule.name": rule,
            "owner": only_where(nest({"name": authors, "email_addr": emails}), pc.or_(authors.is_valid(), emails.is_valid())),
        })  # fmt: skip
        vuln = nest({
            "title": title,
            "severity": captions(_CLS, "severity_id", sev),
            "advisory": only_where(nest({"uid": rule, "title": title}), rule),
            "affected_code": singleton_list(code, has_file),
        })  # fmt: skip
        uid = strs([_uid(k, r, p, s) for k, r, p, s in zip(ks, rules, paths, starts, strict=True)])
        where = pc.binary_join_element_wise(pc.fill_null(files, "None"), strs([str(s) for s in starts]), ":")
        status = const(1, n, pa.int32())
        ruled = rule.is_valid()
        cols.update({
            "status_id": status,
            "status": captions(_CLS, "status_id", status),
            "message": pc.binary_join_element_wise(title, pc.fill_null(files, "None"), " in "),
            "finding_info.uid": distinct_uids(uid, where),
            "finding_info.title": title,
            "finding_info.tags": kv_list([_tags(k) for k in ks]),
            "finding_info.product.name": const(self.product, n, S),
            "finding_info.analytic.uid": rule,
            "finding_info.analytic.name": rule,
            "finding_info.analytic.type_id": pc.if_else(ruled, pa.scalar(1, pa.int32()), pa.scalar(None, pa.int32())),
            "finding_info.analytic.type": pc.if_else(ruled, pa.scalar("Rule", S), none),
            "vulnerabilities": singleton_list(vuln),
            "unmapped": unmapped,
        })  # fmt: skip
        return to_batch(_CLS, cols)


_HEAD8 = re.compile(rb'^(?:\xef\xbb\xbf)?\s*\[\s*\{(?=.{0,8192}?"RuleID"\s*:)(?=.{0,8192}?"StartLine"\s*:)', re.S)  # fmt: skip
_HEAD7 = re.compile(rb'^(?:\xef\xbb\xbf)?\s*\[\s*\{(?=.{0,8192}?"offender"\s*:)(?=.{0,8192}?"lineNumber"\s*:)', re.S)  # fmt: skip

__all__ = ["Gitleaks"]
