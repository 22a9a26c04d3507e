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
