"""Grouping, dedup and silences: alerts in, outbox rows out (Alertmanager's dispatcher).

:meth:`Dispatcher.ingest` routes alerts and records them in their groups (durable when it
returns). :meth:`Dispatcher.flush_due` is called by a timer thread (or by a test with an
injected clock) and, for every group whose time has come:

- a new group is first flushed ``group_wait`` after its first alert; later flushes happen
  every ``group_interval``;
- a notification is queued when the group has a firing alert not yet notified, or an alert
  that was notified firing and is now resolved (the "resolved" notification), or when
  ``repeat_interval`` has passed since the last notification while alerts still fire;
- repeats of an alert already notified (same fingerprint, same status) queue nothing: dedup;
- silenced alerts (an active silence whose matchers all hold) are left out; a group whose
  alerts are all silenced queues nothing;
- resolved alerts leave the group once told; a firing alert not seen again for
  ``resolve_timeout`` leaves quietly (the source never reported it clear, so no "resolved"
  is sent, and a one-shot detection does not repeat forever); an empty group is deleted.

Each queued notification goes to every channel queue of the route's receiver, plus one job
per playbook of the route for the newly firing alerts (``approval`` state when the playbook
requires approval). Queue rows and the group's new state commit in one transaction.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import orjson

from secpipe.respond.base import Alert, Notification
from secpipe.respond.outbox import Store
from secpipe.respond.router import Matcher, Route, all_routes, match_routes

Clock = Callable[[], float]


def group_key(route: Route, labels: dict[str, str]) -> str:
    """Stable text key of a group (its labels as sorted JSON)."""
    return orjson.dumps(labels, option=orjson.OPT_SORT_KEYS).decode()


def silence_matcher(s: dict[str, Any]) -> Matcher:
    """A stored silence's matchers -> Matcher (``match`` equality, ``match_re`` regexes)."""
    m = s["matchers"]
    return Matcher.build(m.get("match"), m.get("match_re"), f"silence {s.get('id', '')}")


class Dispatcher:
    """Routes alerts into groups and turns due groups into outbox rows."""

    def __init__(self, store: Store, root: Route, queues: dict[str, list[str]],
                 playbook_approval: dict[str, bool] | None = None, clock: Clock = time.time,
                 on_enqueue: Callable[[set[str]], None] | None = None, resolve_timeout: float = 86400.0) -> None:
        self.store = store
        self.root = root
        self.routes = {r.id: r for r in all_routes(root)}
        self.queues = queues
        self.playbook_approval = playbook_approval or {}
        self.clock = clock
        self.on_enqueue = on_enqueue
        self.resolve_timeout_ms = int(resolve_timeout * 1000)

    def _now_ms(self, now: float | None) -> int:
        return int((self.clock() if now is None else now) * 1000)

    def ingest(self, alerts: list[Alert], now: float | None = None) -> int:
        """Route and record alerts; returns how many group entries changed."""
        items = []
        for a in alerts:
            for r in match_routes(self.root, a):
                labels = r.group_labels(a)
                items.append((r.id, group_key(r, labels), r.receiver, labels, r.group_wait, a.to_dict()))
        if not items:
            return 0
        return self.store.upsert_alerts(items, self._now_ms(now))

    def flush_due(self, now: float | None = None) -> int:
        """Queue notifications for every due group; returns how many were queued."""
        now_ms = self._now_ms(now)
        silences = [silence_matcher(s) for s in self.store.silences(active_at=now_ms)]
        queued = 0
        woke: set[str] = set()
        due = self.store.due_groups(now_ms, scope=self.root.id)
        if not due:
            return 0
        with self.store.tx() as c:  # one commit for every due group
            for route_id, key, receiver, glabels, last_notify, last_sent in due:
                route = self.routes.get(route_id)
                if route is None:  # config changed: the route is gone, drop its state
                    c.execute("DELETE FROM alert_groups WHERE route=? AND group_key=?", (route_id, key))
                    c.execute("DELETE FROM group_alerts WHERE route=? AND group_key=?", (route_id, key))
                    continue
                c.execute("DELETE FROM group_alerts WHERE route=? AND group_key=? AND status='firing' AND updated_ms<?",
                          (route_id, key, now_ms - self.resolve_timeout_ms))  # stale: leave quietly
                rows = c.execute("SELECT alert FROM group_alerts WHERE route=? AND group_key=? ORDER BY fingerprint",
                                 (route_id, key)).fetchall()
                alerts = [Alert.from_dict(orjson.loads(r[0])) for r in rows]
                active = [a for a in alerts if not any(m.matches(a.labels) for m in silences)]
                sent = set(filter(None, last_sent.split(",")))
                firing = sorted(a.fingerprint for a in active if a.status == "firing")
                new = [fp for fp in firing if fp not in sent]
                told_resolved = [a for a in active if a.status == "resolved" and a.fingerprint in sent]
                repeat = bool(firing) and last_notify > 0 and now_ms - last_notify >= route.repeat_interval * 1000
                notify = bool(new) or bool(told_resolved) or repeat
                if notify:
                    alerts_out = [a for a in active if a.status == "firing"] + told_resolved
                    note = Notification(receiver, route_id, key, glabels, alerts_out, now_ms)
                    payload = note.to_dict()
                    for q in self.queues.get(receiver, []):
                        Store.insert(c, q, "notify", payload, now_ms)
                        woke.add(q)
                    if new:
                        fresh = Notification(receiver, route_id, key, glabels,
                                             [a for a in active if a.fingerprint in set(new)], now_ms).to_dict()
                        for pb in route.playbooks:
                            state = "approval" if self.playbook_approval.get(pb) else "pending"
                            Store.insert(c, f"playbook:{pb}", "playbook", {"playbook": pb, **fresh}, now_ms, state)
                            woke.add(f"playbook:{pb}")
                    queued += 1
                c.execute("DELETE FROM group_alerts WHERE route=? AND group_key=? AND status='resolved'", (route_id, key))
                left = c.execute("SELECT COUNT(*) FROM group_alerts WHERE route=? AND group_key=?",
                                 (route_id, key)).fetchone()[0]
                if left == 0:
                    c.execute("DELETE FROM alert_groups WHERE route=? AND group_key=?", (route_id, key))
                else:
                    still = [fp for fp in firing if fp in sent or notify]
                    c.execute("UPDATE alert_groups SET next_flush_ms=?, last_notify_ms=?, last_sent=? WHERE route=? AND"
                              " group_key=?", (now_ms + int(route.group_interval * 1000),
                                               now_ms if notify else last_notify, ",".join(still), route_id, key))
        if woke and self.on_enqueue:
            self.on_enqueue(woke)
        return queued
