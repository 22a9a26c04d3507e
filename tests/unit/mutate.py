"""Mutations of real samples for the format fuzz (tests/unit/test_formats_fuzz_s21.py and the
longer campaign ``nice -n 19 python -m tests.unit.mutate SEED ROUNDS [FORMAT...]``; ``FUZZ_ONLY``
names the formats whose samples are drawn, ``FUZZ_CROSS=1`` also reads each as a random other
format, ``FUZZ_MUTATIONS`` names the mutations drawn, ``FUZZ_KEEP`` is where failing inputs are written), and
the ingest path they are checked through.

Each mutation takes a sample's bytes and a seeded ``random.Random`` and returns (the mutated bytes,
the body without the damaged record or line, for the neighbour check, or None), or None when it
does not apply (e.g. a JSON mutation of a text log). The check runs a file through what ``secpipe
ingest`` runs (:func:`secpipe.runtime.batch.ingest_files`: framing, record accumulation,
``decode_document``), with the pipeline replaced by a list, and returns what broke the contract:
an exception escaping, a whole body dead-lettered as a decoder error, a dead letter without a
reason, records read that are neither stored nor dead-lettered, uids differing between two runs of
the same input, the native and Python paths disagreeing on the uids or dead letters, or (given the
body without the damaged record) a neighbour of it not stored; the campaign also reports a round whose checks
took more CPU than their input's size allows (:data:`SLOW_CPU_SECONDS`: a hang, work growing faster than the input).
"""

from __future__ import annotations

import json
import os
import random
import re
import sys
import tempfile
import time
import traceback
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa

from secpipe.formats import _fast
from secpipe.formats.base import Decoded, concatenated_objects
from secpipe.runtime.batch import ingest_files

ROOT = Path(__file__).resolve().parents[2]
REAL = ROOT.parent / "shared" / "data" / "real"
CASES = ROOT / "tests" / "cases"
_SKIP_DIRS = ("maxmind-db", "threat-intel", "sigmahq-sigma", "enrich_", "sigma_holdout", "compliance_report")
_SKIP_NAMES = ("SOURCES.md", "SOURCE.md", "NOTE.txt", "LICENSE", "COPYING", ".yaml", ".labels.jsonl", ".md")


def samples() -> list[Path]:
    """The real samples and golden-case inputs the fuzz mutates (inputs, not expected outputs)."""
    out = []
    for base in (REAL, CASES):
        for p in sorted(base.rglob("*")):
            rel = str(p.relative_to(base))
            if not p.is_file() or any(d in rel for d in _SKIP_DIRS) or any(s in p.name for s in _SKIP_NAMES):
                continue
            if base == CASES and p.name.endswith(".golden") and p.with_suffix("").exists():
                continue  # an expected output beside its input
            if base == CASES and p.suffix in (".expected", ".ocsf"):
                continue
            out.append(p)
    return out


# ---------------------------------------------------------------------------------------------
# JSON-aware mutations: parse, change one node, write back
# ---------------------------------------------------------------------------------------------


def _nodes(doc: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[tuple[Any, ...], Any]]:
    yield path, doc
    if isinstance(doc, dict):
        for k, v in doc.items():
            yield from _nodes(v, (*path, k))
    elif isinstance(doc, list):
        for i, v in enumerate(doc):
            yield from _nodes(v, (*path, i))


_MARK = "@@MUT@@"
_TIMES = ["2024-03-04T05:06:07+02:00", "2024-03-04T05:06:07.123456789-07:30", "2024-03-04 05:06:07Z",
          "2024-03-04t05:06:07z", "2024-03-04T05:06:07", "1709528767", "1709528767123", "1709528767.5",
          "2024-03-04", "Mon, 04 Mar 2024 05:06:07 GMT", "0001-01-01T00:00:00Z", "9999-12-31T23:59:59Z",
          "2024-02-30T00:00:00Z", "2024-03-04T24:00:00Z", "2024-03-04T05:06:60Z", ""]  # fmt: skip
#: raw JSON (or almost-JSON) texts put in place of a value
_RAW_VALUES = ["null", "true", "0", "-0", "1.0", "1e400", "-1e400", "1" + "0" * 30, "18446744073709551616",
               "-9223372036854775809", "1E+2", "0.1e-400", "NaN", "Infinity", "-Infinity", "{}", "[]", "[{}]",
               '""', '"\\ud800"', '"\\udfff x"', '"\\ud83d\\ude00"', '"\U0001f600"', '"\\u0000"', '"\\"\\\\"',
               '"' + "x" * 200_000 + '"', "[" * 600 + "]" * 600, '{"a":' * 300 + "1" + "}" * 300,
               "1709528767", "1709528767123", '"1709528767"']  # fmt: skip


def _dumps(doc: Any) -> str:
    return json.dumps(doc, ensure_ascii=False)


def _one_node(doc: Any, rng: random.Random, want: Callable[[tuple[Any, ...], Any], bool]) -> tuple[Any, ...] | None:
    cands = [p for p, v in _nodes(doc) if p and want(p, v)]
    return rng.choice(cands) if cands else None


def _set(doc: Any, path: tuple[Any, ...], value: Any) -> None:
    node = doc
    for k in path[:-1]:
        node = node[k]
    node[path[-1]] = value


def _get(doc: Any, path: tuple[Any, ...]) -> Any:
    for k in path:
        doc = doc[k]
    return doc


def mutate_value(doc: Any, rng: random.Random) -> str | None:
    """One value replaced by a raw JSON text of another type or an edge-case value."""
    path = _one_node(doc, rng, lambda p, v: True)
    if path is None:
        return None
    _set(doc, path, _MARK)
    return _dumps(doc).replace(f'"{_MARK}"', rng.choice(_RAW_VALUES), 1)


def mutate_type(doc: Any, rng: random.Random) -> str | None:
    """One value turned into another JSON type holding the same data where it can."""
    path = _one_node(doc, rng, lambda p, v: True)
    if path is None:
        return None
    v = _get(doc, path)
    options: list[Any] = [None, str(v) if not isinstance(v, (dict, list)) else _dumps(v), [v], {"value": v}]
    if isinstance(v, str):
        options += [len(v), v.strip() and v[:1]]
        try:
            options.append(float(v))
        except ValueError:
            pass
    if isinstance(v, bool):
        options.append(int(v))
    elif isinstance(v, (int, float)):
        options += [str(v), bool(v)]
    if isinstance(v, list):
        options += [v[0] if v else {}, {}, {str(i): x for i, x in enumerate(v)}]
    if isinstance(v, dict):
        options += [list(v.values()), list(v.items()), [], {}]
    _set(doc, path, rng.choice(options))
    return _dumps(doc)


def mutate_time(doc: Any, rng: random.Random) -> str | None:
    """A timestamp written in another (mostly valid) form: RFC 3339 with an offset, epoch s/ms..."""
    def timeish(p: tuple[Any, ...], v: Any) -> bool:
        key = str(p[-1]).lower()
        return ("time" in key or key.endswith(("_at", "date", "stamp")) or key in ("ts", "@timestamp", "created", "updated")) \
            and isinstance(v, (str, int, float)) and not isinstance(v, bool)  # fmt: skip

    path = _one_node(doc, rng, timeish)
    if path is None:
        return None
    t = rng.choice(_TIMES)
    _set(doc, path, int(float(t)) if t.replace(".", "").isdigit() and rng.random() < 0.5 and "." not in t else t)
    return _dumps(doc)


def mutate_keys(doc: Any, rng: random.Random) -> str | None:
    """A key removed, duplicated (the duplicate's value another one's), re-cased or emptied."""
    path = _one_node(doc, rng, lambda p, v: isinstance(v, dict) and bool(v))
    obj = doc if path is None else _get(doc, path)
    if not isinstance(obj, dict) or not obj:
        return None
    key = rng.choice(list(obj))
    how = rng.choice(["drop", "dup", "recase", "empty", "null"])
    if how == "drop":
        del obj[key]
        return _dumps(doc)
    if how == "recase":
        obj[key.upper() if key != key.upper() else key.lower()] = obj.pop(key)
        return _dumps(doc)
    if how == "empty":
        obj[key] = {} if isinstance(obj[key], dict) else [] if isinstance(obj[key], list) else ""
        return _dumps(doc)
    if how == "null":
        obj[key] = None
        return _dumps(doc)
    # a duplicate key: the object written with the key a second time (first or last wins by reader)
    first = obj[key]
    obj[key] = _MARK
    text = _dumps(doc)
    dup: Any = rng.choice([None, "dup", 0, {}, []])
    return text.replace(f'"{_MARK}"', _dumps(first) + ", " + _dumps(key) + ": " + _dumps(dup), 1)


def mutate_shape(doc: Any, rng: random.Random) -> str | None:
    """An object where a list is expected and back, a list emptied, deep nesting around a record."""
    path = _one_node(doc, rng, lambda p, v: isinstance(v, (dict, list)))
    if path is None:
        return None
    v = _get(doc, path)
    how = rng.choice(["empty", "wrap", "unwrap", "deep", "many"])
    if how == "empty":
        _set(doc, path, {} if isinstance(v, list) else [])
    elif how == "wrap":
        _set(doc, path, [v, v])
    elif how == "unwrap" and isinstance(v, list) and v:
        _set(doc, path, v[0])
    elif how == "deep":
        _set(doc, path, _MARK)
        n = rng.choice([40, 130, 1000])
        return _dumps(doc).replace(f'"{_MARK}"', "[" * n + _dumps(v) + "]" * n, 1)
    elif isinstance(v, list) and v:
        _set(doc, path, v * rng.choice([2, 10]))
    else:
        return None
    return _dumps(doc)


def mutate_unicode(doc: Any, rng: random.Random) -> str | None:
    """A string given non-BMP, escaped, control or surrogate characters."""
    path = _one_node(doc, rng, lambda p, v: isinstance(v, str))
    if path is None:
        return None
    v = _get(doc, path)
    _set(doc, path, _MARK)
    add = rng.choice(["\\ud800", "\\udc00", "\\ud83d\\ude00", "\U0001f600", "\\u0000", "\\u001f", "\u2028",
                      "\\u00e9", "\\/", "\ufeff", "\\uDBFF\\uDFFF", "\\ud800\\ud800"])  # fmt: skip
    where = rng.randrange(len(v) + 1)
    body = json.dumps(v[:where], ensure_ascii=False)[1:-1] + add + json.dumps(v[where:], ensure_ascii=False)[1:-1]
    return _dumps(doc).replace(f'"{_MARK}"', '"' + body + '"', 1)


JSON_MUTATIONS: dict[str, Callable[[Any, random.Random], str | None]] = {
    "value": mutate_value, "type": mutate_type, "time": mutate_time, "keys": mutate_keys,
    "shape": mutate_shape, "unicode": mutate_unicode,
}  # fmt: skip


def _json_parts(data: bytes) -> tuple[str, list[Any]] | None:
    """("doc", [document]) or ("lines", [record per line]) when ``data`` is JSON; None otherwise."""
    text = data.decode("utf-8-sig", errors="strict") if data.isascii() or _utf8(data) else None
    if text is None:
        return None
    try:
        return "doc", [json.loads(text)]
    except (ValueError, RecursionError):
        pass
    lines = [x for x in text.splitlines() if x.strip()]
    try:
        return "lines", [json.loads(x) for x in lines]
    except (ValueError, RecursionError):
        return None


def _utf8(data: bytes) -> bool:
    try:
        data.decode()
    except UnicodeDecodeError:
        return False
    return True


def json_mutation(name: str) -> Callable[[bytes, random.Random], tuple[bytes, bytes | None] | None]:
    """A byte-level wrapper of a JSON mutation: a document is mutated, or one line of NDJSON
    (returned with the body without that line, for the neighbour check)."""
    mut = JSON_MUTATIONS[name]

    def run(data: bytes, rng: random.Random) -> tuple[bytes, bytes | None] | None:
        parts = _json_parts(data)
        if parts is None:
            return None
        kind, docs = parts
        if not docs:  # NDJSON of blank lines only (an earlier mutation can leave that)
            return None
        if kind == "doc":
            text = mut(docs[0], rng)
            return None if text is None else (text.encode("utf-8", "surrogatepass"), None)
        k = rng.randrange(len(docs))
        texts = [_dumps(d) for d in docs]
        new = mut(docs[k], rng)
        if new is None:
            return None
        without = "\n".join(texts[:k] + texts[k + 1:]).encode("utf-8", "surrogatepass") + b"\n"
        texts[k] = new
        return "\n".join(texts).encode("utf-8", "surrogatepass") + b"\n", without

    return run


# ---------------------------------------------------------------------------------------------
# Byte and line mutations
# ---------------------------------------------------------------------------------------------

_JUNK = [b"\x00", b"\xff", b"\xc3", b"\xed\xa0\x80", b"\xef\xbb\xbf", b"\r", b"\r\n", b"\n", b"{", b"}", b"[", b"]",
         b'"', b"\\", b",", b":", b"<", b">", b"\t", b" " * 5000, b"x" * 100_000, "\u00e9".encode(),
         "\U0001f600".encode(), b"\x1f\x8b"]  # fmt: skip


def byte_mutation(data: bytes, rng: random.Random) -> tuple[bytes, bytes | None] | None:
    """Byte flips, truncations, insertions, deletions, duplications anywhere in the file."""
    if not data:
        return None
    how = rng.choice(["flip", "truncate", "insert", "delete", "dup", "bom", "crlf", "cr", "nul"])
    i = rng.randrange(len(data))
    if how == "flip":
        b = bytearray(data)
        b[i] ^= 1 << rng.randrange(8)
        return bytes(b), None
    if how == "truncate":
        return data[:i], None
    if how == "insert":
        return data[:i] + rng.choice(_JUNK) + data[i:], None
    if how == "delete":
        return data[:i] + data[i + rng.randrange(1, 64):], None
    if how == "dup":
        return data[:i] + data[i:i + rng.randrange(1, 4096)] + data[i:], None
    if how == "bom":
        return b"\xef\xbb\xbf" + data, None
    if how == "crlf":
        return data.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n"), None
    if how == "cr":
        return data.replace(b"\r\n", b"\n").replace(b"\n", b"\r"), None
    return data[:i] + b"\x00" * rng.randrange(1, 8) + data[i:], None


_PRIS = [b"<0>", b"<191>", b"<192>", b"<999>", b"<-1>", b"<>", b"<13", b"<00013>", b"<1a>", b"13>", b"<134>1",
         b"<134>0 ", b"<134>99 ", b"<134>"]  # fmt: skip


def line_mutation(data: bytes, rng: random.Random) -> tuple[bytes, bytes | None] | None:
    """One line of a line-oriented log (syslog, Jenkins console, NDJSON) damaged: odd PRI, fields
    dropped, very long, NUL bytes, invalid UTF-8, a second line glued on, or emptied."""
    lines = data.split(b"\n")
    idx = [i for i, x in enumerate(lines) if x.strip()]
    if len(idx) < 2:
        return None
    k = rng.choice(idx)
    line = lines[k]
    how = rng.choice(["pri", "fields", "long", "nul", "utf8", "glue", "blank", "tabs", "ansi", "space", "pri"])
    if how == "pri":
        body = line[line.index(b">") + 1:] if line.startswith(b"<") and b">" in line[:6] else line
        line = rng.choice(_PRIS) + body
    elif how == "fields":
        parts = line.split(b" ")
        if len(parts) > 1:
            del parts[rng.randrange(len(parts))]
        line = b" ".join(parts) if rng.random() < 0.7 else b" ".join(parts[: rng.randrange(len(parts) + 1)])
    elif how == "long":
        line = line + b" " + b"A" * rng.choice([70_000, 1_100_000])
    elif how == "nul":
        i = rng.randrange(len(line) + 1)
        line = line[:i] + b"\x00" + line[i:]
    elif how == "utf8":
        i = rng.randrange(len(line) + 1)
        line = line[:i] + rng.choice([b"\xff", b"\xc3", b"\xed\xa0\x80", b"\xf4\x90\x80\x80", b"\xc0\xaf"]) + line[i:]
    elif how == "glue":
        other = lines[rng.choice(idx)]
        line = line + (b"\r" if rng.random() < 0.5 else b" ") + other
    elif how == "blank":
        line = b" \t"
    elif how == "tabs":
        line = line.replace(b" ", b"\t")
    elif how == "ansi":
        line = b"\x1b[8mha:////4AAAA\x1b[0m" + line + b"\x1b[0m"
    else:
        line = b"   " + line + b"   "
    # a line opening with a tab continues the record above it (syslog: a message of several lines,
    # as macOS writes it): the damaged line's whole record, and one it may now continue, leaves
    # the body the neighbours are checked against
    s, e = k, k + 1
    tabbed = lines[k][:1] == b"\t" or line[:1] == b"\t"
    while s > 0 and lines[s - 1].strip() and (tabbed if s == k else lines[s][:1] == b"\t"):
        s -= 1
    while e < len(lines) and lines[e][:1] == b"\t":
        e += 1
    without = b"\n".join(lines[:s] + lines[e:])
    lines[k] = line
    shape = _json_parts(data)  # a line of a JSON document spread over lines is no record of its own,
    if _zeek_header(data, data.split(b"\n")[k]):  # nor a Zeek log's header line: it types every row
        return b"\n".join(lines), None
    if _XML.match(data) or _spread_objects(data):  # nor one of an XML document (a CycloneDX XML BOM) or of
        return b"\n".join(lines), None  # JSON objects written back to back over lines (govulncheck -json)
    if _JOURNAL_EXPORT.match(data):  # nor a field of a journal export entry (its record: the lines up to a blank one)
        return b"\n".join(lines), None
    return b"\n".join(lines), without if shape is None or shape[0] == "lines" else None


def _zeek_header(data: bytes, line: bytes) -> bool:
    """Whether ``line`` is a header line (``#fields``, ``#types``...) of a Zeek ASCII log (``data``; one of Zeek's test
    baselines opens with btest-diff's ``### BTest baseline data`` banner line, which the format skips)."""
    head = data.lstrip(b"\xef\xbb\xbf")
    if head.startswith(b"### BTest"):
        head = head[head.find(b"\n") + 1 :]
    return head.startswith(b"#separator") and line.startswith(b"#")


#: ``journalctl -o export``'s first field (the Journal Export Format: an entry's ``KEY=value`` lines, a blank line after it)
_JOURNAL_EXPORT = re.compile(rb"(?:\xef\xbb\xbf)?__(?:CURSOR|REALTIME_TIMESTAMP)=")

#: an XML document's start (a declaration or an element; a syslog line's ``<PRI>`` is digits)
_XML = re.compile(rb"\s*<(?:\?xml|[A-Za-z])")


def _spread_objects(data: bytes) -> bool:
    """JSON objects back to back whose first one spans several lines (not NDJSON)."""
    first = data.lstrip().split(b"\n", 1)[0]
    return first.strip() in (b"{", b"[") and bool(concatenated_objects(data.strip()))


def records_mutation(data: bytes, rng: random.Random) -> tuple[bytes, bytes | None] | None:
    """The records of a document's longest list of objects (CloudTrail's Records, an EventList's
    items, a report's results) written one after the other, pretty-printed as ``jq '.Records[]'``
    prints them or one a line, one of them damaged (a JSON mutation, or bytes cut or flipped)."""
    parts = _json_parts(data)
    if parts is None:
        return None
    lists = [v for d in parts[1] for _p, v in _nodes(d)
             if isinstance(v, list) and len(v) > 1 and all(isinstance(x, dict) for x in v)]  # fmt: skip
    if not lists:
        return None
    recs = max(lists, key=len)[:50]
    indent = rng.choice([None, 1, 2, 4])
    texts = [json.dumps(r, indent=indent, ensure_ascii=False).encode("utf-8", "surrogatepass") for r in recs]
    k = rng.randrange(len(recs))
    if rng.random() < 0.5:
        new = JSON_MUTATIONS[rng.choice(list(JSON_MUTATIONS))](recs[k], rng)
        if new is None:
            return None
        again = _loads(new) if indent is not None else None
        new = new if again is None else json.dumps(again, indent=indent, ensure_ascii=False)
        texts[k] = new.encode("utf-8", "surrogatepass")
    else:
        t = texts[k]
        i = rng.randrange(1, max(2, len(t) - 1))
        how = rng.choice(["cut", "flip", "drop"])
        if how == "cut":
            texts[k] = t[:i]
        elif how == "flip":
            texts[k] = t[:i] + bytes([t[i] ^ 1 << rng.randrange(8)]) + t[i + 1:]
        else:
            texts[k] = t[:i] + t[i + rng.randrange(1, 32):]
    return b"\n".join(texts) + b"\n", b"\n".join(texts[:k] + texts[k + 1:]) + b"\n"


def many_mutation(data: bytes, rng: random.Random) -> tuple[bytes, bytes | None] | None:
    """Several JSON mutations of one document, one after the other (types, values and keys
    changed all over it)."""
    out = None
    for _ in range(rng.randrange(3, 16)):
        got = json_mutation(rng.choice(["value", "type", "keys", "time", "unicode"]))(data, rng)
        if got is not None:
            data = out = got[0]
    return None if out is None else (out, None)


def mix_mutation(data: bytes, rng: random.Random) -> tuple[bytes, bytes | None] | None:
    """The sample's lines with lines of other samples (other formats) between them."""
    lines = data.splitlines()
    others = [p for p in samples() if p.stat().st_size < 1 << 20]
    for _ in range(rng.randrange(1, 4)):
        other = rng.choice(others).read_bytes().splitlines() or [b""]
        lines.insert(rng.randrange(len(lines) + 1), rng.choice(other))
    return b"\n".join(lines) + b"\n", None


#: what :func:`key_mutation` gives every occurrence of a key: values of other types, empty, edge numbers and times
_KEY_VALUES: list[Any] = [None, "", " ", 0, -1, 1.5, True, [], {}, [None], {"": None}, "\u0000", "/", "x" * 5000,
                          2**63, -(2**63) - 1, 10**30, "1e400", "NaN", "0001-01-01T00:00:00Z", "9999-12-31T23:59:59Z",
                          "2024-02-30T00:00:00Z", [47, 98, 105, 110], ["a", "b"]]  # fmt: skip


def _keyed(doc: Any, key: str, value: Any) -> Any:
    """``doc`` with every ``key`` holding ``value`` (or dropped, for the ``_MARK`` value)."""
    if isinstance(doc, dict):
        return {k: (value if k == key else _keyed(v, key, value)) for k, v in doc.items() if k != key or value != _MARK}
    if isinstance(doc, list):
        return [_keyed(v, key, value) for v in doc]
    return doc


def key_mutation(data: bytes, rng: random.Random) -> tuple[bytes, bytes | None] | None:
    """One key given the same odd value (or dropped) in every record that has it: a column that is all null,
    all empty or all of another type (where a mutation of one record leaves the others' values to fill it)."""
    parts = _json_parts(data)
    if parts is None:
        return None
    kind, docs = parts
    keys = sorted({str(p[-1]) for d in docs for p, _v in _nodes(d) if p and isinstance(p[-1], str)})
    if not keys:
        return None
    key, value = rng.choice(keys), rng.choice([*_KEY_VALUES, _MARK])
    texts = [_dumps(_keyed(d, key, value)) for d in docs]
    return ("\n".join(texts) + ("\n" if kind == "lines" else "")).encode("utf-8", "surrogatepass"), None


def _loads(text: str) -> Any:
    try:
        return json.loads(text)
    except (ValueError, RecursionError):
        return None


MUTATIONS: dict[str, Callable[[bytes, random.Random], tuple[bytes, bytes | None] | None]] = {
    "bytes": byte_mutation, "lines": line_mutation, "records": records_mutation, "json-many": many_mutation,
    "mix": mix_mutation, **{f"json-{n}": json_mutation(n) for n in JSON_MUTATIONS},
}  # fmt: skip

#: mutations the campaign draws besides :data:`MUTATIONS` (which the default test runs draw from, their picks unchanged)
CAMPAIGN_MUTATIONS: dict[str, Callable[[bytes, random.Random], tuple[bytes, bytes | None] | None]] = {
    "json-key": key_mutation,
}


# ---------------------------------------------------------------------------------------------
# The ingest path and its checks
# ---------------------------------------------------------------------------------------------


class _Collect:
    """Stands for the pipeline: keeps what ``ingest_files`` submits."""

    def __init__(self) -> None:
        self.out = Decoded()

    def submit(self, d: Decoded) -> None:
        self.out.extend(d)


def ingest(data: bytes, fmt: str, *, native: bool = True) -> Decoded:
    """What ``secpipe ingest --format fmt`` decodes from a file holding ``data`` (raises what escapes)."""
    old = os.environ.get("SECPIPE_NATIVE")
    if native:
        os.environ.pop("SECPIPE_NATIVE", None)
    else:
        os.environ["SECPIPE_NATIVE"] = "0"
    _fast._module.cache_clear()
    try:
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "input"
            path.write_bytes(data)
            pipe = _Collect()
            ingest_files(pipe, [str(path)], fmt)  # type: ignore[arg-type]
            for d in pipe.out.dead:
                d.source = d.source.replace(str(path), "input")
            return pipe.out
    finally:
        if old is None:
            os.environ.pop("SECPIPE_NATIVE", None)
        else:
            os.environ["SECPIPE_NATIVE"] = old
        _fast._module.cache_clear()


def uids(d: Decoded) -> list[str]:
    """The metadata.uid of every stored row, in order."""
    out: list[str] = []
    for b in d.batches:
        col = b.column("metadata")
        out += pa.array(col).field("uid").to_pylist() if isinstance(col.type, pa.StructType) else []
    return out


def problems(data: bytes, fmt: str, *, both_paths: bool = True) -> list[str]:
    """What breaks the contract for ``data`` ingested as ``fmt`` (empty: nothing)."""
    try:
        got = ingest(data, fmt)
    except Exception as exc:  # what the test is looking for
        return [f"raised {type(exc).__name__}: {exc}".splitlines()[0][:300] + "\n" + traceback.format_exc()[-1500:]]
    out = []
    rows = sum(b.num_rows for b in got.batches)
    for d in got.dead:
        if not d.reason or not d.reason.strip():
            out.append("dead letter without a reason")
        elif d.reason.startswith("decoder error"):
            out.append(f"whole body lost: {d.reason[:300]}")
    if rows + len(got.dead) != got.events:
        out.append(f"{got.events} events read, {rows} stored and {len(got.dead)} dead-lettered")
    again = ingest(data, fmt)
    if uids(again) != uids(got):
        out.append("uids differ between two runs of the same input")
    if both_paths:
        try:
            py = ingest(data, fmt, native=False)
        except Exception as exc:
            return [*out, f"python path raised {type(exc).__name__}: {exc}"[:300]]
        if sorted(uids(py)) != sorted(uids(got)):
            out.append(f"native/python uids differ ({len(uids(got))} vs {len(uids(py))})")
        nd = sorted((x.reason, x.offset) for x in got.dead)
        pd = sorted((x.reason, x.offset) for x in py.dead)
        if nd != pd:
            diff = sorted(set(nd) ^ set(pd))[:2]
            out.append(f"native/python dead letters differ: {diff}"[:400])
    return out


def neighbour_problems(without: bytes, mutated: bytes, fmt: str) -> list[str]:
    """A damaged record must not take the others with it: every record stored from the body
    without it is stored from the body with it (same uid, or the same raw_data where the uid
    counts the line's offset, as jenkins_log's does)."""
    try:
        want, got = ingest(without, fmt), ingest(mutated, fmt)
    except Exception as exc:
        return [f"raised {type(exc).__name__}: {exc}"[:300]]
    if not set(uids(want)) - set(uids(got)):
        return []
    missing = Counter(_raws(want)) - Counter(_raws(got))
    return [f"{sum(missing.values())} of {len(uids(want))} neighbour records lost: {list(missing)[:2]}"[:400]] if missing else []


def _raws(d: Decoded) -> list[str]:
    return [r for b in d.batches if "raw_data" in b.schema.names for r in b.column("raw_data").to_pylist()]


#: CPU seconds the checks of one round may take per MiB of input (and for the first MiB): three decodes, two runs
#: of a few MB take a few seconds; past this the round is reported
SLOW_CPU_SECONDS = 20.0


def campaign(seed: int, n: int, *, formats_: list[str] | None = None, log: Callable[[str], None] = print) -> int:
    """Run ``n`` rounds: a random sample, a random mutation, as ``auto`` and as its own format."""
    from secpipe import formats

    rng = random.Random(seed)
    own: dict[Path, str | None] = {}
    groups: dict[str | None, list[Path]] = {}
    for p in samples():  # each format (the one auto-detection picks) drawn as often as the others
        f = formats.detect(p.read_bytes()[:65536])
        own[p] = f.name if f else None
        groups.setdefault(own[p], []).append(p)
    only = [x for x in os.environ.get("FUZZ_ONLY", "").split(",") if x]  # e.g. FUZZ_ONLY=syslog,jenkins_log
    keys = sorted((k for k in groups if not only or k in only), key=str)
    every = sorted(formats.REGISTRY)
    muts = {**MUTATIONS, **CAMPAIGN_MUTATIONS}
    if os.environ.get("FUZZ_MUTATIONS"):  # e.g. FUZZ_MUTATIONS=json-key,json-many
        muts = {k: v for k, v in muts.items() if k in os.environ["FUZZ_MUTATIONS"].split(",")}
    found = 0
    tally: dict[str, int] = {}
    for i in range(n):
        path = rng.choice(groups[rng.choice(keys)])
        data = path.read_bytes()
        mname = rng.choice(list(muts))
        r = random.Random(rng.random())
        try:
            res = muts[mname](data, r)
            if res is None:
                continue
            mutated, without = res
            while rng.random() < 0.25:  # sometimes a second mutation on top (the neighbour check is then off)
                more = muts[rng.choice(list(muts))](mutated, r)
                if more is not None:
                    mutated, without = more[0], None
        except (RecursionError, UnicodeError):  # a mutation of a deeply nested or undecodable document
            continue
        tally[mname] = tally.get(mname, 0) + 1
        cross = [rng.choice(every)] if os.environ.get("FUZZ_CROSS") else []  # also as a random other format
        for fmt in {"auto", own[path] or "json", *(formats_ or []), *cross}:
            cpu = time.process_time()
            errs = problems(mutated, fmt, both_paths=fmt != "auto")
            cpu = time.process_time() - cpu
            if cpu > SLOW_CPU_SECONDS * (1 + len(mutated) / (1 << 20)):  # a hang, or work growing faster than the input
                errs = [*errs, f"{cpu:.1f} s of CPU for {len(mutated)} bytes"]
            if without is not None and not errs and fmt != "auto":
                errs = neighbour_problems(without, mutated, fmt)
            if errs:
                found += 1
                log(json.dumps({"round": i, "seed": seed, "file": str(path.relative_to(ROOT.parent)), "mutation": mname,
                                "fmt": fmt, "errors": errs, "sha": __import__("hashlib").sha1(mutated).hexdigest()[:12]}))
                keep = Path(os.environ.get("FUZZ_KEEP", "/tmp/fuzz-found"))
                keep.mkdir(parents=True, exist_ok=True)
                (keep / f"{seed}-{i}-{fmt}.bin").write_bytes(mutated)
    log(json.dumps({"applied": tally, "found": found}))
    return found


if __name__ == "__main__":
    seed, n = int(sys.argv[1]), int(sys.argv[2])
    sys.exit(1 if campaign(seed, n, formats_=sys.argv[3:]) else 0)
