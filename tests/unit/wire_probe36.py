"""Wire probes of session 36: the ES ``_bulk`` action lines (index, create, update, delete; a source line missing,
unreadable JSON), HEC raw with a channel, the Kubernetes audit webhook's EventList with bad items, OPA's gzip
``/logs`` with bad items, and the syslog listener's octet counting with wrong counts.
``python -m tests.unit.wire_probe36 SEED ROUNDS [KIND...]``.

Every document sent carries a mark (``"fz36": "M<n>Z"``; a syslog message ends with one), and each round checks,
besides :meth:`tests.unit.wire_mutate.Harness.request`'s contract (an answer, no 5xx but 503, every event given
stored or dead-lettered, every refused body dead-lettered with a reason), that no mark is lost: a mark the answer
says was taken (``_bulk`` item 201, a 200 of HEC or a webhook) is in a stored row's ``raw_data`` or in a dead letter;
a mark of a refused item or body is in a dead letter. Bad items of a list (an EventList's ``items``, OPA's array)
go to the dead-letter store alone: the good ones are stored.
"""

from __future__ import annotations

import asyncio
import functools
import gzip
import json
import random
import re
import socket
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson

from secpipe import formats
from secpipe.formats.base import DeadLetter, guarded
from secpipe.sources.syslog import ListenerConfig, SyslogListener
from tests.unit.mutate import REAL, ROOT, samples
from tests.unit.wire_mutate import Harness

_MARKS = re.compile(rb"M(\d+)Z")


def _mark(n: int) -> str:
    return f"M{n}Z"


def _marks(data: bytes) -> set[int]:
    return {int(m) for m in _MARKS.findall(data)}


def _json_lines(path: Path) -> list[dict[str, Any]]:
    data = path.read_bytes()
    try:
        doc = json.loads(data)
        return [x for x in (doc if isinstance(doc, list) else [doc]) if isinstance(x, dict)]
    except ValueError:
        out = []
        for line in data.splitlines():
            try:
                got = json.loads(line)
            except ValueError:
                continue
            if isinstance(got, dict):
                out.append(got)
        return out


def _bad(doc: dict[str, Any], rng: random.Random) -> Any:
    """An item damaged: another type, a key the format reads given another type or dropped, or a JSON text cut."""
    how = rng.choice(["null", "str", "int", "list", "empty", "key-type", "key-drop", "nested"])
    if how == "null":
        return None
    if how == "str":
        return json.dumps(doc)
    if how == "int":
        return 7
    if how == "list":
        return [doc]
    if how == "empty":
        return {}
    key = rng.choice(list(doc)) if doc else "x"
    out = dict(doc)
    if how == "key-drop":
        out.pop(key, None)
    elif how == "nested":
        out[key] = {"a": [[[{"b": out.get(key)}]]]}
    else:
        out[key] = rng.choice([None, 0, -1, 2**64, "", [], {}, [1, "x"], True, "\u0000", "x" * 70_000])
    return out


class Probe:
    """A route, its body and what each mark must become: ``taken`` (stored or dead-lettered after the answer),
    ``refused`` (dead-lettered), or for a list, ``taken`` unless the whole body was refused."""

    def __init__(self, route: str, body: bytes, headers: dict[str, str], marks: dict[int, str]) -> None:
        self.route, self.body, self.headers, self.marks = route, body, headers, marks


# ---------------------------------------------------------------------------------------------
# The probes
# ---------------------------------------------------------------------------------------------


def _bulk_docs() -> list[dict[str, Any]]:
    """Documents of the samples that are one event each, whose row keeps them whole (a report's findings keep their
    own part of it as ``raw_data``, not the mark)."""
    out: list[dict[str, Any]] = []
    for p in samples():
        if p.suffix in (".json", ".jsonl", ".log", ".ndjson") and p.stat().st_size < 200_000 and "github" not in str(p):
            for doc in _json_lines(p)[:5]:
                data = orjson.dumps(dict(doc, fz36=_mark(0)))
                fmt = formats.detect(data, catch_all=True)
                got = None if fmt is None else guarded(fmt, data, "probe", lambda f=fmt, d=data: f.decode(d, "probe"))
                if got is not None and not got.dead and sum(b.num_rows for b in got.batches) == 1 and _marks(
                        b"".join(str(b.column("raw_data").to_pylist()).encode() for b in got.batches
                                 if "raw_data" in b.schema.names)):  # fmt: skip
                    out.append(doc)
    return out


_DOCS: list[dict[str, Any]] = []


def bulk(rng: random.Random, n0: int) -> Probe:
    """A ``_bulk`` body of mixed actions; some items damaged (a source line missing or unreadable, an action line
    another JSON type or an unknown op, blank lines, CRLF)."""
    if not _DOCS:
        _DOCS.extend(_bulk_docs())
    lines: list[bytes] = []
    marks: dict[int, str] = {}
    for k in range(rng.randrange(1, 12)):
        n = n0 + k
        doc = dict(rng.choice(_DOCS), fz36=_mark(n))
        src = orjson.dumps(doc)
        op = rng.choice(["index", "create", "create", "update-upsert", "update", "delete", "index-id", "bad-src",
                         "no-src", "bad-action", "unknown-op", "blank", "action-list"])  # fmt: skip
        if op in ("index", "create"):
            lines += [orjson.dumps({op: rng.choice([{}, {"_index": "logs-x"}, {"_index": 5, "_id": None}])}), src]
            marks[n] = "taken"
        elif op == "index-id":
            lines += [orjson.dumps({"index": {"_index": "logs-x", "_id": rng.choice(["a", 1, 1.5, True, ""])}}), src]
            marks[n] = "taken"
        elif op == "update-upsert":
            lines += [b'{"update":{"_id":"u1"}}', orjson.dumps({"doc": doc, "doc_as_upsert": True})]
            marks[n] = "taken"
        elif op == "update":
            lines += [b'{"update":{"_id":"u1"}}', orjson.dumps(rng.choice([{"doc": doc}, {"script": {"source": _mark(n)}}]))]
            marks[n] = "refused"
        elif op == "delete":
            lines += [b'{"delete":{"_id":"%s"}}' % _mark(n).encode()]
        elif op == "bad-src":
            end = src.index(_mark(n).encode()) + len(_mark(n))  # cut after the mark
            cut = src[: rng.randrange(end, len(src))] if rng.random() < 0.5 else src + b"}"
            lines += [b'{"create":{}}', cut.replace(b"\n", b" ")]
            marks[n] = "refused"
        elif op == "no-src":  # the next action line read as this one's document, as Elasticsearch reads it
            lines += [b'{"create":{}}']
        elif op == "bad-action":
            lines += [rng.choice([b"[]", b"null", b'"index"', b"{", b'{"index":[]}', b'{"index":5}']), src]
            marks[n] = "refused"
        elif op == "unknown-op":
            lines += [b'{"upsert":{}}', src]
            marks[n] = "refused"
        elif op == "blank":
            lines += [b"", b'{"index":{}}', src]
            marks[n] = "taken"
        else:
            lines += [b'{"index":{},"create":{}}', src]
            marks[n] = "refused"
    sep = b"\r\n" if rng.random() < 0.2 else b"\n"
    body = sep.join(lines) + (sep if rng.random() < 0.9 else b"")
    return Probe(rng.choice(["/_bulk", "/logs-x/_bulk"]), body, {"content-type": "application/x-ndjson"}, marks)


def _syslog_lines() -> list[bytes]:
    out = []
    for p in sorted((REAL / "rfc5424-spec").rglob("*")) + sorted((ROOT / "tests" / "cases" / "syslog33").rglob("*")):
        if p.is_file() and p.stat().st_size < 200_000:
            out += [x for x in p.read_bytes().splitlines() if x.startswith(b"<")][:20]
    return out or [b"<13>Feb  5 17:32:18 host app: hi"]


_SYSLOG: list[bytes] = []


def hec_raw(rng: random.Random, n0: int) -> Probe:
    """HEC raw: syslog lines (or a JSON document a line) with a channel (header, ``?channel=``, both, a blank one);
    some lines damaged (NUL, invalid UTF-8, a BOM, CRLF, very long)."""
    if not _SYSLOG:
        _SYSLOG.extend(_syslog_lines())
    lines = []
    marks: dict[int, str] = {}
    for k in range(rng.randrange(1, 10)):
        n = n0 + k
        line = rng.choice(_SYSLOG) + b" " + _mark(n).encode()
        how = rng.choice(["ok", "ok", "nul", "utf8", "bom", "long", "cr"])
        if how == "nul":
            line = line.replace(b" ", b" \x00", 1)
        elif how == "utf8":
            line = line.replace(b" ", b" \xff\xc3", 1)
        elif how == "bom":
            line = b"\xef\xbb\xbf" + line
        elif how == "long":
            line = line + b" " + b"A" * 100_000
        elif how == "cr":
            line = line + b"\r"
        lines.append(line)
        marks[n] = "taken"
    body = b"\n".join(lines) + b"\n"
    chan = rng.choice(["0aecf3c8-dc1f-4bd4-ae1a-1a8f2c2e9b21", "not-a-guid", "", " ", "x" * 300])
    where = rng.choice(["header", "query", "both", "none"])
    route = "/services/collector/raw" + rng.choice(["", "?sourcetype=syslog", "?sourcetype=_json"])
    headers = {"content-type": "text/plain"}
    if where in ("header", "both"):
        headers["x-splunk-request-channel"] = chan
    if where in ("query", "both"):
        route += ("&" if "?" in route else "?") + "channel=" + chan
    return Probe(route, body, headers, marks)


def _items(pool: list[dict[str, Any]], key: str, rng: random.Random, n0: int) -> tuple[list[Any], dict[int, str]]:
    """One to seven items of ``pool``, each marked in its ``key``, about a third of them damaged (:func:`_bad`), and
    what each mark must become: ``taken``, or ``kept`` for a damaged item (stored as it reads, or dead-lettered alone)."""
    items: list[Any] = []
    marks: dict[int, str] = {}
    for k in range(rng.randrange(1, 8)):
        n = n0 + k
        item = dict(rng.choice(pool), **{key: f"{_mark(n)}-{rng.random()}"})
        if rng.random() < 0.35:
            item = _bad(item, rng)
            if _marks(json.dumps(item).encode()):
                marks[n] = "kept"
        else:
            marks[n] = "taken"
        items.append(item)
    return items, marks


@functools.cache
def _events() -> list[dict[str, Any]]:
    out = []
    for p in sorted((REAL / "falco" / "test" / "trace_files" / "k8s_audit").glob("*.json")):
        out += [x for x in _json_lines(p) if x.get("kind") == "Event"]
    return out


def k8s_audit(rng: random.Random, n0: int) -> Probe:
    """An EventList as the API server's webhook backend sends it, some of its items damaged."""
    items, marks = _items(_events(), "auditID", rng, n0)
    doc: dict[str, Any] = {"kind": "EventList", "apiVersion": "audit.k8s.io/v1", "metadata": {}, "items": items}
    if rng.random() < 0.1:
        doc["apiVersion"] = rng.choice(["audit.k8s.io/v1beta1", "audit.k8s.io/v2", 5])
    body = json.dumps(doc).encode()
    headers = {"content-type": "application/json"}
    if rng.random() < 0.3:
        body, headers["content-encoding"] = gzip.compress(body), "gzip"
    return Probe("/v1/k8s/audit", body, headers, marks)


@functools.cache
def _decisions() -> list[dict[str, Any]]:
    out = _json_lines(REAL / "opa-docs" / "management-decision-logs.example1.json")
    out += [x for x in _json_lines(ROOT / "tests" / "cases" / "holdout" / "osm-opa-envoy-console-decisions.jsonl")
            if "decision_id" in x]  # fmt: skip
    return out


def opa(rng: random.Random, n0: int) -> Probe:
    """OPA's decision log upload (a gzip JSON array), some decisions damaged."""
    items, marks = _items(_decisions(), "decision_id", rng, n0)
    body = json.dumps(items).encode()
    headers = {"content-type": "application/json"}
    if rng.random() < 0.9:
        body, headers["content-encoding"] = gzip.compress(body), "gzip"
    return Probe(rng.choice(["/logs", "/v1/opa/logs"]), body, headers, marks)


PROBES: dict[str, Callable[[random.Random, int], Probe]] = {"bulk": bulk, "hec-raw": hec_raw, "k8s-audit": k8s_audit, "opa": opa}


def _stored_raws(h: Harness) -> bytes:
    """The stored rows' ``raw_data`` and ``unmapped`` (where a shipper's own fields go beside the line it wraps)."""
    out = []
    for d in h.given:
        for b in d.batches:
            for col in ("raw_data", "unmapped"):
                if col in b.schema.names:
                    out += [x for x in b.column(col).to_pylist() if isinstance(x, str)]
    return "\n".join(out).encode("utf-8", "surrogatepass")


def check(h: Harness, p: Probe) -> list[str]:
    """What breaks the contract for one probe (empty: nothing)."""
    headers = {**p.headers, "content-length": str(len(p.body))}
    errs = h.request(p.route, p.body, headers, rng_chunk(p))
    if errs:
        return errs
    status, answer = h.last
    stored, dead = _marks(_stored_raws(h)), _marks(b"\n".join(x.raw for x in h.letters))
    if status >= 400:
        lost = [n for n in p.marks if n not in dead]
        return [f"answered {status}, marks {lost} not dead-lettered: {answer[:200]!r}"] if lost else []
    out = []
    for n, want in p.marks.items():
        if n not in stored | dead:
            out.append(f"mark {n} ({want}) neither stored nor dead-lettered (answer {status})")
        elif want == "refused" and n not in dead:
            out.append(f"mark {n} refused, but not dead-lettered (answer {status})")
    if p.route.endswith("_bulk") and status == 200:
        items = orjson.loads(answer)["items"]
        for item in items:
            ((op, res),) = item.items()
            if res["status"] == 400 and op in ("index", "create") and not h.letters:
                out.append(f"a {op} item answered 400 with nothing dead-lettered: {res}")
    return out


def rng_chunk(p: Probe) -> int:
    return 1 << 20 if len(p.body) % 3 else 1000


# ---------------------------------------------------------------------------------------------
# Syslog octet counting
# ---------------------------------------------------------------------------------------------


class _Acceptor:
    """Keeps what the listener hands the service: each batch's messages, each dead letter."""

    def __init__(self) -> None:
        self.bodies: list[bytes] = []
        self.letters: list[DeadLetter] = []

    def accept(self, fmt_name: str, source: str, body: bytes) -> Any:
        self.bodies.append(body)
        return None

    def dead_letter(self, letters: list[DeadLetter]) -> int:
        self.letters += letters
        return len(letters)


def octet_stream(rng: random.Random, n0: int) -> tuple[bytes, set[int]]:
    """Octet-counted frames (RFC 6587 3.4.1), some with a count too small, too large, zero, padded, or not a count,
    some LF-framed between them."""
    if not _SYSLOG:
        _SYSLOG.extend(_syslog_lines())
    out = b""
    marks = set()
    for k in range(rng.randrange(1, 12)):
        n = n0 + k
        # the mark before 48 bytes a count too small by less than that cuts off (they are read as the next message)
        msg = rng.choice(_SYSLOG) + b" " + _mark(n).encode() + b" " + b"-" * 48
        if rng.random() < 0.2:
            msg = msg.replace(b" ", b"\n", 1)  # an embedded newline, which octet counting carries
        marks.add(n)
        how = rng.choice(["ok", "ok", "ok", "short", "long", "zero", "pad", "lf", "huge", "space"])
        size = len(msg)
        if how == "short":
            size -= rng.randrange(1, 40)
        elif how == "long":
            size += rng.randrange(1, 40)
        elif how == "zero":
            size = 0
        elif how == "huge":
            size = 10**9
        if how == "lf":
            out += msg.replace(b"\n", b" ") + b"\n"
        elif how == "pad":
            out += b"000%d %s" % (size, msg)
        elif how == "space":
            out += b"%d  %s" % (size, msg)
        else:
            out += b"%d %s" % (size, msg)
    return out, marks


def octet_problems(stream: bytes, marks: set[int], *, max_message: int = 1 << 16) -> list[str]:
    """Send ``stream`` to a TCP syslog listener on loopback and close: every mark must be in a message handed to the
    service or in a dead letter (the bytes a wrong count takes from its neighbours are read with them, not dropped)."""
    acc = _Acceptor()
    lst = SyslogListener("fz", ListenerConfig(port=0, protocol="tcp", batch_max_seconds=0.02,
                                              max_message_bytes=max_message), acc)  # type: ignore[arg-type]
    lst.start()
    try:
        with socket.create_connection(("127.0.0.1", lst.port), timeout=10) as s:
            s.sendall(stream)
            s.shutdown(socket.SHUT_WR)
            s.settimeout(10)
            try:
                s.recv(1)  # the listener closes its side once it has read everything
            except (TimeoutError, ConnectionError):
                pass
        end = time.monotonic() + 10
        while time.monotonic() < end and not marks <= _marks(b"\n".join(acc.bodies + [x.raw for x in acc.letters])):
            time.sleep(0.02)
    finally:
        lst.stop()
    got = _marks(b"\n".join(acc.bodies + [x.raw for x in acc.letters]))
    out = []
    if marks - got:
        out.append(f"marks {sorted(marks - got)} neither handed on nor dead-lettered")
    if any(not x.reason.strip() for x in acc.letters):
        out.append("dead letter without a reason")
    return out


# ---------------------------------------------------------------------------------------------


def campaign(seed: int, n: int, *, kinds: list[str] | None = None, log: Callable[[str], None] = print) -> int:
    """``n`` rounds of the probes (``kinds``: of these only; ``syslog`` the octet-counting one)."""
    rng = random.Random(seed)
    names = kinds or [*PROBES, "syslog"]
    found = 0
    with __import__("tempfile").TemporaryDirectory() as tmp:
        h = Harness(Path(tmp))
        try:
            for i in range(n):
                kind = rng.choice(names)
                r = random.Random(rng.random())
                if kind == "syslog":
                    stream, marks = octet_stream(r, i * 100)
                    errs = octet_problems(stream, marks)
                    what: dict[str, Any] = {"stream": stream[:3000].decode("utf-8", "replace")}
                else:
                    p = PROBES[kind](r, i * 100)
                    errs = check(h, p)
                    what = {"route": p.route, "headers": p.headers, "marks": p.marks, "answer": h.last[1][:600].decode("utf-8", "replace"),
                            "body": (gzip.decompress(p.body) if p.headers.get("content-encoding") else p.body)[:3000].decode("utf-8", "replace")}  # fmt: skip
                if errs:
                    found += 1
                    log(json.dumps({"round": i, "seed": seed, "kind": kind, "errors": errs, **what}))
        finally:
            h.close()
    log(json.dumps({"rounds": n, "found": found}))
    return found


if __name__ == "__main__":
    asyncio.set_event_loop_policy(None)
    sys.exit(1 if campaign(int(sys.argv[1]), int(sys.argv[2]), kinds=sys.argv[3:] or None) else 0)
