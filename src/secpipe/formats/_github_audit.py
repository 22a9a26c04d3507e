"""GitHub audit-log events mapped in columns (``formats.github``'s audit path with the extension).

Design: one native pass over a batch's records (``_columnar.github_audit_walk``) tells the
audit events apart (no ``sender``, an ``action``, a string ``actor``; the others are set aside
for the webhook path) and writes their fields into Arrow columns (the typed view ``_Audit``
and the request fields ``_Request``, :data:`SPEC`), their ``unmapped`` in document order,
their raw_data and uids. The mapping is then Arrow kernels over those columns; what is
Python's own (``str.upper``, ``str(id)`` of a JSON value, the verb of an action) runs once a
distinct value (:func:`_each`), and times are parsed by Arrow's ISO-8601 cast where the text
has a shape both read alike (:func:`_times`), by ``_cicd.iso_ms`` for the rest.

Guarantees: the batch equals what ``_github_map.audit_columns`` + ``_cicd.columns_batch``
make of the same records on the msgspec path (tests/unit/test_github_audit_columns.py
compares them on the real samples and on hypothesis-mutated events). A record the walk does
not decide as msgspec would makes :func:`walk` return None: the caller maps the batch on its
msgspec path, which is also the path without the extension and for small batches.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import msgspec
import numpy as np
import pyarrow as pa

from secpipe import _compute as pc
from secpipe.formats import _cicd as c
from secpipe.formats import _fast
from secpipe.formats import _github_map as m
from secpipe.formats.base import base_columns, to_batch, uid_prefix
from secpipe.schema.ocsf import arrow_type

#: what the walk reads (path, ``_fast`` mode): every field of ``github._Audit`` (``Any`` ones as
#: raw JSON text; ``data`` only for its ``team``) and of ``_github_map._Request``
SPEC = (
    ("action", "s"), ("actor", "s"), ("actor_id", "r"), ("actor_ip", "s"), ("actor_location.country_code", "s"),
    ("user", "s"), ("org", "s"), ("repo", "s"), ("repository", "r"), ("business", "s"), ("team", "r"),
    ("data.team", "r"), ("user_agent", "s"), ("created_at", "r"), ("@timestamp", "r"), ("at_sign_timestamp", "r"),
    ("p_event_time", "r"), ("_document_id", "s"), ("operation_type", "s"), ("actor_is_bot", "r"), ("actor_is_agent", "r"),
    ("request_method", "s"), ("url_path", "s"), ("route", "s"), ("status_code", "i"), ("org_id", "r"),
    ("repo_id", "r"), ("user_id", "r"),
)  # fmt: skip
_TOP = tuple(dict.fromkeys(p.split(".", 1)[0] for p, _ in SPEC))
#: top-level keys read that stay in ``unmapped`` (``audit_columns`` deletes the mapped ones and
#: the request fields it placed, ``route`` but)
KEEP = tuple(k for k in _TOP if k not in m._AUDIT_MAPPED and (k not in m._REQUEST_KEYS or k == "route"))
_IDS = ("org_id", "repo_id", "user_id")  # int | str | None
_SPEC = _fast.Spec(paths=SPEC, unmapped=(), known=())
_PREFIX = uid_prefix("github")
_CLASS = "api_activity"
_ARGS = (list(SPEC), [k.encode() for k in KEEP], [k.encode() for k in _IDS], _PREFIX)
#: batches of fewer records take the msgspec path (the kernels' fixed costs, ~1 ms a batch)
MIN_ROWS = 32


def likely(raws: Sequence[Any]) -> bool:
    """Whether the batch looks like audit-log events (its first record: an ``actor`` string, no
    ``sender``), so that the walk is worth trying; a guess for speed alone, not a decision."""
    head = bytes(raws[0][:4096])
    return b'"actor":"' in head and b'"sender"' not in head


def walk(fmt: Any, raws: list[Any]) -> tuple[pa.RecordBatch | None, list[int]] | None:
    """(the API Activity batch of the audit events of ``raws``, the indexes of the other records),
    or None: no extension, or a record the walk declines (the caller's msgspec path decides all)."""
    mod = _native()
    return None if mod is None else _walked(fmt, mod.github_audit_walk(raws, *_ARGS))


def walk_doc(fmt: Any, data: bytes) -> tuple[pa.RecordBatch, int] | None:
    """(the API Activity batch, the count of records) of an NDJSON document of audit events
    walked where its lines lie (no split, no copy of each); None when it is not only such events
    as compact JSON lines (or no extension): the caller reads the document as before."""
    mod = _native()
    got = None if mod is None else _walked(fmt, mod.github_audit_doc(data, *_ARGS))
    if got is None or got[0] is None or got[1]:
        return None
    return got[0], got[0].num_rows


def _native() -> Any:
    """The extension when it has the walk (an older build has not: the msgspec path then)."""
    mod = _fast._module()
    return mod if hasattr(mod, "github_audit_doc") else None


def _walked(fmt: Any, out: tuple[Any, ...]) -> tuple[pa.RecordBatch | None, list[int]] | None:
    bad, cols, unmapped, raw, aside, hexes = out
    if bad >= 0:
        return None
    if not unmapped[3]:
        return None, aside
    got = _fast._columns(_SPEC, (bad, cols, unmapped, aside, raw, hexes))
    if _unreadable(got.strings):
        return None  # a value msgspec cannot hold: the msgspec path decides those records
    code = pc.min_max(got.strings["status_code"]).as_py()
    if code["min"] is not None and (code["min"] < -(2**31) or code["max"] >= 2**31):
        return None  # a status code past int32: the msgspec path leaves it in unmapped
    return batch(fmt, got), aside


#: the raw JSON columns the mapping decodes (``_Audit``'s ``Any`` fields, ``_Request``'s ids)
_RAW = tuple(p for p, mode in SPEC if mode == "r")
#: a digit then an exponent: where a number beyond float64 (``1e400``) can be, the sole JSON
#: values msgspec reads as text but refuses to decode; also a value of 309 digits or more
_EXPONENT = tuple(f"{d}{e}".encode() for d in "0123456789" for e in "eE")


def _unreadable(strings: dict[str, pa.Array]) -> bool:
    """Whether a raw JSON value the mapping decodes is one msgspec refuses (``Number out of
    range``): its decode of the record refuses that record, where ours would raise. A SIMD search
    of each column's bytes for a digit and an exponent; the few values holding one are decoded."""
    for path in _RAW:
        arr = strings[path]
        data = arr.buffers()[2]
        if data is None or not data.size:
            continue
        if not _fast.contains_any(data, _EXPONENT) and (pc.max(pc.binary_length(arr)).as_py() or 0) < 309:
            continue
        for text in arr.to_pylist():
            if text is not None and (len(text) >= 309 or "e" in text or "E" in text):
                try:
                    _decode(text)
                except msgspec.DecodeError:
                    return True
    return False


def batch(fmt: Any, cols: _fast.Columns) -> pa.RecordBatch:
    """The API Activity batch of walked audit events (``audit_columns`` + ``columns_batch``)."""
    s = cols.strings
    n = len(cols.unmapped)
    action = s["action"]
    method = s["request_method"]
    code = s["status_code"]
    # an action naming a refused attempt, else an HTTP error code (``audit_columns``' order)
    by_action = _each(action, lambda x: True if m.action_failed(x) else None)
    failed = pc.coalesce(by_action.cast(pa.bool_()), pc.greater_equal(code, pa.scalar(400, pa.int64())))
    repo = _nonempty(s["repo"])
    named = {
        "api.operation": action,
        "api.service.name": _each(action, lambda x: (x or "").split(".", 1)[0] or None),
        "metadata.event_code": action,
        "metadata.original_event_uid": s["_document_id"],
        "metadata.tenant_uid": pc.if_else(pc.is_valid(_nonempty(s["org"])), s["org"], s["business"]),
        "actor.user.name": s["actor"],
        "actor.user.uid": _each(s["actor_id"], _raw_str),
        **_actor_type(s["actor_is_bot"], s["actor_is_agent"]),
        "src_endpoint.ip": _nonempty(s["actor_ip"]),
        "src_endpoint.location.country": s["actor_location.country_code"],
        "src_endpoint.type_id": _const(0, n, pa.int32()),  # the caller's device type is never given
        "src_endpoint.type": _const("Unknown", n, pa.string()),
        "http_request.user_agent": _nonempty(s["user_agent"]),
        "http_request.http_method": _each(method, lambda x: x.upper() if x else None),
        "http_request.url.path": pc.coalesce(_nonempty(s["url_path"]), _nonempty(s["route"])),
        "http_response.code": code,
        "status_id": pc.if_else(failed, pa.scalar(2, pa.int32()), pa.scalar(1, pa.int32())),
        "status": pc.if_else(failed, pa.scalar("Failure"), pa.scalar("Success")),
        "status_code": code.cast(pa.string()),
        "resources": _resources(
            (pc.if_else(pc.is_valid(repo), repo, _each(s["repository"], _raw_text)), _each(s["repo_id"], _raw_sid)),
            (_nonempty(s["user"]), _each(s["user_id"], _raw_sid)),
            (s["org"], _each(s["org_id"], _raw_sid)),
            (_each(_team_raw(s["team"], s["data.team"]), _raw_team), None),
        ),
        "unmapped": cols.unmapped,
    }
    base = base_columns(_CLASS, kind=fmt.name, product=fmt.product, vendor=fmt.vendor, uids=cols.uids,
                        times_ms=_times([s["@timestamp"], s["created_at"], s["at_sign_timestamp"], s["p_event_time"]]),
                        raws=cols.raw, activity_id=_activity(action, s["operation_type"], method), severity_id=1)  # fmt: skip
    for k, arr in named.items():
        if k not in ("resources", "unmapped") and arr.null_count == len(arr):
            continue  # ``columns_batch`` leaves out a column of no values
        want = _type(k)
        base[k] = arr if want is None or arr.type == want else arr.cast(want)
    return to_batch(_CLASS, base)


def _actor_type(bot: pa.Array, agent: pa.Array) -> dict[str, pa.Array]:
    """``actor.user.type_id``/``type`` from the raw JSON of ``actor_is_bot``/``actor_is_agent``
    (``_github_map.actor_type`` once a distinct pair: few)."""
    pairs = pc.binary_join_element_wise(pc.fill_null(bot, ""), pc.fill_null(agent, ""), "\0")
    types = _each(pairs, lambda x: _pair_type(x))
    return {"actor.user.type_id": _each(types, lambda x: None if x is None else int(x.split("\0")[0])),
            "actor.user.type": _each(types, lambda x: None if x is None else x.split("\0")[1])}


def _pair_type(pair: str | None) -> str | None:
    bot, agent = (pair or "\0").split("\0")
    t = m.actor_type(_flag(bot), _flag(agent))
    return None if t is None else f"{t[0]}\0{t[1]}"


def _flag(raw: str) -> Any:
    """A JSON boolean's raw text as the boolean; another value (or none) as what msgspec would not
    take for one (None when absent, a marker otherwise)."""
    return {"true": True, "false": False, "": None, "null": None}.get(raw, "other")


def _type(path: str) -> pa.DataType | None:
    return arrow_type(_CLASS, path) if path not in ("resources", "unmapped") else None


def _const(value: Any, n: int, type_: pa.DataType) -> pa.Array:
    return pa.repeat(pa.scalar(value, type_), n)


def _nonempty(arr: pa.Array) -> pa.Array:
    """``x or None`` of a string column: empty strings become nulls."""
    empty = pc.equal(pc.binary_length(arr), pa.scalar(0, pa.int32()))
    if not pc.any(empty).as_py():
        return arr
    return pc.if_else(empty, pa.scalar(None, arr.type), arr)


def _each(arr: pa.Array, fn: Callable[[Any], Any]) -> pa.Array:
    """``fn`` of each value of ``arr`` (a null is None), computed once a distinct value."""
    if arr.null_count == len(arr):
        return pa.nulls(len(arr), pa.string()) if fn(None) is None else pa.array([fn(None)] * len(arr))
    enc = arr.dictionary_encode()
    out = pa.array([fn(v) for v in enc.dictionary.to_pylist()]).take(enc.indices)
    if arr.null_count and fn(None) is not None:
        out = pc.fill_null(out, fn(None))
    return out if out.type != pa.null() else out.cast(pa.string())


_decode = msgspec.json.decode


def _raw_str(raw: str | None) -> str | None:
    """``str(value)`` of a JSON value (``actor_id``), None for null or absent."""
    v = None if raw is None else _decode(raw)
    return None if v is None else str(v)


def _raw_sid(raw: str | None) -> str | None:
    """``_github_map._sid`` of an ``int | str`` id given as JSON text."""
    v = None if raw is None else _decode(raw)
    return None if v is None or v == "" else str(v)


def _raw_text(raw: str | None) -> str | None:
    """A JSON string's text (``repository``: only a string names one), else None."""
    return _decode(raw) if raw is not None and raw[:1] == '"' else None


def _raw_team(raw: str | None) -> str | None:
    """``_github_map._team``'s test of the value it picked: a non-empty string."""
    t = _raw_text(raw)
    return t or None


def _team_raw(team: pa.Array, data_team: pa.Array) -> pa.Array:
    """``team`` where it is neither absent nor null, else ``data.team`` (as ``_team`` picks)."""
    if data_team.null_count == len(data_team):
        return team
    given = pc.fill_null(pc.not_equal(team, pa.scalar("null")), False)
    return pc.if_else(given, team, data_team)


_TYPES = ("repository", "user", "organization", "team")
_RES_TYPE = pa.list_(pa.struct([("type", pa.string()), ("name", pa.string()), ("uid", pa.string())]))


def _resources(*items: tuple[pa.Array, pa.Array | None]) -> pa.Array:
    """``resources`` from per-item (name, uid) columns, in this order: an item with neither is
    left out, a row without items is null (``_cicd.resources_column``)."""
    n = len(items[0][0])
    names = [name.cast(pa.string()) for name, _ in items]
    uids = [pa.nulls(n, pa.string()) if uid is None else uid.cast(pa.string()) for _, uid in items]
    present = np.stack([_valid(a) | _valid(b) for a, b in zip(names, uids, strict=True)], axis=1)
    counts = present.sum(axis=1)
    offsets = np.zeros(n + 1, np.int32)
    np.cumsum(counts, out=offsets[1:])
    flat = np.flatnonzero(present.ravel())
    row, kind = np.divmod(flat, len(items))
    where = pa.array(kind * n + row)
    values = pa.StructArray.from_arrays(
        [pa.array(_TYPES[: len(items)]).take(pa.array(kind)), pa.concat_arrays(names).take(where),
         pa.concat_arrays(uids).take(where)], names=["type", "name", "uid"])  # fmt: skip
    return pa.ListArray.from_arrays(pa.array(offsets), values, type=_RES_TYPE, mask=pa.array(counts == 0))


def _valid(arr: pa.Array) -> np.ndarray:
    return np.asarray(pc.is_valid(arr).to_numpy(zero_copy_only=False), bool)


def _activity(action: pa.Array, operation: pa.Array, method: pa.Array) -> pa.Array:
    """``audit_columns``' activity: the action's verb, else GitHub's ``operation_type``, else the
    HTTP method of an API request event."""
    acts = _ints(_each(action, c.verb_activity))
    by_op = _ints(_each(operation, lambda x: m._OPERATION_TYPE.get(x, 99)))
    by_method = _ints(_each(method, lambda x: m._METHOD_ACTIVITY.get(x.upper(), 99) if x else 99))
    acts = np.where(acts == 99, by_op, acts)
    acts = np.where(acts == 99, by_method, acts)
    return pa.array(acts.astype(np.int32))


def _ints(arr: pa.Array) -> np.ndarray:
    return np.asarray(arr.to_numpy(zero_copy_only=False), np.int64)


# --- times ------------------------------------------------------------------------------

_YEAR = r"(?:1[7-9]\d\d|2[01]\d\d)"  # 1700-2199: within Arrow's ns range, and float64 holds its microseconds
_CLOCK = rf"{_YEAR}-\d\d-\d\d[T ](?:[01]\d|2[0-3]):[0-5]\d:[0-5]\d(?:\.\d{{1,9}})?"
#: a JSON string that Arrow's ISO-8601 cast and ``datetime.fromisoformat`` read alike (without a
#: zone; with ``Z`` or ``+hh:mm``): digits past the microsecond are cut by both (Arrow's
#: nanoseconds floored to microseconds); others are parsed by ``iso_ms`` one by one
_NAIVE = rf'^"{_CLOCK}"$'
_ZONED = rf'^"{_CLOCK}(?:Z|[+-](?:[01]\d|2[0-3]):[0-5]\d)"$'
_INT = r"^-?\d{1,15}$"  # epoch seconds or ms that a float holds exactly


def _times(columns: list[pa.Array]) -> pa.Array:
    """``_cicd.first_time`` of the raw time columns, row by row: the first that parses (a column
    is read only in the rows the ones before left without a time)."""
    n = len(columns[0])
    ms = np.zeros(n, np.int64)
    have = np.zeros(n, bool)
    for col in columns:
        if col.null_count == n:
            continue
        rows = np.flatnonzero(~have & _valid(col))
        if not len(rows):
            continue
        part = col if len(rows) == n else col.take(pa.array(rows))
        got, ok = _time_ms(part)
        ms[rows[ok]] = got[ok]
        have[rows[ok]] = True
    return pa.array(ms, pa.int64(), mask=~have)


def _time_ms(raw: pa.Array) -> tuple[np.ndarray, np.ndarray]:
    """``iso_ms`` of each JSON value of ``raw`` (its JSON text, none null): (int64 ms, whether parsed)."""
    n = len(raw)
    ms = np.zeros(n, np.int64)
    ok = np.zeros(n, bool)
    is_int = _mask(pc.match_substring_regex(raw, _INT))
    if is_int.any():
        v = np.asarray(pc.cast(pc.if_else(pa.array(is_int), raw, pa.scalar(None, raw.type)), pa.int64())
                       .fill_null(0).to_numpy(), np.float64)  # fmt: skip
        ms = np.where(is_int, np.where(v > 10_000_000_000, v, v * 1000), 0).astype(np.int64)  # iso_ms on a float
        ok |= is_int
    for pattern, unit in ((_NAIVE, pa.timestamp("ns")), (_ZONED, pa.timestamp("ns", tz="UTC"))):
        if ok.all():
            break
        hit = _mask(pc.match_substring_regex(raw, pattern))
        if not hit.any():
            continue
        text = pc.utf8_slice_codeunits(pc.if_else(pa.array(hit), raw, pa.scalar(None, raw.type)), 1, -1)
        try:
            us = np.asarray(pc.cast(text, unit).view(pa.int64()).fill_null(0).to_numpy(), np.int64) // 1000
        except pa.ArrowInvalid:  # a day or time no calendar has: iso_ms decides those rows
            continue
        # int(timedelta.total_seconds() * 1000): the same float operations, truncated
        ms = np.where(hit, (us.astype(np.float64) / 1e6 * 1000).astype(np.int64), ms)
        ok |= hit
    rest = np.flatnonzero(~ok)
    parsed = ok.copy()
    if len(rest):
        for k, text in zip(rest.tolist(), raw.take(pa.array(rest)).to_pylist(), strict=True):
            got = c.iso_ms(_decode(text))
            if got is not None:
                ms[k] = got
                parsed[k] = True
    return ms, parsed


def _mask(arr: pa.Array) -> np.ndarray:
    return np.asarray(pc.fill_null(arr, False).to_numpy(zero_copy_only=False), bool)
