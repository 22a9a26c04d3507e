"""Falco rules' ATT&CK tags as OCSF ``attacks`` (session 28).

Falco's default rules tag their technique (``T1059``, a sub-technique ``T1552.001``) and tactic
(``mitre_execution``, ``mitre_credential_access``); they reached the lake only as
``finding_info.types`` words, so a query of Detection Findings by technique (``attacks``, which
Sigma findings fill) found no Falco alert. Alerts: the falco helm deployment's default rules on a
k8s node (2024-12-22), as a public Falco + OpenTelemetry walkthrough's ``kubectl logs`` shows them
(``output`` shortened, ``output_fields`` left out).
"""

from __future__ import annotations

import json

from secpipe.formats.falco import Falco

ALERTS = [
    {"hostname": "k8-worker-1", "output": "13:35:40.929908828: Notice A shell was spawned in a container with an attached terminal",
     "priority": "Notice", "rule": "Terminal shell in container", "source": "syscall",
     "tags": ["T1059", "container", "maturity_stable", "mitre_execution", "shell"], "time": "2024-12-22T13:35:40.929908828Z"},
    {"hostname": "k8-worker-1", "output": "13:35:59.412045659: Warning Grep private keys or passwords activities found",
     "priority": "Warning", "rule": "Search Private Keys or Passwords", "source": "syscall",
     "tags": ["T1552.001", "container", "filesystem", "host", "maturity_stable", "mitre_credential_access", "process"],
     "time": "2024-12-22T13:35:59.412045659Z"},
    {"hostname": "k8-worker-1", "output": "13:36:16.755414630: Warning Detected AWS credentials search activity",
     "priority": "Warning", "rule": "Find AWS Credentials", "source": "syscall",
     "tags": ["T1552", "aws", "container", "host", "maturity_stable", "mitre_credential_access", "process"],
     "time": "2024-12-22T13:36:16.755414630Z"},
    {"hostname": "k8-worker-1", "output": "an alert of a rule without ATT&CK tags", "priority": "Notice", "rule": "Custom",
     "source": "syscall", "tags": ["custom"], "time": "2024-12-22T13:36:17Z"},
]  # fmt: skip


def test_attack_tags_become_attacks() -> None:
    dec = Falco().decode("\n".join(json.dumps(a) for a in ALERTS).encode(), "test")
    assert dec.dead == []
    rows = [r for b in dec.batches for r in b.to_pylist()]
    shell, keys, aws, custom = rows
    assert shell["attacks"] == shell["finding_info"]["attacks"] == [
        {"tactic": {"uid": "TA0002", "name": "Execution"}, "technique": {"uid": "T1059", "name": None},
         "sub_technique": None}]  # fmt: skip
    (attack,) = keys["attacks"]
    assert attack["technique"]["uid"] == "T1552" and attack["sub_technique"]["uid"] == "T1552.001"
    assert attack["tactic"] == {"uid": "TA0006", "name": "Credential Access"}
    assert aws["attacks"][0]["technique"]["uid"] == "T1552" and aws["attacks"][0]["sub_technique"] is None
    assert custom.get("attacks") is None
    assert shell["finding_info"]["types"] == ["T1059", "container", "maturity_stable", "mitre_execution", "shell"]
