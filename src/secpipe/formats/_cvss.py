"""The base score of a CVSS v3.0 / v3.1 vector, for scanners that give the vector alone (OSV records).

OCSF's ``cvss`` requires ``base_score``; an OSV record's ``severity[]`` entry of type ``CVSS_V3``
holds only the vector. The base score is a function of the vector's eight base metrics, defined by
FIRST's specification (CVSS v3.1 §7.1 and Appendix A's Roundup; v3.0 §8.1 rounds up to one decimal
directly), so it is computed here, not invented. A vector that lacks a base metric or holds an
unknown value has no score (None). CVSS v2 and v4 vectors are not scored here.
"""

from __future__ import annotations

import functools
import math

_AV = {"N": 0.85, "A": 0.62, "L": 0.55, "P": 0.2}
_AC = {"L": 0.77, "H": 0.44}
_PR = {"N": (0.85, 0.85), "L": (0.62, 0.68), "H": (0.27, 0.5)}  # (scope unchanged, scope changed)
_UI = {"N": 0.85, "R": 0.62}
_CIA = {"H": 0.56, "L": 0.22, "N": 0.0}


def _roundup31(x: float) -> float:
    """CVSS v3.1 Appendix A's Roundup: the smallest one-decimal number >= x, free of float error."""
    i = round(x * 100_000)
    return i / 100_000.0 if i % 10_000 == 0 else (math.floor(i / 10_000) + 1) / 10.0


@functools.lru_cache(maxsize=4096)
def base_score(vector: str) -> tuple[str, float] | None:
    """(version ``3.0``/``3.1``, base score) of a ``CVSS:3.x/...`` vector, or None."""
    head, _, rest = vector.partition("/")
    if head not in ("CVSS:3.0", "CVSS:3.1"):
        return None
    m = dict(part.split(":", 1) for part in rest.split("/") if ":" in part)
    try:
        changed = {"U": False, "C": True}[m["S"]]
        iss = 1 - (1 - _CIA[m["C"]]) * (1 - _CIA[m["I"]]) * (1 - _CIA[m["A"]])
        exploit = 8.22 * _AV[m["AV"]] * _AC[m["AC"]] * _PR[m["PR"]][changed] * _UI[m["UI"]]
    except KeyError:
        return None
    impact = 7.52 * (iss - 0.029) - 3.25 * (iss - 0.02) ** 15 if changed else 6.42 * iss
    version = head[5:]
    if impact <= 0:
        return version, 0.0
    raw = min(1.08 * (impact + exploit) if changed else impact + exploit, 10.0)
    return version, _roundup31(raw) if version == "3.1" else math.ceil(raw * 10) / 10


__all__ = ["base_score"]
