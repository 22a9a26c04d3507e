"""Elasticsearch-compatible ingest: enough of the ES REST API for Beats, Logstash, Fluent Bit,
Vector, syslog-ng ``elasticsearch-http()`` and the official clients to ship to secpipe.

Routes (all need a token with ``ingest``; Basic auth with the token as password (or as user
with an empty password), ``ApiKey <token>`` / ``ApiKey base64(id:token)`` and
``Bearer <token>`` are accepted):
- ``POST|PUT /_bulk``, ``/{index}/_bulk`` (also with a trailing ``/``: Fluent Bit sends
  ``/_bulk/?pipeline=x``), ``POST /{index}/_doc``, ``PUT|POST /{index}/_doc/{id}`` and
  ``/{index}/_create/{id}``, and the typed Index API of ES 6 and 7 (``POST /{index}/{type}``: Jenkins' Audit
  Trail plugin; ``PUT|POST /{index}/{type}/{id}[/_create]`` only with ``compatible-with=7``, as ES 8 serves
  them; any other three-segment path is 404): documents are stored through
  :func:`secpipe.server.wire.accept_docs`; the answer is sent only once they are durable (WAL
  fsync). Hot path: when every action line is the same (what shippers send), the body is
  split once (natively with the depth check in the same pass: :func:`parse_body`), the
  documents go to their format as one batch, and the answer is built from a bytes template
  (:class:`Uniform`); other bodies take the per-item path. Format per
  document: ``ingest.elasticsearch.index_formats`` (index name or fnmatch pattern -> format),
  else auto-detection (``json`` catches the rest; a generic document whose ``event.original``,
  ``message``, ``log`` or OpenTelemetry ``body.text``/``Body`` is one line a specific format
  reads is stored as that line: :func:`shipped_lines`); an
  action's ``_index``/``_id`` may be any JSON scalar, read as its text as ES does.
  ``index``/``create`` items answer 201; an
  unreadable document answers 400 with an ``error`` {type, reason} and is dead-lettered (400:
  Filebeat and Logstash drop or dead-letter such an item instead of retrying it forever);
  ``update`` with ``doc_as_upsert`` stores its ``doc`` (Fluent Bit ``Write_Operation upsert``);
  ``delete`` and other updates answer 400 per item (the lake is append-only). A malformed
  action line or an empty body fails the whole request (400), as ES does. Query parameters:
  ``filter_path`` is honoured (:mod:`secpipe.server.es_filter`; Filebeat and Logstash send
  ``errors,items.*.error,items.*.status``); ``pipeline``, ``refresh``, ``timeout``,
  ``wait_for_active_shards`` are accepted and have nothing to do here (the answer already
  waits for durability). A rate-limited token gets 429 ``es_rejected_execution_exception``
  with ``Retry-After``, which every shipper retries.
- Probes shippers send before shipping: ``GET|HEAD /`` (cluster info; ``version.number``
  from config, Beats and Logstash compare it with their own; ``tagline`` and
  ``build_flavor`` for Logstash's 7.x check), ``/_license``, ``/_xpack``,
  ``/_cluster/health`` (Vector's health check), ``/_cat/health`` (rsyslog's omelasticsearch),
  ``/_nodes[/{sel}[/{metric}]]``, ``/_cat/templates``; template, ILM, ingest pipeline and data
  stream set-up (``PUT`` answers ``acknowledged`` and a later ``GET``/``HEAD`` returns what was
  put, 404 before; kept in memory: shippers re-install them at start); index and alias
  set-up for Logstash's ILM rollover mode (``HEAD /{alias}`` and ``/_alias/{name}``, then
  ``PUT /<logstash-{now/d}-000001>`` with the alias).
Every response carries ``X-Elastic-Product: Elasticsearch`` (the official clients and
Logstash >= 7.14 check it); errors have ES's shape ``{"error": {"type", "reason",
"root_cause"}, "status"}``.
"""

from __future__ import annotations

import base64
import binascii
import fnmatch
import secrets
import threading
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import msgspec
import orjson
from starlette.convertors import Convertor, register_url_convertor
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from secpipe.formats import _fast
from secpipe.formats.base import BOM, DeadLetter
from secpipe.server.es_filter import apply_filter
from secpipe.server.http import STORE_ERRORS, AppContext, HTTPError, authenticate, route, store_failed
from secpipe.server.shipped import shipped_lines, text_lines
from secpipe.server.wire import (
    accept_docs,
    check_depth,
    check_depth_figure,
    check_strings,
    ingest_config,
    read_body_limited,
    who,
)
from secpipe.server.workers import in_thread

_ERROR_TYPES = {400: "parse_exception", 401: "security_exception", 403: "security_exception",
                404: "resource_not_found_exception", 408: "timeout_exception",
                413: "content_too_long_exception", 415: "illegal_argument_exception",
                429: "es_rejected_execution_exception", 503: "unavailable_exception"}  # fmt: skip


#: an action's ``_index``/``_id`` as ES's bulk parser takes them: any JSON scalar, read as its text
#: (``BulkRequestParser``: ``parser.text()``), so ``"_id": 42`` is the id ``"42"``: the official
#: Python client's bulk helper sends an ``_id`` given as a number as one (its docs' example)
_Scalar = str | int | float | bool | None


def _text(v: _Scalar) -> str | None:
    """A scalar's text as Jackson gives it (``true``, ``42``, ``1.5``); None stays None."""
    if v is None or isinstance(v, str):
        return v
    return ("true" if v else "false") if isinstance(v, bool) else str(v)


class _Meta(msgspec.Struct):
    index_: _Scalar = msgspec.field(default=None, name="_index")
    id_: _Scalar = msgspec.field(default=None, name="_id")

    @property
    def index(self) -> str | None:
        """``_index`` as text."""
        return _text(self.index_)

    @property
    def id(self) -> str | None:
        """``_id`` as text."""
        return _text(self.id_)


class _Action(msgspec.Struct):
    index: _Meta | None = None
    create: _Meta | None = None
    delete: _Meta | None = None
    update: _Meta | None = None


def _plain(a: _Action) -> bool:
    """Whether ``a`` is an ``index`` or a ``create`` action alone: a line naming two actions is refused (the slow
    path's 400, Elasticsearch's ``Malformed action/metadata line [n], expected END_OBJECT``), whichever path reads it."""
    return (a.index is None) != (a.create is None) and a.delete is None and a.update is None


_ACTIONS = msgspec.json.Decoder(list[_Action])
_ACTION = msgspec.json.Decoder(_Action)
_SHARDS = {"total": 1, "successful": 1, "failed": 0}


def es_response(obj: Any, status: int = 200, request: Request | None = None) -> Response:
    """A JSON answer with the headers ES clients check (``obj`` may be JSON bytes already)."""
    media = "application/json"
    accept = request.headers.get("accept", "") if request is not None else ""
    if "compatible-with=" in accept:
        media = "application/vnd.elasticsearch+json;compatible-with=" + accept.split("compatible-with=")[1][:2].strip(";, ")
    body = obj if isinstance(obj, bytes) else orjson.dumps(obj)
    headers = {"X-Elastic-Product": "Elasticsearch"}
    opaque = request.headers.get("x-opaque-id") if request is not None else None
    if opaque:
        headers["X-Opaque-Id"] = opaque  # ES echoes the client's request id
    return Response(body, status_code=status, media_type=media, headers=headers)


def es_error(status: int, reason: str, type_: str | None = None) -> dict[str, Any]:
    """ES's error body."""
    t = type_ or _ERROR_TYPES.get(status, "exception")
    return {"error": {"root_cause": [{"type": t, "reason": reason}], "type": t, "reason": reason}, "status": status}


def es_token(request: Request) -> str:
    """The secpipe token from Basic (as password), ApiKey or Bearer credentials."""
    scheme, _, value = request.headers.get("authorization", "").partition(" ")
    scheme, value = scheme.lower(), value.strip()
    if not value:
        raise HTTPError(401, f"missing authentication credentials for REST request [{request.url.path}]")
    if scheme in ("basic", "apikey") and not value.startswith("sp_"):
        try:
            decoded = base64.b64decode(value, validate=True).decode()
        except (binascii.Error, UnicodeDecodeError):
            raise HTTPError(401, f"unreadable {scheme} credentials: send base64(user:token)") from None
        user, _, password = decoded.partition(":")
        return password or user  # Basic: the token as password, or as user with no password
    if scheme in ("basic", "apikey", "bearer"):
        return value
    raise HTTPError(401, "unsupported authorization scheme: use Basic (token as password), ApiKey or Bearer")


def _endpoint(ctx: AppContext, fn: Callable[[Request], Awaitable[Any]]) -> Callable[[Request], Awaitable[Response]]:
    """Authenticate with ES credentials, run ``fn``, answer in ES's shape (errors too)."""

    async def handler(request: Request) -> Response:
        try:
            authenticate(ctx, request, "ingest", token=es_token(request))
            out = await fn(request)
        except HTTPError as exc:
            resp = es_response(es_error(exc.status, str(exc)), exc.status, request)
            resp.headers.update(exc.headers or {})  # Retry-After of a 429
            if exc.status == 401:
                resp.headers["WWW-Authenticate"] = 'Basic realm="security" charset="UTF-8"'
            return resp
        except STORE_ERRORS as exc:  # not durable: 503, which every shipper retries
            return es_response(es_error(503, store_failed(exc)), 503, request)
        if isinstance(out, Response):
            return out
        spec = request.query_params.get("filter_path")  # e.g. Beats' GET /_xpack?filter_path=features...
        return es_response(out if spec is None else apply_filter(out, spec), 200, request)

    return handler


class _IndexFormats:
    """index name -> format name (None = auto), from config patterns; cached per index."""

    def __init__(self, patterns: dict[str, str]) -> None:
        self.patterns = patterns
        self.cache: dict[str, str | None] = {}

    def __call__(self, index: str) -> str | None:
        if index not in self.cache:
            hit = self.patterns.get(index)
            if hit is None:
                hit = next((f for p, f in self.patterns.items() if fnmatch.fnmatchcase(index, p)), None)
            if len(self.cache) > 10_000:
                self.cache.clear()
            self.cache[index] = hit
        return self.cache[index]


@dataclass(slots=True)
class Uniform:
    """A ``_bulk`` body whose action lines are all the same (what shippers send): one op,
    index and id for every document, so nothing is decoded or built per item."""

    op: str
    index: str
    id: str | None
    docs: list[bytes]

    def items(self) -> list[tuple[str, str, str | None, bytes | None]]:
        """The per-item form :func:`parse_bulk` returns."""
        return [(self.op, self.index, self.id, d) for d in self.docs]


def bulk_lines(body: bytes) -> list[bytes]:
    """The lines of a ``_bulk`` body (trailing blank lines dropped, ``\r\n`` tolerated)."""
    lines = body.split(b"\n")
    while lines and not lines[-1].strip():
        lines.pop()
    if b"\r" in body:
        lines = [ln.rstrip(b"\r") for ln in lines]
    return lines


def parse_bulk(body: bytes, default_index: str | None) -> list[tuple[str, str, str | None, bytes | None]]:
    """Bulk NDJSON -> (op, index, id, document or None) per item; HTTPError 400 when malformed."""
    parsed = parse_lines(bulk_lines(body), default_index)
    return parsed.items() if isinstance(parsed, Uniform) else parsed


def parse_body(body: bytes, default_index: str | None, max_depth: int,
               max_string: int | None = None) -> Uniform | list[tuple[str, str, str | None, bytes | None]]:
    """A ``_bulk`` body checked (:func:`~secpipe.server.wire.check_depth` per NDJSON line,
    then the string limit) and parsed (:func:`parse_lines` of :func:`bulk_lines`).

    With the native extension one pass gives the depth and, when every action line is the
    same, the action line and the documents (``bulk_split``, native/src/bulk.rs); other
    bodies, and every body without the extension, take the Python path.
    """
    split = getattr(_fast._module(), "bulk_split", None)
    if split is None:
        check_depth(body, max_depth, max_string, ndjson=True)
        return parse_lines(bulk_lines(body), default_index)
    depth, head, docs = split(body)
    check_depth_figure(depth, max_depth)
    check_strings(body, max_string)
    if head is not None:
        uniform = _uniform(head, docs, default_index)
        if uniform is not None:
            return uniform
    return parse_lines(bulk_lines(body), default_index)


def within_limits(body: bytes, default_index: str | None, max_depth: int,
                  max_string: int | None = None) -> tuple[list[tuple[str, str, str | None, bytes | None]], dict[int, str]] | None:
    """A ``_bulk`` body :func:`parse_body` refused for its limits, parsed with each document over
    them refused alone, as Elasticsearch fails the item of a document it cannot map (400
    ``document_parsing_exception``) and stores the rest: the items and the reason of each item
    refused. None when no document alone is over the limits, or an action line is (the
    request is refused whole then, as before)."""
    lines = bulk_lines(body)
    over: dict[int, str] = {}
    for n, line in enumerate(lines):
        try:
            check_depth(line, max_depth, max_string)
        except HTTPError as exc:
            over[n] = str(exc)
    if not over:
        return None
    stand_in = {n: b'{"secpipe.over":%d}' % n for n in over}  # a small object each: parsed, then put back
    marks = {v: n for n, v in stand_in.items()}
    try:
        parsed = parse_lines([stand_in.get(n, ln) for n, ln in enumerate(lines)], default_index)
    except HTTPError:
        return None
    items = parsed.items() if isinstance(parsed, Uniform) else parsed
    why: dict[int, str] = {}
    for i, (op, index, id_, doc) in enumerate(items):
        if doc is not None and (at := marks.get(doc)) is not None:
            items[i] = (op, index, id_, lines[at])
            why[i] = over[at]
    return (items, why) if len(why) == len(over) else None  # (a stand-in read as an action line: refused whole)


def _uniform(head: bytes, docs: list[bytes], default_index: str | None) -> Uniform | None:
    """The :class:`Uniform` body of the action line ``head`` (the same on every item) and
    ``docs``; None when that line is not a plain ``index`` or ``create`` action."""
    try:
        one = _ACTION.decode(head)
    except (msgspec.DecodeError, UnicodeDecodeError):  # a string that is not UTF-8 too
        return None
    if _plain(one):
        op, meta = ("index", one.index) if one.index is not None else ("create", one.create)
        return Uniform(op, meta.index or default_index or "", meta.id, docs)  # type: ignore[union-attr]
    return None


def parse_lines(lines: list[bytes], default_index: str | None) -> Uniform | list[tuple[str, str, str | None, bytes | None]]:
    """:func:`parse_bulk` on split lines; :class:`Uniform` when every action line is the same.

    Fast paths: identical action lines (one decode, a C-level comparison of the rest), then
    alternating action and document lines whose actions decode in one call.
    """
    if len(lines) % 2 == 0 and lines:
        heads = lines[0::2]
        if heads.count(heads[0]) == len(heads):
            uniform = _uniform(heads[0], lines[1::2], default_index)
            if uniform is not None:
                return uniform
        try:
            actions = _ACTIONS.decode(b"[" + b",".join(heads) + b"]")
        except (msgspec.DecodeError, UnicodeDecodeError):
            actions = None
        # a blank head line (skipped as Elasticsearch skips it) leaves fewer actions than heads
        if (actions is not None and len(actions) == len(heads)
                and all(_plain(a) for a in actions)):
            out: list[tuple[str, str, str | None, bytes | None]] = []
            for a, doc in zip(actions, lines[1::2], strict=True):
                op, meta = ("index", a.index) if a.index is not None else ("create", a.create)
                out.append((op, meta.index or default_index or "", meta.id, doc))  # type: ignore[union-attr]
            return out
    return _parse_slow(lines, default_index)


def _parse_slow(lines: list[bytes], default_index: str | None) -> list[tuple[str, str, str | None, bytes | None]]:
    out: list[tuple[str, str, str | None, bytes | None]] = []
    i = 0
    while i < len(lines):
        line = lines[i].strip()
        if not line:
            i += 1
            continue
        try:
            act = _ACTION.decode(line)
        except (msgspec.DecodeError, UnicodeDecodeError) as exc:
            msg = f"Malformed action/metadata line [{i + 1}], expected a JSON object: {exc}"
            raise HTTPError(400, msg) from None
        ops = [(n, m) for n, m in (("index", act.index), ("create", act.create), ("delete", act.delete),
                                   ("update", act.update)) if m is not None]  # fmt: skip
        if len(ops) > 1:  # (Elasticsearch: "expected END_OBJECT but found [FIELD_NAME]")
            names = ", ".join(f"[{n}]" for n, _m in ops)
            msg = f"Malformed action/metadata line [{i + 1}], it names {names}: one action a line"
            raise HTTPError(400, msg)
        if not ops:
            msg = f"Malformed action/metadata line [{i + 1}], expected field [create], [delete], [index] or [update]"
            raise HTTPError(400, msg)
        op, meta = ops[0]
        if op == "delete":
            out.append((op, meta.index or default_index or "", meta.id, None))
            i += 1
            continue
        if i + 1 >= len(lines):
            msg = f"action [{op}] on line [{i + 1}] has no document line after it"
            raise HTTPError(400, msg)
        out.append((op, meta.index or default_index or "", meta.id, lines[i + 1]))
        i += 2
    return out


def routes(ctx: AppContext) -> list[Route]:
    """The ES-compatible routes (none when ``ingest.elasticsearch.enabled`` is false)."""
    conf = ingest_config(ctx).elasticsearch
    if not conf.enabled:
        return []
    to_format = _IndexFormats(conf.index_formats)
    stored: dict[str, dict[str, Any]] = {"index_template": {}, "template": {}, "component_template": {},
                                         "ilm": {}, "pipeline": {}, "data_stream": {}, "index": {}}  # fmt: skip
    lock = threading.Lock()
    started = int(time.time() * 1000)
    cluster_uuid = secrets.token_urlsafe(16)

    async def bulk(request: Request) -> Response:
        index = request.path_params.get("index")
        source = f"es_bulk:{who(request)}"
        # a leading UTF-8 BOM (PowerShell 5 writes one) is no content: RFC 8259 8.1 lets a parser skip it, as ES does
        body = (await read_body_limited(ctx, request, source, "auto", json_body=False)).removeprefix(BOM)
        t0 = time.perf_counter()
        over: dict[int, str] = {}  # items refused alone for the limits: their reasons
        try:
            try:
                parsed = parse_body(body, index, ctx.limits.max_json_depth, ctx.limits.max_string_bytes)
            except HTTPError:
                got = within_limits(body, index, ctx.limits.max_json_depth, ctx.limits.max_string_bytes)
                if got is None:
                    raise
                parsed, over = got
            if not parsed.docs if isinstance(parsed, Uniform) else not parsed:
                raise HTTPError(400, "Validation Failed: 1: no requests added;")
        except HTTPError as exc:
            await in_thread(ctx.service.dead_letter, [_dl(str(exc), source, body)])
            raise
        # a request without a query string (what Logstash and the clients send) has no filter_path: no QueryParams
        spec = request.query_params.get("filter_path") if request.scope["query_string"] else None
        return es_response(await in_thread(_store, ctx, to_format, source, parsed, t0, spec, body, over), 200,
                           request)

    async def one_doc(request: Request, op: str | None = None) -> Response:
        index = request.path_params["index"]
        op = op or ("create" if request.url.path.rstrip("/").rsplit("/", 2)[-2] == "_create" else "index")
        source = f"es_doc:{who(request)}"
        body = await read_body_limited(ctx, request, source, "auto")
        doc = body.strip().replace(b"\n", b" ")
        if not doc:
            raise HTTPError(400, "request body is required")
        res = await in_thread(_store_items, ctx, to_format, source,
                                      [(op, index, request.path_params.get("id"), doc)], time.perf_counter())
        item = res["items"][0][op]
        if "error" in item:
            return es_response({"error": item["error"], "status": 400}, 400, request)
        # the Index API answers the item without its bulk-only "status" (ES docs-index_ example)
        return es_response({k: v for k, v in item.items() if k != "status"}, 201, request)

    async def typed_doc(request: Request) -> Response:
        """``POST /{index}/{type}[/]``: the Index API with a mapping type, as ES 6 and 7 took it (Jenkins' Audit
        Trail plugin posts to the URL its setup names, ``https://es/<index>/<type>/``): stored as ``/{index}/_doc``
        stores a document. A ``_``-named endpoint secpipe does not serve (``_search``, ``_refresh``) takes no such
        route (:class:`_TypeName`): it is answered as before (405, the methods ES's catch-alls take).

        ``PUT|POST /{index}/{type}/{id}`` (and ``.../{id}/_create``), the typed forms with an id: ES 8 (the
        version secpipe reports) serves them only to a client that asks for its REST API compatibility with 7.x
        (``compatible-with=7`` in ``Accept`` or ``Content-Type``: ``RestIndexAction``'s routes are deprecated
        ``V_7`` ones), as the typeless ``/{index}/_doc/{id}`` and ``/{index}/_create/{id}`` otherwise. Any
        other three-segment path (``POST /api/v1/query``: another product's API, sent here by mistake) is no
        ES endpoint: 404 in ES's error shape, as every path no route takes, where it was stored and answered
        201 created."""
        if "id" in request.path_params and not _compatible_with_7(request):
            raise HTTPError(404, f"no handler found for uri [{request.url.path}] and method [{request.method}]")
        return await one_doc(request, "create" if request.url.path.endswith("/_create") else "index")

    async def index_exists(request: Request) -> Response:
        """``HEAD|GET /{index}``: an index or alias created through ``PUT /{index}`` (Logstash's
        ILM rollover set-up checks its alias this way); 404 otherwise, as ES answers."""
        name = request.path_params["index"]
        with lock:
            hit = {n: b for n, b in stored["index"].items() if n == name or name in b.get("aliases", {})}
        if not hit:
            raise HTTPError(404, f"no such index [{name}]")
        return es_response({n: {"aliases": b.get("aliases", {}), "mappings": b.get("mappings", {}),
                                "settings": b.get("settings", {})} for n, b in hit.items()}, 200, request)

    async def index_create(request: Request) -> dict[str, Any]:
        """``PUT /{index}`` (Logstash's rollover index ``<logstash-{now/d}-000001>`` with its
        alias): remembered so the alias checks above find it; documents still go by ``_bulk``."""
        name = request.path_params["index"]
        raw = await read_body_limited(ctx, request, "es_index", "json")
        try:
            body = orjson.loads(raw) if raw.strip() else {}
        except orjson.JSONDecodeError as exc:
            raise HTTPError(400, f"request body is not JSON: {exc}") from None
        with lock:
            if name in stored["index"]:
                raise HTTPError(400, f"index [{name}] already exists")
            _room(stored["index"], name)
            stored["index"][name] = body if isinstance(body, dict) else {}
        return {"acknowledged": True, "shards_acknowledged": True, "index": name}

    async def alias_get(request: Request) -> dict[str, Any]:
        """``HEAD|GET /_alias/{name}``: the indexes holding alias ``name`` (404 when none)."""
        name = request.path_params["name"]
        with lock:
            hit = {n: {"aliases": {name: b["aliases"][name]}} for n, b in stored["index"].items()
                   if name in b.get("aliases", {})}  # fmt: skip
        if not hit:
            raise HTTPError(404, f"alias [{name}] missing")
        return hit

    async def root(_request: Request) -> dict[str, Any]:
        return {
            "name": "secpipe", "cluster_name": conf.cluster_name, "cluster_uuid": cluster_uuid,
            "version": {"number": conf.version, "build_flavor": "default", "build_type": "docker",
                        "build_hash": "secpipe", "build_date": "2024-01-01T00:00:00.000Z", "build_snapshot": False,
                        "lucene_version": "9.12.0", "minimum_wire_compatibility_version": "7.17.0",
                        "minimum_index_compatibility_version": "7.0.0"},
            "tagline": "You Know, for Search",
        }  # fmt: skip

    async def license_(_request: Request) -> dict[str, Any]:
        return {"license": _license(started)}

    async def xpack(_request: Request) -> dict[str, Any]:
        feats = {f: {"available": True, "enabled": True} for f in ("ilm", "monitoring", "security", "data_streams")}
        return {"build": {"hash": "secpipe", "date": "2024-01-01T00:00:00.000Z"}, "license": _license(started),
                "features": feats}

    async def health(_request: Request) -> dict[str, Any]:
        return {"cluster_name": conf.cluster_name, "status": "green", "timed_out": False, "number_of_nodes": 1,
                "number_of_data_nodes": 1, "active_primary_shards": 0, "active_shards": 0,
                "relocating_shards": 0, "initializing_shards": 0, "unassigned_shards": 0,
                "active_shards_percent_as_number": 100.0}  # fmt: skip

    async def cat_health(request: Request) -> Response | list[dict[str, Any]]:
        row = {"epoch": str(int(time.time())), "timestamp": time.strftime("%H:%M:%S", time.gmtime()),
               "cluster": conf.cluster_name, "status": "green", "node.total": "1", "node.data": "1"}
        if request.query_params.get("format") == "json":
            return [row]
        return Response(" ".join(row.values()) + "\n", media_type="text/plain",
                        headers={"X-Elastic-Product": "Elasticsearch"})

    async def nodes(request: Request) -> dict[str, Any]:
        host = request.url.netloc
        node = {"name": "secpipe", "version": conf.version, "roles": ["data", "ingest", "master"],
                "http": {"publish_address": host, "bound_address": [host]}, "ip": request.url.hostname}
        return {"_nodes": {"total": 1, "successful": 1, "failed": 0}, "cluster_name": conf.cluster_name,
                "nodes": {"secpipe-node-0": node}}

    async def cat_templates(request: Request) -> Response | list[dict[str, Any]]:
        want = request.path_params.get("name", "*")
        with lock:
            rows = [{"name": n, "index_patterns": str(b.get("index_patterns", [])), "order": str(b.get("order", 0)),
                     "version": str(b.get("version", "")), "composed_of": str(b.get("composed_of", []))}
                    for kind in ("index_template", "template") for n, b in stored[kind].items()
                    if fnmatch.fnmatchcase(n, want)]  # fmt: skip
        if request.query_params.get("format") == "json":
            return rows
        text = "".join(f"{r['name']} {r['index_patterns']} {r['order']} {r['version']}\n" for r in rows)
        return Response(text, media_type="text/plain", headers={"X-Elastic-Product": "Elasticsearch"})

    def getter(kind: str) -> Callable[[Request], Awaitable[Any]]:
        async def get(request: Request) -> Any:
            name = request.path_params.get("name", "*")
            with lock:
                found = {n: b for n, b in stored[kind].items() if fnmatch.fnmatchcase(n, name)}
            if not found and "*" not in name:
                raise HTTPError(404, f"{kind.replace('_', ' ')} [{name}] not found")
            return _shape(kind, found, started)

        return get

    def putter(kind: str) -> Callable[[Request], Awaitable[Any]]:
        async def put(request: Request) -> Any:
            raw = await read_body_limited(ctx, request, f"es_{kind}", "json")
            try:
                body = orjson.loads(raw) if raw.strip() else {}
            except orjson.JSONDecodeError as exc:
                raise HTTPError(400, f"request body is not JSON: {exc}") from None
            with lock:
                _room(stored[kind], request.path_params["name"])
                stored[kind][request.path_params["name"]] = body if isinstance(body, dict) else {}
            return {"acknowledged": True}

        return put

    def r(method: str, path: str, fn: Callable[[Request], Awaitable[Any]]) -> Route:
        return route(method, path, "ingest", _endpoint(ctx, fn))

    out = [
        r("GET", "/", root),
        r("GET", "/_license", license_),
        r("GET", "/_xpack", xpack),
        r("GET", "/_cluster/health", health),
        r("GET", "/_cat/health", cat_health),
        r("GET", "/_nodes", nodes),
        r("GET", "/_nodes/{sel}", nodes),
        r("GET", "/_nodes/{sel}/{metric}", nodes),
        r("GET", "/_cat/templates", cat_templates),
        r("GET", "/_cat/templates/{name}", cat_templates),
        r("GET", "/_ilm/policy", getter("ilm")),
        r("GET", "/_alias/{name}", alias_get),
    ]
    # ``/_bulk/`` too: Fluent Bit asks for ``/_bulk/?pipeline=...`` and follows no redirect
    for path in ("/_bulk", "/_bulk/", "/{index}/_bulk", "/{index}/_bulk/"):
        out += [r("POST", path, bulk), r("PUT", path, bulk)]
    out.append(r("POST", "/{index}/_doc", one_doc))
    for path in ("/{index}/_doc/{id}", "/{index}/_create/{id}"):
        out += [r("POST", path, one_doc), r("PUT", path, one_doc)]
    for kind, prefix in (("index_template", "/_index_template"), ("template", "/_template"),
                         ("component_template", "/_component_template"), ("ilm", "/_ilm/policy"),
                         ("pipeline", "/_ingest/pipeline"), ("data_stream", "/_data_stream")):  # fmt: skip
        if kind != "ilm":  # GET /_ilm/policy is above
            out.append(r("GET", prefix, getter(kind)))  # every one, as ES lists them
        out.append(r("GET", prefix + "/{name}", getter(kind)))
        out.append(r("PUT", prefix + "/{name}", putter(kind)))
    # index-level APIs match any name (``{index:path}``: Logstash's date-math name has a "/"), and the
    # typed Index API any two or three segments: marked ``catch_all``, so the app puts them after every
    # other route (a webhook's or OTLP's own path is theirs)
    typed = [r("POST", "/{index:es_index}/{type:es_type}", typed_doc), r("POST", "/{index:es_index}/{type:es_type}/", typed_doc),
             r("POST", "/{index:es_index}/{type:es_type}/{id}", typed_doc),
             r("PUT", "/{index:es_index}/{type:es_type}/{id}", typed_doc),
             r("POST", "/{index:es_index}/{type:es_type}/{id}/_create", typed_doc),
             r("PUT", "/{index:es_index}/{type:es_type}/{id}/_create", typed_doc)]  # fmt: skip
    for catch_all in (*typed, r("GET", "/{index}", index_exists), r("PUT", "/{index:path}", index_create)):
        catch_all.catch_all = True  # type: ignore[attr-defined]
        out.append(catch_all)
    return out


def _compatible_with_7(request: Request) -> bool:
    """Whether the request asks for ES's REST API compatibility with 7.x (``Accept`` or ``Content-Type``
    ``application/vnd.elasticsearch+json; compatible-with=7``, what the 8.x clients send in compatibility mode)."""
    return any("compatible-with=7" in request.headers.get(h, "").replace(" ", "") for h in ("accept", "content-type"))


class _TypeName(Convertor[str]):
    """A path segment as a mapping type of ES's typed Index API: never ``_``-named (``_search``,
    ``_refresh``: ES's own endpoints)."""

    regex = r"[^/_][^/]*"

    def convert(self, value: str) -> str:
        return value

    def to_string(self, value: str) -> str:
        return value


class _IndexName(_TypeName):
    """An index of ES's typed Index API: as a type, and never ``v1`` or ``services``, the first segments
    of secpipe's own API and of Splunk HEC (an unknown path there stays their 404)."""

    regex = r"(?!(?:v1|services)(?:/|$))[^/_][^/]*"


register_url_convertor("es_index", _IndexName())
register_url_convertor("es_type", _TypeName())

_MAX_STORED = 10_000  # settings of one kind kept in memory (shippers install a handful)


def _room(kind: dict[str, Any], name: str) -> None:
    """HTTPError 400 when ``kind`` is full and ``name`` would be a new entry."""
    if name not in kind and len(kind) >= _MAX_STORED:
        raise HTTPError(400, f"too many stored settings of this kind ({_MAX_STORED}): shippers install a few, "
                             "check the sender's set-up loop")


def _dl(reason: str, source: str, raw: bytes) -> DeadLetter:
    return DeadLetter(reason, source, 0, raw, "auto")


def _license(started: int) -> dict[str, Any]:
    return {"status": "active", "uid": "secpipe", "type": "basic", "issue_date_in_millis": started,
            "issue_date": time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime(started / 1000)),
            "max_nodes": 1000, "max_resource_units": None, "issued_to": "secpipe", "issuer": "secpipe",
            "start_date_in_millis": -1}  # fmt: skip


def _shape(kind: str, found: dict[str, Any], started: int) -> Any:
    """GET answers in the shape ES gives for each kind of stored setting."""
    if kind == "index_template":
        return {"index_templates": [{"name": n, "index_template": b} for n, b in found.items()]}
    if kind == "component_template":
        return {"component_templates": [{"name": n, "component_template": b} for n, b in found.items()]}
    if kind == "ilm":
        return {n: {"version": 1, "modified_date_in_millis": started, "policy": b.get("policy", b)}
                for n, b in found.items()}  # fmt: skip
    if kind == "data_stream":
        return {"data_streams": [{"name": n, "status": "GREEN", "generation": 1, "indices": []} for n in found]}
    return found


def _store(ctx: AppContext, to_format: _IndexFormats, source: str,
           parsed: Uniform | list[tuple[str, str, str | None, bytes | None]], t0: float,
           spec: str | None = None, body: bytes | None = None, over: dict[int, str] | None = None) -> bytes:
    """Store the items (blocking) and build the ``_bulk`` answer (JSON bytes), filtered by
    ``spec`` (the request's ``filter_path``) when given; ``body``: the request body (scanned
    once for wrapped records instead of joining the documents); ``over``: the items refused
    for the limits (:func:`within_limits`), with their reasons."""
    if not isinstance(parsed, Uniform):
        return _dumps(_store_items(ctx, to_format, source, parsed, t0, over), spec)
    name = to_format(parsed.index)
    if name is None:
        names, docs = shipped_lines([None] * len(parsed.docs), parsed.docs)
        reasons = accept_docs(ctx, source, names, docs, contexts=True)  # (an otel document's resource)
    else:
        reasons = accept_docs(ctx, source, name, text_lines(parsed.docs, name, body), contexts=True)  # (a wrapper's)
    if reasons.count(None) == len(reasons):
        return _created(parsed, t0, spec)
    return _dumps(_answer(parsed.items(), dict(enumerate(reasons)), t0), spec)


def _dumps(answer: dict[str, Any], spec: str | None) -> bytes:
    return orjson.dumps(answer if spec is None else apply_filter(answer, spec))


class _Update(msgspec.Struct):
    doc: msgspec.Raw = msgspec.field(default_factory=lambda: msgspec.Raw(b""))
    doc_as_upsert: bool = False


_UPDATE = msgspec.json.Decoder(_Update)


def _upserted(line: bytes | None) -> bytes | None:
    """The document of an ``update`` line with ``doc_as_upsert`` (what Fluent Bit's
    ``Write_Operation upsert`` and Logstash's ``doc_as_upsert`` send), else None."""
    if line is None:
        return None
    try:
        upd = _UPDATE.decode(line)
    except (msgspec.DecodeError, UnicodeDecodeError):
        return None
    doc = bytes(upd.doc)
    return doc if upd.doc_as_upsert and doc[:1] == b"{" else None


def _store_items(ctx: AppContext, to_format: _IndexFormats, source: str,
                 parsed: list[tuple[str, str, str | None, bytes | None]], t0: float,
                 over: dict[int, str] | None = None) -> dict[str, Any]:
    """Store items of any mix of actions (blocking) and build the ``_bulk`` answer.

    ``update`` with ``doc_as_upsert`` stores its ``doc`` as an event (the lake is
    append-only: an upsert of a log record is that record); other updates and deletes fail
    per item, and the body of a refused update (data the lake did not take) is dead-lettered
    with that reason (a delete carries no data), as is an item in ``over`` with its reason."""
    over = over or {}
    docs: dict[int, bytes] = {}
    refused: list[DeadLetter] = []
    for i, (op, _index, _id, line) in enumerate(parsed):
        if i in over:
            refused.append(DeadLetter(over[i], source, i, line or b"", "auto"))
            continue
        doc = line if op in ("index", "create") else _upserted(line) if op == "update" else None
        if doc is not None:
            docs[i] = doc
        elif op == "update" and line is not None:
            refused.append(DeadLetter(_unsupported(op), source, i, line, "auto"))
    if refused:
        ctx.service.dead_letter(refused)
    want = list(docs)
    names, found = shipped_lines([to_format(parsed[i][1]) for i in want], [docs[i] for i in want])
    found = text_lines(found, names)
    reasons = accept_docs(ctx, source, names, found, contexts=True) if want else []
    return _answer(parsed, {**dict(zip(want, reasons, strict=True)), **over}, t0)


def _unsupported(op: str) -> str:
    """Why a ``delete`` or an ``update`` without ``doc_as_upsert`` is refused."""
    return (f"secpipe stores events append-only: [{op}] is not supported — send index or create"
            + (" (or update with doc_as_upsert)" if op == "update" else ""))


def _answer(parsed: list[tuple[str, str, str | None, bytes | None]], why: dict[int, str | None],
            t0: float) -> dict[str, Any]:
    """The ``_bulk`` answer: one item per action, 201 when stored, 400 with the reason otherwise.

    ``why``: the reason per dead-lettered item (None or absent: stored); a delete, or an
    update not in ``why`` (no ``doc_as_upsert``), fails with ``action_request_validation_exception``."""
    prefix = secrets.token_hex(6)
    items = []
    errors = False
    for i, (op, index, id_, _doc) in enumerate(parsed):
        doc_id = id_ or f"{prefix}{i:06x}"
        if op in ("delete", "update") and i not in why:
            reason = _unsupported(op)
            items.append({op: {"_index": index, "_id": doc_id, "status": 400,
                               "error": {"type": "action_request_validation_exception", "reason": reason}}})
            errors = True
            continue
        failed = why.get(i)
        if failed is None:
            items.append({op: {"_index": index, "_id": doc_id, "_version": 1, "result": "created",
                               "_shards": _SHARDS, "_seq_no": i, "_primary_term": 1, "status": 201}})
        else:
            errors = True
            items.append({op: {"_index": index, "_id": doc_id, "status": 400,
                               "error": {"type": "document_parsing_exception", "reason": failed}}})
    return {"took": int((time.perf_counter() - t0) * 1000), "errors": errors, "items": items}


_CREATED = (b',"_version":1,"result":"created","_shards":{"total":1,"successful":1,"failed":0},'
            b'"_seq_no":%d,"_primary_term":1,"status":201}}')


_TAIL = b'%06x"' + _CREATED  # item i's end: its index as the id's last 6 hex digits, then _seq_no i
_TAILS: list[bytes] = []  # _tails(n)[i]: what follows the id prefix in item i (grown on demand)
_TAILS_KEPT = 1 << 16  # items kept (~9 MB at most); a body with more makes the rest each time
_TAILS_LOCK = threading.Lock()


def _tails(n: int) -> list[bytes]:
    """The per-item ends of :func:`_created`'s items 0..n-1: ``%06x"`` of the index, the
    rest of the item with ``_seq_no`` i."""
    if len(_TAILS) < min(n, _TAILS_KEPT):
        with _TAILS_LOCK:
            _TAILS.extend([_TAIL % (i, i) for i in range(len(_TAILS), min(n, _TAILS_KEPT))])
    if n <= len(_TAILS):
        return _TAILS[:n]
    return _TAILS + [_TAIL % (i, i) for i in range(len(_TAILS), n)]


def _created(bulk: Uniform, t0: float, spec: str | None = None) -> bytes:
    """The answer when every document of a :class:`Uniform` body was stored, from a bytes
    template (the same JSON :func:`_answer` gives, without a dict per item), filtered by
    ``spec`` (``filter_path``) when given."""
    if spec is not None:
        return _created_filtered(bulk, t0, spec)
    head = b'{"' + bulk.op.encode() + b'":{"_index":' + orjson.dumps(bulk.index) + b',"_id":'
    n = len(bulk.docs)
    if bulk.id:
        one = (head + orjson.dumps(bulk.id)).replace(b"%", b"%%") + _CREATED
        items = b",".join([one % i for i in range(n)])
    else:  # each item: the head with the request's id prefix, then what item i ends with in every request
        lead = head + b'"' + secrets.token_hex(6).encode()
        items = lead + (b"," + lead).join(_tails(n)) if n else b""
    took = int((time.perf_counter() - t0) * 1000)
    return b'{"took":%d,"errors":false,"items":[' % took + items + b"]}"


def _created_filtered(bulk: Uniform, t0: float, spec: str) -> bytes:
    """:func:`_created` under a ``filter_path``: the filter runs on one item, which is then
    repeated (what Filebeat and Logstash ask for, ``items.*.status``, is the same for every
    item); a filter that keeps the per-item ``_id`` or ``_seq_no`` takes the general path."""
    answer = _answer([(bulk.op, bulk.index, bulk.id, bulk.docs[0])], {0: None}, t0)
    filtered = apply_filter(answer, spec)
    kept = filtered.get("items") if isinstance(filtered, dict) else None
    if not kept:
        return orjson.dumps(filtered)
    inner: Any = next(iter(kept[0].values()), None)
    if isinstance(inner, dict) and ("_seq_no" in inner or ("_id" in inner and not bulk.id)):
        return _dumps(_answer(bulk.items(), {}, t0), spec)
    one = orjson.dumps(kept[0])
    whole = orjson.dumps(filtered)
    at = whole.rindex(one)
    return whole[:at] + b",".join([one] * len(bulk.docs)) + whole[at + len(one):]
