"""MITRE ATT&CK references as OCSF ``attack`` objects, shared by the producers of findings.

Sigma rules tag them ``attack.t1059.001`` / ``attack.execution``; Falco rules ``T1059`` /
``mitre_execution`` (:func:`attack_tags` turns Falco's into Sigma's). :func:`attacks_of` makes one
``attack`` a technique (the sub-technique's parent as ``technique``), each with the first tactic
tagged; tactics alone when no technique is tagged. Tactic ids and names: ATT&CK's.
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
    tactics, techniques = [], []
    for t in tags:
        t = t.lower()
        if not t.startswith("attack."):
            continue
        v = t[7:].replace("_", "-")
        if (key := v.replace(".", "-")) in TACTICS:  # old rules also wrote attack.Privilege.Escalation
            tactics.append({"uid": TACTICS[key][0], "name": TACTICS[key][1]})
        elif v[:1] == "t" and v[1:5].isdigit():
            techniques.append(v.upper())
    tactic = tactics[0] if tactics else None
    out = []
    for tech in techniques:
        base = tech.split(".")[0]
        out.append({"tactic": tactic, "technique": {"uid": base, "name": None},
                    "sub_technique": {"uid": tech, "name": None} if "." in tech else None})
    if not out and tactic:
        out = [{"tactic": t, "technique": None, "sub_technique": None} for t in tactics]
    return out


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
