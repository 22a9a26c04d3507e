"""Playbooks: automated responses triggered by routes (HTTP request, command, resource tag).

A playbook (YAML, under ``playbooks:`` of the alert stage or in ``playbooks_file``)::

    disable-user:
      approval_required: true     # jobs wait in state "approval" until approved (CLI/API)
      dry_run: false              # true: render and audit, never execute
      concurrency: 2              # worker threads for this playbook
      rate_per_minute: 10         # token bucket shared by those threads
      actions:
        - {type: http, method: POST, url: "https://idp.example/users/{{ labels.actor }}/disable",
           header_envs: {Authorization: IDP_TOKEN}, body: {reason: "{{ labels.rule }}"}}
        - {type: command, argv: ["/usr/local/bin/isolate", "{{ labels.resource }}"], timeout_seconds: 30}
        - {type: tag, url_env: TAGGER_URL, labels: {quarantine: "true", finding: "{{ fingerprint }}"}}

A route lists playbook names under ``playbooks:``; every newly firing alert of a notified
group becomes one job (an outbox row on queue ``playbook:<name>``), run once per alert.

Templating: ``{{ path }}`` reads ``fingerprint``, ``status``, ``labels.X``, ``annotations.X``,
``route``, ``receiver``, ``playbook``. Values are escaped for where they land: percent-encoded
in URLs, JSON-encoded in bodies (templates are filled inside the parsed YAML tree, then
serialized), and one argv element each for commands (no shell ever; a value can never add
or split arguments, and a value starting with ``-`` is refused so it cannot pass as an option).
A missing value is a terminal error (the job is dead-lettered with the reason).

Guarantees: every execution (and every dry run) is written to the audit log with what ran
(playbook, action, method, target without query string, argv), when, why (route, rule,
fingerprint, approver) and the result (HTTP status, exit code, error). Jobs are delivered
at-least-once like notifications, so actions should be idempotent (disable, tag, upsert).
An execution whose audit entry cannot be written (disk full) fails as a retryable delivery
error: the job runs again later, until an execution is audited (never a silent, unaudited
action, and never a job dead-lettered as "cannot run" for an action that did run).
"""

from __future__ import annotations

import os
import re
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

import httpx
import orjson
import yaml

from secpipe.errors import ConfigError, TerminalError
from secpipe.respond.base import (
    DeliveryError,
    DeliveryRejected,
    http_client,
    post_json,
    resolve_secret,
    scrub,
)
from secpipe.respond.outbox import Row

_TPL = re.compile(r"\{\{\s*([A-Za-z0-9_.\-]+)\s*\}\}")
ACTION_TYPES = ("http", "command", "tag")


class TemplateError(TerminalError):
    """A template names a value the alert does not have."""


@dataclass
class Playbook:
    """One validated playbook."""

    name: str
    actions: list[dict[str, Any]]
    dry_run: bool = False
    approval_required: bool = False
    concurrency: int = 1
    rate_per_minute: float = 60.0
    burst: int = 5
    max_attempts: int = 5
    extra: dict[str, Any] = field(default_factory=dict)


def load_playbooks(inline: dict[str, Any] | None, file: str | None, path: str) -> dict[str, Playbook]:
    """Playbooks from config and/or a YAML file, checked (types, required keys)."""
    raw: dict[str, Any] = dict(inline or {})
    if file:
        p = Path(file)
        if not p.is_file():
            msg = f"{path}.playbooks_file"
            raise ConfigError(msg, f"file not found: {p} — give a YAML file of playbooks")
        loaded = yaml.safe_load(p.read_text(encoding="utf-8")) or {}
        if not isinstance(loaded, dict):
            msg = f"{path}.playbooks_file"
            raise ConfigError(msg, "must be a mapping of playbook name -> playbook")
        raw.update(loaded.get("playbooks", loaded))
    out = {}
    known = {"actions", "dry_run", "approval_required", "concurrency", "rate_per_minute", "burst", "max_attempts",
             "description"}
    for name, spec in raw.items():
        where = f"{path}.playbooks.{name}"
        if not isinstance(spec, dict) or not spec.get("actions"):
            raise ConfigError(where, "a playbook needs a non-empty `actions` list")
        for k in spec:
            if k not in known:
                msg = f"{where}.{k}"
                raise ConfigError(msg, f"unknown key — one of: {', '.join(sorted(known))}")
        for i, act in enumerate(spec["actions"]):
            t = act.get("type") if isinstance(act, dict) else None
            if t not in ACTION_TYPES:
                msg = f"{where}.actions[{i}].type"
                raise ConfigError(msg, f"one of: {', '.join(ACTION_TYPES)}")
            if t == "command" and (not isinstance(act.get("argv"), list) or not act["argv"]):
                msg = f"{where}.actions[{i}].argv"
                raise ConfigError(msg, "give the command as a list: [program, arg, ...]")
            if t in ("http", "tag") and not (act.get("url") or act.get("url_env") or act.get("url_file")):
                msg = f"{where}.actions[{i}]"
                raise ConfigError(msg, "give url (may be templated), url_env or url_file")
        out[name] = Playbook(name, list(spec["actions"]), bool(spec.get("dry_run", False)),
                             bool(spec.get("approval_required", False)), max(1, int(spec.get("concurrency", 1))),
                             float(spec.get("rate_per_minute", 60)), int(spec.get("burst", 5)),
                             int(spec.get("max_attempts", 5)))
    return out


def lookup(ctx: dict[str, Any], path: str) -> str:
    """A context value by dotted path; TemplateError when absent."""
    cur: Any = ctx
    for part in path.split("."):
        if not isinstance(cur, dict) or part not in cur:
            msg = f"template value {{{{ {path} }}}} is missing for this alert — fix the playbook or the route's match"
            raise TemplateError(msg)
        cur = cur[part]
    return cur if isinstance(cur, str) else orjson.dumps(cur).decode()


def render(text: str, ctx: dict[str, Any], escape: Any = None) -> str:
    """Fill ``{{ path }}`` placeholders (each value passed through ``escape``)."""
    return _TPL.sub(lambda m: (escape or str)(lookup(ctx, m.group(1))), text)


def render_tree(value: Any, ctx: dict[str, Any]) -> Any:
    """Fill templates in every string of a YAML tree (keys included); JSON encoding escapes later."""
    if isinstance(value, str):
        return render(value, ctx)
    if isinstance(value, dict):
        return {render(str(k), ctx): render_tree(v, ctx) for k, v in value.items()}
    if isinstance(value, list):
        return [render_tree(v, ctx) for v in value]
    return value


def render_argv(argv: list[Any], ctx: dict[str, Any]) -> list[str]:
    """One argv element per template element; substituted values may not start with ``-``."""

    def safe(v: str) -> str:
        if v.startswith("-") or "\0" in v:
            msg = f"refusing value {v[:40]!r} in a command argument: it starts with '-' or holds NUL"
            raise TemplateError(msg)
        return v

    return [render(str(a), ctx, safe) for a in argv]


def _target(url: str) -> str:
    """A URL without query string or credentials, for the audit log."""
    p = urlsplit(url)
    return f"{p.scheme}://{p.hostname or ''}{':' + str(p.port) if p.port else ''}{p.path}"


class Executor:
    """Runs one playbook's jobs (the delivery worker's handler for ``playbook:<name>``)."""

    def __init__(self, playbook: Playbook, data_dir: Path, tls: dict[str, Any] | None, audit: Any) -> None:
        self.pb = playbook
        self.data_dir = data_dir
        self.client = http_client(tls, 15.0)
        self.audit = audit

    def close(self) -> None:
        """Release the HTTP connections."""
        self.client.close()

    def __call__(self, row: Row) -> str:
        """Execute every action for every alert of the job; returns a short result note."""
        job = row.payload
        results = []
        for alert in job.get("alerts", []):
            ctx = {**alert, "route": job.get("route", ""), "receiver": job.get("receiver", ""), "playbook": self.pb.name}
            for i, act in enumerate(self.pb.actions):
                results.append(self._run(act, i, ctx, row))
        return "; ".join(results)[:500]

    def _why(self, ctx: dict[str, Any], row: Row) -> dict[str, Any]:
        return {"route": ctx.get("route"), "rule": ctx.get("labels", {}).get("rule"), "fingerprint": ctx.get("fingerprint"),
                "job": row.id, "approved_by": row.payload.get("approved_by")}

    def _run(self, act: dict[str, Any], i: int, ctx: dict[str, Any], row: Row) -> str:
        kind = act["type"]
        what: dict[str, Any] = {"playbook": self.pb.name, "action": i, "type": kind}
        try:
            if kind == "command":
                argv = render_argv(act["argv"], ctx)
                what["argv"] = argv
                if self.pb.dry_run:
                    return self._audit(what, ctx, row, "dry-run")
                try:
                    proc = subprocess.run(argv, shell=False, capture_output=True, check=False,
                                          timeout=float(act.get("timeout_seconds", 60)),
                                          env={"PATH": os.environ.get("PATH", "/usr/bin:/bin")})
                except OSError as exc:  # the program cannot be started (not the audit write below)
                    self._audit(what, ctx, row, f"error: {exc.strerror}")
                    msg = f"playbook {self.pb.name} action {i}: cannot run {act.get('argv', [''])[0]!r}: {exc.strerror}"
                    raise DeliveryRejected(msg) from None
                result = f"exit {proc.returncode}"
                self._audit(what, ctx, row, result, stderr=proc.stderr.decode(errors="replace")[-300:])
                if proc.returncode != 0:
                    msg = f"playbook {self.pb.name} action {i}: command {result}"
                    raise DeliveryError(msg)
                return result
            url = self._url(act, ctx)
            method = str(act.get("method", "POST")).upper()
            body: Any
            if kind == "tag":
                body = {"resource": {k: ctx.get("labels", {}).get(k) for k in ("resource", "resource_type", "namespace",
                                                                                 "repository", "image", "account")},
                        "labels": render_tree(act.get("labels") or {}, ctx), "fingerprint": ctx.get("fingerprint")}
            else:
                body = render_tree(act.get("body"), ctx) if act.get("body") is not None else None
            what.update(method=method, target=_target(url))
            if self.pb.dry_run:
                return self._audit(what, ctx, row, "dry-run", body=body)
            headers = {str(k): render(str(v), ctx) for k, v in (act.get("headers") or {}).items()}
            for name, env in (act.get("header_envs") or {}).items():
                headers[str(name)] = os.environ.get(str(env), "")
            try:
                if method == "POST":
                    resp = post_json(self.client, url, orjson.dumps(body), headers, f"playbook {self.pb.name}")
                else:
                    from secpipe.respond.base import check_status

                    resp = self.client.request(method, url, content=orjson.dumps(body) if body is not None else None,
                                               headers={"content-type": "application/json", **headers})
                    check_status(resp, f"playbook {self.pb.name}", url)
            except (DeliveryError, DeliveryRejected) as exc:
                self._audit(what, ctx, row, f"error: {scrub(str(exc), url)}")
                raise
            except httpx.HTTPError as exc:  # transport errors on non-POST requests
                self._audit(what, ctx, row, f"error: {type(exc).__name__}")
                msg_0 = f"playbook {self.pb.name}: {type(exc).__name__}: {scrub(str(exc), url)}"
                raise DeliveryError(msg_0) from None
            return self._audit(what, ctx, row, f"HTTP {resp.status_code}")
        except TemplateError as exc:
            self._audit(what, ctx, row, f"error: {exc}")
            raise
        except subprocess.TimeoutExpired:
            self._audit(what, ctx, row, "error: timeout")
            msg = f"playbook {self.pb.name} action {i}: command timed out"
            raise DeliveryError(msg) from None

    def _url(self, act: dict[str, Any], ctx: dict[str, Any]) -> str:
        if act.get("url"):
            return render(str(act["url"]), ctx, lambda v: quote(v, safe=""))
        return resolve_secret(act, "url", f"playbooks.{self.pb.name}") or ""

    def _audit(self, what: dict[str, Any], ctx: dict[str, Any], row: Row, result: str, **more: Any) -> str:
        try:
            self.audit(self.data_dir, "system", "playbook.run", what=what, why=self._why(ctx, row), result=result,
                       dry_run=self.pb.dry_run, **more)
        except OSError as exc:  # disk full: the run is not audited, so it counts as not done
            msg = (f"playbook {self.pb.name} action {what['action']}: the audit log could not be written "
                   f"({exc.strerror}) — free space on the data disk; the job is retried")
            raise DeliveryError(msg) from exc
        return result
