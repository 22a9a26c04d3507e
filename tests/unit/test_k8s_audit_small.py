"""A few Kubernetes audit events a decode call (``_k8s_small``) against the columnar path.

The webhook backend POSTs small EventLists, which the HTTP route decodes one a call: up to
``SMALL_ROWS`` events are mapped value by value. The same batches and dead letters as the
columnar path (``k8s_audit.SMALL_ROWS`` set to 0 sends every batch there), compared on the real
samples (Panther's k8s audit events, Falco's trace files) one, two, three and sixteen events a
call, on the mutated records of test_k8s_audit_native.py by threes, and on OpenShift OAuth logins
(which the columnar path keeps). The Arrow buffers may differ only in an all-valid column's
validity bitmap (a constant ``base_columns`` made, kept or not) and in an event's receipt time.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from secpipe.formats import _k8s_small, get, k8s_audit
from secpipe.formats.base import Decoded
from tests.unit.native_support import assert_same_decoded
from tests.unit.test_k8s_audit_native import _HANDMADE, _events, _mutants

pytestmark = pytest.mark.skipif(os.environ.get("SECPIPE_NATIVE") == "0", reason="native path turned off")

FMT = get("k8s_audit")


def _both(docs: list[bytes], monkeypatch: pytest.MonkeyPatch) -> list[tuple[Decoded, Decoded]]:
    small = [FMT.decode(d, f"doc{n}") for n, d in enumerate(docs)]
    with monkeypatch.context() as m:
        m.setattr(k8s_audit, "SMALL_ROWS", 0)
        columnar = [FMT.decode(d, f"doc{n}") for n, d in enumerate(docs)]
    return list(zip(small, columnar, strict=True))


def test_real_events_few_a_call_same_as_columnar(real: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    lines = [json.dumps(e).encode() for e in _events(real)]
    assert len(lines) >= 150
    docs = [b"\n".join(lines[i : i + k]) for k in (1, 2, 3, 16) for i in range(0, len(lines), k)]
    taken = 0
    for doc, (a, b) in zip(docs, _both(docs, monkeypatch), strict=True):
        assert_same_decoded(a, b, doc[:300])
        taken += len(a.batches)
    assert taken == len(docs)


def test_small_path_taken(real: Path) -> None:
    """One real event a call is mapped by ``_k8s_small`` (no Arrow kernel a field)."""
    calls = []
    real_api_activity = _k8s_small.api_activity

    def spy(*args):  # type: ignore[no-untyped-def]
        out = real_api_activity(*args)
        calls.append(out is not None)
        return out

    _k8s_small.api_activity = spy  # type: ignore[assignment]
    try:
        FMT.decode((real / "falco/test/trace_files/k8s_audit/create_deployment.json").read_bytes(), "one")
    finally:
        _k8s_small.api_activity = real_api_activity  # type: ignore[assignment]
    assert calls == [True]


def test_mutated_records_by_threes_same_as_columnar(real: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    mutants = _mutants(_events(real), seed=13, count=300) + _HANDMADE
    docs = [b"\n".join(mutants[i : i + 3]) for i in range(0, len(mutants), 3)] + mutants
    for doc, (a, b) in zip(docs, _both(docs, monkeypatch), strict=True):
        assert_same_decoded(a, b, doc[:300])


def test_oauth_logins_stay_columnar(monkeypatch: pytest.MonkeyPatch) -> None:
    """OpenShift OAuth server logins (its audit log) are split off by the columnar path: the same batches."""
    ann = {"authentication.openshift.io/decision": "deny", "authentication.openshift.io/username": "kube:admin"}
    login = {"kind": "Event", "apiVersion": "audit.k8s.io/v1", "level": "Metadata", "auditID": "a1", "stage": "ResponseComplete",
             "requestURI": "/oauth/authorize?client_id=console", "verb": "get", "user": {"username": "system:anonymous"},
             "sourceIPs": ["10.0.0.9"], "requestReceivedTimestamp": "2024-05-01T10:00:00.000000Z", "annotations": ann}  # fmt: skip
    other = dict(login, auditID="a2", annotations={"authorization.k8s.io/decision": "allow"})
    docs = [json.dumps(login).encode(), json.dumps(login).encode() + b"\n" + json.dumps(other).encode()]
    for doc, (a, b) in zip(docs, _both(docs, monkeypatch), strict=True):
        assert_same_decoded(a, b, doc)
    assert len(FMT.decode(docs[1], "mixed").batches) == 2  # the login (Authentication) and API Activity
