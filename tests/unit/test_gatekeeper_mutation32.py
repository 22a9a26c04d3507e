"""Gatekeeper's mutation log lines (``--log-mutations``), session 32.

Gatekeeper's mutation webhook logs each mutation it applied to an admitted object (``event_type``
``mutation_applied``); the opa format took such a line for one of OPA's runtime log lines and left it
out (no event, no dead letter), and ``--format auto`` dead-lettered it ('no format matched'). Input:
tests/cases/runtime32/gatekeeper-mutation-lines.jsonl (SOURCES.md: written from Gatekeeper's source), beside
the real violation lines of tests/cases/runtime27.
"""

from __future__ import annotations

import json
from pathlib import Path

from secpipe import formats
from secpipe.schema.conformance import check_rows
from tests.unit.holdout_support import auto_decoded

CASES = Path(__file__).resolve().parents[1] / "cases"
MUTATIONS = CASES / "runtime32" / "gatekeeper-mutation-lines.jsonl"


def test_mutation_lines_are_api_activity_on_the_object(tmp_path: Path) -> None:
    d = auto_decoded(MUTATIONS.read_bytes(), tmp_path, "opa")
    assert not d.dead and d.events == 2  # the controller's own log line is no event
    [batch] = d.batches
    applied, refused = rows = batch.to_pylist()
    # as for Gatekeeper's admission lines (test_ocsf_conformance.ALLOWED): OCSF's cloud profile (api_activity's
    # api) asks for a cloud, its required src_endpoint for a name or uid, a webhook's log names neither
    assert set(check_rows("api_activity", rows)) == {
        "required cloud missing", "src_endpoint constraint at_least_one ['name', 'uid'] none present"}
    assert (applied["activity_name"], applied["status"], applied["api"]["operation"]) == (
        "Update", "Success", "mutation.mutation_applied")
    assert applied["resources"] == [{"type": "Pod", "name": "nginx-7c5ddbdf54-", "namespace": "default"}]
    assert applied["metadata"]["product"]["name"] == "Gatekeeper" and applied["time"] == 1700000000123
    assert applied["metadata"]["correlation_uid"] == "2c8e4ad2-2c3f-4c6b-9e53-3f4e8b1a9d10"  # the object's mutation-id
    kept = json.loads(applied["unmapped"])
    assert kept["iteration_0"].startswith("Assign//k8spspdefaultallowprivilegeescalation:1")
    assert kept["resource_source_type"] == "Original" and kept["resource_labels"]["app"] == "nginx"
    assert (refused["status"], refused["status_detail"]) == ("Failure", "Mutation not converging")
    assert json.loads(refused["unmapped"])["iteration_1"] == "Assign//unset-replicas:2"


def test_mutations_beside_violations_in_one_stream() -> None:
    body = (CASES / "runtime27" / "gatekeeper-violation-lines.jsonl").read_bytes() + MUTATIONS.read_bytes()
    d = formats.get("opa").decode(body, "t")
    assert not d.dead
    classes = sorted(r["class_name"] + ":" + (r["metadata"]["event_code"] or "") for b in d.batches for r in b.to_pylist())
    assert classes == ["API Activity:mutation_applied", "API Activity:mutation_applied", "API Activity:violation",
                       "Compliance Finding:violation_audited"]


def test_a_node_container_log_of_the_opa_and_gatekeeper_pods_is_read() -> None:
    # /var/log/containers/*.log under containerd / CRI-O: each line behind the runtime's "<time> <stream> <F|P> "
    # header (kubelet's parseCRILog; formats._cri): Gatekeeper's real violation lines and these mutation lines
    lines = ((CASES / "runtime27" / "gatekeeper-violation-lines.jsonl").read_bytes() + MUTATIONS.read_bytes()).splitlines()
    body = b"".join(b"2024-05-07T18:54:19.%09dZ stderr F %s\n" % (i, line) for i, line in enumerate(lines))
    assert formats.detect(body) is formats.get("opa")
    d = formats.get("opa").decode(body, "t")
    assert not d.dead and d.events == 4  # the controller's own log line is no event
