"""How a SARIF run's rules and notifications were configured (for :mod:`.sarif`): their default levels and an
invocation's overrides of them (SARIF 2.1.0 §3.49.14, §3.50, §3.51, §3.20.5-§3.20.6).

A ``reportingDescriptor`` (a rule in a tool component's ``rules``, a notification in its ``notifications``) may give
a ``defaultConfiguration`` (§3.49.14: ``level``, ``enabled`` ...); an ``invocation`` may override it for that run with
``ruleConfigurationOverrides`` / ``notificationConfigurationOverrides`` (§3.20.5, §3.20.6), each a
``configurationOverride`` (§3.51) whose ``descriptor`` (a ``reportingDescriptorReference``, §3.52: ``index`` and/or
``id``, in the component its ``toolComponent`` names, §3.54: the driver when absent) names the descriptor and whose
``configuration`` replaces the default's properties it gives ("if any property of configuration is absent, the
corresponding property of theDescriptor.defaultConfiguration is respected", §3.51.3).

A result's or notification's effective level, when it gives none and its kind is ``fail`` (§3.27.10, §3.58.6): the
override's ``configuration.level`` in its invocation, else the descriptor's ``defaultConfiguration.level``, else
``warning``. A result's invocation is its ``provenance.invocationIndex`` (§3.48.6); a result naming none belongs to the
run's only invocation when it has one (with several, no override is known to apply to it); a notification's is the
invocation that lists it. ``configuration.enabled`` (whether the rule was checked for, §3.50.2) says nothing of a
level and changes none. Values are read leniently: a level that is not one of SARIF's four, a reference that is no
object, an index out of range names nothing (the log keeps them in ``raw_data``).

Disabled rules (``enabled: false``, §3.50.2: "whether the report may be produced during the scan", default true): a
result's rule is disabled when its invocation's override says ``enabled: false``, or says nothing of ``enabled``
and the rule's ``defaultConfiguration.enabled`` is false (§3.51.3: an override's absent property leaves the
default's; an override's ``enabled: true`` turns a rule disabled by default back on); a value that is no boolean
says nothing. Such a result is kept, never dropped: the log holds it, so the tool did report it (a disabled rule
that still fired, or a log merged or post-processed after the run), and dropping it would silently lose accepted
evidence. It is marked instead (:func:`disabled_rules`, :meth:`._sarif_run.RunCtx.disabled`): the rule that
produced it is one the configuration switched off, OCSF's ``finding_info.analytic.state_id`` 2 Suppressed ("a
user/customer has suppressed a particular detection signature"). Its level, severity and finding status are
unchanged: the result itself is not suppressed (§3.35 suppressions are a result's own), only its rule.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import msgspec

from secpipe.formats._sarif_model import Component, Rule

LEVELS = frozenset({"error", "warning", "note", "none"})
#: where a descriptor is: (tool component position, 0 the driver; index in its rules/notifications), or, for one known
#: only by its id, (tool component position, its id)
Key = tuple[int, int | str]


def _component(ref: Any, comps: list[Component]) -> int | None:
    """The position in ``[driver, *extensions]`` of the tool component a ``toolComponentReference`` (§3.54) names: its
    ``index`` into ``tool.extensions``, else its ``name``; the driver when the reference is absent; None for none."""
    if ref is None:
        return 0
    if not isinstance(ref, dict):
        return None
    idx = ref.get("index")
    if isinstance(idx, int) and not isinstance(idx, bool):
        return idx + 1 if 0 <= idx < len(comps) - 1 else None
    name = ref.get("name")
    if isinstance(name, str):
        return next((i for i, c in enumerate(comps) if c.name == name), None)
    return 0


def _descriptors(comp: Component, kind: str) -> list[Any]:
    got = comp.rules if kind == "rules" else comp.notifications
    return got if isinstance(got, list) else []


def _id(d: Any) -> Any:
    return d.id if isinstance(d, Rule) else d.get("id") if isinstance(d, dict) else None


def descriptor_key(ref: Any, comps: list[Component], kind: str) -> Key | None:
    """Where the descriptor a ``reportingDescriptorReference`` names is (``kind``: "rules" or "notifications"): its
    ``index`` in the component when valid, else the first descriptor there with its ``id``; a reference whose id
    names no descriptor there is kept by that id (a tool that lists no rules still names them by id)."""
    if not isinstance(ref, dict):
        return None
    ci = _component(ref.get("toolComponent"), comps)
    if ci is None:
        return None
    listed = _descriptors(comps[ci], kind)
    idx = ref.get("index")
    if isinstance(idx, int) and not isinstance(idx, bool) and 0 <= idx < len(listed):
        return ci, idx
    rid = ref.get("id")
    if not isinstance(rid, str) or not rid:
        return None
    return ci, next((i for i, d in enumerate(listed) if _id(d) == rid), rid)


def overrides(listed: Any, comps: list[Component], kind: str) -> dict[Key, str]:
    """One invocation's ``ruleConfigurationOverrides`` or ``notificationConfigurationOverrides``: descriptor -> the
    level its configuration gives (overrides without a level left out; the first of two for one descriptor wins)."""
    return _configured(listed, comps, kind, "level", lambda v: v in LEVELS)


def enabled_overrides(listed: Any, comps: list[Component], kind: str) -> dict[Key, bool]:
    """One invocation's configuration overrides: descriptor -> the ``enabled`` its configuration gives (overrides
    without a boolean ``enabled`` left out; the first of two for one descriptor wins)."""
    return _configured(listed, comps, kind, "enabled", lambda v: isinstance(v, bool))


def _configured(listed: Any, comps: list[Component], kind: str, name: str, valid: Callable[[Any], bool]) -> dict[Key, Any]:
    """descriptor -> its override's ``configuration[name]`` where ``valid`` takes it (the first for a descriptor wins)."""
    out: dict[Key, Any] = {}
    for o in listed if isinstance(listed, list) else ():
        if not isinstance(o, dict) or not isinstance(cfg := o.get("configuration"), dict):
            continue
        value = cfg.get(name)
        key = descriptor_key(o.get("descriptor"), comps, kind)
        if key is not None and valid(value):
            out.setdefault(key, value)
    return out


def default_enabled(rule: Any) -> bool | None:
    """A descriptor's ``defaultConfiguration.enabled`` (a :class:`Rule` or a descriptor read as a dict; None when it
    gives no boolean: ``Cfg`` lists ``enabled`` only where the model has it)."""
    cfg = rule.defaultConfiguration if isinstance(rule, Rule) else rule.get("defaultConfiguration") if isinstance(
        rule, dict) else None  # fmt: skip
    on = cfg.get("enabled") if isinstance(cfg, dict) else getattr(cfg, "enabled", None)
    return on if isinstance(on, bool) else None


def disabled_rules(keys: list[Key | None], defaults: list[bool | None], over: dict[Key, bool]) -> list[bool]:
    """Per rule (``keys``: where each is, ``defaults``: its ``defaultConfiguration.enabled``), whether it is disabled
    in an invocation whose overrides give ``over``: the override's ``enabled``, else the default's, else enabled."""
    out = []
    for key, default in zip(keys, defaults, strict=True):
        on = over.get(key) if key is not None and key in over else default
        out.append(on is False)
    return out


def default_level(key: Key | None, comps: list[Component], kind: str) -> str | None:
    """The ``defaultConfiguration.level`` of the descriptor at ``key`` (None when it gives none)."""
    if key is None or not isinstance(key[1], int):
        return None
    d = _descriptors(comps[key[0]], kind)[key[1]]
    if isinstance(d, Rule):
        level = d.defaultConfiguration.level if d.defaultConfiguration else None
    else:
        cfg = d.get("defaultConfiguration") if isinstance(d, dict) else None
        level = cfg.get("level") if isinstance(cfg, dict) else None
    return level if level in LEVELS else None


class _Provenance(msgspec.Struct, gc=False):
    invocationIndex: Any = None


class _Provenanced(msgspec.Struct, gc=False):
    provenance: Any = None


_PROVENANCE = msgspec.json.Decoder(list[_Provenanced])


def invocation_indexes(raws: list[bytes], invocations: int) -> list[int | None]:
    """Each result's invocation: its ``provenance.invocationIndex`` (§3.48.6) when that names one of the run's; else
    the run's only invocation when it has one; else None (several, and the result names none of them)."""
    alone = 0 if invocations == 1 else None
    if not any(b'"invocationIndex"' in r for r in raws):
        return [alone] * len(raws)
    out: list[int | None] = []
    for p in _PROVENANCE.decode(b"[" + b",".join(raws) + b"]"):
        got = p.provenance.get("invocationIndex") if isinstance(p.provenance, dict) else None
        ok = isinstance(got, int) and not isinstance(got, bool) and 0 <= got < invocations
        out.append(got if ok else alone)
    return out


__all__ = ["LEVELS", "Key", "default_enabled", "default_level", "descriptor_key", "disabled_rules", "enabled_overrides",
           "invocation_indexes", "overrides"]
