"""Columnar GitHub webhook mapping: one native pass per payload (see ``formats.github``).

Design: ``_fast.extract`` walks each payload once for every typed path of the msgspec view
(``github._HookBase``) plus the times of the generically mapped types' main objects, and in
the same pass hashes it for ``metadata.uid`` and copies it for ``raw_data``. One Python pass
over the batch then reads each payload's top-level raw map (msgspec, in C) for what the walker
cannot give: the top-level keys (event-type inference) and ``unmapped`` in document order (the
walker sorts extra keys). API Activity payloads (every type without a specific mapping, push and
pull_request*: most of the traffic) are then mapped with pyarrow.compute over the columns;
payloads of the other types take the per-record mappers (``_github_map``) for those rows only.
Values are turned into ids and times once per distinct value (or by a vectorized fast path for
the common forms, checked by a round trip).

Used with ``SECPIPE_GITHUB_COLUMNAR=1`` (``GitHub.map_records``): measured, it is not faster than
the per-record path (the msgspec top map and the ``unmapped`` re-encoding stay; see the speed
notes of ``formats.github``); it is the structure a native top-level key-span walk would plug into.

Guarantees: the same batches and dead letters as the per-record path (``GitHub.map_each``):
tests compare both over the real samples, mutated payloads and the benchmark corpus.
:func:`map_native` declines (returns False having emitted nothing) when the walker does (no
extension, an irregular record) or when a value it read as raw JSON would fail msgspec's typed
view (a ``workflow`` of another type, a CVSS score that is not a number, a number out of range):
the per-record path then decodes the batch and dead-letters exactly the bad records.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import msgspec
import msgspec.inspect as mi
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from secpipe.formats import _cicd as c
from secpipe.formats import _fast
from secpipe.formats import _github_map as m
from secpipe.formats import github as g
from secpipe.formats.base import DeadLetter, Decoded, Records, const, string_column

API = "api_activity"
GENERIC, PUSH, PR, EACH = 0, 1, 2, 3  # how a row is mapped: columnar (generic, push, pull request) or per record
_PR_EVENTS = frozenset({"pull_request", "pull_request_review", "pull_request_review_comment", "pull_request_review_thread"})
#: types mapped generically when this object is missing (``_github_map._safe``)
_MAIN = {"workflow_run": "workflow_run", "workflow_job": "workflow_job", "secret_scanning_alert": "alert",
         "code_scanning_alert": "alert", "dependabot_alert": "alert", "repository_vulnerability_alert": "alert"}  # fmt: skip
#: top-level keys the mapping of each columnar kind places (beside the common ones)
_MORE: dict[int, tuple[str, ...]] = {GENERIC: (), PUSH: ("ref", "after", "pusher"), PR: ("number",)}
_TIME_KEYS = ("updated_at", "submitted_at", "created_at")
_UID_PREFIX = b"github\0"  # event_uids' prefix for the format (metadata.uid made by the walker)


def _paths(type_: Any, prefix: str = "") -> list[tuple[str, str]]:
    """Walker paths for every field of a msgspec struct: str/int/bool leaves typed, nested
    structs and lists walked, anything else (``Any``, unions) read as raw JSON text."""
    out: list[tuple[str, str]] = []
    for f in msgspec.structs.fields(type_):
        name = prefix + f.encode_name
        info = mi.type_info(f.type)
        types = info.types if isinstance(info, mi.UnionType) else (info,)
        kinds = frozenset(type(t) for t in types) - {mi.NoneType}
        leaf = {frozenset({mi.StrType}): _fast.STR, frozenset({mi.IntType}): _fast.INT,
                frozenset({mi.BoolType}): _fast.BOOL}.get(kinds)  # fmt: skip
        if leaf:
            out.append((name, leaf))
        elif kinds == {mi.StructType}:
            out += _paths(next(t for t in types if isinstance(t, mi.StructType)).cls, name + ".")
        elif kinds == {mi.ListType}:
            item = next(t for t in types if isinstance(t, mi.ListType)).item_type
            out.append((name + "[]", _fast.LIST))  # a list of Raw: its items must be objects (else irregular)
            if isinstance(item, mi.StructType):
                out += _paths(item.cls, name + "[].")
            elif isinstance(item, mi.StrType):
                out.append((name + "[].@", _fast.STR))
        else:
            out.append((name, _fast.RAW))
    return out


_PRIMARIES = tuple(sorted(g._TYPED_PRIMARY))
_SPEC = _fast.Spec((*_paths(g._HookBase), *((f"{k}.{t}", _fast.RAW) for k in _PRIMARIES for t in _TIME_KEYS)), (), ())
_RAW_PATHS = tuple(p for p, mode in _SPEC.paths if mode == _fast.RAW)
_WORKFLOW = msgspec.json.Decoder(g._Workflow | str | None)
_ALERT = msgspec.json.Decoder(g._Alert | None)


class _OwnerProbe(msgspec.Struct, gc=False):
    owner: g._Owner | None = None


_PROBE = msgspec.json.Decoder(_OwnerProbe)


class _View:
    """What ``infer_event`` reads of a payload's typed view: the action and, only when
    asked, the alert (decoded then from its raw value). One instance serves the batch."""

    __slots__ = ("action", "top")

    def __init__(self) -> None:
        self.action: str | None = None
        self.top: dict[str, msgspec.Raw] = {}

    @property
    def alert(self) -> Any:
        raw = self.top.get("alert")
        return None if raw is None else _ALERT.decode(raw)


def _present(top: dict[str, msgspec.Raw], key: str) -> bool:
    """The typed view's ``getattr(h, key) is not None``: present and not JSON null."""
    raw = top.get(key)
    return raw is not None and memoryview(raw)[0] != 110  # b"n": the only value starting so is null


def _kind(event: str, top: dict[str, msgspec.Raw]) -> int:
    if event == "push":
        return PUSH
    if event in _PR_EVENTS:
        return PR if _present(top, "pull_request") else GENERIC
    main = _MAIN.get(event)
    if main is not None:
        return EACH if _present(top, main) else GENERIC
    return EACH if event in m._MAPPERS else GENERIC


def _typed_as_msgspec(s: dict[str, pa.Array]) -> bool:
    """Whether every value the walker read as raw JSON is one msgspec's typed view accepts:
    ``workflow`` (an object of strings, a string or null), the CVSS score (a number), and every
    ``Any`` value (a number with a fraction or exponent, alone or in a container, must fit a float)."""
    values = pa.concat_arrays([s[p].drop_null() for p in _RAW_PATHS])
    odd = values.filter(_mask(values, r"^[\[{]|^-?[0-9].*[.eE]"))
    try:
        for raw in s["workflow"].drop_null().unique().to_pylist():
            _WORKFLOW.decode(raw)
        for raw in s["alert.security_advisory.cvss.score"].drop_null().unique().to_pylist():
            _SCORE.decode(raw)
        for raw in odd.unique().to_pylist():
            msgspec.json.decode(raw)
    except (msgspec.ValidationError, msgspec.DecodeError):
        return False
    return True


_SCORE = msgspec.json.Decoder(float | None)


def map_native(fmt: Any, recs: Records, out: Decoded) -> bool:
    """Map ``recs`` into ``out`` on the columnar path; False (nothing emitted) where it does not apply."""
    raws = recs.raws
    cols = _fast.extract(raws, _SPEC, uid_prefix=_UID_PREFIX)
    if cols is None or cols.uids is None or not _typed_as_msgspec(cols.strings):
        return False
    s = cols.strings
    actions = s["action"].to_pylist()
    owner_unnamed = s["repository.owner.login"].is_null().to_pylist()
    view = _View()
    not_github: list[DeadLetter] = []
    not_hook: list[DeadLetter] = []
    audits: dict[int, dict[str, msgspec.Raw]] = {}
    groups: dict[str, c.Group] = {}
    order: dict[str, None] = {}  # classes in order of first appearance (as the per-record path emits them)
    rows = _Rows()
    hints: dict[str, str | None] = {}
    top_of, name, infer = c.TOP.decode, fmt.name, g.infer_event
    for i, (raw, (src, off)) in enumerate(zip(raws, recs.locs, strict=True)):
        try:
            top = top_of(raw)
        except msgspec.DecodeError:
            return False
        actor = top.get("actor")
        if "sender" not in top and "action" in top and actor is not None and bytes(memoryview(actor)[:1]) == b'"':
            audits[i] = top
            continue
        if "sender" not in top and infer(top.keys()) == "unknown":
            not_github.append(DeadLetter(
                "not a GitHub webhook payload (no sender or known event object) "
                "nor an audit-log event (no action + actor)", src, off, raw, name))  # fmt: skip
            continue
        hint = hints[src] if src in hints else hints.setdefault(src, g.event_hint(src))
        try:
            if hint:
                event = hint
            else:
                view.action, view.top = actions[i], top
                event = infer(top.keys(), view)  # type: ignore[arg-type]
        except msgspec.ValidationError:  # an alert the typed view refuses: the per-record path dead-letters it
            return False
        kind = _kind(event, top)
        if kind != EACH:
            order[API] = None
            repo = top.get("repository")
            owner = repo is not None and memoryview(repo)[0] != 110 and (
                not owner_unnamed[i] or _PROBE.decode(repo).owner is not None)
            rows.add(i, kind, event, top, owner)
            continue
        hook = g.hook_view(raw, src, off, name, not_hook)
        if hook is None:
            continue
        cls, row, when, act, sev = m.map_hook(event, hook, top)
        if cls == API:  # _kind sends every API Activity payload to the columns (kept exact if not)
            return False
        if when is None:
            when = g._primary_time(event, top, hook)
        c.group(groups, cls).add(i, row, when, act, sev)
        order[cls] = None
    try:
        api = _api_batch(fmt, cols, rows, raws) if rows.idx else None
    except (msgspec.ValidationError, msgspec.DecodeError):
        return False  # a raw value msgspec refuses: the per-record path decides (as it always did)
    out.dead += not_github + not_hook
    for cls in order:
        if cls == API:
            out.batches.append(api)
        else:
            out.batches.append(c.group_batch(cls, groups[cls], fmt, raws, uids=cols.uids.take(groups[cls].idx)))
    if audits:
        fmt._audits(list(audits), audits, recs, out)
    return True


class _Rows:
    """The columnar rows of a batch, per row: record index, kind, event, what the columns need
    of the top map (presence of sender/organization/repository/owner, the main object's raw
    value where its times are not typed) and ``unmapped``."""

    __slots__ = ("events", "idx", "kinds", "main", "org", "owner", "repo", "sender", "unmapped")

    def __init__(self) -> None:
        self.idx: list[int] = []
        self.kinds: list[int] = []
        self.events: list[str] = []
        self.main: list[msgspec.Raw | None] = []  # the raw main object of a type without typed times
        self.unmapped: list[bytes | None] = []
        self.sender: list[bool] = []
        self.org: list[bool] = []
        self.repo: list[bool] = []
        self.owner: list[bool] = []

    def add(self, i: int, kind: int, event: str, top: dict[str, msgspec.Raw], owner: bool) -> None:
        self.idx.append(i)
        self.kinds.append(kind)
        self.events.append(event)
        get = top.get
        key = g._PRIMARY.get(event, event)
        main = None if key in g._TYPED_PRIMARY and kind == GENERIC else get(key)
        self.main.append(main if main is not None and memoryview(main)[0] == 123 else None)  # b"{": an object
        self.sender.append((v := get("sender")) is not None and memoryview(v)[0] != 110)  # present, not null
        self.org.append((v := get("organization")) is not None and memoryview(v)[0] != 110)
        self.repo.append((v := get("repository")) is not None and memoryview(v)[0] != 110)
        self.owner.append(owner)
        self.unmapped.append(m._unmapped(top, *_MORE[kind]))


# ---------------------------------------------------------------------------------------
# values: ids and times, once per distinct value (or vectorized for the common forms)
# ---------------------------------------------------------------------------------------


def _per_distinct(arr: pa.Array, fn: Callable[[Any], Any], type_: pa.DataType) -> pa.Array:
    """``fn`` of each value (null stays null), called once per distinct non-null value."""
    if arr.null_count == len(arr):
        return pa.nulls(len(arr), type_)
    enc = pc.dictionary_encode(arr)
    return pa.array([fn(v) for v in enc.dictionary.to_pylist()], type_).take(enc.indices)


def _decode_raw(text: str) -> Any:
    return msgspec.json.decode(text)


def _mask(arr: pa.Array, pattern: str) -> pa.Array:
    return pc.fill_null(pc.match_substring_regex(arr, pattern), False)


def _sid_raw(arr: pa.Array) -> pa.Array:
    """``c.sid`` of raw JSON values: an integer's digits and a plain string's text vectorized;
    the rest (escapes, floats, booleans, ...) decoded once per distinct value."""
    ints = _mask(arr, r"^(-?[1-9][0-9]*|0)$")
    plain = _mask(arr, r'^"[^"\\]+"$')
    fast = pc.if_else(ints, arr, pc.if_else(plain, pc.utf8_slice_codeunits(arr, 1, -1), pa.scalar(None, pa.string())))
    rest = pc.if_else(pc.or_(ints, plain), pa.scalar(None, pa.string()), arr)
    return pc.coalesce(fast, _per_distinct(rest, lambda t: c.sid(_decode_raw(t)), pa.string()))


def _sid_str(arr: pa.Array) -> pa.Array:
    """``c.sid`` of a string column: the empty string is none."""
    return pc.if_else(pc.equal(arr, ""), pa.scalar(None, pa.string()), arr)


_ISO_Z = r'^"?[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z"?$'
_DAYS_IN_MONTH = np.array([0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31], np.int64)


def _iso_z(arr: pa.Array, skip: int) -> tuple[np.ndarray, np.ndarray]:
    """(ms, ok) of ``YYYY-MM-DDTHH:MM:SSZ`` texts (after ``skip`` bytes: a raw value's quote), read
    from the bytes with numpy; ``ok`` where the text is such a real date and time (what
    ``datetime.fromisoformat`` accepts in that form: year 1-9999, the month's days, 23:59:59)."""
    width = 20 + 2 * skip
    ok = np.asarray(_mask(arr, _ISO_Z).to_numpy(zero_copy_only=False)) & np.asarray(
        pc.fill_null(pc.equal(pc.binary_length(arr), width), False).to_numpy(zero_copy_only=False))
    ms = np.zeros(len(arr), np.int64)
    if not ok.any():
        return ms, ok
    sub = arr.filter(pa.array(ok))
    offsets = np.frombuffer(sub.buffers()[1], np.int32)[sub.offset:sub.offset + len(sub) + 1]
    d = np.frombuffer(sub.buffers()[2], np.uint8)[offsets[0]:offsets[-1]].reshape(-1, width)[:, skip:].astype(np.int64) - 48

    def num(a: int, b: int) -> np.ndarray:
        out = np.zeros(len(d), np.int64)
        for k in range(a, b):
            out = out * 10 + d[:, k]
        return out

    year, month, day, hh, mm, ss = num(0, 4), num(5, 7), num(8, 10), num(11, 13), num(14, 16), num(17, 19)
    leap = ((year % 4 == 0) & (year % 100 != 0)) | (year % 400 == 0)
    good = (year >= 1) & (month >= 1) & (month <= 12) & (day >= 1) & (hh < 24) & (mm < 60) & (ss < 60)
    month_ok = np.clip(month, 1, 12)
    good &= day <= _DAYS_IN_MONTH[month_ok] + (leap & (month_ok == 2))
    y = year - (month_ok <= 2)  # days from the civil date (H. Hinnant's algorithm; y >= 0 here)
    era, yoe = y // 400, y % 400
    doy = (153 * ((month_ok + 9) % 12) + 2) // 5 + day - 1
    days = era * 146097 + yoe * 365 + yoe // 4 - yoe // 100 + doy - 719468
    at = np.flatnonzero(ok)
    ms[at] = (((days * 24 + hh) * 60 + mm) * 60 + ss) * 1000
    ok[at] = good
    return ms, ok


def _ms(arr: pa.Array, raw: bool) -> pa.Array:
    """``c.iso_ms`` of a string column (``raw``: of raw JSON values), as int64 ms.

    Fast: ``YYYY-MM-DDTHH:MM:SSZ`` (:func:`_iso_z`) and short epoch seconds (under 10^10:
    ``iso_ms`` multiplies them by 1000). The rest once per distinct value.
    """
    ms, ok = _iso_z(arr, 1 if raw else 0)
    if raw:
        ints = np.asarray(_mask(arr, r"^(-?[1-9][0-9]{0,9}|0)$").to_numpy(zero_copy_only=False))
        if ints.any():
            ms[ints] = np.asarray(arr.filter(pa.array(ints)).cast(pa.int64()).to_numpy()) * 1000
            ok |= ints
    fast = pa.array(ms, pa.int64(), mask=~ok)
    if ok.all():
        return fast
    rest = pc.if_else(pa.array(ok), pa.scalar(None, pa.string()), arr)
    fn = (lambda t: c.iso_ms(_decode_raw(t))) if raw else c.iso_ms
    return pc.coalesce(fast, _per_distinct(rest, fn, pa.int64()))


def _first(*cols: pa.Array) -> pa.Array:
    """``c.first_time``: the first value that parsed."""
    return pc.coalesce(*cols) if len(cols) > 1 else cols[0]


def _json_str(arr: pa.Array) -> pa.Array:
    """msgspec's JSON of each string (null -> ``null``): quoted as is unless it needs escapes."""
    plain = pc.invert(_mask(arr, r'["\\\x00-\x1f]'))
    quoted = pc.binary_join_element_wise('"', arr, '"', "")
    rest = pc.if_else(plain, pa.scalar(None, pa.string()), arr)
    escaped = _per_distinct(rest, lambda v: msgspec.json.encode(v).decode(), pa.string())
    return pc.fill_null(pc.if_else(plain, quoted, escaped), "null")


# ---------------------------------------------------------------------------------------
# the API Activity batch
# ---------------------------------------------------------------------------------------


def _api_batch(fmt: Any, cols: _fast.Columns, rows: _Rows, raws: list[bytes]) -> pa.RecordBatch:
    idx = pa.array(rows.idx, pa.int64())
    s = cols.strings
    whole = len(rows.idx) == len(raws)  # every row (the indexes are 0..n-1 in order): no take

    def col(path: str) -> pa.Array:
        return s[path] if whole else s[path].take(idx)

    kinds = np.array(rows.kinds, np.int8)
    events = pa.array(rows.events, pa.string())
    is_push, is_pr = pa.array(kinds == PUSH), pa.array(kinds == PR)
    sender, org = np.array(rows.sender, bool), np.array(rows.org, bool)
    action = col("action")
    known = pc.not_equal(events, "unknown")
    has_action = pc.fill_null(pc.not_equal(action, ""), False)
    op = pc.if_else(has_action, pc.if_else(known, pc.binary_join_element_wise(events, action, "."), action), events)
    layouts = kinds.astype(np.int64) * 4 + sender * 2 + org
    columns: dict[str, pa.Array | None] = {}
    for code in _first_seen(layouts):
        for key in _layout(int(code)):
            columns.setdefault(key, None)
    values: dict[str, pa.Array | None] = {
        "resources": _resources(col, rows),
        "message": _message(cols, col, rows, sender, is_push) if (kinds == PUSH).any() else None,
        "unmapped": c.bytes_column(rows.unmapped) if any(v is not None for v in rows.unmapped) else None,
        "actor.user.name": pc.if_else(pa.array(sender), col("sender.login"), pa.scalar(None, pa.string())),
        "actor.user.uid": pc.if_else(pa.array(sender), _sid_raw(col("sender.id")), pa.scalar(None, pa.string())),
        "metadata.tenant_uid": pc.if_else(pa.array(org), _sid_str(col("organization.login")), pa.scalar(None, pa.string())),
        "api.operation": op,
        "api.service.name": const("GitHub webhooks", len(idx), pa.string()),
        "metadata.event_code": pc.if_else(known, events, pa.scalar(None, pa.string())),
        "src_endpoint.type_id": const(0, len(idx), pa.int32()),
        "src_endpoint.type": const("Unknown", len(idx), pa.string()),
    }
    kept = {}
    for key in columns:
        v = values[key]
        if v is not None and (key == "resources" or v.null_count < len(v)):
            kept[key] = v
    return c.ocsf_batch(API, kind=fmt.name, product=fmt.product, vendor=fmt.vendor, uids=col_of(cols.uids, idx, whole), times=_times(col, rows),  # type: ignore[union-attr]
                        activity=_activity(col, action, is_push, is_pr), severity=1,
                        raw_data=string_column([raws[i] for i in rows.idx], checked=True), columns=kept)  # fmt: skip


def col_of(arr: pa.Array | None, idx: pa.Array, whole: bool) -> pa.Array:
    """``arr`` at the rows ``idx`` (``whole``: all of them, in order)."""
    assert arr is not None
    return arr if whole else arr.take(idx)


_TAIL = ("api.operation", "api.service.name", "metadata.event_code", "src_endpoint.type_id", "src_endpoint.type")


def _layout(code: int) -> tuple[str, ...]:
    """The keys of a row (``_github_map``: the mapper's, then ``map_hook``'s) of layout ``code``."""
    kind, sender, org = code // 4, code & 2, code & 1
    head = ("resources", "message", "unmapped") if kind == PUSH else ("resources", "unmapped")
    who = ("actor.user.name", "actor.user.uid") if sender else ()
    return (*head, *who, *(("metadata.tenant_uid",) if org else ()), *_TAIL)


def _first_seen(codes: np.ndarray) -> list[int]:
    """The distinct values of ``codes`` in order of first appearance."""
    uniq, first = np.unique(codes, return_index=True)
    return [int(u) for u in uniq[np.argsort(first)]]


def _activity(col: Callable[[str], pa.Array], action: pa.Array, is_push: pa.Array, is_pr: pa.Array) -> pa.Array:
    """activity_id: generic ``verb_activity(action, 3)`` (99 without an action); push created 1,
    deleted 4, else 3; pull request opened/reopened 1, else ``verb_activity(action, 3)``."""
    generic = _per_distinct(action, lambda a: c.verb_activity(a, 3) if a else 99, pa.int32()).fill_null(99)
    pr = _per_distinct(action, lambda a: 1 if a in ("opened", "reopened") else c.verb_activity(a, 3), pa.int32()).fill_null(3)
    created, deleted = pc.fill_null(col("created"), False), pc.fill_null(col("deleted"), False)
    push = pc.if_else(created, 1, pc.if_else(deleted, 4, 3)).cast(pa.int32())
    return pc.if_else(is_push, push, pc.if_else(is_pr, pr, generic))


def _times(col: Callable[[str], pa.Array], rows: _Rows) -> pa.Array:
    """The mapper's time (push, pull request), else the main object's (``github._primary_time``):
    typed times parsed for the rows that read them only; the other main objects' from their raw value."""
    n = len(rows.idx)
    kinds = np.array(rows.kinds, np.int8)
    keys = [g._PRIMARY.get(e, e) for e in rows.events]  # a dict lookup per row: the key names the columns
    ms = np.zeros(n, np.int64)
    got = np.zeros(n, bool)

    def put(sel: np.ndarray, parts: tuple[tuple[str, bool], ...]) -> None:
        at = np.flatnonzero(sel)
        if len(at):
            take = pa.array(at)
            t = _first(*(_ms(col(p).take(take), raw) for p, raw in parts))
            ok = _valid(t)
            ms[at[ok]] = np.asarray(t.filter(ok).to_numpy(zero_copy_only=False))
            got[at[ok]] = True

    put(kinds == PUSH, (("repository.pushed_at", True), ("head_commit.timestamp", False)))
    put(kinds == PR, (("pull_request.updated_at", False), ("pull_request.created_at", False)))
    typed = np.zeros(n, bool)
    coded = pc.dictionary_encode(pa.array(keys, pa.string()))
    codes = np.asarray(coded.indices.to_numpy(zero_copy_only=False))
    for code, k in enumerate(coded.dictionary.to_pylist()):
        sel = (codes == code) & (kinds == GENERIC)
        if k not in g._TYPED_PRIMARY or not sel.any():
            continue
        typed |= sel
        put(sel, tuple((f"{k}.{f}", True) for f in _TIME_KEYS))
    for j in np.flatnonzero(~got & ~typed):  # the main object's times from its raw value (types without typed times)
        raw = rows.main[j]
        if raw is not None:
            t = g._TIMES.decode(raw)
            when = c.first_time(t.updated_at, t.submitted_at, t.created_at)
            if when is not None:
                ms[j], got[j] = when, True
    return pa.array(ms, pa.int64(), mask=~got)


def _message(cols: _fast.Columns, col: Callable[[str], pa.Array], rows: _Rows, sender: np.ndarray,
             is_push: pa.Array) -> pa.Array:  # fmt: skip
    """push: ``{who} {pushed|force-pushed} {n} commit(s) to {ref}`` (None written as Python writes it)."""
    name = col("pusher.name")
    login = pc.if_else(pa.array(sender), pc.fill_null(col("sender.login"), "None"), "someone")
    who = pc.if_else(pc.fill_null(pc.not_equal(name, ""), False), name, login)
    verb = pc.if_else(pc.fill_null(col("forced"), False), "force-pushed", "pushed")
    offsets, _nulls = cols.lists["commits[]"]
    n = pa.array(np.diff(offsets)[np.array(rows.idx)]).cast(pa.string())
    ref = pc.fill_null(col("ref"), "None")
    text = pc.binary_join_element_wise(who, verb, n, "commit(s) to", ref, " ")
    return pc.if_else(is_push, text, pa.scalar(None, pa.string()))


_STR_NULL = pa.scalar(None, pa.string())


def _some(arr: pa.Array) -> np.ndarray:
    """Where a raw JSON value is not None (present and not ``null``)."""
    return np.asarray(pc.fill_null(pc.not_equal(arr, "null"), False).to_numpy(zero_copy_only=False))


def _valid(arr: pa.Array) -> np.ndarray:
    return np.asarray(arr.is_valid().to_numpy(zero_copy_only=False))


def _np(arr: pa.Array) -> np.ndarray:
    return np.asarray(pc.fill_null(arr, False).to_numpy(zero_copy_only=False))


def _str_lists(counts: np.ndarray, values: pa.Array) -> pa.Array:
    """list<string> per item: ``counts[i]`` values each (0 -> null), ``values`` back to back."""
    return pa.ListArray.from_arrays(_offsets(counts), values.cast(pa.string()), mask=pa.array(counts == 0))


class _Slot:
    """One kind of ``resources`` item: the rows holding it and its fields there."""

    def __init__(self, rank: int, at: np.ndarray, type_: str, name: pa.Array, uid: pa.Array,
                 labels: pa.Array | None = None, owner: tuple[pa.Array, np.ndarray] | None = None,
                 data: pa.Array | None = None) -> None:  # fmt: skip
        take = pa.array(np.flatnonzero(at))
        self.rows = np.flatnonzero(at)
        self.rank = rank
        k = len(self.rows)
        self.type = pa.array([type_] * k, pa.string())
        self.name, self.uid = name.take(take), uid.take(take)
        self.labels = pa.nulls(k, pa.list_(pa.string())) if labels is None else labels.take(take)
        self.has_labels = _valid(self.labels)
        if owner is None:
            self.owner, self.has_owner = pa.nulls(k, pa.string()), np.zeros(k, bool)
        else:
            self.has_owner = owner[1][self.rows]
            self.owner = pc.if_else(pa.array(self.has_owner), owner[0].take(take), _STR_NULL)
        self.data = pa.nulls(k, pa.string()) if data is None else data.take(take)
        self.has_data = np.full(k, data is not None)


def _resources(col: Callable[[str], pa.Array], rows: _Rows) -> pa.Array | None:
    """``resources`` as ``_cicd.leaves_batch`` builds it from the rows' item dicts: the
    repository (``_repo_resource``), then the organization (generic), the git ref (push) or
    the pull request; plain {type, name, uid} items (``_simple_resources``: items naming
    nothing dropped) unless an item has more keys (``_typed_resources``: struct fields in
    order of first appearance)."""
    kinds = np.array(rows.kinds, np.int8)
    full, short = col("repository.full_name"), col("repository.name")
    name_or = pc.if_else(pc.fill_null(pc.not_equal(full, ""), False), full, short)
    rid = col("repository.id")
    vis = col("repository.visibility")
    vis_ok = _np(pc.not_equal(vis, ""))
    private = _np(col("repository.private"))
    vis_at, priv_at = np.flatnonzero(vis_ok), np.flatnonzero(private)
    order = np.argsort(np.concatenate([vis_at * 2, priv_at * 2 + 1]), kind="stable")
    label_values = pa.concat_arrays([vis.take(pa.array(vis_at)), pa.array(["private"] * len(priv_at), pa.string())])
    repo_labels = _str_lists(vis_ok.astype(np.int32) + private, label_values.take(pa.array(order)))
    slots = [_Slot(0, np.array(rows.repo, bool) & (_valid(name_or) | _some(rid)), "repository", _sid_str(name_or),
                   _sid_raw(rid), labels=repo_labels,
                   owner=(col("repository.owner.login"), np.array(rows.owner, bool)))]  # fmt: skip
    if (kinds == GENERIC).any():
        login, oid = col("organization.login"), col("organization.id")
        at = (kinds == GENERIC) & np.array(rows.org, bool) & (_valid(login) | _some(oid))
        slots.append(_Slot(1, at, "organization", _sid_str(login), _sid_raw(oid)))
    if (kinds == PUSH).any():
        ref, after = col("ref"), col("after")
        forced = _np(col("forced"))
        at = (kinds == PUSH) & (_valid(ref) | _valid(after))
        slots.append(_Slot(2, at, "git_ref", _sid_str(ref), _sid_str(after),
                           labels=_str_lists(forced.astype(np.int32), pa.array(["forced"] * int(forced.sum()), pa.string()))))
    if (kinds == PR).any():
        number = pc.fill_null(col("pull_request.number").cast(pa.string()), "None")
        title = pc.fill_null(col("pull_request.title"), "None")
        merged = pc.if_else(col("pull_request.merged"), "true", "false")
        data = pc.binary_join_element_wise(
            '{"state":', _json_str(col("pull_request.state")), ',"merged":', pc.fill_null(merged, "null"),
            ',"head":', _json_str(col("pull_request.head.ref")), ',"base":', _json_str(col("pull_request.base.ref")),
            ',"url":', _json_str(col("pull_request.html_url")), "}", "")  # fmt: skip
        slots.append(_Slot(3, kinds == PR, "pull_request", pc.binary_join_element_wise("#", number, " ", title, ""),
                           _sid_raw(col("pull_request.id")), data=data))  # fmt: skip
    return _items_column(slots, len(rows.idx))


def _items_column(slots: list[_Slot], n: int) -> pa.Array | None:
    item_rows = np.concatenate([sl.rows for sl in slots])
    if not len(item_rows):
        return None  # no row has an item: every row's value is None (the column is left out)
    order = np.argsort(item_rows * 4 + np.concatenate([np.full(len(sl.rows), sl.rank) for sl in slots]), kind="stable")
    take = pa.array(order)
    item_rows = item_rows[order]

    def field(name: str) -> pa.Array:
        return pa.concat_arrays([getattr(sl, name) for sl in slots]).take(take)

    def flag(name: str) -> np.ndarray:
        return np.concatenate([getattr(sl, name) for sl in slots])[order]

    has_labels, has_owner, has_data = flag("has_labels"), flag("has_owner"), flag("has_data")
    types, names, uids = field("type"), field("name"), field("uid")
    if not (has_labels.any() or has_owner.any() or has_data.any()):  # _simple_resources
        keep = _valid(names) | _valid(uids)
        counts = np.bincount(item_rows[keep], minlength=n)
        keep_at = pa.array(np.flatnonzero(keep))
        values = pa.StructArray.from_arrays([types.take(keep_at), names.take(keep_at), uids.take(keep_at)],
                                            names=["type", "name", "uid"])  # fmt: skip
        return pa.ListArray.from_arrays(_offsets(counts), values, type=c.RES3, mask=pa.array(counts == 0))
    counts = np.bincount(item_rows, minlength=n)
    children = {"type": types, "name": names, "uid": uids}
    rank = {"type": (0, 0), "name": (0, 1), "uid": (0, 2)}
    if has_labels.any():
        first = int(np.argmax(has_labels))
        children["labels"], rank["labels"] = field("labels"), (first, 3)
    if has_owner.any():
        first = int(np.argmax(has_owner))
        owner = pa.StructArray.from_arrays([field("owner")], names=["name"], mask=pa.array(~has_owner))
        children["owner"], rank["owner"] = owner, (first, 3 + int(has_labels[first]))
    if has_data.any():
        children["data"], rank["data"] = field("data"), (int(np.argmax(has_data)), 3)
    keys = sorted(children, key=rank.__getitem__)
    struct = pa.StructArray.from_arrays([children[k] for k in keys], names=keys)
    return pa.ListArray.from_arrays(_offsets(counts), struct, mask=pa.array(counts == 0))


def _offsets(counts: np.ndarray) -> pa.Array:
    offsets = np.zeros(len(counts) + 1, np.int32)
    np.cumsum(counts, out=offsets[1:])
    return pa.array(offsets)
