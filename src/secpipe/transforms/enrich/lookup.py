"""The ``lookup`` transform: join an asset inventory / lookup table onto events by one key.

A table (CSV with a header, YAML or JSON: a list of mappings, or one top-level key holding
that list; a CSV's separator is ``,``, or ``;``/tab as Excel writes it in other locales or as "Unicode
Text"; a byte-order mark, UTF-8 or UTF-16, is read as the text it marks, and Excel's ANSI "CSV" as Windows-1252)
maps keys (cloud account ids, cluster/namespace names, repositories, images,
hostnames, IP ranges) to attributes (owner, team, environment, criticality, data
classification...). Matching of the event field ``field`` against table column ``key``:

- ``exact``: sorted fixed-width key buckets (``searchsorted``) over the distinct values;
- ``prefix``: longest key that prefixes the value — one hash lookup per distinct key length;
- ``glob``: ``fnmatch`` patterns, first table row wins — one vectorized regex per pattern
  (meant for tens to hundreds of patterns, not 100k);
- ``cidr``: most specific network containing the IP — sorted-range lookup
  (:class:`~secpipe.transforms.enrich._ip.PrefixIndex`), IPv4 and IPv6.

Only distinct event values are matched; results are ``take``-n back to rows. Outputs:
``set`` (OCSF path -> table column, e.g. ``cloud.account.name: account_name`` or
``resources[].criticality: criticality`` when ``field`` is ``resources[].uid``; a list-typed
OCSF target such as ``resources[].labels`` splits the cell on ``;``/``,``), ``labels`` (each
listed column adds ``<column>:<value>`` to ``metadata.labels``, so routes and detections can
select ``environment:prod``) and ``unmapped`` (listed columns land in the event's
``unmapped`` JSON under the stage name, for attributes OCSF has no place for).

Guarantees: the table is re-read when its file changes (checked every ``check_every``
seconds); a replacement that does not parse keeps the previous table and logs why. A table
that cannot be read at startup is a ConfigError naming the file and the fix.
"""

from __future__ import annotations

import csv
import io
import json
import logging
import re
import time
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import yaml

from secpipe import _compute as pc
from secpipe.errors import ConfigError, SecpipeError
from secpipe.schema.ocsf import arrow_type, class_of
from secpipe.transforms.enrich._columns import add_labels, field_values, get_field, set_fields
from secpipe.transforms.enrich._ip import index_networks, parse, parse_networks
from secpipe.transforms.enrich.intel.loaders import FeedError, as_utf8
from secpipe.transforms.enrich.intel.matcher import ExactIndex
from secpipe.transforms.enrich.options import LookupOptions

log = logging.getLogger("secpipe.enrich.lookup")
S = pa.string()


class LookupTableError(SecpipeError):
    """A lookup table that cannot be read."""


def read_table(path: Path, fmt: str = "auto") -> pa.Table:
    """Read a CSV/YAML/JSON table; every column as strings (lists joined with ``;``)."""
    if fmt == "auto":
        fmt = {".csv": "csv", ".yaml": "yaml", ".yml": "yaml", ".json": "json"}.get(path.suffix.lower(), "csv")
    try:
        data = path.read_bytes()
    except OSError as exc:
        msg = f"cannot read lookup table {path}: {exc.strerror or exc} — fix `path`"
        raise LookupTableError(msg) from exc
    try:
        data = as_utf8(data)
    except FeedError as exc:
        msg = f"lookup table {path}: {exc}"
        raise LookupTableError(msg) from exc
    if fmt == "csv":
        first = re.split(rb"\r\n?|\n", data, maxsplit=1)[0].decode("utf-8", "replace")  # CR alone: old Excel for Mac
        delim = _delimiter(first)
        header = next(csv.reader([first], delimiter=delim), [])
        conv = pacsv.ConvertOptions(strings_can_be_null=True, column_types=dict.fromkeys(header, S))
        try:
            return pacsv.read_csv(io.BytesIO(data), parse_options=pacsv.ParseOptions(delimiter=delim),
                                  convert_options=conv)
        except pa.ArrowInvalid as exc:
            msg = f"lookup table {path} does not parse as CSV: {exc}"
            raise LookupTableError(msg) from exc
    try:
        rows: Any = yaml.safe_load(data) if fmt == "yaml" else json.loads(data)
    except (yaml.YAMLError, ValueError) as exc:
        msg = f"lookup table {path} does not parse as {fmt.upper()}: {exc}"
        raise LookupTableError(msg) from exc
    if isinstance(rows, dict) and len(rows) == 1 and isinstance(next(iter(rows.values())), list):
        rows = next(iter(rows.values()))
    if not isinstance(rows, list) or not all(isinstance(r, dict) for r in rows):
        msg = f"lookup table {path}: expected a list of rows (mappings) — see the lookup transform docs"
        raise LookupTableError(msg)
    names: dict[str, None] = {}
    for r in rows:
        names.update(dict.fromkeys(map(str, r)))

    def cell(v: Any) -> str | None:
        return None if v is None else (";".join(map(str, v)) if isinstance(v, list) else str(v))

    return pa.table({k: pa.array([cell(r.get(k)) for r in rows], S) for k in names})


def _delimiter(header: str) -> str:
    """The field separator of a CSV table by its header: ``,``, else the ``;`` of Excel's CSV where the decimal
    separator is a comma (German, French, ... locales) or the tab of its "Unicode Text" (UTF-16) export."""
    if "," in header:
        return ","
    return max((";", "\t"), key=header.count) if ";" in header or "\t" in header else ","


def glob_regex(pattern: str) -> str:
    """An ``fnmatch``-style glob (``*``, ``?``, ``[...]``, ``[!...]``) as an anchored RE2 regex."""
    out = ["(?s)^"]
    i = 0
    while i < len(pattern):
        c = pattern[i]
        if c == "*":
            out.append(".*")
        elif c == "?":
            out.append(".")
        elif c == "[" and "]" in pattern[i + 2 :] or (c == "[" and pattern[i + 1 : i + 2] == "]"):
            end = pattern.index("]", i + 2)
            body = pattern[i + 1 : end]
            body = "^" + body[1:] if body.startswith("!") else body
            out.append("[" + body.replace("\\", "\\\\") + "]")
            i = end
        else:
            out.append(re.escape(c))
        i += 1
    out.append("$")
    return "".join(out)


class Matcher:
    """Compiled keys of one table for one match mode."""

    def __init__(self, keys: pa.Array, mode: str, case_sensitive: bool) -> None:
        """Compile ``keys`` (table order matters for glob and duplicate exact keys)."""
        self.mode = mode
        self.case = case_sensitive
        keys = keys if case_sensitive or mode == "cidr" else pc.utf8_lower(keys)
        self.keys = keys
        if mode == "exact":
            self.exact = ExactIndex(keys, np.arange(len(keys), dtype=np.int64))
        elif mode == "prefix":
            lens = pc.utf8_length(keys).to_numpy(zero_copy_only=False)
            self.by_len = [(int(n), keys.filter(pa.array(lens == n)), np.flatnonzero(lens == n))
                           for n in sorted(set(lens.tolist()), reverse=True)]
        elif mode == "glob":
            self.globs = [(glob_regex(g), i) for i, g in enumerate(keys.to_pylist()) if g is not None]
        elif mode == "cidr":
            nets = parse_networks(keys)
            self.nets_len = nets.plen
            self.nets = index_networks(nets)

    def match(self, values: pa.Array) -> np.ndarray:
        """Table row per value (-1 where none)."""
        vals = values.cast(S) if self.case or self.mode == "cidr" else pc.utf8_lower(values.cast(S))
        n = len(vals)
        out = np.full(n, -1, np.int64)
        if self.mode == "exact":
            pos, rows = self.exact.lookup(vals.to_pylist())
            if len(pos):
                # duplicate keys: the first table row wins
                first = np.full(n, np.iinfo(np.int64).max, np.int64)
                np.minimum.at(first, pos, rows)
                out = np.where(first == np.iinfo(np.int64).max, -1, first)
            return out
        if self.mode == "prefix":
            lens = pc.fill_null(pc.utf8_length(vals), 0).to_numpy(zero_copy_only=False)
            for length, keys, rows in self.by_len:
                todo = (out < 0) & (lens >= length)
                if not todo.any():
                    continue
                at = np.flatnonzero(todo)
                pref = pc.utf8_slice_codeunits(vals.take(pa.array(at)), 0, length)
                hit = pc.fill_null(pc.index_in(pref, value_set=keys), -1).to_numpy(zero_copy_only=False)
                ok = hit >= 0
                out[at[ok]] = rows[hit[ok]]
            return out
        if self.mode == "glob":
            for regex, row in self.globs:
                todo = out < 0
                if not todo.any():
                    break
                m = pc.fill_null(pc.match_substring_regex(vals, regex), False).to_numpy(zero_copy_only=False)
                out[todo & m] = row
            return out
        q, r = self.nets.lookup(parse(vals))
        if len(q):
            # Most specific network wins: sort by (query, -prefix length), keep the first per query.
            order = np.lexsort((-self.nets_len[r], q))
            q, r = q[order], r[order]
            first = np.concatenate(([True], q[1:] != q[:-1]))
            out[q[first]] = r[first]
        return out


class LookupStage:
    """Join a lookup table onto events (see module docstring)."""

    def __init__(self, name: str, opts: LookupOptions, *, clock: Any = time.monotonic) -> None:
        """Load the table now; an unreadable table is a ConfigError."""
        self.name = name
        self.opts = opts
        self.clock = clock
        self.path = Path(opts.path)
        self.reloads = 0
        self.error: str | None = None
        try:
            self._load()
        except LookupTableError as exc:
            msg = f"transforms.{name}.path"
            raise ConfigError(msg, str(exc)) from exc
        self._next_check = clock() + opts.check_every

    def _load(self) -> None:
        st = self.path.stat() if self.path.exists() else None
        table = read_table(self.path, self.opts.format)
        o = self.opts
        missing = [c for c in [o.key, *o.set.values(), *o.labels, *o.unmapped] if c not in table.column_names]
        if missing:
            msg = (f"lookup table {self.path} has no column(s) {', '.join(missing)} — "
                   f"columns: {', '.join(table.column_names) or 'none'}")
            raise LookupTableError(msg)
        self.table = table
        self.matcher = Matcher(table.column(o.key).combine_chunks(), o.match, o.case_sensitive)
        self._unmapped = self._fragments() if o.unmapped else None
        self.signature = None if st is None else (st.st_mtime_ns, st.st_size, st.st_ino)

    def _fragments(self) -> pa.Array:
        """Per table row: ``"<stage>": {col: value, ...}`` (JSON text without braces)."""
        cols = {c: self.table.column(c).to_pylist() for c in self.opts.unmapped}
        rows = [{c: cols[c][i] for c in cols if cols[c][i] is not None} for i in range(self.table.num_rows)]
        return pa.array([json.dumps(self.name) + ":" + json.dumps(r, sort_keys=True, separators=(",", ":"))
                         for r in rows], S)

    def _maybe_reload(self) -> None:
        now = self.clock()
        if now < self._next_check:
            return
        self._next_check = now + self.opts.check_every
        try:
            st = self.path.stat()
        except FileNotFoundError:
            return
        if (st.st_mtime_ns, st.st_size, st.st_ino) == self.signature:
            return
        try:
            self._load()
        except LookupTableError as exc:
            if self.error != str(exc):
                log.error("lookup %s: reload failed: %s — keeping the previous table", self.name, exc)
            self.error = str(exc)
            self.signature = (st.st_mtime_ns, st.st_size, st.st_ino)
            return
        self.error = None
        self.reloads += 1
        log.info("lookup %s: reloaded %s (%d rows)", self.name, self.path, self.table.num_rows)

    def process(self, batch: pa.RecordBatch) -> list[pa.RecordBatch]:
        """Join the table onto the batch."""
        self._maybe_reload()
        got = field_values(batch, self.opts.field) if batch.num_rows else None
        if got is None or not len(got[0]):
            return [batch]
        values, rows = got
        enc = pc.dictionary_encode(values.cast(S))
        hit_d = self.matcher.match(enc.dictionary)
        codes = enc.indices.to_numpy(zero_copy_only=False)
        valid = pc.is_valid(enc.indices).to_numpy(zero_copy_only=False)
        trow = np.where(valid, hit_d[np.where(valid, codes, 0).astype(np.int64)] if len(hit_d) else -1, -1)
        matched = trow >= 0
        if not matched.any():
            return [batch]
        cls = class_of(batch)
        take = pa.array(np.where(matched, trow, 0))
        mask = pa.array(~matched)
        cols: dict[str, pa.Array] = {}
        for path, col in self.opts.set.items():
            v = pc.if_else(mask, pa.scalar(None, S), self.table.column(col).combine_chunks().take(take))
            if pa.types.is_list(arrow_type(cls, path.replace("[]", ""))):
                v = pc.split_pattern_regex(v, r"\s*[;,]\s*")
            cols[path] = v
        if self._unmapped is not None and "[]" not in self.opts.field:
            frag = self._unmapped.take(take)
            cur = get_field(batch, "unmapped")
            cols["unmapped"] = _merge_json(cur, frag, matched)
        batch = set_fields(batch, cls, cols)
        if self.opts.labels:
            lr, lv = [], []
            at = np.flatnonzero(matched)
            for c in self.opts.labels:
                vals = self.table.column(c).combine_chunks().take(pa.array(trow[at]))
                ok = pc.is_valid(vals).to_numpy(zero_copy_only=False)
                lr.append(rows[at[ok]])
                lv.append(pc.binary_join_element_wise(c, vals.filter(pa.array(ok)), ":"))
            lrows = np.concatenate(lr)
            lvals = pa.concat_arrays(lv)
            if "[]" in self.opts.field:
                # One label per event even when several list elements matched the same row.
                keyed = pa.table({"r": lrows, "v": lvals}).group_by(["r", "v"]).aggregate([])
                lrows, lvals = keyed.column("r").to_numpy(), keyed.column("v").combine_chunks()
            batch = add_labels(batch, cls, lrows, lvals)
        return [batch]

    def status(self) -> dict[str, Any]:
        """Rows, reloads and the last reload error."""
        return {"path": str(self.path), "rows": self.table.num_rows, "reloads": self.reloads, "error": self.error}


def _merge_json(cur: pa.Array | None, frag: pa.Array, matched: np.ndarray) -> pa.Array:
    """Add ``frag`` (``"key":{...}``) into each matched row's JSON object text, vectorized."""
    n = len(frag)
    base = cur if cur is not None else pa.nulls(n, S)
    m = pa.array(matched)
    empty = pc.or_(pc.is_null(base), pc.equal(pc.utf8_trim_whitespace(pc.fill_null(base, "{}")), "{}"))
    fresh = pc.binary_join_element_wise("{", frag, "}", "")
    spliced = pc.binary_join_element_wise(pc.utf8_slice_codeunits(pc.fill_null(base, "{}"), 0, -1), ",", frag, "}", "")
    merged = pc.if_else(empty, fresh, spliced)
    return pc.if_else(m, merged, base)


def build_stage(name: str, options: dict[str, Any], data_dir: Path | None = None) -> LookupStage:
    """STAGES factory for ``type: lookup``."""
    del data_dir
    return LookupStage(name, LookupOptions.model_validate(options))
