"""Structure-aware mutations of the JSON formats' real samples (session 36): one field of one record given another
JSON type (str, int, null, list, object), a very long string, nesting around the readers' limits, a duplicate key,
a NaN/Infinity literal, a lone surrogate (escaped or as raw bytes), a NUL byte; and the whole text given a BOM,
CRLF line ends or NUL bytes between records. ``python -m tests.unit.struct_mutate SEED ROUNDS [FORMAT...]``.

Each round's input goes through :func:`tests.unit.mutate.problems` as its own format (no exception, nothing lost:
stored + dead-lettered == records read, the same uids twice and on both paths); where the damaged field is one
record's of a list of records, the others must be stored as they are without it (:func:`~tests.unit.mutate.
neighbour_problems`); and ``--format auto`` must pick the sample's own format, or none (the file dead-lettered as
unrecognized), never another one that stores it: :func:`auto_problems`.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import msgspec
import orjson

from secpipe import formats
from secpipe.formats.base import BOM
from tests.unit.mutate import (
    ROOT,
    _get,
    _json_parts,
    _nodes,
    _set,
    ingest,
    neighbour_problems,
    problems,
    samples,
    uids,
)

_MARK = "@@S36@@"

#: nesting depths tried around: the wire routes' ``server.max_json_depth`` (64), msgspec's (1000: the interpreter's
#: recursion limit) and orjson's (1024)
_DEPTHS = (63, 64, 65, 999, 1000, 1001, 1024, 1025)


def _dumps(doc: Any) -> str:
    return json.dumps(doc, ensure_ascii=False)


def _swap(v: Any, to: str) -> Any:
    """``v`` as another JSON type, holding its data where it can."""
    if to == "str":
        return "12345" if isinstance(v, str) else _dumps(v) if isinstance(v, (dict, list)) else str(v)
    if to == "int":
        return len(v) if isinstance(v, (str, list, dict)) else int(v) if isinstance(v, (int, float)) and v == v else 7
    if to == "null":
        return None
    if to == "list":
        return [v]
    return {"value": v}


#: what :func:`field_mutation` does to the field it picks (the raw text replacing it, or a Python value)
FIELD_HOWS = ("str", "int", "null", "list", "object", "long", "longer", "deep", "dup", "nan", "surrogate",
              "surrogate-raw", "nul", "nul-raw")  # fmt: skip


def _raw_value(v: Any, how: str, depth_here: int, rng: random.Random) -> str | None:
    """The JSON text (or almost-JSON) put in place of ``v``, a value ``depth_here`` levels deep."""
    if how in ("str", "int", "null", "list", "object"):
        return _dumps(_swap(v, how))
    if how == "long":
        return _dumps((v if isinstance(v, str) else "x") + "y" * 200_000)
    if how == "longer":
        return _dumps("z" * rng.choice([(1 << 20) + 1, (8 << 20) + 1]))
    if how == "deep":
        n = max(1, rng.choice(_DEPTHS) - depth_here)
        return "[" * n + _dumps(v) + "]" * n
    if how == "nan":
        return rng.choice(["NaN", "Infinity", "-Infinity", "nan", "inf"])
    s = v if isinstance(v, str) else str(v)
    i = rng.randrange(len(s) + 1)
    left, right = _dumps(s[:i])[1:-1], _dumps(s[i:])[1:-1]
    if how == "surrogate":
        return '"' + left + rng.choice(["\\ud800", "\\udfff", "\\udbff\\u0041"]) + right + '"'
    if how == "surrogate-raw":
        return '"' + left + _MARK + "SUR" + right + '"'
    if how == "nul":
        return '"' + left + "\\u0000" + right + '"'
    return '"' + left + _MARK + "NUL" + right + '"'


def _encode(text: str) -> bytes:
    """The text as bytes, the raw-byte marks replaced by what they stand for (a surrogate's UTF-8-like bytes, a NUL)."""
    return text.encode("utf-8", "surrogatepass").replace(f"{_MARK}SUR".encode(), b"\xed\xa0\x80") \
        .replace(f"{_MARK}NUL".encode(), b"\x00")  # fmt: skip


def _records(doc: Any) -> tuple[tuple[Any, ...], list[Any]] | None:
    """The path and items of the document's longest list of objects at its top (the document, or one key's value:
    CloudTrail's ``Records``, an EventList's ``items``), if it has one of two or more: its records."""
    lists = [(p, v) for p, v in _nodes(doc)
             if len(p) <= 1 and isinstance(v, list) and len(v) > 1 and all(isinstance(x, dict) for x in v)]  # fmt: skip
    return max(lists, key=lambda x: len(x[1])) if lists else None


def field_mutation(doc: Any, rng: random.Random, how: str | None = None) -> tuple[str, str, str | None] | None:
    """One field of ``doc`` changed: (how, the document's text, the text without the record it is in, or None)."""
    how = how or rng.choice(FIELD_HOWS)
    recs = _records(doc)
    base: tuple[Any, ...] = ()
    k = None
    if recs is not None and rng.random() < 0.8:  # a field of one record, the others its neighbours
        k = rng.randrange(len(recs[1]))
        base = (*recs[0], k)
    paths = [p for p, _v in _nodes(_get(doc, base)) if p]
    if how == "dup":  # a key written twice: an object with keys
        paths = [p for p in [(), *paths] if isinstance(_get(doc, (*base, *p)), dict) and _get(doc, (*base, *p))]
    if not paths:
        return None
    path = (*base, *rng.choice(paths))
    v = _get(doc, path)
    without = None
    if k is not None and recs is not None:
        items = recs[1]
        if recs[0]:
            _set(doc, recs[0], items[:k] + items[k + 1 :])
            without = _dumps(doc)
            _set(doc, recs[0], items)
        else:  # the document is the list
            without = _dumps(items[:k] + items[k + 1 :])
    if how == "dup":
        key = rng.choice(list(v))
        first = v[key]
        v[key] = _MARK
        text = _dumps(doc)
        v[key] = first
        dup = rng.choice([None, "dup", 0, {}, [], [first], _swap(first, "str")])
        return how, text.replace(f'"{_MARK}"', _dumps(first) + ", " + _dumps(key) + ": " + _dumps(dup), 1), without
    raw = _raw_value(v, how, len(path), rng)
    if raw is None:
        return None
    _set(doc, path, _MARK)
    text = _dumps(doc).replace(f'"{_MARK}"', raw, 1)
    _set(doc, path, v)
    return how, text, without


#: what :func:`text_mutation` does to the whole text
TEXT_HOWS = ("bom", "bom-each", "crlf", "pretty-crlf", "nul-between", "nul-end")


def text_mutation(data: bytes, rng: random.Random, how: str | None = None) -> tuple[str, bytes] | None:
    """The text changed around its JSON: a BOM before it (or before each line), CRLF line ends (of its lines, or of
    it pretty-printed), NUL bytes between records or at the end (as a preallocated log file holds them)."""
    how = how or rng.choice(TEXT_HOWS)
    parts = _json_parts(data)
    if parts is None:
        return None
    kind, docs = parts
    if how == "bom":
        return how, BOM + data.removeprefix(BOM)
    if how == "bom-each":
        if kind != "lines":
            return None
        return how, b"".join(BOM + _encode(_dumps(d)) + b"\n" for d in docs)
    if how == "crlf":
        return how, data.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
    if how == "pretty-crlf":
        if kind == "lines":
            return how, b"".join(_encode(json.dumps(d, indent=2, ensure_ascii=False)).replace(b"\n", b"\r\n") + b"\r\n"
                                 for d in docs)  # fmt: skip
        return how, _encode(json.dumps(docs[0], indent=2, ensure_ascii=False)).replace(b"\n", b"\r\n")
    if how == "nul-between":
        if kind != "lines":
            return None
        return how, b"\x00".join(_encode(_dumps(d)) + b"\n" for d in docs)
    return how, data + b"\x00" * rng.choice([1, 7, 4096])


def mutate(data: bytes, rng: random.Random) -> tuple[str, bytes, bytes | None] | None:
    """A field or text mutation of ``data``: (what was done, the input, the input without the damaged record)."""
    if rng.random() < 0.15:
        got = text_mutation(data, rng)
        return None if got is None else (f"text-{got[0]}", got[1], None)
    parts = _json_parts(data)
    if parts is None or not parts[1]:
        return None
    kind, docs = parts
    if kind == "doc":
        res = field_mutation(docs[0], rng)
        if res is None:
            return None
        # a document that is no longer JSON (RFC 8259: no NaN, no lone surrogate, no raw control character) or
        # deeper than the readers go is one unreadable record: dead-lettered whole, with no neighbours to keep
        text = _encode(res[1])
        return res[0], text, None if res[2] is None or not _strict_json(text) else _encode(res[2])
    k = rng.randrange(len(docs))
    res = field_mutation(docs[k], rng)
    if res is None:
        return None
    texts = [_dumps(d) for d in docs]
    without = "\n".join(texts[:k] + texts[k + 1 :]) + "\n"
    texts[k] = res[1]
    return res[0], _encode("\n".join(texts) + "\n"), _encode(without)


def _strict_json(data: bytes) -> bool:
    """Whether ``data`` is JSON both readers take (msgspec to 999 levels, orjson to 1024; neither NaN nor a lone
    surrogate nor a raw control character)."""
    try:
        orjson.loads(data)
        msgspec.json.decode(data)
    except (orjson.JSONDecodeError, msgspec.DecodeError, RecursionError):
        return False
    return True


def auto_problems(data: bytes, own: str) -> list[str]:
    """``--format auto`` must read ``data`` as ``own``, or recognize none, or pick a format that refuses all of it
    (dead-lettered whole, with why): another format that stores it reads it silently as what it is not."""
    got = formats.detect(data.removeprefix(BOM)[:65536])
    if got is None or got.name == own:
        return []
    d = ingest(data, "auto")
    if not uids(d):  # read as the other format, which refused all of it: dead-lettered with why, not silent
        return []
    return [f"auto reads it as {got.name}, not {own}: {len(uids(d))} stored, {len(d.dead)} dead-lettered"]


def auto_sweep(samples_: list[tuple[Path, str]]) -> list[str]:
    """Every top-level key of each sample's first records (and of the first of its records list) given each other
    JSON type in turn, or dropped: :func:`auto_problems` of each (where detection leaves the sample's format: the
    keys a format's sniff reads)."""
    out = []
    for path, own in samples_:
        parts = _json_parts(path.read_bytes())
        if parts is None:
            continue
        kind, docs = parts
        for doc in docs[:3]:
            recs = _records(doc)
            for base in [(), *([(*recs[0], 0)] if recs else [])]:
                obj = _get(doc, base)
                for key in list(obj) if isinstance(obj, dict) else []:
                    v = obj[key]
                    for to in ("str", "int", "null", "list", "object", "drop"):
                        if to == "drop":
                            del obj[key]
                        else:
                            obj[key] = _swap(v, to)
                        texts = [_dumps(d) for d in docs]
                        data = _encode("\n".join(texts) + "\n" if kind == "lines" else texts[0])
                        obj[key] = v
                        out += [f"{path.name} {key}->{to}: {e}" for e in auto_problems(data, own)]
    return out


def json_samples() -> Iterator[tuple[Path, str]]:
    """The JSON samples (a document or NDJSON) of a specific format (not the catch-all ``json``), with it."""
    for p in samples():
        if p.stat().st_size > 4 << 20:
            continue
        data = p.read_bytes()
        f = formats.detect(data[:65536])
        if f is not None and f.name != "json" and _json_parts(data) is not None:
            yield p, f.name


def campaign(seed: int, n: int, *, only: list[str] | None = None, log: Callable[[str], None] = print) -> int:
    """Run ``n`` rounds: a format drawn (each as often as the others), one of its samples, one mutation."""
    rng = random.Random(seed)
    groups: dict[str, list[Path]] = {}
    for p, f in json_samples():
        if not only or f in only:
            groups.setdefault(f, []).append(p)
    keys = sorted(groups)
    keep = Path(os.environ.get("FUZZ_KEEP", "/tmp/struct-fuzz-found"))
    found = 0
    events: dict[Path, int] = {}
    tally: dict[str, int] = {}
    for i in range(n):
        fmt = rng.choice(keys)
        path = rng.choice(groups[fmt])
        r = random.Random(rng.random())
        try:
            got = mutate(path.read_bytes(), r)
        except (RecursionError, UnicodeError):
            continue
        if got is None:
            continue
        how, data, without = got
        tally[how] = tally.get(how, 0) + 1
        if without is not None:  # the list's items are the format's records only if one fewer is one event fewer
            if path not in events:
                events[path] = ingest(path.read_bytes(), fmt).events
            if ingest(without, fmt).events != events[path] - 1:
                without = None
        if os.environ.get("FUZZ_TRACE"):  # each round named before it runs (a round that never ends, or is killed)
            print(json.dumps({"start": i, "file": str(path), "how": how, "bytes": len(data)}), file=sys.stderr, flush=True)
        errs = problems(data, fmt)
        if not errs and without is not None:
            errs = neighbour_problems(without, data, fmt)
        errs += auto_problems(data, fmt)
        if errs:
            found += 1
            sha = hashlib.sha1(data).hexdigest()[:12]
            log(json.dumps({"round": i, "seed": seed, "file": str(path.relative_to(ROOT.parent)), "how": how, "fmt": fmt,
                            "errors": errs, "sha": sha}))  # fmt: skip
            keep.mkdir(parents=True, exist_ok=True)
            (keep / f"{seed}-{i}-{fmt}.bin").write_bytes(data)
    log(json.dumps({"rounds": n, "found": found, "applied": tally}))
    sys.stdout.flush()
    return found


if __name__ == "__main__":
    sys.exit(1 if campaign(int(sys.argv[1]), int(sys.argv[2]), only=sys.argv[3:]) else 0)
