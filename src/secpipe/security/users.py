"""Users: named principals with one role; their API tokens carry that role.

Stored in ``<data>/state/users.json`` (mode 0600) as {name, role, created}. Tokens are
made for a user (``secpipe tokens create --user alice``) and take the user's role; changing
a user's role changes the role of all their tokens, removing a user revokes them. Ingest
tokens for a source (``secpipe tokens create --ingest --source fluentbit-prod``) belong to
no user and can only ingest. Every change is audited.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

import orjson

from secpipe.errors import SecpipeError
from secpipe.security import audit
from secpipe.server.auth import TokenStore
from secpipe.server.policy import ROLES
from secpipe.store._durable import write_file_atomic


class UserError(SecpipeError):
    """A user operation that cannot be done (unknown user or role, duplicate)."""


def check_role(role: str) -> str:
    """``role`` if it exists, else UserError naming the roles."""
    if role not in ROLES:
        msg = f"unknown role {role!r} — one of: {', '.join(ROLES)}"
        raise UserError(msg)
    return role


class UserStore:
    """Users of one data directory."""

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = Path(data_dir)
        self.path = self.data_dir / "state" / "users.json"
        self.tokens = TokenStore(self.data_dir)
        self._lock = threading.Lock()

    def _read(self) -> dict[str, dict[str, Any]]:
        return {u["name"]: u for u in orjson.loads(self.path.read_bytes())} if self.path.exists() else {}

    def _write(self, users: dict[str, dict[str, Any]]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        doc = orjson.dumps(sorted(users.values(), key=lambda u: u["name"]), option=orjson.OPT_INDENT_2)
        write_file_atomic(self.path, doc, self.path.with_suffix(".tmp"), 0o600)

    def list(self) -> list[dict[str, Any]]:
        """Every user."""
        return sorted(self._read().values(), key=lambda u: u["name"])

    def get(self, name: str) -> dict[str, Any]:
        """One user; UserError when unknown."""
        users = self._read()
        if name not in users:
            msg = f"no user {name!r} — add it with `secpipe users add {name} --role ROLE`"
            raise UserError(msg)
        return users[name]

    def add(self, name: str, role: str, actor: str) -> dict[str, Any]:
        """Create a user."""
        check_role(role)
        with self._lock:
            users = self._read()
            if name in users:
                msg = f"user {name!r} exists — use `secpipe users set-role`"
                raise UserError(msg)
            users[name] = {"name": name, "role": role, "created": time.time()}
            self._write(users)
        audit.record(self.data_dir, actor, "user.create", user=name, role=role)
        return users[name]

    def set_role(self, name: str, role: str, actor: str) -> int:
        """Change a user's role (and their tokens'); returns tokens changed."""
        check_role(role)
        with self._lock:
            users = self._read()
            self.get(name)
            old = users[name]["role"]
            users[name]["role"] = role
            self._write(users)
        n = self.tokens.set_role(name, role)
        audit.record(self.data_dir, actor, "user.role", user=name, old_role=old, role=role, tokens=n)
        return n

    def remove(self, name: str, actor: str) -> int:
        """Delete a user and revoke their tokens; returns tokens revoked."""
        with self._lock:
            users = self._read()
            self.get(name)
            del users[name]
            self._write(users)
        revoked = [t.id for t in self.tokens.list() if t.name == name]
        for tid in revoked:
            self.tokens.revoke(tid)
        audit.record(self.data_dir, actor, "user.delete", user=name, tokens_revoked=len(revoked))
        return len(revoked)

    def create_token(self, *, user: str | None = None, name: str | None = None, role: str | None = None,
                     source: str | None = None, actor: str) -> str:
        """A new token (shown once): for a user (their role) or an ingest token for a source."""
        if user is not None:
            role = self.get(user)["role"]
            name = user
        elif source is not None:
            role, name = "ingest", name or f"ingest:{source}"
        else:
            check_role(role or "")
        assert name is not None and role is not None
        tok = self.tokens.create(name, role, source)
        tid = tok.split("_", 2)[1]
        audit.record(self.data_dir, actor, "token.create", token_id=tid, name=name, role=role, source=source)
        return tok

    def revoke_token(self, tid: str, actor: str) -> bool:
        """Revoke a token by id."""
        found = self.tokens.revoke(tid)
        audit.record(self.data_dir, actor, "token.revoke", token_id=tid, found=found)
        return found
