"""Audit log: chain, tamper detection (edit / remove / reorder / truncate), signatures, CLI."""

from __future__ import annotations

import threading
from pathlib import Path

import orjson
from typer.testing import CliRunner

from secpipe.cli.main import _register, app
from secpipe.security import audit


def _lines(d: Path) -> list[bytes]:
    return (d / "state" / "audit" / "audit.jsonl").read_bytes().splitlines(keepends=True)


def _write(d: Path, lines: list[bytes]) -> None:
    (d / "state" / "audit" / "audit.jsonl").write_bytes(b"".join(lines))


def _fill(d: Path, n: int = 5) -> None:
    for i in range(n):
        audit.record(d, "alice", "query", sql=f"SELECT {i}", rows=i)


def test_chain_links_and_secrets_scrubbed(data_dir: Path) -> None:
    _fill(data_dir, 3)
    audit.record(data_dir, "bob", "token.create", token="sp_abc_secret", role="viewer")
    entries = list(audit.AuditLog(data_dir).entries())
    assert [e["seq"] for e in entries] == [1, 2, 3, 4]
    assert entries[0]["prev"] == audit.GENESIS
    assert all(b["prev"] == a["hash"] for a, b in zip(entries, entries[1:], strict=False))
    assert entries[3]["details"] == {"token": "[REDACTED]", "role": "viewer"}
    assert b"sp_abc_secret" not in b"".join(_lines(data_dir))
    assert audit.verify(data_dir).ok


def test_edit_detected_with_location(data_dir: Path) -> None:
    _fill(data_dir)
    lines = _lines(data_dir)
    lines[2] = lines[2].replace(b"SELECT 2", b"SELECT 9")
    _write(data_dir, lines)
    res = audit.verify(data_dir)
    assert not res.ok
    assert any("line 3 (seq 3)" in p and "edited" in p for p in res.problems)


def test_edit_with_recomputed_hash_breaks_next_link(data_dir: Path) -> None:
    _fill(data_dir)
    lines = _lines(data_dir)
    e = orjson.loads(lines[1])
    e["details"]["rows"] = 999
    e["hash"] = audit.entry_hash(e)
    lines[1] = orjson.dumps(e) + b"\n"
    _write(data_dir, lines)
    res = audit.verify(data_dir)
    assert not res.ok
    assert any("line 3 (seq 3)" in p and "chain broken" in p for p in res.problems)


def test_removed_and_reordered_detected(data_dir: Path) -> None:
    _fill(data_dir)
    lines = _lines(data_dir)
    _write(data_dir, lines[:2] + lines[3:])
    res = audit.verify(data_dir)
    assert any("seq 4" in p and "removed" in p for p in res.problems)
    _write(data_dir, [lines[0], lines[2], lines[1], lines[3], lines[4]])
    res = audit.verify(data_dir)
    assert not res.ok
    assert any("line 2 (seq 3)" in p for p in res.problems)


def test_tail_truncation_detected(data_dir: Path) -> None:
    _fill(data_dir)
    _write(data_dir, _lines(data_dir)[:3])
    res = audit.verify(data_dir)
    assert not res.ok
    assert any("removed from the end" in p for p in res.problems)


def test_signatures(data_dir: Path, tmp_path: Path, monkeypatch) -> None:
    priv, pub = tmp_path / "k", tmp_path / "k.pub"
    audit.generate_keypair(priv, pub)
    monkeypatch.setenv(audit.KEY_ENV, str(priv))
    _fill(data_dir, 3)
    key = audit.load_public_key(pub)
    res = audit.verify(data_dir, key)
    assert res.ok and res.signed == 3
    # a forger without the key rewrites the last entry and its hash: signature fails
    lines = _lines(data_dir)
    e = orjson.loads(lines[2])
    e["details"]["rows"] = 42
    e["hash"] = audit.entry_hash(e)
    lines[2] = orjson.dumps(e) + b"\n"
    _write(data_dir, lines)
    (data_dir / "state" / "audit" / "head").write_text(f"3 {e['hash']}\n")
    res = audit.verify(data_dir, key)
    assert res.problems == ["line 3 (seq 3): bad signature"]


def test_concurrent_appends_keep_chain(data_dir: Path) -> None:
    threads = [threading.Thread(target=_fill, args=(data_dir, 20)) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    res = audit.verify(data_dir)
    assert res.ok and res.entries == 80


def test_cli_show_and_verify(data_dir: Path) -> None:
    _register()
    _fill(data_dir, 2)
    runner = CliRunner()
    out = runner.invoke(app, ["audit", "show", "--data", str(data_dir), "--json"])
    assert out.exit_code == 0
    assert [e["details"]["sql"] for e in orjson.loads(out.stdout)] == ["SELECT 0", "SELECT 1"]
    assert runner.invoke(app, ["audit", "verify", "--data", str(data_dir)]).exit_code == 0
    lines = _lines(data_dir)
    _write(data_dir, lines[1:])
    out = runner.invoke(app, ["audit", "verify", "--data", str(data_dir)])
    assert out.exit_code == 1
    assert "TAMPERED" in out.stderr
