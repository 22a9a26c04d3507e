"""Secret detection and redaction in every string field, raw_data and console logs.

Each detector is one RE2 pattern (run by ``pyarrow.compute`` over whole columns, the same
text also compiles with Python ``re`` for log lines) and a typed placeholder:
``AKIA...`` -> ``[REDACTED:aws_access_key]``. Detectors: aws_access_key, aws_secret_key,
github_token, gitlab_token, slack_token, slack_webhook, private_key, jwt, url_password
(``scheme://user:PASS@host``), password (``password=...``, ``"api_key": "..."`` in JSON,
connection strings) and generic_secret (a 32+ character base64-like run with upper, lower
and digits whose Shannon entropy is at least ``entropy_min`` bits/char).

Per batch and string column: one RE2 pass with all detectors combined finds the rows with
any hit (usually none, so the column is untouched); only those rows are rewritten, detector
by detector, and scattered back. The generic detector's entropy test is Python, over the
few rows whose text has a candidate run. Expected identifiers are not secrets: the
caller's key id in CloudTrail (``"accessKeyId":"ASIA..."``) is left alone, as are
``exclude_fields`` (event ids, credential ids).

A ``data_security_finding`` (OCSF 2006) is emitted per (event, field, secret type): it says
where (``metadata.correlation_uid`` = the event's uid, the field path, the type), never what
(the secret is not copied anywhere). Its uid is a hash of those three, so reprocessing the
same event gives the same finding and the lake deduplicates it.
"""

from __future__ import annotations

import hashlib
import logging
import math
import re
from collections import Counter
from dataclasses import dataclass
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from secpipe.formats.base import base_columns, to_batch
from secpipe.transforms.protect._columns import get_path, scatter, set_path, string_leaves
from secpipe.transforms.protect.options import RedactOptions


@dataclass(frozen=True)
class Detector:
    """One secret type: RE2/Python pattern, replacement (``\\1`` keeps a prefix), severity."""

    name: str
    pattern: str
    replacement: str
    severity_id: int = 4


def _ph(name: str) -> str:
    return f"[REDACTED:{name}]"


DETECTORS: tuple[Detector, ...] = (
    Detector("private_key", r"-----BEGIN[A-Z ]{0,40}PRIVATE KEY(?: BLOCK)?-----(?s:.*?)(?:-----END[A-Z ]{0,40}PRIVATE KEY(?: BLOCK)?-----|$)",
             _ph("private_key"), 5),
    Detector("jwt", r"\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}", _ph("jwt")),
    Detector("aws_access_key", r"\b(?:AKIA|ASIA|ABIA|ACCA)[A-Z0-9]{16}\b", _ph("aws_access_key")),
    Detector("aws_secret_key",
             r"((?i:aws_?secret_?(?:access_?)?key|secret_?access_?key)\\?[\"']?\s*[:=]\s*\\?[\"']?)[A-Za-z0-9/+]{40}\b",
             r"\1" + _ph("aws_secret_key"), 5),
    Detector("github_token", r"\b(?:gh[pousr]_[A-Za-z0-9]{36,255}|github_pat_[A-Za-z0-9_]{22,255})", _ph("github_token")),
    Detector("gitlab_token", r"\bgl(?:pat|ptt|dt|rt|oas|cbt|soat|ffct|imt|agent)-[A-Za-z0-9_-]{20,}", _ph("gitlab_token")),
    Detector("slack_token", r"\bxox[abposre]-[A-Za-z0-9-]{10,}", _ph("slack_token")),
    Detector("slack_webhook", r"https://hooks\.slack\.com/(?:services|workflows)/[A-Za-z0-9/_-]{20,}", _ph("slack_webhook")),
    Detector("url_password", r"\b([a-zA-Z][a-zA-Z0-9+.-]{1,20}://[^:/\s\"'@\[]{1,256}:)[^@/\s\"'\[]{1,256}@",
             r"\1" + _ph("url_password") + "@"),
    Detector("password",
             r"((?i:password|passwd|client_secret|api_?key|access_?token|auth_?token|secret_?key)\\?[\"']?\s*[:=]\s*\\?[\"']?)"
             r"[^\s\"',;&{}\[\\][^\s\"',;&{}\\]{3,}",
             r"\1" + _ph("password")),
)
GENERIC = Detector("generic_secret", r"[A-Za-z0-9+/]{32,}={0,2}", _ph("generic_secret"), 3)
#: literal contexts whose value is an expected identifier, not a leaked secret.
ALLOW_CONTEXTS = ('"accessKeyId":"', '"accesskeyid":"', '"p_any_trace_ids":["')
#: text right before a high-entropy word that marks it as an id or an encoded blob, not a secret.
GENERIC_ALLOW = ('"x-amz-id-2":"', "failure message: ", '"requestID":"', '"eventID":"', '"sharedEventID":"')
_WORD_START = re.compile(r"[^\s\"'=:,]*$")
_MARK = "_\x1f_"  # cannot occur in JSON text; breaks the \b before the key id while present
_PY = {d.name: re.compile(d.pattern) for d in (*DETECTORS, GENERIC)}


def entropy(text: str) -> float:
    """Shannon entropy in bits per character."""
    n = len(text)
    return -sum(c / n * math.log2(c / n) for c in Counter(text).values()) if n else 0.0


def _looks_secret(tok: str, min_entropy: float, min_len: int) -> bool:
    return (len(tok) >= min_len and sum(c.isupper() for c in tok) >= 2 and sum(c.islower() for c in tok) >= 2
            and sum(c.isdigit() for c in tok) >= 2 and entropy(tok.rstrip("=")) >= min_entropy)


def _allowed_context(m: re.Match[str]) -> bool:
    """True when the word holding the match follows a known non-secret key (request ids, blobs)."""
    before = m.string[max(0, m.start() - 4096) : m.start()]
    word = _WORD_START.search(before)
    head = before[: word.start()] if word else before
    return head.endswith(GENERIC_ALLOW)


def _generic_sub(rx: re.Pattern[str], text: str, min_entropy: float, min_len: int) -> tuple[str, bool]:
    hit = False

    def repl(m: re.Match[str]) -> str:
        nonlocal hit
        if _looks_secret(m.group(0), min_entropy, min_len) and not _allowed_context(m):
            hit = True
            return GENERIC.replacement
        return m.group(0)

    return rx.sub(repl, text), hit


def redact_text(text: str, min_entropy: float = 4.5, min_len: int = 32) -> str:
    """Redact secrets in one string with Python ``re`` (used for log lines, not batches)."""
    for d in DETECTORS:
        text = _PY[d.name].sub(d.replacement.replace("\\1", "\\g<1>"), text)
    return _generic_sub(_PY[GENERIC.name], text, min_entropy, min_len)[0]


class RedactingFilter(logging.Filter):
    """A logging filter that redacts secrets in every record's rendered message."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Render, redact and freeze the message (args cleared); always keeps the record."""
        msg = record.getMessage()
        clean = redact_text(msg)
        if clean != msg:
            record.msg, record.args = clean, None
        return True


def install_log_redaction(logger: logging.Logger | None = None) -> None:
    """Attach :class:`RedactingFilter` to every handler of ``logger`` (default: root)."""
    lg = logger or logging.getLogger()
    for h in lg.handlers:
        if not any(isinstance(f, RedactingFilter) for f in h.filters):
            h.addFilter(RedactingFilter())


class RedactStage:
    """Vectorized secret redaction over every string leaf of a batch, plus leak findings."""

    def __init__(self, name: str, options: dict[str, Any]) -> None:
        opts = RedactOptions.model_validate(options)
        self.name = name
        wanted = set(opts.detectors) if opts.detectors is not None else None
        self.detectors = [d for d in DETECTORS if wanted is None or d.name in wanted]
        self.generic = wanted is None or GENERIC.name in wanted
        self.exclude = set(opts.exclude_fields)
        self.entropy_min = opts.entropy_min
        self.entropy_len = opts.entropy_min_length
        self.findings = opts.findings
        parts = [f"(?:{d.pattern})" for d in self.detectors]
        if self.generic:
            parts.append(f"(?:[A-Za-z0-9+/]{{{self.entropy_len},}})")
        self.combined = "|".join(parts)

    def process(self, batch: pa.RecordBatch) -> list[pa.RecordBatch]:
        """Redact one batch; returns it plus a data_security_finding batch when secrets were found."""
        hits: list[tuple[pa.Array, str, Detector]] = []
        paths, arrays = [], []
        for path in string_leaves(batch.schema):
            if path in self.exclude or path.startswith("metadata."):
                continue
            arr = get_path(batch, path)
            if arr is not None and arr.null_count < len(arr):
                paths.append(path)
                arrays.append(arr.combine_chunks() if isinstance(arr, pa.ChunkedArray) else arr)
        if not arrays:
            return [batch]
        # one RE2 pass over every string leaf at once finds the columns worth a closer look
        big = pa.concat_arrays([a.cast(pa.string()) for a in arrays])
        for c in ALLOW_CONTEXTS:
            big = pc.replace_substring(big, c, c + _MARK)
        any_hit = pc.fill_null(pc.match_substring_regex(big, self.combined), False)
        if not pc.any(any_hit).as_py():
            return [batch]
        pos = 0
        for path, arr in zip(paths, arrays, strict=True):
            col_hit = any_hit.slice(pos, len(arr))
            pos += len(arr)
            if pc.any(col_hit).as_py():
                batch = set_path(batch, path, self._column(arr, col_hit, path, hits))
        out = [batch]
        if hits and self.findings:
            out.append(self._finding_batch(batch, hits))
        return out

    def _column(self, arr: pa.Array, any_hit: pa.Array, path: str,
                hits: list[tuple[pa.Array, str, Detector]]) -> pa.Array:
        rows = pc.indices_nonzero(any_hit)
        sub = arr.take(rows)
        protected = [c for c in ALLOW_CONTEXTS if pc.any(pc.match_substring(sub, c)).as_py()]
        for c in protected:
            sub = pc.replace_substring(sub, c, c + _MARK)
        for d in self.detectors:
            m = pc.fill_null(pc.match_substring_regex(sub, d.pattern), False)
            if pc.any(m).as_py():
                hits.append((rows.filter(m), path, d))
                sub = pc.replace_substring_regex(sub, d.pattern, d.replacement)
        if self.generic:
            sub = self._generic(sub, rows, path, hits)
        for c in protected:
            sub = pc.replace_substring(sub, c + _MARK, c)
        return scatter(arr, rows, sub)

    def _generic(self, sub: pa.Array, rows: pa.Array, path: str, hits: list[tuple[pa.Array, str, Detector]]) -> pa.Array:
        cand = pc.fill_null(pc.match_substring_regex(sub, f"[A-Za-z0-9+/]{{{self.entropy_len},}}"), False)
        if not pc.any(cand).as_py():
            return sub
        idx = pc.indices_nonzero(cand)
        rx = _PY[GENERIC.name]
        found: list[int] = []
        texts = sub.take(idx).to_pylist()
        new: list[str | None] = []
        for i, text in zip(idx.to_pylist(), texts, strict=True):  # only rows with a candidate run
            clean, hit = _generic_sub(rx, text, self.entropy_min, self.entropy_len)
            new.append(clean)
            if hit:
                found.append(i)
        if not found:
            return sub
        hits.append((rows.take(pa.array(found, pa.int64())), path, GENERIC))
        return scatter(sub, idx, pa.array(new, pa.string()))

    def _finding_batch(self, batch: pa.RecordBatch, hits: list[tuple[pa.Array, str, Detector]]) -> pa.RecordBatch:
        ev_uid = get_path(batch, "metadata.uid")
        times = batch.column("time")
        uids: list[pa.Array] = []
        tms: list[pa.Array] = []
        fields: list[str] = []
        kinds: list[str] = []
        sev: list[int] = []
        for rows, path, d in hits:
            uids.append(ev_uid.take(rows))
            tms.append(times.take(rows))
            fields += [path] * len(rows)
            kinds += [d.name] * len(rows)
            sev += [d.severity_id] * len(rows)
        event_uids = pa.concat_arrays(uids).to_pylist()
        t = pa.concat_arrays(tms).cast(pa.int64())
        fuids = [hashlib.blake2b(f"secret\0{u}\0{f}\0{k}".encode(), digest_size=16).hexdigest()
                 for u, f, k in zip(event_uids, fields, kinds, strict=True)]
        cols = base_columns(
            "data_security_finding", kind="secpipe.redact", product="secpipe", vendor="secpipe", uids=fuids,
            times_ms=t, raws=None, activity_id=pa.array([1] * len(fuids), pa.int32()),
            severity_id=pa.array(sev, pa.int32()),
        )  # fmt: skip
        cols.update({
            "metadata.correlation_uid": pa.array(event_uids, pa.string()),
            "finding_info.uid": pa.array(fuids, pa.string()),
            "finding_info.title": pa.array([f"Secret leaked in event data: {k}" for k in kinds], pa.string()),
            "finding_info.desc": pa.array(
                [f"A {k} was found in field {f} of event {u} and redacted before storage; rotate the credential."
                 for k, f, u in zip(kinds, fields, event_uids, strict=True)], pa.string()),
            "data_security.detection_pattern": pa.array(kinds, pa.string()),
            "data_security.data_lifecycle_state_id": pa.array([2] * len(fuids), pa.int32()),
            "unmapped": pa.array([f'{{"event_uid":"{u}","field":"{f}","secret_type":"{k}"}}'
                                  for u, f, k in zip(event_uids, fields, kinds, strict=True)], pa.string()),
        })  # fmt: skip
        return to_batch("data_security_finding", cols)


def make_redact(name: str, options: dict[str, Any], data_dir: Any = None) -> RedactStage:
    """STAGES factory for ``type: redact``."""
    return RedactStage(name, options)
