"""Elasticsearch's ``filter_path`` response filtering, for the ES-compatible API.

Filebeat and Logstash send every ``_bulk`` with ``?filter_path=errors,items.*.error,items.*.status``
and read only what is left: ``errors``, then per item its ``status`` and ``error``. The
rules are Elasticsearch's (``common-options.html#common-options-response-filtering``):

- a comma-separated list of dotted paths; a response keeps only the fields on those paths;
- ``*`` matches any part of a field name (``items.*.st*``), ``**`` any number of levels;
- arrays are transparent: the path names the fields of their elements;
- a path with a leading ``-`` removes the fields it names (applied after the inclusions);
- objects and arrays left empty are dropped; nothing left at all answers ``{}``.

:func:`compile_filter` parses a spec once (cached, shippers send the same one every time)
and :func:`apply_filter` runs it over a JSON-like value without touching the original.
"""

from __future__ import annotations

import fnmatch
from functools import lru_cache
from typing import Any

_GONE = object()  # a value the filter removed entirely

Patterns = tuple[tuple[str, ...], ...]


@lru_cache(maxsize=64)
def compile_filter(spec: str) -> tuple[Patterns, Patterns]:
    """The include and exclude paths of a ``filter_path`` value, each split on dots."""
    parts = [p.strip() for p in spec.split(",") if p.strip()]
    include = tuple(tuple(p.split(".")) for p in parts if not p.startswith("-"))
    exclude = tuple(tuple(p[1:].split(".")) for p in parts if p.startswith("-") and len(p) > 1)
    return include, exclude


def _matches(name: str, pattern: str) -> bool:
    return pattern == name or ("*" in pattern and fnmatch.fnmatchcase(name, pattern))


def _advance(key: str, patterns: Patterns) -> list[tuple[str, ...]]:
    """What remains of each pattern after stepping into field ``key``."""
    out: list[tuple[str, ...]] = []
    for p in patterns:
        head = p[0]
        if head == "**":
            rest = p[1:]
            out.append(p)  # ``**`` goes on matching deeper levels
            if not rest:
                out.append(())
            elif _matches(key, rest[0]):
                out.append(rest[1:])
        elif _matches(key, head):
            out.append(p[1:])
    return out


def _include(value: Any, patterns: Patterns) -> Any:
    if any(not p for p in patterns):
        return value
    if isinstance(value, list):
        kept = [v for v in (_include(x, patterns) for x in value) if v is not _GONE]
        return kept if kept else _GONE
    if not isinstance(value, dict):
        return _GONE
    out = {}
    for key, v in value.items():
        sub = _advance(key, patterns)
        if sub:
            r = _include(v, tuple(sub))
            if r is not _GONE:
                out[key] = r
    return out if out else _GONE


def _exclude(value: Any, patterns: Patterns) -> Any:
    if any(not p for p in patterns):
        return _GONE
    if isinstance(value, list):
        return [v for v in (_exclude(x, patterns) for x in value) if v is not _GONE]
    if not isinstance(value, dict):
        return value
    out = {}
    for key, v in value.items():
        sub = _advance(key, patterns)
        if not sub:
            out[key] = v
            continue
        r = _exclude(v, tuple(sub))
        if r is not _GONE:
            out[key] = r
    return out


def apply_filter(value: Any, spec: str) -> Any:
    """``value`` with only the fields ``spec`` (a ``filter_path``) keeps; ``{}`` when none."""
    include, exclude = compile_filter(spec)
    out = _include(value, include) if include else value
    if exclude and out is not _GONE:
        out = _exclude(out, exclude)
    return {} if out is _GONE else out
