"""``Sbom.sniff`` rejects heads without its header words in one native search (session 20).

Every file ``secpipe ingest --format auto`` reads is asked by the sbom format (the only one
that can outscore a CloudTrail head), and its two ``in`` scans of a 64 KiB head cost ~70 us a
file. The quick reject (``_fast.contains_any`` of '"CycloneDX"' and '"SPDX') must answer as the
scans did: the same score for every head, with and without the native extension.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from secpipe import formats
from secpipe.formats import _fast

CASES = Path(__file__).resolve().parents[1] / "cases" / "sbom"


def _before(head: bytes) -> int:
    """Sbom.sniff until session 20."""
    if head.lstrip()[:1] != b"{":
        return 0
    if b'"CycloneDX"' in head and re.search(rb'"bomFormat"\s*:\s*"CycloneDX"', head):
        return 97 if b'"specVersion"' in head else 92
    if b'"SPDX' not in head:
        return 0
    spdx = re.search(rb'"spdxVersion"\s*:\s*"SPDX-2\.', head) is not None
    doc = re.search(rb'"SPDXID"\s*:\s*"SPDXRef-DOCUMENT"', head) is not None
    if spdx and b'"SPDXID"' in head:
        return 97
    return 92 if spdx else 90 if doc else 0


def _heads(real: Path) -> list[bytes]:
    heads = [p.read_bytes()[:65536] for p in sorted(CASES.iterdir()) if p.is_file() and p.suffix == ".json"]
    heads += [p.read_bytes()[:65536] for p in sorted((real / "panther-analysis" / "extracted").glob("*.json"))]
    heads += [p.read_bytes()[:65536] for p in sorted((real / "trivy").rglob("*.json"))][:20]
    made = [b'{"bomFormat": "CycloneDX", "specVersion": "1.5"}', b'{"bomFormat":"CycloneDX"}', b'{"x": "CycloneDX"}',
            b'{"spdxVersion": "SPDX-2.3", "SPDXID": "SPDXRef-DOCUMENT"}', b'{"SPDXID" : "SPDXRef-DOCUMENT"}',
            b'{"spdxVersion":"SPDX-2.2"}', b' \n {"a": "SPDX"}', b'{"a": "CycloneDX', b"{}", b"", b"  ", b"[1]",
            b'{"Records": [{"eventSource": "s3.amazonaws.com"}]}', b"x" * 70000 + b'"CycloneDX"']  # fmt: skip
    return heads + made + [b"{" + b" " * 60000 + h for h in made]


@pytest.mark.parametrize("native", [True, False])
def test_same_scores_as_before(real: Path, monkeypatch: pytest.MonkeyPatch, native: bool) -> None:
    if not native:
        monkeypatch.setattr(_fast, "_module", lambda: None)
    sbom = formats.get("sbom")
    heads = _heads(real)
    assert {_before(h) for h in heads} >= {0, 90, 92, 97}
    for h in heads:
        assert sbom.sniff(h) == _before(h), h[:80]
