"""GitLab webhooks mapped column by column: the one webhook mapping, fed by either decoder.

Design: :func:`hook_columns` maps one (class, kind) group of webhooks with Arrow compute
(per-value formatting, ids and times are computed once per distinct value). It reads its
fields through a small column source with two implementations: :class:`_Cols`, the columns
the native extension walked (a batch of at least :data:`MIN_BATCH` records that are all
webhooks: :func:`decode_hooks` walks each record once in Rust into the columns of every field
of ``gitlab._Rec``, strings as strings, every other typed field as raw JSON text decoded once
per distinct value with the field's msgspec type, so a value msgspec would refuse declines
the batch exactly as the record decoder would), and :class:`StructCols`, the records msgspec
decoded into ``gitlab._Rec`` structs (small or mixed batches, a batch the walker declines,
and every batch without the extension). Records are grouped by (class, kind) in order of
first appearance on both paths. The ``unmapped`` JSON is built from each record's top-level
raw map, whose key order is the record's.

Guarantees: one mapping, so the same batches on both paths (tests compare them on the
webhook cases, the benchmark corpus and mutated payloads). :func:`decode_hooks` returns
None, and the msgspec path decides, without the extension, for a small or mixed batch, an
irregular record or a raw value of the wrong type.
"""

from __future__ import annotations

import functools
import itertools
import operator
from collections.abc import Callable
from typing import Any, NamedTuple, TypeAlias

import msgspec
import numpy as np
import pyarrow as pa

from secpipe import _compute as pc
from secpipe.formats import _cicd as c
from secpipe.formats import _fast
from secpipe.formats._findings import SEVERITY_WORDS, Distinct, either, nonempty, or_null
from secpipe.formats._uids import uid_prefix
from secpipe.formats.base import TimeField, json_value
from secpipe.formats.base import object_or_empty as _obj
from secpipe.formats.base import text_or_none as _text

#: batches smaller than this are decoded with msgspec (one webhook per HTTP request: a
#: handful of C decodes cost less than a native walk's setup and per-path buffers)
MIN_BATCH = 64

_S = pa.string()
_NULL = msgspec.Raw(b"null")
_ZERO_SHA = "0" * 40
_Fn = Callable[[Any], Any]


def _paths(type_: type, prefix: str = "") -> list[tuple[str, str, Any]]:
    """(path, walker mode, msgspec type of a raw path) for each typed field of a struct; raw
    (``msgspec.Raw``) fields take any JSON and are not walked."""
    ins = msgspec.inspect
    out: list[tuple[str, str, Any]] = []
    for f in msgspec.structs.fields(type_):
        name = prefix + f.encode_name
        info = ins.type_info(f.type)
        types = info.types if isinstance(info, ins.UnionType) else (info,)
        kinds = {type(t) for t in types} - {ins.NoneType}
        if kinds == {ins.RawType}:
            continue
        if kinds == {ins.StrType} or f.type == TimeField:  # an epoch-number time declines the batch (msgspec reads it)
            out.append((name, _fast.STR, None))
        elif kinds == {ins.StructType}:
            sub = next(t for t in types if isinstance(t, ins.StructType))
            out.extend(_paths(sub.cls, name + "."))
        else:
            out.append((name, _fast.RAW, f.type))
    return out


@functools.cache
def spec(rec_type: type) -> tuple[_fast.Spec, tuple[tuple[str, Any], ...]]:
    """The walker spec of a record struct and its raw paths with their msgspec types."""
    paths = _paths(rec_type)
    known = tuple(f.encode_name for f in msgspec.structs.fields(rec_type))
    return _fast.Spec(tuple((p, m) for p, m, _t in paths), (), known), tuple((p, t) for p, m, t in paths if m == _fast.RAW)


def _present(tops: list[dict[str, msgspec.Raw]], key: str, like: pa.Array | list[Any]) -> pa.Array | list[bool]:
    """Per record: ``key`` is there and not null (the msgspec struct field is not None); a list
    or an Arrow column as ``like`` is."""
    null = _NULL
    present = [t.get(key, null) != null for t in tops]
    return present if isinstance(like, list) else pa.array(present, pa.bool_())


class _Cols:
    """The walked columns of one group of records (``rows``: their positions in the batch)."""

    def __init__(self, strings: dict[str, pa.Array], raws: dict[str, tuple[Distinct, np.ndarray]], rows: np.ndarray,
                 whole: bool) -> None:  # fmt: skip
        self._strings, self._raws, self.rows, self._whole = strings, raws, rows, whole
        self.take = pa.array(rows, pa.int32())
        self.n = len(rows)

    def s(self, path: str) -> pa.Array:
        """A string field."""
        col = self._strings[path]
        return col if self._whole else col.take(self.take)

    def v(self, path: str, fn: _Fn, type_: pa.DataType = _S) -> pa.Array:
        """``fn`` of a raw field's decoded value (None where absent), once per distinct value."""
        d, idx = self._raws[path]
        vals = pa.array([fn(x) for x in d.values], type_)
        return vals.take(pa.array(idx if self._whole else idx[self.rows]))


class StructCols:
    """The column source of :func:`hook_columns` over records msgspec decoded (``gitlab._Rec``):
    a field's values read from each struct (a path through nested structs; None where one on
    the way is None), as Python lists: a batch here is small (often one webhook), where an
    Arrow call per column would cost more than the values (the column helpers below take
    either form and give the same values)."""

    def __init__(self, recs: list[Any]) -> None:
        self._recs = recs
        self.n = len(recs)
        self._read: dict[str, list[Any]] = {}  # path -> values (objects on the way are read once)

    def _values(self, path: str) -> list[Any]:
        vals = self._read.get(path)
        if vals is None:
            parent, _, name = path.rpartition(".")
            if parent:
                vals = [None if v is None else getattr(v, name) for v in self._values(parent)]
            else:
                vals = [getattr(r, name) for r in self._recs]
            self._read[path] = vals
        return vals

    def s(self, path: str) -> list[Any]:
        """A string field."""
        return self._values(path)

    def v(self, path: str, fn: _Fn, type_: pa.DataType = _S) -> list[Any]:
        """``fn`` of a field's value (None where absent)."""
        return [fn(x) for x in self._values(path)]


def typed_leaves(cls: str, leaves: dict[str, Any]) -> dict[str, Any]:
    """``leaves`` with each Arrow column cast to its OCSF type (``resources`` and ``unmapped`` are
    built typed), as ``pa.array(values, type)`` types a list column."""
    for path, col in leaves.items():
        if isinstance(col, pa.Array) and path not in ("resources", "unmapped") and (typ := c._type(cls, path)) is not None \
                and col.type != typ:  # fmt: skip
            leaves[path] = col.cast(typ)
    return leaves


#: a column of :func:`hook_columns`: Arrow (walked batches) or a Python list (decoded structs)
Col: TypeAlias = pa.Array | list[Any]


def _each(col: Col, fn: _Fn, type_: pa.DataType) -> Col:
    """``fn`` of each string (None for null) of a column, once per distinct value."""
    if isinstance(col, list):
        if len(col) < 16:
            return [fn(x) for x in col]
        done: dict[Any, Any] = {}
        return [done[x] if x in done else done.setdefault(x, fn(x)) for x in col]
    enc = pc.dictionary_encode(col)
    vals = pa.array([fn(x) for x in enc.dictionary.to_pylist()], type_)
    out = vals.take(enc.indices)
    if out.null_count and (none := fn(None)) is not None:
        out = pc.fill_null(out, pa.scalar(none, type_))
    return out


def _join(*parts: Col | str) -> Col:
    """Strings concatenated per row (a null part gives null)."""
    cols = [p for p in parts if not isinstance(p, str)]
    if isinstance(cols[0], list):
        rows = zip(*[p if isinstance(p, list) else [p] * len(cols[0]) for p in parts], strict=True)
        return [None if None in row else "".join(row) for row in rows]
    return pc.binary_join_element_wise(*parts, "")


def _shown(col: Col) -> Col:
    """A string as an f-string shows it (``None`` for null)."""
    return ["None" if x is None else x for x in col] if isinstance(col, list) else pc.fill_null(col, "None")


def _either(a: Col, b: Col) -> Col:
    """``a or b`` per row of string columns."""
    return [x or y for x, y in zip(a, b, strict=True)] if isinstance(a, list) else either(a, b)  # type: ignore[arg-type]


def _or_null(col: Col) -> Col:
    """``sid`` of a string: an empty one is null."""
    if isinstance(col, list):
        return [x or None for x in col]
    return or_null(col)


def _where(mask: Col, a: Col | str, b: Col | str | None) -> Col:
    """``a`` where ``mask`` (a bool column without nulls) is true, else ``b`` (a column, a string or None)."""
    if isinstance(mask, list):
        a_ = a if isinstance(a, list) else [a] * len(mask)
        b_ = b if isinstance(b, list) else [b] * len(mask)
        return [x if m else y for m, x, y in zip(mask, a_, b_, strict=True)]
    return pc.if_else(mask, a, pa.scalar(None, _S) if b is None else b)


def _nonempty(col: Col) -> Col:
    return [bool(x) for x in col] if isinstance(col, list) else nonempty(col)


def _coalesce(*cols: Col) -> Col:
    if isinstance(cols[0], list):
        return [next((x for x in row if x is not None), None) for row in zip(*cols, strict=True)]
    return pc.coalesce(*cols)


def _repeat(value: Any, n: int, like: Col) -> Col:
    return [value] * n if isinstance(like, list) else pa.repeat(pa.scalar(value), n)


def _all_null(col: Col) -> bool:
    return all(x is None for x in col) if isinstance(col, list) else col.null_count == len(col)


def _iso(col: Col) -> Col:
    return _each(col, c.iso_ms, pa.int64())


def _resources(items: list[tuple[str, Col, Col]], n: int) -> pa.Array:
    """``resources`` as ``_cicd.resources_column`` builds it: per row, the items (type, name,
    uid) in order whose name or uid is set; a row with none is null."""
    if isinstance(items[0][1], list):  # Python lists (a few decoded structs): tuples per row
        cols = [(t, name, uid) for t, name, uid in items]
        return c.resources_column([tuple((t, names[i], uids[i]) for t, names, uids in cols) for i in range(n)])  # type: ignore[index]
    k = len(items)
    names = np.empty(n * k, object)
    uids = np.empty(n * k, object)
    keep = np.zeros(n * k, np.bool_)
    for j, (_t, name, uid) in enumerate(items):  # Arrow columns: interleaved with numpy, kept items taken
        names[j::k] = name.to_numpy(zero_copy_only=False)  # type: ignore[union-attr]
        uids[j::k] = uid.to_numpy(zero_copy_only=False)  # type: ignore[union-attr]
        keep[j::k] = pc.or_(name.is_valid(), uid.is_valid()).to_numpy(zero_copy_only=False)  # type: ignore[union-attr]
    counts = keep.reshape(n, k).sum(axis=1)
    offsets = np.zeros(n + 1, np.int64)
    np.cumsum(counts, out=offsets[1:])
    types = np.tile(np.array([t for t, _n, _u in items], object), n)
    return c._resources_array(types[keep].tolist(), names[keep].tolist(), uids[keep].tolist(), offsets.tolist(),
                              (counts > 0).tolist())  # fmt: skip


def _uid(g: _Cols | StructCols, tops: list[dict[str, msgspec.Raw]], sid: _Fn) -> Col:
    """``sid(u.id if u else r.user_id)``: the user object's id where the record has one."""
    user_id = g.v("user_id", sid)
    if _all_null(user_id):  # no top-level user_id: the user's id (null without a user)
        return g.v("user.id", sid)
    return _where(_present(tops, "user", user_id), g.v("user.id", sid), user_id)


#: GitLab's vulnerability states -> OCSF finding status_id (detected: not yet triaged)
_VULN_STATUS = {"detected": 1, "confirmed": 2, "dismissed": 3, "resolved": 4}
#: ... -> Vulnerability Finding activity (a dismissed or resolved vulnerability is closed)
_VULN_ACTIVITY = {"detected": 1, "confirmed": 2, "dismissed": 3, "resolved": 3}


def _vulnerability(a: dict[str, Any]) -> dict[str, Any]:
    """The OCSF ``vulnerabilities[]`` item of a vulnerability webhook's ``object_attributes``."""
    given = a.get("identifiers")
    idents = [x for x in given if isinstance(x, dict)] if isinstance(given, list) else []
    cve = next((_text(x.get("external_id")) or _text(x.get("name")) for x in idents
                if str(x.get("external_type") or "").lower() == "cve"), None)  # fmt: skip
    names = [n for x in idents if (n := _text(x.get("name")) or _text(x.get("external_id"))) and n != cve]
    urls = [u for x in idents if (u := _text(x.get("url")))]
    loc = _obj(a.get("location"))
    dep = _obj(loc.get("dependency"))
    pkg = _text(_obj(dep.get("package")).get("name"))
    item: dict[str, Any] = {"title": _text(a.get("title")), "severity": _text(a.get("severity")), "vendor_name": "GitLab",
                            "related_vulnerabilities": names or None, "references": urls or None}  # fmt: skip
    if cve:
        item["cve"] = {"uid": cve, "title": item["title"]}
    if pkg:
        item["affected_packages"] = [{"name": pkg, "version": _text(dep.get("version")), "path": _text(loc.get("file"))}]
    return item


_MEMBERS = msgspec.json.Decoder(dict[str, msgspec.Raw])


def _attributes(raw: msgspec.Raw) -> dict[str, Any]:
    """A vulnerability's ``object_attributes`` as Python values; a member holding a value msgspec
    cannot hold (a number beyond float64: legal JSON, it raised out of the decode and lost the
    batch) is left out, as absent (the record keeps it in raw_data)."""
    try:
        return _obj(msgspec.json.decode(raw))
    except msgspec.ValidationError:
        pass
    try:
        members = _MEMBERS.decode(raw)
    except msgspec.DecodeError:  # not an object: no attributes (as _obj reads one)
        return {}
    out: dict[str, Any] = {}
    for k, v in members.items():
        try:
            out[k] = msgspec.json.decode(v)
        except msgspec.ValidationError:
            continue
    return out


def _vulnerability_columns(cols: dict[str, Any], tops: list[dict[str, msgspec.Raw]], g: _Cols | StructCols,
                           sid: _Fn, common: frozenset[str]) -> tuple[dict[str, Any], Col, Col]:  # fmt: skip
    """Vulnerability webhooks (GitLab 17.7+: a vulnerability created, or its state changed) as
    Vulnerability Findings: ``finding_info`` (uid: the vulnerability's URL, else its id), the
    vulnerability (CVE and other identifiers, package and version, the lock file), severity,
    status from the state. Read from each record's ``object_attributes`` (rare records: per
    row in Python, the same on both decode paths)."""
    attrs = [_attributes(t["object_attributes"]) for t in tops]
    state = [_text(a.get("state")) for a in attrs]
    status = [_VULN_STATUS.get(x or "", 99 if x else 0) for x in state]
    created = [c.iso_ms(a.get("created_at")) for a in attrs]
    updated = [c.iso_ms(a.get("updated_at")) for a in attrs]
    project = ("project", _or_null(_either(g.s("project.path_with_namespace"), g.s("project.name"))), g.v("project.id", sid))
    cols.update({
        "finding_info.uid": [_text(a.get("url")) or sid(a.get("id")) or _text(a.get("title")) for a in attrs],
        "finding_info.title": [_text(a.get("title")) for a in attrs],
        "finding_info.src_url": [_text(a.get("url")) for a in attrs],
        "finding_info.types": [[t] if (t := _text(a.get("report_type"))) else None for a in attrs],
        "finding_info.created_time": created,
        "finding_info.modified_time": updated,
        "vulnerabilities": [[_vulnerability(a)] for a in attrs],
        "severity_id": [SEVERITY_WORDS.get((_text(a.get("severity")) or "").lower(), 0) for a in attrs],
        "status_id": status,
        "status": [c.FINDING_STATUS.get(k) if k != 99 else x for k, x in zip(status, state, strict=True)],
        "status_detail": state,
        "resources": _resources([project], len(attrs)),
        "api.operation": [f"vulnerability.{x}" if x else "vulnerability" for x in state],
        "unmapped": c.unmapped_rest(tops, common),
    })  # fmt: skip
    times = [u or t for u, t in zip(updated, created, strict=True)]
    return cols, times, [_VULN_ACTIVITY.get(x or "", 99) for x in state]


#: the expiring-token hooks (GitLab 16.10+ ``access_token``, 18.x ``deploy_token``) -> the words of their message
_TOKEN_NOUN = {"access_token": "access token", "deploy_token": "deploy token"}


def _token_columns(cols: dict[str, Any], tops: list[dict[str, msgspec.Raw]], g: _Cols | StructCols, kind: str,
                   sid: _Fn, common: frozenset[str]) -> tuple[dict[str, Any], Col, Col]:  # fmt: skip
    """Project and group access token hooks (and deploy token ones, the same shape): GitLab tells
    that a token expires soon (``event_name`` ``expiring_access_token``; its ``object_attributes``:
    the token's id, name, ``expires_at``, its creation time and bot user). No user acts (the actor
    is GitLab), and the payload has no time of the notice: the token's ``created_at`` is not when
    it was sent (the receipt time is taken). Resources: the project (``project``) or group
    (``group``: ``full_path`` else ``group_path``, ``group_id``) and the token. Read per row (rare
    records: the same on both decode paths)."""
    attrs = [_attributes(t.get("object_attributes", _NULL)) for t in tops]
    groups = [_attributes(t.get("group", _NULL)) for t in tops]
    events = g.s("event_name")
    events = events if isinstance(events, list) else events.to_pylist()
    projects = g.s("project.path_with_namespace")
    projects = projects if isinstance(projects, list) else projects.to_pylist()
    project_ids = g.v("project.id", sid)
    project_ids = project_ids if isinstance(project_ids, list) else project_ids.to_pylist()
    noun = _TOKEN_NOUN.get(kind, kind)
    resources, messages = [], []
    for a, grp, path, pid in zip(attrs, groups, projects, project_ids, strict=True):
        gpath = _text(grp.get("full_path")) or _text(grp.get("group_path"))
        owner = c.resource("project", path, pid) or c.resource("group", gpath, sid(grp.get("group_id")))
        name, expires = _text(a.get("name")), _text(a.get("expires_at"))
        resources.append(c.compact([owner, c.resource(kind, name, sid(a.get("id")))]))
        words = [noun.capitalize(), name or sid(a.get("id"))]
        if owner and owner["name"]:
            words += ["of", owner["type"], owner["name"]]
        words += ["expires", "on", expires] if expires else ["expires"]
        messages.append(" ".join(w for w in words if w))
    cols.update({
        "resources": resources,
        "message": messages,
        "api.operation": [e or kind for e in events],
        "unmapped": c.unmapped_rest(tops, common),
    })  # fmt: skip
    return cols, [None] * len(tops), [99] * len(tops)


def _duration_ms(seconds: float | None) -> int | None:
    """A duration in seconds as ms; none where it is absent, zero or past the int64 column (a
    float such as 1e300 is valid JSON: its int raised out of the mapping and lost the batch)."""
    ms = int(seconds * 1000) if seconds else None
    return ms if ms is None or -(2**63) <= ms < 2**63 else None


def _job_columns(cols: dict[str, Any], g: _Cols | StructCols, tops: list[dict[str, msgspec.Raw]],
                 maps: Any) -> tuple[dict[str, Any], Col, Col]:  # fmt: skip
    """A job (``build``) hook's Scheduled Job Activity columns: the job's fields are at the top."""
    status = g.s("build_status")
    name = _either(g.s("build_name"), _repeat("job", g.n, status))  # OCSF requires job.name
    pipeline = g.v("pipeline_id", c.sid)
    path = g.s("project.path_with_namespace")
    ok = maps._OK.get
    cols.update({
        "job.name": name,
        "job.desc": _join(_where(_nonempty(path), _join(path, " "), ""), "pipeline ", pipeline, ", stage ",
                          g.s("build_stage")),  # fmt: skip
        "job.run_state_id": _each(status, lambda x: maps._PIPE_STATE.get(x or "", 99), pa.int32()),
        "job.run_state": _each(status, maps.run_state, _S),
        "job.created_time": _iso(g.s("build_created_at")),
        "job.last_run_time": _iso(g.s("build_started_at")),
        "job.user.name": cols["actor.user.name"],
        "status_id": _each(status, lambda x: ok(x or "") or None, pa.int32()),
        "status": _each(status, lambda x: c.STATUS.get(ok(x or "")) if ok(x or "") else None, _S),
        "status_detail": status,
        "metadata.correlation_uid": pipeline,
        "duration": g.v("build_duration", _duration_ms, pa.int64()),
        "api.operation": _each(status, lambda x: f"build.{x}", _S),
        "unmapped": c.unmapped_rest(tops, maps._JOB_MAPPED),
    })  # fmt: skip
    times = _coalesce(_iso(g.s("build_finished_at")), _iso(g.s("build_started_at")), _iso(g.s("build_created_at")))
    return cols, times, _each(status, lambda x: maps._PIPE_ACTIVITY.get(x or "", 2), pa.int32())


def _top_text(tops: list[dict[str, msgspec.Raw]], key: str, like: Col) -> Col:
    """A top-level key read from each record's raw map as text (a non-empty string, else None),
    as a list or an Arrow column as ``like`` is."""
    vals = [_raw_text(t.get(key)) for t in tops]
    return vals if isinstance(like, list) else pa.array(vals, _S)


def _raw_text(raw: msgspec.Raw | None) -> str | None:
    """A raw JSON value as text (a non-empty string, else None; a number msgspec cannot hold too)."""
    return None if raw is None else _text(json_value(raw))


def _unnamed(*cols: Col) -> Col:
    """Per row: none of these string columns holds a non-empty value."""
    if isinstance(cols[0], list):
        return [not any(row) for row in zip(*cols, strict=True)]
    named = _nonempty(cols[0])
    for col in cols[1:]:
        named = pc.or_(named, _nonempty(col))
    return pc.invert(named)


def hook_columns(g: _Cols | StructCols, tops: list[dict[str, msgspec.Raw]], cls: str, kind: str,
                 maps: Any) -> tuple[dict[str, Any], Col, Col | int]:  # fmt: skip
    """The leaves, times and activity ids of one group of webhooks of ``kind`` (``cls`` tells a
    pipeline with ``object_attributes``), column by column (``maps``: the gitlab module, for its
    tables and key sets). The columns are Arrow arrays or Python lists, as ``g`` gives them.

    An API Activity whose hook names no user (neither ``user`` nor ``user_username``/``user_name``/
    ``user_id``: release, milestone and access token hooks, GitLab's "Webhook events") has GitLab
    as its actor (``actor.app_name``, as system hooks: OCSF API Activity requires an actor)."""
    cols, times, acts = _kind_columns(g, tops, cls, kind, maps)
    if cls == "api_activity":
        user = [cols["actor.user.name"], cols["actor.user.full_name"], cols["actor.user.uid"]]
        cols["actor.app_name"] = _where(_unnamed(*user), "GitLab", None)
    return cols, times, acts


def _kind_columns(g: _Cols | StructCols, tops: list[dict[str, msgspec.Raw]], cls: str, kind: str,
                  maps: Any) -> tuple[dict[str, Any], Col, Col | int]:  # fmt: skip
    """:func:`hook_columns` before the actor's fallback."""
    n, sid = g.n, c.sid
    names = _either(g.s("user.username"), g.s("user_username"))
    email = _either(g.s("user.email"), g.s("user_email"))  # a push hook's pusher: ``user_email`` at the top
    has_at = [x is not None and "@" in x for x in email] if isinstance(email, list) else pc.fill_null(
        pc.match_substring(email, "@"), False)  # fmt: skip
    cols: dict[str, Any] = {
        "metadata.event_code": _repeat(kind, n, names),
        "api.service.name": _repeat("GitLab webhooks", n, names),
        "actor.user.name": names,
        "actor.user.full_name": _either(g.s("user.name"), g.s("user_name")),
        "actor.user.uid": _uid(g, tops, sid),
        "actor.user.email_addr": _where(has_at, email, None),
    }  # fmt: skip
    oa = "object_attributes."
    if kind == "build":
        return _job_columns(cols, g, tops, maps)
    if cls == "scheduled_job_activity":
        status = g.s(oa + "status")
        pipeline = _where(_present(tops, "project", names), _join(_shown(g.s("project.path_with_namespace")), " pipeline"),
                          "pipeline")  # fmt: skip
        ref = g.s(oa + "ref")
        desc = _join(_either(g.s(oa + "source"), _repeat("pipeline", n, names)), " on ", ref, " (",
                     _shown(g.s(oa + "sha")), ")")  # fmt: skip
        ok = maps._OK.get
        cols.update({
            "job.name": _either(g.s(oa + "name"), pipeline),
            "job.desc": _where(_nonempty(ref), desc, None),
            "job.run_state_id": _each(status, lambda x: maps._PIPE_STATE.get(x or "", 99), pa.int32()),
            "job.run_state": _each(status, maps.run_state, _S),
            "job.created_time": _iso(g.s(oa + "created_at")),
            "job.user.name": names,
            "status_id": _each(status, lambda x: ok(x or "") or None, pa.int32()),
            "status": _each(status, lambda x: c.STATUS.get(ok(x or "")) if ok(x or "") else None, _S),
            "status_detail": status,
            "metadata.correlation_uid": g.v(oa + "id", sid),
            "duration": g.v(oa + "duration", _duration_ms, pa.int64()),
            "api.operation": _each(status, lambda x: f"pipeline.{x}", _S),
            "unmapped": c.unmapped_rest(tops, maps._HOOK_COMMON),
        })  # fmt: skip
        times = _coalesce(_iso(g.s(oa + "finished_at")), _iso(g.s(oa + "updated_at")), _iso(g.s(oa + "created_at")))
        return cols, times, _each(status, lambda x: maps._PIPE_ACTIVITY.get(x or "", 2), pa.int32())
    if cls == "vulnerability_finding":
        return _vulnerability_columns(cols, tops, g, sid, maps._HOOK_COMMON)
    if kind in _TOKEN_NOUN:
        return _token_columns(cols, tops, g, kind, sid, maps._HOOK_COMMON)
    if kind == "deployment":
        def text(x: Any) -> str | None:
            return x if isinstance(x, str) else None

        def ok_of(x: Any) -> int | None:
            return maps._OK.get(text(x) or "")  # type: ignore[no-any-return]

        cols.update({
            "app.name": g.s("project.path_with_namespace"),
            "app.uid": g.v("deployment_id", sid),
            "app.version": g.s("short_sha"),
            "app.feature.name": g.s("environment"),
            "status_id": g.v("status", ok_of, pa.int32()),
            "status": g.v("status", lambda x: c.STATUS.get(ok_of(x)) if ok_of(x) is not None else None),  # type: ignore[arg-type]
            "status_detail": g.v("status", text),
            "api.operation": g.v("status", lambda x: f"deployment.{x}"),
            "unmapped": c.unmapped_rest(tops, maps._HOOK_COMMON),
        })  # fmt: skip
        return cols, _iso(g.s("status_changed_at")), 1
    if kind in ("push", "tag_push"):
        ref = g.s("ref")
        project = ("project", _or_null(_either(g.s("project.path_with_namespace"), g.s("project.name"))), g.v("project.id", sid))
        commits = g.v("total_commits_count", lambda x: str(x or 0))
        before, after = g.s("before"), g.s("after")
        who = _either(names, cols["actor.user.full_name"])  # a tag push hook may name its user by name alone
        pushed = _join(commits, " commit(s) to ", _shown(ref))
        cols.update({
            "resources": _resources([project, ("git_ref", _or_null(ref), _or_null(after))], n),
            "message": _where(_nonempty(who), _join(who, " pushed ", pushed), _join("Pushed ", pushed)),
            "api.operation": _repeat(kind, n, names),
            "unmapped": c.unmapped_rest(tops, maps._PUSH_MAPPED),
        })  # fmt: skip
        if isinstance(before, list):
            return cols, [None] * n, [1 if b == _ZERO_SHA else 4 if a == _ZERO_SHA else 3 for b, a in zip(before, after, strict=True)]
        created = pc.fill_null(pc.equal(before, _ZERO_SHA), False)
        deleted = pc.fill_null(pc.equal(after, _ZERO_SHA), False)
        acts = pc.if_else(created, 1, pc.if_else(deleted, 4, 3)).cast(pa.int32())
        return cols, pa.nulls(n, pa.int64()), acts
    title = _either(g.s(oa + "title"), g.s(oa + "name"))
    if kind == "merge_request":
        prefix = g.v(oa + "iid", lambda x: f"!{x} " if x else None)
        valid = [x is not None for x in prefix] if isinstance(prefix, list) else prefix.is_valid()
        title = _where(valid, _join(prefix, _shown(title)), title)
    uid = g.v(oa + "id", sid)
    if kind == "release":  # no object_attributes: the release's name (else its tag) and id at the top
        title = _either(title, _either(_top_text(tops, "name", title), _top_text(tops, "tag", title)))
        uid = _coalesce(uid, g.v("id", sid))
    project = ("project", _or_null(_either(g.s("project.path_with_namespace"), g.s("project.name"))), g.v("project.id", sid))
    action = _either(g.s(oa + "action"), g.s("action"))  # release and milestone hooks name it at the top
    cols.update({
        "resources": _resources([project, (kind, _or_null(title), uid)], n),
        "api.operation": _where(_nonempty(action), _join(f"{kind}.", action), kind),
        "unmapped": c.unmapped_rest(tops, maps._HOOK_COMMON),
    })  # fmt: skip
    otherwise = maps._KIND_ACTIVITY.get(kind, 99)  # a kind that names no action
    acts = _each(action, lambda x: maps._MR_ACTIVITY.get(x, c.verb_activity(x)) if x else otherwise, pa.int32())
    # kinds without object_attributes name their time at the top: a job (build) hook its build
    # times, a release its created_at
    times = _coalesce(_iso(g.s(oa + "updated_at")), _iso(g.s(oa + "created_at")), _iso(g.s("build_finished_at")),
                      _iso(g.s("build_started_at")), _iso(g.s("build_created_at")), g.v("created_at", c.iso_ms, pa.int64()))  # fmt: skip
    return cols, times, acts


def decode_hooks(raws: list[bytes], tops_of: Callable[[], list[dict[str, msgspec.Raw]] | None]
                 ) -> list[Hooks] | None:  # fmt: skip
    """Per (class, kind) group in order of first appearance: its :class:`Hooks`; None when the
    msgspec path must decide (see module doc). ``tops_of`` decodes the records' top-level raw
    maps (None when one is not an object). The walk also gives each record's ``raw_data`` and
    ``metadata.uid`` (``event_uids("gitlab", ...)``), made while the record is in the CPU cache."""
    if len(raws) < MIN_BATCH or not _fast.available():
        return None
    if not all(map(operator.contains, raws, itertools.repeat(b'"object_kind"'))):
        return None  # a record without the key is no webhook: not walked only to decline (stops at the first)
    from secpipe.formats import gitlab as maps  # the record type and tables (gitlab imports this module)

    rec_type = maps._Rec
    walk, raw_paths = spec(rec_type)
    cols = _fast.extract(raws, walk, whole=True, uid_prefix=uid_prefix(maps.GitLab.name))
    if cols is None:
        return None
    kinds = cols.strings["object_kind"]
    if not pc.all(nonempty(kinds)).as_py():
        return None
    raws_d: dict[str, tuple[Distinct, np.ndarray]] = {}
    for path, type_ in raw_paths:
        d = Distinct.from_column(cols.strings[path], type_, path)
        if d.errors:
            return None
        raws_d[path] = (d, np.asarray(d.idx, np.int32))
    tops = tops_of()
    if tops is None:
        return None
    null = _NULL
    groups: dict[tuple[str, str], list[int]] = {}
    for i, (k, t) in enumerate(zip(kinds.to_pylist(), tops, strict=True)):
        key = (maps.hook_class(k, t.get("object_attributes", null) != null), k)
        g = groups.get(key)
        if g is None:
            g = groups[key] = []
        g.append(i)
    out = []
    assert cols.uids is not None  # the walk was given a uid prefix
    for (cls, kind), members in groups.items():
        rows = np.asarray(members, np.int32)
        whole = len(members) == len(raws)
        group = _Cols(cols.strings, raws_d, rows, whole)
        leaves, times, acts = hook_columns(group, tops if whole else [tops[i] for i in members], cls, kind, maps)
        raw, uids = (cols.raw, cols.uids) if whole else (
            None if cols.raw is None else cols.raw.take(group.take), cols.uids.take(group.take))  # fmt: skip
        out.append(Hooks(cls, kind, rows, typed_leaves(cls, leaves), times, acts, raw, uids))
    return out


class Hooks(NamedTuple):
    """One (class, kind) group of walked webhooks: record positions in the batch, leaves, times,
    activity ids, and the records' ``raw_data`` (None past the walker's 2 GiB bound: the caller
    makes it) and ``metadata.uid`` columns."""

    cls: str
    kind: str
    rows: np.ndarray
    leaves: dict[str, Any]
    times: pa.Array
    acts: pa.Array | int
    raw: pa.Array | None
    uids: pa.Array
