"""MITRE ATT&CK references as OCSF ``attack`` objects, shared by the producers of findings.

Sigma rules tag them ``attack.t1059.001`` / ``attack.execution``; Falco rules ``T1059`` /
``mitre_execution`` (:func:`attack_tags` turns Falco's into Sigma's). An OCSF ``attack`` holds one
tactic and one technique (its ``tactics`` list is deprecated since 1.1.0), so :func:`attacks_of`
makes one per (tactic, technique) pair the tags name: a rule tagged ``attack.persistence``,
``attack.privilege-escalation``, ``attack.t1543.003`` is both tactics' T1543.003 (the tags do
not say which technique goes with which tactic; ATT&CK lists most techniques a rule names under
each of its tactics). The sub-technique's parent is the ``technique``; tactics alone when no
technique is tagged, techniques alone when no tactic is. Tactic ids and names: ATT&CK's (a tactic
tagged twice under two names, ``defense-evasion`` and its v19 ``stealth``, counts once).
"""

from __future__ import annotations

from typing import Any

import pyarrow as pa

TACTICS = {
    "reconnaissance": ("TA0043", "Reconnaissance"), "resource-development": ("TA0042", "Resource Development"),
    "initial-access": ("TA0001", "Initial Access"), "execution": ("TA0002", "Execution"),
    "persistence": ("TA0003", "Persistence"), "privilege-escalation": ("TA0004", "Privilege Escalation"),
    "defense-evasion": ("TA0005", "Defense Evasion"), "credential-access": ("TA0006", "Credential Access"),
    "discovery": ("TA0007", "Discovery"), "lateral-movement": ("TA0008", "Lateral Movement"),
    "collection": ("TA0009", "Collection"), "command-and-control": ("TA0011", "Command and Control"),
    "exfiltration": ("TA0010", "Exfiltration"), "impact": ("TA0040", "Impact"),
    # ATT&CK v19 split Defense Evasion: TA0005 is now Stealth, TA0112 Defense Impairment (SigmaHQ
    # rules since 2026 tag attack.stealth / attack.defense-impairment)
    "stealth": ("TA0005", "Stealth"), "defense-impairment": ("TA0112", "Defense Impairment"),
}  # fmt: skip
_UID = pa.struct([("uid", pa.string()), ("name", pa.string())])
_ATTACK = pa.struct([("tactic", _UID), ("technique", _UID), ("sub_technique", _UID)])
ATTACKS = pa.list_(_ATTACK)


def attacks_of(tags: list[str]) -> list[dict[str, Any]]:
    """ATT&CK tags (attack.tXXXX[.YYY], attack.<tactic>) -> OCSF attack objects."""
    tactics: dict[str, dict[str, str]] = {}  # uid -> the first tactic tagged with it
    techniques: dict[str, None] = {}
    for t in tags:
        t = t.lower()
        if not t.startswith("attack."):
            continue
        v = t[7:].replace("_", "-")
        if (key := v.replace(".", "-")) in TACTICS:  # old rules also wrote attack.Privilege.Escalation
            tactics.setdefault(TACTICS[key][0], {"uid": TACTICS[key][0], "name": TACTICS[key][1]})
        elif v[:1] == "t" and v[1:5].isdigit():
            techniques[v.upper()] = None
    heads: list[dict[str, str] | None] = [*tactics.values()] or [None]
    out = [{"tactic": tactic, "technique": {"uid": tech.split(".")[0], "name": None},
            "sub_technique": {"uid": tech, "name": None} if "." in tech else None}
           for tech in techniques for tactic in heads]
    return out or [{"tactic": t, "technique": None, "sub_technique": None} for t in tactics.values()]


def attack_tags(tags: list[str]) -> list[str]:
    """Falco's ATT&CK tags (``T1059``, ``T1552.001``, ``mitre_execution``) in Sigma's form
    (``attack.t1059``, ``attack.execution``); other tags are left out."""
    out = []
    for t in tags:
        if t[:1] in "Tt" and t[1:5].isdigit():
            out.append(f"attack.{t}")
        elif t[:6].lower() == "mitre_":
            out.append(f"attack.{t[6:]}")
    return out
