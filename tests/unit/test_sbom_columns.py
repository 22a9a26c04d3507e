"""sbom: the Arrow-built columns equal the per-event Python rules they replaced."""

from __future__ import annotations

import itertools

import pyarrow as pa

from secpipe.formats.sbom import _message, _rate, _rated, _Rating, _Source


def _expected(vid: str | None, name: str | None, subject: str | None) -> str:
    """The message rule as written per event: the non-empty parts joined by " in ", the BOM
    subject left out when it is the package."""
    return " in ".join(x for x in (vid, name, subject if subject != name else None) if x)


def test_message_matches_the_python_rule_on_every_combination() -> None:
    values = [None, "", "CVE-1", "pkg", "app", "a in b"]
    combos = list(itertools.product(values, values))
    for subject in values:
        got = _message(pa.array([c[0] for c in combos], pa.string()), pa.array([c[1] for c in combos], pa.string()),
                       subject).to_pylist()  # fmt: skip
        want = [_expected(vid, name, subject) for vid, name in combos]
        assert got == want, subject


def test_rated_per_distinct_equals_per_vulnerability() -> None:
    nvd = _Source(name="nvd")
    distinct = [
        None,
        [_Rating(source=nvd, score=9.8, severity="critical", method="CVSSv31", vector="CVSS:3.1/AV:N")],
        [_Rating(severity="low"), _Rating(score=7.5, method="CVSSv2")],
        [_Rating(method="other", severity="Medium")],
    ]
    idx = [2, 0, 1, 1, 3, 2, 0]
    per_distinct = _rated([_rate(d) for d in distinct], pa.array(idx, pa.int32()))
    per_vuln = _rated([_rate(distinct[i]) for i in idx])
    assert per_distinct.keys() == per_vuln.keys()
    for k, col in per_vuln.items():
        assert per_distinct[k].equals(col), k
    assert per_vuln["sev_id"].to_pylist() == [4, 0, 5, 5, 3, 4, 0]
