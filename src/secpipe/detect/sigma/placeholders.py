"""Placeholders of network ranges: ``field|cidr|expand: '%name%'``.

A rule may name its networks by a placeholder (SigmaHQ's ``rules-placeholder`` firewall rule
``net_firewall_tftp_config_exfil_from_management_segment``: ``src_ip|cidr|expand:
'%management_networks%'``): the modifiers appendix's ``expand`` stands for values the user
gives, ``cidr`` says they are networks. pySigma cannot read the pair (``cidr`` parses the value
as a network when the rule is parsed, before any pipeline could replace the placeholder, and
refuses to follow or precede another modifier), so the whole rule was refused as an invalid CIDR
expression. :func:`expand_cidr_placeholders` replaces such a placeholder before pySigma parses
the rule: by the values of the ``placeholders`` option (``{"management_networks":
["10.20.0.0/24"]}``) or of a pipeline's ``vars`` (where pySigma's ``value_placeholders`` takes
them) as plain ``cidr`` values, or, when it has none, by the same placeholder
without ``cidr``, which matches nothing and loads with the note the compiler gives every
placeholder without values (a value that is no network is refused as pySigma refuses it in a
plain ``cidr`` list).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

_PLACEHOLDER = re.compile(r"%([^%\s]+)%")


def expand_cidr_placeholders(doc: object, placeholders: Mapping[str, list[str]], notes: list[str]) -> bool:
    """Rewrite the ``cidr`` + ``expand`` items of one rule document; True when it changed.

    ``notes`` receives what was decided for values of several placeholders some of which have
    no values (those are left out: they match nothing).
    """
    det = doc.get("detection") if isinstance(doc, dict) else None
    if not isinstance(det, dict):
        return False
    changed = False
    for name, search in det.items():
        if name == "condition":
            continue
        for item in search if isinstance(search, list) else [search]:
            if isinstance(item, dict):
                changed |= _rewrite(item, placeholders, notes)
    return changed


def _rewrite(item: dict[str, Any], placeholders: Mapping[str, list[str]], notes: list[str]) -> bool:
    changed = False
    for key in list(item):
        field, *mods = str(key).split("|")
        if "cidr" not in mods or "expand" not in mods:
            continue
        values = item[key] if isinstance(item[key], list) else [item[key]]
        resolved: list[Any] = []
        missing: list[str] = []
        for value in values:
            m = _PLACEHOLDER.fullmatch(value) if isinstance(value, str) else None
            if m is None:
                resolved.append(value)
            elif m.group(1) in placeholders:
                resolved.extend(placeholders[m.group(1)])
            else:
                missing.append(value)
        kept = [mod for mod in mods if mod != "expand"]
        del item[key]
        if resolved:
            item["|".join([field, *kept])] = resolved
            if missing:
                notes.append(f"placeholder {', '.join(missing)} of {field}|cidr has no values: only the given "
                             f"networks are matched — give its values in the 'placeholders' option")
        else:  # no network given: the bare placeholder matches nothing (and the compiler says so)
            item["|".join([field, *(mod for mod in mods if mod != "cidr")])] = missing
        changed = True
    return changed
