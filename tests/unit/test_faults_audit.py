"""The audit log's hash chain on a real full disk (tmpfs) and after a write cut by a crash.

Findings (each test failed before its fix): on a full disk the buffered append left half an
entry at the end of ``audit.jsonl``; from then on every audited action failed ("last entry
is unreadable") and ``secpipe audit verify`` reported the log as corrupted, forever — even
after space came back. A write cut by a crash (no final newline) did the same.
"""

from __future__ import annotations

import hashlib
import subprocess
from pathlib import Path

import orjson
import pytest

from secpipe.security.audit import AuditLog, verify
from tests.faults_disk import fill, small_disk
from tests.helpers import SECPIPE


def test_full_disk_leaves_no_half_entry_and_the_chain_goes_on(tmp_path: Path) -> None:
    with small_disk(tmp_path, "1m") as mnt:
        data = mnt / "data"
        log = AuditLog(data, from_env=False)
        log.record("alice", "query", sql="SELECT 1")
        filler = fill(mnt)
        refused = 0
        for i in range(40):  # entries of ~6 KB: an append needs new pages, some write part of one
            try:
                log.record("alice", "query", sql="SELECT " + "x" * 6000, n=i)
            except OSError:
                refused += 1
        assert refused, "the disk never filled"
        res = verify(data)
        assert res.ok, res.problems  # refused appends left nothing behind
        assert log.path.read_bytes().endswith(b"\n")
        filler.free()
        log.record("bob", "export", rows=3)
        res = verify(data)
        assert res.ok and res.entries == 42 - refused, res.problems
        last = orjson.loads(log.path.read_bytes().splitlines()[-1])
        assert last["actor"] == "bob"


def test_torn_last_line_is_moved_aside_on_the_chain(tmp_path: Path) -> None:
    data = tmp_path / "data"
    log = AuditLog(data, from_env=False)
    log.record("alice", "query", sql="SELECT 1")
    log.record("alice", "query", sql="SELECT 2")
    good = log.path.read_bytes()
    torn = b'{"seq":3,"ts":1764400000000,"actor":"alice","action":"qu'  # a write cut by power loss
    log.path.write_bytes(good + torn)
    res = verify(data)
    assert not res.ok and "incomplete last entry" in res.problems[0]
    cli = subprocess.run([*SECPIPE, "audit", "verify", "--data", str(data)], capture_output=True, text=True, check=False)
    assert cli.returncode != 0 and "Traceback" not in cli.stderr
    log.record("bob", "export", rows=1)  # the next action repairs the tail and records the cut
    res = verify(data)
    assert res.ok and res.entries == 4, res.problems
    lines = [orjson.loads(x) for x in log.path.read_bytes().splitlines()]
    assert [e["action"] for e in lines] == ["query", "query", "audit.torn_tail", "export"]
    cut = lines[2]["details"]
    assert cut["bytes"] == len(torn) and cut["sha256"] == hashlib.sha256(torn).hexdigest()
    assert cut["offset"] == len(good)
    assert (log.dir / "audit.torn").read_bytes() == torn + b"\n"
    assert subprocess.run([*SECPIPE, "audit", "verify", "--data", str(data)], capture_output=True,
                          check=False).returncode == 0  # fmt: skip


@pytest.mark.parametrize("tail", [b"\n", b""])
def test_whole_log_is_untouched(tmp_path: Path, tail: bytes) -> None:
    log = AuditLog(tmp_path, from_env=False)
    if tail:
        log.record("a", "query")
    before = log.path.read_bytes() if log.path.exists() else b""
    log.record("b", "query")
    assert log.path.read_bytes().startswith(before) and not (log.dir / "audit.torn").exists()
