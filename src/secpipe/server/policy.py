"""Who may do what: roles, permissions, and the permission each HTTP route requires.

Every route must have an explicit entry in :data:`ROUTE_POLICY` (``"public"`` for the few
that need no token); ``tests/`` walks every route x every role against this table, and a
route without an entry fails that test and is refused at startup.

Roles and their permissions:
- admin: everything.
- analyst: query, read findings, manage rules and silences, run playbooks, ingest.
- viewer: query (protected fields stay tokenized or masked), read findings.
- ingest: ingest only.
- auditor: read the audit log, query.
"""

from __future__ import annotations

PERMISSIONS = (
    "ingest", "query", "reveal", "findings.read", "rules.write", "silences.write",
    "playbooks.run", "config.write", "audit.read", "tokens.manage",
)  # fmt: skip

ROLES: dict[str, frozenset[str]] = {
    "admin": frozenset(PERMISSIONS),
    "analyst": frozenset({"ingest", "query", "findings.read", "rules.write", "silences.write", "playbooks.run"}),
    "viewer": frozenset({"query", "findings.read"}),
    "ingest": frozenset({"ingest"}),
    "auditor": frozenset({"audit.read", "query"}),
}

#: Permission marker of routes authenticated by a per-route shared secret or signature instead
#: of a token (GitHub ``X-Hub-Signature-256``, GitLab ``X-Gitlab-Token``): senders that cannot
#: send a bearer token. :func:`allowed` grants it to no role; the route checks the secret.
SECRET = "secret"

#: (method, path template) -> permission name, "public", or SECRET.
ROUTE_POLICY: dict[tuple[str, str], str] = {}


def allowed(role: str, permission: str) -> bool:
    """True when ``role`` holds ``permission`` (``public`` is allowed to all)."""
    return permission == "public" or permission in ROLES.get(role, frozenset())
