"""CEF and LEEF payloads (as carried in syslog messages): header fields and extensions.

CEF (ArcSight Common Event Format): ``CEF:Version|Device Vendor|Device Product|Device
Version|Signature ID|Name|Severity|Extension``; ``\\|`` and ``\\\\`` are escapes in the header;
the extension is ``key=value`` pairs separated by spaces, where a value runs to the next
`` key=`` and ``\\=``, ``\\\\``, ``\\n``, ``\\r`` are escapes. Severity is 0-10 (0-3 Low, 4-6
Medium, 7-8 High, 9-10 Very-High) or one of the words Unknown, Low, Medium, High, Very-High.

LEEF (IBM QRadar Log Event Extended Format): ``LEEF:Version|Vendor|Product|Version|EventID|``
then attributes ``key=value`` separated by a tab (LEEF 1.0), or, in LEEF 2.0, by the delimiter
given as a sixth header field (one character, or ``xHH``/``0xHH`` hex; the field is optional,
and left empty or out it is the tab); ``sev`` is 1-10. CEF dates (``rt``, ``start``) are epoch
milliseconds or ``MMM dd [yyyy ]HH:mm:ss[.SSS][ zzz]`` (read in :mod:`.syslog`).

Design: the headers are split for the whole batch with one ``extract_regex``; extensions are
parsed per message with a compiled regex only for the rows that carry CEF/LEEF (a syslog batch
without such payloads pays one prefix test). Guarantee: a payload whose header does not parse
keeps its text as the message (no field is invented); every extension pair is kept.
"""

from __future__ import annotations

import re

import msgspec
import pyarrow as pa

from secpipe import _compute as pc

S = pa.string()
_I32 = pa.int32()

_CEF_RE = (
    r"^CEF: ?(?P<ver>\d+)\|(?P<vendor>(?:[^|\\]|\\.)*)\|(?P<product>(?:[^|\\]|\\.)*)\|(?P<pversion>(?:[^|\\]|\\.)*)\|"
    r"(?P<sig>(?:[^|\\]|\\.)*)\|(?P<name>(?:[^|\\]|\\.)*)\|(?P<sev>(?:[^|\\]|\\.)*)\|(?P<ext>.*)$"
)
_LEEF_RE = (
    r"^LEEF:(?P<ver>[12]\.\d+)\|(?P<vendor>[^|]*)\|(?P<product>[^|]*)\|(?P<pversion>[^|]*)\|(?P<sig>[^|]*)\|"
    r"(?P<ext>.*)$"
)
_CEF_EXT = re.compile(r"([\w.\[\]-]+)=((?:\\.|[^\\])*?)(?=\s+[\w.\[\]-]+=|\s*$)", re.S)
_CEF_UNESC = re.compile(r"\\([\\=|nr])")
_HEADER_UNESC = re.compile(r"\\([\\|])")
_LEEF_DELIM = re.compile(r"^(?:0?x([0-9A-Fa-f]{2,4})|(.))?\|")  # an empty field: the default, tab

#: CEF severity words and numbers -> OCSF severity_id (Low 2, Medium 3, High 4, Very-High 5 Critical).
_SEV_KEYS = pa.array(["unknown", "low", "medium", "high", "very-high"] + [str(i) for i in range(11)], S)
_SEV_VALS = pa.array([0, 2, 3, 4, 5] + [2, 2, 2, 2, 3, 3, 3, 4, 4, 5, 5], _I32)


def _unesc_cef(value: str) -> str:
    return _CEF_UNESC.sub(lambda m: {"n": "\n", "r": "\r"}.get(m.group(1), m.group(1)), value)


def _cef_extension(ext: str) -> dict[str, str]:
    return {k: _unesc_cef(v) for k, v in _CEF_EXT.findall(ext)}


def _leef_extension(ext: str, version: str) -> dict[str, str]:
    delim = "\t"
    if version.startswith("2"):
        m = _LEEF_DELIM.match(ext)
        if m:
            delim = chr(int(m.group(1), 16)) if m.group(1) else m.group(2) or "\t"
            ext = ext[m.end() :]
    out: dict[str, str] = {}
    for part in ext.split(delim):
        key, sep, value = part.partition("=")
        if sep and key.strip():
            out[key.strip()] = value
    return out


def _group(st: pa.Array, name: str) -> pa.Array:
    return pc.struct_field(st, name)


def parse(msg: pa.Array) -> dict[str, pa.Array] | None:
    """CEF/LEEF fields of a message column, or None when no message carries either.

    Returns columns (null where the row is not CEF/LEEF): ``format`` ("CEF"/"LEEF"), ``vendor``,
    ``product``, ``version``, ``event_code``, ``name``, ``severity_id`` (int32; LEEF from the
    ``sev`` attribute), ``time_text`` (CEF ``rt`` or ``start``, LEEF ``devTime``, as written) and
    ``json`` (a JSON object: header fields plus ``extension``).
    """
    is_cef = pc.fill_null(pc.starts_with(msg, "CEF:"), False)
    is_leef = pc.fill_null(pc.starts_with(msg, "LEEF:"), False)
    if not (pc.any(is_cef).as_py() or pc.any(is_leef).as_py()):
        return None
    n = len(msg)
    cef = pc.extract_regex(pc.if_else(is_cef, msg, pa.scalar(None, S)), _CEF_RE)
    leef = pc.extract_regex(pc.if_else(is_leef, msg, pa.scalar(None, S)), _LEEF_RE)
    ok_c = pc.fill_null(cef.is_valid(), False)
    ok_l = pc.fill_null(leef.is_valid(), False)

    def pick(name: str) -> pa.Array:
        col = pc.if_else(ok_c, _group(cef, name), pa.scalar(None, S))
        return pc.if_else(ok_l, _group(leef, name), col) if name != "name" and name != "sev" else col

    fields = {k: pick(k) for k in ("ver", "vendor", "product", "pversion", "sig", "name", "sev", "ext")}
    rows = {k: v.to_pylist() for k, v in fields.items()}
    kinds = pc.if_else(ok_c, "CEF", pc.if_else(ok_l, "LEEF", pa.scalar(None, S))).to_pylist()
    enc = msgspec.json.encode
    docs: list[str | None] = []
    leef_sev: list[str | None] = []
    times: list[str | None] = []
    for i in range(n):
        kind = kinds[i]
        if kind is None:
            docs.append(None)
            leef_sev.append(None)
            times.append(None)
            continue
        if kind == "CEF":
            head = {k: _HEADER_UNESC.sub(r"\1", rows[k][i] or "") for k in ("vendor", "product", "pversion", "sig", "name", "sev")}
            ext = _cef_extension(rows["ext"][i] or "")
            leef_sev.append(None)
        else:
            head = {k: rows[k][i] or "" for k in ("vendor", "product", "pversion", "sig")}
            ext = _leef_extension(rows["ext"][i] or "", rows["ver"][i] or "")
            leef_sev.append(ext.get("sev"))
        times.append(ext.get("rt") or ext.get("start") if kind == "CEF" else ext.get("devTime"))
        for k in ("vendor", "product", "pversion", "sig", "name"):
            if k in head:
                rows[k][i] = head[k]
        doc = {"format": kind, "version": rows["ver"][i], "device_vendor": head["vendor"], "device_product": head["product"],
               "device_version": head["pversion"], "signature_id": head["sig"]}  # fmt: skip
        if kind == "CEF":
            doc.update({"name": head["name"], "severity": head["sev"]})
        doc["extension"] = ext
        docs.append(enc(doc).decode())
    sev_word = pc.utf8_lower(pc.utf8_trim_whitespace(pc.coalesce(fields["sev"], pa.array(leef_sev, S))))
    sev = _SEV_VALS.take(pc.index_in(sev_word, value_set=_SEV_KEYS))

    def col(k: str) -> pa.Array:
        out = pa.array(rows[k], S)
        return pc.if_else(pc.equal(out, ""), pa.scalar(None, S), out)

    return {
        "format": pa.array(kinds, S), "vendor": col("vendor"), "product": col("product"), "version": col("pversion"),
        "event_code": col("sig"), "name": col("name"), "severity_id": sev, "json": pa.array(docs, S),
        "time_text": pa.array(times, S),
    }  # fmt: skip


__all__ = ["parse"]
