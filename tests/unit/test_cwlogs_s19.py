"""CloudWatch Logs envelopes (session 19): detection of EKS audit envelopes whose first Event
opens with long annotations, ...

The Events are falcosecurity/falco's k8s_audit trace files (/work/shared/data/real); the
envelope is the documented subscription shape around them ("Using CloudWatch Logs subscription
filters").
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from secpipe import formats

T0 = 1765349740000


def _envelope(messages: list[str], group: str = "/aws/eks/dev/cluster", stream: str = "kube-apiserver-audit-0a1b") -> dict[str, Any]:
    return {"messageType": "DATA_MESSAGE", "owner": "123456789012", "logGroup": group, "logStream": stream,
            "subscriptionFilters": ["to-firehose"],
            "logEvents": [{"id": str(36000000000000000000000000000000000000000000000000000000 + i),
                           "timestamp": T0 + i, "message": m} for i, m in enumerate(messages)]}  # fmt: skip


def test_eks_envelope_detected_when_apiversion_is_past_the_head(real: Path) -> None:
    """An Event whose ``annotations`` come first (falco's replicaset trace) puts ``audit.k8s.io``
    past the sniffed 4 KiB; the envelope was detected as nothing (``json`` on the wire). Its
    keys are in the message, escaped: ``\\"auditID\\"``."""
    event = (real / "falco/test/trace_files/k8s_audit/create_deployment.json").read_text().splitlines()[0]
    body = json.dumps(_envelope([event] * 3)).encode()
    assert b"audit.k8s.io" not in body[:4096]
    assert formats.detect(body[:65536]).name == "k8s_audit"
    d = formats.get("k8s_audit").decode(body, "t")
    uids = [u for b in d.batches for u in b.to_pylist()]
    assert not d.dead and len(uids) == 3
    assert len({r["metadata"]["uid"] for r in uids}) == 1  # three copies of one Event: one identity
