"""GitHub webhooks from one native pass: the scan plan, the scanner and the views built from it.

Webhook payloads are ~10 KB, so byte-proportional work dominates. With the native extension each
payload is read by one native pass (``native/src/github.rs``, ``HookScanner``), one call a payload so
that whatever else reads it finds it in the CPU cache: its top-level keys (event inference), every
field of the typed view ``_Hook`` (the spec, and the Python code that builds the view from the values,
are written out from the msgspec structs: :func:`_scan_plan`), ``unmapped`` in document order (the
entries the mapping does not place, copied as they lie straight into the column of the payload's batch:
``HookScanner.rest_into``, no bytes object a payload) and the SHA-256 of ``metadata.uid`` (made
with the next payload's, two SHA-NI streams interleaved: ``native/src/sha_x2.rs``). A kept NDJSON
document's lines are scanned where they lie, the scan being their check (``scan_checked``), and
found by it too (``scan_line``: the walk ends where a line's object does; no pass over the document
for the lines' bounds first).

:mod:`secpipe.formats.github` maps a generically mapped type straight from the scan's values
(``_github_map.generic_scanned``; a payload whose key layout and template values were seen before by the
row kept under the scan's template id, ``HookScanner.template``: one dict lookup of a small int; in a kept
document the scanner itself holds that row, ``HookScanner.keep``, and answers such a line with it and its time,
its ``unmapped`` written into the batch's column: ``scan_kept``), a pull request's from the scan's values of ``pull_request``
(``_github_map.pull_request_scanned``); the other types get the typed view of the fields their mapping reads
built from them (:func:`view_of`) and run their mapping, whose ``unmapped`` comes from the scan's spans
(:class:`_ScannedTop`). No payload is then read by msgspec but alerts (their view has lists of
structs and floats the scan does not read), records the scan declines (a duplicate or escaped key, a
value of another type than the view's, surrogate escapes, deep nesting: it decides nothing msgspec
could decide otherwise) and everything without the extension: that msgspec path (top-level raw map +
typed view) is the reference the tests compare with.

Where the time goes (``bench/formats_cicd_bench.py --steps``, the octokit corpus mix, one core,
session 30): a decode ~26 us a payload (10.3 KB on average); the scan ~10.7 of it (SHA-256 ~4, the
walk and check ~4-6), the per-payload Python ~5-6, the batches ~6 (raw_data and unmapped copied into
Arrow ~2.5). Payloads of the generically mapped types take 17.5 us (8.3 KB on average), the others
36.9 (13.4 KB). The measurements and what was tried, session by session: ``docs/performance.md``
("GitHub webhooks").
"""

from __future__ import annotations

import functools
import re
import threading
from typing import Any

import msgspec
import msgspec.inspect as mi

from secpipe.formats import _cicd as c
from secpipe.formats import _fast
from secpipe.formats import _github_map as m
from secpipe.formats._github_views import _TYPED_PRIMARY, _Hook, _Times
from secpipe.formats.base import uid_prefix


def _scan_fields(struct: Any, prefix: str, spec: list[tuple[str, str]], code: list[str]) -> str:
    """Append the scan spec of ``struct``'s fields under ``prefix`` to ``spec`` and return the
    Python expression building the struct from the scan's values ``v`` (by spec index): the
    typed view msgspec would decode, for a payload the scan read (see :func:`_scan_view`)."""
    args = []
    for f in msgspec.structs.fields(struct):
        path = f"{prefix}{f.encode_name}"
        info = mi.type_info(f.type)
        kinds = [t for t in (info.types if isinstance(info, mi.UnionType) else (info,)) if not isinstance(t, mi.NoneType)]
        k = len(spec)
        if len(kinds) == 1 and isinstance(kinds[0], mi.StructType):
            spec.append((path, "o"))
            inner = _scan_fields(kinds[0].cls, path + ".", spec, code)
            args.append(f"({inner} if v[{k}] else None)")
        elif len(kinds) == 2 and isinstance(kinds[0], mi.StructType) and isinstance(kinds[1], mi.StrType):
            spec.append((path, "U"))  # an object or a string (``workflow``)
            inner = _scan_fields(kinds[0].cls, path + ".", spec, code)
            args.append(f"({inner} if v[{k}] is True else v[{k}])")
        elif len(kinds) == 1 and isinstance(kinds[0], mi.ListType) and isinstance(kinds[0].item_type, mi.RawType):
            spec.append((path, "n"))  # read for its length alone (``commits``): the items are not kept
            args.append(f"(None if v[{k}] is None else [None] * v[{k}])")
        else:
            kind = _SCALAR_MODES.get(tuple(map(type, kinds)))
            if kind is None:
                msg = f"{path}: no scan mode for {f.type}"
                raise TypeError(msg)
            if kind == "A" and (f.name == "id" or f.name.endswith("_id")):
                kind = "a"  # an id, only ever read through c.sid: its decimal text does
            spec.append((path, kind))
            args.append(f"v[{k}]")
    name = f"_S{len(code)}"
    code.append(name)
    _SCAN_TYPES[name] = struct
    return f"{name}({', '.join(args)})"


_SCAN_TYPES: dict[str, Any] = {}
_SCALAR_MODES: dict[tuple[type, ...], str] = {(mi.StrType,): "s", (mi.BoolType,): "B", (mi.IntType,): "i", (mi.AnyType,): "A",
                                              # a TimeField as a string: a payload with an epoch number there is
                                              # irregular to the scan, so msgspec's typed view reads it
                                              (mi.StrType, mi.FloatType): "s", (mi.FloatType, mi.StrType): "s"}


def _scan_plan() -> tuple[list[tuple[str, str]], dict[str, str], frozenset[str]]:
    """(spec of the native scan, the expression of each ``_Hook`` field it reads, made from its
    values (:func:`_build_source`), _Hook fields it does not read): every field of ``_Hook`` the
    scan has a mode for, ``m.SCAN_HEAD`` first (``generic_scanned`` unpacks it); the main objects
    (``_Primary``) by their times."""
    spec: list[tuple[str, str]] = []
    code: list[str] = []
    args: dict[str, str] = {}
    unchecked = set()
    hook = {f.name: f for f in msgspec.structs.fields(_Hook)}
    head = list(dict.fromkeys(p.split(".", 1)[0] for p, _ in m.SCAN_HEAD))
    for name in [*head, *(f for f in hook if f not in head)]:
        k = len(spec)
        if name in _TYPED_PRIMARY:
            spec += [(name, "P"), (f"{name}.updated_at", "A"), (f"{name}.submitted_at", "A"), (f"{name}.created_at", "A"),
                     (f"{name}.completed_at", "A"), (f"{name}.started_at", "A")]  # fmt: skip
            args[name] = f"(_Times(v[{k + 1}], v[{k + 3}], v[{k + 2}], v[{k + 4}], v[{k + 5}]) if v[{k}] else None)"
            continue
        sub = list(spec)
        try:
            inner = _scan_fields(msgspec.defstruct("_One", [(name, hook[name].type, None)]), "", sub, code)
        except TypeError:
            unchecked.add(name)
            continue
        spec = sub
        args[name] = inner[inner.index("(") + 1 : -1]  # the one field's expression
        if name == head[-1]:
            assert spec == list(m.SCAN_HEAD), "m.SCAN_HEAD is not what the scan reads of those objects"
    return spec, args, frozenset(unchecked)


def _build_source(args: dict[str, str]) -> str:
    """Source of a builder of the typed view from the scan's values: each ``_Hook`` field from
    its expression in ``args``, None for the others."""
    body = ", ".join(args.get(f, "None") for f in _Hook.__struct_fields__)
    return f"def build(v):\n    return _Hook({body})\n"


def _builder(source: str) -> Any:
    """The typed view builder made from ``source`` (written out from the struct definitions by
    :func:`_scan_plan`: one call, no per-field loop, for each payload)."""
    scope = {**_SCAN_TYPES, "_Times": _Times, "_Hook": _Hook}
    exec(source, scope)  # noqa: S102 - code made from this module's own struct definitions
    return scope["build"]


_SCAN_SPEC, _SCAN_ARGS, _SCAN_UNCHECKED = _scan_plan()
_HEAD = len(m.SCAN_HEAD)  # the values ``HookScanner.scan_head`` returns (the rest stay with the scanner)
_scan_view = _builder(_build_source(_SCAN_ARGS))
#: spec index of each main object (its times follow it)
_TIME_SLOT = {k: n for n, (k, mode) in enumerate(_SCAN_SPEC) if mode == "P"}
#: spec values ``start..stop`` of each top-level field of the typed view the scan reads
_FIELD_SLOTS = {name: (n, n + sum(1 for k, _ in _SCAN_SPEC[n:] if k == name or k.startswith(name + ".")))
                for n, (name, _) in enumerate(_SCAN_SPEC) if "." not in name}  # fmt: skip
_HEAD_FIELDS = frozenset(p.split(".", 1)[0] for p, _ in m.SCAN_HEAD)


@functools.cache
def _view_plan(fields: tuple[str, ...]) -> tuple[int, int, Any]:
    """(start, stop, builder) of :func:`view_of`: the builder makes the typed view with the head's objects from the
    values ``v`` of ``scan_head`` and ``fields`` from the spec values ``start..stop`` (``w``), every other field None
    (made once for each set of fields: a few event types' mappings)."""
    start = min((_FIELD_SLOTS[f][0] for f in fields), default=0)
    stop = max((_FIELD_SLOTS[f][1] for f in fields), default=0)
    body = []
    for f in _Hook.__struct_fields__:
        if f in _HEAD_FIELDS:
            body.append(_SCAN_ARGS[f])
        elif f in fields:
            body.append(re.sub(r"v\[(\d+)\]", lambda x: f"w[{int(x.group(1)) - start}]", _SCAN_ARGS[f]))
        else:
            body.append("None")
    src = f"def build(v, w):\n    return _Hook({', '.join(body)})\n"
    assert all(int(k) < _HEAD for k in re.findall(r"\bv\[(\d+)\]", src)), "the head's objects are read from scan_head's values"
    return start, stop, _builder(src)


def view_of(scanner: Any, v: tuple[Any, ...], fields: tuple[str, ...]) -> _Hook:
    """The typed view of the payload ``scanner`` read last (``_scan_view``'s), but only the head's objects and
    ``fields`` set, the others None (``m.VIEW_READS``: what its mapping reads; a payload mapped from its view is of
    a type with a mapping of its own, or one whose main object is no ``_Primary`` field, see ``github._route``): the
    spec values of those fields alone are taken from the scanner (a tuple of a few, not ~190), and only their
    structs made."""
    start, stop, build = _view_plan(fields)
    return build(v, scanner.slots(start, stop) if stop > start else ())  # type: ignore[no-any-return]


#: spec range of ``pull_request`` (``m.PR_SCAN``: what ``m.pull_request_scanned`` reads)
_PR_RANGE = _FIELD_SLOTS["pull_request"]
assert tuple(k for k, _ in _SCAN_SPEC[slice(*_PR_RANGE)]) == m.PR_SCAN, "m.PR_SCAN is not what the scan reads of pull_request"
_SCAN_DROP = [k.encode() for k in sorted(m._COMMON)]
_SCAN_PREFIX = uid_prefix("github")


def _scanner() -> Any:
    """This thread's native scanner (``_columnar.HookScanner``), made once a thread: it keeps
    the last record it read for :class:`_ScannedTop`, so threads decoding at once (a file
    source and the HTTP route) must not share one; None without the extension."""
    mod = _fast._module()
    if mod is None or not hasattr(mod.HookScanner, "sink_open"):  # (an extension built before it: the msgspec path)
        return None
    got = getattr(_SCANNERS, "scanner", None)
    if got is None or got[0] is not mod:
        scanner = mod.HookScanner(_SCAN_PREFIX, _SCAN_DROP, _SCAN_SPEC)
        if hasattr(scanner, "template"):  # the head values then end with a template id (``github._from_scan``)
            scanner.template(list(m.TEMPLATE_SLOTS))
        got = _SCANNERS.scanner = (mod, scanner)
    return got[1]


_SCANNERS = threading.local()


class _Probe:
    """What :func:`infer_event` reads of a typed view: the action, and the alert (decoded) or None."""

    __slots__ = ("action", "alert")

    def __init__(self, action: str | None, alert: Any = None) -> None:
        self.action = action
        self.alert = alert


_LATER: Any = object()  # (a _ScannedTop's unmapped the scan did not make)


class _ScannedTop:
    """The top-level map of the payload the scanner read last, as the mappings use it
    (``m._unmapped``, :func:`_primary_time`): ``unmapped`` without more keys, and a key's raw
    value, from the scan's spans (no dict of raw values)."""

    __slots__ = ("keys", "raw", "rest", "scanner")

    def __init__(self, scanner: Any, raw: bytes, keys: frozenset[str], rest: Any = _LATER) -> None:
        """``rest``: the scan's ``unmapped`` when it made it (else asked of the scanner when needed)."""
        self.scanner, self.raw, self.keys, self.rest = scanner, raw, keys, rest

    def get(self, key: str) -> memoryview | None:
        """The raw JSON value of ``key`` (None when absent)."""
        span = self.scanner.span(key) if key in self.keys else None
        return None if span is None else memoryview(self.raw)[span[0] : span[1]]

    def unmapped(self, more: tuple[str, ...], add: dict[str, Any] | None) -> bytes | list[str] | None:
        """``m._unmapped`` of this payload: the top-level keys but the common ones and ``more``; without ``add``,
        those keys ``more`` as a list: the caller (``github._map``) writes the scan's entries but those into the
        batch's column (``HookScanner.rest_into``: no bytes object made, no second copy)."""
        if not add:
            return list(more)
        if not self.keys.isdisjoint(add):  # an added key would replace a value in place
            return m._unmapped(c.TOP.decode(self.raw), *more, add=add)
        rest = self.scanner.rest(list(more)) if more and not self.keys.isdisjoint(more) else self.rest
        if rest is _LATER:
            rest = self.rest = self.scanner.rest([])
        tail = m._ENC(add)
        return tail if rest is None else rest[:-1] + b"," + tail[1:]
