"""Vectorized IP parsing and CIDR containment over Arrow/numpy arrays.

Design: IPv4 addresses are parsed by Arrow kernels (regex filter, split on ``.``, cast) into
``uint32``; IPv6 addresses are parsed with ``socket.inet_pton`` over the *distinct* values
only (callers pass distinct values) into two ``uint64`` halves. IPv4-mapped IPv6
(``::ffff:1.2.3.4``) is folded to IPv4 and a zone id (``fe80::1%eth0``) is dropped.

:class:`PrefixIndex` answers "which networks contain this address" for any number of
(possibly nested, possibly duplicated) CIDRs: networks are grouped by prefix length; for
each length present, query addresses are masked to that length and looked up with
``numpy.searchsorted`` in the sorted network keys, so a lookup costs
``O(#lengths * n log m)`` and returns *every* containing network (a /32 inside a /15 gives
two hits). IPv6 keys are a 64-bit mix of the masked halves; candidates are verified
against both halves, so a mix collision can never produce a false match.
"""

from __future__ import annotations

import socket
from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from secpipe import _compute as pc

_V4_RE = r"^\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}$"
_M1 = np.uint64(0x9E3779B97F4A7C15)
_M2 = np.uint64(0xBF58476D1CE4E5B9)
_ALL64 = np.uint64(0xFFFFFFFFFFFFFFFF)


@dataclass(slots=True)
class Parsed:
    """Parsed addresses, aligned with the input: ``version`` 0 (not an IP), 4 or 6."""

    version: np.ndarray  # uint8
    v4: np.ndarray  # uint32 (valid where version == 4)
    hi: np.ndarray  # uint64 (valid where version == 6)
    lo: np.ndarray  # uint64


def parse(values: pa.Array) -> Parsed:
    """Parse a string array of IP addresses (nulls and non-IPs get version 0)."""
    n = len(values)
    version = np.zeros(n, np.uint8)
    v4 = np.zeros(n, np.uint32)
    hi = np.zeros(n, np.uint64)
    lo = np.zeros(n, np.uint64)
    if n == 0:
        return Parsed(version, v4, hi, lo)
    values = values.cast(pa.string())
    is4 = pc.fill_null(pc.match_substring_regex(values, _V4_RE), False)
    idx4 = np.flatnonzero(is4.to_numpy(zero_copy_only=False))
    if len(idx4):
        parts = pc.list_flatten(pc.split_pattern(values.take(pa.array(idx4)), "."))
        octets = parts.cast(pa.uint16()).to_numpy().reshape(-1, 4).astype(np.uint32)
        ok = (octets <= 255).all(axis=1)
        vals = (octets[:, 0] << 24) | (octets[:, 1] << 16) | (octets[:, 2] << 8) | octets[:, 3]
        v4[idx4[ok]] = vals[ok]
        version[idx4[ok]] = 4
    has_colon = pc.fill_null(pc.match_substring(values, ":"), False)
    idx6 = np.flatnonzero(has_colon.to_numpy(zero_copy_only=False))
    if len(idx6):
        texts = values.take(pa.array(idx6)).to_pylist()
        pton = socket.inet_pton
        af6 = socket.AF_INET6
        frm = int.from_bytes
        for i, text in zip(idx6.tolist(), texts, strict=True):
            t = text.split("%", 1)[0].strip("[]")
            try:
                b = pton(af6, t)
            except OSError:
                continue
            if b[:12] == b"\0" * 10 + b"\xff\xff":
                v4[i] = frm(b[12:], "big")
                version[i] = 4
            else:
                hi[i] = frm(b[:8], "big")
                lo[i] = frm(b[8:], "big")
                version[i] = 6
    return Parsed(version, v4, hi, lo)


def parse_network(text: str) -> tuple[int, int, int] | None:
    """``"10.0.0.0/8"``, ``"1.2.3.4"``, ``"2001:db8::/32"`` -> (version, 128-bit int, prefix len).

    The host bits are cleared. Returns None for text that is not an address or network
    (callers that load feeds count those as skipped lines).
    """
    text = text.strip()
    addr, _, plen = text.partition("/")
    addr = addr.split("%", 1)[0].strip("[]")
    try:
        if ":" in addr:
            b = socket.inet_pton(socket.AF_INET6, addr)
            value, bits, ver = int.from_bytes(b, "big"), 128, 6
            if b[:12] == b"\0" * 10 + b"\xff\xff":
                value, bits, ver = int.from_bytes(b[12:], "big"), 32, 4
                if plen:
                    plen = str(int(plen) - 96)
        else:
            value, bits, ver = int.from_bytes(socket.inet_pton(socket.AF_INET, addr), "big"), 32, 4
        length = int(plen) if plen else bits
    except (OSError, ValueError):
        return None
    if not 0 <= length <= bits:
        return None
    value &= ((1 << bits) - 1) ^ ((1 << (bits - length)) - 1)
    return ver, value, length


def _mask64(length: int) -> np.uint64:
    return np.uint64(0) if length <= 0 else (_ALL64 if length >= 64 else np.uint64(((1 << length) - 1) << (64 - length)))


def _mix(hi: np.ndarray, lo: np.ndarray) -> np.ndarray:
    return (hi * _M1) ^ ((lo ^ (lo >> np.uint64(29))) * _M2)


class PrefixIndex:
    """Networks (CIDRs, single addresses) with a payload row each; all-matches lookup."""

    def __init__(self, nets: list[tuple[int, int, int]], rows: np.ndarray | None = None) -> None:
        """``nets`` are ``parse_network`` tuples; ``rows`` their payload ids (default 0..n-1)."""
        rows = np.arange(len(nets), dtype=np.int64) if rows is None else np.asarray(rows, np.int64)
        self.size = len(nets)
        ver = np.fromiter((n[0] for n in nets), np.uint8, len(nets))
        plen = np.fromiter((n[2] for n in nets), np.int16, len(nets))
        m4 = ver == 4
        v4 = np.fromiter((n[1] for n, is4 in zip(nets, m4.tolist(), strict=True) if is4), np.uint32)
        v6 = [n[1] for n, is4 in zip(nets, m4.tolist(), strict=True) if not is4]
        hi = np.fromiter((v >> 64 for v in v6), np.uint64, len(v6))
        lo = np.fromiter((v & 0xFFFFFFFFFFFFFFFF for v in v6), np.uint64, len(v6))
        self._build(v4, plen[m4], rows[m4], hi, lo, plen[~m4], rows[~m4])

    @classmethod
    def from_arrays(cls, v4: np.ndarray, v4_len: np.ndarray, v4_rows: np.ndarray,
                    hi: np.ndarray, lo: np.ndarray, v6_len: np.ndarray, v6_rows: np.ndarray) -> PrefixIndex:
        """Build from already-split arrays (the fast path used by feed loaders)."""
        self = cls.__new__(cls)
        self.size = len(v4) + len(hi)
        self._build(v4, v4_len, v4_rows, hi, lo, v6_len, v6_rows)
        return self

    def _build(self, v4: np.ndarray, v4_len: np.ndarray, v4_rows: np.ndarray,
               hi: np.ndarray, lo: np.ndarray, v6_len: np.ndarray, v6_rows: np.ndarray) -> None:
        self._v4: list[tuple[np.uint32, np.ndarray, np.ndarray]] = []
        for length in np.unique(v4_len).tolist():
            sel = v4_len == length
            mask = np.uint32(0 if length == 0 else (0xFFFFFFFF << (32 - length)) & 0xFFFFFFFF)
            keys = v4[sel] & mask
            order = np.argsort(keys, kind="stable")
            self._v4.append((mask, keys[order], v4_rows[sel][order]))
        self._v6: list[tuple[np.uint64, np.uint64, np.ndarray, np.ndarray, np.ndarray, np.ndarray]] = []
        for length in np.unique(v6_len).tolist():
            sel = v6_len == length
            mh, ml = _mask64(length), _mask64(length - 64)
            h, low = hi[sel] & mh, lo[sel] & ml
            keys = _mix(h, low)
            order = np.argsort(keys, kind="stable")
            self._v6.append((mh, ml, keys[order], h[order], low[order], v6_rows[sel][order]))

    def lookup(self, p: Parsed) -> tuple[np.ndarray, np.ndarray]:
        """All (query position, payload row) pairs where a network contains the address."""
        qs: list[np.ndarray] = []
        rs: list[np.ndarray] = []
        i4 = np.flatnonzero(p.version == 4)
        if len(i4) and self._v4:
            i4 = i4[np.argsort(p.v4[i4], kind="stable")]
            q = p.v4[i4]  # sorted once; masking keeps the order
            for mask, keys, rows in self._v4:
                _expand(keys, q & mask, i4, rows, qs, rs)
        i6 = np.flatnonzero(p.version == 6)
        if len(i6) and self._v6:
            qh, ql = p.hi[i6], p.lo[i6]
            for mh, ml, keys, h, low, rows in self._v6:
                mqh, mql = qh & mh, ql & ml
                q_at, k_at = _pairs(keys, _mix(mqh, mql))
                ok = (h[k_at] == mqh[q_at]) & (low[k_at] == mql[q_at])
                qs.append(i6[q_at[ok]])
                rs.append(rows[k_at[ok]])
        if not qs:
            return np.zeros(0, np.int64), np.zeros(0, np.int64)
        return np.concatenate(qs).astype(np.int64), np.concatenate(rs).astype(np.int64)


def _pairs(keys: np.ndarray, q: np.ndarray, presorted: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """(query index, key index) for every equal key (keys sorted, duplicates allowed).

    Queries are searched in sorted order (cache-friendly) and only the hits get a second
    (``right``) search, since most queries of a batch match nothing.
    """
    if not len(keys) or not len(q):
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    qo = np.arange(len(q)) if presorted else np.argsort(q, kind="stable")
    qs = q if presorted else q[qo]
    left = np.searchsorted(keys, qs, "left")
    hit = np.flatnonzero(keys[np.minimum(left, len(keys) - 1)] == qs)
    if not len(hit):
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    lh = left[hit]
    c = np.searchsorted(keys, qs[hit], "right") - lh
    q_at = np.repeat(qo[hit], c)
    starts = np.repeat(lh - np.concatenate(([0], np.cumsum(c)[:-1])), c)
    k_at = starts + np.arange(len(q_at))
    return q_at, k_at


def _expand(keys: np.ndarray, q: np.ndarray, pos: np.ndarray, rows: np.ndarray,
            qs: list[np.ndarray], rs: list[np.ndarray]) -> None:
    q_at, k_at = _pairs(keys, q, presorted=True)
    if len(q_at):
        qs.append(pos[q_at])
        rs.append(rows[k_at])


def format_ips(p: Parsed, idx: np.ndarray) -> list[str]:
    """Canonical text of parsed addresses at ``idx`` (for messages and observables)."""
    out = []
    for i in idx.tolist():
        if p.version[i] == 4:
            out.append(socket.inet_ntop(socket.AF_INET, int(p.v4[i]).to_bytes(4, "big")))
        elif p.version[i] == 6:
            b = int(p.hi[i]).to_bytes(8, "big") + int(p.lo[i]).to_bytes(8, "big")
            out.append(socket.inet_ntop(socket.AF_INET6, b))
        else:
            out.append("")
    return out


@dataclass(slots=True)
class Networks:
    """Parsed networks aligned with the input; ``ok`` false where the text is not a network."""

    parsed: Parsed
    plen: np.ndarray  # int16 prefix length (32/128 for single addresses)
    ok: np.ndarray  # bool


def parse_networks(values: pa.Array) -> Networks:
    """Vectorized ``parse_network`` over a string array (CIDRs or single addresses)."""
    values = pc.utf8_trim_whitespace(values.cast(pa.string()))
    parts = pc.split_pattern(values, "/", max_splits=1)
    addr = pc.list_element(parts, 0)
    nparts = pc.fill_null(pc.list_value_length(parts), 0).to_numpy(zero_copy_only=False)
    has_len = nparts == 2
    p = parse(addr)
    colon = pc.fill_null(pc.match_substring(addr, ":"), False).to_numpy(zero_copy_only=False)
    full = np.where(colon, 128, 32).astype(np.int16)
    plen = np.where(p.version == 6, 128, 32).astype(np.int16)
    ok = p.version > 0
    if has_len.any():
        idx = np.flatnonzero(has_len)
        lens_txt = pc.list_element(parts.take(pa.array(idx)), 1)
        good = pc.fill_null(pc.match_substring_regex(lens_txt, r"^\d{1,3}$"), False).to_numpy(zero_copy_only=False)
        lens = np.full(len(idx), -1, np.int16)
        if good.any():
            lens[good] = lens_txt.filter(pa.array(good)).cast(pa.int16()).to_numpy()
        plen[idx] = lens
        ok &= (plen >= 0) & (plen <= full)
    # Fold IPv4-mapped prefixes given with an IPv6 length (parse() already folded the address).
    mapped = ok & (p.version == 4) & colon
    if mapped.any():
        plen[mapped & has_len] -= 96
        ok &= plen >= 0
    # Clear host bits.
    v4m = np.where((p.version == 4) & ok, plen, 32).astype(np.uint64)
    shift = (np.uint64(32) - v4m).astype(np.uint64)
    mask4 = ((np.uint64(0xFFFFFFFF) >> shift) << shift).astype(np.uint32)
    p.v4 &= mask4
    l6 = np.where((p.version == 6) & ok, plen, 128).astype(np.int64)
    hs = np.clip(64 - l6, 0, 64).astype(np.uint64)
    ls = np.clip(128 - l6, 0, 64).astype(np.uint64)
    p.hi = np.where(hs >= 64, np.uint64(0), (p.hi >> np.minimum(hs, 63)) << np.minimum(hs, 63))
    p.lo = np.where(ls >= 64, np.uint64(0), (p.lo >> np.minimum(ls, 63)) << np.minimum(ls, 63))
    return Networks(p, plen, ok)


def index_networks(nets: Networks, rows: np.ndarray | None = None) -> PrefixIndex:
    """A :class:`PrefixIndex` over the valid entries of ``nets`` (payload = input position)."""
    n = len(nets.ok)
    rows = np.arange(n, dtype=np.int64) if rows is None else rows
    m4 = nets.ok & (nets.parsed.version == 4)
    m6 = nets.ok & (nets.parsed.version == 6)
    p = nets.parsed
    return PrefixIndex.from_arrays(p.v4[m4], nets.plen[m4], rows[m4], p.hi[m6], p.lo[m6], nets.plen[m6], rows[m6])
