"""Distinct-value evaluation of Sigma rules over scalar fields (the engine's fast path).

Design, per batch:

- :meth:`Vector.prefilter` gives each rule its candidate rows: the rows whose dispatch key
  (CloudTrail ``eventName``) holds one of the values the rule requires, or every row of its
  formats (a rule whose required values are absent from the batch is skipped without any
  work), narrowed by Kleene evaluation over the native columns (other leaves unknown). A rule
  over native fields only is decided there; the union of the rows left to the other rules is
  all the engine reads from JSON;
- the engine hands over one string column per field (the SQL path's own value expressions:
  the OCSF copy a format decoded, else ``json_extract_string(raw_data, path)`` with the OCSF
  column as fallback, all fields from ONE DuckDB query, each record parsed once);
- each field is dictionary-encoded on the rows some rule reads it on; its leaves (the compiled
  SQL templates, unchanged) are evaluated by DuckDB over the distinct values it has not seen
  yet, in one query per field. The truths are cached per field (value -> one bool per leaf,
  at most :data:`CACHE_VALUES` values and :data:`CACHE_CELLS` truths, then the cache starts
  over), so low-cardinality fields (``eventName``, ``eventSource``, ``errorCode``...) cost no
  query after the first batch;
- :meth:`Vector.run` evaluates each rule's condition tree (parsed once from its compiled
  skeleton) with numpy over its candidate rows;
- evidence: the JSON of the fields the rule names, built by DuckDB for matched rows only.

Guarantees: the same matches as the SQL path. A leaf's truth comes from the same SQL text;
a NULL leaf counts as false and the tree is evaluated in 2-valued logic, which is exactly the
SQL path's ``coalesce`` semantics (every NOT operand is coalesced, and under Kleene logic a
TRUE result never depends on an unknown leaf). For the same reason a row where the Kleene
prefilter finds a rule surely false cannot match it whatever its other fields hold. Rules
with keyword leaves, field references or list-valued fields stay on the SQL path
(:mod:`.engine`). Thread-safe: the caches change under the rule set's lock, and each call
keeps the truth arrays it indexed (a restart rebinds them, never mutates them).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

import duckdb
import numpy as np
import pyarrow as pa

from secpipe import _compute as pc
from secpipe.detect.sigma.compiler import KEYWORDS, F, L
from secpipe.detect.sigma.rules import Rule
from secpipe.detect.sigma.sqlgen import evidence_json, evidence_sets

#: distinct values remembered per field with their leaf truths before the cache starts over.
CACHE_VALUES = 200_000
#: ... and at most this many (value, leaf) truths per field (a field with many leaves keeps fewer values).
CACHE_CELLS = 16_000_000
#: leaf truths computed per DuckDB result at most (values are evaluated in slices beyond it).
EVAL_CELLS = 32_000_000

Node = tuple
_TOKEN = re.compile(r"\x02(\d+)\x02|\(NOT \x05|\x06\)|\(|\)| OR | AND |FALSE")


def parse(skeleton: str) -> Node:
    """The condition tree of a compiled skeleton (see :func:`.compiler.compile_condition`):
    ``("leaf", i)``, ``("false",)``, ``("not", node)``, ``("and"|"or", [nodes])``."""
    toks: list[str] = []
    pos = 0
    for m in _TOKEN.finditer(skeleton):
        if m.start() != pos:
            break
        toks.append(m.group(0))
        pos = m.end()
    if pos != len(skeleton):
        msg = f"compiled skeleton has an unexpected shape at {pos}: {skeleton[pos:pos + 40]!r}"
        raise ValueError(msg)

    def expr(i: int) -> tuple[Node, int]:
        t = toks[i]
        if t[0] == "\x02":
            return ("leaf", int(t[1:-1])), i + 1
        if t == "FALSE":
            return ("false",), i + 1
        if t == "(NOT \x05":
            node, i = expr(i + 1)
            if toks[i] != "\x06)":
                msg = f"unclosed NOT in compiled skeleton {skeleton[:80]!r}"
                raise ValueError(msg)
            return ("not", node), i + 1
        if t != "(":
            msg = f"unexpected token {t!r} in compiled skeleton {skeleton[:80]!r}"
            raise ValueError(msg)
        items = []
        node, i = expr(i + 1)
        items.append(node)
        op = None
        while toks[i] in (" OR ", " AND "):
            o = "or" if toks[i] == " OR " else "and"
            if op is not None and o != op:
                msg = f"mixed AND/OR in one group of compiled skeleton {skeleton[:80]!r}"
                raise ValueError(msg)
            op = o
            node, i = expr(i + 1)
            items.append(node)
        if toks[i] != ")":
            msg = f"unclosed group in compiled skeleton {skeleton[:80]!r}"
            raise ValueError(msg)
        return ((op or "and", items) if len(items) > 1 else items[0]), i + 1

    node, end = expr(0)
    if end != len(toks):
        msg = f"trailing tokens in compiled skeleton {skeleton[:80]!r}"
        raise ValueError(msg)
    return node


def evaluate(node: Node, leaf: Callable[[int], np.ndarray], m: int) -> np.ndarray:
    """2-valued evaluation of a tree over ``m`` rows (``leaf(i)`` -> bool array)."""
    kind = node[0]
    if kind == "leaf":
        return leaf(node[1])
    if kind == "not":
        return ~evaluate(node[1], leaf, m)
    if kind == "false":
        return np.zeros(m, dtype=bool)
    conj = kind == "and"
    acc: np.ndarray | None = None
    for child in node[1]:
        v = evaluate(child, leaf, m)
        acc = v if acc is None else (acc & v if conj else acc | v)
        if (conj and not acc.any()) or (not conj and acc.all()):
            break
    return acc  # type: ignore[return-value]


class _FieldTruths:
    """Leaf truths of one field per distinct value seen (index 0 is NULL), cached across batches."""

    def __init__(self) -> None:
        self.templates: list[str] = []
        self.index: dict[str, int] = {}
        self.known = pa.array([None], pa.string())
        self.truth = np.zeros((0, 1), dtype=bool)  # (leaf, known value)

    def add_template(self, template: str) -> int:
        k = self.index.get(template)
        if k is None:
            k = self.index[template] = len(self.templates)
            self.templates.append(template)
        return k

    def _evaluate(self, con: duckdb.DuckDBPyConnection, values: pa.Array) -> np.ndarray:
        cols = ", ".join(f"coalesce({t.replace(F, 'c').replace(L, 'cl')}, false) AS l{k}"
                         for k, t in enumerate(self.templates))
        sql = f"SELECT {cols} FROM (SELECT c, lower(c) AS cl FROM __v)"
        n = len(self.templates)
        step = max(1, EVAL_CELLS // max(n, 1))
        out = np.zeros((n, len(values)), dtype=bool)
        for start in range(0, len(values), step):
            con.register("__v", pa.table({"c": values.slice(start, step)}))
            try:
                res = con.sql(sql).to_arrow_table()
            finally:
                con.unregister("__v")
            for k in range(n):
                out[k, start:start + res.num_rows] = res.column(k).to_numpy(zero_copy_only=False)
        return out

    def rows(self, con: duckdb.DuckDBPyConnection, column: pa.Array) -> np.ndarray:
        """Per row of ``column``, the index of its value in :attr:`truth` (evaluating new values)."""
        if self.truth.shape[1] != len(self.known) or self.truth.shape[0] != len(self.templates):
            self.truth = self._evaluate(con, self.known)
        if pa.types.is_dictionary(column.type):
            column = column.cast(column.type.value_type)
        if column.type != pa.string():  # large/view strings: the cache holds plain strings
            column = column.cast(pa.string())
        enc = column.dictionary_encode()
        d = enc.dictionary
        pos = pc.index_in(d, value_set=self.known)
        if pos.null_count:
            new = d.filter(pc.is_null(pos))
            cap = min(CACHE_VALUES, CACHE_CELLS // max(len(self.templates), 1))
            if len(self.known) + len(new) > cap:  # start over with this batch's values
                self.known = pa.array([None], pa.string())
                self.truth = self._evaluate(con, self.known)
                new = d
            self.truth = np.concatenate([self.truth, self._evaluate(con, new)], axis=1)
            self.known = pa.concat_arrays([self.known, new])
            pos = pc.index_in(d, value_set=self.known)
        at = np.append(pos.to_numpy(zero_copy_only=False).astype(np.int64), 0)  # null rows -> NULL
        return at[pc.fill_null(enc.indices, len(d)).to_numpy(zero_copy_only=False)]


def evaluate3(node: Node, leaf: Callable[[int], np.ndarray | None], m: int) -> tuple[np.ndarray, np.ndarray]:
    """Kleene evaluation of a tree over ``m`` rows where ``leaf(i)`` may be None (unknown):
    (maybe, sure) — the rows where the rule may be / surely is true whatever the unknown leaves."""
    kind = node[0]
    if kind == "leaf":
        t = leaf(node[1])
        return (np.ones(m, dtype=bool), np.zeros(m, dtype=bool)) if t is None else (t, t)
    if kind == "not":
        maybe, sure = evaluate3(node[1], leaf, m)
        return ~sure, ~maybe
    if kind == "false":
        z = np.zeros(m, dtype=bool)
        return z, z
    conj = kind == "and"
    out: tuple[np.ndarray, np.ndarray] | None = None
    for child in node[1]:
        a, b = evaluate3(child, leaf, m)
        out = (a, b) if out is None else ((out[0] & a, out[1] & b) if conj else (out[0] | a, out[1] | b))
        if (conj and not out[0].any()) or (not conj and out[1].all()):
            break
    return out  # type: ignore[return-value]


@dataclass(slots=True)
class Prefilter:
    """What :meth:`Vector.prefilter` found out from the native columns alone."""

    cand: dict[int, np.ndarray]  # id(rule) -> the rows it may match (absent: none)
    rows: np.ndarray | None  # rows where a rule that reads other fields may match (None: every row)
    at: dict[str, np.ndarray] = field(default_factory=dict)  # native field -> value index per row
    #: native field -> the truths ``at`` indexes (a later cache restart rebinds, never mutates, them)
    truth: dict[str, np.ndarray] = field(default_factory=dict)
    decided: set[int] = field(default_factory=set)  # id(rule) whose ``cand`` are exactly its matches


class Vector:
    """Evaluator of the rules of a rule set that :meth:`supports` (scalar fields only)."""

    def __init__(self, rules: list[Rule]) -> None:
        self.fields: dict[str, _FieldTruths] = {}
        #: id(rule) -> (tree, per leaf (field, truth index) or None for keyword/field-reference
        #: leaves, whether every leaf has truths)
        self.plans: dict[int, tuple[Node, list[tuple[str, int] | None], bool]] = {}
        for r in rules:
            refs: list[tuple[str, int] | None] = [
                None if leaf.field == KEYWORDS or leaf.other is not None else
                (leaf.field, self.fields.setdefault(leaf.field, _FieldTruths()).add_template(leaf.template))
                for leaf in r.compiled.leaves]
            self.plans[id(r)] = (parse(r.compiled.skeleton), refs, all(x is not None for x in refs))

    def supports(self, rule: Rule, other: set[str]) -> bool:
        """True when the rule has no keyword/field-reference leaf and none of its fields is in
        ``other`` (the fields that are not scalar string columns in this batch)."""
        plan = self.plans.get(id(rule))
        return plan is not None and plan[2] and (not other or other.isdisjoint(rule.compiled.fields))

    def prefilter(self, con: duckdb.DuckDBPyConnection, rules: list[Rule], native: dict[str, pa.Array], n: int,
                  candidates: Callable[[Rule], np.ndarray | None]) -> Prefilter:
        """Narrow each rule's candidate rows by Kleene evaluation over the ``native`` columns
        (every other leaf unknown): a row where the rule is surely false whatever the other
        fields hold is dropped. ``rows`` is the union of what is left for the rules that read
        other fields: no other row needs them. The caller holds the rule set's lock."""
        if not self.plans:
            return Prefilter({id(r): c for r in rules if (c := candidates(r)) is not None and len(c)}, None)
        pre = Prefilter({}, np.zeros(n, dtype=bool))
        for r in rules:
            cand = candidates(r)
            if cand is None or not len(cand):
                continue
            tree, refs, _ = self.plans[id(r)]
            known = [ref is not None and ref[0] in native for ref in refs]
            if any(known):
                def leaf(i: int, refs: list = refs, known: list[bool] = known,
                         cand: np.ndarray = cand) -> np.ndarray | None:
                    if not known[i]:
                        return None
                    f, k = refs[i]
                    at = pre.at.get(f)
                    if at is None:
                        at = pre.at[f] = self.fields[f].rows(con, native[f])
                        pre.truth[f] = self.fields[f].truth
                    return pre.truth[f][k][at[cand]]

                cand = cand[evaluate3(tree, leaf, len(cand))[0]]
                if not len(cand):
                    continue
            pre.cand[id(r)] = cand
            if not all(known):
                pre.rows[cand] = True  # type: ignore[index]
            elif any(known):
                pre.decided.add(id(r))  # every leaf known: these rows are its matches
        return pre

    def run(self, con: duckdb.DuckDBPyConnection, rules: list[Rule], values: dict[str, pa.Array],
            pre: Prefilter) -> tuple[np.ndarray, np.ndarray]:
        """(rows, rule index in ``rules``) of every match, each rule over its rows in ``pre``.
        The caller holds the rule set's lock (shared caches)."""
        work: list[tuple[int, Node, list[tuple[str, int] | None], np.ndarray]] = []
        whole: set[str] = set()  # fields some rule reads on every row
        part: dict[str, np.ndarray] = {}  # field -> rows some rule reads it on
        rows_out: list[np.ndarray] = []
        rule_out: list[np.ndarray] = []
        for j, r in enumerate(rules):
            cand = pre.cand.get(id(r))
            if cand is None:
                continue
            if id(r) in pre.decided:
                rows_out.append(np.sort(cand))
                rule_out.append(np.full(len(cand), j, dtype=np.int64))
                continue
            tree, refs, _ = self.plans[id(r)]
            work.append((j, tree, refs, cand))
            for f in {ref[0] for ref in refs if ref is not None}:
                if f in whole or f in pre.at:
                    continue
                if len(cand) == len(values[f]):  # candidates are distinct rows: all of them
                    whole.add(f)
                    part.pop(f, None)
                else:
                    part.setdefault(f, np.zeros(len(values[f]), dtype=bool))[cand] = True
        # per field and row, the index of its value in the field's truths (NULL on rows no rule reads)
        at = dict(pre.at) | {f: self.fields[f].rows(con, values[f]) for f in whole}
        for f, mask in part.items():
            sel = np.nonzero(mask)[0]
            full = at[f] = np.zeros(len(mask), dtype=np.int64)
            full[sel] = self.fields[f].rows(con, values[f].take(pa.array(sel)))
        truth = dict(pre.truth) | {f: self.fields[f].truth for f in at if f not in pre.truth}
        for j, tree, refs, cand in work:
            sub: dict[str, np.ndarray] = {}

            def leaf(i: int, refs: list[tuple[str, int] | None] = refs, cand: np.ndarray = cand,
                     sub: dict[str, np.ndarray] = sub) -> np.ndarray:
                f, k = refs[i]  # type: ignore[misc]  # fast-path rules have truths for every leaf
                idx = sub.get(f)
                if idx is None:
                    idx = sub[f] = at[f][cand]
                return truth[f][k][idx]

            hit = evaluate(tree, leaf, len(cand))
            if hit.any():
                sel = np.sort(cand[hit])
                rows_out.append(sel)
                rule_out.append(np.full(len(sel), j, dtype=np.int64))
        if not rows_out:
            return np.zeros(0, np.int64), np.zeros(0, np.int64)
        return np.concatenate(rows_out), np.concatenate(rule_out)


def evidence(con: duckdb.DuckDBPyConnection, rules: list[Rule], values: dict[str, pa.Array],
             rows: np.ndarray, ridx: np.ndarray) -> pa.Array:
    """JSON ``{field: value}`` of the fields each matched rule names, per match (DuckDB ``to_json``),
    computed once per distinct (field list, row)."""
    sets, set_of = evidence_sets(rules)
    set_of_rule = np.array(set_of, dtype=np.int64)
    sid = set_of_rule[ridx]
    keys, inverse = np.unique(sid * (int(rows.max()) + 1) + rows, return_inverse=True)
    urows = keys % (int(rows.max()) + 1)
    usid = keys // (int(rows.max()) + 1)
    names = list(dict.fromkeys(f for s in sets for f in s))
    take = pa.array(urows)
    tbl = pa.table({"__s": pa.array(usid)} | {f"c{k}": values[f].take(take) for k, f in enumerate(names)})
    col = {f: f"c{k}" for k, f in enumerate(names)}
    cases = [f"WHEN {i} THEN {evidence_json(s, col)}" for i, s in enumerate(sets)]
    con.register("__e", tbl)
    try:
        res = con.sql(f"SELECT CASE __s {' '.join(cases)} END AS ev FROM __e").to_arrow_table()
    finally:
        con.unregister("__e")
    return res.column(0).combine_chunks().take(pa.array(inverse.reshape(-1)))
