"""Compiled indicator index: match the distinct observables of a batch against all feeds.

Design: the indicator tables of every feed are concatenated into one Arrow table (with a
``feed`` column). From it:

- IPs and CIDRs -> :class:`~secpipe.transforms.enrich._ip.PrefixIndex` (per prefix length,
  sorted keys, ``searchsorted``): every containing network matches, IPv4 and IPv6.
- domains, URLs, hashes -> :class:`ExactIndex` (sorted fixed-width byte keys per length,
  ``searchsorted``); domains also match every parent (``a.b.evil.com`` hits ``evil.com``),
  except ``host`` entries (exact names, from MISP ``string`` warninglists); ``url_host``
  entries (MISP ``hostname`` warninglists) match the host of a URL and its parents.

``match_*`` take the *distinct* values of a batch and return (value position, indicator row)
pairs; only distinct values are touched in Python (encoding), never indicators.
An :class:`Index` built from allowlists answers ``allowed_*`` the same way.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pyarrow as pa

from secpipe import _compute as pc
from secpipe.transforms.enrich._ip import Parsed, _pairs, index_networks, parse, parse_networks
from secpipe.transforms.enrich.intel.loaders import CASELESS_KINDS, HOST, URL_HOST

_EMPTY = np.zeros(0, np.int64)
#: the host of a URL with or without a scheme (as MISP takes it: before the first ``/``), without userinfo/port
_URL_HOST_RE = r"^(?:[A-Za-z][A-Za-z0-9+.-]*://)?(?:[^@/?#]*@)?(?P<host>[^:/?#\[\]]*)"


class ExactIndex:
    """value -> indicator rows (several rows may share a value: one per feed or entry).

    Keys are bucketed by UTF-8 byte length; each bucket is a sorted fixed-width numpy bytes
    array (``S<len>``) cut straight out of the Arrow data buffer, so a million keys cost
    about their own bytes (no Python objects) and a lookup is a ``searchsorted`` per bucket.
    """

    def __init__(self, values: pa.Array, rows: np.ndarray) -> None:
        """Index ``values`` (strings) whose payloads are ``rows``."""
        self.size = len(values)
        self._buckets: dict[int, tuple[np.ndarray, np.ndarray]] = {}
        if not len(values):
            return
        values = values.cast(pa.string())
        valid = pc.is_valid(values).to_numpy(zero_copy_only=False)
        lens = pc.fill_null(pc.binary_length(values), 0).to_numpy(zero_copy_only=False).astype(np.int64)
        order = np.argsort(lens, kind="stable")
        order = order[valid[order] & (lens[order] > 0)]
        taken = values.take(pa.array(order))
        offsets = np.frombuffer(taken.buffers()[1], np.int32, len(taken) + 1, taken.offset * 4)
        data = taken.buffers()[2]
        slens = lens[order]
        bounds = np.flatnonzero(np.diff(np.concatenate(([-1], slens, [-1])))) if len(slens) else np.zeros(0, np.int64)
        for a, b in zip(bounds[:-1].tolist(), bounds[1:].tolist(), strict=True):
            width = int(slens[a])
            keys = np.frombuffer(data, f"S{width}", b - a, int(offsets[a]))
            srt = np.argsort(keys, kind="stable")
            self._buckets[width] = (keys[srt], rows[order[a:b]][srt])

    def lookup(self, values: Sequence[str | None]) -> tuple[np.ndarray, np.ndarray]:
        """(value position, indicator row) for every exact match of ``values``."""
        by_len: dict[int, tuple[list[int], list[bytes]]] = {}
        for i, v in enumerate(values):
            if v:
                b = v.encode()
                if len(b) in self._buckets:
                    e = by_len.setdefault(len(b), ([], []))
                    e[0].append(i)
                    e[1].append(b)
        qs: list[np.ndarray] = []
        rs: list[np.ndarray] = []
        for width, (pos, texts) in by_len.items():
            keys, rows = self._buckets[width]
            q_at, k_at = _pairs(keys, np.array(texts, f"S{width}"))
            if len(q_at):
                qs.append(np.asarray(pos, np.int64)[q_at])
                rs.append(rows[k_at])
        if not qs:
            return _EMPTY, _EMPTY
        return np.concatenate(qs), np.concatenate(rs)


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


def _patterns(regexes: list[str], kinds: list[list[str] | None]) -> dict[str, str]:
    """One RE2 alternation per observable kind; domains/hashes (lower-cased values) case-insensitive."""
    by_kind: dict[str, list[str]] = {}
    for rx, ks in zip(regexes, kinds, strict=True):
        for k in ks or ():
            by_kind.setdefault(k, []).append(f"(?:{rx})")
    return {k: ("(?i)" if k in CASELESS_KINDS else "") + "|".join(v) for k, v in by_kind.items()}


class Index:
    """All indicators of a set of feeds, compiled for batch lookups."""

    def __init__(self, table: pa.Table) -> None:
        """Compile a table with the loader SCHEMA plus a ``feed`` column."""
        table = table.combine_chunks()
        self.table = table
        #: contiguous columns (``combine_chunks`` would copy on every call)
        self.cols: dict[str, pa.Array] = {
            n: (c.chunk(0) if c.num_chunks == 1 else c.combine_chunks()) for n, c in zip(table.column_names, table.columns, strict=True)}
        kind = self.cols["kind"] if table.num_rows else pa.array([], pa.string())
        values = self.cols["value"] if table.num_rows else pa.array([], pa.string())
        rows = np.arange(table.num_rows, dtype=np.int64)

        def sel(k: str) -> np.ndarray:
            return pc.fill_null(pc.equal(kind, k), False).to_numpy(zero_copy_only=False) if len(kind) else np.zeros(0, bool)

        m_ip = sel("ip")
        nets = parse_networks(values.filter(pa.array(m_ip)))
        self.ips = index_networks(nets, rows[m_ip])
        self.exact = {k: ExactIndex(values.filter(pa.array(sel(k))), rows[sel(k)])
                      for k in ("domain", "url", "hash", "asn", "email", "ja3", "x509", HOST, URL_HOST)}
        vu = self.cols["valid_until"] if table.num_rows else pa.array([], pa.int64())
        self.valid_until = pc.fill_null(vu, np.iinfo(np.int64).max).to_numpy(zero_copy_only=False).astype(np.int64)
        vf = self.cols["valid_from"] if table.num_rows else pa.array([], pa.int64())
        self.valid_from = pc.fill_null(vf, np.iinfo(np.int64).min).to_numpy(zero_copy_only=False).astype(np.int64)
        self.size = table.num_rows
        self.patterns = _patterns(values.filter(pa.array(sel("pattern"))).to_pylist(),
                                  self.cols["labels"].filter(pa.array(sel("pattern"))).to_pylist() if len(kind) else [])

    def pattern_hits(self, kind: str, values: pa.Array) -> np.ndarray:
        """Positions of ``values`` matched by a substring/regex entry for ``kind`` (allowlists)."""
        rx = self.patterns.get(kind)
        if rx is None or not len(values):
            return _EMPTY
        return np.flatnonzero(pc.fill_null(pc.match_substring_regex(values, rx), False).to_numpy(zero_copy_only=False))

    def match_ips(self, values: pa.Array) -> tuple[np.ndarray, np.ndarray, Parsed]:
        """(value position, row) for IP strings, plus the parsed addresses."""
        p = parse(values)
        q, r = self.ips.lookup(p)
        return q, r, p

    def match_domains(self, values: list[str | None]) -> tuple[np.ndarray, np.ndarray]:
        """Exact and parent-domain matches of (already lower-cased) domains.

        ``domain`` entries match the name and its subdomains; ``host`` entries (MISP ``string``
        warninglists) the exact name only.
        """
        q, r = _EMPTY, _EMPTY
        if self.exact["domain"].size:
            suffixes, owner = domain_suffixes(values)
            q, r = self.exact["domain"].lookup(suffixes)
            q = owner[q] if len(q) else _EMPTY
        if self.exact[HOST].size:
            hq, hr = self.exact[HOST].lookup(values)
            q, r = np.concatenate([q, hq]), np.concatenate([r, hr])
        return q, r

    def match_url_hosts(self, urls: pa.Array) -> np.ndarray:
        """Positions of URLs whose host (or a parent of it) is a ``url_host`` entry (MISP ``hostname`` lists)."""
        if not self.exact[URL_HOST].size or not len(urls):
            return _EMPTY
        hosts = pc.utf8_lower(pc.extract_regex(urls, _URL_HOST_RE).field("host"))
        suffixes, owner = domain_suffixes(hosts.to_pylist())
        q, _r = self.exact[URL_HOST].lookup(suffixes)
        return np.unique(owner[q]) if len(q) else _EMPTY

    def match_exact(self, kind: str, values: list[str | None]) -> tuple[np.ndarray, np.ndarray]:
        """Exact matches for ``url``, ``hash``, ``email``, ``ja3``, ``x509`` or ``asn`` (decimal text) values."""
        return self.exact[kind].lookup(values)

    def live(self, rows: np.ndarray, now_ms: int) -> np.ndarray:
        """Mask of indicator rows that have not expired at ``now_ms``."""
        return (self.valid_until[rows] >= now_ms) & (self.valid_from[rows] <= now_ms)

    def counts(self) -> dict[str, int]:
        """Indicators per kind."""
        return {"ip": self.ips.size, **{k: v.size for k, v in self.exact.items() if k in ("domain", "url", "hash") or v.size}}
