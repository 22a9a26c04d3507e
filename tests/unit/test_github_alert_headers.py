"""A GitHub alert payload delivered under another alert's ``X-GitHub-Event`` (a proxy or replay
tool that relabels deliveries) is still stored: never an exception out of the decoder, and
batches the lake can write (an alert that names nothing of the header's kind gets no empty
``vulnerabilities`` object, which Parquet cannot store).

Payloads: the octokit webhook examples in ../shared/data/real (octokit/webhooks, MIT).
"""

from __future__ import annotations

import io
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from secpipe import formats

ALERTS = ("code_scanning_alert", "dependabot_alert", "repository_vulnerability_alert", "secret_scanning_alert")


@pytest.mark.parametrize("header", ALERTS)
def test_alert_payloads_under_any_alert_header_are_stored(real: Path, header: str) -> None:
    fmt = formats.get("github")
    root = real / "octokit-webhooks/payload-examples/api.github.com"
    files = sorted(f for kind in ALERTS for f in (root / kind).glob("*.json"))
    assert len(files) >= 10
    for f in files:
        decoded = fmt.decode(f.read_bytes(), f"webhook:github-event={header}")
        assert decoded.events == 1, f
        assert not decoded.dead or all("alert" in d.reason or "event" in d.reason for d in decoded.dead), (f, decoded.dead)
        for batch in decoded.batches:
            pq.write_table(pa.Table.from_batches([batch]), io.BytesIO())  # what the lake does with it
        if f.parent.name == header:  # its own header: mapped as a finding with its vulnerability (or secret) named
            rows = [r for b in decoded.batches for r in b.to_pylist()]
            assert len(rows) == 1 and rows[0]["finding_info"]["uid"], f
