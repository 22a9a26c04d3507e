"""Who may do what: roles, permissions, and the permission each HTTP route requires.

Every route must have an explicit entry in :data:`ROUTE_POLICY` (``"public"`` for the few
that need no token); ``tests/`` walks every route x every role against this table, and a
route without an entry fails that test and is refused at startup.

Permissions:

=================  ===================================================================
ingest             send events (every ingest route)
query              SQL over the lake; results of sensitive fields stay masked/tokenized
query.sensitive    see sensitive fields and raw_data unmasked in query results
reveal             turn a reversible token (``tokr:``) back into its value (audited)
findings.read      read findings and alerts
rules.read         list detection rules
rules.write        add, change, delete detection rules
silences.read      list alert silences
silences.write     add, change, delete silences
playbooks.read     list playbooks and their runs
playbooks.write    add, change, delete playbooks
playbooks.run      run a playbook
config.read        read the running configuration
config.write       change configuration
audit.read         read and verify the audit log
tokens.manage      create, list, revoke API and ingest tokens; manage users
export             export data out of the lake
retention.manage   see and apply retention policies, set legal holds
metrics.read       scrape the pipeline's metrics (``GET /v1/metrics``)
=================  ===================================================================

Roles:

- **admin**: everything.
- **analyst**: ingest, query (unmasked), reveal, findings, rules/silences/playbooks read and
  write, run playbooks, read config, export, metrics.
- **viewer**: query (sensitive fields masked or tokenized, raw_data hidden), read findings,
  rules, silences and playbooks, scrape metrics. No changes.
- **ingest**: ingest only (per-source ingest tokens carry this role).
- **auditor**: read and verify the audit log, read config and retention, query (masked),
  scrape metrics.
"""

from __future__ import annotations

PERMISSIONS = (
    "ingest", "query", "query.sensitive", "reveal", "findings.read",
    "rules.read", "rules.write", "silences.read", "silences.write",
    "playbooks.read", "playbooks.write", "playbooks.run", "config.read", "config.write",
    "audit.read", "tokens.manage", "export", "retention.manage", "metrics.read",
)  # fmt: skip

ROLES: dict[str, frozenset[str]] = {
    "admin": frozenset(PERMISSIONS),
    "analyst": frozenset({
        "ingest", "query", "query.sensitive", "reveal", "findings.read", "rules.read", "rules.write",
        "silences.read", "silences.write", "playbooks.read", "playbooks.write", "playbooks.run", "config.read",
        "export", "metrics.read",
    }),  # fmt: skip
    "viewer": frozenset({"query", "findings.read", "rules.read", "silences.read", "playbooks.read", "metrics.read"}),
    "ingest": frozenset({"ingest"}),
    "auditor": frozenset({"audit.read", "query", "config.read", "metrics.read"}),
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
