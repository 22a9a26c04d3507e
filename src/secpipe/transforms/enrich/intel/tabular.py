"""Column-oriented feeds: abuse.ch-style CSV exports and JSON arrays/maps of IOC records.

Design: the CSV body is read by Arrow's CSV reader (after dropping ``#`` comment lines and
folding the ``", "`` field separator of ThreatFox exports to ``","``), and the indicator column
is chosen once per feed, not per row:

1. ``column:`` from the feed config, if given;
2. else the first column whose header names a known IOC field (``ioc_value``, ``url``,
   ``dst_ip``, ``ip_address``, ``sha1``, ``ja3_md5``, ...);
3. else the column where most of the first rows classify as an IOC (link/reference columns
   such as URLhaus ``urlhaus_link`` are never chosen by content).

Without ``column:``, the other columns whose header names a file hash (``sha256_hash``,
``md5_hash``, ``sha1_hash``, ``sha256``, ``md5``, ``sha1``) are indicators too: a MalwareBazaar
export lists the SHA-256, MD5 and SHA-1 of each sample and a URLhaus payload export the MD5 and
SHA-256 of what each URL served, and an event may carry any one of them. Only values of hash
shape are taken from those columns (``n/a`` is not an indicator).

An indicator column named ``ja3_md5``/``ja3`` (SSLBL's JA3 list) holds JA3 fingerprints (kind
``ja3``), and the ``SHA1`` column of SSLBL's certificate blacklist (header exactly
``Listingdate,SHA1,Listingreason``) certificate fingerprints (kind ``x509``), not file hashes.

An AlienVault OTX pulse CSV download (``Indicator type,Indicator,Description``) takes each row's kind
from its OTX type, as the OTX JSON does.

Header names come from a first row without any IOC in it, or else from the last ``#`` comment
line with as many fields as the data (abuse.ch puts ``# id,dateadded,url,...`` there), so the
first data row is never eaten as a header. Without any header (Bambenek's C2 feeds: ``indicator,description,
time,manual page``), columns are told by content: a prose column is the description, a short text column (a family)
the label, never a link column. A row with more fields than the others (a description with unquoted commas) still
gives its indicator when that is the first column. A ``confidence_level`` column (ThreatFox), or the ``Risk`` of
a Recorded Future risk list (``Name,Risk,RiskString,EvidenceDetails``), gives each row its confidence; a
malware/threat column gives a label, and a ``tags`` column (URLhaus, ThreatFox: ``"32-bit,elf,mips,Mozi"``) one
label per comma-separated tag (``None`` is no tag). A row whose ``classification`` is ``benign`` or ``whitelist``
(GreyNoise, Maltiverse: a known-good scanner or host) is skipped and counted.
ThreatFox's ``ioc_id`` is each indicator's ``ref``, as in its JSON export.

JSON records (Feodo ``ipblocklist.json``, ThreatFox exports ``{"<id>": [{...}]}``, the ``data`` of
ThreatFox/MalwareBazaar API answers, the ``urls``/``payloads`` of URLhaus API answers, lists of
``{"ioc_value": ..., "ioc_type": ...}``) are mapped onto the team-list fields: the indicator
comes from ``value``/``indicator`` or a known IOC key, the kind from ``kind``/``type``/
``ioc_type`` (``ip:port``, ``md5_hash``, ``sha256_hash`` ... are understood); ``tags`` (a list, as
the ThreatFox and URLhaus APIs give them, or a comma-separated string, as the exports do) are labels,
and so is a MalwareBazaar ``signature``. A sample record (MalwareBazaar ``get_recent``/``get_info``,
URLhaus payloads) loads each of its ``sha256_hash``/``sha1_hash``/``md5_hash``.

Guarantees: every data row is either an indicator or counted in ``skipped``; a row whose
value is not an IOC is never loaded under a guessed kind.
"""

from __future__ import annotations

import csv
import io
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv

from secpipe import _compute as pc
from secpipe.transforms.enrich.intel.indicators import (
    KINDS,
    SCHEMA,
    FeedError,
    Loaded,
    _const_labels,
    _lines,
    _mask,
    _table,
    classify,
)

#: header names that hold the indicator, in order of preference
IOC_COLUMNS = ("ioc_value", "ioc", "indicator", "value", "url", "dst_ip", "dstip", "ip_address", "ipaddress", "ip",
               "ip_addr", "host", "hostname", "domain", "sha256_hash", "sha256", "sha1_hash", "sha1", "md5_hash", "md5",
               "ja3_md5", "ja3", "hash")
_NOT_IOC = ("link", "reference", "status", "reporter")
_LABEL_COLS = ("malware", "family", "signature", "threat", "malware_printable", "listingreason", "threat_type")
#: columns holding each row's confidence 0-100: ThreatFox's, a team list's, Recorded Future risk lists' ``Risk`` (0-99)
_CONFIDENCE_COLS = ("confidence_level", "confidence", "risk")
#: columns holding a comma-separated list of tags, each one label
_TAG_COLS = ("tags", "labels")
#: columns whose values are file hashes of the row's sample (all loaded, see module docstring)
_HASH_COLUMNS = ("sha256_hash", "sha256", "md5_hash", "md5", "sha1_hash", "sha1")
#: ``classification`` values of known-good entries (GreyNoise: benign, malicious, unknown; Maltiverse: whitelist, ...)
BENIGN_CLASSES = frozenset({"benign", "whitelist"})
#: label values that mean "none" in abuse.ch exports
_NO_LABEL = ("None", "n/a")
#: feed-specific kind names -> our kinds
KIND_ALIASES = {"ip:port": "ip", "ipv4": "ip", "ipv6": "ip", "ip-src": "ip", "ip-dst": "ip", "ip_address": "ip",
                "fqdn": "domain", "hostname": "domain", "uri": "url", "md5_hash": "hash",
                "sha1_hash": "hash", "sha256_hash": "hash", "sha512_hash": "hash", "sha3_384_hash": "hash", "md5": "hash",
                "sha1": "hash", "sha224": "hash", "sha256": "hash", "sha384": "hash", "sha512": "hash", "filehash": "hash",
                "ja3_md5": "ja3", "ja3-fingerprint-md5": "ja3",
                "x509-fingerprint-sha1": "x509", "x509-fingerprint-md5": "x509", "x509-fingerprint-sha256": "x509",
                # Microsoft Defender for Endpoint's indicatorType, STIX 2.1 observable and AlienVault OTX type names
                "filesha1": "hash", "filesha256": "hash", "filemd5": "hash", "ipaddress": "ip", "domainname": "domain",
                "certificatethumbprint": "x509", "ipv4-addr": "ip", "ipv6-addr": "ip", "domain-name": "domain",
                "email-addr": "email", "filehash-md5": "hash", "filehash-sha1": "hash", "filehash-sha256": "hash",
                "sslcertfingerprint": "x509", "sample": "hash",  # Maltiverse's sample: a file by its hashes
                **{k: k for k in KINDS}}
#: indicator columns whose MD5-shaped values are JA3 TLS client fingerprints (SSLBL ``ja3_md5``)
_JA3_COLUMNS = ("ja3_md5", "ja3")
#: the header of abuse.ch's SSL Certificate Blacklist: its SHA1 column holds certificate fingerprints
_SSLBL_CERTS = {"listingdate", "sha1", "listingreason"}
_SAMPLE = 1000


def _fields(line: str) -> list[str]:
    return [f.strip() for f in next(csv.reader([line], skipinitialspace=True), [])]


def _is_ioc_row(fields: list[str]) -> bool:
    kinds, _v = classify(pa.array(fields, pa.string()))
    return kinds.null_count < len(kinds)


def load_abusech_csv(data: bytes, conf: int, labels: list[str] | None = None, column: str | None = None) -> Loaded:
    """abuse.ch-style CSV (see module docstring)."""
    lines = _lines(data)
    if not len(lines):
        return Loaded(SCHEMA.empty_table())
    is_comment = pc.starts_with(lines, "#")
    body = lines.filter(pc.invert(is_comment))
    if not len(body):
        return Loaded(SCHEMA.empty_table())
    if pc.all(pc.match_substring_regex(body.slice(0, _SAMPLE), _MISP_FEED_HASHES)).as_py():
        msg = ("this is a MISP feed hashes.csv (the MD5 of each attribute value and its event UUID, a lookup"
               " index, not indicators) — use `format: misp_feed` with `path:` the feed directory")
        raise FeedError(msg)
    first = _fields(body[0].as_py())
    header: list[str] | None = None
    if not _is_ioc_row(first):
        header, body = first, body.slice(1)
    else:
        comments = lines.filter(is_comment).to_pylist()
        for c in reversed(comments):
            names = _fields(c.lstrip("#").strip())
            if len(names) == len(first) and len(names) > 1 and not _is_ioc_row(names):
                header = names
                break
    if not len(body):
        return Loaded(SCHEMA.empty_table())
    if column is None and header is not None and [h.lower() for h in header] == _OTX_CSV_HEADER:
        return _otx_csv(body.to_pylist(), conf, labels)
    text = "\n".join(body.to_pylist()).encode() + b"\n"  # Arrow counts no columns in one line without its end
    if b'", "' in text:
        text = text.replace(b'", "', b'","')
    columns = [h.lower() or f"f{i}" for i, h in enumerate(header)] if header else None
    read = pacsv.ReadOptions(column_names=columns, autogenerate_column_names=columns is None)
    conv = pacsv.ConvertOptions(strings_can_be_null=True, column_types={})
    rejected: list[Any] = []

    def bad_row(row: Any) -> str:
        rejected.append(row)
        return "skip"

    try:
        t = pacsv.read_csv(io.BytesIO(text), read_options=read, convert_options=conv,
                           parse_options=pacsv.ParseOptions(invalid_row_handler=bad_row))
    except pa.ArrowInvalid as exc:
        msg = f"CSV feed does not parse ({str(exc).splitlines()[0]}) — check `format`"
        raise FeedError(msg) from exc
    t = t.cast(pa.schema([(f.name, pa.string()) for f in t.schema]))
    cols = {n: t.column(n).combine_chunks() for n in t.column_names}
    vcol = _pick_column(cols, column, t.column_names)
    if t.column_names[0] == vcol and (long := _first_fields(rejected)):
        rejected = [r for r in rejected if r.actual_columns <= r.expected_columns]
        cols = {n: pa.concat_arrays([a, pa.array(long if n == vcol else [None] * len(long), pa.string())])
                for n, a in cols.items()}
    benign = 0
    if "classification" in cols and vcol != "classification":  # GreyNoise, Maltiverse: known-good rows are no threat
        good = _mask(pc.is_in(pc.utf8_lower(pc.utf8_trim_whitespace(cols["classification"])), value_set=pa.array(sorted(BENIGN_CLASSES))))
        if good.any():
            benign = int(good.sum())
            cols = {n: a.filter(pa.array(~good)) for n, a in cols.items()}
    k, v = classify(cols[vcol])
    if vcol in _JA3_COLUMNS:
        md5 = pc.and_(pc.equal(k, "hash"), pc.equal(pc.binary_length(v), 32))
        k = pc.if_else(pc.fill_null(md5, False), "ja3", pa.scalar(None, pa.string()))
    elif vcol == "sha1" and set(cols) == _SSLBL_CERTS:
        k = pc.if_else(pc.fill_null(pc.equal(k, "hash"), False), "x509", pa.scalar(None, pa.string()))
    confs: Any = conf
    conf_col = next((c for c in _CONFIDENCE_COLS if c in cols and c != vcol), None)
    if conf_col is not None:
        num = pc.match_substring_regex(cols[conf_col], r"^\d{1,3}$")
        confs = pc.if_else(pc.fill_null(num, False), cols[conf_col], str(conf)).cast(pa.int32())
    lab_col = next((c for c in _LABEL_COLS if c in cols and c != vcol), None)
    tag_col = next((c for c in _TAG_COLS if c in cols and c != vcol), None)
    desc_col = None
    if lab_col is None and tag_col is None and header is None:
        lab_col, desc_col = _guess_text_columns(cols, vcol)
    extra = _const_labels(labels, len(v))
    if lab_col is not None or tag_col is not None:
        extra = _labels_with(labels, cols.get(lab_col or ""), cols.get(tag_col or ""), len(v))
    ref = cols.get("ioc_id") if vcol != "ioc_id" else None
    loaded = _table(k, v, confs, extra, description=cols.get(desc_col or ""), ref=ref)
    skipped = len(v) - loaded.num_rows + len(rejected) + benign
    if column is None:
        more = [_hashes_of(cols[n], confs, extra, ref) for n in _HASH_COLUMNS if n in cols and n != vcol]
        loaded = pa.concat_tables([loaded, *more]) if more else loaded
    return Loaded(loaded, skipped)


def _first_fields(rejected: list[Any]) -> list[str]:
    """The first field of each row with more fields than the others (a free-text column with unquoted commas, as
    Bambenek's C2 feeds write ``IP resolved by necurs C&C, uses encoded IP, ...``): the fields before the text
    stay in place, so an indicator that is the first column is read; rows with fewer fields stay rejected.
    Rejected rows are few: they go through Python."""
    return [next(csv.reader([r.text]), [""])[0].strip() for r in rejected if r.actual_columns > r.expected_columns]


def _guess_text_columns(cols: dict[str, pa.Array], vcol: str) -> tuple[str | None, str | None]:
    """(label column, description column) of a CSV without a header, by content: of the columns that are neither
    numbers or times nor links (mostly IOC-shaped values, as the ``http://osint.bambenekconsulting.com/manual/...``
    page each Bambenek row ends with), the last whose values are mostly prose (three words or more: ``Domain used
    by shiotob/urlzone/bebloh``) describes the row, and the last other one (a family name: ``Dridex``) labels it."""
    text = []
    for n, arr in cols.items():
        sample = pc.drop_null(arr.slice(0, _SAMPLE))
        if n == vcol or not len(sample) or pc.all(pc.match_substring_regex(sample, r"^[\d\s:.-]+$")).as_py():
            continue
        kinds, _v = classify(sample)
        if 2 * (len(kinds) - kinds.null_count) <= len(kinds):
            text.append((n, pc.mean(pc.match_substring_regex(sample, r"\S\s+\S+\s+\S")).as_py() > 0.5))
    label = next((n for n, prose in reversed(text) if not prose), None)
    return label, next((n for n, prose in reversed(text) if prose), None)


#: a line of a MISP feed's hashes.csv: md5(attribute value),event uuid
_MISP_FEED_HASHES = r"^[0-9a-f]{32},[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"
#: the header of AlienVault OTX's pulse CSV download
_OTX_CSV_HEADER = ["indicator type", "indicator", "description"]


def _otx_csv(rows: list[str], conf: int, labels: list[str] | None) -> Loaded:
    """An OTX pulse CSV download: each row's OTX type decides its kind, as for the OTX JSON API
    (:mod:`.vendor`); types with no matching field (YARA, CVE, Mutex, FileHash-IMPHASH/PEHASH whose hex
    looks like a file hash, ...) are skipped and counted. A pulse's CSV is small: rows go through Python."""
    from secpipe.transforms.enrich.intel.loaders import load_team_rows
    from secpipe.transforms.enrich.intel.vendor import vendor_rows

    parsed = [f for f in csv.reader(rows) if f]
    page = {"results": [{"type": f[0], "indicator": f[1] if len(f) > 1 else "", "description": ",".join(f[2:]) or None}
                        for f in parsed]}
    team, skipped = vendor_rows(page) or ([], len(parsed))
    out = load_team_rows(team, conf, labels)
    out.skipped += skipped
    return out


def _hashes_of(col: pa.Array, confs: Any, labels: pa.Array | None, ref: pa.Array | None) -> pa.Table:
    """The hash-shaped values of another hash column of the same rows, as ``hash`` indicators."""
    k, v = classify(col)
    k = pc.if_else(pc.fill_null(pc.equal(k, "hash"), False), k, pa.scalar(None, pa.string()))
    return _table(k, v, confs, labels, ref=ref)


def _pick_column(cols: dict[str, pa.Array], column: str | None, names: list[str]) -> str:
    if column:
        if column.lower() not in cols:
            msg = f"CSV feed has no column {column!r} — columns: {', '.join(names)}"
            raise FeedError(msg)
        return column.lower()
    for name in IOC_COLUMNS:
        if name in cols:
            return name
    best, best_n = names[0], -1
    for n, arr in cols.items():
        if any(x in n for x in _NOT_IOC):
            continue
        kinds, _v = classify(arr.slice(0, _SAMPLE))
        hits = len(kinds) - kinds.null_count
        if hits > best_n:
            best, best_n = n, hits
    return best


def _labels_with(labels: list[str] | None, col: pa.Array | None, tags: pa.Array | None, n: int) -> pa.Array:
    """Per row: the constant feed labels, the row's label column and each tag of its tag column.

    Empty, ``None`` and ``n/a`` values are no label; a label already in the row is not repeated.
    Each distinct (label, tags) pair is built once.
    """
    pre = labels or []
    words: list[list[list[str]]] = []
    codes = np.zeros(n, np.int64)
    for arr, split in ((col, False), (tags, True)):
        if arr is None:
            continue
        enc = pc.dictionary_encode(pc.utf8_trim_whitespace(arr))
        vocab = [_words(x, split) for x in enc.dictionary.to_pylist()] + [[]]
        idx = pc.fill_null(enc.indices, len(vocab) - 1).to_numpy(zero_copy_only=False).astype(np.int64)
        codes = codes * len(vocab) + idx
        words.append(vocab)
    uniq, inverse = np.unique(codes, return_inverse=True)
    lists = []
    for code in uniq.tolist():
        parts: list[str] = []
        for vocab in reversed(words):
            code, i = divmod(code, len(vocab))
            parts = vocab[i] + parts
        lists.append(list(dict.fromkeys(pre + parts)))
    return pa.array(lists, pa.list_(pa.string())).take(pa.array(inverse.reshape(-1)))


def _words(value: str, split: bool) -> list[str]:
    """The labels of one cell: the value, or its comma-separated tags; "none" values dropped."""
    parts = value.split(",") if split else [value]
    return [w for w in (p.strip() for p in parts) if w and w not in _NO_LABEL]


# --------------------------------------------------------------------------------------
# JSON records
# --------------------------------------------------------------------------------------

#: (``ip_addr``/``ip`` after the URL and host keys: a record of a URL may also name its host's address)
_VALUE_KEYS = ("value", "indicator", "ioc_value", "ioc", "indicatorvalue", "ip_address", "ipaddress", "dst_ip", "url",
               "domain", "host", "hostname", "ip_addr", "ip", "sha256_hash", "sha1_hash", "md5_hash", "sha256", "sha1",
               "md5")
_KIND_KEYS = ("kind", "type", "ioc_type", "indicator_type", "indicatortype")
#: keys whose kind names are a vendor's vocabulary (ThreatFox's grows, Defender's has more than we match): a name
#: with no kind here skips its entry, counted, where a team list's unknown ``kind`` is a feed error
VENDOR_KIND_KEYS = ("ioc_type", "indicatortype")
_RECORD_LABELS = ("malware_printable", "malware", "threat", "family", "signature")
#: the file hashes of one sample (MalwareBazaar and URLhaus payload API records carry several)
_SAMPLE_HASH_KEYS = ("sha256_hash", "sha1_hash", "md5_hash", "sha256", "sha1", "md5")


def json_records(doc: Any) -> list[Any] | None:
    """Entries of a JSON feed document, or None when it has no recognisable list of entries."""
    if isinstance(doc, list):
        return doc
    if not isinstance(doc, dict):
        return None
    # URLhaus API: urls/recent, payloads/recent; OData answers (Defender for Endpoint's GET /api/indicators): value
    for key in ("indicators", "data", "iocs", "urls", "payloads", "value"):
        if isinstance(doc.get(key), list):
            return doc[key]
    # ThreatFox export: {"<ioc id>": [{...}], ...}
    if doc and all(isinstance(v, list) and all(isinstance(x, dict) for x in v) for v in doc.values()):
        return [{"ref": str(k), **x} for k, v in doc.items() for x in v]
    return None


def sample_hashes(r: dict[str, Any], value: Any) -> list[str]:
    """The other hashes of a sample record whose indicator is one of its hashes (a MalwareBazaar
    record names a sample by SHA-256, SHA-1 and MD5; an event may carry any one), as the CSV path does."""
    if not any(r.get(k) == value for k in _SAMPLE_HASH_KEYS):
        return []
    return list(dict.fromkeys(str(r[k]) for k in _SAMPLE_HASH_KEYS if r.get(k) not in (None, "", value)))


def team_row(r: dict[str, Any]) -> tuple[Any, Any, list[str]]:
    """(value, kind, extra labels) of one JSON/YAML record; kind None when not given."""
    value = next((r[k] for k in _VALUE_KEYS if r.get(k) not in (None, "")), None)
    kind = next((r[k] for k in _KIND_KEYS if r.get(k) not in (None, "")), None)
    if isinstance(kind, str):
        kind = KIND_ALIASES.get(kind.strip().lower(), kind)
    extra = [str(r[k]) for k in _RECORD_LABELS if r.get(k) not in (None, "", "None")][:1]
    if "phish_id" in r and r.get("target") not in (None, "", "Other"):  # PhishTank: the brand the phish imitates
        extra.append(str(r["target"]))
    tags = r.get("tags")
    if isinstance(tags, str):
        extra += _words(tags, True)
    elif isinstance(tags, list):
        extra += [w for t in tags if t is not None for w in _words(str(t), False)]
    return value, kind, list(dict.fromkeys(extra))
