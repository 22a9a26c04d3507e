"""A journal entry's own fields in OCSF (systemd.journal-fields(7) -> OCSF 1.8.0), for ``journalctl -o export``,
``journalctl -o json`` and the entries Filebeat's / Elastic Agent's ``journald`` input ships.

Inputs: systemd's documented ``journalctl -o export`` example (tests/cases/holdout/systemd-journal-export-format.txt,
docs/JOURNAL_EXPORT_FORMATS.md), the same two entries as ``journalctl -o json`` writes them (every field a
string, one object a line), and the real Elastic Agent 8.15 ``journald`` documents of
tests/cases/wire_holdout/elastic-agent-journald-auth.ndjson. The expected values are read from the entries:
``_SYSTEMD_UNIT`` -> ``actor.app_name``, ``_EXE`` -> ``actor.process.file``, ``_CMDLINE`` ->
``actor.process.cmd_line``, ``_UID`` -> ``actor.process.user.uid``, ``_BOOT_ID`` -> ``device.boot_uid`` (OCSF's
own example of it), ``_MACHINE_ID`` -> ``device.os_machine_uuid`` (``/etc/machine-id``), ``__REALTIME_TIMESTAMP``
(journald's receipt) -> ``metadata.logged_time`` beside ``time`` (``_SOURCE_REALTIME_TIMESTAMP``).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from secpipe import formats
from secpipe.formats import _journal
from secpipe.formats.base import event_uids
from secpipe.schema.ocsf import validate_batch
from secpipe.server.shipped import journal_entry

CASES = Path(__file__).parents[1] / "cases"
EXPORT = (CASES / "holdout" / "systemd-journal-export-format.txt").read_bytes()
AGENT = (CASES / "wire_holdout" / "elastic-agent-journald-auth.ndjson").read_bytes().splitlines()


def _rows(data: bytes) -> tuple[list[dict[str, Any]], Any]:
    d = formats.get("syslog").decode(data, "journal")
    rows = []
    for b in d.batches:
        assert validate_batch(b.column("class_name")[0].as_py().lower().replace(" ", "_"), b.schema) == []
        rows.extend(b.to_pylist())
    return rows, d


def _check_documented(rows: list[dict[str, Any]]) -> None:
    gdm, cron = rows
    proc = gdm["actor"]["process"]
    assert proc["name"] == "gdm-password]" and proc["pid"] == 587  # SYSLOG_IDENTIFIER / SYSLOG_PID, as before
    assert proc["file"] == {"path": "/usr/libexec/gdm-session-worker", "name": "gdm-session-worker", "type_id": 1}
    assert proc["cmd_line"] == "gdm-session-worker [pam/gdm-password]" and proc["user"] == {"uid": "0"}
    dev = gdm["device"]
    assert (dev["hostname"], dev["boot_uid"], dev["os_machine_uuid"]) == \
        ("epsilon", "6c7c6013a8674b8f9f0ca1de2a3b2222", "a91663387a90b89f185d4e860000001a")  # fmt: skip
    assert gdm["time"] == 1342540861413 and gdm["metadata"]["logged_time"] == 1342540861416  # source / receipt
    assert cron["actor"]["process"]["file"]["path"] == "/usr/bin/bash"  # _EXE: the image run-parts runs in
    assert cron["actor"]["process"]["cmd_line"] == "/bin/bash /bin/run-parts /etc/cron.hourly"
    assert cron["actor"]["process"]["name"] == "/USR/SBIN/CROND"  # the identifier; _COMM (run-parts) in raw_data
    assert gdm["actor"].get("app_name") is None  # no _SYSTEMD_UNIT in these entries (a session's processes)


def test_export_entries_place_their_journal_fields() -> None:
    rows, d = _rows(EXPORT)
    assert not d.dead and d.events == 2
    _check_documented(rows)
    assert {r["metadata"]["log_format"] for r in rows} == {"journal export"}


def test_json_entries_place_the_same_fields() -> None:
    _raws, _offs, entries, _bad = _journal.export_entries(EXPORT)
    doc = b"".join(json.dumps(e).encode() + b"\n" for e in entries)  # journalctl -o json: the same fields
    rows, d = _rows(doc)
    assert not d.dead and d.events == 2
    _check_documented(rows)
    assert {r["metadata"]["log_format"] for r in rows} == {"journal JSON"}
    # metadata.uid is still the hash of the entry's bytes (the new columns change no identity)
    assert [r["metadata"]["uid"] for r in rows] == event_uids("syslog", doc.splitlines()).to_pylist()


def test_shipped_journald_entries_give_unit_executable_and_boot() -> None:
    lines = b"".join(bytes(journal_entry(d)) + b"\n" for d in AGENT)  # type: ignore[arg-type]
    rows, d = _rows(lines)
    assert not d.dead and [r["class_uid"] for r in rows] == [3002] * 4
    sudo, sshd = rows[0], rows[1]
    assert sshd["actor"]["app_name"] == "ssh.service" and sudo["actor"]["app_name"] == "session-3.scope"
    assert sshd["actor"]["process"]["file"] == {"path": "/usr/sbin/sshd", "name": "sshd", "type_id": 1}
    assert sshd["actor"]["process"]["cmd_line"] == '"sshd: vagrant [priv]"'
    assert sshd["device"]["boot_uid"] == "3bef166cbe6a40978cc160b6251ffa1a"
    assert sudo["actor"]["process"]["user"] == {"uid": "1001"} and sudo["actor"]["process"].get("file") is None
    assert sshd["metadata"]["logged_time"] == sshd["time"] == 1726973677863
    # the same document twice: the same uid (stable identity)
    again, _ = _rows(lines)
    assert [r["metadata"]["uid"] for r in again] == [r["metadata"]["uid"] for r in rows]


def test_entries_without_those_fields_keep_their_shape_and_a_boot_alone_names_a_device() -> None:
    kernel = {"__REALTIME_TIMESTAMP": "1700000001000000", "PRIORITY": "3", "SYSLOG_IDENTIFIER": "kernel",
              "_HOSTNAME": "web1", "MESSAGE": "Out of memory: Killed process 4242 (java)"}  # fmt: skip
    (row,), _ = _rows(json.dumps(kernel).encode() + b"\n")
    assert row["actor"].get("app_name") is None and row["device"].get("boot_uid") is None
    assert row["metadata"]["logged_time"] == 1700000001000
    boot_only = {"__REALTIME_TIMESTAMP": "1700000001000000", "_BOOT_ID": "9c8e", "_UID": "x1",
                 "SYSLOG_IDENTIFIER": "kernel", "_TRANSPORT": "kernel", "MESSAGE": "m"}  # fmt: skip
    (row,), _ = _rows(json.dumps(boot_only).encode() + b"\n")
    assert row["device"]["boot_uid"] == "9c8e" and row["device"]["type_id"] == 0 and row["device"]["type"] == "Unknown"
    assert row["device"].get("hostname") is None
    assert (row["actor"]["process"].get("user") or {}).get("uid") is None  # a _UID that is no number: not placed


def test_bad_entries_are_dead_lettered_and_the_rest_keeps_its_fields() -> None:
    _raws, _offs, entries, _bad = _journal.export_entries(EXPORT)
    doc = json.dumps(entries[0]).encode() + b"\n" + b'{"MESSAGE": "cut\n' + json.dumps(entries[1]).encode() + b"\n"
    rows, d = _rows(doc)
    assert d.events == 3 and len(d.dead) == 1 and d.dead[0].reason.startswith("not a journal JSON entry")
    _check_documented(rows)
