"""Alertmanager-style routing tree and label matchers.

A route has ``match`` (label -> value or list of values, equality), ``match_re`` (label ->
regular expression, full match), an optional ``receiver`` (inherited from the parent when
absent), ``group_by`` / ``group_wait`` / ``group_interval`` / ``repeat_interval`` (inherited),
``continue`` and child ``routes``. Semantics follow Alertmanager: an alert enters the root;
at each node the children are tried in order; the first child that matches takes the alert
(and its subtree decides), and a matching child with ``continue: true`` lets the next
siblings be tried too. When no child matches, the node itself handles the alert.

``tags`` is a comma-joined list: a ``match`` on ``tags`` succeeds when any element equals a
wanted value. ``group_by: ["..."]`` groups by every label (one group per distinct label set);
``group_by: [fingerprint]`` gives every alert its own group (one notification per finding).
Route ids are stable paths (``root``, ``root.0``, ``root.0.1``) so persisted group state
survives a restart with the same config.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from secpipe.errors import ConfigError
from secpipe.respond.base import Alert

_DUR = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?\s*$")
_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0, None: 1.0}


def seconds(value: Any, path: str = "") -> float:
    """``30s``, ``5m``, ``4h``, ``1d``, ``250ms`` or a number of seconds -> float seconds."""
    if isinstance(value, int | float):
        return float(value)
    m = _DUR.match(str(value))
    if not m:
        raise ConfigError(path, f"{value!r} is not a duration — write e.g. 30s, 5m, 4h, 1d")
    return float(m.group(1)) * _UNITS[m.group(2)]


@dataclass
class Matcher:
    """Equality (set of values) and regex conditions on labels."""

    equal: dict[str, frozenset[str]] = field(default_factory=dict)
    regex: dict[str, re.Pattern[str]] = field(default_factory=dict)

    @classmethod
    def build(cls, match: dict[str, Any] | None, match_re: dict[str, str] | None, path: str) -> Matcher:
        """From config dicts; bad regexes name their key path."""
        eq = {}
        for k, v in (match or {}).items():
            vals = v if isinstance(v, list) else [v]
            eq[k] = frozenset(str(x) for x in vals)
        rx = {}
        for k, v in (match_re or {}).items():
            try:
                rx[k] = re.compile(str(v))
            except re.error as exc:
                msg = f"{path}.match_re.{k}"
                raise ConfigError(msg, f"bad regular expression: {exc} — fix the pattern") from None
        return cls(eq, rx)

    def matches(self, labels: dict[str, str]) -> bool:
        """True when every condition holds."""
        for k, want in self.equal.items():
            have = labels.get(k, "")
            if k == "tags":
                if not want.intersection(have.split(",")):
                    return False
            elif have not in want:
                return False
        return all(rx.fullmatch(labels.get(k, "")) for k, rx in self.regex.items())


@dataclass
class Route:
    """One node of the routing tree (inherited settings already resolved)."""

    id: str
    matcher: Matcher
    receiver: str
    group_by: tuple[str, ...]
    group_wait: float
    group_interval: float
    repeat_interval: float
    cont: bool = False
    playbooks: tuple[str, ...] = ()
    children: list[Route] = field(default_factory=list)

    def group_labels(self, alert: Alert) -> dict[str, str]:
        """The labels that name this alert's group on this route."""
        if self.group_by == ("...",):
            return dict(sorted(alert.labels.items()))
        return {k: alert.fingerprint if k == "fingerprint" else alert.labels.get(k, "") for k in self.group_by}


DEFAULTS = {"group_by": [], "group_wait": "30s", "group_interval": "5m", "repeat_interval": "4h"}


def build_route(raw: dict[str, Any], receivers: set[str], *, path: str = "route", rid: str = "root",
                parent: dict[str, Any] | None = None) -> Route:
    """Build (and check) a routing tree from config."""
    parent = parent or DEFAULTS
    eff = {k: raw.get(k, parent.get(k)) for k in ("receiver", "group_by", "group_wait", "group_interval",
                                                   "repeat_interval")}
    known = {"match", "match_re", "receiver", "group_by", "group_wait", "group_interval", "repeat_interval",
             "continue", "routes", "playbooks"}
    for k in raw:
        if k not in known:
            msg = f"{path}.{k}"
            raise ConfigError(msg, f"unknown key — one of: {', '.join(sorted(known))}")
    if not eff["receiver"]:
        msg = f"{path}.receiver"
        raise ConfigError(msg, "the root route needs a receiver")
    if eff["receiver"] not in receivers:
        msg = f"{path}.receiver"
        raise ConfigError(msg, f"unknown receiver {eff['receiver']!r} — known: {', '.join(sorted(receivers))}")
    node = Route(
        id=rid,
        matcher=Matcher.build(raw.get("match"), raw.get("match_re"), path),
        receiver=eff["receiver"],
        group_by=tuple(eff["group_by"] or ()),
        group_wait=seconds(eff["group_wait"], f"{path}.group_wait"),
        group_interval=seconds(eff["group_interval"], f"{path}.group_interval"),
        repeat_interval=seconds(eff["repeat_interval"], f"{path}.repeat_interval"),
        cont=bool(raw.get("continue", False)),
        playbooks=tuple(raw.get("playbooks") or ()),
    )
    for i, child in enumerate(raw.get("routes") or []):
        node.children.append(build_route(child, receivers, path=f"{path}.routes[{i}]", rid=f"{rid}.{i}", parent=eff))
    return node


def match_routes(root: Route, alert: Alert) -> list[Route]:
    """Every route that handles ``alert`` (Alertmanager's ``continue`` semantics)."""
    if not root.matcher.matches(alert.labels):
        return []
    return _descend(root, alert)


def _descend(node: Route, alert: Alert) -> list[Route]:
    out: list[Route] = []
    for child in node.children:
        if child.matcher.matches(alert.labels):
            out.extend(_descend(child, alert))
            if not child.cont:
                break
    return out or [node]


def all_routes(root: Route) -> list[Route]:
    """Every node, depth first."""
    out = [root]
    for c in root.children:
        out.extend(all_routes(c))
    return out
