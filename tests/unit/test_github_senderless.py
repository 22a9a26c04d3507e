"""GitHub webhook payloads that carry no ``sender`` are still recognized as GitHub.

Early ``code_scanning_alert`` deliveries had no sender (octokit/webhooks keeps such examples,
e.g. ``payload-examples/api.github.com/code_scanning_alert.reopened.payload.without-installation.json``).
The payload below is the visible octokit example with its ``sender`` removed, i.e. that shape.
"""

from __future__ import annotations

import json
from pathlib import Path

from secpipe.formats import detect
from secpipe.formats.github import GitHub


def test_code_scanning_alert_without_sender(real: Path) -> None:
    src = real / "octokit-webhooks/payload-examples/api.github.com/code_scanning_alert/reopened.payload.json"
    payload = json.loads(src.read_bytes())
    del payload["sender"]
    data = json.dumps(payload, indent="\t").encode()
    assert detect(data[:65536]).name == "github"
    dec = GitHub().decode(data, str(src))
    assert dec.dead == [] and dec.events == 1
    (row,) = [r for b in dec.batches for r in b.to_pylist()]
    assert row["class_uid"] == 2002  # a code-scanning alert is a vulnerability finding
