"""``Sbom.sniff`` rejects heads without its header words in one native search (session 20).

Every file ``secpipe ingest --format auto`` reads is asked by the sbom format (the only one
that can outscore a CloudTrail head), and its two ``in`` scans of a 64 KiB head cost ~70 us a
file. The quick reject (``_fast.contains_any`` of '"CycloneDX"' and '"SPDX') must answer as the
scans did: the same score for every head, with and without the native extension.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from secpipe import formats
from secpipe.formats import _fast

CASES = Path(__file__).resolve().parents[1] / "cases" / "sbom"


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
def test_same_scores_as_without_the_quick_reject(real: Path, monkeypatch: pytest.MonkeyPatch, native: bool) -> None:
    sbom = formats.get("sbom")
    heads = _heads(real)
    with monkeypatch.context() as m:  # the sniff as it was before: no quick reject, only its scans
        m.setattr(_fast, "contains_any", lambda _head, _needles: True)
        before = [sbom.sniff(h) for h in heads]
    assert set(before) >= {0, 90, 92, 97}
    if not native:
        monkeypatch.setattr(_fast, "_module", lambda: None)
    for h, want in zip(heads, before, strict=True):
        assert sbom.sniff(h) == want, h[:80]
