"""The wire-route fuzz: real samples wrapped as shippers send them (an Elasticsearch ``_bulk``, HEC event and
raw, OTLP/JSON, Firehose, a webhook body, ``/v1/ingest/{format}``), damaged by :mod:`tests.unit.mutate`'s
mutations (inside the envelope or of the envelope itself) and at the HTTP level (gzip/deflate bodies, good and
broken, a Content-Length shorter or longer than the body, a wrong Content-Type, a body in many small chunks),
sent to the app in-process as ASGI requests (``nice -n 19 python -m tests.unit.wire_mutate SEED ROUNDS``;
``FUZZ_KEEP`` is where failing requests are written, as JSON).

What breaks the contract: an exception escaping the app, a 5xx answer (503, storage saying "later", aside), a
request not answered within a minute, and any body the pipeline was given whose events read are not all stored
or dead-lettered, or that holds a dead letter without a reason.
"""

from __future__ import annotations

import asyncio
import base64
import gzip
import json
import os
import random
import sys
import tempfile
import traceback
import zlib
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson

from secpipe import formats
from secpipe.formats.base import DeadLetter, Decoded
from secpipe.runtime.service import Service
from secpipe.server.app import create_app
from secpipe.server.auth import TokenStore
from secpipe.server.http import AppContext, Limits
from tests.unit.mutate import CAMPAIGN_MUTATIONS, MUTATIONS, ROOT, samples

#: a sample's format -> the webhook route that takes its bodies as they are
WEBHOOKS = {"k8s_audit": "/v1/k8s/audit", "falco": "/v1/falco", "opa": "/v1/opa/logs", "alertmanager": "/v1/webhooks/alertmanager"}


def _lines(data: bytes) -> list[bytes]:
    return [x for x in data.splitlines() if x.strip()][:200] or [data]


def _doc(line: bytes) -> Any:
    """A line as the document a shipper sends: the JSON object it holds, else ``{"message": line}``."""
    try:
        got = orjson.loads(line)
    except orjson.JSONDecodeError:
        return {"message": line.decode("utf-8", "replace"), "@timestamp": "2024-03-04T05:06:07Z"}
    return got if isinstance(got, dict) else {"message": line.decode("utf-8", "replace")}


def bulk(data: bytes, rng: random.Random) -> tuple[str, bytes, str]:
    action = rng.choice([b'{"create":{"_index":"logs-x"}}', b'{"index":{}}', b'{"create":{}}'])
    body = b"".join(action + b"\n" + orjson.dumps(_doc(x)) + b"\n" for x in _lines(data))
    return rng.choice(["/_bulk", "/logs-x/_bulk"]), body, "application/x-ndjson"


def hec_event(data: bytes, rng: random.Random) -> tuple[str, bytes, str]:
    st = rng.choice(["_json", "syslog", "linux_secure", "aws:cloudtrail", "falco", ""])
    evs = [{"event": _doc(x) if rng.random() < 0.5 else x.decode("utf-8", "replace"), "sourcetype": st,
            "time": rng.choice([1709528767, 1709528767.5, "1709528767", None])} for x in _lines(data)]  # fmt: skip
    return "/services/collector/event", b"".join(orjson.dumps(e) for e in evs), "application/json"


def hec_raw(data: bytes, rng: random.Random) -> tuple[str, bytes, str]:
    return rng.choice(["/services/collector/raw", "/services/collector/raw?sourcetype=syslog"]), data, "text/plain"


def otlp(data: bytes, rng: random.Random) -> tuple[str, bytes, str]:
    recs = [{"timeUnixNano": "1709528767000000000", "body": {"stringValue": x.decode("utf-8", "replace")},
             "attributes": [{"key": "log.file.path", "value": {"stringValue": "/var/log/x.log"}}]} for x in _lines(data)]  # fmt: skip
    doc = {"resourceLogs": [{"resource": {"attributes": [{"key": "service.name", "value": {"stringValue": "x"}}]},
                             "scopeLogs": [{"scope": {"name": "fuzz"}, "logRecords": recs}]}]}  # fmt: skip
    return "/v1/logs", orjson.dumps(doc), "application/json"


def otlp_proto(data: bytes, rng: random.Random) -> tuple[str, bytes, str]:
    from google.protobuf import json_format
    from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest

    try:
        req = json_format.Parse(otlp(data, rng)[1], ExportLogsServiceRequest())
    except json_format.ParseError as exc:  # a line protobuf's string cannot hold (a lone surrogate)
        raise ValueError(str(exc)) from None
    for rec in req.resource_logs[0].scope_logs[0].log_records:
        if rng.random() < 0.2:  # a record whose body is bytes, or a map, as the SDKs' loggers write them
            raw = rec.body.string_value.encode("utf-8", "surrogatepass")
            rec.body.bytes_value = raw
    return "/v1/logs", req.SerializeToString(), "application/x-protobuf"


def firehose(data: bytes, rng: random.Random) -> tuple[str, bytes, str]:
    records = [{"data": base64.b64encode(x).decode()} for x in _lines(data)]
    if rng.random() < 0.3:  # the whole sample as one record (a CloudWatch Logs subscription's gzip)
        records = [{"data": base64.b64encode(gzip.compress(data) if rng.random() < 0.5 else data).decode()}]
    doc = {"requestId": "r-1", "timestamp": 1709528767000, "records": records}
    return rng.choice(["/v1/firehose", "/v1/firehose/auto"]), orjson.dumps(doc), "application/json"


def ingest(data: bytes, rng: random.Random, fmt: str = "auto") -> tuple[str, bytes, str]:
    return f"/v1/ingest/{rng.choice(['auto', fmt])}", data, rng.choice(["application/octet-stream", "application/json"])


WRAPS: dict[str, Callable[[bytes, random.Random], tuple[str, bytes, str]]] = {
    "bulk": bulk, "hec-event": hec_event, "hec-raw": hec_raw, "otlp": otlp, "otlp-proto": otlp_proto, "firehose": firehose, "ingest": ingest,
}  # fmt: skip


#: what damages an envelope: the format fuzz's mutations, and one key the same odd value in every record (every HEC
#: event's ``time``, every OTLP record's ``timeUnixNano``...)
ENVELOPE_MUTATIONS = {**MUTATIONS, **CAMPAIGN_MUTATIONS}


def http_damage(path: str, body: bytes, kind: str, rng: random.Random) -> tuple[str, bytes, dict[str, str], int]:
    """The request's headers, its body as sent and the size of the chunks it comes in, some of them damaged."""
    headers = {"content-type": kind, "content-length": str(len(body))}
    how = rng.choice(["none", "none", "gzip", "deflate", "rawdeflate", "badgzip", "claimgzip", "short", "long",
                      "ctype", "chunks", "noctype"])  # fmt: skip
    if how == "gzip":
        body, headers["content-encoding"] = gzip.compress(body), "gzip"
    elif how == "deflate":
        body, headers["content-encoding"] = zlib.compress(body), "deflate"
    elif how == "rawdeflate":
        c = zlib.compressobj(wbits=-15)
        body, headers["content-encoding"] = c.compress(body) + c.flush(), "deflate"
    elif how == "badgzip":
        z = bytearray(gzip.compress(body))
        i = rng.randrange(len(z))
        z[i] ^= 1 << rng.randrange(8)
        body, headers["content-encoding"] = bytes(z[: rng.randrange(i + 1, len(z) + 1)]), rng.choice(["gzip", "x-gzip"])
    elif how == "claimgzip":
        headers["content-encoding"] = rng.choice(["gzip", "deflate", "zstd", "br", "GZIP ", "gzip, identity"])
    elif how == "short":  # a client that went away: fewer bytes than it said
        body = body[: rng.randrange(len(body) + 1)]
    elif how == "long":
        headers["content-length"] = str(len(body) + rng.choice([1, 1000]))
        body = body[: rng.randrange(len(body) + 1)] if rng.random() < 0.5 else body
    elif how == "ctype":
        headers["content-type"] = rng.choice(["text/plain", "application/x-protobuf", "application/x-www-form-urlencoded",
                                              "multipart/form-data; boundary=x", "application/json; charset=latin-1", "*/*"])  # fmt: skip
    elif how == "noctype":
        del headers["content-type"]
    if how != "long":
        headers["content-length"] = str(len(body)) if how != "short" else headers["content-length"]
    return path, body, headers, rng.choice([1 << 20, 1 << 20, 7, 1000])


class Harness:
    """One service and app; what each request gave the pipeline is kept (:attr:`given`)."""

    def __init__(self, data_dir: Path) -> None:
        self.svc = Service(data_dir)
        self.token = TokenStore(data_dir).create("t", "ingest")
        self.app = create_app(AppContext(service=self.svc, tokens=TokenStore(data_dir), limits=Limits(max_body_bytes=8 << 20)))
        self.given: list[Decoded] = []
        self.answers: Counter[int] = Counter()
        self.last: tuple[int, bytes] = (0, b"")  # the last answer's status and body
        submit = self.svc.pipeline.submit

        def keep(decoded: Decoded) -> None:
            self.given.append(decoded)
            submit(decoded)

        self.svc.pipeline.submit = keep  # type: ignore[method-assign]
        self.letters: list[DeadLetter] = []
        write = self.svc.pipeline.dlq.write

        def letter(dead: list[DeadLetter]) -> int:
            self.letters += dead
            return write(dead)

        self.svc.pipeline.dlq.write = letter  # type: ignore[method-assign]
        self.svc.start()

    async def _send(self, path: str, body: bytes, headers: dict[str, str], chunk: int) -> tuple[int, bytes]:
        raw_path, _, query = path.partition("?")
        hdrs = [(k.encode(), v.encode()) for k, v in {**headers, "authorization": f"Bearer {self.token}"}.items()]
        scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST", "scheme": "http",
                 "path": raw_path, "raw_path": raw_path.encode(), "query_string": query.encode(), "root_path": "",
                 "headers": hdrs, "client": ("127.0.0.1", 5000), "server": ("t", 80)}  # fmt: skip
        parts = [body[i : i + chunk] for i in range(0, len(body), chunk)] or [b""]
        declared = int(headers.get("content-length", len(body)))
        sent = 0
        status, out = 0, []
        done = asyncio.Event()

        async def receive() -> dict[str, Any]:
            nonlocal sent
            if sent < len(parts):
                sent += 1
                more = sent < len(parts)
                return {"type": "http.request", "body": parts[sent - 1], "more_body": more}
            if declared > len(body):  # the client went away before sending what it said
                return {"type": "http.disconnect"}
            await done.wait()  # (asked for while answering: the client leaves once answered)
            return {"type": "http.disconnect"}

        async def send(msg: dict[str, Any]) -> None:
            nonlocal status
            if msg["type"] == "http.response.start":
                status = msg["status"]
            elif msg["type"] == "http.response.body":
                out.append(msg.get("body", b""))
                if not msg.get("more_body"):
                    done.set()

        await asyncio.wait_for(self.app(scope, receive, send), 60)
        return status, b"".join(out)

    def request(self, path: str, body: bytes, headers: dict[str, str], chunk: int) -> list[str]:
        """What breaks the contract for one request (empty: nothing)."""
        self.given.clear()
        self.letters.clear()
        try:
            status, answer = asyncio.run(self._send(path, body, headers, chunk))
        except TimeoutError:
            return ["no answer within 60 s"]
        except Exception as exc:  # what the fuzz is looking for
            return [f"raised {type(exc).__name__}: {exc}".splitlines()[0][:300] + "\n" + traceback.format_exc()[-1500:]]
        try:
            self.svc.flush()  # the pushed payloads mapped now
        except Exception as exc:
            return [f"flush raised {type(exc).__name__}: {exc}"[:300] + "\n" + traceback.format_exc()[-1500:]]
        self.answers[status] += 1
        self.last = status, answer
        out = []
        if status >= 500 and status != 503:
            out.append(f"answered {status}: {answer[:300]!r}")
        known = not body  # an empty body is nothing to keep
        if status in (400, 408, 413, 415, 422) and not self.letters and not known:
            out.append(f"answered {status} with nothing dead-lettered: {answer[:300]!r}")
        if any(not x.reason or not x.reason.strip() for x in self.letters):
            out.append("dead letter without a reason")
        for d in self.given:
            rows = sum(b.num_rows for b in d.batches)
            if rows + len(d.dead) != d.events:
                out.append(f"{d.events} events read, {rows} stored and {len(d.dead)} dead-lettered (answer {status})")
        return out

    def close(self) -> None:
        self.svc.close()


def campaign(seed: int, n: int, *, log: Callable[[str], None] = print) -> int:
    """Run ``n`` rounds: a random sample, wrapped by a random route's envelope, mutated, damaged, sent."""
    rng = random.Random(seed)
    own: dict[Path, str | None] = {}
    for p in samples():
        if p.stat().st_size < 4 << 20:
            f = formats.detect(p.read_bytes()[:65536])
            own[p] = f.name if f else None
    paths = sorted(own)
    found = 0
    answers: Counter[int] = Counter()
    keep = Path(os.environ.get("FUZZ_KEEP", "/tmp/wire-fuzz-found"))
    with tempfile.TemporaryDirectory() as tmp:
        h = Harness(Path(tmp))
        try:
            for i in range(n):
                if i and i % 200 == 0:  # a fresh lake now and then (it grows)
                    h.close()
                    answers += h.answers
                    h = Harness(Path(tmp) / str(i))
                path = rng.choice(paths)
                data = path.read_bytes()
                r = random.Random(rng.random())
                if r.random() < 0.5:
                    got = MUTATIONS[r.choice(list(MUTATIONS))](data, r)
                    data = got[0] if got else data
                fmt = own[path]
                wrap = r.choice([*WRAPS, *(["webhook"] * 2 if fmt in WEBHOOKS else [])])
                if wrap == "webhook":
                    route, body, kind = WEBHOOKS[fmt or ""], data, "application/json"
                elif wrap == "ingest":
                    route, body, kind = ingest(data, r, fmt or "json")
                else:
                    try:
                        route, body, kind = WRAPS[wrap](data, r)
                    except (TypeError, RecursionError, ValueError):  # orjson: an integer past 64 bits, deep nesting
                        continue
                if r.random() < 0.3:  # the envelope itself damaged
                    try:
                        got = ENVELOPE_MUTATIONS[r.choice(list(ENVELOPE_MUTATIONS))](body, r)
                    except (RecursionError, UnicodeError):
                        got = None
                    body = got[0] if got else body
                route, body, headers, chunk = http_damage(route, body, kind, r)
                errs = h.request(route, body, headers, chunk)
                if errs:
                    found += 1
                    log(json.dumps({"round": i, "seed": seed, "file": str(path.relative_to(ROOT.parent)), "wrap": wrap,
                                    "route": route, "headers": headers, "chunk": chunk, "errors": errs}))
                    keep.mkdir(parents=True, exist_ok=True)
                    (keep / f"{seed}-{i}.json").write_text(json.dumps({"route": route, "headers": headers, "chunk": chunk,
                                                                         "body": base64.b64encode(body).decode()}))
        finally:
            h.close()
            answers += h.answers
    log(json.dumps({"rounds": n, "found": found, "answers": dict(sorted(answers.items()))}))
    return found


if __name__ == "__main__":
    sys.exit(1 if campaign(int(sys.argv[1]), int(sys.argv[2])) else 0)
