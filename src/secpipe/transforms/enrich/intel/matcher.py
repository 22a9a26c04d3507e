"""Compiled indicator index: match the distinct observables of a batch against all feeds.

Design: the indicator tables of every feed are concatenated into one Arrow table (with a
``feed`` column). From it:

- IPs and CIDRs -> :class:`~secpipe.transforms.enrich._ip.PrefixIndex` (per prefix length,
  sorted keys, ``searchsorted``): every containing network matches, IPv4 and IPv6.
- domains, URLs, hashes -> a dict from value to a group id plus CSR arrays
  (``starts``/``order``) listing the indicator rows of each group; domains also match
  every parent (``a.b.evil.com`` hits an indicator ``evil.com``).

``match_*`` take the *distinct* values of a batch and return (value position, indicator row)
pairs; only distinct values are touched in Python (dict lookups), never indicators.
An :class:`Index` built from allowlists answers ``allowed_*`` the same way.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from secpipe.transforms.enrich._ip import Parsed, index_networks, parse, parse_networks

_EMPTY = np.zeros(0, np.int64)


class ExactIndex:
    """value -> indicator rows (several rows may share a value: one per feed or entry)."""

    def __init__(self, values: pa.Array, rows: np.ndarray) -> None:
        """Index ``values`` (strings) whose payloads are ``rows``."""
        enc = pc.dictionary_encode(values) if len(values) else pa.DictionaryArray.from_arrays(pa.array([], pa.int32()), pa.array([], pa.string()))
        keys = enc.dictionary.to_pylist()
        codes = enc.indices.to_numpy(zero_copy_only=False).astype(np.int64)
        self._groups: dict[str, int] = dict(zip(keys, range(len(keys)), strict=True))
        order = np.argsort(codes, kind="stable")
        self._rows = rows[order]
        self._starts = np.concatenate(([0], np.cumsum(np.bincount(codes, minlength=len(keys))))).astype(np.int64)
        self.size = len(values)

    def groups(self, values: list[str | None]) -> tuple[np.ndarray, np.ndarray]:
        """(value position, group id) for every value present."""
        get = self._groups.get
        pos: list[int] = []
        gid: list[int] = []
        for i, v in enumerate(values):
            if v is not None:
                g = get(v)
                if g is not None:
                    pos.append(i)
                    gid.append(g)
        return np.array(pos, np.int64), np.array(gid, np.int64)

    def expand(self, pos: np.ndarray, gid: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Group hits -> (value position, indicator row) pairs."""
        if not len(pos):
            return _EMPTY, _EMPTY
        counts = self._starts[gid + 1] - self._starts[gid]
        q = np.repeat(pos, counts)
        first = np.repeat(self._starts[gid] - np.concatenate(([0], np.cumsum(counts)[:-1])), counts)
        return q, self._rows[first + np.arange(len(q))]

    def lookup(self, values: list[str | None]) -> tuple[np.ndarray, np.ndarray]:
        """Exact matches of ``values``."""
        return self.expand(*self.groups(values))


def domain_suffixes(values: list[str | None]) -> tuple[list[str], np.ndarray]:
    """Every domain and each of its parents (``a.b.c`` -> ``a.b.c``, ``b.c``, ``c``), with owners."""
    out: list[str] = []
    owner: list[int] = []
    for i, v in enumerate(values):
        if not v:
            continue
        d = v.lower().rstrip(".")
        while d:
            out.append(d)
            owner.append(i)
            cut = d.find(".")
            if cut < 0:
                break
            d = d[cut + 1 :]
    return out, np.array(owner, np.int64)


class Index:
    """All indicators of a set of feeds, compiled for batch lookups."""

    def __init__(self, table: pa.Table) -> None:
        """Compile a table with the loader SCHEMA plus a ``feed`` column."""
        self.table = table
        kind = table.column("kind").combine_chunks() if table.num_rows else pa.array([], pa.string())
        values = table.column("value").combine_chunks() if table.num_rows else pa.array([], pa.string())
        rows = np.arange(table.num_rows, dtype=np.int64)

        def sel(k: str) -> np.ndarray:
            return pc.fill_null(pc.equal(kind, k), False).to_numpy(zero_copy_only=False) if len(kind) else np.zeros(0, bool)

        m_ip = sel("ip")
        nets = parse_networks(values.filter(pa.array(m_ip)))
        self.ips = index_networks(nets, rows[m_ip])
        self.exact = {k: ExactIndex(values.filter(pa.array(sel(k))), rows[sel(k)]) for k in ("domain", "url", "hash")}
        vu = table.column("valid_until").combine_chunks() if table.num_rows else pa.array([], pa.int64())
        self.valid_until = pc.fill_null(vu, np.iinfo(np.int64).max).to_numpy(zero_copy_only=False).astype(np.int64)
        self.size = table.num_rows

    def match_ips(self, values: pa.Array) -> tuple[np.ndarray, np.ndarray, Parsed]:
        """(value position, row) for IP strings, plus the parsed addresses."""
        p = parse(values)
        q, r = self.ips.lookup(p)
        return q, r, p

    def match_domains(self, values: list[str | None]) -> tuple[np.ndarray, np.ndarray]:
        """Exact and parent-domain matches of (already lower-cased) domains."""
        suffixes, owner = domain_suffixes(values)
        q, r = self.exact["domain"].lookup(suffixes)
        return (owner[q], r) if len(q) else (_EMPTY, _EMPTY)

    def match_exact(self, kind: str, values: list[str | None]) -> tuple[np.ndarray, np.ndarray]:
        """Exact matches for ``url`` or ``hash`` values."""
        return self.exact[kind].lookup(values)

    def live(self, rows: np.ndarray, now_ms: int) -> np.ndarray:
        """Mask of indicator rows that have not expired at ``now_ms``."""
        return self.valid_until[rows] >= now_ms

    def counts(self) -> dict[str, int]:
        """Indicators per kind."""
        return {"ip": self.ips.size, **{k: v.size for k, v in self.exact.items()}}
