"""Where SARIF results are (for :mod:`.sarif`): their files' paths, ``affected_code`` entries (one per location
with a file, SARIF 2.1.0 §3.27.12, §3.30) and the logical location (namespace, type, function) a result is on."""

from __future__ import annotations

from typing import Any

import numpy as np
import pyarrow as pa

from secpipe import _compute as pc
from secpipe.formats._findings import S, either, nest, strs
from secpipe.formats._sarif_run import LOG_FIELDS, RunCtx
from secpipe.formats._sarif_uris import file_path
from secpipe.formats.base import int32_or_none

_REGULAR_FILE = 1  # OCSF file.type_id Regular File: a source file the result points at


def logical(run: RunCtx, f: dict[str, Any]) -> tuple[pa.Array, pa.Array]:
    """(fully qualified name, kind) of each result's first logical location, null where it has none.
    A result's logical location with an ``index`` takes the properties of ``run.logicalLocations[index]``
    it does not give itself (§3.33.3); its fully qualified name is ``fullyQualifiedName``, else ``name``
    (a top-level location's defaults to it, §3.33.5). Resolved once per distinct reference."""
    cols = [f["logical." + k] for k in (*LOG_FIELDS, "index")]
    n = len(cols[0])
    if all(c.null_count == n for c in cols):
        return pa.nulls(n, S), pa.nulls(n, S)
    got: dict[tuple[Any, ...], tuple[str | None, str | None]] = {}
    names, kinds = [], []
    for ref in zip(*(c.to_pylist() for c in cols), strict=True):
        if (hit := got.get(ref)) is None:
            fqn, name, kind, index = ref
            cached = run.logical[index] if index is not None and 0 <= index < len(run.logical) else (None, None, None)
            hit = got[ref] = (fqn or cached[0] or name or cached[1] or None, kind or cached[2] or None)
        names.append(hit[0])
        kinds.append(hit[1])
    return strs(names), strs(kinds)


def affected_code(paths: pa.Array, region: dict[str, pa.Array], rid: pa.Array, names: pa.Array, short: pa.Array) -> pa.Array:
    """``affected_code`` entries of locations (``paths`` and ``region``'s int64 line/column columns)."""
    has_file = paths.is_valid()
    start_line = _int32(region["startLine"])
    return nest({
        "file.path": paths,
        "file.name": distinct_map(paths, _file_name, S),
        "file.type_id": pc.if_else(has_file, pa.scalar(_REGULAR_FILE, pa.int32()), pa.scalar(None, pa.int32())),
        "file.type": pc.if_else(has_file, pa.scalar("Regular File", S), pa.scalar(None, S)),
        "start_line": start_line,
        # a line/column region's absent endLine is its startLine and its absent startColumn 1
        # (SARIF 2.1.0 §3.30.5-§3.30.7); an absent endColumn (the end of that line) stays unknown
        "end_line": _int32(pc.coalesce(region["endLine"], region["startLine"])),
        "start_column": pc.coalesce(_int32(region["startColumn"]), pc.if_else(start_line.is_valid(), _ONE, _NULL32)),
        "end_column": _int32(region["endColumn"]),
        "rule.uid": rid,
        "rule.name": names,
        "rule.desc": short,
    })  # fmt: skip


def all_affected_code(run: RunCtx, offsets: np.ndarray, locs: dict[str, pa.Array], rid: pa.Array, names: pa.Array,
              short: pa.Array) -> pa.Array:  # fmt: skip
    """``affected_code`` of every location of each result (``offsets``: result i's locations are
    ``offsets[i]:offsets[i+1]`` of the per-location columns ``locs``), those with a file, in order."""
    rows = np.repeat(np.arange(len(offsets) - 1, dtype=np.int32), np.diff(offsets))
    at = pa.array(rows)
    paths = either(location_paths(run, locs["uri"], locs["base"]), artifact_uris(run, locs["artifact"]))
    code = affected_code(paths, locs, rid.take(at), names.take(at), short.take(at))
    keep = np.asarray(paths.is_valid().to_numpy(zero_copy_only=False), bool)
    counts = np.bincount(rows[keep], minlength=len(offsets) - 1)
    off = np.zeros(len(counts) + 1, np.int32)
    np.cumsum(counts, out=off[1:])
    return pa.ListArray.from_arrays(pa.array(off), code.filter(pa.array(keep)), mask=pa.array(counts == 0))


_ONE = pa.scalar(1, pa.int32())
_NULL32 = pa.scalar(None, pa.int32())


def _int32(col: pa.Array) -> pa.Array:
    """Line or column numbers (int64) as OCSF's int32, each by :func:`~.base.int32_or_none` (a value beyond
    int32 left null): cast whole when its least and greatest values are int32 (as real ones are)."""
    low, high = pc.min_max(col).values()
    if low.as_py() is None or (int32_or_none(low.as_py()) is not None and int32_or_none(high.as_py()) is not None):
        return col.cast(pa.int32())
    return pa.array([int32_or_none(v) for v in col.to_pylist()], pa.int32())


def _file_name(path: str | None) -> str | None:
    """The last segment of a path (a Windows path's, ``C:\\src\\a.c``, where it has no ``/``)."""
    if not path:
        return None
    return path.rsplit("/", 1)[-1] if "/" in path or "\\" not in path else path.rsplit("\\", 1)[-1]


def distinct_map(col: pa.Array, fn: Any, type_: pa.DataType) -> pa.Array:
    """``fn`` applied once per distinct value of a string column (nulls stay null)."""
    enc = pc.dictionary_encode(col)
    return pa.array([fn(v) for v in enc.dictionary.to_pylist()], type_).take(enc.indices)


def location_paths(run: RunCtx, uris: pa.Array, bases: pa.Array) -> pa.Array:
    """Each first location's path (:func:`._sarif_uris.file_path`), once per distinct (uri, uriBaseId)."""
    if uris.null_count == len(uris):
        return uris
    key = pc.binary_join_element_wise(uris, pc.fill_null(bases, ""), "\0")
    enc = pc.dictionary_encode(key)
    got = []
    for k in enc.dictionary.to_pylist():
        uri, base = k.rsplit("\0", 1)
        got.append(file_path(uri, base or None, run.bases) if uri else uri)
    return pa.array(got, S).take(enc.indices)


def artifact_uris(run: RunCtx, index: pa.Array) -> pa.Array:
    """``run.artifacts[index].location.uri`` (null for an absent or out-of-range index)."""
    arts = strs(run.artifacts)
    if not len(arts) or index.null_count == len(index):
        return pa.nulls(len(index), S)
    ok = pc.and_(pc.greater_equal(index, 0), pc.less(index, len(arts)))
    return arts.take(pc.if_else(ok, index, pa.scalar(None, pa.int64())))


__all__ = ["affected_code", "all_affected_code", "artifact_uris", "distinct_map", "location_paths", "logical"]
