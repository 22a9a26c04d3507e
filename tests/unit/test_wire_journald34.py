"""Journal entries shipped by the ``journald`` input of Filebeat / Elastic Agent keep their shipper's context
and the journal fields the input translated (session 34).

The input translates each journal field to ECS (elastic/beats ``filebeat/input/journald/pkg/journalfield/
default.go``: ``_SYSTEMD_UNIT`` -> ``systemd.unit``, ``_TRANSPORT`` -> ``systemd.transport``, ``_PID`` ->
``journald.pid``, ``_COMM`` -> ``journald.process.name``, ``_EXE`` -> ``journald.process.executable``,
``SYSLOG_IDENTIFIER`` -> ``syslog.identifier``, ``_HOSTNAME`` -> ``host.hostname``, others to
``journald.custom``); the syslog format reads the entry rebuilt from them (sshd / sudo -> Authentication).
Only ~9 fields were rebuilt and the document's other keys were dropped: the unit, the transport, the
executable, and the shipper's context (``host.name`` / ``host.id``, ``agent``, ``input``) that a line Filebeat
read from a file keeps. Now the entry is rebuilt whole (the raw_data an event keeps), and the document's
other keys are its context, as for a filestream line: ``device.name`` / ``device.uid``, ``unmapped``.

Documents: tests/cases/wire_holdout/elastic-agent-journald-auth.ndjson (Elastic Agent 8.15's journald input,
elastic/integrations system auth pipeline test input), and the example event of elastic/integrations
``packages/journald/docs/README.md`` (6b28837: the journald integration's ``log`` data stream, which names the
identifier ``log.syslog.identifier``), below without its ``journald.custom`` disk figures.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import orjson

from secpipe import formats
from secpipe.server.shipped import journal_entry, lines_in, text_lines
from secpipe.server.wire import ShippedLine, by_host
from tests.unit.test_wire_context31 import _post
from tests.unit.test_wire_holdout30 import _rows

WIRE = Path(__file__).parents[1] / "cases" / "wire_holdout"
DOCS = (WIRE / "elastic-agent-journald-auth.ndjson").read_bytes().splitlines()
#: elastic/integrations packages/journald/docs/README.md, the example event (journald.custom shortened)
README = {
    "@timestamp": "2020-07-22T13:17:10.012Z",
    "agent": {"ephemeral_id": "27e2a00a-dab2-4790-8d45-29ad272d0392", "id": "bef8099b-68f6-4621-8089-2229b35a669d",
              "name": "docker-fleet-agent", "type": "filebeat", "version": "8.3.2"},
    "data_stream": {"dataset": "journald.log", "namespace": "ep", "type": "logs"},
    "ecs": {"version": "8.0.0"},
    "elastic_agent": {"id": "bef8099b-68f6-4621-8089-2229b35a669d", "snapshot": False, "version": "8.3.2"},
    "event": {"agent_id_status": "verified", "code": "ec387f577b844b8fa948f33cad9a75e6",
              "created": "2022-08-18T18:14:11.588Z", "dataset": "journald.log", "ingested": "2022-08-18T18:14:15Z",
              "kind": "event"},
    "host": {"hostname": "sleipnir", "id": "505afdafda3b4f33a63749ae39284742"},
    "input": {"type": "journald"},
    "journald": {"custom": {"journal_name": "System journal",
                            "journal_path": "/var/log/journal/505afdafda3b4f33a63749ae39284742"},
                 "gid": 0, "host": {"boot_id": "fa3c2e3080dc4cd5be5cb5a43e140d51"}, "pid": 19317,
                 "process": {"capabilities": "25402800cf", "command_line": "/lib/systemd/systemd-journald",
                             "executable": "/lib/systemd/systemd-journald", "name": "systemd-journal"},
                 "uid": 0},
    "log": {"syslog": {"facility": {"code": 3}, "identifier": "systemd-journald", "priority": 6}},
    "message": "System journal (/var/log/journal/505afdafda3b4f33a63749ae39284742) is 976.0M, max 932.2M, 0B free.",
    "process": {"args": ["/lib/systemd/systemd-journald"], "args_count": 1,
                "command_line": "/lib/systemd/systemd-journald", "pid": 19317},
    "systemd": {"cgroup": "/system.slice/systemd-journald.service", "invocation_id": "7c11cda63635437bafe21c92851618a8",
                "slice": "system.slice", "transport": "driver", "unit": "systemd-journald.service"},
    "tags": ["forwarded"],
    "user": {"group": {"id": "0"}, "id": "0"},
}  # fmt: skip


def test_the_entry_is_rebuilt_with_the_unit_and_the_other_journal_fields() -> None:
    sshd = journal_entry(DOCS[1])
    assert isinstance(sshd, ShippedLine)
    got = json.loads(sshd)
    assert (got["_SYSTEMD_UNIT"], got["_TRANSPORT"], got["_SYSTEMD_SLICE"]) == ("ssh.service", "syslog", "system.slice")
    assert (got["SYSLOG_IDENTIFIER"], got["SYSLOG_PID"], got["_PID"], got["_COMM"]) == ("sshd", "26538", "26538", "sshd")
    assert (got["_EXE"], got["_CMDLINE"]) == ("/usr/sbin/sshd", '"sshd: vagrant [priv]"')
    assert (got["_UID"], got["_GID"], got["_BOOT_ID"]) == ("0", "0", "3bef166cbe6a40978cc160b6251ffa1a")
    assert (got["PRIORITY"], got["SYSLOG_FACILITY"], got["_HOSTNAME"]) == ("6", "4", "vagrant-debian-12")
    # journald.custom: the journal's names back (a trusted field its underscore)
    assert (got["SYSLOG_TIMESTAMP"], got["_RUNTIME_SCOPE"], got["_SELINUX_CONTEXT"]) == \
        ("Sep 22 02:54:37 ", "system", "unconfined\n")  # fmt: skip
    assert got["__REALTIME_TIMESTAMP"] == "1726973677863000" and sshd.at == 1726973677863
    assert sshd.host == "vagrant-debian-12"
    sudo = json.loads(journal_entry(DOCS[0]))  # type: ignore[arg-type]
    assert (sudo["_SYSTEMD_UNIT"], sudo["_SYSTEMD_SESSION"], sudo["_AUDIT_LOGINUID"]) == ("session-3.scope", "3", "1000")


def test_the_context_is_the_shippers_one_a_host() -> None:
    """The entry's own fields (unit, pid, session...) stay out of the context: the entries of one host are one body."""
    lines = [journal_entry(d) for d in DOCS]
    assert all(isinstance(x, ShippedLine) for x in lines)
    ctx = [x.context for x in lines]  # type: ignore[union-attr]
    assert ctx[1] == ctx[2] == ctx[3] and ctx[0] != ctx[1] and None not in ctx  # (two hosts)
    parts = by_host(formats.get("syslog"), "es_bulk:t", lines, list(range(4)), contexts=True)  # type: ignore[arg-type]
    assert sorted(len(p) for _src, p in parts) == [1, 3]
    assert lines_in(DOCS) == [("syslog", x) for x in lines]
    assert text_lines(DOCS, "syslog") == lines


def test_bulk_journald_documents_keep_host_agent_and_their_authentication(tmp_path: Path) -> None:
    body = b"".join(b'{"create":{"_index":"logs-journald.log-default"}}\n' + d + b"\n" for d in DOCS)
    answer = _post(tmp_path, "/_bulk", body, "application/x-ndjson")
    assert answer.json()["errors"] is False
    rows = _rows(tmp_path, "authentication")
    assert [(r["service"]["name"], r["status"]) for r in rows] == \
        [("sshd", "Success"), ("sshd", "Failure"), ("sshd", "Failure"), ("sudo", "Failure")]  # fmt: skip
    docs = sorted((json.loads(d) for d in DOCS), key=lambda d: d["@timestamp"])
    for row, doc in zip(rows, docs, strict=True):
        device = row["device"]
        assert (device["hostname"], device["name"], device["uid"]) == \
            (doc["host"]["hostname"], doc["host"]["name"], doc["host"]["id"])  # fmt: skip
        kept = orjson.loads(row["unmapped"])
        assert kept["agent"] == doc["agent"] and kept["input"] == {"type": "journald"}
        assert not {"journald", "systemd", "process", "syslog", "user", "message"} & set(kept)
        entry = json.loads(row["raw_data"])
        assert entry["_SYSTEMD_UNIT"] == doc["systemd"]["unit"] and entry["MESSAGE"] == doc["message"]
        assert row["actor"]["process"]["pid"] == doc["process"]["pid"]


def test_the_integrations_identifier_under_log_syslog(tmp_path: Path) -> None:
    entry = journal_entry(orjson.dumps(README))
    got: dict[str, Any] = json.loads(entry)  # type: ignore[arg-type]
    # the identifier, not the comm journald cut to 15 characters
    assert (got["SYSLOG_IDENTIFIER"], got["_COMM"]) == ("systemd-journald", "systemd-journal")
    assert (got["_SYSTEMD_UNIT"], got["_TRANSPORT"], got["_PID"]) == ("systemd-journald.service", "driver", "19317")
    assert (got["JOURNAL_NAME"], got["PRIORITY"], got["SYSLOG_FACILITY"]) == ("System journal", "6", "3")
    body = b'{"create":{"_index":"logs-journald.log-ep"}}\n' + orjson.dumps(README) + b"\n"
    assert _post(tmp_path, "/_bulk", body, "application/x-ndjson").json()["errors"] is False
    (row,) = _rows(tmp_path, "base_event")
    assert row["actor"]["process"]["name"] == "systemd-journald" and row["actor"]["process"]["pid"] == 19317
    assert (row["device"]["hostname"], row["device"]["uid"]) == ("sleipnir", README["host"]["id"])
    kept = orjson.loads(row["unmapped"])
    assert kept["data_stream"] == README["data_stream"] and kept["tags"] == ["forwarded"]
    assert kept["event"] == {"dataset": "journald.log"}
