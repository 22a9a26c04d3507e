"""sbom: the Arrow-built columns equal the per-event Python rules they replaced."""

from __future__ import annotations

import itertools

import pyarrow as pa

from secpipe.formats._sbom_batch import message as _message
from secpipe.formats._sbom_vulns import Rating as _Rating
from secpipe.formats._sbom_vulns import Source as _Source
from secpipe.formats._sbom_vulns import rate as _rate
from secpipe.formats._sbom_vulns import rated as _rated


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


def test_finding_uid_and_identity_follow_the_python_rules() -> None:
    """finding_info.uid is ``<id or bom-ref>|<ref>`` (the id alone without a ref; a vulnerability
    with neither id nor bom-ref reads "None", as the per-event f-string wrote it)."""
    import json

    from secpipe.formats import get

    vulns = [{"id": "CVE-1", "affects": [{"ref": "a"}, {"ref": "b"}]}, {"bom-ref": "v2", "id": "", "affects": [{"ref": "a"}]},
             {"affects": [{"ref": "a"}]}, {"id": "CVE-4"}, {"bom-ref": "v5"}]  # fmt: skip
    bom = {"bomFormat": "CycloneDX", "specVersion": "1.5", "serialNumber": "urn:uuid:1",
           "metadata": {"timestamp": "2024-05-01T10:00:00Z", "component": {"bom-ref": "app", "name": "app"}},
           "components": [{"bom-ref": "a", "name": "a", "version": "1"}], "vulnerabilities": vulns}  # fmt: skip
    out = get("sbom").decode(json.dumps(bom).encode(), "s")
    batch = out.batches[0]
    fi = batch.column("finding_info").flatten()
    names = [f.name for f in batch.column("finding_info").type]
    uids = fi[names.index("uid")].to_pylist()
    assert uids == ["CVE-1|a", "CVE-1|b", "v2|a", "None|a", "CVE-4", "v5"]
    assert len(set(batch.column("metadata").field("uid").to_pylist())) == 6
