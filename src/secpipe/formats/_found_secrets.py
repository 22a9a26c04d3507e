"""Secret scanners' findings without the secrets they found.

A secret scanner's finding carries the credential it found: GitLab secret detection's
``raw_source_code_extract``, a gitleaks SARIF result's ``snippet.text`` (the secret itself in gitleaks 8,
the line holding it in gitleaks 7), gitleaks 7's ``properties.offender`` and a Semgrep secret rule's matched
``lines`` and bound metavariables. Stored as received, the
lake would hand the leaked credential its finding reports to every reader, with or without a redact
stage (as GitHub's REST secret scanning alerts, ``github._hide_secret``). The formats put
``"[REDACTED:<rule>]"`` in place of each such JSON string in ``raw_data`` and ``unmapped`` (the JSON
stays valid, every other byte as received); ``metadata.uid`` stays the hash of the finding as received.
"""

from __future__ import annotations

import re

import msgspec
import pyarrow as pa

#: a JSON string token (the loop unrolled: a run of plain bytes at a time, not one alternation a byte)
STRING = rb'"[^"\\]*(?:\\.[^"\\]*)*"'


def value_after(key: bytes) -> re.Pattern[bytes]:
    """The string value of a ``"<key>":`` text (group 1 the text before the value); a key inside a string
    (its quote escaped) is none."""
    return re.compile(rb'(?<!\\)(' + key + rb')' + STRING)


def hide(raws: list[bytes], unmapped: pa.Array, needles: tuple[bytes, ...], pattern: re.Pattern[bytes],
         kinds: list[str | None], only: list[int] | None = None) -> tuple[list[bytes], pa.Array]:
    """``raws`` and ``unmapped`` (JSON object texts, one a finding) with each string ``pattern`` finds replaced
    by ``"[REDACTED:<kind>]"`` (``secret`` without a kind); only records holding one of ``needles`` are searched
    (of the rows ``only`` names, where given)."""
    rows = [i for i in (range(len(raws)) if only is None else only) if any(n in raws[i] for n in needles)]
    if not rows:
        return raws, unmapped
    out = list(raws)
    um = unmapped.to_pylist()
    for i in rows:
        mask = msgspec.json.encode(f"[REDACTED:{kinds[i] or 'secret'}]")
        out[i] = _masked(pattern, raws[i], mask)
        if um[i] is not None:
            um[i] = _masked(pattern, um[i].encode(), mask).decode()
    return out, pa.array(um, unmapped.type)


def _masked(pattern: re.Pattern[bytes], text: bytes, mask: bytes) -> bytes:
    return pattern.sub(lambda m: m.group(1) + mask, text)


_STRING = re.compile(STRING)
_OPENS = (ord("{"), ord(","))


def hide_keys(raws: list[bytes], unmapped: pa.Array, keys: tuple[bytes, ...],
              kinds: list[str | None]) -> tuple[list[bytes], pa.Array]:
    """:func:`hide` for secrets held by keys of compact JSON objects (``keys``: their texts with quotes and colon,
    ``b'"Secret":'``, the ones the document holds): each key's string value where ``{`` or ``,`` opens the key
    (inside a string a quote is escaped, so no such text is in one), as ``hide`` with
    ``rb'([{,](?:<keys>))' + STRING`` replaces them. The keys are found by ``bytes.find`` and their values matched
    in place (``re.sub`` tried its pattern at every ``{`` and ``,`` of a record: ~47k instructions a 600-byte
    gitleaks leak against ~12k)."""
    if not keys:
        return raws, unmapped
    masks: dict[str | None, bytes] = {}
    out: list[bytes] | None = None
    um: list[str | None] = []
    for i, raw in enumerate(raws):
        spans = _spans(raw, keys)
        if not spans:
            continue
        kind = kinds[i]
        mask = masks.get(kind)
        if mask is None:
            mask = masks[kind] = msgspec.json.encode(f"[REDACTED:{kind or 'secret'}]")
        if out is None:
            out, um = list(raws), unmapped.to_pylist()
        out[i] = _spliced(raw, spans, mask)
        if (text := um[i]) is not None:
            um[i] = _spliced(b := text.encode(), _spans(b, keys), mask).decode()
    return (raws, unmapped) if out is None else (out, pa.array(um, unmapped.type))


def _spans(text: bytes, keys: tuple[bytes, ...]) -> list[tuple[int, int]]:
    """Where the string value of each of ``keys`` lies in ``text`` (sorted)."""
    spans = []
    find, match = text.find, _STRING.match
    for key in keys:
        at = find(key, 1)
        while at > 0:
            start = at + len(key)
            if text[at - 1] in _OPENS and (m := match(text, start)) is not None:
                spans.append(m.span())
            at = find(key, start)
    if len(spans) > 1:
        spans.sort()
    return spans


def _spliced(text: bytes, spans: list[tuple[int, int]], mask: bytes) -> bytes:
    """``text`` with each of ``spans`` replaced by ``mask``."""
    parts: list[bytes] = []
    at = 0
    for start, end in spans:
        parts += (text[at:start], mask)
        at = end
    parts.append(text[at:])
    return b"".join(parts)
