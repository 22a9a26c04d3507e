"""Shared text for channel messages: the facts every message shows, cut to channel limits."""

from __future__ import annotations

from secpipe.respond.base import Notification


def clip(text: str, limit: int) -> str:
    """``text`` cut to ``limit`` characters (ellipsis when cut)."""
    return text if len(text) <= limit else text[: max(0, limit - 1)] + "…"


def facts(n: Notification) -> list[tuple[str, str]]:
    """(name, value) pairs: severity, rule, resource, alert count, class, product, repository/account/cluster."""
    a = (n.firing or n.alerts)[0]
    lab = a.labels
    out = [("Severity", n.top_severity), ("Rule", lab.get("rule") or lab.get("title") or "-"),
           ("Resource", lab.get("resource") or lab.get("image") or lab.get("repository") or "-"),
           ("Alerts", f"{len(n.firing)} firing, {len(n.alerts) - len(n.firing)} resolved")]
    for k in ("class", "product", "repository", "account", "cluster", "namespace"):
        if lab.get(k) and (k != "repository" or out[2][1] != lab[k]):
            out.append((k.capitalize(), lab[k]))
    return out


def summary(n: Notification, limit: int = 5) -> list[str]:
    """One line per alert (first ``limit``), e.g. ``[critical] Rule — summary``."""
    lines = []
    for a in n.alerts[:limit]:
        s = a.annotations.get("summary") or a.labels.get("title") or a.fingerprint
        mark = "RESOLVED " if a.status == "resolved" else ""
        lines.append(f"{mark}[{a.labels.get('severity', 'unknown')}] {s}")
    if len(n.alerts) > limit:
        lines.append(f"… and {len(n.alerts) - limit} more")
    return lines


def evidence(n: Notification) -> tuple[str, str]:
    """(link, query) for the evidence of the first alert ('' when absent)."""
    a = (n.firing or n.alerts)[0]
    return str(a.annotations.get("link") or ""), str(a.annotations.get("evidence_query") or "")
