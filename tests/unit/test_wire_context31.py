"""A shipper's envelope around a line a format reads is kept with the line's events.

- Filebeat via ``_bulk``: the ECS document around ``message`` (``host``, ``agent``, ``input.type``, ``ecs``,
  ``log.file.path``; a module's ``event.module``/``event.dataset`` and ``fileset``) was dropped once the
  line was read by its format (an sshd line became Authentication, where only the host was kept): now the
  file path is ``metadata.log_source`` (OCSF: "a file path") and the rest of the envelope is in ``unmapped``,
  without what is the line's own (``@timestamp``, ``log.offset``, ``message``). Documents:
  tests/cases/wire_holdout/filebeat-filestream-auth.ndjson (round 25's Filebeat 8.11 filestream shape around
  real auth.log lines); the module fields as Filebeat's system module adds them (its exported fields:
  ``event.module: system``, ``event.dataset: system.auth``, ``fileset.name: auth``, ``service.type: system``).
- OTLP ``POST /v1/logs``: a record whose body a format reads kept its resource only; its ``attributes`` (the
  filelog receiver's ``log.file.path``/``log.file.name``, semantic conventions' log attributes) and its scope
  were lost. Now kept the same way: ``log.file.path`` -> ``metadata.log_source``, ``attributes`` and ``scope``
  in ``unmapped`` beside ``resource``.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import httpx
import orjson

from secpipe.runtime.service import Service
from secpipe.server.app import create_app
from secpipe.server.auth import TokenStore
from secpipe.server.http import AppContext, Limits
from secpipe.server.shipped import shipped_bodies
from tests.unit.test_wire_holdout30 import _rows

CASES = Path(__file__).parents[1] / "cases"
FILEBEAT = [json.loads(x) for x in (CASES / "wire_holdout" / "filebeat-filestream-auth.ndjson").read_bytes().splitlines()]
MODULE = {"event": {"module": "system", "dataset": "system.auth", "timezone": "+00:00"}, "fileset": {"name": "auth"},
          "service": {"type": "system"}}
AUTH_LINE = (CASES / "holdout" / "elastic-system-auth.log").read_text().splitlines()[1]


def _app(data_dir: Path, limits: Limits | None = None) -> tuple[Service, Any, str]:
    svc = Service(data_dir)
    tokens = TokenStore(data_dir)
    token = tokens.create("t", "ingest")
    return svc, create_app(AppContext(service=svc, tokens=tokens, limits=limits or Limits())), token


def _post(data_dir: Path, path: str, body: bytes, kind: str, limits: Limits | None = None) -> httpx.Response:
    svc, app, token = _app(data_dir, limits)

    async def send() -> httpx.Response:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
            return await client.post(path, content=body, headers={"Authorization": f"Bearer {token}",
                                                                  "Content-Type": kind})

    try:
        return asyncio.run(send())
    finally:
        svc.close()


def test_filebeat_bulk_lines_keep_their_ecs_context(tmp_path: Path) -> None:
    docs = [d | MODULE for d in FILEBEAT]
    body = b"".join(b'{"create":{"_index":"filebeat-8.11.0"}}\n' + orjson.dumps(d) + b"\n" for d in docs)
    answer = _post(tmp_path, "/_bulk", body, "application/x-ndjson")
    assert answer.json()["errors"] is False
    rows = _rows(tmp_path, "authentication")
    assert [r["user"]["name"] for r in rows] == ["vagrant", "test"]
    for row in rows:
        assert row["metadata"]["log_source"] == "/var/log/auth.log"
        assert row["device"]["hostname"] == "localhost"
        kept = orjson.loads(row["unmapped"])
        assert kept["agent"] == FILEBEAT[0]["agent"] and kept["input"] == {"type": "filestream"}
        assert kept["event"]["dataset"] == "system.auth" and kept["fileset"] == {"name": "auth"}
        assert kept["log"] == {"file": {"path": "/var/log/auth.log"}}  # not the line's own offset
        assert "message" not in kept and "@timestamp" not in kept


def test_lines_of_one_file_share_one_body() -> None:
    """The envelope is the file's, not the line's: a file's documents are decoded together (one context)."""
    docs = [orjson.dumps(FILEBEAT[i % 2] | {"log": {"offset": 100 * i, "file": {"path": "/var/log/auth.log"}},
                                            "@timestamp": f"2023-11-20T14:37:{10 + i}.000Z"}) for i in range(40)]
    bodies, rest = shipped_bodies(docs, "file:/tmp/filebeat.ndjson")
    assert not rest and len(bodies) == 1 and bodies[0][0].name == "syslog"
    other = orjson.dumps(FILEBEAT[0] | {"log": {"offset": 0, "file": {"path": "/var/log/secure"}}})
    assert len(shipped_bodies([*docs, other], "file:/tmp/filebeat.ndjson")[0]) == 2


def test_otlp_record_attributes_and_scope_are_kept(tmp_path: Path) -> None:
    def kv(d: dict[str, str]) -> list[dict[str, Any]]:
        return [{"key": k, "value": {"stringValue": v}} for k, v in d.items()]

    attrs = {"log.file.path": "/var/log/auth.log", "log.file.name": "auth.log"}
    scope = {"name": "github.com/open-telemetry/opentelemetry-collector-contrib/receiver/filelogreceiver",
             "version": "0.98.0"}
    req = {"resourceLogs": [{"resource": {"attributes": kv({"host.name": "web-01"})},
                             "scopeLogs": [{"scope": scope, "logRecords": [
                                 {"timeUnixNano": "1708552572000000000", "body": {"stringValue": AUTH_LINE},
                                  "attributes": kv(attrs)}]}]}]}
    answer = _post(tmp_path, "/v1/logs", orjson.dumps(req), "application/json")
    assert answer.status_code == 200
    (row,) = _rows(tmp_path, "authentication")
    assert row["metadata"]["log_source"] == "/var/log/auth.log"
    kept = orjson.loads(row["unmapped"])
    assert kept["attributes"] == attrs and kept["scope"] == scope
    assert kept["resource"] == {"attributes": {"host.name": "web-01"}}


def test_envelopes_of_each_line_own_do_not_split_the_body() -> None:
    """A field of each line's own in the envelope (a processor's per-line value) would make a body of each line,
    decoded alone: past MAX_ENVELOPES envelopes the lines go without theirs, in one body."""
    docs = [orjson.dumps(FILEBEAT[i % 2] | {"fields": {"seq": i}}) for i in range(40)]
    bodies, rest = shipped_bodies(docs, "file:/tmp/filebeat.ndjson")
    assert not rest and len(bodies) == 1


def test_otlp_attributes_of_each_record_own_do_not_split_the_request() -> None:
    """The filelog receiver's include_file_record_number: log.file.record_number differs from record to record. The
    attributes every record shares are kept, the request stays one body (2,000 records: 20 s of CPU as 2,000 bodies)."""
    from secpipe.server import otlp

    def kv(d: dict[str, Any]) -> list[dict[str, Any]]:
        return [{"key": k, "value": {"stringValue": str(v)}} for k, v in d.items()]

    recs = [{"timeUnixNano": "1708552572000000000", "body": {"stringValue": AUTH_LINE},
             "attributes": kv({"log.file.path": "/var/log/auth.log", "log.file.record_number": n})} for n in range(50)]
    body = orjson.dumps({"resourceLogs": [{"resource": {"attributes": kv({"host.name": "web-01"})},
                                           "scopeLogs": [{"logRecords": recs}]}]})
    records = otlp.json_records(body)
    names, docs = otlp.resolve(records, [orjson.dumps(r) for r in records])
    assert set(names) == {"syslog"}
    (hint,) = {getattr(d, "context", None) for d in docs}
    from secpipe.formats._context import split

    _src, ctx = split(str(hint))
    assert ctx is not None and ctx.unmapped["attributes"] == {"log.file.path": "/var/log/auth.log"}
    assert ctx.fields["metadata.log_source"] == "/var/log/auth.log"
