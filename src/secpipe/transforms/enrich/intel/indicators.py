"""The indicator table every feed loader returns, and the value rules all loaders share.

:data:`SCHEMA` is the table (``kind`` ip|domain|url|hash|asn|email|ja3|x509, normalized ``value``,
``confidence`` 0-100, ``labels``, ``valid_until`` ms or null, ``description``, ``ref``, ``valid_from``
ms or null); :func:`classify` tells an indicator's kind from its value and :func:`normalize` /
:func:`canonical_urls` / :func:`idna_names` (internationalized names as A-labels) give values the form both
sides of a match take. :class:`Loaded` pairs a
table with the number of entries a loader skipped. The loaders themselves are in :mod:`.loaders`
(plain, Spamhaus and team lists, and the format dispatch), :mod:`.misp`, :mod:`.stix` and
:mod:`.tabular`.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa

from secpipe import _compute as pc
from secpipe.errors import TerminalError
from secpipe.transforms.enrich._ip import parse_networks

SCHEMA = pa.schema([
    ("kind", pa.string()), ("value", pa.string()), ("confidence", pa.int32()),
    ("labels", pa.list_(pa.string())), ("valid_until", pa.int64()), ("description", pa.string()),
    ("ref", pa.string()), ("valid_from", pa.int64()),
])  # fmt: skip

KINDS = ("ip", "domain", "url", "hash", "asn", "email", "ja3", "x509")
#: kinds whose values compare case-insensitively (stored lower-cased; event values lower-cased to match)
CASELESS_KINDS = frozenset({"domain", "hash", "email", "ja3", "x509"})
__all__ = ["CASELESS_KINDS", "KINDS", "SCHEMA", "FeedError", "Loaded", "asn_values", "canonical_urls", "classify",
           "idna_names", "malformed", "normalize"]


class FeedError(TerminalError):
    """A feed body that cannot be parsed in the configured format."""


@dataclass(slots=True)
class Loaded:
    """A parsed feed; ``empty``: the body is a document of its format that lists nothing (an empty TAXII page or
    bundle, a MISP search that matched no event): an empty feed, not a body misread as no indicators."""

    table: pa.Table
    skipped: int = 0
    empty: bool = False


_HEX_RE = r"^[0-9a-f]+$"
_HASH_LENS = pa.array([32, 40, 56, 64, 96, 128], pa.int32())
#: the top-level label has a letter (RFC 3696 2), so "999.1.1.1" or "1.2.3.4.5" is never a domain
_DOMAIN_RE = r"^(\*\.)?([a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?\.)+[a-z0-9-]*[a-z][a-z0-9-]*\.?$"
#: an e-mail address: a dot-atom local part (RFC 5322 3.4.1) at a domain as above
_EMAIL_RE = r"^[a-z0-9!#$%&'*+/=?^_`{|}~-]+(\.[a-z0-9!#$%&'*+/=?^_`{|}~-]+)*@" + _DOMAIN_RE[1:]
_IP_SHAPE = r"^(?:[0-9.]+|[0-9A-Fa-f:.]*:[0-9A-Fa-f:.]*)(?:%[^/]*)?(?:/\d{1,3})?$"


def _where(todo: np.ndarray, values: pa.Array, test: Any) -> np.ndarray:
    """Run a vectorized ``test`` only on the values still undecided (``todo``); False elsewhere."""
    out = np.zeros(len(values), bool)
    at = np.flatnonzero(todo)
    if len(at):
        out[at] = np.asarray(test(values.take(pa.array(at))), bool)
    return out


def _mask(arr: pa.Array) -> np.ndarray:
    return pc.fill_null(arr, False).to_numpy(zero_copy_only=False)


def classify(values: pa.Array, *, refang: bool = True) -> tuple[pa.Array, pa.Array]:
    """Vectorized kind detection and normalization: (kind, normalized value), null if not an IOC.

    Cheap tests first (substring, length), and each regex only on the values still undecided,
    so a million-line list costs a few passes of C string kernels. A value that is no IOC as
    written but defanged (``evil[.]example``, ``evil(dot)example``, ``user(at)evil[.]example``), a URL
    whose scheme is ``hxxp(s)``, or one whose host is defanged (``https://evil[.]example/a``) is classified
    refanged; any other URL is never rewritten (``[.]`` in its path or query stays as written).
    """
    v = pc.utf8_trim_whitespace(values.cast(pa.string()))
    low = pc.utf8_lower(v)
    todo = _mask(pc.greater(pc.utf8_length(v), 0))
    is_url = _where(todo & _mask(pc.match_substring(v, "://")), v,
                    lambda x: _mask(pc.match_substring_regex(x, r"^[A-Za-z][A-Za-z0-9+.-]*://")))
    todo &= ~is_url
    colon = _where(todo, v, lambda x: _mask(pc.match_substring(x, ":")))
    if colon.any():  # ThreatFox/feed "ip:port" and "[v6]:port" -> the address
        at = np.flatnonzero(colon)
        raw = v.take(pa.array(at))
        stripped = _strip_port(raw)
        changed = _mask(pc.not_equal(raw, stripped))
        if changed.any():
            where = np.zeros(len(v), bool)
            where[at[changed]] = True
            fix = stripped.filter(pa.array(changed))
            v, low = _put(v, where, fix), _put(low, where, pc.utf8_lower(fix))
    is_hash = _where(todo & _mask(pc.is_in(pc.binary_length(low), value_set=_HASH_LENS)), low,
                     lambda x: _mask(pc.match_substring_regex(x, _HEX_RE)))
    todo &= ~is_hash
    is_ip = _where(todo, v, lambda x: _ip_mask(x).to_numpy(zero_copy_only=False))
    todo &= ~is_ip
    uni = _where(todo, v, lambda x: _mask(pc.invert(pc.string_is_ascii(x))))
    if uni.any():  # an internationalized name (or the domain of an address) -> its A-labels, as DNS carries it
        fix = idna_names(v.filter(pa.array(uni)))
        ok = _mask(pc.and_(pc.string_is_ascii(fix), pc.invert(pc.match_substring(fix, " "))))
        where = np.zeros(len(v), bool)
        where[np.flatnonzero(uni)[ok]] = True
        fix = fix.filter(pa.array(ok))
        v, low = _put(v, where, fix), _put(low, where, pc.utf8_lower(fix))
    is_dom = _where(todo, low, lambda x: _mask(pc.match_substring_regex(x, _DOMAIN_RE)))
    todo &= ~is_dom
    is_email = _where(todo, low, lambda x: _mask(pc.match_substring_regex(x, _EMAIL_RE)))
    todo &= ~is_email
    names = np.array([None, "url", "hash", "ip", "domain", "email"], dtype=object)
    code = np.select([is_url, is_hash, is_ip, is_dom, is_email], [1, 2, 3, 4, 5], 0)
    kind = pa.array(names[code], pa.string()) if len(code) else pa.array([], pa.string())
    value = normalize(kind, v, low)
    fanged = _where(todo, low, lambda x: _mask(pc.match_substring_regex(x, _DEFANGED)))
    fanged |= is_url & _mask(pc.starts_with(low, "hxxp"))  # a prefix test: URL lists stay cheap
    fanged |= _where(is_url & ~fanged, low, lambda x: _mask(pc.match_substring_regex(x, _DEFANGED_HOST)))
    if refang and fanged.any():  # report/OTX/CSV exports often carry hxxp://evil[.]example
        k2, v2 = classify(_refang(v.filter(pa.array(fanged))), refang=False)
        kind, value = _put(kind, fanged, k2), _put(value, fanged, v2)
    return kind, value


#: the defanged dot and at of IOC write-ups (ioc-fanger's set): [.] (.) {.} [dot] (dot) {dot} \. and [@] (@) [at] (at) {at}
_DOT = r"\[\.\]|\(\.\)|\{\.\}|[\[({][dD][oO][tT][\])}]|\\\."
_AT = r"[\[(]@[\])]|[\[({][aA][tT][\])}]"
#: defanged IOCs: hxxp(s)://, a defanged dot or at, [:], [://] (tested on lower-cased values)
_DEFANGED = rf"^hxxps?\[?:|{_DOT}|{_AT}|\[:\]|\[://\]"
#: a URL with a real scheme whose host is defanged (``https://evil[.]example/a``): no host holds brackets
_DEFANGED_HOST = rf"^[a-z][a-z0-9+.-]*://[^/?#]*?(?:{_DOT}|{_AT})"
#: refanging, in order: the bracketed separators first (``hxxp[://]`` is ``hxxp://`` before its scheme is read)
_REFANG = ((r"\[://\]", "://"), (r"\[:\]", ":"), (r"^[hH][xX]{2}[pP][sS]\[?:\]?", "https:"),
           (r"^[hH][xX]{2}[pP]\[?:\]?", "http:"), (_DOT, "."), (_AT, "@"))


def idna_names(values: pa.Array) -> pa.Array:
    """Internationalized domain names (and the domain of an e-mail address) in the ASCII form DNS carries them
    (IDNA: ``пример.рф`` -> ``xn--e1afmkfd.xn--p1ai``, lower-cased by its nameprep), so a feed that writes a name
    in Unicode matches the query a resolver logged and the other way round. Only non-ASCII values reach Python
    (Python's ``idna`` codec, IDNA 2003); one that does not convert is kept as written."""
    values = values.cast(pa.string())
    uni = _mask(pc.invert(pc.string_is_ascii(values)))
    if not uni.any():
        return values
    return _put(values, uni, pa.array([_idna(x) for x in values.filter(pa.array(uni)).to_pylist()], pa.string()))


def _idna(name: str) -> str:
    local, at, host = name.rpartition("@")
    try:
        return local + at + host.encode("idna").decode("ascii")
    except UnicodeError:
        return name


def _refang(values: pa.Array) -> pa.Array:
    for rx, repl in _REFANG:
        values = pc.replace_substring_regex(values, rx, repl)
    return values


def _strip_port(values: pa.Array) -> pa.Array:
    out = pc.replace_substring_regex(values, r"^(\d{1,3}(?:\.\d{1,3}){3}):\d{1,5}$", r"\1")
    return pc.replace_substring_regex(out, r"^\[([0-9A-Fa-f:.]+)\](?::\d{1,5})?$", r"\1")


def _put(values: pa.Array, where: np.ndarray, new: pa.Array) -> pa.Array:
    """``values`` with the positions of ``where`` replaced by ``new`` (in order)."""
    pos = np.cumsum(where) - 1
    filled = new.take(pa.array(np.where(where, pos, 0)))
    return pc.if_else(pa.array(where), filled, values)


def _ip_mask(values: pa.Array) -> pa.Array:
    """True where the value is an IP address or network (only IP-shaped values are parsed)."""
    shaped = _mask(pc.match_substring_regex(values, _IP_SHAPE))
    return pa.array(_where(shaped, values, lambda x: parse_networks(x).ok))


def normalize(kind: pa.Array, value: pa.Array, low: pa.Array | None = None) -> pa.Array:
    """Normalize values per kind: domains/hashes/e-mail addresses lower-case (domains without ``*.`` and final dot).

    ``low`` may pass the already lower-cased, trimmed ``value`` (then ``value`` must be trimmed).
    """
    v = value.cast(pa.string()) if low is not None else pc.utf8_trim_whitespace(value.cast(pa.string()))
    low = pc.utf8_lower(v) if low is None else low
    is_dom = pc.fill_null(pc.equal(kind, "domain"), False)
    dom = low
    if pc.any(pc.and_(is_dom, pc.or_(pc.starts_with(low, "*."), pc.ends_with(low, ".")))).as_py():
        dom = pc.if_else(pc.starts_with(low, "*."), pc.utf8_slice_codeunits(low, 2), low)
        dom = pc.if_else(pc.ends_with(dom, "."), pc.utf8_slice_codeunits(dom, 0, -1), dom)
    is_low = pc.fill_null(pc.or_(pc.equal(kind, "hash"), pc.equal(kind, "email")), False)
    out = pc.if_else(is_dom, dom, pc.if_else(is_low, low, v))
    is_url = pc.fill_null(pc.equal(kind, "url"), False)
    if pc.any(is_url).as_py():
        out = pc.if_else(is_url, canonical_urls(out), out)
    return out


#: scheme://[userinfo@]host[:port]rest of an absolute URL (RFC 3986 3), the host possibly an [IPv6] literal
_URL_PARTS = (r"^(?P<scheme>[A-Za-z][A-Za-z0-9+.-]*)://(?P<user>[^@/?#]*@)?(?P<host>\[[^\]/?#]*\]|[^:/?#]*)"
              r"(?P<port>:[0-9]*)?(?P<rest>.*)$")


#: an absolute URL that :func:`canonical_urls` may change: an upper-case scheme letter, or an authority with an
#: upper-case letter or a ':' (port, userinfo, IPv6), or with no path after it
_URL_NOT_CANONICAL = (r"^(?:[a-z][a-z0-9+.-]*[A-Z][A-Za-z0-9+.-]*://|[A-Z][A-Za-z0-9+.-]*://"
                      r"|[a-z][a-z0-9+.-]*://[^/?#]*(?:[A-Z:]|$|[?#]))")


def canonical_urls(values: pa.Array) -> pa.Array:
    """URLs in the form both sides of a match take (RFC 3986 6.2.2-6.2.3): scheme and host lower-cased
    (they are case-insensitive), the scheme's default port (http :80, https :443) and an empty port dropped,
    an empty path written ``/``, an internationalized host in its A-labels (:func:`idna_names`). Path, query and
    userinfo are kept as written; values that are no absolute URL are returned unchanged. Vectorized (one regex
    pass; only non-ASCII URLs reach Python)."""
    values = values.cast(pa.string())
    if not len(values):
        return values
    uni = _mask(pc.invert(pc.string_is_ascii(values)))
    if uni.any():  # an internationalized host -> its A-labels (see idna_names); path and query stay as written
        values = _put(values, uni, pa.array([_idna_host(x) for x in values.filter(pa.array(uni)).to_pylist()],
                                            pa.string()))
    todo = _mask(pc.match_substring_regex(values, _URL_NOT_CANONICAL))  # a DFA pass; most feed URLs are canonical
    if not todo.any():
        return values
    if not todo.all():
        return _put(values, todo, canonical_urls(values.filter(pa.array(todo))))
    parts = pc.extract_regex(values, _URL_PARTS)
    ok = pc.fill_null(pc.is_valid(parts), False)
    if not pc.any(ok).as_py():
        return values
    f = {n: pc.fill_null(parts.field(n), "") for n in ("scheme", "user", "host", "port", "rest")}
    scheme, port, rest = pc.utf8_lower(f["scheme"]), f["port"], f["rest"]
    default = pc.or_(pc.equal(port, ":"), pc.or_(pc.and_(pc.equal(scheme, "http"), pc.equal(port, ":80")),
                                                pc.and_(pc.equal(scheme, "https"), pc.equal(port, ":443"))))
    port = pc.if_else(default, "", port)
    rest = pc.if_else(pc.or_(pc.equal(rest, ""), pc.match_substring_regex(rest, r"^[?#]")),
                      pc.binary_join_element_wise("/", rest, ""), rest)
    url = pc.binary_join_element_wise(scheme, "://", f["user"], pc.utf8_lower(f["host"]), port, rest, "")
    return pc.if_else(ok, url, values)


def _idna_host(url: str) -> str:
    m = re.match(_URL_PARTS, url)
    if m is None or m["host"].isascii():
        return url
    return url[:m.start("host")] + _idna(m["host"]) + url[m.end("host"):]


def _table(kind: pa.Array, value: pa.Array, confidence: Any, labels: Any = None, valid_until: Any = None,
           description: Any = None, ref: Any = None, valid_from: Any = None) -> pa.Table:
    n = len(value)

    def col(x: Any, t: pa.DataType) -> pa.Array:
        if x is None:
            return pa.nulls(n, t)
        if isinstance(x, pa.Array | pa.ChunkedArray):
            return x.cast(t)
        if isinstance(x, list):
            return pa.array(x, t)
        return pa.array(np.full(n, x)).cast(t) if not isinstance(x, str) else pa.array([x] * n, t)

    t = pa.table([kind.cast(pa.string()), value.cast(pa.string()), col(confidence, pa.int32()),
                  col(labels, pa.list_(pa.string())), col(valid_until, pa.int64()),
                  col(description, pa.string()), col(ref, pa.string()), col(valid_from, pa.int64())], schema=SCHEMA)
    return t.filter(pc.and_(pc.is_valid(t.column("kind")), pc.is_valid(t.column("value"))))


def _rows(rows: list[dict[str, Any]], default_conf: int) -> Loaded:
    """Per-indicator dicts (small feeds: STIX, MISP, YAML) -> table."""
    if not rows:
        return Loaded(SCHEMA.empty_table())
    kinds = pa.array([r.get("kind") for r in rows], pa.string())
    values = pa.array([r["value"] for r in rows], pa.string())
    is_x509 = pc.fill_null(pc.equal(kinds, "x509"), False)
    if pc.any(is_x509).as_py():  # certificate fingerprints are also written AB:CD:...
        values = pc.if_else(is_x509, pc.replace_substring(values, ":", ""), values)
    auto_kind, auto_val = classify(values)
    # A declared kind is kept only when the value has that shape (URLs may lack a scheme; a JA3
    # fingerprint is an MD5-shaped hash, a certificate fingerprint any hash).
    is_ja3 = pc.fill_null(pc.and_(pc.equal(kinds, "ja3"), pc.equal(auto_kind, "hash")), False)
    is_ja3 = pc.and_(is_ja3, pc.equal(pc.fill_null(pc.binary_length(auto_val), 0), 32))
    is_fp = pc.or_(is_ja3, pc.and_(is_x509, pc.fill_null(pc.equal(auto_kind, "hash"), False)))
    agree = pc.fill_null(pc.or_kleene(pc.or_kleene(pc.equal(kinds, auto_kind), pc.equal(kinds, "url")), is_fp), False)
    kind = pc.if_else(pc.is_null(kinds), auto_kind, pc.if_else(agree, kinds, pa.scalar(None, pa.string())))
    same = pc.or_(pc.fill_null(pc.equal(kind, auto_kind), False), is_fp)
    value = pc.if_else(same, auto_val, normalize(kind, values))
    is_asn = pc.fill_null(pc.equal(kinds, "asn"), False)
    if pc.any(is_asn).as_py():  # ASNs have no shape classify() knows: declared only
        asn = asn_values(values)
        kind = pc.if_else(is_asn, pc.if_else(pc.is_valid(asn), "asn", pa.scalar(None, pa.string())), kind)
        value = pc.if_else(is_asn, asn, value)
    t = _table(kind, value, [r.get("confidence", default_conf) for r in rows],
               [r.get("labels") or None for r in rows], [r.get("valid_until") for r in rows],
               [r.get("description") for r in rows], [r.get("ref") for r in rows], [r.get("valid_from") for r in rows])
    return Loaded(t, len(rows) - t.num_rows)


def _ms(value: Any) -> int | None:
    """ISO-8601 / epoch seconds -> ms since epoch (None if absent or unparseable)."""
    if value in (None, ""):
        return None
    if isinstance(value, int | float):
        return round(float(value) * 1000)
    if isinstance(value, dt.datetime | dt.date):
        d = value if isinstance(value, dt.datetime) else dt.datetime(value.year, value.month, value.day, tzinfo=dt.UTC)
        return int((d if d.tzinfo else d.replace(tzinfo=dt.UTC)).timestamp() * 1000)
    text = str(value).strip().replace("Z", "+00:00")
    if text.isdigit():
        return int(text) * 1000
    try:
        d = dt.datetime.fromisoformat(text)
    except ValueError:
        return None
    return int((d if d.tzinfo else d.replace(tzinfo=dt.UTC)).timestamp() * 1000)


def _flag(value: Any) -> bool:
    """MISP booleans: ``true``/``false`` or, in older exports, ``"1"``/``"0"``."""
    if isinstance(value, str):
        return value.strip().lower() in ("1", "true", "yes")
    return bool(value)


def _json(data: bytes, what: str) -> Any:
    try:
        return json.loads(data)
    except ValueError as exc:
        msg = f"{what}: body is not valid JSON ({exc}) — check the feed URL/path and format"
        raise FeedError(msg) from exc


def _first_line(exc: BaseException) -> str:
    return str(exc).splitlines()[0] if str(exc) else type(exc).__name__


@contextmanager
def malformed(fmt: str) -> Iterator[None]:
    """Turn a body whose structure is not the format's (a string where a list belongs, an
    attribute that is not an object...) into a :class:`FeedError` naming the format, so a bad
    refresh keeps the last good copy instead of escaping the refresh."""
    try:
        yield
    except (TypeError, AttributeError, KeyError, IndexError, pa.ArrowException) as exc:
        if isinstance(exc, FeedError):
            raise
        msg = (f"{fmt}: the body does not have the {fmt} layout ({type(exc).__name__}: {_first_line(exc)[:200]})"
               " — check the source and `format`")
        raise FeedError(msg) from exc


def _lines(data: bytes) -> pa.Array:
    """Non-empty lines of a text body as an Arrow string array (zero-copy over ``data``)."""
    if not data.strip():
        return pa.array([], pa.string())
    if len(data) >= 1 << 31:
        msg = "feed body over 2 GiB — split the list into several feeds"
        raise FeedError(msg)
    nl = np.flatnonzero(np.frombuffer(data, np.uint8) == 10)
    starts = np.concatenate(([0], nl + 1)).astype(np.int32)
    # Line i is data[starts[i]:starts[i + 1]]; its trailing newline is dropped by trimming.
    offsets = np.empty(len(starts) + 1, np.int32)
    offsets[:-1] = starts
    offsets[-1] = len(data)
    arr = pa.StringArray.from_buffers(len(starts), pa.py_buffer(offsets), pa.py_buffer(data))
    try:
        arr.validate(full=True)
    except pa.ArrowInvalid as exc:
        msg = f"feed body is not UTF-8 text ({exc}) — check `format` and the source"
        raise FeedError(msg) from exc
    arr = pc.utf8_trim_whitespace(arr)
    return arr.filter(pc.greater(pc.utf8_length(arr), 0))


def _const_labels(labels: list[str] | None, n: int) -> pa.Array | None:
    if not labels:
        return None
    return pa.ListArray.from_arrays(pa.array(np.arange(n + 1) * len(labels), pa.int32()),
                                    pa.array(labels * n, pa.string()))


def _uncomment(lines: pa.Array, marks: str) -> pa.Array:
    keep = pc.invert(pc.match_substring_regex(lines, "^[" + re.escape(marks) + "]"))
    return lines.filter(keep)


_ASN_RE = r"^(?:[Aa][Ss])?\s*(\d{1,10})$"


def asn_values(values: pa.Array) -> pa.Array:
    """``AS64500`` / ``as64500`` / ``64500`` -> ``"64500"`` (decimal, no leading zeros); null if not an ASN."""
    v = pc.utf8_trim_whitespace(values.cast(pa.string()))
    ok = pc.fill_null(pc.match_substring_regex(v, _ASN_RE), False)
    digits = pc.if_else(ok, pc.replace_substring_regex(v, _ASN_RE, r"\1"), pa.scalar(None, pa.string()))
    num = digits.cast(pa.uint64())
    in_range = pc.fill_null(pc.less_equal(num, 0xFFFFFFFF), False)
    return pc.if_else(in_range, num.cast(pa.string()), pa.scalar(None, pa.string()))
